#!/usr/bin/env bash
# Prepared in the twenty-fifth session for the next (not yet run): two shared-memory variants of the P-mode gate walk,
# as source variants (PLSTM_FUSED_GATE_SOURCE) of the committed kernel, after the forward's SMEM_GATES (whole entry's
# gates in shared memory up to 256 cells: forward kernel at 14² 129 → 91 µs):
#   bwd    SMEM_GATES_BWD 1: the backward's walks read the orientation's gates from a shared-memory copy;
#   pairs  SMEM_PAIRS 1: the paired forward copies only the walked pair's transitions and marks (12 · cells values, up to
#          1,024 cells in float32), sources read at the source's own cell — what would take the copy to 24² and 32²;
#   both   the two together.
# Per-kernel durations (Nsight Compute) at 14², 24², 32², the gate alone fwd + bwd at 12²-32², steps at 224 and 512 px,
# then selfcheck (walk, layer) of the variant that wins. Bundle first (bash ../shared/tools/gpu/bundle.sh
# src/Plstm.Cli/Plstm.Cli.csproj), then two calls (each under the 10-minute limit):
#   run(command="PHASE=kernels OUT=$OUT bash bench/gpu/call-session26-smem-gates-bwd.sh", carry=[".gpu"])
#   run(command="PHASE=steps WIN=… OUT=$OUT bash bench/gpu/call-session26-smem-gates-bwd.sh", carry=[".gpu"])
# WIN=bwd|pairs|both picks the variant of the steps and the selfcheck (default both).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
SRC=src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
{ echo "#define SMEM_GATES_BWD 1"; cat $SRC; } > /tmp/v-bwd.cu
{ echo "#define SMEM_PAIRS 1"; cat $SRC; } > /tmp/v-pairs.cu
{ echo "#define SMEM_GATES_BWD 1"; echo "#define SMEM_PAIRS 1"; cat $SRC; } > /tmp/v-both.cu
use() { if [ "$1" = base ]; then unset PLSTM_FUSED_GATE_SOURCE; else export PLSTM_FUSED_GATE_SOURCE=/tmp/v-$1.cu; fi; }
PHASE=${PHASE:-kernels}
if [ "$PHASE" = kernels ]; then
files=""
for v in base bwd pairs both; do
  use $v
  for g in 14 24 32; do
    timeout 90 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:plstm_fused_gate \
      bash .gpu/run.sh bench op --device cuda --forms walk --grids $g --warmup 1 --iters 2 > "$R/ncu-$v-$g.csv" 2>/dev/null
    echo "ncu $v $g exit $?"; files="$files $v$g=$R/ncu-$v-$g.csv"
  done
  use base
done
python3 bench/gpu/ncu_sum.py $files | tee "$R/durations.txt"
for round in 1 2; do
  for v in base bwd pairs both; do use $v; part "op-$v-$round" 60 op --forms walk --grids 12,14,16,24,32 --warmup 5 --iters 30; done
  use base
done
fi
if [ "$PHASE" = steps ]; then
for round in 1 2; do
  for v in base ${WIN:-both}; do use $v; part "step-$v-$round" 120 step --presets plstm_vit_t --sizes 224,512 --warmup 5 --iters 20; done
  use base
done
use ${WIN:-both}; selfcheck 240 --parts walk,layer; use base
fi
collect $( [ -f "$R/durations.txt" ] && echo "$R/durations.txt" )
