#!/usr/bin/env bash
# One device call (2026-12-01, seventeenth session), the committed build after call-kernel-park-final.sh showed that an
# explicit __launch_bounds__ minimum of one block lets NVRTC take 255 registers (grids up to 32 lines now compile as
# before): selfcheck and the operator at issue 6's grids.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-parkf2; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
timeout 200 bash .gpu/run.sh selfcheck 2>&1 | grep -E "FAIL|kernels:|cases agree"
part op 60 op --grids 14,24,32,48 --forms kernel,sdpa --warmup 3 --iters 10
part op64 40 op --grids 64 --bh 192 --forms kernel,sdpa --warmup 1 --iters 3
(cd "$R" && tar czf "$OUT/results.tgz" .)
