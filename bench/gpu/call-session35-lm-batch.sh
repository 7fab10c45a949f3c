#!/usr/bin/env bash
# Thirty-fifth session, last call (about 2 minutes): is the pLSTM language model's GPU step bound by the host or by
# the device? lm_small for 100 steps at batch 16 and at batch 64 (same context 256): a host-bound step keeps its
# steps/s as the batch grows, a device-bound one slows with it.
# Bundle first and copy ../shared/data/text/tinyshakespeare.txt into .gpu/, then
# run(command="OUT=$OUT bash bench/gpu/call-session35-lm-batch.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT" /tmp/r
unpack() { [ -d .gpu/stage ] || tar -C .gpu -xJf .gpu/bundle.tar.xz; }
unpack
for batch in 16 64; do
  timeout 80 bash .gpu/run.sh train lm --data .gpu/tinyshakespeare.txt --preset lm_small --device cuda --steps 100 \
    --batch-size $batch --eval-every 0 --eval-batches 1 --log-every 50 --out /tmp/r/lm-$batch > /tmp/r/lm-$batch.log 2>&1
  echo "batch $batch exit $?: $(grep -E 'done:' /tmp/r/lm-$batch.log)"
  grep '"split":"train"' /tmp/r/lm-$batch/metrics.jsonl | sed -E 's/.*"bytes_per_s":([0-9.]+).*/\1/' | xargs echo "  bytes/s per 50 steps:"
done | tee "$OUT/lm-batch.txt"
