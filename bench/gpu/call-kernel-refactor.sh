#!/usr/bin/env bash
# One device call (2026-11-30): the kernel with the forward step factored into one device function (same arithmetic):
# selfcheck and the operator timing against the committed numbers (same shapes).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
echo "=== selfcheck ==="
timeout 240 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -5
part op 40 op --grids 14,32 --forms kernel,sdpa --warmup 2 --iters 5
(cd "$R" && tar czf "$OUT/results.tgz" .)
