#!/usr/bin/env bash
# One device call (2026-12-01, twenty-fifth session): the 2D layer's stacked projection as one autograd node
# (StackedProjectionFunction) against the build before (.gpu/base/, eff5d00): selfcheck of the layer, then 224- and
# 512-px steps alternating, the host's issue times (the table's "host fwd + bwd") being what the change is about.
# The one-node variant measured here was reverted (bench/results/gpu-h200-backward-overlap-2026-12-01.md).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
cp -r .gpu/stage .gpu/stage-base && cp .gpu/base/*.dll .gpu/stage-base/app/
sed "s#\\\$B/stage/#\$B/stage-base/#g" .gpu/run.sh > .gpu/run-base.sh
selfcheck 150 --parts layer
step() { local name=$1 runner=$2; shift 2; echo "=== $name ==="
  timeout 150 bash "$runner" bench step --device cuda "$@" --out "$R/$name.md" 2>&1 | grep -E "^\| [a-z]"; }
for round in 1 2 3; do
  step "base$round" .gpu/run-base.sh --presets plstm_vit_t --sizes 224,512 --warmup 5 --iters 20
  step "new$round" .gpu/run.sh --presets plstm_vit_t --sizes 224,512 --warmup 5 --iters 20
done
step vit .gpu/run.sh --presets vit_t --sizes 224 --warmup 5 --iters 20
collect
