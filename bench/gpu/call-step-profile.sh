#!/usr/bin/env bash
# One device call (2026-11-30, twelfth session): where a pLSTM-ViT-T training step spends its GPU time, against ViT-T.
# Nsight Compute times every kernel of one step (224 px, batch 128, float32; warm-up 1, one timed step) and the kernels
# are summed by name: the list of what to fuse next (issue 6).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for preset in plstm_vit_t vit_t; do
  timeout 280 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
    bash .gpu/run.sh bench step --device cuda --presets $preset --sizes 224 --warmup 1 --iters 1 > "$R/$preset.csv" 2> "$R/$preset.err"
  echo "$preset ncu exit $? ($(wc -l < "$R/$preset.csv") lines)"
done
python3 bench/gpu/ncu_sum.py plstm_vit_t="$R/plstm_vit_t.csv" vit_t="$R/vit_t.csv" | tee "$R/summary.txt"
(cd "$R" && tar czf "$OUT/results.tgz" summary.txt *.err)
