#!/usr/bin/env bash
# Thirty-first session (2026-12-02), seventh call (about 2 minutes): the README's pure-bfloat16 rows again on the final
# code (the blocks' norms now run their float32 kernel inside bfloat16 models too).
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session32-bf16.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
part bf16 120 step --presets plstm_vit_t,vit_t --sizes 224,512 --dtype bfloat16 --warmup 5 --iters 20
part f32-224 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
collect
