#!/bin/bash
# Device call (2026-12-01, fourteenth session): the README command now takes about 10 of its 15 minutes on two cores,
# so ape-small can afford more training. Which spends the margin best on the plain 64-px test score: more steps with
# the stem of width 24 (2,400), the wider stem of 32 at 2,000 steps, or both (32 × 2,400)? Four new run seeds (46–49)
# each, twelve pLSTM runs sharing one H200 (the recipe otherwise as ape-small: ink, curriculum 0.75, lr 5e-4, batch 64).
# Bundle: ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj; run: OUT=$OUT bash bench/gpu/call-ape-steps.sh
set -u
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
OUT=${OUT:-/tmp/out}; . bench/gpu/common.sh
unpack   # once, before the parallel runs
t() { train_run "$@"; }
mkdir -p /tmp/r
rm -rf /tmp/r-*.log /tmp/r/*   # a warm machine keeps the last call's runs
if [ "${SET:-1}" = 1 ]; then
for seed in 46 47 48 49; do
  t p-w24-s2400-seed$seed --preset plstm_vit_tiny --conv-stem 24 --steps 2400 --seed $seed &
  t p-w32-s2000-seed$seed --preset plstm_vit_tiny --conv-stem 32 --seed $seed &
  t p-w32-s2400-seed$seed --preset plstm_vit_tiny --conv-stem 32 --steps 2400 --seed $seed &
done
else   # SET=2: SET=1 found steps worth more than width: stem 24 at 2,600 and 2,800 steps, and 2,400 on four more seeds
for seed in 46 47 48 49; do
  t p-w24-s2600-seed$seed --preset plstm_vit_tiny --conv-stem 24 --steps 2600 --seed $seed &
  t p-w24-s2800-seed$seed --preset plstm_vit_tiny --conv-stem 24 --steps 2800 --seed $seed &
done
for seed in 43 44 50 51; do t p-w24-s2400-seed$seed --preset plstm_vit_tiny --conv-stem 24 --steps 2400 --seed $seed & done
fi
wait
for f in /tmp/r-*.log; do echo "== $(basename "$f")"; grep -E "curriculum|^\| (plstm|vit)" "$f" | tail -6; done > "$OUT/steps-logs.txt"
grep -h "acc @64" -A3 /tmp/r-*.log | grep "^| " > "$OUT/steps-runs.md"
cat "$OUT/steps-logs.txt"
