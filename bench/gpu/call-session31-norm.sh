#!/usr/bin/env bash
# Thirtieth session (2026-12-02): the 2D layer's per-head RMS norm in the masked attention forward kernel's epilogue
# (plstm_masked_attention_forward_normalized; the bundle) against the separate norm kernel (the commit before, its DLLs
# in .gpu/old/). Selfcheck of the layer (the kernel form with the norm against the hierarchical form) and attention
# parts first; then steps alternating, 224 px in two rounds with ViT-T beside, 512 px in one. Bundle, copy the old
# DLLs, then run(command="OUT=$OUT bash bench/gpu/call-session31-norm.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
stage_old
selfcheck 150 --parts layer,attention
for round in 1 2; do
  part_old "old-224-$round" 60 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
  part "new-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
part_old old-512 60 step --presets plstm_vit_t --sizes 512 --warmup 5 --iters 20
part new-512 60 step --presets plstm_vit_t --sizes 512 --warmup 5 --iters 20
collect
