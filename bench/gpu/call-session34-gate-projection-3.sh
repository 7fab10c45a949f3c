#!/usr/bin/env bash
# Thirty-third session (2026-12-02), third call: the gate kernel from x now runs before the q/k/v product (x still in
# L2 from the norm). Nsight Compute WITHOUT cache flushes (--cache-control none: closer to the kernels' cost in the
# stream) of one 224-px pLSTM-ViT-T step, PLSTM_GATE_PROJECTION=off and on; selfcheck layer; three rounds off/on.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 200 --parts layer
for arm in off on; do
  PLSTM_GATE_PROJECTION=$arm timeout 120 ncu --csv --cache-control none --metrics gpu__time_duration.sum --target-processes all \
    bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$R/$arm.csv" 2> "$R/$arm.err"
  echo "ncu $arm exit $?"
done
python3 bench/gpu/ncu_sum.py --halve --top 300 off="$R/off.csv" on="$R/on.csv" > "$OUT/summary.txt"; grep "==" "$OUT/summary.txt"
(cd "$R" && tar czf "$OUT/profile.tgz" *.csv *.err selfcheck-full.txt)
off() { export PLSTM_GATE_PROJECTION=off; part "$@"; unset PLSTM_GATE_PROJECTION; }
for round in 1 2 3; do
  off "off-224-$round" 60 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
  part "on-224-$round" 60 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
done
collect
