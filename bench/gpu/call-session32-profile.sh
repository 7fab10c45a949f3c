#!/usr/bin/env bash
# Thirty-first session (2026-12-02), second call (about 4 minutes): every kernel of one 224-px pLSTM-ViT-T training step on
# the current build (Nsight Compute durations, serialised; warm-up 1 + timed 1, halved), summed by name, all names —
# the per-layer small kernels (zero fills, the direct gate's operations, parameter-only operations) counted exactly, to
# pick what to fuse for the last ≈ 0.5 ms at 224 px. ViT-T's list is unchanged since the twelfth session's profile.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 300 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
  bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$R/plstm.csv" 2> "$R/plstm.err"
echo "ncu exit $? ($(wc -l < "$R/plstm.csv") lines)"
python3 bench/gpu/ncu_sum.py --halve --top 300 plstm_vit_t="$R/plstm.csv" > "$OUT/summary.txt"
head -5 "$OUT/summary.txt"
(cd "$R" && tar czf "$OUT/profile.tgz" plstm.csv plstm.err)
