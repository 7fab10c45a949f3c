#!/usr/bin/env bash
# Prepared in the thirtieth session (2026-12-02) for the next one's first call (about 5 minutes):
# 1. `plstm selfcheck --parts attention,layer` — the masked attention module's new normalised forward kernel passed on
#    the GPU, but the later edit of rms_norm.cu (its unused forward kernel removed, the backward kernel's index 1 → 0)
#    was only NVRTC-checked;
# 2. the fewer native calls per RMS norm and per 2D layer (commit 410ac51; CPU-measured only) against the build before
#    it (1aa4e58: build a worktree there, put its Plstm.dll and Plstm.Cli.dll in .gpu/old/), 224-px steps alternating
#    in three rounds with ViT-T beside (the change matters when the host binds: compare the host fwd + bwd columns too).
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session32-start.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
stage_old
selfcheck 240 --parts attention,layer
for round in 1 2 3; do
  part_old "old-224-$round" 60 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
  part "new-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
collect
