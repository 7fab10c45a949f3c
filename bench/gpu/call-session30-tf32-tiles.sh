#!/usr/bin/env bash
# Twenty-ninth session (2026-12-02), last call: the masked attention kernels with TF32 products (half-precision layers,
# --tf32) hold fewer registers than with 3xTF32; do query tiles of 16 and four blocks per multiprocessor (both run-time
# switches: PLSTM_MASKED_ATTENTION_TILES, PLSTM_MASKED_ATTENTION_MIN_BLOCKS) suit them better at 32²? Nsight Compute of
# `bench op --forms masked` (B·H 384) per variant, then bfloat16 512-px steps with the default and the 16/4 variant.
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session30-tf32-tiles.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for v in "tf32-default::" "tf32-t16:64,16:" "tf32-t16mb4:64,16:4" "f32-t16mb4:64,16:4"; do
  name=${v%%:*}; rest=${v#*:}; tiles=${rest%%:*}; mb=${rest#*:}
  tf=--tf32; [ "${name%%-*}" = f32 ] && tf=
  env ${tiles:+PLSTM_MASKED_ATTENTION_TILES=$tiles} ${mb:+PLSTM_MASKED_ATTENTION_MIN_BLOCKS=$mb} timeout 60 \
    ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:masked_attention \
    bash .gpu/run.sh bench op --device cuda --forms masked --grids 32 $tf --warmup 1 --iters 1 > "$R/ncu-$name.csv" 2>/dev/null
  python3 bench/gpu/ncu_sum.py --halve "$name-32"="$R/ncu-$name.csv" | tee -a "$R/durations.txt"
done
part bf16-default 50 step --presets plstm_vit_t --sizes 512 --dtype bfloat16 --warmup 5 --iters 20
PLSTM_MASKED_ATTENTION_TILES=64,16 PLSTM_MASKED_ATTENTION_MIN_BLOCKS=4 part bf16-t16mb4 50 step --presets plstm_vit_t --sizes 512 --dtype bfloat16 --warmup 5 --iters 20
collect "$R/durations.txt"
