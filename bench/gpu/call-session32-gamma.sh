#!/usr/bin/env bash
# Thirty-first session (2026-12-02), sixth call (about 5 minutes): the 2D layer's per-head norm scale γ applied in the
# masked attention forward's epilogue and its gradient summed in the norm's backward kernel, instead of folded into the
# out-projection's weight (PLSTM_NORM_SCALE_IN_KERNEL=off: folded, as before).
# 1. `plstm selfcheck --parts layer,norm` (the layer cases compare every parameter's gradient, γ's included);
# 2. 224 px three rounds and 512 px one round of: folded / in the kernels, each pLSTM-ViT-T and ViT-T.
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session32-gamma.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
off() { export PLSTM_NORM_SCALE_IN_KERNEL=off; part "$@"; unset PLSTM_NORM_SCALE_IN_KERNEL; }
selfcheck 150 --parts layer,norm
for round in 1 2 3; do
  off "folded-224-$round" 45 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
  part "inside-224-$round" 45 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
off folded-512 45 step --presets plstm_vit_t --sizes 512 --warmup 5 --iters 20
part inside-512 45 step --presets plstm_vit_t --sizes 512 --warmup 5 --iters 20
collect
