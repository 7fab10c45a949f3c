#!/usr/bin/env bash
# One device call: Fashion-MNIST with plstm_vit_mini (D 128, H 4, 2 P/D pairs, patch 4, 817 k parameters), the
# augmented recipe (crop 2, flip 0.5, label smoothing 0.1), batches of 512, lr 2e-3. STEPS/EVAL_EVERY choose the length:
# the default is the 34-epoch run of 2026-11-30 (3,638 steps, 0.9065 test); the 16-epoch run of 2026-11-29 was
# STEPS=1712 EVAL_EVERY=428 CAP=340. Results: $OUT/fmnist-mini-e<epochs>.tgz.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/fmr; mkdir -p "$R"
STEPS=${STEPS:-3638}; EVAL_EVERY=${EVAL_EVERY:-535}; NAME=fm-mini-e$((STEPS / 107))
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
bash .gpu/run.sh --version >/dev/null 2>&1
mkdir -p /tmp/fm && for f in .gpu-data/*.xz; do xz -dc "$f" > /tmp/fm/$(basename "$f" .xz); done
timeout ${CAP:-560} bash .gpu/run.sh train --preset plstm_vit_mini --data fashion-mnist --device cuda \
    --data-dir /tmp/fm --no-plot --batch-size 512 --steps "$STEPS" --warmup 107 --eval-every "$EVAL_EVERY" --lr 2e-3 \
    --random-crop 2 --hflip 0.5 --label-smoothing 0.1 --checkpoint-every 100000 --log-every 50 \
    --out "$R/$NAME" > "$R/$NAME.log" 2>&1; echo "exit $?"
cd "$R" && tar czf "$OUT/fmnist-mini-e$((STEPS / 107)).tgz" --exclude='*.ckpt' --exclude='*tfevents*' . ; tail -n 30 "$R/$NAME.log"
