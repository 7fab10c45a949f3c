#!/usr/bin/env bash
# Twenty-seventh session (2026-12-02), fifth call: the gate activation kernels with the pre-activation rows staged in
# shared memory per tile of cells (gate_activation.cu; before: one thread per item reading and writing its rows
# directly, 14 µs forward / 37 µs backward per 224-px layer in call-session28-profile.sh). Selfcheck of the activation and
# the layer, Nsight Compute durations of the activation kernels in a 224-px step, then steps against ViT-T.
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session28-activation.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 150 --parts activation,layer
timeout 60 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:gate_activation \
  bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$R/ncu.csv" 2>/dev/null
echo "ncu exit $?"; python3 bench/gpu/ncu_sum.py plstm_vit_t="$R/ncu.csv" | tee "$R/durations.txt"
for round in 1 2; do part "step224-$round" 45 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 20; done
part step512 45 step --presets plstm_vit_t --sizes 512 --warmup 5 --iters 20
collect "$R/durations.txt"
