#!/usr/bin/env bash
# Thirty-fifth session, third call (about 4 minutes): the trainer end to end after the batch fill (arrow pointing
# rendered in parallel into reused buffers) — `plstm train ape` (192 px, batch 128, both models, 200 steps) with a read
# every step and with the CUDA default (every 10 steps); per window of 20 steps the metrics' images/s (the device alone
# does ≈ 3,500 (pLSTM-ViT-T) and ≈ 4,100 (ViT-T) images/s at 192 px: bench step, --sync-every 10).
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session35-loader.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R" /tmp/r
. bench/gpu/common.sh; probe
nproc
for sync in 1 10; do
  timeout 240 bash .gpu/run.sh train ape --device cuda --steps 200 --train-count 5120 --eval-count 256 --eval-every 0 \
    --checkpoint-every 0 --log-every 20 --sync-every $sync --no-plot --out /tmp/r/sync-$sync > "$R/train-sync-$sync.log" 2>&1
  echo "train sync $sync exit $?"
  for m in plstm vit; do
    echo "sync $sync $m images/s per 20 steps: $(grep '"split":"train"' /tmp/r/sync-$sync/$m/metrics.jsonl \
      | sed -E 's/.*"images_per_s":([0-9.]+).*/\1/' | xargs printf '%.0f ')"
  done
  grep -E "^\| (plstm|vit) " /tmp/r/sync-$sync/results.md
  grep -E "total time" "$R/train-sync-$sync.log"
done | tee "$R/trainer.txt"
tail -5 "$R/train-sync-10.log"
collect "$R/trainer.txt"
