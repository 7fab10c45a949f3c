#!/usr/bin/env bash
# Twenty-eighth session (2026-12-02), last call: the committed build (fused masked attention backward, query tiles of 16
# up to 400 tokens). Selfcheck of the attention (both backward forms, both tiles), the operator and the layer; Nsight
# Compute durations of the fused backward at 24² with tiles 16 and 32; steps of both presets at 192–512 px (three
# rounds at 224 px); the P- and D-mode operators at 14²–32². Bundle first, then
# run(command="OUT=$OUT bash bench/gpu/call-session29-final.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 120 --parts attention,layer
for tile in 16 32; do
  PLSTM_MASKED_ATTENTION_TILES=64,$tile timeout 60 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
    -k regex:masked_attention bash .gpu/run.sh bench op --device cuda --forms masked --grids 24 --warmup 1 --iters 1 > "$R/ncu.csv" 2>/dev/null
  python3 bench/gpu/ncu_sum.py --halve "tile$tile-24"="$R/ncu.csv" | tee -a "$R/durations.txt"
done
part step 170 step --presets plstm_vit_t,vit_t --sizes 192,224,384,512 --warmup 5 --iters 20
for round in 2 3; do part "step224-$round" 50 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 20; done
part op-p 50 op --forms kernel,sdpa --mode p --grids 14,24,32 --warmup 3 --iters 10
part op-d 40 op --forms kernel --mode d --grids 14,24,32 --warmup 3 --iters 10
collect "$R/durations.txt"
