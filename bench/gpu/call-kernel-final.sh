#!/usr/bin/env bash
# One device call (2026-11-30, issue 6): the CUDA kernel form as committed (Auto picks it on CUDA): selfcheck, then the
# issue-6 matrix within one call — operator fwd+bwd at B·H = 384, DK = DV = 64 (kernel, row scan, sdpa) and training
# steps of pLSTM-ViT-T and ViT-T at 192…512 px, each step row twice (alternating models: this step is noisy).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
echo "=== selfcheck ==="
timeout 240 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -20; echo "selfcheck exit ${PIPESTATUS[0]}"
part op 80 op --grids 12,14,16,24,32 --forms kernel,rowscan,sdpa --warmup 2 --iters 5
part op-64 40 op --grids 64 --forms sdpa --warmup 1 --iters 3
for round in a b; do
  part steps-plstm-$round 90 step --presets plstm_vit_t --sizes 192,224,384 --warmup 2 --iters 5
  part steps-vit-$round 60 step --presets vit_t --sizes 192,224,384,512 --warmup 2 --iters 5
  part step-plstm-512-$round 40 step --presets plstm_vit_t --sizes 512 --warmup 1 --iters 3
done
part step-rowscan-224 40 step --presets plstm_vit_t --sizes 224 --form rowscan --warmup 2 --iters 5
part step-bf16 60 step --presets plstm_vit_t,vit_t --sizes 224 --dtype bfloat16 --warmup 2 --iters 5
(cd "$R" && tar czf "$OUT/results.tgz" .)
