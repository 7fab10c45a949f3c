#!/usr/bin/env bash
# One device call (2026-12-01, seventeenth session), the committed build with the backward's segments by default
# (SEG: whole up to 16 lines, 1 up to 32, 4 beyond): selfcheck, the operator fwd+bwd at issue 6's grids, and training
# steps at 512 and 1024 px with the default kernel and with the walk stored whole (SEG 999, the previous kernel), to see
# the local-memory reservation in a step's device memory.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-segf; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 200 bash .gpu/run.sh selfcheck 2>&1 | grep -E "FAIL|kernels:|cases agree"
part op 60 op --grids 14,24,32,48 --forms kernel,sdpa --warmup 3 --iters 10
part op64 40 op --grids 64 --bh 192 --forms kernel,sdpa --warmup 1 --iters 3
{ echo "#define SEG 999"; cat src/Plstm/Ops/TwoD/Kernels/fused_gate.cu; } > "$R/fused_gate_whole.cu"
for round in a b; do
  part step-$round 120 step --presets plstm_vit_t --sizes 512,1024 --warmup 2 --iters 5
  PLSTM_FUSED_GATE_SOURCE=$R/fused_gate_whole.cu part step-whole-$round 120 step --presets plstm_vit_t --sizes 512,1024 --warmup 2 --iters 5
done
part step-vit 90 step --presets vit_t --sizes 512,1024 --warmup 2 --iters 5
(cd "$R" && tar czf "$OUT/results.tgz" .)
