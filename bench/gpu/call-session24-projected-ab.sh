#!/usr/bin/env bash
# One device call (2026-12-01, twenty-fourth session): the in-place projected attention against the build before it
# (.gpu/base/, 0ea3f68), longer: 224 px in four alternating rounds of 30 timed steps (the first call's rounds of 10
# left the new build's spread wide), then 384 and 512 px once each.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
cp -r .gpu/stage .gpu/stage-base && cp .gpu/base/*.dll .gpu/stage-base/app/
sed "s#\\\$B/stage/#\$B/stage-base/#g" .gpu/run.sh > .gpu/run-base.sh
step() { local name=$1 runner=$2; shift 2; echo "=== $name ==="
  timeout 150 bash "$runner" bench step --device cuda "$@" --out "$R/$name.md" 2>&1 | grep -E "^\| [a-z]"; }
for round in 1 2 3 4; do
  step "base$round" .gpu/run-base.sh --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
  step "new$round" .gpu/run.sh --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
step base384 .gpu/run-base.sh --presets plstm_vit_t --sizes 384,512 --warmup 3 --iters 15
step new384 .gpu/run.sh --presets plstm_vit_t,vit_t --sizes 384,512 --warmup 3 --iters 15
collect
