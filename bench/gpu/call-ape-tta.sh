#!/bin/bash
# Device call (2026-11-30, tenth session): (1) how often does the ape-small pLSTM clear 0.95 with and without the
# eight-view averaging (--tta d4, which ape-small's test now reports beside the plain score)? Six more pLSTM seeds and
# two ViT seeds of the ape-small recipe in eight runs sharing one H200. (2) Then, alone on the GPU, training steps of
# plstm_vit_t vs vit_t at 224 and 512 px after the ninth session's layer change (one projection matmul per layer).
# Bundle: ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj; run: OUT=$OUT bash bench/gpu/call-ape-tta.sh
set -u
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
[ -d .gpu/stage ] || tar -C .gpu -xJf .gpu/bundle.tar.xz   # unpack once, before the parallel runs
t() { local name=$1; shift
  timeout ${LIMIT:-330} bash .gpu/run.sh train --data arrows --device cuda --no-plot --log-every 500 --out "/tmp/r/$name" "$@" \
    > "/tmp/r-$name.log" 2>&1; echo "$name exit $?"
  cat "/tmp/r/$name/results.md" >> "/tmp/r-$name.log" 2>/dev/null; }
mkdir -p /tmp/r
rm -rf /tmp/r-*.log /tmp/r/*   # a warm machine keeps the last call's runs
for seed in 46 47 48 49 50 51; do t p-seed$seed --preset plstm_vit_tiny --conv-stem 24 --seed $seed & done
for seed in 46 47; do t v-seed$seed --preset vit_tiny --conv-stem 24 --seed $seed & done
wait
grep -h "acc @64" -A3 /tmp/r-*.log | grep "^| " > "$OUT/tta-runs.md"
for f in /tmp/r-*.log; do echo "== $f"; tail -4 "$f"; done > "$OUT/tta-logs.txt"
timeout 200 bash .gpu/run.sh bench step --presets plstm_vit_t,vit_t --sizes 224,512 --device cuda --warmup 2 --iters 5 \
  --max-seconds 170 --out "$OUT/step.md" --json "$OUT/step.json" > "$OUT/step.log" 2>&1; echo "bench exit $?"
cat "$OUT/tta-runs.md" "$OUT/step.md"
