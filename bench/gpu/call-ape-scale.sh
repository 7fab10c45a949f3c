#!/usr/bin/env bash
# One device call (2026-11-30, fifth session): when do the paper-size APE models leave chance, and does the paper's
# token geometry at a quarter of the pixels (scale 2, patch 8: 96 px, 12 × 12 patches, objects 1/2 size) behave the
# same? Four runs side by side on one H200, each stopped by the time limit (curves in metrics.jsonl):
#   ape-p192   plstm_vit_ape, paper data (192 px, patch 16), batch 128, lr 1e-4, warm-up 781 (the paper's recipe)
#   ape-v192   vit_ape, same data, lr 3e-4 (the paper's ViT recipe)
#   ape-p96    plstm_vit_ape on scale-2 data with patch 8 (12 × 12 patches as at 192 px), same recipe
#   tiny-p64   plstm_vit_tiny on the ape-small data (scale 3, patch 8) at the paper's lr 1e-4
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/r; mkdir -p "$R"
bash .gpu/run.sh --version >/dev/null 2>&1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
ape() { local name=$1; shift; timeout ${LIMIT:-500} bash .gpu/run.sh train --data arrows --device cuda \
    --eval-every 500 --eval-count 512 --checkpoint-every 100000 --log-every 100 --no-plot --out "$R/$name" "$@" \
    > "$R/$name.log" 2>&1; echo "$name exit $?" >> "$R/exits.txt"; }
ape ape-p192 --preset plstm_vit_ape --scale 1 --batch-size 128 --steps 39050 --warmup 781 --lr 1e-4 &
ape ape-v192 --preset vit_ape --scale 1 --batch-size 128 --steps 39050 --warmup 781 --lr 3e-4 &
ape ape-p96 --preset plstm_vit_ape --scale 2 --patch-size 8 --batch-size 128 --steps 39050 --warmup 781 --lr 1e-4 &
ape tiny-p64 --preset plstm_vit_tiny --scale 3 --batch-size 64 --steps 20000 --warmup 500 --lr 1e-4 &
wait
cd "$R" && tar czf "$OUT/ape-scale.tgz" --exclude='*.ckpt' --exclude='*tfevents*' . ; cat "$R/exits.txt"
for f in "$R"/*/; do echo "== $f"; grep -h '"split":"val"' "$f"/*metrics.jsonl "$f"/*/metrics.jsonl 2>/dev/null | cut -c1-110; done
tail -n 2 "$R"/*.log
