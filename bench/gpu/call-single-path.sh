#!/usr/bin/env bash
# One device call (2026-12-01, twentieth session): the D-mode closed form (SinglePathGateKernel) — selfcheck (its cases
# against the gate walk, and the layer cases, whose D-mode layers now take it), then the training step with the closed
# form off and on in alternating rounds (224 and 512 px), then Nsight Compute's per-kernel times of one 224-px step.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-sp; mkdir -p "$OUT" "$R"
timeout 300 bash .gpu/run.sh selfcheck > "$R/selfcheck-full.txt" 2>&1; echo "selfcheck exit $?"
grep -E "FAIL|kernels:|cases agree|rror|single-path" "$R/selfcheck-full.txt" | tee "$R/selfcheck.txt"
grep -E "single path" "$R/selfcheck-full.txt" | sort -t: -k3 -n | tail -4
. bench/gpu/common.sh
for round in 1 2; do
  PLSTM_SINGLE_PATH=off part "off-$round" 150 step --presets plstm_vit_t --sizes 224,512 --warmup 3 --iters 10
  part "on-$round" 150 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10
done
timeout 200 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
  bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$R/plstm.csv" 2> "$R/plstm.err"
echo "ncu exit $?"
python3 bench/gpu/ncu_sum.py --halve --top 24 plstm_vit_t="$R/plstm.csv" | tee "$R/summary.txt"
for f in "$R"/selfcheck.txt "$R"/*.md "$R/summary.txt"; do echo "=== $(basename "$f")"; cat "$f"; done > "$OUT/all.md"
cp "$R/selfcheck-full.txt" "$OUT/"
