#!/usr/bin/env bash
# Device calls (2026-12-01, twenty-first session; run twice: before and after fusing the chains' loops): the closed form with a lean forward (per pair: selects instead of
# divisions, 32-bit offsets, ~45 instead of ~80 instructions on the turning path) and flat backward grids (an entry's
# blocks consecutive, so d𝒢 stays in L2 for both turn sums, the chains and all four orientations) — selfcheck of the
# single-path and layer parts, the gate alone, Nsight Compute of its kernels at 32², the steps.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-lean; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
selfcheck 150 --parts single-path,layer
part gate 90 op --grids 14,24,32 --forms walk-d,single-path --warmup 3 --iters 20
OUT=$R bash bench/gpu/call-single-path-profile.sh > "$R/profile.txt" 2>&1
for round in 1 2; do part "steps-$round" 150 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10; done
collect "$R/profile.txt"
