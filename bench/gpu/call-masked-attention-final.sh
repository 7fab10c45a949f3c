#!/usr/bin/env bash
# One device call (2026-12-01, nineteenth session): the committed masked attention kernels (registers capped for three
# blocks per multiprocessor) — selfcheck, the operator with the kernels off / on (two rounds) and two last variants
# (tiles 32,32; four blocks), the 224- and 512-px training steps off / on in two rounds with ViT-T beside them.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-maf; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 300 bash .gpu/run.sh selfcheck > "$R/selfcheck.txt" 2>&1; echo "selfcheck exit $?"
grep -E "cases agree|FAIL|masked attention kernels|T 4095|not checked|rror" "$R/selfcheck.txt" | head -24
for round in 1 2; do
  PLSTM_MASKED_ATTENTION=off part op-off-$round 60 op --grids 14,24,32 --forms kernel --warmup 2 --iters 10
  part op-on-$round 60 op --grids 14,24,32 --forms kernel,sdpa --warmup 2 --iters 10
done
PLSTM_MASKED_ATTENTION_TILES=32,32 part op-tiles-32-32 60 op --grids 14,32 --forms kernel --warmup 2 --iters 10
PLSTM_MASKED_ATTENTION_MIN_BLOCKS=4 part op-mb4 60 op --grids 14,32 --forms kernel --warmup 2 --iters 10
for round in 1 2; do
  PLSTM_MASKED_ATTENTION=off part step-off-$round 90 step --presets plstm_vit_t --sizes 224,512 --warmup 3 --iters 10
  part step-on-$round 120 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10
done
for f in "$R"/*.md; do echo "=== $(basename "$f")"; cat "$f"; done > "$OUT/all.md"; cp "$R/selfcheck.txt" "$OUT/"
