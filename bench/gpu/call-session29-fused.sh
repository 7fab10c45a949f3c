#!/usr/bin/env bash
# Twenty-eighth session (2026-12-02), first call: the masked attention's backward as one kernel
# (plstm_masked_attention_backward_fused: S and dA once per tile pair, dQ added by L2 reductions) against the two kernels
# (PLSTM_MASKED_ATTENTION_BACKWARD=split). Selfcheck of the attention (both forms) and the layer, Nsight Compute durations
# of the masked attention kernels at 14² and 32², then the operator with both forms in alternating rounds.
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session29-fused.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 200 --parts attention,layer
for grid in 14 32; do for form in fused split; do
  PLSTM_MASKED_ATTENTION_BACKWARD=$form timeout 90 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
    -k regex:masked_attention bash .gpu/run.sh bench op --device cuda --forms masked --grids $grid --warmup 1 --iters 1 \
    > "$R/ncu-$form-$grid.csv" 2>/dev/null
  echo "ncu $form $grid exit $?"; python3 bench/gpu/ncu_sum.py --halve $form-$grid="$R/ncu-$form-$grid.csv" | tee "$R/durations-$form-$grid.txt"
done; done
for round in 1 2; do
  for form in split fused; do
    PLSTM_MASKED_ATTENTION_BACKWARD=$form part "op-$form-$round" 60 op --forms masked,kernel,sdpa --mode p --grids 14,32 --warmup 5 --iters 20
  done
done
collect "$R"/durations-*.txt
