#!/usr/bin/env bash
# One device call (2026-11-30): the issue-6 measurement matrix with the row-scan form as committed (Auto picks it for
# scalar gates up to 32² on CUDA): operator fwd+bwd at B·H = 384, DK = DV = 64 (with and without recomputation in
# backward), and training steps of pLSTM-ViT-T vs ViT-T at 192…1024 px. Rows that may run out of memory run in their
# own process. All reports are packed into $OUT/results.tgz.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
part op-small 50 op --grids 12,14,16,24 --forms rowscan,chunkwise,sdpa --warmup 2 --iters 5
part op-small-recompute 40 op --grids 14,24 --forms rowscan,chunkwise --recompute --warmup 2 --iters 5
part op-32 40 op --grids 32 --forms rowscan,sdpa --warmup 1 --iters 3
part op-32-recompute 30 op --grids 32 --forms rowscan --recompute --warmup 1 --iters 3
part op-64-sdpa 20 op --grids 64 --forms sdpa --warmup 1 --iters 3
part op-64-chunkwise-recompute 40 op --grids 64 --forms chunkwise --recompute --warmup 0 --iters 1
part step-plstm 100 step --presets plstm_vit_t --sizes 192,224,384 --warmup 2 --iters 5
part step-vit 60 step --presets vit_t --sizes 192,224,384,512,1024 --warmup 2 --iters 5
part step-plstm-512 40 step --presets plstm_vit_t --sizes 512 --warmup 1 --iters 3
part step-plstm-512-recompute 40 step --presets plstm_vit_t --sizes 512 --recompute --warmup 1 --iters 3
part step-plstm-1024-b2 60 step --presets plstm_vit_t --sizes 1024 --batch-sizes 2 --warmup 1 --iters 3
part step-bf16 60 step --presets plstm_vit_t,vit_t --sizes 224 --dtype bfloat16 --warmup 2 --iters 5
(cd "$R" && tar czf "$OUT/results.tgz" .)
ls -la "$OUT"
