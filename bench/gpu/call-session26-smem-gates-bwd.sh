#!/usr/bin/env bash
# Prepared in the twenty-fifth session for the next (not yet run): the P-mode walk's backward reading the orientation's
# gates from a copy in shared memory (fused_gate.cu SMEM_GATES_BWD, off by default) — as the forward does since the
# twenty-fifth session (SMEM_GATES: forward kernel at 14² 129 → 91 µs) — as a source variant (PLSTM_FUSED_GATE_SOURCE)
# of the committed kernel: the backward kernel's duration (Nsight Compute) at 14² and 32², the gate alone fwd + bwd at
# 12²-32², steps at 224 and 512 px with and without, then selfcheck of the walk with the variant.
# Bundle first (bash ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj), then
# run(command="OUT=$OUT bash bench/gpu/call-session26-smem-gates-bwd.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
{ echo "#define SMEM_GATES_BWD 1"; cat src/Plstm/Ops/TwoD/Kernels/fused_gate.cu; } > /tmp/v-bwd.cu
for v in base bwd; do
  for g in 14 32; do
    [ $v = bwd ] && export PLSTM_FUSED_GATE_SOURCE=/tmp/v-bwd.cu
    timeout 90 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:plstm_fused_gate_backward \
      bash .gpu/run.sh bench op --device cuda --forms walk --grids $g --warmup 1 --iters 2 > "$R/ncu-$v-$g.csv" 2>/dev/null
    echo "ncu $v $g exit $?"; unset PLSTM_FUSED_GATE_SOURCE
  done
done
python3 bench/gpu/ncu_sum.py base14="$R/ncu-base-14.csv" bwd14="$R/ncu-bwd-14.csv" base32="$R/ncu-base-32.csv" \
  bwd32="$R/ncu-bwd-32.csv" | tee "$R/durations.txt"
for round in 1 2; do
  part "base-$round" 60 op --forms walk --grids 12,14,16,24,32 --warmup 5 --iters 30
  PLSTM_FUSED_GATE_SOURCE=/tmp/v-bwd.cu part "bwd-$round" 60 op --forms walk --grids 12,14,16,24,32 --warmup 5 --iters 30
done
for round in 1 2; do
  part "step-base-$round" 120 step --presets plstm_vit_t --sizes 224,512 --warmup 5 --iters 20
  PLSTM_FUSED_GATE_SOURCE=/tmp/v-bwd.cu part "step-bwd-$round" 120 step --presets plstm_vit_t --sizes 224,512 --warmup 5 --iters 20
done
PLSTM_FUSED_GATE_SOURCE=/tmp/v-bwd.cu selfcheck 200 --parts walk,layer
collect "$R/durations.txt"
