#!/usr/bin/env bash
# Twenty-seventh session (2026-12-02), sixth call: the committed activation kernels — the forward back to one thread per
# item (staged it measured 14 → 15.5 µs per 224-px layer in call-session28-activation.sh), the backward staged per tile of
# cells (37 → 20 µs). Selfcheck of the activation and the layer, Nsight Compute durations of both kernels in a 224-px
# step. Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session28-activation-final.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 120 --parts activation,layer
timeout 60 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:gate_activation \
  bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$R/ncu.csv" 2>/dev/null
echo "ncu exit $?"; python3 bench/gpu/ncu_sum.py plstm_vit_t="$R/ncu.csv" | tee "$R/durations.txt"
collect "$R/durations.txt"
