#!/usr/bin/env bash
# One device call (2026-12-01, fifteenth session): training steps of pLSTM-ViT-T at 224 and 512 px with the committed
# gate kernels against the previous ones (bench/gpu/kernels/fused_gate_v0.cu through PLSTM_FUSED_GATE_SOURCE; write it
# with bench/gpu/kernels/make-v0.sh and carry it with the call), three
# rounds alternating, ViT-T once in between — the 224-px step is too noisy between machines to compare across calls.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for round in a b c; do
  unset PLSTM_FUSED_GATE_SOURCE
  part new-$round 60 step --presets plstm_vit_t --sizes 224,512 --warmup 3 --iters 10
  export PLSTM_FUSED_GATE_SOURCE=$PWD/bench/gpu/kernels/fused_gate_v0.cu
  part old-$round 60 step --presets plstm_vit_t --sizes 224,512 --warmup 3 --iters 10
  unset PLSTM_FUSED_GATE_SOURCE
  [ $round = b ] && part vit 40 step --presets vit_t --sizes 224,512 --warmup 3 --iters 10
done
(cd "$R" && tar czf "$OUT/results.tgz" .)
