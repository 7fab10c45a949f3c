#!/usr/bin/env bash
# Thirtieth session (2026-12-02): the 2D pLSTM layers' weights gathered for the whole block stack at once
# (Plstm2DParameterBatch) against each layer building its own (PLSTM_PARAMETER_BATCH=off), same bundle, alternating:
# 224-px steps (where the host's per-operation costs bind) in three rounds with ViT-T beside, then 512 px. Layer selfcheck
# first. Bundle, then run(command="OUT=$OUT bash bench/gpu/call-session31-batch.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 120 --parts layer
for round in 1 2 3; do
  export PLSTM_PARAMETER_BATCH=off
  part "off-$round" 60 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
  unset PLSTM_PARAMETER_BATCH
  part "on-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
export PLSTM_PARAMETER_BATCH=off
part off-512 60 step --presets plstm_vit_t --sizes 512 --warmup 5 --iters 20
unset PLSTM_PARAMETER_BATCH
part on-512 60 step --presets plstm_vit_t,vit_t --sizes 512 --warmup 5 --iters 20
collect
