#!/usr/bin/env bash
# Twenty-seventh session (2026-12-02), fourth call: three more rounds of the 224-px step against ViT-T at this session's
# build (its second round in call-session28-defaults.sh was host-bound: host issue 54 ms against 36 ms in the first).
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session28-rounds.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for round in 1 2 3; do part "step224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 20; done
collect
