#!/usr/bin/env bash
# Prepared in the thirty-sixth session (2026-12-02) for the next session's first device call; not yet run. Two changes
# of the P-mode gate walk written without device time, each as a source variant of the committed kernel:
#   large — bench/gpu/kernels/session36-forward-large.patch: the forward one orientation at a time (lines of more than 32
#           cells) writes 𝒢 about once, as the paired forward now does;
#   lean  — WALK2_LEAN 1: the backward's second walk recomputes only U and the adjoint reads L from the saved weights.
# Both are mirrored in C# and checked against autograd (FusedGateKernelTests) and compile clean (bench/gpu/nvrtc_check.py).
# Here: `plstm selfcheck --parts walk` with each; Nsight Compute durations of the forward at 48² (B·H 384) / 64² (B·H 96)
# without and with `large`, and of the backward at 14² / 24² / 32² without and with `lean`. Then the language model,
# unmeasured on a GPU since its 1D operator lost its per-chunk selects (6509a17; 5.9 steps/s before): lm_small for 300
# steps, and again with PLSTM_STACKED_ORTHOGONALISATION=on (U and V orthogonalised by one call).
# About 8 minutes of the 10 a call may take (split it if the selfchecks run long). Bundle first and copy
# ../shared/data/text/tinyshakespeare.txt into .gpu/, then
# run(command="OUT=$OUT bash bench/gpu/call-walk-next.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
gate_variant /tmp/v-large.cu bench/gpu/kernels/session36-forward-large.patch \
  && gate_variant /tmp/v-lean.cu - "WALK2_LEAN 1" || exit 1
for v in large lean; do use_gate $v; echo "== selfcheck $v"; selfcheck 150 --parts walk; cp "$R/selfcheck.txt" "$OUT/selfcheck-$v.txt"; done
files=""
ncu_run() { local v=$1 g=$2 bh=$3 k=$4; use_gate $v
  timeout 90 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:$k \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids $g --bh $bh --warmup 1 --iters 1 > "$R/ncu-$v-$g.csv" 2>/dev/null
  echo "ncu $v $g exit $?"; files="$files $v$g=$R/ncu-$v-$g.csv"; }
for g in 48 64; do bh=384; [ $g = 64 ] && bh=96; for v in base large; do ncu_run $v $g $bh plstm_fused_gate_forward; done; done
for g in 14 24 32; do for v in base lean; do ncu_run $v $g 384 plstm_fused_gate_backward; done; done
use_gate base
python3 bench/gpu/ncu_sum.py --halve $files > "$R/durations.txt"; cat "$R/durations.txt"
mkdir -p /tmp/r
for stacked in off on; do
  PLSTM_STACKED_ORTHOGONALISATION=$stacked timeout 150 bash .gpu/run.sh train lm --data .gpu/tinyshakespeare.txt \
    --preset lm_small --device cuda --steps 300 --eval-every 0 --log-every 50 --out /tmp/r/lm-$stacked > "$R/lm-$stacked.log" 2>&1
  echo "lm_small stacked=$stacked exit $?"; grep -E "done:|validation" "$R/lm-$stacked.log" | tail -2
done 2>&1 | tee "$R/lm.txt"
collect "$R/durations.txt" "$R/lm.txt"
