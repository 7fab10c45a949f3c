#!/usr/bin/env bash
# One device call (2026-11-30): training steps after the patch embedding became a matrix product (commit 7e93168),
# to compare with the kernel results of the same day (call-kernel-final.sh; different machine, so ViT-T alongside).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
part steps 120 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 2 --iters 5
(cd "$R" && tar czf "$OUT/results.tgz" .)
