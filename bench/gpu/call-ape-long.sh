#!/usr/bin/env bash
# One device call (2026-11-30): do the ape-small models leave chance with many more steps than the CPU budget gives?
# pLSTM-ViT tiny and ViT tiny side by side on the ape-small data (64 px, objects scaled by 3, patch 8), batch 64,
# lr 1e-3, up to 20,000 steps (1.28 M images, ≈ 13 passes over the 100,000 training images; the CPU recipe runs 1,200),
# validation on 512 images every 1,000 steps. Stopped by the call's time limit; the curves are in metrics.jsonl.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/r; mkdir -p "$R"
bash .gpu/run.sh --version >/dev/null 2>&1
ape() { local name=$1; shift; timeout ${LIMIT:-470} bash .gpu/run.sh train --data arrows --scale 3 --device cuda \
    --batch-size 64 --steps 20000 --warmup 500 --lr 1e-3 --eval-every 1000 --eval-count 512 --checkpoint-every 100000 \
    --log-every 500 --no-plot --out "$R/$name" "$@" > "$R/$name.log" 2>&1; echo "$name exit $?" >> "$R/exits.txt"; }
ape ape-plstm --preset plstm_vit_tiny &
ape ape-vit --preset vit_tiny &
wait
cd "$R" && tar czf "$OUT/ape-long.tgz" --exclude='*.ckpt' --exclude='*tfevents*' . ; cat "$R/exits.txt"
grep -h '"split":"val"' "$R"/*/*/metrics.jsonl | cut -c1-120
