#!/usr/bin/env bash
# One device call (2026-12-01, twenty-first session): the closed form's forward with tables indexed by the source's
# cell and original coordinate (W by target line and source cell, U and U' by target cell; ≈ 25 instructions per pair,
# the loop unrolled for a constant block width) — selfcheck (walk part: the one-turn wirings go through the closed form;
# single-path, layer), the gate alone, the D-mode operator, Nsight Compute of the closed form at 32².
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-v2; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
selfcheck 200 --parts walk,single-path,layer
part gate 60 op --grids 14,24,32 --forms walk-d,single-path --warmup 3 --iters 20
part op-d 60 op --grids 14,16,24,32 --forms kernel --mode d --warmup 3 --iters 10
OUT=$R bash bench/gpu/call-single-path-profile.sh > "$R/profile.txt" 2>&1
collect "$R/profile.txt"
