#!/usr/bin/env bash
# One device call (2026-11-30, issue 6): the runtime-compiled CUDA kernel of the fused 2D gate (Plstm2DForm.Kernel).
# First `plstm selfcheck` (kernel == row-scan form, output and 12 gradients, float64 and float32, 13 grids × 4 wirings),
# then, within the same call so that the ratios compare on one machine: operator fwd+bwd (B·H = 384, DK = DV = 64) with
# the kernel, the row scan and sdpa; training steps of pLSTM-ViT-T with the kernel and with the row scan, and ViT-T.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
echo "=== selfcheck ==="
timeout 240 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -40; echo "selfcheck exit ${PIPESTATUS[0]}"
grep -c "^ok " "$R/selfcheck.txt"
part op-kernel 60 op --grids 12,14,16,24,32 --forms kernel,rowscan,sdpa --warmup 2 --iters 5
part step-224 80 step --presets plstm_vit_t --sizes 224 --form kernel --warmup 2 --iters 5
part step-224-rowscan 80 step --presets plstm_vit_t --sizes 224 --warmup 2 --iters 5
part step-vit 60 step --presets vit_t --sizes 224,512 --warmup 2 --iters 5
part step-512 60 step --presets plstm_vit_t --sizes 512 --form kernel --warmup 1 --iters 3
part step-512-rowscan 60 step --presets plstm_vit_t --sizes 512 --warmup 1 --iters 3
(cd "$R" && tar czf "$OUT/results.tgz" .)
ls -la "$OUT"
