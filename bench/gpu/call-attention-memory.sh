#!/usr/bin/env bash
# Device calls (2026-12-01, sixteenth session): the kernel form's walk and masked attention as one function,
# WalkedGateAttention (keeps S = Q Kᵀ and the gate for backward; with --recompute nothing cells²-sized). Selfcheck, the
# operator and pLSTM-ViT-T steps, time and Δ device memory, storing and recomputing. (A first call measured an earlier
# version with a separate attention function, whose returned gate gradient TorchSharp kept alive until the step's end.)
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
echo "=== selfcheck ==="
timeout 200 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -3
part op-store 60 op --grids 14,32 --forms kernel --warmup 2 --iters 5
part op-recompute 60 op --grids 14,32 --forms kernel --warmup 2 --iters 5 --recompute
part op64-store 40 op --grids 64 --forms kernel --bh 192 --warmup 1 --iters 3
part op64-recompute 60 op --grids 64 --forms kernel --bh 384 --warmup 1 --iters 3 --recompute
part step-store 150 step --presets plstm_vit_t --sizes 224,512,1024 --batch-sizes 128@224,32@512,8@1024 --warmup 2 --iters 5
part step-recompute 150 step --presets plstm_vit_t --sizes 224,512,1024 --batch-sizes 128@224,32@512,8@1024 --warmup 2 --iters 5 --recompute
part step-recompute-b32 60 step --presets plstm_vit_t --sizes 1024 --batch-sizes 32@1024 --warmup 1 --iters 3 --recompute
(cd "$R" && tar czf "$OUT/results.tgz" .)
