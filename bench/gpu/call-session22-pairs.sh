#!/usr/bin/env bash
# One device call (2026-12-01, twenty-second session): the gate walk's forward with the two orientations of one
# x-direction walked together (PAIRS, fused_gate.cu): selfcheck of the walk and layer parts; the gate alone (P-mode
# gates, fwd + bwd) and the P-mode operator with PAIRS on (default), off, and capped at 4 blocks; Nsight Compute of the
# walk's two kernels at 14² and 32² (durations, DRAM, warps; the backward's stall reasons).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-s22; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
probe
selfcheck 200 --parts walk,layer
SRC=src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
{ echo '#define PAIRS 0'; cat $SRC; } > /tmp/v-nopairs.cu
{ echo '#define FWD_MIN_BLOCKS 4'; cat $SRC; } > /tmp/v-min4.cu
for round in 1 2; do
  part gate-on-$round 60 op --grids 14,24,32 --forms walk --warmup 3 --iters 20
  PLSTM_FUSED_GATE_SOURCE=/tmp/v-nopairs.cu part gate-off-$round 60 op --grids 14,24,32 --forms walk --warmup 3 --iters 20
done
PLSTM_FUSED_GATE_SOURCE=/tmp/v-min4.cu part gate-min4 60 op --grids 14,24,32 --forms walk --warmup 3 --iters 20
part op-on 60 op --grids 14,24,32 --forms kernel --mode p --warmup 3 --iters 10
PLSTM_FUSED_GATE_SOURCE=/tmp/v-nopairs.cu part op-off 60 op --grids 14,24,32 --forms kernel --mode p --warmup 3 --iters 10
for v in on nopairs; do
  src=""; [ $v = nopairs ] && src=/tmp/v-nopairs.cu
  PLSTM_FUSED_GATE_SOURCE=$src timeout 150 ncu --csv --target-processes all -k regex:'plstm_fused' \
    --metrics gpu__time_duration.sum,sm__throughput.avg.pct_of_peak_sustained_elapsed,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__warps_active.avg.pct_of_peak_sustained_active,launch__registers_per_thread \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids 14,32 --warmup 0 --iters 1 > "$R/ncu-$v.csv" 2> "$R/ncu-$v.err"
  echo "ncu $v exit $?"
done
timeout 150 ncu --csv --target-processes all -k regex:'plstm_fused_gate_backward' --section WarpStateStats \
  bash .gpu/run.sh bench op --device cuda --forms walk --grids 32 --warmup 0 --iters 1 > "$R/ncu-stalls.csv" 2> "$R/ncu-stalls.err"
echo "ncu stalls exit $?"
python3 bench/gpu/ncu_metrics.py "$R"/ncu-*.csv > "$R/ncu.txt"
collect "$R/ncu.txt"
