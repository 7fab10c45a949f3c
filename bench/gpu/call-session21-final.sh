#!/usr/bin/env bash
# One device call (2026-12-01, twenty-first session, last): the whole selfcheck (the walk part now runs the one-turn
# wirings through the closed form; the masked attention kernels after their refactor), the operator with P-mode and
# D-mode gates against fused attention (issue 6's operator comparison), the training steps.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-final; mkdir -p "$OUT" "$R"
timeout 280 bash .gpu/run.sh selfcheck > "$R/selfcheck-full.txt" 2>&1; echo "selfcheck exit $?"
grep -E "FAIL|kernels:|cases agree|rror|not run" "$R/selfcheck-full.txt" | tee "$R/selfcheck.txt"
. bench/gpu/common.sh
part op-p 120 op --grids 14,16,24,32 --forms kernel,sdpa --mode p --warmup 3 --iters 10
part op-d 120 op --grids 14,16,24,32 --forms kernel --mode d --warmup 3 --iters 10
for round in 1 2; do part "steps-$round" 150 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10; done
for f in "$R"/selfcheck.txt "$R"/*.md; do echo "=== $(basename "$f")"; cat "$f"; done > "$OUT/all.md"
cp "$R/selfcheck-full.txt" "$OUT/"
