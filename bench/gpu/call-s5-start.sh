#!/usr/bin/env bash
# One device call (2026-11-30, sixth session): S5 with the start token and the adaptive length curriculum, pLSTM
# JT = 4 in three settings side by side on one H200, T seconds of training each (docs/state-tracking.md).
# Results in $OUT/s5-start.tgz (logs, metrics, results; no checkpoints).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/r; mkdir -p "$R"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
bash .gpu/run.sh --version >/dev/null 2>&1   # unpack the bundle once, before the parallel starts
T=${TIME:-480}
s5() { local name=$1; shift; timeout $((T + 50)) bash .gpu/run.sh train state --task s5 --jt 4 --device cuda \
    --threads 1 --train-length 64 --min-train-length 2 --curriculum-threshold 0.9 --steps 100000 \
    --time-limit "$T" --test-lengths 64,128,256 --test-count 512 --eval-every 500 --log-every 100 \
    --out "$R/$name" "$@" > "$R/$name.log" 2>&1; echo "$name exit $?" >> "$R/exits.txt"; }
s5 jt4-l2-b256 --layers 2 --batch-size 256 --lr 2e-3 &
s5 jt4-l1-b128 --layers 1 --batch-size 128 --lr 3e-3 &
s5 jt4-l2-b128 --layers 2 --batch-size 128 --lr 3e-3 &
sleep 120; grep -h curriculum "$R"/*.log | tail -n 6
wait
cd "$R" && tar czf "$OUT/s5-start.tgz" --exclude='*.ckpt' . ; ls -la "$OUT"
cat "$R/exits.txt"; for f in "$R"/*.log; do echo "== $f"; grep -E "curriculum|eval" "$f" | tail -n 8; done
for f in "$R"/*/results.md; do echo "== $f"; cat "$f"; done
