#!/usr/bin/env bash
# One device call (2026-12-01, twenty-third session): issue 6's operator shapes not in the README's table with this
# session's build — 12² and 64² at B·H 384 (64² at 384 ran out of memory in earlier builds; the large-grid call measured
# 39 GiB at B·H 192), P-mode and D-mode gates, against fused attention.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-s23i; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
probe
part op-12-p 60 op --grids 12 --forms kernel,sdpa --mode p --warmup 3 --iters 10
part op-12-d 60 op --grids 12 --forms kernel --mode d --warmup 3 --iters 10
part op-64-p 120 op --grids 64 --forms kernel,sdpa --mode p --warmup 1 --iters 3
collect
