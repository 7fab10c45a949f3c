#!/usr/bin/env bash
# Thirty-second session, second call for AttendProjected (the first, call-session33-projected.sh: selfcheck 24/24, 512 px
# 92.54 -> 92.13 ms, 224 px lost in host noise): four more alternating 224-px pairs against the build before (.gpu/old,
# 7bda328), ViT-T beside in two of them. Same preparation as the first.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe; stage_old
for round in 1 2 3 4; do
  presets=plstm_vit_t; [ $round -le 2 ] && presets=plstm_vit_t,vit_t
  part "new-224-$round" 45 step --presets $presets --sizes 224 --warmup 5 --iters 30
  part_old "old-224-$round" 45 step --presets plstm_vit_t --sizes 224 --warmup 5 --iters 30
done
collect
