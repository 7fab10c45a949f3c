#!/usr/bin/env bash
# One device call (2026-12-01, sixteenth session), the committed build: selfcheck; the operator fwd+bwd at the issue's
# grids (B·H 384 up to 48², 192 at 64², where 384 does not fit) against sdpa; training steps of pLSTM-ViT-T and ViT-T
# at 224, 512, 768 and 1024 px (Auto: the CUDA kernel form on every one of these grids now).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
echo "=== selfcheck ==="
timeout 300 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -4; echo "selfcheck exit ${PIPESTATUS[0]}"
part op-384 120 op --grids 12,14,24,32,48 --forms kernel,sdpa --warmup 2 --iters 5
part op-192 60 op --grids 64 --forms kernel,sdpa --bh 192 --warmup 1 --iters 3
part step-plstm 150 step --presets plstm_vit_t --sizes 224,512,768,1024 --batch-sizes 128@224,32@512,16@768,8@1024 --warmup 2 --iters 5
part step-vit 100 step --presets vit_t --sizes 224,512,768,1024 --batch-sizes 128@224,32@512,16@768,8@1024 --warmup 2 --iters 5
(cd "$R" && tar czf "$OUT/results.tgz" .)
