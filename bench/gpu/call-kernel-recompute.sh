#!/usr/bin/env bash
# One device call (2026-12-01, fifteenth session): the kernel form with recomputeInBackward (RecomputedGateAttention:
# no cells²-sized tensor kept for backward) against the default that stores Q Kᵀ, the gate and their product — operator
# fwd+bwd at 14² and 32² (B·H 384) and pLSTM-ViT-T steps at 224 and 512 px, time and Δ device memory; selfcheck first.
# Ran on a working tree with RecomputedGateAttention wired to the kernel form's --recompute; that code was not kept
# (results and reasons: bench/results/gpu-h200-kernel-direct-2026-12-01.md), so on main --recompute does not change the
# kernel form and this script measures nothing new.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 200 bash .gpu/run.sh selfcheck 2>&1 | tail -1
part op-store 40 op --grids 14,32 --forms kernel --warmup 2 --iters 5
part op-recompute 40 op --grids 14,32 --forms kernel --warmup 2 --iters 5 --recompute
part step-store 50 step --presets plstm_vit_t --sizes 224,512 --warmup 3 --iters 8
part step-recompute 50 step --presets plstm_vit_t --sizes 224,512 --warmup 3 --iters 8 --recompute
(cd "$R" && tar czf "$OUT/results.tgz" .)
