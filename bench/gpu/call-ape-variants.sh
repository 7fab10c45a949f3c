#!/usr/bin/env bash
# One device call (2026-11-30, fifth session, the session's last device minutes): does any larger or ablated pLSTM-ViT
# leave chance on the ape-small data (64 px, objects scaled by 3, patch 8 → 8 × 8 patches) within a few thousand
# steps? Eight runs side by side on one H200 (batch 64, lr 1e-3 unless noted, warm-up 500), stopped by the time limit.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/r; mkdir -p "$R"
bash .gpu/run.sh --version >/dev/null 2>&1
ape() { local name=$1; shift; timeout ${LIMIT:-420} bash .gpu/run.sh train --data arrows --scale 3 --device cuda \
    --threads 1 --batch-size 64 --steps 20000 --warmup 500 --eval-every 500 --eval-count 512 \
    --checkpoint-every 100000 --log-every 100 --no-plot --out "$R/$name" "$@" > "$R/$name.log" 2>&1
    echo "$name exit $?" >> "$R/exits.txt"; }
ape t        --preset plstm_vit_t --lr 1e-3 --patch-size 8 &
ape t-lr3e-4 --preset plstm_vit_t --lr 3e-4 --patch-size 8 &
ape t-donly  --preset plstm_vit_t_donly --lr 1e-3 --patch-size 8 &
ape t-ponly  --preset plstm_vit_t_ponly --lr 1e-3 --patch-size 8 &
ape t-nopos  --preset plstm_vit_t_noposemb --lr 1e-3 --patch-size 8 &
ape t-const  --preset plstm_vit_t_conststm --lr 1e-3 --patch-size 8 &
ape vit-t    --preset vit_t --lr 3e-4 --patch-size 8 &
ape mini-p4  --preset plstm_vit_mini --lr 1e-3 --patch-size 4 &
wait
cd "$R" && tar czf "$OUT/ape-variants.tgz" --exclude='*.ckpt' --exclude='*tfevents*' . ; cat "$R/exits.txt"
for f in "$R"/*/; do echo "== $f $(grep -h '"split":"train"' "$f"/*/metrics.jsonl | tail -1 | cut -c1-60)"; grep -h '"split":"val"' "$f"/*/metrics.jsonl | sed -E 's/.*"step":([0-9]+).*"acc":([0-9.]+).*/\1:\2/' | tr '\n' ' '; echo; done
