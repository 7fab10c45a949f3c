#!/usr/bin/env bash
# Thirty-second session (2026-12-02): the 2D layer's stacked projection inside ProjectedGateAttention's function
# (AttendProjected: its backward makes dx, dW and db itself, the bias's as a matrix-vector product instead of libtorch's
# column sum, 62 -> ~25 us per layer at 224 px). 1. `selfcheck --parts layer` (the float32 layer cases run the new
# path; every parameter's gradient against the hierarchical form); 2. pLSTM-ViT-T at 224 px against the build before
# (7bda328, in .gpu/old), alternating, three rounds, ViT-T beside the new build; 3. 512 px once each.
# Bundle first, put the old build's Plstm.dll and Plstm.Cli.dll in .gpu/old/, then
# run(command="OUT=$OUT bash bench/gpu/call-session33-projected.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe; stage_old
selfcheck 200 --parts layer
for round in 1 2 3; do
  part "new-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
  part_old "old-224-$round" 60 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
done
part new-512 90 step --presets plstm_vit_t --sizes 512 --warmup 3 --iters 15
part_old old-512 90 step --presets plstm_vit_t --sizes 512 --warmup 3 --iters 15
collect
