#!/usr/bin/env bash
# One device call (2026-12-01, twentieth session): the committed build's selfcheck (the masked attention kernels'
# build fallback and the shared source reader were not yet run on the GPU), then the prepared breakdown
# (call-operator-breakdown.sh: operator kernel/masked/sdpa with the attention kernels on and off; Nsight Compute's
# per-kernel times of one 224-px step), then the 224-px step's host side (issue times and an EventPipe trace).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-breakdown; mkdir -p "$OUT" "$R"
timeout 250 bash .gpu/run.sh selfcheck 2>&1 | grep -E "FAIL|kernels:|cases agree|rror" | tee "$R/selfcheck.txt"
OUT=$OUT bash bench/gpu/call-operator-breakdown.sh
. bench/gpu/common.sh
part phases 120 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 3 --iters 10
DOTNET_EnableEventPipe=1 DOTNET_EventPipeOutputPath="$R/plstm.nettrace" \
DOTNET_EventPipeConfig='Microsoft-DotNETCore-SampleProfiler:0:5,Microsoft-Windows-DotNETRuntime:0x4c14fccbd:5' \
  part "trace-plstm" 120 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
for f in "$R"/selfcheck.txt "$R"/*.md "$R/summary.txt"; do echo "=== $(basename "$f")"; cat "$f"; done > "$OUT/all.md"
(cd "$R" && tar czf "$OUT/traces.tgz" *.nettrace); ls -la "$OUT"
