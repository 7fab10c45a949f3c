#!/usr/bin/env bash
# One device call (2026-11-30, sixth session): the state-tracking comparison of docs/state-tracking.md with the start
# token and the adaptive curriculum (CURRICULUM_PERCENT: the scheduled floor, default 0 = none; 90 was call 2 of
# bench/results/state-tracking-h200-2026-11-30.md): parity and S5 × {pLSTM JT = 1, JT = 4,
# transformer}, 1 layer, batch 128, lr 3e-3, plus S5 JT = 4 with seed 1; seven runs side by side on one H200.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/r-suite-${CURRICULUM_PERCENT:-0}; mkdir -p "$R"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
bash .gpu/run.sh --version >/dev/null 2>&1   # unpack the bundle once, before the parallel starts
PLSTM="bash .gpu/run.sh" DEVICE=cuda THREADS=1 BATCH=128 LR=3e-3 LAYERS=1 TIME_LIMIT=${TIME:-450} STEPS=100000 \
    CURRICULUM_PERCENT=${CURRICULUM_PERCENT:-0} EXTRA=1 timeout $(( ${TIME:-450} + 80 )) bash bench/state-suite.sh "$R/state" > "$R/suite.log" 2>&1
echo "suite exit $?"
cd "$R" && tar czf "$OUT/state-suite.tgz" --exclude='*.ckpt' . ; ls -la "$OUT"
for f in "$R"/state/*.log; do echo "== $f"; grep -E "curriculum" "$f" | tail -n 2; done
cat "$R/state/summary.md"
