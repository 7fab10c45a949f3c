#!/usr/bin/env bash
# One device call (2026-11-30): is the row-scan operator bound by kernel launches or by work? The same 14² operator at
# B·H = 24 … 1536 (time constant in B·H = launch-bound), and a training step at 224 px at batch 16 … 128.
set -u
OUT=${OUT:-/tmp/out}; R=$OUT; mkdir -p "$OUT"
. bench/gpu/common.sh; probe
for bh in 24 96 384 1536; do part op-bh$bh 30 op --grids 14 --bh $bh --forms rowscan,chunkwise,sdpa --warmup 3 --iters 10; done
part step-224 90 step --presets plstm_vit_t --sizes 224 --batch-sizes 16@224 --form rowscan --warmup 2 --iters 5
part step-224b 90 step --presets plstm_vit_t,vit_t --sizes 224 --batch-sizes 128@224 --form rowscan --warmup 2 --iters 5
