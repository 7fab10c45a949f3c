#!/usr/bin/env bash
# Last device call of the twenty-sixth session (2026-12-02), on the committed build (shared-memory gates per grid):
# 1. Nsight Compute kernel durations at 14² of the committed walk against SEG 1 and SEG 2 (the backward recomputing its
#    forward walk per one or two lines instead of storing it whole: measured −6 % at 14² before the backward read its
#    gates from shared memory, which makes the recomputation cheaper);
# 2. training steps of pLSTM-ViT-T and ViT-T at 224 and 512 px, three rounds, for the README's table.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
SRC=src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
for s in 1 2; do { echo "#define SEG $s"; cat $SRC; } > /tmp/v-seg$s.cu; done
use() { if [ "$1" = base ]; then unset PLSTM_FUSED_GATE_SOURCE; else export PLSTM_FUSED_GATE_SOURCE=/tmp/v-$1.cu; fi; }
files=""
for v in base seg1 seg2; do
  use $v
  timeout 80 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:plstm_fused_gate \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids 14 --warmup 1 --iters 2 > "$R/ncu-$v.csv" 2>/dev/null
  echo "ncu $v exit $?"; files="$files $v=$R/ncu-$v.csv"
done
use base
python3 bench/gpu/ncu_sum.py $files > "$R/durations.txt"; cat "$R/durations.txt"
for round in 1 2 3; do part "step-$round" 100 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 5 --iters 20; done
collect "$R/durations.txt"
