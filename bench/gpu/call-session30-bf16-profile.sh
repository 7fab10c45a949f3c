#!/usr/bin/env bash
# Twenty-ninth session (2026-12-02): where the pure-bfloat16 pLSTM-ViT-T step at 512 px spends its GPU time (Nsight
# Compute, every kernel of a warm-up and one timed step, summed by name and halved), with the half-precision layers on
# the float32 kernels and TF32 products (8214a5f and later).
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session30-bf16-profile.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 400 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
  bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 512 --dtype bfloat16 --warmup 1 --iters 1 > "$R/plstm.csv" 2> "$R/plstm.err"
echo "ncu exit $? ($(wc -l < "$R/plstm.csv") lines)"
python3 bench/gpu/ncu_sum.py --halve --top 45 plstm_vit_t_bf16_512="$R/plstm.csv" > "$R/summary.txt"; cat "$R/summary.txt"
cp "$R/summary.txt" "$OUT/summary.txt"
