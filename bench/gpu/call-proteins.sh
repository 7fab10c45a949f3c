#!/bin/bash
# Device call (2026-11-30, tenth session), on the GPU machine's 16 CPU cores (the graph model trains on the CPU, one
# libtorch thread per fold, as on the 2-core VM): PROTEINS 10-fold CV with the MUTAG combination fixed beforehand,
# --reference-variants --select loss, torch seeds 42, 1, 2 (the seeds of the earlier PROTEINS runs). 16 folds per call:
# PART=1 seed 42 (all) + seed 1 folds 0-5; PART=2 seed 1 folds 6-9 + seed 2 (all). The TU files travel in .gpu/data
# (copied from ../shared/data/tu/PROTEINS). Results: per seed summary.md and the folds' result.json (tar) in $OUT.
# Bundle: ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj; run: PART=N OUT=$OUT bash bench/gpu/call-proteins.sh
# Outcome: PART=1 ran once and gave nothing: 16 fold processes on the machine's 16 logical cores (8 physical?) ran at
# about 6.2 s per epoch, and every fold was at epoch 84-87 of 100 when the 540-s limit stopped it (no fold finished, so
# no result.json). A PROTEINS fold needs about 330 s alone on one core; at most 8 at a time would fit one 10-minute call.
set -u
nproc
[ -d .gpu/stage ] || tar -C .gpu -xJf .gpu/bundle.tar.xz
g() { local name=$1; shift
  timeout ${LIMIT:-540} bash .gpu/run.sh train graph --dataset PROTEINS --data .gpu/data --reference-variants --select loss \
    --threads 1 --out "/tmp/g/$name" "$@" > "/tmp/g-$name.log" 2>&1; echo "$name exit $?"; }
mkdir -p /tmp/g; rm -rf /tmp/g/* /tmp/g-*.log
if [ "${PART:-1}" = 1 ]; then
  g seed42 --seed 42 --parallel-folds 10 &
  g seed1 --seed 1 --parallel-folds 6 --fold 0 --fold 1 --fold 2 --fold 3 --fold 4 --fold 5 &
else
  g seed1 --seed 1 --parallel-folds 4 --fold 6 --fold 7 --fold 8 --fold 9 &
  g seed2 --seed 2 --parallel-folds 10 &
fi
wait
cd /tmp/g && tar -czf "$OUT/proteins-part${PART:-1}.tgz" $(find . -name result.json -o -name summary.md -o -name summary.json) && cd - > /dev/null
tail -n 3 /tmp/g-*.log
find /tmp/g -name summary.md -exec sh -c 'echo "== $1"; head -5 "$1"' _ {} \;
