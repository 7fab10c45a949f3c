#!/usr/bin/env bash
# One device call (2026-12-01, nineteenth session): the masked attention kernels' second form (own rows in shared
# memory, a tile's products formed at once, gate values loaded before them) — selfcheck, then the operator with the
# kernels off (batched products), on with the default tiles and with other tile sizes (PLSTM_MASKED_ATTENTION_TILES =
# forward,backward), then the 224- and 512-px training steps off and on, ViT-T beside them.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-ma2; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 300 bash .gpu/run.sh selfcheck > "$R/selfcheck.txt" 2>&1; echo "selfcheck exit $?"
grep -E "cases agree|FAIL|masked attention kernels|not checked|rror" "$R/selfcheck.txt" | head -20
for round in 1 2; do
  PLSTM_MASKED_ATTENTION=off part op-off-$round 60 op --grids 14,32 --forms kernel --warmup 2 --iters 10
  part op-on-$round 60 op --grids 14,32 --forms kernel,sdpa --warmup 2 --iters 10
done
for tiles in 32,32 64,16 64,64 32,16; do
  PLSTM_MASKED_ATTENTION_TILES=$tiles part op-tiles-${tiles/,/-} 60 op --grids 14,32 --forms kernel --warmup 2 --iters 10
done
for round in 1 2; do
  PLSTM_MASKED_ATTENTION=off part step-off-$round 90 step --presets plstm_vit_t --sizes 224 --warmup 3 --iters 10
  part step-on-$round 120 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 3 --iters 10
done
PLSTM_MASKED_ATTENTION=off part step512-off 90 step --presets plstm_vit_t --sizes 512 --warmup 3 --iters 10
part step512-on 120 step --presets plstm_vit_t,vit_t --sizes 512 --warmup 3 --iters 10
for f in "$R"/*.md; do echo "=== $(basename "$f")"; cat "$f"; done > "$OUT/all.md"; cp "$R/selfcheck.txt" "$OUT/"
