#!/usr/bin/env bash
# Thirty-first session (2026-12-02), fifth call (about 6 minutes): the README's training-step rows again after this
# session's changes (flat linear maps, the per-head norm's backward clearing dq, the blocks' RMS norm kernel): float32
# pLSTM-ViT-T and ViT-T at 192, 224 (three rounds), 384, 512, 768 and 1024 px, then mixed precision at 224 and 512 px.
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session32-table.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for round in 1 2 3; do
  part "step-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
part step-192 60 step --presets plstm_vit_t,vit_t --sizes 192 --warmup 5 --iters 30
part step-384-512 90 step --presets plstm_vit_t,vit_t --sizes 384,512 --warmup 5 --iters 20
part step-large 150 step --presets plstm_vit_t,vit_t --sizes 768,1024 --batch-sizes 16@768,8@1024 --warmup 3 --iters 10
part mixed 90 step --presets plstm_vit_t,vit_t --sizes 224,512 --compute-dtype bfloat16 --warmup 5 --iters 20
part step-224-4 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
collect
