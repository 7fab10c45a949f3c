#!/usr/bin/env bash
# Third device call of the twenty-sixth session (2026-12-02): the gate alone and the steps could not separate the
# variants at 14² (host noise), so Nsight Compute kernel durations of the committed walk (SMEM_GATES) vs
#   pairs    SMEM_PAIRS 1;
#   small    SMEM_PAIRS 1 and SMEM_GATES_BWD 1 only up to 256 cells;
# at 14², 24² and 32², then `plstm selfcheck --parts walk,layer` of "small" (which carries both switches where they act).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
SRC=src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
{ echo "#define SMEM_PAIRS 1"; cat $SRC; } > /tmp/v-pairs.cu
{ echo "#define SMEM_PAIRS 1"; printf '#if GX * GY <= 256\n#define SMEM_GATES_BWD 1\n#endif\n'; cat $SRC; } > /tmp/v-small.cu
use() { if [ "$1" = base ]; then unset PLSTM_FUSED_GATE_SOURCE; else export PLSTM_FUSED_GATE_SOURCE=/tmp/v-$1.cu; fi; }
files=""
for g in 14 24 32; do
  for v in base pairs small; do
    use $v
    timeout 80 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:plstm_fused_gate \
      bash .gpu/run.sh bench op --device cuda --forms walk --grids $g --warmup 1 --iters 2 > "$R/ncu-$v-$g.csv" 2>/dev/null
    echo "ncu $v $g exit $?"; files="$files $v$g=$R/ncu-$v-$g.csv"
  done
done
use base
python3 bench/gpu/ncu_sum.py $files > "$R/durations.txt"; cat "$R/durations.txt"
use small; selfcheck 200 --parts walk,layer; use base
collect "$R/durations.txt"
