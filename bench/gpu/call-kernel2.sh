#!/usr/bin/env bash
# One device call (2026-11-30, issue 6): the kernel after its first optimisation (warps start at their sources' first
# scan line; eight warp sums in nine shuffles): selfcheck, operator and training steps, kernel vs row scan vs sdpa/ViT.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
echo "=== selfcheck ==="
timeout 240 bash .gpu/run.sh selfcheck 2>&1 | tee "$R/selfcheck.txt" | grep -vE "^ok " | tail -20; echo "selfcheck exit ${PIPESTATUS[0]}"
part op-kernel 60 op --grids 12,14,16,24,32 --forms kernel,rowscan,sdpa --warmup 2 --iters 5
part step-224 80 step --presets plstm_vit_t,vit_t --sizes 224 --form kernel --warmup 2 --iters 5
part step-512 60 step --presets plstm_vit_t,vit_t --sizes 512 --form kernel --warmup 1 --iters 3
for g in 14 32; do echo "== kernels at grid $g"; ncu --csv --metrics gpu__time_duration.sum --target-processes all bash .gpu/run.sh bench op --device cuda --forms kernel --grids $g --warmup 0 --iters 1 2>/dev/null | grep -E '^"[0-9]' | awk -F'","' '{u=$(NF-1); v=$NF; gsub(/"|,/,"",v); f=(u=="nsecond"||u=="ns")?0.001:(u=="msecond"||u=="ms")?1000:1; printf "%s\t%f\t%s\n", $5, v*f, u}' | awk -F'\t' '{n=$1; sub(/\(.*/,"",n); d[n]+=$2; c[n]++; t+=$2; u=$3} END {for (k in d) printf "%10.1f  %3d  %s\n", d[k], c[k], substr(k,1,70); printf "%10.1f total (unit %s)\n", t, u}' | sort -rn | head -8; done
(cd "$R" && tar czf "$OUT/results.tgz" .)
