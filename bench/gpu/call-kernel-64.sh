#!/usr/bin/env bash
# One device call (2026-12-01, sixteenth session): the CUDA gate kernel extended from 1,024 cells to 64 × 64 (lines of
# at most 64 cells above 1,024; the backward's sums in opted-in dynamic shared memory, 256-thread blocks there).
# selfcheck (now with 40 × 50, 65 × 63 and 64² against the row scan), the operator fwd+bwd at 24²…64² (kernel and
# sdpa; B·H 96 and 384 where it fits), and training steps at 768 and 1024 px (pLSTM-ViT-T with the kernel form, which
# Auto now picks there, against ViT-T).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
echo "=== selfcheck ==="
timeout 500 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -6; echo "selfcheck exit ${PIPESTATUS[0]}"
grep -E " (40x50|65x63|64x64) " "$R/selfcheck.txt" | head -24
part op-bh96 120 op --grids 24,32,48,64 --forms kernel,sdpa --bh 96 --warmup 2 --iters 5
part op-bh384-48 60 op --grids 48 --forms kernel,sdpa --bh 384 --warmup 1 --iters 3
part op-bh192-64 60 op --grids 64 --forms kernel,sdpa --bh 192 --warmup 1 --iters 3
part step-768 90 step --presets plstm_vit_t,vit_t --sizes 768 --batch-sizes 16@768 --warmup 2 --iters 5
part step-1024 120 step --presets plstm_vit_t,vit_t --sizes 1024 --batch-sizes 8@1024 --warmup 2 --iters 5
part op-bh384-64 60 op --grids 64 --forms kernel --bh 384 --warmup 1 --iters 3
(cd "$R" && tar czf "$OUT/results.tgz" .)
