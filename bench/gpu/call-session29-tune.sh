#!/usr/bin/env bash
# Twenty-eighth session (2026-12-02), third call: the fused masked attention backward's registers (MIN_BLOCKS 2 against
# the default 3, PLSTM_MASKED_ATTENTION_MIN_BLOCKS) and query tile (16 against 32, PLSTM_MASKED_ATTENTION_TILES), Nsight
# Compute durations at 14² and 32², then its stall reasons and resources at both grids.
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session29-tune.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
measure() { local label=$1 grid=$2; shift 2
  env "$@" timeout 90 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:masked_attention \
    bash .gpu/run.sh bench op --device cuda --forms masked --grids $grid --warmup 1 --iters 1 > "$R/ncu.csv" 2>/dev/null
  python3 bench/gpu/ncu_sum.py --halve "$label-$grid"="$R/ncu.csv" | tee -a "$R/durations.txt"; }
for grid in 14 32; do
  measure fused $grid X=1
  measure fused-minblocks2 $grid PLSTM_MASKED_ATTENTION_MIN_BLOCKS=2
  measure fused-tile16 $grid PLSTM_MASKED_ATTENTION_TILES=64,16
done
timeout 150 ncu --csv --target-processes all -k regex:'backward_fused' \
  --metrics 'regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,smsp__inst_executed.sum,gpu__time_duration.sum,smsp__issue_active.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active,launch__registers_per_thread,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem,lts__t_requests_op_red.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active' \
  bash .gpu/run.sh bench op --device cuda --forms masked --grids 14,32 --warmup 0 --iters 1 > "$R/stalls.csv" 2> "$R/stalls.err"
echo "ncu stalls exit $?"; python3 bench/gpu/ncu_metrics.py "$R/stalls.csv" | tee "$R/stalls.txt"
collect "$R/durations.txt" "$R/stalls.txt"
