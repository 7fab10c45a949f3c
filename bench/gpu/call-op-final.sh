#!/usr/bin/env bash
# One device call (2026-12-01, sixteenth session), the committed build: the operator fwd+bwd (kernel form, storing)
# against sdpa at issue 6's grids, two rounds for the small grids (their rows vary between calls).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for round in a b; do part op-$round 60 op --grids 12,14,16,24,32 --forms kernel,sdpa --warmup 3 --iters 10; done
part op-48 40 op --grids 48 --forms kernel,sdpa --warmup 1 --iters 3
part op-64 50 op --grids 64 --forms kernel,sdpa --bh 192 --warmup 1 --iters 3
(cd "$R" && tar czf "$OUT/results.tgz" .)
