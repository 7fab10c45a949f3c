#!/usr/bin/env bash
# One device call (2026-12-01, sixteenth session): the forward kernel's chunk of earlier sums read before a line is
# walked (FPF; before: the whole line) at 64², B·H 96 (Nsight Compute per-kernel times), then selfcheck, the operator
# and the 1024-px step with the working tree's kernel source (PLSTM_FUSED_GATE_SOURCE: the bundle's embedded copy is older).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-k64f; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for f in ${FPFS:-64 32 16 8}; do
  v=fpf$f
  { echo "#define FPF $f"; cat src/Plstm/Ops/TwoD/Kernels/fused_gate.cu; } > "$R/fused_gate_$v.cu"
  PLSTM_FUSED_GATE_SOURCE=$R/fused_gate_$v.cu timeout 90 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
    -k regex:plstm_fused_gate_forward bash .gpu/run.sh bench op --device cuda --forms kernel --grids ${GRID:-64} --bh 96 \
    --warmup 1 --iters 1 > "$R/ncu-$v.csv" 2>/dev/null
  python3 bench/gpu/ncu_sum.py --halve --top 2 "$v grid ${GRID:-64}=$R/ncu-$v.csv"
done
export PLSTM_FUSED_GATE_SOURCE=$PWD/src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
echo "=== selfcheck (working tree's kernel) ==="
timeout 300 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -4; echo "selfcheck exit ${PIPESTATUS[0]}"
part op 120 op --grids 14,32,48,64 --forms kernel,sdpa --bh 96 --warmup 2 --iters 5
part step-1024 120 step --presets plstm_vit_t,vit_t --sizes 1024 --batch-sizes 8@1024 --warmup 2 --iters 5
cp "$R"/*.md "$R"/selfcheck.txt "$OUT/" 2>/dev/null; true
