#!/usr/bin/env bash
# Twenty-ninth session (2026-12-02): the masked attention kernel's TF32 products (MaskedAttentionPrecision.Tf32), taken
# by half-precision layers and by float32 under --tf32 (8214a5f). The bundle holds that build; .gpu/old/ holds Plstm.dll
# and Plstm.Cli.dll of 29b79f7 (half precision mixed in float32 with 3xTF32 products). Selfcheck (attention with the TF32
# cases, layer with the bfloat16 cases), pure-bfloat16 steps old / new alternating, ViT-T in bfloat16, the bfloat16
# operator, and float32 steps with TF32 allowed for both models.
# Bundle, copy the old DLLs to .gpu/old/, then run(command="OUT=$OUT bash bench/gpu/call-session30-tf32.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
stage_old
selfcheck 150 --parts attention,layer
for round in 1 2; do
  part_old "bf16-3xtf32-$round" 60 step --presets plstm_vit_t --sizes 224,512 --dtype bfloat16 --warmup 5 --iters 20
  part "bf16-tf32-$round" 60 step --presets plstm_vit_t --sizes 224,512 --dtype bfloat16 --warmup 5 --iters 20
done
part bf16-vit 60 step --presets vit_t --sizes 224,512 --dtype bfloat16 --warmup 5 --iters 20
part op-bf16 40 op --grids 14,32 --forms kernel,sdpa --dtype bfloat16 --warmup 3 --iters 10
part fp32-tf32 80 step --presets plstm_vit_t,vit_t --sizes 224,512 --tf32 --warmup 5 --iters 20
collect
