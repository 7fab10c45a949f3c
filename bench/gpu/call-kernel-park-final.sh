#!/usr/bin/env bash
# One device call (2026-12-01, seventeenth session), the committed build with the parked adjoint weights beyond 32
# lines: selfcheck, the operator against sdpa at issue 6's grids, and the 768 / 1024 px training steps against ViT-T.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-parkf; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 200 bash .gpu/run.sh selfcheck 2>&1 | grep -E "FAIL|kernels:|cases agree"
part op 60 op --grids 14,24,32,48 --forms kernel,sdpa --warmup 3 --iters 10
part op64 40 op --grids 64 --bh 192 --forms kernel,sdpa --warmup 1 --iters 3
part step 150 step --presets plstm_vit_t,vit_t --sizes 768,1024 --warmup 2 --iters 5
(cd "$R" && tar czf "$OUT/results.tgz" .)
