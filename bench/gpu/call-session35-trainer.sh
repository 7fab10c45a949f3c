#!/usr/bin/env bash
# Thirty-fifth session, second call (about 8 minutes): the Trainer's deferred reads (SyncEverySteps) in real training
# runs, and more pipelined step rounds. `plstm train ape` (192 px, batch 128, both models, 140 steps) with a read every
# step and with the CUDA default (every 10 steps); per window of 20 steps the metrics' images/s. Then five 224-px step
# rounds with --sync-every 10 and one with a sync per step, and one pipelined round at 192, 384 and 512 px.
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session35-trainer.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R" /tmp/r
. bench/gpu/common.sh; probe
for sync in 1 10; do
  timeout 200 bash .gpu/run.sh train ape --device cuda --steps 140 --train-count 2560 --eval-count 256 --eval-every 0 \
    --checkpoint-every 0 --log-every 20 --sync-every $sync --no-plot --out /tmp/r/sync-$sync > "$R/train-sync-$sync.log" 2>&1
  echo "train sync $sync exit $?"
  for m in plstm vit; do
    echo "sync $sync $m images/s per 20 steps: $(grep '"split":"train"' /tmp/r/sync-$sync/$m/metrics.jsonl \
      | sed -E 's/.*"images_per_s":([0-9.]+).*/\1/' | xargs printf '%.0f ')"
  done
  grep -E "^\| (plstm|vit) " /tmp/r/sync-$sync/results.md
done | tee "$R/trainer.txt"
for round in 1 2 3 4 5; do
  part "pipelined-224-$round" 50 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30 --sync-every 10
done
part "step-224-6" 50 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
for size in 192 384 512; do
  part "pipelined-$size" 80 step --presets plstm_vit_t,vit_t --sizes $size --warmup 5 --iters 30 --sync-every 10
done
collect "$R/trainer.txt"
