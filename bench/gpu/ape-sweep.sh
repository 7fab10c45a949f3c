#!/usr/bin/env bash
# ape-small learning-rate / scale / patch sweep on the GPU machine (device tool), to find a CPU-scale recipe
# that learns within the 15-minute CPU budget. Each run trains one model; metrics JSONL keep the curves.
set -u
OUT=${OUT:-/tmp/out}
R=/tmp/sweep; mkdir -p "$R"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
run() { # name, args...
  local name=$1; shift
  timeout "${LIMIT:-420}" bash .gpu/run.sh train --data arrows --device cuda --eval-every 250 --checkpoint-every 100000 \
    --eval-count 512 --log-every 50 --no-plot --out "$R/$name" "$@" >"$R/$name.log" 2>&1
  echo "$name exit $?" >>"$R/exits.txt"
}
S=${STEPS:-3000}
run p-s3-p8-lr1e-3   --preset plstm_vit_tiny --steps $S --lr 1e-3 &
run p-s3-p8-lr3e-3   --preset plstm_vit_tiny --steps $S --lr 3e-3 &
run p-s3-p8-lr3e-4   --preset plstm_vit_tiny --steps $S --lr 3e-4 &
run p-s3-p4-lr1e-3   --preset plstm_vit_tiny --steps $S --lr 1e-3 --patch-size 4 &
run p-s2-p8-lr1e-3   --preset plstm_vit_tiny --steps $S --lr 1e-3 --scale 2 &
run p-s2-p8-lr3e-3   --preset plstm_vit_tiny --steps $S --lr 3e-3 --scale 2 &
run v-s3-p8-lr1e-3   --preset vit_tiny --steps $S --lr 1e-3 &
run v-s2-p8-lr1e-3   --preset vit_tiny --steps $S --lr 1e-3 --scale 2 &
sleep 60; tail -n 3 "$R"/*.log
wait
cd "$R" && tar czf "$OUT/sweep.tgz" --exclude='*.ckpt' --exclude='*tfevents*' . && ls -la "$OUT"
tail -n 2 "$R"/*.log; cat "$R/exits.txt"
