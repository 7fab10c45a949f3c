#!/usr/bin/env bash
# Thirty-sixth session (2026-12-02), fifth call: the walk's forward one orientation at a time (lines of more than 32
# cells: 48², 64²) writes 𝒢 about once too (orientation 1 writes the lines before a warp's first source line without
# reading them). Selfcheck of the walk; Nsight Compute durations of the forward kernel at 48² (B·H 384) and 64² (B·H 96)
# against the kernel before (bench/gpu/kernels/fused_gate_before_s36b.cu, git-ignored: `git show
# 3058cca:src/Plstm/Ops/TwoD/Kernels/fused_gate.cu`). Trimmed to fit the session's last device minutes: results are
# copied to $OUT as they come.
# Not run: the session's device time ran out (the change is kept as bench/gpu/kernels/session36-forward-large.patch,
# compile-checked with bench/gpu/nvrtc_check.py and mirrored in C#). To run it: `git apply
# bench/gpu/kernels/session36-forward-large.patch`, bundle, then run(command="OUT=$OUT bash
# bench/gpu/call-session36-forward-large.sh", carry=[".gpu", "bench/gpu/kernels/fused_gate_before_s36b.cu"]); or run
# bench/gpu/call-walk-next.sh, which measures the patch as a source variant without a rebuild.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
use() { if [ "$1" = new ]; then unset PLSTM_FUSED_GATE_SOURCE; else export PLSTM_FUSED_GATE_SOURCE=$PWD/bench/gpu/kernels/fused_gate_before_s36b.cu; fi; }
use new; selfcheck 120 --parts walk; cp "$R/selfcheck.txt" "$OUT/"
files=""
for g in 48 64; do bh=384; [ $g = 64 ] && bh=96; for v in old new; do use $v
  timeout 60 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:plstm_fused_gate_forward \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids $g --bh $bh --warmup 1 --iters 1 > "$R/ncu-$v-$g.csv" 2>/dev/null
  echo "ncu $v $g exit $?"; files="$files $v$g=$R/ncu-$v-$g.csv"; cp "$R/ncu-$v-$g.csv" "$OUT/"
done; done
use new
python3 bench/gpu/ncu_sum.py --halve $files > "$R/durations.txt"; cat "$R/durations.txt"
collect "$R/durations.txt"
