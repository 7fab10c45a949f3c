#!/usr/bin/env bash
# One device call (2026-12-01, nineteenth session): the masked attention kernels' third form (TF32 split by two integer
# operations instead of cvt; B-operand tiles stored split in shared memory, PLSTM_MASKED_ATTENTION_PRESPLIT=0 for the
# per-warp split) — selfcheck, then the operator off / on / variants, then training steps off and on.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-ma3; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 300 bash .gpu/run.sh selfcheck > "$R/selfcheck.txt" 2>&1; echo "selfcheck exit $?"
grep -E "cases agree|FAIL|masked attention|not checked|rror" "$R/selfcheck.txt" | head -24
for round in 1 2; do
  PLSTM_MASKED_ATTENTION=off part op-off-$round 60 op --grids 14,32 --forms kernel --warmup 2 --iters 10
  part op-on-$round 60 op --grids 14,32 --forms kernel,sdpa --warmup 2 --iters 10
done
PLSTM_MASKED_ATTENTION_PRESPLIT=0 part op-nopresplit 60 op --grids 14,32 --forms kernel --warmup 2 --iters 10
for tiles in 32,32 64,16 32,16; do
  PLSTM_MASKED_ATTENTION_TILES=$tiles part op-tiles-${tiles/,/-} 60 op --grids 14,32 --forms kernel --warmup 2 --iters 10
done
for round in 1 2; do
  PLSTM_MASKED_ATTENTION=off part step-off-$round 90 step --presets plstm_vit_t --sizes 224 --warmup 3 --iters 10
  part step-on-$round 120 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 3 --iters 10
done
PLSTM_MASKED_ATTENTION=off part step512-off 90 step --presets plstm_vit_t --sizes 512 --warmup 3 --iters 10
part step512-on 120 step --presets plstm_vit_t,vit_t --sizes 512 --warmup 3 --iters 10
for f in "$R"/*.md; do echo "=== $(basename "$f")"; cat "$f"; done > "$OUT/all.md"; cp "$R/selfcheck.txt" "$OUT/"
# Nsight Compute on the three kernels at 32² (one launch each): throughput, occupancy, warp stall reasons.
timeout 240 ncu --kernel-name regex:plstm_masked --launch-count 3 --section SpeedOfLight --section Occupancy \
  --section WarpStateStats --section ComputeWorkloadAnalysis --section InstructionStats \
  bash .gpu/run.sh bench op --device cuda --grids 32 --forms kernel --warmup 0 --iters 1 > "$OUT/ncu.txt" 2>&1
echo "ncu exit $?"
