#!/usr/bin/env bash
# Thirtieth session (2026-12-02): where the host time of the float32 224-px pLSTM-ViT-T step goes on the current build
# (the step is near ViT-T's, 52.2 against 51.1 ms, and host-disturbed rounds lose 1–5 ms): .NET's EventPipe sample
# profiler over 40 steps, as call-step-host-trace.sh did in the eighteenth session. Bundle first, then
# run(command="OUT=$OUT bash bench/gpu/call-session31-host-trace.sh", carry=[".gpu"]); read the .nettrace with
# `dotnet-trace convert --format speedscope` and bench/gpu/speedscope_top.py.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-trace; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
DOTNET_EnableEventPipe=1 DOTNET_EventPipeOutputPath="$R/plstm.nettrace" \
DOTNET_EventPipeConfig='Microsoft-DotNETCore-SampleProfiler:0:5,Microsoft-Windows-DotNETRuntime:0x4c14fccbd:5' \
  part trace-plstm 120 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 40
cp "$R"/*.md "$OUT"/; (cd "$R" && tar czf "$OUT/traces.tgz" *.nettrace); ls -la "$OUT"
