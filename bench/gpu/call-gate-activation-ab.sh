#!/usr/bin/env bash
# One device call (2026-12-01, eighteenth session): A/B of the host-cost changes on one machine (H200 machines differ in
# host speed from call to call, so only rounds of one call compare). The bundle holds the new build (gate activation
# kernel, shapes read once, cached block mask, one-reshape q/k/v weights); .gpu/base/ holds Plstm.dll and Plstm.Cli.dll
# of the commit before them, run from a copy of the bundle's stage. First `plstm selfcheck` of the new build, then
# training steps at 224 px (both presets, host issue times) in alternating rounds, and one round at 512 px.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-ab; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
cp -r .gpu/stage .gpu/stage-base && cp .gpu/base/*.dll .gpu/stage-base/app/
sed 's#\$B/stage/#$B/stage-base/#g' .gpu/run.sh > .gpu/run-base.sh
timeout 300 bash .gpu/run.sh selfcheck > "$R/selfcheck.txt" 2>&1; echo "selfcheck exit $?"
grep -E "cases agree|FAIL" "$R/selfcheck.txt" | head
for round in 1 2 3; do
  echo "=== base $round ==="
  timeout 150 bash .gpu/run-base.sh bench step --device cuda --presets plstm_vit_t,vit_t --sizes 224 --warmup 3 --iters 10 \
    --out "$R/base$round.md" 2>&1 | grep -E "^\| [a-z]"
  part "new$round" 120 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 3 --iters 10
done
echo "=== base 512 ==="
timeout 150 bash .gpu/run-base.sh bench step --device cuda --presets plstm_vit_t --sizes 512 --warmup 3 --iters 10 \
  --out "$R/base512.md" 2>&1 | grep -E "^\| [a-z]"
part new512 120 step --presets plstm_vit_t,vit_t --sizes 512 --warmup 3 --iters 10
cp "$R"/* "$OUT"/
