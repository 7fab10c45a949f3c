#!/usr/bin/env bash
# One device call (2026-12-01, eighteenth session): the trainer's single device wait per step (clipping on the device,
# loss / accuracy / gradient norm read in one transfer) against the build before it (.gpu/pre/: Plstm.dll and
# Plstm.Cli.dll of 35afd89, run from a copy of the bundle's stage), on one machine: `plstm train` of the arrow
# presets at 64 px (ape-small's data; small kernels, so host waits show), 300 steps of 64, clip 1.0, no evaluation
# until the end; s/step from each run's results table.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-ts; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
cp -r .gpu/stage .gpu/stage-pre && cp .gpu/pre/*.dll .gpu/stage-pre/app/
sed 's#\$B/stage/#$B/stage-pre/#g' .gpu/run.sh > .gpu/run-pre.sh
run() { local name=$1 runner=$2 preset=$3
  timeout 100 bash "$runner" train --preset "$preset" --data arrows --device cuda --steps 300 --train-count 4096 \
    --eval-count 256 --eval-every 0 --checkpoint-every 0 --log-every 100 --clip 1.0 --no-plot --seed 1 \
    --out "$R/$name" > "$R/$name.log" 2>&1
  echo "$name exit $?: $(grep -E "^\| $preset" "$R/$name/results.md" 2>/dev/null | cut -d'|' -f2,6,7,8)"; }
for round in 1 2; do
  run "pre-plstm-$round" .gpu/run-pre.sh plstm_vit_tiny
  run "new-plstm-$round" .gpu/run.sh plstm_vit_tiny
done
run pre-vit .gpu/run-pre.sh vit_tiny
run new-vit .gpu/run.sh vit_tiny
for d in "$R"/*/; do echo "=== $(basename "$d")"; grep -E "^\|" "$d/results.md"; done > "$OUT/all.md" 2>/dev/null
