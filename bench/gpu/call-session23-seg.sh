#!/usr/bin/env bash
# One device call (2026-12-01, twenty-third session): the P-mode gate backward at 14² is bound by the walk it stores in
# local memory (1.6 KiB per source thread, DRAM 40 % busy: gpu-h200-operator-14-profile-2026-12-01.md). Its segment
# length (SEG: the walk stored whole up to 16 lines) was measured before the backward's sums became L2 reductions; do
# shorter segments (less local memory, one more walk without stores) win now? Gate alone (P-mode gates, fwd + bwd,
# B·H 384) at 12², 14², 16² for SEG 1, 2, 4, 7 up to 16 lines (source variants), the build first and last.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-s23s; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
S=src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
for k in 1 2 4 7; do { echo "#define SEG (GX <= 16 ? $k : GX <= 32 ? 1 : 4)"; cat $S; } > /tmp/v-seg$k.cu; done
probe
part build 40 op --grids 12,14,16 --forms walk --warmup 3 --iters 20
for k in 1 2 4 7; do PLSTM_FUSED_GATE_SOURCE=/tmp/v-seg$k.cu part seg$k 40 op --grids 12,14,16 --forms walk --warmup 3 --iters 20; done
part build-2 40 op --grids 12,14,16 --forms walk --warmup 3 --iters 20
collect
