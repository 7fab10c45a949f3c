#!/usr/bin/env bash
# Thirty-third session (2026-12-02), fourth call: the gate kernel from x back in its staged form (a tile of cells' rows
# in shared memory), now with the driver asked for the largest shared-memory carveout, opt-in (PLSTM_GATE_PROJECTION=on;
# PLSTM_GATE_PROJECTION_TILE cells per block). selfcheck layer with it; Nsight Compute without cache flushes of the gate
# kernels only, tiles 32 and 8; 224-px rounds default (off) / on.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
PLSTM_GATE_PROJECTION=on selfcheck 150 --parts layer
for tile in 32 8; do
  PLSTM_GATE_PROJECTION=on PLSTM_GATE_PROJECTION_TILE=$tile timeout 90 ncu --csv --cache-control none \
    --kernel-name regex:plstm_gate_activation --metrics gpu__time_duration.sum --target-processes all \
    bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$R/tile$tile.csv" 2> "$R/tile$tile.err"
  echo "ncu tile $tile exit $?"
done
python3 bench/gpu/ncu_sum.py --halve tile32="$R/tile32.csv" tile8="$R/tile8.csv" | tee "$OUT/summary.txt"
(cd "$R" && tar czf "$OUT/profile.tgz" *.csv *.err selfcheck-full.txt)
on() { export PLSTM_GATE_PROJECTION=on; part "$@"; unset PLSTM_GATE_PROJECTION; }
for round in 1 2; do
  part "off-224-$round" 60 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
  on "on-224-$round" 60 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
done
collect
