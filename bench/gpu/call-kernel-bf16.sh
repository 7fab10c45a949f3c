#!/usr/bin/env bash
# One device call (2026-11-30, issue 6): bfloat16 through the CUDA kernel form (half-precision gates walked in float32,
# the gate rounded back), against the row scan and ViT-T in the same call; selfcheck again (float32/float64).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
echo "=== selfcheck ==="
timeout 240 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -5
part op-bf16 40 op --grids 14,32 --forms kernel,rowscan,sdpa --dtype bfloat16 --warmup 2 --iters 5
part step-bf16 60 step --presets plstm_vit_t,vit_t --sizes 224 --dtype bfloat16 --warmup 2 --iters 5
part step-bf16-rowscan 40 step --presets plstm_vit_t --sizes 224 --dtype bfloat16 --form rowscan --warmup 2 --iters 5
part step-bf16-512 60 step --presets plstm_vit_t,vit_t --sizes 512 --dtype bfloat16 --warmup 1 --iters 3
(cd "$R" && tar czf "$OUT/results.tgz" .)
