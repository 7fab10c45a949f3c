#!/usr/bin/env bash
# Thirtieth session (2026-12-02): the block pair without x + (x2 − x) when its drop path is the identity (the bundle)
# against the commit before (its Plstm.dll and Plstm.Cli.dll in .gpu/old/), alternating: 224-px steps in three rounds
# with ViT-T beside, 512 px in two. Bundle, copy the old DLLs, then
# run(command="OUT=$OUT bash bench/gpu/call-session31-pair.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
stage_old
for round in 1 2 3; do
  part_old "old-224-$round" 60 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
  part "new-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
for round in 1 2; do
  part_old "old-512-$round" 60 step --presets plstm_vit_t --sizes 512 --warmup 5 --iters 20
  part "new-512-$round" 60 step --presets plstm_vit_t --sizes 512 --warmup 5 --iters 20
done
collect
