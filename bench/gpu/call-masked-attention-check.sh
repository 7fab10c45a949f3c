#!/usr/bin/env bash
# One device call (2026-12-01, nineteenth session): `plstm selfcheck` on the committed build (the kernel source without
# the measured-and-dropped pre-split variant; float32 layer cases storing and recomputing), and one operator row.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-mac; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 200 bash .gpu/run.sh selfcheck > "$R/selfcheck.txt" 2>&1; echo "selfcheck exit $?"
grep -E "cases agree|FAIL|masked attention kernels|T 4095|recomputing|rror" "$R/selfcheck.txt" | head -30
part op 40 op --grids 14,32 --forms kernel,sdpa --warmup 2 --iters 10
cp "$R/selfcheck.txt" "$OUT/"
