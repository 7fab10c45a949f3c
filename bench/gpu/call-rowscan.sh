#!/usr/bin/env bash
# One device call (2026-11-30): the row-scan 2D form (Plstm2DRowScan) against the chunkwise form and fused attention,
# operator fwd+bwd at B·H = 384, DK = DV = 64, and training steps of pLSTM-ViT-T (row-scan layers) vs ViT-T.
# Rows that may run out of memory run in their own process (TorchSharp 0.107 aborts the process on a CUDA OOM).
# Results: $OUT/*.md and *.json, one pair per part.
set -u
OUT=${OUT:-/tmp/out}; R=$OUT; mkdir -p "$OUT"
. bench/gpu/common.sh; probe
part op-small 60 op --grids 12,14,16,24 --forms rowscan,chunkwise,sdpa --warmup 2 --iters 5
part op-32 40 op --grids 32 --forms rowscan,sdpa --warmup 1 --iters 3
part step-rowscan 100 step --presets plstm_vit_t --sizes 192,224,384 --form rowscan --warmup 2 --iters 5
part step-vit 60 step --presets vit_t --sizes 192,224,384,512,1024 --warmup 2 --iters 5
part step-512 50 step --presets plstm_vit_t --sizes 512 --form rowscan --warmup 1 --iters 3
part step-1024 60 step --presets plstm_vit_t --sizes 1024 --warmup 1 --iters 3
part op-64 40 op --grids 64 --forms hierarchical --bh 384 --warmup 0 --iters 1
ls -la "$OUT"
