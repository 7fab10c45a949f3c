#!/usr/bin/env bash
# Twenty-seventh session (2026-12-02), second call: the committed build with this session's kernel defaults (4 targets
# per block of the D-mode closed form's forward; 4 × 8 source tiles for the P-mode forward walk above 576 cells) — the
# side-stream projection of call-session28.sh reverted. Steps of both presets at 192–512 px (two rounds at 224 px), the
# P- and D-mode operators at 14²–32². Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session28-defaults.sh",
# carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 150 --parts walk,single-path
part step 170 step --presets plstm_vit_t,vit_t --sizes 192,224,384,512 --warmup 5 --iters 20
part step224-2 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 20
part op-p 60 op --forms walk,kernel --mode p --grids 14,24,32 --warmup 5 --iters 20
part op-d 60 op --forms single-path,kernel --mode d --grids 14,24,32 --warmup 5 --iters 20
collect
