#!/bin/bash
# Device call (2026-12-01, fourteenth session): the README's main job (`train ape-small`, 2,400 steps, both models side
# by side) on the GPU machine's 16-core host CPU (--device cpu): how long does a user with a workstation wait, and do
# the side-by-side model processes use more cores well (8 libtorch threads each)? Same results expected as on any CPU
# up to float32 rounding (another thread count, another trajectory).
# Bundle: ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj; run: OUT=$OUT bash bench/gpu/call-ape-cpu16.sh
set -u
OUT=${OUT:-/tmp/out}; . bench/gpu/common.sh
unpack
echo "cores $(nproc); $(lscpu | grep 'Model name' | sed 's/  */ /g')"
rm -rf /tmp/r/ape-cpu16
start=$(date +%s)
timeout ${LIMIT:-560} bash .gpu/run.sh train ape-small --device cpu --no-plot --out /tmp/r/ape-cpu16 > "$OUT/ape-cpu16.log" 2>&1
echo "exit $? after $(( $(date +%s) - start )) s"
grep -E "^\| (plstm|vit)|total time|began" "$OUT/ape-cpu16.log" || tail -4 "$OUT/ape-cpu16.log"
