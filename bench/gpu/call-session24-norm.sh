#!/usr/bin/env bash
# One device call (2026-12-01, twenty-fourth session): the per-head RMS norm inside the in-place kernel form (one
# kernel each way, rms_norm.cu) — selfcheck of the new build (layer cases: the kernel form, norm included, against the
# hierarchical form), then 224-px steps of three builds alternating on one machine: base (.gpu/base/, 0ea3f68), mid
# (.gpu/mid/, 46824b6: q, k, v in place, norm as tensor operations) and new; 512 px once each of mid and new.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for b in base mid; do
  cp -r .gpu/stage .gpu/stage-$b && cp .gpu/$b/*.dll .gpu/stage-$b/app/
  sed "s#\\\$B/stage/#\$B/stage-$b/#g" .gpu/run.sh > .gpu/run-$b.sh
done
selfcheck 200 --parts layer,attention
step() { local name=$1 runner=$2; shift 2; echo "=== $name ==="
  timeout 150 bash "$runner" bench step --device cuda "$@" --out "$R/$name.md" 2>&1 | grep -E "^\| [a-z]"; }
for round in 1 2 3; do
  step "base$round" .gpu/run-base.sh --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
  step "mid$round" .gpu/run-mid.sh --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
  step "new$round" .gpu/run.sh --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
step mid512 .gpu/run-mid.sh --presets plstm_vit_t --sizes 512 --warmup 3 --iters 15
step new512 .gpu/run.sh --presets plstm_vit_t,vit_t --sizes 512 --warmup 3 --iters 15
collect
