#!/usr/bin/env bash
# One device call (2026-12-01, eighteenth session): the 2D layer's gate activations as one CUDA kernel each way
# (GateActivation). `plstm selfcheck` (the gate walk's cases and the new gate activation cases), then training steps
# with the host's issue times: both presets at 224 and 512 px twice, and at 224 px with batch 8 (host-bound).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-ga; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 300 bash .gpu/run.sh selfcheck > "$R/selfcheck.txt" 2>&1; echo "selfcheck exit $?"
grep -E "registers|cases agree|FAIL" "$R/selfcheck.txt" | head -20
part a 150 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10
part b 150 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10
part small 90 step --presets plstm_vit_t,vit_t --sizes 224 --batch-sizes 8 --warmup 5 --iters 20
cp "$R"/* "$OUT"/
