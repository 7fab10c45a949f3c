#!/usr/bin/env bash
# One device call (2026-12-01, eighteenth session): the host side of the 224-px training step. First the forward and
# backward issue times of both presets (`plstm bench step` "host fwd + bwd ms"), then the same pLSTM-ViT-T step under
# .NET's EventPipe sample profiler (managed stacks every millisecond; no tool needed on the machine) and ViT-T beside it.
# The .nettrace files come back compressed; read them with `dotnet-trace convert --format speedscope` and
# bench/gpu/speedscope_top.py.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-trace; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
part phases 120 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10
for preset in plstm_vit_t vit_t; do
  DOTNET_EnableEventPipe=1 DOTNET_EventPipeOutputPath="$R/$preset.nettrace" \
  DOTNET_EventPipeConfig='Microsoft-DotNETCore-SampleProfiler:0:5,Microsoft-Windows-DotNETRuntime:0x4c14fccbd:5' \
    part "trace-$preset" 120 step --presets $preset --sizes 224 --warmup 5 --iters 30
  ls -la "$R/$preset.nettrace"
done
cp "$R"/*.md "$OUT"/; (cd "$R" && tar czf "$OUT/traces.tgz" *.nettrace); ls -la "$OUT"
