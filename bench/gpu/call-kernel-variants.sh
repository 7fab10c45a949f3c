#!/usr/bin/env bash
# Device calls (2026-12-01, fifteenth session): A/B of gate-kernel variants, loaded through PLSTM_FUSED_GATE_SOURCE (no
# rebuild): selfcheck against the row scan, the operator fwd+bwd (B·H 384, DK = DV 64) and Nsight Compute's per-kernel
# times. A variant NAME is bench/gpu/kernels/fused_gate_NAME.cu (v0: the kernels before the fifteenth session, written by
# bench/gpu/kernels/make-v0.sh and carried with the call), or pfK:
# the committed source with the adjoint walk's chunk PF set to K. Usage:
#   VARIANTS="v0 pf4 pf8" [NCU_GRIDS="32 14"] [GRIDS=12,14,32] [SKIP_CHECK=1] OUT=$OUT bash bench/gpu/call-kernel-variants.sh
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-kv; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for v in ${VARIANTS:-v0 pf4 pf8}; do
  case $v in
    pf*) { echo "#define PF ${v#pf}"; cat src/Plstm/Ops/TwoD/Kernels/fused_gate.cu; } > "$R/fused_gate_$v.cu"
         export PLSTM_FUSED_GATE_SOURCE=$R/fused_gate_$v.cu ;;
    *) export PLSTM_FUSED_GATE_SOURCE=$PWD/bench/gpu/kernels/fused_gate_$v.cu ;;
  esac
  echo "##### $v"
  if [ -z "${SKIP_CHECK:-}" ]; then
    timeout 200 bash .gpu/run.sh selfcheck 2>&1 | tail -2
    part op-$v 120 op --forms kernel,sdpa --grids ${GRIDS:-12,14,32} --warmup 3 --iters 10
  fi
  for grid in ${NCU_GRIDS:-32 14}; do
    timeout 120 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:plstm_fused_gate \
      bash .gpu/run.sh bench op --device cuda --forms kernel --grids $grid --warmup 1 --iters 1 > "$R/ncu-$v-$grid.csv" 2>/dev/null
    python3 bench/gpu/ncu_sum.py --halve --top 4 "$v grid $grid=$R/ncu-$v-$grid.csv"
  done
done
cp "$R"/*.md "$OUT/" 2>/dev/null; true
