#!/usr/bin/env bash
# Second device call of the twenty-sixth session (2026-12-02), after call-session26-start.sh's gate-alone round
# (SMEM_GATES_BWD: 14² −1 %, 32² +5 %; SMEM_PAIRS: −2 to −6 %; both: 14² −12 %, 32² +3 %): steps at 224 and 512 px,
# alternating the committed kernel with
#   pairs    SMEM_PAIRS 1;
#   small    SMEM_PAIRS 1 and SMEM_GATES_BWD 1 only up to 256 cells (where the 32² backward lost);
# and a second round of the gate alone for the three.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
SRC=src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
{ echo "#define SMEM_PAIRS 1"; cat $SRC; } > /tmp/v-pairs.cu
{ echo "#define SMEM_PAIRS 1"; printf '#if GX * GY <= 256\n#define SMEM_GATES_BWD 1\n#endif\n'; cat $SRC; } > /tmp/v-small.cu
use() { if [ "$1" = base ]; then unset PLSTM_FUSED_GATE_SOURCE; else export PLSTM_FUSED_GATE_SOURCE=/tmp/v-$1.cu; fi; }
for round in 1 2; do
  for v in base pairs small; do use $v; part "step-$v-$round" 110 step --presets plstm_vit_t --sizes 224,512 --warmup 5 --iters 20; done
  use base
done
for v in base pairs small; do use $v; part "op-$v-2" 50 op --forms walk --grids 12,14,24,32 --warmup 5 --iters 30; done
use base
collect
