#!/usr/bin/env bash
# First device call of the twenty-sixth session (2026-12-02): the whole `plstm selfcheck` of the committed build (the
# read-through refactors d7e7a23/df99574, the overlapped backward and SMEM_GATES together had only been checked part by
# part), then one round of the gate alone for the shared-memory variants of call-session26-smem-gates-bwd.sh.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 330
SRC=src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
{ echo "#define SMEM_GATES_BWD 1"; cat $SRC; } > /tmp/v-bwd.cu
{ echo "#define SMEM_PAIRS 1"; cat $SRC; } > /tmp/v-pairs.cu
{ echo "#define SMEM_GATES_BWD 1"; echo "#define SMEM_PAIRS 1"; cat $SRC; } > /tmp/v-both.cu
use() { if [ "$1" = base ]; then unset PLSTM_FUSED_GATE_SOURCE; else export PLSTM_FUSED_GATE_SOURCE=/tmp/v-$1.cu; fi; }
for v in base bwd pairs both; do use $v; part "op-$v-1" 50 op --forms walk --grids 12,14,24,32 --warmup 5 --iters 30; done
use base
collect
