#!/usr/bin/env bash
# Thirty-sixth session (2026-12-02), fourth call: the P-mode walk's forward writes 𝒢 about once (the x-reversed pair
# writes the lines before a warp's first source line without reading them, instead of the x-forward pair zeroing them
# and the x-reversed one reading and adding). Selfcheck of the walk, Nsight Compute durations of the forward kernel at
# 14² / 24² / 32² against the kernel before (bench/gpu/kernels/fused_gate_before_s36.cu, git-ignored: made by
# `git show 002b6b2:src/Plstm/Ops/TwoD/Kernels/fused_gate.cu`), and the P-mode operator fwd + bwd, alternating.
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session36-forward-lines.sh",
# carry=[".gpu", "bench/gpu/kernels/fused_gate_before_s36.cu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
use() { if [ "$1" = new ]; then unset PLSTM_FUSED_GATE_SOURCE; else export PLSTM_FUSED_GATE_SOURCE=$PWD/bench/gpu/kernels/fused_gate_before_s36.cu; fi; }
use new; selfcheck 170 --parts walk
files=""
for g in 32 24 14; do for v in old new; do use $v
  timeout 60 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:plstm_fused_gate \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids $g --warmup 1 --iters 1 > "$R/ncu-$v-$g.csv" 2>/dev/null
  echo "ncu $v $g exit $?"; files="$files $v$g=$R/ncu-$v-$g.csv"
done; done
use new
python3 bench/gpu/ncu_sum.py --halve $files > "$R/durations.txt"; cat "$R/durations.txt"
for round in 1 2; do for v in old new; do use $v
  part "op-$v-$round" 45 op --forms kernel --mode p --grids 14,24,32 --warmup 3 --iters 10
done; done
use new
collect "$R/durations.txt"
