#!/usr/bin/env bash
# One device call (2026-12-01, nineteenth session): the masked attention kernels' fourth form (no volatile on the mma,
# 3xTF32 products in phases over independent accumulators, whole tiles without guards) — selfcheck, operator off / on /
# variants (min blocks 3, presplit tiles, tiles 32,32), training steps off / on, Nsight Compute of the three kernels.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-ma4; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 300 bash .gpu/run.sh selfcheck > "$R/selfcheck.txt" 2>&1; echo "selfcheck exit $?"
grep -E "cases agree|FAIL|masked attention kernels|T 4095|not checked|rror" "$R/selfcheck.txt" | head -24
for round in 1 2; do
  PLSTM_MASKED_ATTENTION=off part op-off-$round 60 op --grids 14,32 --forms kernel --warmup 2 --iters 10
  part op-on-$round 60 op --grids 14,32 --forms kernel,sdpa --warmup 2 --iters 10
done
PLSTM_MASKED_ATTENTION_MIN_BLOCKS=3 part op-mb3 60 op --grids 14,32 --forms kernel --warmup 2 --iters 10
PLSTM_MASKED_ATTENTION_PRESPLIT=1 PLSTM_MASKED_ATTENTION_TILES=32,32 part op-presplit-32 60 op --grids 14,32 --forms kernel --warmup 2 --iters 10
PLSTM_MASKED_ATTENTION_TILES=32,32 part op-tiles-32-32 60 op --grids 14,32 --forms kernel --warmup 2 --iters 10
PLSTM_MASKED_ATTENTION_TILES=64,16 part op-tiles-64-16 60 op --grids 14,32 --forms kernel --warmup 2 --iters 10
for round in 1 2; do
  PLSTM_MASKED_ATTENTION=off part step-off-$round 90 step --presets plstm_vit_t --sizes 224,512 --warmup 3 --iters 10
  part step-on-$round 120 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10
done
timeout 200 ncu --kernel-name regex:plstm_masked --launch-count 3 --section SpeedOfLight --section Occupancy \
  --section WarpStateStats --section ComputeWorkloadAnalysis --section InstructionStats --section MemoryWorkloadAnalysis \
  bash .gpu/run.sh bench op --device cuda --grids 32 --forms kernel --warmup 0 --iters 1 > "$OUT/ncu.txt" 2>&1
echo "ncu exit $?"
for f in "$R"/*.md; do echo "=== $(basename "$f")"; cat "$f"; done > "$OUT/all.md"; cp "$R/selfcheck.txt" "$OUT/"
