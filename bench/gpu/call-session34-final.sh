#!/usr/bin/env bash
# Thirty-third session (2026-12-02), last call: the session's final default (D0 per head into the kernel form's
# function; the gate kernel from x opt-in and off) against ViT-T, five 224-px rounds; selfcheck layer on that default.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 150 --parts layer
for round in 1 2 3 4 5; do
  part "step-224-$round" 50 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
collect
