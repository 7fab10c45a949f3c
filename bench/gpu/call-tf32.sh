#!/usr/bin/env bash
# One device call (2026-11-30, thirteenth session): selfcheck after the kernels' shared data-pointer helper
# (Interop/TensorData), then training steps of pLSTM-ViT-T and ViT-T at 224 and 512 px with and without `--tf32`
# (cuBLAS TF32 tensor cores for float32 matrix products, both models alike), alternating models, two rounds; and the
# operator (kernel form vs sdpa) at 14² and 32² with TF32. Issue 6: how much of the step gap is float32 GEMM time.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
echo "=== selfcheck ==="
timeout 240 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -8; echo "selfcheck exit ${PIPESTATUS[0]}"
for round in a b; do
  for tf in "" "--tf32"; do
    tag=${tf:+-tf32}
    part step-plstm$tag-$round 60 step --presets plstm_vit_t --sizes 224,512 --warmup 2 --iters 5 $tf
    part step-vit$tag-$round 40 step --presets vit_t --sizes 224,512 --warmup 2 --iters 5 $tf
  done
done
part op-tf32 60 op --grids 14,32 --forms kernel,sdpa --warmup 2 --iters 5 --tf32
(cd "$R" && tar czf "$OUT/results.tgz" .)
