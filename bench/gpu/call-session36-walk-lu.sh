#!/usr/bin/env bash
# Thirty-sixth session (2026-12-02), second call. The first (call-session36-walk-bwd.sh) found the P-mode walk's backward
# at 32² moving 33.7 GB through L2 in 7.3 ms: ≈ 19.5 GB of it local memory (L and U of each line and the saved line
# weights, missing L1) and ≈ 7.5 GB the gate gradients' L2 reductions (six sectors per warp and cell). Source variants
# of fused_gate.cu here: SHARED_LU (L and U in shared memory), REG_LU (L and U by constant index: registers),
# DG_CELL_MAJOR (a cell's gate gradients in one sector; timing only, its layout is not the host's).
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session36-walk-lu.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
# The variants' switches are in bench/gpu/kernels/session36-walk-variants.patch (not kept in the kernel), applied to a
# copy of the kernel it was measured on (6bd2c92's; to re-run on a later tree, put that version in BASE_SRC first:
# `git show 6bd2c92:src/Plstm/Ops/TwoD/Kernels/fused_gate.cu > /tmp/fused_gate_6bd2c92.cu` and carry it).
P=bench/gpu/kernels/session36-walk-variants.patch
gate_variant /tmp/v-shlu.cu $P "SHARED_LU 1" && gate_variant /tmp/v-reglu.cu $P "REG_LU 1" \
  && gate_variant /tmp/v-dgcm.cu $P "DG_CELL_MAJOR 1" && gate_variant /tmp/v-shdg.cu $P "SHARED_LU 1" "DG_CELL_MAJOR 1" \
  && gate_variant /tmp/v-regdg.cu $P "REG_LU 1" "DG_CELL_MAJOR 1" || exit 1
files=""
for g in 32 24 14; do for v in base shlu reglu dgcm shdg regdg; do use_gate $v
  timeout 60 ncu --csv --metrics gpu__time_duration.sum,launch__registers_per_thread,lts__t_bytes.sum --target-processes all -k regex:plstm_fused_gate_backward \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids $g --warmup 1 --iters 1 > "$R/ncu-$v-$g.csv" 2>"$R/ncu-$v-$g.err"
  echo "ncu $v $g exit $?"; grep -i -m2 "error" "$R/ncu-$v-$g.err"; files="$files $v$g=$R/ncu-$v-$g.csv"
  python3 bench/gpu/ncu_metrics.py "$R/ncu-$v-$g.csv" | grep -E "registers|lts__t_bytes|duration" | tr '\n' ' '; echo
done; done
use_gate base
python3 bench/gpu/ncu_sum.py --halve $files > "$R/durations.txt"; cat "$R/durations.txt"
collect "$R/durations.txt"
