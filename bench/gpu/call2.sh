#!/usr/bin/env bash
# One device call (2026-11-29): state-tracking suite (GPU), Fashion-MNIST full runs (GPU), two larger-object
# arrow-pointing runs (GPU). Everything small is packed into $OUT/call2.tgz (the device returns at most 8 files).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/r; mkdir -p "$R"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
bash .gpu/run.sh --version >/dev/null 2>&1   # unpack the bundle once, before the parallel starts
mkdir -p /tmp/fm && for f in .gpu-data/*.xz; do xz -dc "$f" > /tmp/fm/$(basename "$f" .xz); done; ls -la /tmp/fm
T=${LIMIT:-480}
( PLSTM="bash .gpu/run.sh" DEVICE=cuda THREADS=1 BATCH=256 TIME_LIMIT=${STATE_SECONDS:-360} STEPS=100000 EXTRA=1 \
    timeout $T bash bench/state-suite.sh "$R/state" > "$R/state-suite.log" 2>&1 ) &
fm() { local name=$1; shift; timeout $T bash .gpu/run.sh train fashion-mnist --device cuda --data-dir /tmp/fm --no-plot \
    --checkpoint-every 100000 --out "$R/$name" "$@" > "$R/$name.log" 2>&1; echo "$name exit $?" >> "$R/exits.txt"; }
fm fmnist-b256-e10 --batch-size 256 --steps 2150 --warmup 215 --eval-every 430 --lr 2e-3 &
fm fmnist-b512-e15 --batch-size 512 --steps 1610 --warmup 107 --eval-every 322 --lr 3e-3 &
ape() { local name=$1; shift; timeout $T bash .gpu/run.sh train --data arrows --device cuda --eval-every 500 \
    --checkpoint-every 100000 --eval-count 512 --log-every 100 --no-plot --out "$R/$name" "$@" > "$R/$name.log" 2>&1;
    echo "$name exit $?" >> "$R/exits.txt"; }
ape ape-p-s1.5-p16 --preset plstm_vit_tiny --scale 1.5 --patch-size 16 --steps 6000 --lr 1e-3 &
ape ape-v-s1.5-p16 --preset vit_tiny --scale 1.5 --patch-size 16 --steps 6000 --lr 1e-3 &
sleep 90; tail -n 2 "$R"/*.log
wait
cd "$R" && tar czf "$OUT/call2.tgz" --exclude='*.ckpt' --exclude='*tfevents*' . ; ls -la "$OUT"
cat "$R/exits.txt"; tail -n 4 "$R"/fmnist*.log "$R"/ape*.log; cat "$R/state/summary.md" 2>/dev/null | head -60
