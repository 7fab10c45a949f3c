#!/usr/bin/env bash
# One device call (2026-11-29, third session): Fashion-MNIST with augmentation (random crop, horizontal flip,
# label smoothing; the fashion-mnist preset's defaults since cf53741), three variants side by side on one H200,
# 30 epochs of 512 each (3,210 steps). Model selection by validation accuracy, test accuracy reported.
# Needs .gpu-data/*.xz (the four IDX files of dataset-fashion-mnist, xz-compressed) carried with the bundle.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/fmr; mkdir -p "$R"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
bash .gpu/run.sh --version >/dev/null 2>&1
mkdir -p /tmp/fm && for f in .gpu-data/*.xz; do xz -dc "$f" > /tmp/fm/$(basename "$f" .xz); done
T=${CAP:-540}
fm() { local name=$1; shift; timeout $T bash .gpu/run.sh train fashion-mnist --device cuda --data-dir /tmp/fm --no-plot \
    --batch-size 512 --steps 3210 --warmup 107 --eval-every 535 --lr 3e-3 --checkpoint-every 100000 --log-every 107 \
    --out "$R/$name" "$@" > "$R/$name.log" 2>&1; echo "$name exit $?" >> "$R/exits.txt"; }
fm fm-crop2-ls01 --random-crop 2 --hflip 0.5 --label-smoothing 0.1 &
fm fm-crop2-ls0 --random-crop 2 --hflip 0.5 --label-smoothing 0 &
fm fm-crop4-ls01 --random-crop 4 --hflip 0.5 --label-smoothing 0.1 &
sleep 60; tail -n 2 "$R"/*.log
wait
cd "$R" && tar czf "$OUT/fmnist.tgz" --exclude='*.ckpt' --exclude='*tfevents*' . ; ls -la "$OUT"
cat "$R/exits.txt"; for f in "$R"/*.log; do echo "== $f"; tail -n 14 "$f"; done
