#!/usr/bin/env bash
# (Run while the function was the default on CUDA and PLSTM_ROWS_LINEAR=off turned it off; it is opt-in since, =on.)
# Thirty-second session (2026-12-02): RowsLinear (the layers' linear maps with a bias on CUDA: the bias gradient as a
# matrix-vector product, the forward with the weight as a row-major transposed copy; bench/gpu/gemm_products.py
# measured both on this GPU). 1. `selfcheck --parts linear,layer` (the function against libtorch's
# linear in float64 on the CPU, every gradient; leak check; the layer end to end); 2. both models at 224 px, the
# function off and on in alternating rounds; 3. 512 px once each way.
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session33-rows-linear.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 200 --parts linear,layer
off() { export PLSTM_ROWS_LINEAR=off; part "$@"; unset PLSTM_ROWS_LINEAR; }
for round in 1 2 3; do
  off "off-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
  part "on-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
off off-512 90 step --presets plstm_vit_t,vit_t --sizes 512 --warmup 3 --iters 15
part on-512 90 step --presets plstm_vit_t,vit_t --sizes 512 --warmup 3 --iters 15
collect
