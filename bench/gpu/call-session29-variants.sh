#!/usr/bin/env bash
# Twenty-eighth session (2026-12-02), second call: forms of the fused masked attention backward (PLSTM_MASKED_ATTENTION_FUSED
# = staged dS buffers, 16-byte dQ reductions) and the backward tile (PLSTM_MASKED_ATTENTION_TILES) against the two
# kernels: Nsight Compute durations of the masked attention kernels at 14² and 32², selfcheck of the attention with the
# last variant, then 224-px steps. Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session29-variants.sh",
# carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
measure() { local label=$1 grid=$2; shift 2
  env "$@" timeout 90 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:masked_attention \
    bash .gpu/run.sh bench op --device cuda --forms masked --grids $grid --warmup 1 --iters 1 > "$R/ncu.csv" 2>/dev/null
  python3 bench/gpu/ncu_sum.py --halve "$label-$grid"="$R/ncu.csv" | tee -a "$R/durations.txt"; }
for grid in 14 32; do
  measure split $grid PLSTM_MASKED_ATTENTION_BACKWARD=split
  measure fused-1-0 $grid PLSTM_MASKED_ATTENTION_FUSED=1,0
  measure fused-2-0 $grid PLSTM_MASKED_ATTENTION_FUSED=2,0
  measure fused-1-1 $grid PLSTM_MASKED_ATTENTION_FUSED=1,1
  measure fused-2-1 $grid PLSTM_MASKED_ATTENTION_FUSED=2,1
  measure split-t64 $grid PLSTM_MASKED_ATTENTION_BACKWARD=split PLSTM_MASKED_ATTENTION_TILES=64,64
  measure fused-2-1-t64 $grid PLSTM_MASKED_ATTENTION_FUSED=2,1 PLSTM_MASKED_ATTENTION_TILES=64,64
done
PLSTM_MASKED_ATTENTION_FUSED=2,1 selfcheck 120 --parts attention
for round in 1 2; do
  PLSTM_MASKED_ATTENTION_BACKWARD=split part "step-split-$round" 45 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 20
  PLSTM_MASKED_ATTENTION_FUSED=2,1 part "step-fused-$round" 45 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 20
done
part step-vit 45 step --presets vit_t --sizes 224 --warmup 5 --iters 20
collect "$R/durations.txt"
