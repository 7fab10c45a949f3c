#!/usr/bin/env bash
# One device call (2026-12-01, eighteenth session): the training step after the unclipped AdamW step stopped reading
# the gradient norm back (no device sync inside a step) and the operators' shape checks read each tensor's shape once.
# Rows: both presets at 224 and 512 px (twice, alternating), and at 224 px with batch 8, where the kernels are tiny and
# the step is all host work (the host costs per step, side by side).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-ns; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
part a 150 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10
part b 150 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10
part small 90 step --presets plstm_vit_t,vit_t --sizes 224 --batch-sizes 8 --warmup 5 --iters 20
cp "$R"/*.md "$OUT"/
