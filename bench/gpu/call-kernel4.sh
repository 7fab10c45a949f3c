#!/usr/bin/env bash
# One device call (2026-11-30, issue 6): the kernel's backward keeping only L per cell (U recomputed line by line);
# within-call A/B of spreading the orientations over blocks (PLSTM_KERNEL_BACKWARD_SPLIT=1) against one block row
# looping over them (=4), alternated, for the operator and the training steps; ViT-T alongside.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
echo "=== selfcheck ==="
timeout 240 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -20; echo "selfcheck exit ${PIPESTATUS[0]}"
for round in a b; do for split in 1 4; do
  export PLSTM_KERNEL_BACKWARD_SPLIT=$split
  part op-split$split-$round 40 op --grids 14,32 --forms kernel --warmup 2 --iters 5
  part step224-split$split-$round 40 step --presets plstm_vit_t --sizes 224 --warmup 2 --iters 5
  part step512-split$split-$round 40 step --presets plstm_vit_t --sizes 512 --warmup 1 --iters 3
done; done
unset PLSTM_KERNEL_BACKWARD_SPLIT
part vit 60 step --presets vit_t --sizes 224,512 --warmup 2 --iters 5
part sdpa 30 op --grids 14,32 --forms sdpa --warmup 2 --iters 5
(cd "$R" && tar czf "$OUT/results.tgz" .)
