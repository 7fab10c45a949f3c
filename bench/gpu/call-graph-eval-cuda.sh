#!/bin/bash
# Device call (2026-12-01, fourteenth session): the new graph-checkpoint evaluation on CUDA. One MUTAG fold trained on
# the GPU (2 epochs), then `plstm eval` of its checkpoint on cuda and on the CPU: both must give the fold's result.json
# test accuracy (the loss to float32 rounding); and `plstm selfcheck` (the 2D kernel) as a general health check.
# Bundle: ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj; run with carry [".gpu", ".gpu-data"]:
# OUT=$OUT bash bench/gpu/call-graph-eval-cuda.sh
set -u
OUT=${OUT:-/tmp/out}; . bench/gpu/common.sh
unpack
rm -rf /tmp/g
timeout 200 bash .gpu/run.sh train graph --dataset MUTAG --data .gpu-data --fold 3 --epochs 2 --device cuda --out /tmp/g \
  > "$OUT/train.log" 2>&1; echo "train exit $?"; tail -3 "$OUT/train.log"
grep -E '"test_(accuracy|loss)"' /tmp/g/fold-3/result.json
timeout 100 bash .gpu/run.sh eval --checkpoint /tmp/g/fold-3/best.ckpt --data .gpu-data --device cuda; echo "eval cuda exit $?"
timeout 100 bash .gpu/run.sh eval --checkpoint /tmp/g/fold-3/best.ckpt --data .gpu-data; echo "eval cpu exit $?"
timeout 200 bash .gpu/run.sh selfcheck > "$OUT/selfcheck.log" 2>&1; echo "selfcheck exit $?"; tail -2 "$OUT/selfcheck.log"
