#!/usr/bin/env bash
# One device call (2026-12-01, twenty-fifth session): the 2D layer's backward with the gate walk's adjoint on a side
# stream alongside the masked attention's key kernel (CudaDriver.Fork; PLSTM_OVERLAP=off runs them in order, as
# before): selfcheck of the layer twice (a race would show as a mismatch), then 224- and 512-px steps, on and off
# alternating, and ViT-T.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 200 --parts layer,attention,single-path
timeout 120 bash .gpu/run.sh selfcheck --parts layer > "$R/selfcheck2.txt" 2>&1; echo "selfcheck 2 exit $?"; grep -E "FAIL|cases agree" "$R/selfcheck2.txt"
step() { local name=$1; shift; echo "=== $name ==="
  timeout 150 bash .gpu/run.sh bench step --device cuda "$@" --out "$R/$name.md" 2>&1 | grep -E "^\| [a-z]"; }
for round in 1 2 3; do
  PLSTM_OVERLAP=off step "off$round" --presets plstm_vit_t --sizes 224,512 --warmup 5 --iters 20
  step "on$round" --presets plstm_vit_t --sizes 224,512 --warmup 5 --iters 20
done
step vit --presets vit_t --sizes 224,512 --warmup 5 --iters 20
collect
