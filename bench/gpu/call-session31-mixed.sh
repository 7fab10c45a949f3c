#!/usr/bin/env bash
# Prepared in the twenty-ninth session (2026-12-02) for the next: mixed precision (VisionModel.ComputeDtype, float32
# parameters and AdamW state, bfloat16 compute) timed on the GPU against float32 and pure bfloat16, both models, 224 and
# 512 px, alternating; selfcheck of the attention and layer parts first. About 6 minutes.
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session31-mixed.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 120 --parts attention,layer
for round in 1 2; do
  part "float32-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 5 --iters 20
  part "mixed-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224,512 --compute-dtype bfloat16 --warmup 5 --iters 20
done
part pure-bf16 60 step --presets plstm_vit_t,vit_t --sizes 224,512 --dtype bfloat16 --warmup 5 --iters 20
collect
