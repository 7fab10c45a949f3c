#!/usr/bin/env bash
# Thirtieth session (2026-12-02): the README's older rows measured again on the current build — training steps at 768
# and 1024 px, the operator at 12², 16², 48² and 64² (P-mode and D-mode gates, fused attention beside) — after a
# selfcheck of the attention and layer parts. Bundle first, then
# run(command="OUT=$OUT bash bench/gpu/call-session31-large.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 180 --parts attention,layer
part step-large 200 step --presets plstm_vit_t,vit_t --sizes 768,1024 --batch-sizes 16@768,8@1024 --warmup 3 --iters 10
part op-small-p 60 op --forms kernel,sdpa --mode p --grids 12,16 --warmup 3 --iters 10
part op-small-d 40 op --forms kernel --mode d --grids 12,16 --warmup 3 --iters 10
part op-large-p 150 op --forms kernel,sdpa --mode p --grids 48,64 --warmup 2 --iters 5
part op-large-d 120 op --forms kernel --mode d --grids 48,64 --warmup 2 --iters 5
collect
