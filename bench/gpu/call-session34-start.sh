#!/usr/bin/env bash
# Prepared in the thirty-second session (2026-12-02) for the next one's first call (about 4 minutes). That session moved
# the 2D layer's projection into the kernel form's function (ProjectedGateAttention.AttendProjected: the bias gradient
# as a matrix-vector product), measured 512 px 92.54 -> 92.13 ms, but 224 px only in noisy hosts. So:
# 1. `plstm selfcheck --parts layer`;
# 2. Nsight Compute of one 224-px pLSTM-ViT-T step (the projection's 62-us column sum should be gone: look for the
#    reduce kernels after each layer's weight-gradient product);
# 3. five 224-px rounds of both models (the host columns say which rounds were quiet).
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session34-start.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 200 --parts layer
timeout 150 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
  bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$R/plstm_vit_t.csv" 2> "$R/plstm_vit_t.err"
echo "ncu exit $?"
python3 bench/gpu/ncu_sum.py --halve --top 300 plstm_vit_t="$R/plstm_vit_t.csv" > "$OUT/summary.txt"; head -3 "$OUT/summary.txt"
for round in 1 2 3 4 5; do
  part "step-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
collect
(cd "$R" && tar czf "$OUT/profile.tgz" *.csv *.err)
