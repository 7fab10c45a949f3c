#!/usr/bin/env bash
# Fifth device call of the twenty-sixth session (2026-12-02): SEG 1 (the backward recomputes its forward walk line by
# line instead of storing it whole) gained 8 % of the 14² backward kernel in call-session26-last.sh now that the backward
# reads its gates from shared memory; here 12² and 16² under Nsight Compute, and `plstm selfcheck --parts walk` of the
# variant with SEG 1 up to 16 lines.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
SRC=src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
{ printf '#if GX <= 16\n#define SEG 1\n#endif\n'; cat $SRC; } > /tmp/v-seg1.cu
use() { if [ "$1" = base ]; then unset PLSTM_FUSED_GATE_SOURCE; else export PLSTM_FUSED_GATE_SOURCE=/tmp/v-$1.cu; fi; }
files=""
for g in 12 16; do for v in base seg1; do
  use $v
  timeout 60 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:plstm_fused_gate \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids $g --warmup 1 --iters 2 > "$R/ncu-$v-$g.csv" 2>/dev/null
  echo "ncu $v $g exit $?"; files="$files $v$g=$R/ncu-$v-$g.csv"
done; done
use base
python3 bench/gpu/ncu_sum.py $files > "$R/durations.txt"; cat "$R/durations.txt"
use seg1; selfcheck 150 --parts walk; use base
collect "$R/durations.txt"
