#!/usr/bin/env bash
# Prepared for the next session (not yet run): the build of branch wip/single-path-forward-l2 (closed form's forward
# blocks target-first, coalesced X, scalar turn sums) — selfcheck of the single-path and layer parts (about a minute),
# the gate alone against the walk with D-mode gates at 14²-32², and the steps with the closed form off and on.
# Bundle the branch's build (git checkout wip/single-path-forward-l2; bundle.sh …), then
# run(command="OUT=$OUT bash bench/gpu/call-single-path-next.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-spn; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
selfcheck 150 --parts single-path,layer
part gate 90 op --grids 14,24,32 --forms walk-d,single-path --warmup 3 --iters 20
for round in 1 2; do
  PLSTM_SINGLE_PATH=off part "off-$round" 120 step --presets plstm_vit_t --sizes 224,512 --warmup 3 --iters 10
  part "on-$round" 120 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10
done
collect
