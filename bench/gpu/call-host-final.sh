#!/usr/bin/env bash
# One device call (2026-12-01, eighteenth session): the session's host-cost changes on one machine, three builds in
# alternating rounds (H200 machines differ in host speed from call to call). The bundle holds the final build;
# .gpu/start/ and .gpu/mid/ hold Plstm.dll and Plstm.Cli.dll of the session's first commit (e1b974c) and of 159df4e (the
# unclipped AdamW step without its norm read-back, shapes read once; before the gate activation), each run from a copy of
# the bundle's stage. `plstm selfcheck` of the final build first (gate walk, gate activation and whole-layer cases).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-final; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for b in start mid; do
  cp -r .gpu/stage .gpu/stage-$b && cp .gpu/$b/*.dll .gpu/stage-$b/app/
  sed "s#\\\$B/stage/#\$B/stage-$b/#g" .gpu/run.sh > .gpu/run-$b.sh
done
timeout 300 bash .gpu/run.sh selfcheck > "$R/selfcheck.txt" 2>&1; echo "selfcheck exit $?"
grep -E "cases agree|FAIL" "$R/selfcheck.txt" | head
step() { local name=$1 runner=$2; shift 2; echo "=== $name ==="
  timeout 150 bash "$runner" bench step --device cuda "$@" --out "$R/$name.md" 2>&1 | grep -E "^\| [a-z]"; }
for round in 1 2 3; do
  step "start$round" .gpu/run-start.sh --presets plstm_vit_t,vit_t --sizes 224 --warmup 3 --iters 10
  step "mid$round" .gpu/run-mid.sh --presets plstm_vit_t --sizes 224 --warmup 3 --iters 10
  step "final$round" .gpu/run.sh --presets plstm_vit_t,vit_t --sizes 224 --warmup 3 --iters 10
done
step start512 .gpu/run-start.sh --presets plstm_vit_t,vit_t --sizes 512 --warmup 3 --iters 10
step final512 .gpu/run.sh --presets plstm_vit_t,vit_t --sizes 512 --warmup 3 --iters 10
step final-small .gpu/run.sh --presets plstm_vit_t,vit_t --sizes 224 --batch-sizes 8 --warmup 5 --iters 20
for f in "$R"/*.md; do echo "=== $(basename "$f")"; cat "$f"; done > "$OUT/all.md"; grep -E "cases agree|FAIL" "$R/selfcheck.txt" > "$OUT/selfcheck-summary.txt"
