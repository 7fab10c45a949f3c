#!/usr/bin/env bash
# One device call (2026-12-01, fourteenth session): MUTAG 10-fold CV with the best combination of the earlier
# sessions (--reference-variants --select loss; 0.844 over torch seeds 42, 1, 2, 3, chosen among six combinations on
# those same runs) on sixteen new torch seeds 4-19, fixed in advance, all reported: an estimate of that setting free of
# the choice. On the GPU machine's 16 CPU cores (--device cpu, one libtorch thread per run, folds one after another).
# The TU files travel in the ignored .gpu-data/tu/MUTAG. Results (fold JSON, summaries; no checkpoints) in
# $OUT/mutag.tgz. Bundle: ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj;
# run: OUT=$OUT bash bench/gpu/call-mutag-seeds.sh with carry [".gpu", ".gpu-data"].
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/r; rm -rf "$R"; mkdir -p "$R"
bash .gpu/run.sh --version >/dev/null 2>&1
echo "cores $(nproc)"
g() { local name=$1; shift; timeout ${LIMIT:-560} bash .gpu/run.sh train graph --dataset MUTAG --data .gpu-data \
    --threads 1 --reference-variants --select loss --out "$R/$name" "$@" > "$R/$name.log" 2>&1; echo "$name exit $?" >> "$R/exits.txt"; }
for s in ${SEEDS:-4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19}; do g seed$s --seed $s & done
wait
tar czf "$OUT/mutag.tgz" -C "$R" --exclude='*.ckpt' .
sort -V "$R/exits.txt"; for f in $(ls "$R"/seed*/summary.md | sort -V); do echo "$f: $(grep -h "Test accuracy" "$f")"; done
