#!/usr/bin/env bash
# One device call (2026-12-01, twentieth session): the closed form with its forward from per-orientation W, X, U tables
# (one block per target): selfcheck, the gate alone (walk with P-mode-like gates, walk and closed form with D-mode
# gates) at 14²-32², and the training step with the closed form off and on (224 and 512 px).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-sp2; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
selfcheck 300
part gate 90 op --grids 14,24,32 --forms walk,walk-d,single-path --warmup 3 --iters 20
PLSTM_SINGLE_PATH=off part off 120 step --presets plstm_vit_t --sizes 224,512 --warmup 3 --iters 10
part on 120 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10
collect
