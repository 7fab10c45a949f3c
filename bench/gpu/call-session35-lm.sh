#!/usr/bin/env bash
# Thirty-fifth session, fourth call (about 5 minutes): the trainers end to end after the pinned loader and the language
# model's deferred reads. `plstm train ape` (192 px, batch 128, both models, 200 steps, the CUDA default: reads every 10
# steps) against the third call's 2,200–2,700 images/s; `plstm train lm` (lm_small and lm_small_transformer, 300 steps)
# with a read every step and every 10 (bytes/s per window of 50 steps).
# Bundle first and copy ../shared/data/text/tinyshakespeare.txt into .gpu/, then run(command="OUT=$OUT bash bench/gpu/call-session35-lm.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R" /tmp/r
. bench/gpu/common.sh; probe
rate() { grep '"split":"train"' "$1" | sed -E "s/.*\"$2\":([0-9.]+).*/\1/" | xargs printf '%.0f '; }
{
  timeout 200 bash .gpu/run.sh train ape --device cuda --steps 200 --train-count 5120 --eval-count 256 --eval-every 0 \
    --checkpoint-every 0 --log-every 20 --no-plot --out /tmp/r/ape > "$R/ape.log" 2>&1
  echo "ape exit $?"
  for m in plstm vit; do echo "ape $m images/s per 20 steps: $(rate /tmp/r/ape/$m/metrics.jsonl images_per_s)"; done
  grep -E "^\| (plstm|vit) " /tmp/r/ape/results.md
  for preset in lm_small lm_small_transformer; do
    for sync in 1 10; do
      timeout 150 bash .gpu/run.sh train lm --data .gpu/tinyshakespeare.txt --preset $preset --device cuda --steps 300 --eval-every 0 --log-every 50 \
        --sync-every $sync --out /tmp/r/$preset-$sync > "$R/$preset-$sync.log" 2>&1
      echo "$preset sync $sync exit $?: bytes/s per 50 steps: $(rate /tmp/r/$preset-$sync/metrics.jsonl bytes_per_s)"
      grep -E "validation|bytes/s" "$R/$preset-$sync.log" | tail -2
    done
  done
} 2>&1 | tee "$R/trainers.txt"
collect "$R/trainers.txt"
