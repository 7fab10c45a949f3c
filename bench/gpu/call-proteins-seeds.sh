#!/usr/bin/env bash
# One device call (2026-11-30, fifth session): PROTEINS 10-fold CV with torch seeds 1 and 2 (fixed in advance; the
# reported run used seed 42), on the GPU machine's 16 CPU cores (--device cpu, one libtorch thread per fold, each
# fold its own process): seed 1 all ten folds, seed 2 folds 0-5 (the rest in a second call). The TU files travel in
# the ignored .gpu-data/tu/PROTEINS. Results (fold JSON, metrics, summaries; no checkpoints) in $OUT/proteins.tgz.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/r; mkdir -p "$R"
bash .gpu/run.sh --version >/dev/null 2>&1
echo "cores $(nproc)"
g() { local name=$1; shift; timeout ${LIMIT:-540} bash .gpu/run.sh train graph --dataset PROTEINS --data .gpu-data \
    --threads 1 --out "$R/$name" "$@" > "$R/$name.log" 2>&1; echo "$name exit $?" >> "$R/exits.txt"; }
g seed1 --seed 1 --parallel-folds 10 &
g seed2 --seed 2 ${SEED2_FOLDS:---fold 0 --fold 1 --fold 2 --fold 3 --fold 4 --fold 5} --parallel-folds 6 &
wait
tar czf "$OUT/proteins.tgz" -C "$R" --exclude='*.ckpt' .
cat "$R/exits.txt"; grep -h "done:" "$R"/*.log; grep -h "Test accuracy" "$R"/*/summary.md
