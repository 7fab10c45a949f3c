#!/usr/bin/env bash
# One device call (2026-12-01, twenty-first session), after the closed form's target-first forward and scalar turn sums
# (branch wip/single-path-forward-l2): Nsight Compute of the closed form's kernels at 32² (which of the four now costs
# what), then the per-kernel durations of one 224-px pLSTM-ViT-T step (where the remaining gap to ViT-T is).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-s21; mkdir -p "$OUT" "$R"
OUT=$R bash bench/gpu/call-single-path-profile.sh > "$R/single-path.txt" 2>&1
timeout 240 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
  bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$R/plstm.csv" 2> "$R/plstm.err"
echo "ncu exit $?"
python3 bench/gpu/ncu_sum.py --halve --top 40 plstm_vit_t="$R/plstm.csv" > "$R/summary.txt"
for f in "$R/single-path.txt" "$R/summary.txt"; do echo "=== $(basename "$f")"; cat "$f"; done > "$OUT/all.md"
cat "$OUT/all.md"
