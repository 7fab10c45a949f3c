#!/usr/bin/env bash
# One device call (2026-11-29, third session): Fashion-MNIST with the paper's "tiny" pLSTM-ViT-T (D 192, 6 P/D pairs)
# at patch 4 (7×7 grid), the augmented recipe (crop 2, flip 0.5, label smoothing 0.1), 9 epochs of 512, lr 1e-3.
# (The CPU-scale plstm_vit_tiny, 209 k parameters, fits only 0.894 of the augmented training set: it underfits.)
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/fmr; mkdir -p "$R"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
bash .gpu/run.sh --version >/dev/null 2>&1
mkdir -p /tmp/fm && for f in .gpu-data/*.xz; do xz -dc "$f" > /tmp/fm/$(basename "$f" .xz); done
timeout ${CAP:-520} bash .gpu/run.sh train --preset plstm_vit_t --data fashion-mnist --patch-size 4 --device cuda \
    --data-dir /tmp/fm --no-plot --batch-size 512 --steps 963 --warmup 107 --eval-every 321 --lr 1e-3 \
    --random-crop 2 --hflip 0.5 --label-smoothing 0.1 --checkpoint-every 100000 --log-every 50 \
    --out "$R/fm-t-e9" > "$R/fm-t-e9.log" 2>&1; echo "exit $?"
cd "$R" && tar czf "$OUT/fmnist-t.tgz" --exclude='*.ckpt' --exclude='*tfevents*' . ; tail -n 30 "$R/fm-t-e9.log"
