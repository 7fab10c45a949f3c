#!/usr/bin/env bash
# Fourth device call of the twenty-sixth session (2026-12-02): the committed defaults after call-session26-kernels.sh
# (SMEM_GATES forward up to 384 cells, SMEM_PAIRS forward above, SMEM_GATES_BWD up to 384 cells): the whole
# `plstm selfcheck`, Nsight Compute kernel durations at 14², 24², 32² (to compare with that call's base/pairs/small),
# and the gate alone.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 300
files=""
for g in 14 24 32; do
  timeout 80 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:plstm_fused_gate \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids $g --warmup 1 --iters 2 > "$R/ncu-$g.csv" 2>/dev/null
  echo "ncu $g exit $?"; files="$files committed$g=$R/ncu-$g.csv"
done
python3 bench/gpu/ncu_sum.py $files > "$R/durations.txt"; cat "$R/durations.txt"
part op-committed 60 op --forms walk --grids 12,14,16,24,32 --warmup 5 --iters 30
collect "$R/durations.txt"
