#!/usr/bin/env bash
# Twenty-seventh session (2026-12-02): the build with 4 targets per block of the D-mode closed form's forward, 4 × 8 source
# tiles for the P-mode forward walk above 576 cells, and the layer's gate activation + walk on a side stream beside the
# q, k, v product (ProjectedGateAttention owning the projection; reverted after this call: the steps lost, see
# bench/results/gpu-h200-walk-tiles-targets-2026-12-02.md §3). One call (bundle first:
# bash ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj; then
# run(command="OUT=$OUT bash bench/gpu/call-session28.sh", carry=[".gpu"])): the whole selfcheck of this build, steps of
# both presets at 192–512 px, the forward overlap on/off at 224 px (alternating), and the P-mode operator at 14²–32².
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 240
part step 170 step --presets plstm_vit_t,vit_t --sizes 192,224,384,512 --warmup 5 --iters 20
for round in 1 2; do
  export PLSTM_FORWARD_OVERLAP=off; part "step224-overlap-off-$round" 45 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 20
  unset PLSTM_FORWARD_OVERLAP; part "step224-overlap-on-$round" 45 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 20
done
part op-p 60 op --forms walk,kernel --mode p --grids 14,24,32 --warmup 5 --iters 20
collect
