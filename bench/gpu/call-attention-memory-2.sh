#!/usr/bin/env bash
# One device call (2026-12-01, sixteenth session): WalkedGateAttention after BackwardResults (the gradients a custom
# backward returns are released by the thread's next backward call instead of by a garbage collection: on CUDA they
# had no dispose scope). Selfcheck, operator (storing) and pLSTM-ViT-T steps storing and recomputing, time and Δ device.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
echo "=== selfcheck ==="
timeout 200 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -3
part op-store 60 op --grids 14,32 --forms kernel --warmup 2 --iters 5
part op64-store 40 op --grids 64 --forms kernel --bh 192 --warmup 1 --iters 3
part step-store 150 step --presets plstm_vit_t --sizes 224,512,1024 --batch-sizes 128@224,32@512,8@1024 --warmup 2 --iters 5
part step-recompute 150 step --presets plstm_vit_t --sizes 224,512,1024 --batch-sizes 128@224,32@512,8@1024 --warmup 2 --iters 5 --recompute
(cd "$R" && tar czf "$OUT/results.tgz" .)
