#!/usr/bin/env bash
# One device call (2026-12-01, twenty-fourth session): where the 224-px pLSTM-ViT-T step spends its GPU time now,
# against ViT-T (the twelfth session's profile predates the gate activation kernel, the masked attention kernel and
# the stacked projection). Nsight Compute times every kernel of a warm-up and a timed step (batch 128, float32),
# summed by name and halved; then the same build's plain step timings (with host issue times) for reference.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for preset in plstm_vit_t vit_t; do
  timeout 200 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
    bash .gpu/run.sh bench step --device cuda --presets $preset --sizes 224 --warmup 1 --iters 1 > "$R/$preset.csv" 2> "$R/$preset.err"
  echo "$preset ncu exit $? ($(wc -l < "$R/$preset.csv") lines)"
done
python3 bench/gpu/ncu_sum.py --halve --top 70 plstm_vit_t="$R/plstm_vit_t.csv" vit_t="$R/vit_t.csv" > "$R/summary.txt"
part steps 100 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 3 --iters 10
collect "$R/summary.txt"
