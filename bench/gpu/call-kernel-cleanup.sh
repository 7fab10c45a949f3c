#!/usr/bin/env bash
# One device call (2026-12-01, eighteenth session): the gate backward's source tidied (one device function for the
# line walk of walks 1 and 2; one restore loop for parked and unparked adjoint weights; no dead zero fill when parking)
# must compile to the same kernel: `plstm selfcheck` (its first lines give registers and local memory per thread), and
# the operator fwd + bwd against the previous source (.gpu/fused_gate_head.cu, the committed source from `git show HEAD:…/fused_gate.cu` before this change, through
# PLSTM_FUSED_GATE_SOURCE) on the same machine.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-kc; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 300 bash .gpu/run.sh selfcheck > "$R/selfcheck.txt" 2>&1; echo "selfcheck exit $?"
grep -E "registers|cases agree|FAIL" "$R/selfcheck.txt" | head -12
PLSTM_FUSED_GATE_SOURCE=$PWD/.gpu/fused_gate_head.cu part head 90 op --forms kernel --grids 14,24,32,48 --warmup 3 --iters 10
part new 90 op --forms kernel --grids 14,24,32,48 --warmup 3 --iters 10
PLSTM_FUSED_GATE_SOURCE=$PWD/.gpu/fused_gate_head.cu part head64 60 op --forms kernel --grids 64 --bh 192 --warmup 1 --iters 3
part new64 60 op --forms kernel --grids 64 --bh 192 --warmup 1 --iters 3
{ grep -E "registers|cases agree|FAIL" "$R/selfcheck.txt"; for f in "$R"/*.md; do echo "=== $(basename "$f")"; grep -E "^\|" "$f"; done; } > "$OUT/all.txt"
