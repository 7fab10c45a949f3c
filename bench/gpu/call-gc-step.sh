#!/usr/bin/env bash
# One device call (2026-11-30, thirteenth session): is the pLSTM-ViT-T 224-px step's spread (57–91 ms between rounds)
# garbage-collection pauses? The same step bench with the runtime's default gen0 budget and with a 256 MiB one
# (DOTNET_GCgen0size), alternating, three rounds; ViT-T once per setting for reference.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-gc; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for round in a b c; do
  part plstm-default-$round 50 step --presets plstm_vit_t --sizes 224 --warmup 3 --iters 10
  export DOTNET_GCgen0size=0x10000000
  part plstm-gen0-$round 50 step --presets plstm_vit_t --sizes 224 --warmup 3 --iters 10
  unset DOTNET_GCgen0size
done
part vit-default 40 step --presets vit_t --sizes 224 --warmup 3 --iters 10
export DOTNET_GCgen0size=0x10000000
part vit-gen0 40 step --presets vit_t --sizes 224 --warmup 3 --iters 10
unset DOTNET_GCgen0size
(cd "$R" && tar czf "$OUT/results.tgz" .)
