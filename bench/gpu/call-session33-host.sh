#!/usr/bin/env bash
# Thirty-second session (2026-12-02), last call (about 4 minutes). The session found
# pLSTM-ViT-T's 224-px step close to its host limit (host fwd + bwd 25-31 ms of a 44-ms step in quiet calls, 35-40 ms
# in noisy ones, where its steps followed the host), so:
# 1. `plstm selfcheck --parts linear` on the default path (libtorch's linear on the flattened rows; the session's GPU
#    runs of the part were with the opt-in function on);
# 2. garbage collections per step: pLSTM-ViT-T and ViT-T at 224 px with PLSTM_TRACE=1 (the GC trace prints collections
#    by generation and reason at the end), 60 timed steps each;
# 3. three 224-px rounds of both models (quiet or not: the host columns say).
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session33-host.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 200 --parts linear
for preset in plstm_vit_t vit_t; do
  PLSTM_TRACE=1 timeout 120 bash .gpu/run.sh bench step --device cuda --presets $preset --sizes 224 --warmup 5 --iters 60 \
    --max-seconds 90 --out "$R/trace-$preset.md" > "$R/trace-$preset.txt" 2>&1
  echo "$preset trace exit $?"; grep -iE "gen|collect|^\| $preset" "$R/trace-$preset.txt" | head -20
done
for round in 1 2 3; do
  part "step-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
collect "$R"/trace-*.txt
