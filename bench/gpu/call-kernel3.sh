#!/usr/bin/env bash
# One device call (2026-11-30, issue 6): the kernel's backward with the orientations on a third grid axis (four times
# the warps in flight) and warps without sources skipping the walks: selfcheck, operator, training steps, kernel times.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
echo "=== selfcheck ==="
timeout 240 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -20; echo "selfcheck exit ${PIPESTATUS[0]}"
part op-kernel 60 op --grids 12,14,16,24,32 --forms kernel,sdpa --warmup 2 --iters 5
part step-224 80 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 2 --iters 5
part step-512 60 step --presets plstm_vit_t,vit_t --sizes 512 --warmup 1 --iters 3
for g in 14 32; do echo "== kernels at grid $g"; ncu --csv --metrics gpu__time_duration.sum --target-processes all bash .gpu/run.sh bench op --device cuda --forms kernel --grids $g --warmup 0 --iters 1 2>/dev/null | grep -E '^"[0-9]' | awk -F'","' '{u=$(NF-1); v=$NF; gsub(/"|,/,"",v); f=(u=="nsecond"||u=="ns")?0.001:(u=="msecond"||u=="ms")?1000:1; printf "%s\t%f\n", $5, v*f}' | awk -F'\t' '{n=$1; sub(/\(.*/,"",n); d[n]+=$2; c[n]++; t+=$2} END {for (k in d) printf "%10.1f us %3d  %s\n", d[k], c[k], substr(k,1,70); printf "%10.1f us total\n", t}' | sort -rn | head -8; done
(cd "$R" && tar czf "$OUT/results.tgz" .)
