#!/usr/bin/env bash
# One device call (2026-12-01, twenty-fifth session): the operator's kernel form (WalkedGateAttention) with the walk's
# adjoint beside the masked attention's key kernel, as the layer has it since eff5d00: selfcheck (attention part, now
# with operator cases that run the masked attention kernels, DK = DV = 8; layer part), then the operator fwd + bwd
# (B·H 384, DK = DV 64) with P- and D-mode gates at 14², 24², 32², PLSTM_OVERLAP=off and on alternating, and sdpa.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 200 --parts attention,layer
opb() { local name=$1; shift; echo "=== $name ==="
  timeout 120 bash .gpu/run.sh bench op --device cuda "$@" --out "$R/$name.md" 2>&1 | grep -E "^\| [a-z0-9]"; }
for round in 1 2; do
  for mode in p d; do
    PLSTM_OVERLAP=off opb "off-$mode-$round" --forms kernel --mode $mode --grids 14,24,32 --warmup 3 --iters 20
    opb "on-$mode-$round" --forms kernel --mode $mode --grids 14,24,32 --warmup 3 --iters 20
  done
done
opb sdpa --forms sdpa --grids 14,24,32 --warmup 3 --iters 20
collect
