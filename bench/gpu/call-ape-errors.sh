#!/bin/bash
# Device call (2026-11-30, ninth session): which ape-small test images do the models get wrong? Trains the preset's
# pLSTM and ViT (stem 24, seed 43) and a stem-40 pLSTM, then classifies the 1,024 test images (seed 200042, 64 px) one
# by one with `plstm predict`; the predictions go back with labels.jsonl for bench/ape_errors.py.
# Bundle: ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj; run: OUT=$OUT bash bench/gpu/call-ape-errors.sh
set -u
[ -d .gpu/stage ] || tar -C .gpu -xJf .gpu/bundle.tar.xz
rm -rf /tmp/r /tmp/test64 && mkdir -p /tmp/r
bash .gpu/run.sh data arrows --seed 200042 --size 192 --count 1024 --scale 3 --out /tmp/test64 > /dev/null
cp /tmp/test64/labels.jsonl "$OUT/labels.jsonl"
t() { local name=$1; shift
  timeout ${LIMIT:-420} bash .gpu/run.sh train --data arrows --device cuda --no-plot --log-every 500 --out "/tmp/r/$name" "$@" \
    > "/tmp/r-$name.log" 2>&1
  bash .gpu/run.sh predict /tmp/test64/*.png --device cuda --checkpoint "/tmp/r/$name/$(ls /tmp/r/$name | grep -v json | grep -v md | head -1)/last.ckpt" \
    > "$OUT/pred-$name.txt" 2>&1
  echo "$name: $(grep -E '^\| (plstm|vit)' /tmp/r/$name/results.md)"; }
t plstm-s24-seed43 --preset plstm_vit_tiny --conv-stem 24 &
t vit-s24-seed43 --preset vit_tiny --conv-stem 24 &
t plstm-s40-seed44 --preset plstm_vit_tiny --conv-stem 40 --seed 44 &
t plstm-s24-4000-seed43 --preset plstm_vit_tiny --conv-stem 24 --steps 4000 &
wait
