#!/usr/bin/env bash
# One device call (2026-12-01, fifteenth session): the gate walks take D0 and the scale (the masked attention is the whole
# output; no per-cell direct term): selfcheck, the operator fwd+bwd at 14² and 32² (B·H 384, DK = DV 64) against sdpa,
# and training steps of pLSTM-ViT-T and ViT-T at 224 and 512 px, two rounds with the models alternating. Compare with
# the same rows of call-kernel-prefetch-ab.sh (kernels as here, direct term per cell).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
echo "=== selfcheck ==="
timeout 240 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -4; echo "selfcheck exit ${PIPESTATUS[0]}"
part op 60 op --grids 14,32 --forms kernel,sdpa --warmup 3 --iters 10
for round in a b; do
  part step-plstm-$round 60 step --presets plstm_vit_t --sizes 224,512 --warmup 3 --iters 10
  part step-vit-$round 40 step --presets vit_t --sizes 224,512 --warmup 3 --iters 10
done
(cd "$R" && tar czf "$OUT/results.tgz" .)
