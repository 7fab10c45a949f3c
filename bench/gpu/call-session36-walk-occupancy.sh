#!/usr/bin/env bash
# Thirty-sixth session (2026-12-02), third call. The second (call-session36-walk-lu.sh) showed that less L2 traffic alone
# does not speed the P-mode walk's backward up (L and U in shared memory: 34 → 22.7 GB, 7.35 → 7.79 ms at 32²); only
# DG_CELL_MAJOR gained (−3 to −5 % at 14²–32²). Its stalls are latency with few warps (96 registers: 5 blocks of 128 per
# multiprocessor). Here: BWD_MIN_BLOCKS 6 / 8 (fewer registers, more warps), with and without DG_CELL_MAJOR.
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session36-walk-occupancy.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
# The variants' switches are in bench/gpu/kernels/session36-walk-variants.patch (not kept in the kernel), applied to a
# copy of the kernel it was measured on (6bd2c92's; to re-run on a later tree, put that version in BASE_SRC first:
# `git show 6bd2c92:src/Plstm/Ops/TwoD/Kernels/fused_gate.cu > /tmp/fused_gate_6bd2c92.cu` and carry it).
P=bench/gpu/kernels/session36-walk-variants.patch
gate_variant /tmp/v-mb6.cu $P "BWD_MIN_BLOCKS 6" && gate_variant /tmp/v-mb8.cu $P "BWD_MIN_BLOCKS 8" \
  && gate_variant /tmp/v-dgcm.cu $P "DG_CELL_MAJOR 1" && gate_variant /tmp/v-dgmb6.cu $P "DG_CELL_MAJOR 1" "BWD_MIN_BLOCKS 6" \
  && gate_variant /tmp/v-dgmb8.cu $P "DG_CELL_MAJOR 1" "BWD_MIN_BLOCKS 8" || exit 1
files=""
for g in 32 24 14; do for v in base mb6 mb8 dgcm dgmb6 dgmb8; do use_gate $v
  timeout 60 ncu --csv --metrics gpu__time_duration.sum,launch__registers_per_thread --target-processes all -k regex:plstm_fused_gate_backward \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids $g --warmup 1 --iters 1 > "$R/ncu-$v-$g.csv" 2>"$R/ncu-$v-$g.err"
  echo "ncu $v $g exit $?"; grep -i -m2 "error" "$R/ncu-$v-$g.err"; files="$files $v$g=$R/ncu-$v-$g.csv"
  python3 bench/gpu/ncu_metrics.py "$R/ncu-$v-$g.csv" | grep -m1 registers
done; done
use_gate base
python3 bench/gpu/ncu_sum.py --halve $files > "$R/durations.txt"; cat "$R/durations.txt"
collect "$R/durations.txt"
