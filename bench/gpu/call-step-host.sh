#!/usr/bin/env bash
# One device call (2026-12-01, eighteenth session): is the 224-px pLSTM-ViT-T step bound by the host? `plstm bench step`
# now reports "host ms" (the time to issue forward, loss and backward). Rows: both presets at 224 and 512 px, then the
# pLSTM at 224 px under .NET runtime settings that change host costs: no tiered JIT (everything fully optimised from
# the first call), a 256 MiB gen-0 budget (fewer collections of TorchSharp's finalizable tensor handles), both, and
# more warm-up iterations.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-host; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
nproc; lscpu | grep -E "Model name|MHz" | head -3
part base 120 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10
DOTNET_TieredCompilation=0 part tc0 60 step --presets plstm_vit_t --sizes 224 --warmup 3 --iters 10
DOTNET_GCgen0size=0x10000000 part gen0 60 step --presets plstm_vit_t --sizes 224 --warmup 3 --iters 10
DOTNET_TieredCompilation=0 DOTNET_GCgen0size=0x10000000 part both 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 3 --iters 10
part warm20 90 step --presets plstm_vit_t --sizes 224 --warmup 20 --iters 10
part base2 120 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 3 --iters 10
cp "$R"/*.md "$OUT"/
