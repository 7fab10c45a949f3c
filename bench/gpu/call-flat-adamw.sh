#!/usr/bin/env bash
# One device call (2026-11-30, fifth session): training steps of pLSTM-ViT-T and ViT-T after the multi-tensor AdamW
# (one flat update per parameter group instead of ~10 ops per parameter tensor), same rows and settings as
# call-rowscan-final.sh so the before/after ratio is side by side. Reports packed into $OUT/results.tgz.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
part step-plstm 100 step --presets plstm_vit_t --sizes 192,224,384 --warmup 2 --iters 5
part step-vit 60 step --presets vit_t --sizes 192,224,384,512,1024 --warmup 2 --iters 5
part step-plstm-512 40 step --presets plstm_vit_t --sizes 512 --warmup 1 --iters 3
part step-bf16 60 step --presets plstm_vit_t,vit_t --sizes 224 --dtype bfloat16 --warmup 2 --iters 5
(cd "$R" && tar czf "$OUT/results.tgz" .)
ls -la "$OUT"
