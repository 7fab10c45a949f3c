#!/usr/bin/env bash
# Prepared for a later session (not yet run): where the kernel-form operator's time goes after the masked attention
# kernels — the whole operator (kernel), the masked attention alone (masked) and fused attention (sdpa) at the vision
# grids, kernels on and off; then Nsight Compute's per-kernel durations of one 224-px pLSTM-ViT-T step (which kernels
# the remaining gap to ViT-T is made of: the gate walk's forward and backward, the attention kernels, the rest).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-breakdown; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
part op-on 90 op --grids 14,24,32 --forms kernel,masked,sdpa --warmup 2 --iters 10
PLSTM_MASKED_ATTENTION=off part op-off 90 op --grids 14,24,32 --forms kernel,masked --warmup 2 --iters 10
timeout 240 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
  bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$R/plstm.csv" 2> "$R/plstm.err"
echo "ncu exit $?"
python3 bench/gpu/ncu_sum.py --halve --top 30 plstm_vit_t="$R/plstm.csv" | tee "$R/summary.txt"
for f in "$R"/*.md "$R/summary.txt"; do echo "=== $(basename "$f")"; cat "$f"; done > "$OUT/all.md"
