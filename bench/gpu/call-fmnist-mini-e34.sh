#!/usr/bin/env bash
# One device call (2026-11-30): Fashion-MNIST with plstm_vit_mini (D 128, H 4, 2 P/D pairs, patch 4, 817 k parameters),
# the augmented recipe (crop 2, flip 0.5, label smoothing 0.1), 34 epochs of 512 (3,638 steps), lr 2e-3.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/fmr; mkdir -p "$R"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
bash .gpu/run.sh --version >/dev/null 2>&1
mkdir -p /tmp/fm && for f in .gpu-data/*.xz; do xz -dc "$f" > /tmp/fm/$(basename "$f" .xz); done
timeout ${CAP:-560} bash .gpu/run.sh train --preset plstm_vit_mini --data fashion-mnist --device cuda \
    --data-dir /tmp/fm --no-plot --batch-size 512 --steps 3638 --warmup 107 --eval-every 535 --lr 2e-3 \
    --random-crop 2 --hflip 0.5 --label-smoothing 0.1 --checkpoint-every 100000 --log-every 50 \
    --out "$R/fm-mini-e34" > "$R/fm-mini-e34.log" 2>&1; echo "exit $?"
cd "$R" && tar czf "$OUT/fmnist-mini-e34.tgz" --exclude='*.ckpt' --exclude='*tfevents*' . ; tail -n 30 "$R/fm-mini-e34.log"
