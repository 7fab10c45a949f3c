#!/usr/bin/env bash
# One device call (2026-12-01, twenty-fourth session): the final build's training steps at 768 and 1024 px (batches 16
# and 8), pLSTM-ViT-T against ViT-T, after the layer's in-place projected attention and norm kernels.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
part large 240 step --presets plstm_vit_t,vit_t --sizes 768,1024 --batch-sizes 16@768,8@1024 --warmup 3 --iters 10
collect
