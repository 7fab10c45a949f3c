#!/usr/bin/env bash
# (Run while the function was the default on CUDA and PLSTM_ROWS_LINEAR=off turned it off; it is opt-in since, =on.)
# Thirty-second session, second RowsLinear call: the first (call-session33-rows-linear.sh) found ViT-T 2 ms faster at
# 224 px with it, pLSTM-ViT-T's host times up 4-5 ms and its steps slower, in a noisy call; since then the function
# reads requires_grad once and takes its ones from a cache. 1. `selfcheck --parts linear` (the first call's crashed on a
# leaf mix-up in the check itself); 2. pLSTM-ViT-T at 224 px, off and on alternating, four rounds each; one ViT-T pair.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 200 --parts linear
off() { export PLSTM_ROWS_LINEAR=off; part "$@"; unset PLSTM_ROWS_LINEAR; }
for round in 1 2 3 4; do
  off "off-224-$round" 60 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
  part "on-224-$round" 60 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
done
off off-vit 60 step --presets vit_t --sizes 224 --warmup 5 --iters 30
part on-vit 60 step --presets vit_t --sizes 224 --warmup 5 --iters 30
collect
