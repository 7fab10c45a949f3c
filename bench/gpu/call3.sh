#!/usr/bin/env bash
# One device call (2026-11-29): the most important rows of the GPU bench suite (bench/gpu-suite.sh order), then the
# Fashion-MNIST full run alone on the GPU. Results: $OUT/{step-main,op-main}.{md,json}, $OUT/fmnist.tgz.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
timeout 120 bash .gpu/run.sh bench op --device cuda --forms sdpa --grids 2 --bh 3 --dk 8 --warmup 0 --iters 1 | tail -2
part() { local name=$1 cap=$2; shift 2; echo "=== $name ==="
  timeout --kill-after=5 $((cap + 20)) bash .gpu/run.sh bench "$@" --device cuda --max-seconds "$cap" \
    --out "$OUT/$name.md" --json "$OUT/$name.json"; echo "$name exit $?"; }
part step-main ${STEP_CAP:-150} step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 2 --iters 5
part op-main ${OP_CAP:-100} op --grids 14,32,64 --dtype float32 --forms hierarchical,chunkwise,sdpa
mkdir -p /tmp/fm && for f in .gpu-data/*.xz; do xz -dc "$f" > /tmp/fm/$(basename "$f" .xz); done
R=/tmp/fmr; timeout ${FM_CAP:-330} bash .gpu/run.sh train fashion-mnist --device cuda --data-dir /tmp/fm --no-plot \
  --batch-size 512 --steps 1290 --warmup 107 --eval-every 430 --lr 3e-3 --checkpoint-every 100000 --log-every 100 \
  --out "$R/fmnist-b512-e12" > /tmp/fm.log 2>&1; echo "fmnist exit $?"
tail -n 12 /tmp/fm.log; cp /tmp/fm.log "$R/"
(cd "$R" && tar czf "$OUT/fmnist.tgz" --exclude='*tfevents*' .)
ls -la "$OUT"
