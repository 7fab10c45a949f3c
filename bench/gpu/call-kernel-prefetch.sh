#!/usr/bin/env bash
# One device call (2026-12-01, fifteenth session): the gate kernels with the forward's batched reads and the adjoint
# walk's chunked loads (committed source; the variants compared before: call-kernel-variants.sh): selfcheck, the
# operator fwd+bwd at B·H = 384, DK = DV = 64 against sdpa, Nsight Compute's kernel times, then training steps of
# pLSTM-ViT-T and ViT-T at 224 and 512 px, two rounds with the models alternating, 10 timed steps per row.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
unset PLSTM_FUSED_GATE_SOURCE
echo "=== selfcheck ==="
timeout 240 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -5; echo "selfcheck exit ${PIPESTATUS[0]}"
part op 90 op --grids 12,14,16,24,32 --forms kernel,sdpa --warmup 3 --iters 10
for grid in 32 14; do
  timeout 120 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
    bash .gpu/run.sh bench op --device cuda --forms kernel --grids $grid --warmup 1 --iters 1 > "$R/ncu-$grid.csv" 2>/dev/null
done
python3 bench/gpu/ncu_sum.py --halve --top 12 "grid 32=$R/ncu-32.csv" "grid 14=$R/ncu-14.csv" | tee "$R/ncu-summary.txt"
for round in a b; do
  part step-plstm-$round 90 step --presets plstm_vit_t --sizes 224,512 --warmup 3 --iters 10
  part step-vit-$round 60 step --presets vit_t --sizes 224,512 --warmup 3 --iters 10
done
(cd "$R" && tar czf "$OUT/results.tgz" .)
