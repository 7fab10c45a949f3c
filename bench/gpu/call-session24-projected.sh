#!/usr/bin/env bash
# One device call (2026-12-01, twenty-fourth session): the 2D layer's kernel form reading q, k, v in place from the
# projection output and writing its gradient in one buffer (ProjectedGateAttention), against the build before it
# (.gpu/base/: Plstm.dll and Plstm.Cli.dll of 0ea3f68, run from a copy of the bundle's stage), on one machine.
# `plstm selfcheck` of the new build first (the masked attention kernels, the gate activation, the layer end to end:
# its float32 cases run the in-place path), then training steps in alternating rounds, then the new build's kernel
# durations at 224 px (Nsight Compute, halved: one step).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
cp -r .gpu/stage .gpu/stage-base && cp .gpu/base/*.dll .gpu/stage-base/app/
sed "s#\\\$B/stage/#\$B/stage-base/#g" .gpu/run.sh > .gpu/run-base.sh
selfcheck 240 --parts attention,activation,layer
step() { local name=$1 runner=$2; shift 2; echo "=== $name ==="
  timeout 150 bash "$runner" bench step --device cuda "$@" --out "$R/$name.md" 2>&1 | grep -E "^\| [a-z]"; }
for round in 1 2 3; do
  step "base$round" .gpu/run-base.sh --presets plstm_vit_t,vit_t --sizes 224 --warmup 3 --iters 10
  step "new$round" .gpu/run.sh --presets plstm_vit_t,vit_t --sizes 224 --warmup 3 --iters 10
done
step base512 .gpu/run-base.sh --presets plstm_vit_t --sizes 512 --warmup 3 --iters 10
step new512 .gpu/run.sh --presets plstm_vit_t,vit_t --sizes 512 --warmup 3 --iters 10
timeout 150 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
  bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$R/ncu.csv" 2> "$R/ncu.err"
echo "ncu exit $?"
python3 bench/gpu/ncu_sum.py --halve --top 45 plstm_vit_t="$R/ncu.csv" > "$R/kernels.txt"
collect "$R/kernels.txt"
