#!/usr/bin/env bash
# Twenty-eighth session (2026-12-02), fifth call: the P-mode walk's backward with two sources per lane (fused_gate.cu SRCS;
# PLSTM_WALK_BACKWARD_SOURCES=1|2) — selfcheck of the walk with two wherever the kernel takes them, Nsight Compute
# durations of the walk's kernels at 14², 24², 32² with one and two, 224-px steps with one and two; and ViT-T's 512-px
# step under Nsight Compute (how much of it is attention: the bound on pLSTM-ViT-T's ratio there).
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session29-srcs.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
PLSTM_WALK_BACKWARD_SOURCES=2 selfcheck 110 --parts walk
for grid in 14 24 32; do for sources in 1 2; do
  PLSTM_WALK_BACKWARD_SOURCES=$sources timeout 40 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
    -k regex:plstm_fused_gate bash .gpu/run.sh bench op --device cuda --forms walk --grids $grid --warmup 1 --iters 1 > "$R/ncu.csv" 2>/dev/null
  python3 bench/gpu/ncu_sum.py --halve "sources$sources-$grid"="$R/ncu.csv" | tee -a "$R/durations.txt"
done; done
for sources in 1 2; do PLSTM_WALK_BACKWARD_SOURCES=$sources part "step224-sources$sources" 40 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 20; done
timeout 100 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
  bash .gpu/run.sh bench step --device cuda --presets vit_t --sizes 512 --warmup 1 --iters 1 > "$R/vit512.csv" 2>/dev/null
echo "ncu vit512 exit $?"; python3 bench/gpu/ncu_sum.py --halve vit_t_512="$R/vit512.csv" | head -25 | tee "$R/vit512.txt"
collect "$R/durations.txt" "$R/vit512.txt"
