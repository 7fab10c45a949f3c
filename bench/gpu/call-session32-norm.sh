#!/usr/bin/env bash
# Thirty-first session (2026-12-02), fourth call (about 6 minutes): the blocks' RMS norm as one CUDA kernel each way
# (Ops/Common/ScaledRmsNormKernel; both models), after the third call found its backward returning the scale's gradient
# as a 0-dim tensor (sum(0) bound to sum(ScalarType)). Same bundle, PLSTM_RMS_NORM_KERNEL=off for the rows without it.
# 1. `plstm selfcheck --parts norm`; 2. 224 px three rounds and 512 px one round of: without / with the kernel, each
# pLSTM-ViT-T and ViT-T; 3. Nsight Compute of the 224-px pLSTM-ViT-T step with it.
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session32-norm.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
off() { export PLSTM_RMS_NORM_KERNEL=off; part "$@"; unset PLSTM_RMS_NORM_KERNEL; }
selfcheck 120 --parts norm
for round in 1 2 3; do
  off "off-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
  part "on-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
off off-512 60 step --presets plstm_vit_t,vit_t --sizes 512 --warmup 5 --iters 20
part on-512 60 step --presets plstm_vit_t,vit_t --sizes 512 --warmup 5 --iters 20
collect
timeout 150 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
  bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$R/plstm.csv" 2> "$R/plstm.err"
echo "ncu exit $?"
python3 bench/gpu/ncu_sum.py --halve --top 300 plstm_vit_t="$R/plstm.csv" > "$OUT/summary.txt"
head -3 "$OUT/summary.txt"
(cd "$R" && tar czf "$OUT/profile.tgz" plstm.csv plstm.err)
