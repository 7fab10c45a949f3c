#!/usr/bin/env bash
# Twenty-seventh session (2026-12-02), third call: where the pLSTM-ViT-T training step at 224 px spends its GPU time at
# this session's build (Nsight Compute, every kernel of a warm-up and one timed step, summed by name), to set against
# ViT-T's profile of bench/results/gpu-h200-step-profile-2026-11-30.md (ViT-T has not changed since).
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session28-profile.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 330 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
  bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$R/plstm.csv" 2> "$R/plstm.err"
echo "ncu exit $? ($(wc -l < "$R/plstm.csv") lines)"
python3 bench/gpu/ncu_sum.py plstm_vit_t="$R/plstm.csv" > "$R/summary.txt"; head -70 "$R/summary.txt"
cp "$R/summary.txt" "$OUT/summary.txt"
