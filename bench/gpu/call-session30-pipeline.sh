#!/usr/bin/env bash
# Prepared in the twenty-eighth session (2026-12-02), for the next: the fused masked attention backward with its Q and dY
# tiles double-buffered by cp.async (PLSTM_MASKED_ATTENTION_PIPELINE=1; off by default until measured). Selfcheck of the
# attention with the switch on, Nsight Compute durations at 14² and 32² with it off and on, then 224-px and 512-px
# steps alternating with the two-kernel backward (PLSTM_MASKED_ATTENTION_BACKWARD=split). Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session30-pipeline.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
PLSTM_MASKED_ATTENTION_PIPELINE=1 selfcheck 120 --parts attention,layer
for grid in 14 32; do for pipeline in 0 1; do
  PLSTM_MASKED_ATTENTION_PIPELINE=$pipeline timeout 60 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
    -k regex:masked_attention bash .gpu/run.sh bench op --device cuda --forms masked --grids $grid --warmup 1 --iters 1 > "$R/ncu.csv" 2>/dev/null
  python3 bench/gpu/ncu_sum.py --halve "pipeline$pipeline-$grid"="$R/ncu.csv" | tee -a "$R/durations.txt"
done; done
# The fused backward against the two kernels with the walk's adjoint beside the key kernel (the twenty-eighth session
# compared them in steps on different machines only), and the pipelined form, alternating on one machine.
for round in 1 2; do
  PLSTM_MASKED_ATTENTION_BACKWARD=split part "step-split-$round" 60 step --presets plstm_vit_t --sizes 224,512 --warmup 5 --iters 20
  for pipeline in 0 1; do
    PLSTM_MASKED_ATTENTION_PIPELINE=$pipeline part "step-pipeline$pipeline-$round" 60 step --presets plstm_vit_t --sizes 224,512 --warmup 5 --iters 20
  done
done
part step-vit 60 step --presets vit_t --sizes 224,512 --warmup 5 --iters 20
collect "$R/durations.txt"
