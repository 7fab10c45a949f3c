#!/usr/bin/env bash
# Thirty-third session (2026-12-02), second call: the gate kernel that makes the pre-activations from x as one thread per
# item (D-mode layers only; the first call's staged form took 54-63 us per layer, and P-mode gained nothing from the
# narrower product). Same plan as call-session34-gate-projection.sh: selfcheck layer and activation; 224 px three
# rounds of the build before (24c214e, .gpu/old/), this build with PLSTM_GATE_PROJECTION=off, this build with ViT-T;
# Nsight Compute of one 224-px step; 512 px before and now.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe; stage_old
selfcheck 200 --parts layer,activation
off() { export PLSTM_GATE_PROJECTION=off; part "$@"; unset PLSTM_GATE_PROJECTION; }
for round in 1 2 3; do
  part_old "old-224-$round" 60 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
  off "off-224-$round" 60 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
  part "on-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
timeout 120 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
  bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$R/plstm_vit_t.csv" 2> "$R/plstm_vit_t.err"
echo "ncu exit $?"
python3 bench/gpu/ncu_sum.py --halve --top 300 plstm_vit_t="$R/plstm_vit_t.csv" > "$OUT/summary.txt"; head -3 "$OUT/summary.txt"
(cd "$R" && tar czf "$OUT/profile.tgz" *.csv *.err selfcheck-full.txt)
part_old old-512 60 step --presets plstm_vit_t --sizes 512 --warmup 3 --iters 15
part on-512 60 step --presets plstm_vit_t --sizes 512 --warmup 3 --iters 15
collect
