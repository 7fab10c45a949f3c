#!/usr/bin/env bash
# Thirty-fifth session, fifth call (about 3 minutes): lm_small after the batched exponential orthogonalisation (the
# fourth call: 5.19 steps/s with reads every 10 steps), and two more pipelined 224-px step rounds.
# Bundle first and copy ../shared/data/text/tinyshakespeare.txt into .gpu/, then
# run(command="OUT=$OUT bash bench/gpu/call-session35-lm-2.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R" /tmp/r
. bench/gpu/common.sh; probe
{
  timeout 150 bash .gpu/run.sh train lm --data .gpu/tinyshakespeare.txt --preset lm_small --device cuda --steps 300 \
    --eval-every 0 --log-every 50 --out /tmp/r/lm > "$R/lm.log" 2>&1
  echo "lm_small exit $?"
  grep -E "done:|validation" "$R/lm.log" | tail -2
} 2>&1 | tee "$R/lm.txt"
for round in 1 2; do
  part "pipelined-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30 --sync-every 10
done
collect "$R/lm.txt"
