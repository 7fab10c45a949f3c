#!/usr/bin/env bash
# One device call (2026-12-01, twenty-fifth session): the D-mode closed form's forward with one block per line of
# targets (source-side reads once per source and line) and its table kernel's loops over absolute positions, against
# the build before (.gpu/base/, beef5c3, whose own last refactor is checked here first: selfcheck layer, attention).
# Then selfcheck of the new build (single-path, layer), per-kernel durations (Nsight Compute) of both builds at 14² and
# 32², the gate alone (walk-d, single-path) and 224-px steps, builds alternating.
# The forward and turns/chains variants measured here were reverted; only the tables loops are in the tree
# (bench/results/gpu-h200-single-path-forms-2026-12-01.md).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
cp -r .gpu/stage .gpu/stage-base && cp .gpu/base/*.dll .gpu/stage-base/app/
sed "s#\\\$B/stage/#\$B/stage-base/#g" .gpu/run.sh > .gpu/run-base.sh
timeout 200 bash .gpu/run-base.sh selfcheck --parts layer,attention > "$R/selfcheck-base.txt" 2>&1; echo "base selfcheck exit $?"
grep -E "FAIL|kernels:|cases agree|rror|not run" "$R/selfcheck-base.txt"
selfcheck 200 --parts single-path,layer
for build in base new; do runner=.gpu/run.sh; [ $build = base ] && runner=.gpu/run-base.sh
  for g in 14 32; do
    timeout 120 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:single_path \
      bash $runner bench op --device cuda --forms single-path --grids $g --warmup 1 --iters 1 \
      > "$R/ncu-$build-$g.csv" 2> "$R/ncu-$build-$g.err"; echo "ncu $build $g exit $?"
  done
done
python3 bench/gpu/ncu_sum.py --halve base14="$R/ncu-base-14.csv" new14="$R/ncu-new-14.csv" base32="$R/ncu-base-32.csv" \
  new32="$R/ncu-new-32.csv" | tee "$R/durations.txt"
opb() { local name=$1 runner=$2; shift 2; echo "=== $name ==="
  timeout 120 bash "$runner" bench op --device cuda "$@" --out "$R/$name.md" 2>&1 | grep -E "^\| [a-z0-9]"; }
step() { local name=$1 runner=$2; shift 2; echo "=== $name ==="
  timeout 150 bash "$runner" bench step --device cuda "$@" --out "$R/$name.md" 2>&1 | grep -E "^\| [a-z]"; }
for round in 1 2; do
  opb "op-base$round" .gpu/run-base.sh --forms walk-d,single-path --grids 14,24,32 --warmup 3 --iters 20
  opb "op-new$round" .gpu/run.sh --forms walk-d,single-path --grids 14,24,32 --warmup 3 --iters 20
done
for round in 1 2; do
  step "base$round" .gpu/run-base.sh --presets plstm_vit_t --sizes 224 --warmup 5 --iters 20
  step "new$round" .gpu/run.sh --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 20
done
collect "$R/durations.txt" "$R/selfcheck-base.txt"
