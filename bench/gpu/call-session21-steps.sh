#!/usr/bin/env bash
# One short device call (2026-12-01, twenty-first session, end): the training steps of the final build, both models,
# 224 and 512 px, two rounds.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-steps; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
for round in 1 2; do part "steps-$round" 100 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10; done
for f in "$R"/*.md; do echo "=== $(basename "$f")"; cat "$f"; done > "$OUT/all.md"
