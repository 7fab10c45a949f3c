#!/usr/bin/env bash
# One device call (2026-11-29, third session): four dedicated S5 runs of pLSTM JT = 4 on one H200, ~500 s each,
# to see whether a longer, less shared run leaves the S5 plateau (docs/state-tracking.md). Results in $OUT/s5.tgz.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/r; mkdir -p "$R"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
bash .gpu/run.sh --version >/dev/null 2>&1   # unpack the bundle once, before the parallel starts
T=${TIME:-500}
s5() { local name=$1; shift; timeout $((T + 60)) bash .gpu/run.sh train state --task s5 --device cuda --threads 1 \
    --batch-size 256 --train-length 64 --min-train-length 2 --steps 100000 --time-limit "$T" \
    --test-lengths 64,128,256 --test-count 512 --eval-every 500 --log-every 200 --stop-at-target \
    --out "$R/$name" "$@" > "$R/$name.log" 2>&1; echo "$name exit $?" >> "$R/exits.txt"; }
s5 jt4-l2-conv4 --jt 4 --layers 2 --lr 2e-3 --curriculum 60000 &
s5 jt4-l2-conv0 --jt 4 --layers 2 --conv 0 --lr 2e-3 --curriculum 60000 &
s5 jt4-l1-d128 --jt 4 --layers 1 --dim 128 --heads 8 --lr 1e-3 --curriculum 60000 &
s5 jt4-l2-slow --jt 4 --layers 2 --lr 1e-3 --curriculum 85000 &
sleep 60; tail -n 2 "$R"/*.log
wait
cd "$R" && tar czf "$OUT/s5.tgz" --exclude='*.ckpt' . ; ls -la "$OUT"
cat "$R/exits.txt"; for f in "$R"/*/results.md; do echo "== $f"; cat "$f"; done
