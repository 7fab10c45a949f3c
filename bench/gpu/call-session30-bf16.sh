#!/usr/bin/env bash
# Twenty-ninth session (2026-12-02): half-precision inputs mix in float32 in the 2D layer and the kernel-form operator
# (29b79f7) instead of running the half-precision row scan. The bundle holds the new build; .gpu/old/ holds Plstm.dll and
# Plstm.Cli.dll of 7463ce4 (before), run from a copy of the bundle's stage. Pure-bfloat16 steps of pLSTM-ViT-T old / new
# alternating, ViT-T in bfloat16 and both models in float32 for scale, and the operator in bfloat16 old / new.
# Bundle, copy the old DLLs to .gpu/old/, then run(command="OUT=$OUT bash bench/gpu/call-session30-bf16.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
stage_old
for round in 1 2; do
  part_old "bf16-old-$round" 60 step --presets plstm_vit_t --sizes 224,512 --dtype bfloat16 --warmup 3 --iters 10
  part "bf16-new-$round" 60 step --presets plstm_vit_t --sizes 224,512 --dtype bfloat16 --warmup 5 --iters 20
done
part bf16-vit 60 step --presets vit_t --sizes 224,512 --dtype bfloat16 --warmup 5 --iters 20
part fp32-both 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 20
part_old op-bf16-old 40 op --grids 14,32 --forms kernel,sdpa --dtype bfloat16 --warmup 2 --iters 5
part op-bf16-new 40 op --grids 14,32 --forms kernel,sdpa --dtype bfloat16 --warmup 3 --iters 10
collect
