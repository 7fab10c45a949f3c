#!/usr/bin/env bash
# One device call (2026-12-01, twenty-fourth session): the session's final build — the full `plstm selfcheck` (every
# part), then pLSTM-ViT-T and ViT-T steps at 224, 384 and 512 px.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 300
part steps 200 step --presets plstm_vit_t,vit_t --sizes 224,384,512 --warmup 5 --iters 20
collect
