#!/usr/bin/env bash
# One device call (2026-12-01, twenty-third session): where the operator's time goes at 14² (the 224-px shape, B·H 384),
# the size where the gate kernels are the whole gap to fused attention. Nsight Compute: every kernel's duration in one
# forward + backward with P-mode and with D-mode gates (and sdpa's), then the gate kernels' occupancy, waves and top
# stalls.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-s23-14; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
probe
for mode in p d; do
  timeout 120 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
    bash .gpu/run.sh bench op --device cuda --forms kernel,sdpa --mode $mode --grids 14 --warmup 1 --iters 1 \
    > "$R/op-$mode.csv" 2> "$R/op-$mode.err"; echo "op-$mode ncu exit $?"
done
python3 bench/gpu/ncu_sum.py --halve p="$R/op-p.csv" d="$R/op-d.csv" | tee "$R/durations.txt"
M=gpu__time_duration.sum,launch__grid_size,launch__block_size,launch__registers_per_thread,launch__waves_per_multiprocessor
M=$M,sm__warps_active.avg.pct_of_peak_sustained_active,sm__throughput.avg.pct_of_peak_sustained_elapsed
M=$M,dram__throughput.avg.pct_of_peak_sustained_elapsed,smsp__issue_active.avg.pct_of_peak_sustained_active
for s in long_scoreboard short_scoreboard wait barrier math_pipe_throttle mio_throttle lg_throttle no_instruction not_selected; do
  M=$M,smsp__average_warps_issue_stalled_${s}_per_issue_active.ratio; done
for mode in p d; do
  timeout 150 ncu --csv --metrics $M --target-processes all -k regex:'plstm_fused|single_path|gate_activ|masked' \
    bash .gpu/run.sh bench op --device cuda --forms kernel --mode $mode --grids 14 --warmup 0 --iters 1 \
    > "$R/gate-$mode.csv" 2> "$R/gate-$mode.err"; echo "gate-$mode ncu exit $?"
done
python3 bench/gpu/ncu_metrics.py "$R/gate-p.csv" "$R/gate-d.csv" > "$R/metrics.txt"; cat "$R/metrics.txt"
cp "$R"/durations.txt "$R"/metrics.txt "$OUT"/
