#!/usr/bin/env bash
# Prepared in the thirty-third session (2026-12-02) as its last call, not run (the device refused starts until its time
# was spent), so the next session's first call (about 8 minutes): the final default of that session (D0 per head into
# the kernel form's function; the gate kernel from x opt-in and off) — selfcheck layer on that default (its D-mode
# layers with the gates in the product and D0 per head were not selfchecked on a GPU in exactly this combination), five
# 224-px rounds against ViT-T and three with --sync-every 10; the opt-in gate kernel's fourth form (selfcheck with it
# on, two rounds, Nsight Compute's full section set on one launch: the earlier forms took 47–72 µs where the traffic
# suggests ≈ 20). Bundle first, then
# run(command="OUT=$OUT bash bench/gpu/call-session35-start.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 150 --parts layer
# The opt-in gate kernel's fourth form (written after that session's device time was spent; checked only by its CPU
# mirror so far): the layer cases with it on.
cp "$R/selfcheck.txt" "$R/selfcheck-default.txt"
PLSTM_GATE_PROJECTION=on selfcheck 150 --parts layer
cat "$R/selfcheck-default.txt" >> "$R/selfcheck.txt"
for round in 1 2 3 4 5; do
  part "step-224-$round" 50 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
# The same with one device synchronisation per 10 steps (--sync-every, new in the thirty-third session): the host may
# issue the next step while the device runs the last, as a training loop that reads nothing back every step.
for round in 1 2 3; do
  part "pipelined-224-$round" 50 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30 --sync-every 10
done
on() { export PLSTM_GATE_PROJECTION=on; part "$@"; unset PLSTM_GATE_PROJECTION; }
for round in 1 2; do
  on "gate-kernel-224-$round" 50 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
done
collect
PLSTM_GATE_PROJECTION=on timeout 100 ncu --set full --cache-control none --kernel-name plstm_gate_activation_project \
  --launch-skip 2 --launch-count 1 --target-processes all \
  bash .gpu/run.sh bench step --device cuda --presets plstm_vit_t --sizes 224 --warmup 1 --iters 1 > "$OUT/gate-kernel-full.txt" 2>&1
echo "ncu exit $?"
grep -E "Duration|Achieved Occupancy|Theoretical Occupancy|Registers Per|Block Limit|Dynamic Shared|Memory Throughput|Compute \(SM\)|Warp Cycles Per Issued|Issue Slots|L1/TEX Hit|L2 Hit|stall|Stall" "$OUT/gate-kernel-full.txt" | head -40
