#!/usr/bin/env bash
# One device call (2026-12-01, nineteenth session): the masked attention kernels (Kernels/masked_attention.cu, 3xTF32
# on tensor cores) — `plstm selfcheck` (new: 9 kernel cases against float64 products, float32 layer cases), then the
# operator (kernel form) and the training step with the kernels on and off (PLSTM_MASKED_ATTENTION=off: the batched
# float32 products as before) in alternating rounds on this one machine, ViT-T beside them.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-ma; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 300 bash .gpu/run.sh selfcheck > "$R/selfcheck.txt" 2>&1; echo "selfcheck exit $?"
grep -E "cases agree|FAIL|masked attention kernels|not checked|rror" "$R/selfcheck.txt" | head -20
for round in 1 2; do
  PLSTM_MASKED_ATTENTION=off part op-off-$round 60 op --grids 14,32 --forms kernel --warmup 2 --iters 10
  part op-on-$round 60 op --grids 14,32 --forms kernel,sdpa --warmup 2 --iters 10
done
for round in 1 2; do
  PLSTM_MASKED_ATTENTION=off part step-off-$round 90 step --presets plstm_vit_t --sizes 224 --warmup 3 --iters 10
  part step-on-$round 120 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 3 --iters 10
done
PLSTM_MASKED_ATTENTION=off part step512-off 90 step --presets plstm_vit_t --sizes 512 --warmup 3 --iters 10
part step512-on 120 step --presets plstm_vit_t,vit_t --sizes 512 --warmup 3 --iters 10
for f in "$R"/*.md; do echo "=== $(basename "$f")"; cat "$f"; done > "$OUT/all.md"; cp "$R/selfcheck.txt" "$OUT/"
