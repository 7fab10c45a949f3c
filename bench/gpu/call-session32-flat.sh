#!/usr/bin/env bash
# Thirty-first session (2026-12-02), third call (about 7 minutes). The changes: linear maps of [B, X, Y, D] grids as one
# matrix of rows (the bias in the product's epilogue instead of a separate pass; Dtypes.Linear), the q-column zero fill
# inside the per-head norm's backward kernel, D0 broadcast over the cells instead of copied (pLSTM only), and the blocks'
# RMS norm as one CUDA kernel each way (both models; PLSTM_RMS_NORM_KERNEL=off turns it off). Old build: b750ea8 (its
# Plstm.dll and Plstm.Cli.dll in .gpu/old/).
# 1. `plstm selfcheck --parts layer,norm`;
# 2. 224-px steps, three rounds of: old; new without the norm kernel (+ ViT-T); new (+ ViT-T); 512 px one round each;
# 3. Nsight Compute of the new build's 224-px step (every kernel, for the attribution).
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session32-flat.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
stage_old
off() { export PLSTM_RMS_NORM_KERNEL=off; part "$@"; unset PLSTM_RMS_NORM_KERNEL; }
selfcheck 200 --parts layer,norm
for round in 1 2 3; do
  part_old "old-224-$round" 60 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
  off "flat-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
  part "new-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
part_old old-512 60 step --presets plstm_vit_t --sizes 512 --warmup 5 --iters 20
off flat-512 60 step --presets plstm_vit_t,vit_t --sizes 512 --warmup 5 --iters 20
part new-512 60 step --presets plstm_vit_t,vit_t --sizes 512 --warmup 5 --iters 20
collect
timeout 150 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
  bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$R/plstm.csv" 2> "$R/plstm.err"
echo "ncu exit $?"
python3 bench/gpu/ncu_sum.py --halve --top 300 plstm_vit_t="$R/plstm.csv" > "$OUT/summary.txt"
head -3 "$OUT/summary.txt"
(cd "$R" && tar czf "$OUT/profile.tgz" plstm.csv plstm.err)
