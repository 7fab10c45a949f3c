#!/usr/bin/env bash
# One device call (2026-11-30): peak memory of pLSTM-ViT-T training steps with and without recomputation of the
# path sums in backward (row-scan at 384 and 512 px; chunkwise with recomputation at 1024 px, batch 8). Each row in
# its own process (a CUDA OOM aborts the process in TorchSharp 0.107). Reports packed into $OUT/results.tgz.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
part step-384 40 step --presets plstm_vit_t --sizes 384 --warmup 1 --iters 3
part step-384-recompute 40 step --presets plstm_vit_t --sizes 384 --recompute --warmup 1 --iters 3
part step-512 40 step --presets plstm_vit_t --sizes 512 --warmup 1 --iters 3
part step-512-recompute 40 step --presets plstm_vit_t --sizes 512 --recompute --warmup 1 --iters 3
part step-1024-chunkwise-recompute 60 step --presets plstm_vit_t --sizes 1024 --form chunkwise --recompute --warmup 1 --iters 2
(cd "$R" && tar czf "$OUT/results.tgz" .)
