#!/usr/bin/env bash
# Prepared in the twenty-sixth session (2026-12-02) for the next (not yet run): several targets per block of the D-mode
# closed form's forward kernel (single_path_gate.cu TARGETS, turned on by PLSTM_SINGLE_PATH_TARGETS=N at run time, no
# rebuild). At 14² its 75,264 one-target blocks run in 63 waves, 97 µs where its instructions need about a quarter.
# Checked so far by NVRTC compiles and the C# mirror (the same 𝒢 to the bit for 3 targets per block). One call (bundle
# first; then run(command="OUT=$OUT bash bench/gpu/call-session27-targets.sh", carry=[".gpu"])): selfcheck single-path
# with 4 targets per block, Nsight Compute durations of single_path_forward at 14² and 32² for 1 / 2 / 4 / 8, the D-mode
# gate alone and the 224-px step with the best.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
targets() { if [ "$1" = 1 ]; then unset PLSTM_SINGLE_PATH_TARGETS; else export PLSTM_SINGLE_PATH_TARGETS=$1; fi; }
targets 4; timeout 150 bash .gpu/run.sh selfcheck --parts single-path 2>&1 | grep -E "FAIL|cases agree|rror" | tee "$R/selfcheck.txt"
files=""
for g in 14 32; do for t in 1 2 4 8; do
  targets $t
  timeout 60 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:single_path_forward \
    bash .gpu/run.sh bench op --device cuda --forms single-path --grids $g --warmup 1 --iters 2 > "$R/ncu-$t-$g.csv" 2>/dev/null
  echo "ncu $t $g exit $?"; files="$files t$t-$g=$R/ncu-$t-$g.csv"
done; done
targets 1
python3 bench/gpu/ncu_sum.py $files > "$R/durations.txt"; cat "$R/durations.txt"
for t in 1 4 1 4; do targets $t; part "op-d-$t" 60 op --forms single-path,kernel --mode d --grids 12,14,24,32 --warmup 5 --iters 20; done
for t in 1 4; do targets $t; part "step-$t" 100 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 20; done
targets 1
collect "$R/durations.txt"
