#!/bin/bash
# Device call (2026-11-30, eighth session): the ape-small recipe (ink input, symmetry curriculum, cosine schedule,
# weight decay 0.05, 2,000 steps of 64) with a convolutional stem (--conv-stem W) in eight variants sharing one H200,
# to choose the preset's stem width, learning rate and curriculum threshold by validation accuracy.
# Bundle: ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj; run: OUT=$OUT bash bench/gpu/call-ape-stem.sh
set -u
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
[ -d .gpu/stage ] || tar -C .gpu -xJf .gpu/bundle.tar.xz   # unpack once, before the parallel runs
t() { local name=$1; shift
  timeout ${LIMIT:-540} bash .gpu/run.sh train --data arrows --device cuda --no-plot --log-every 200 --out "/tmp/r/$name" "$@" \
    > "$OUT/$name.log" 2>&1; echo "$name exit $?"
  cat "/tmp/r/$name/results.md" >> "$OUT/$name.log" 2>/dev/null; }
mkdir -p /tmp/r
if [ "${SET:-1}" = 1 ]; then
t p-s16-lr5e-4-t75 --preset plstm_vit_tiny --conv-stem 16 &
t p-s16-lr1e-3-t75 --preset plstm_vit_tiny --conv-stem 16 --lr 1e-3 &
t p-s16-lr1e-3-t90 --preset plstm_vit_tiny --conv-stem 16 --lr 1e-3 --symmetry-curriculum 0.9 &
t p-s16-lr5e-4-t90 --preset plstm_vit_tiny --conv-stem 16 --symmetry-curriculum 0.9 &
t p-s32-lr5e-4-t75 --preset plstm_vit_tiny --conv-stem 32 &
t p-s16-lr2e-3-t75 --preset plstm_vit_tiny --conv-stem 16 --lr 2e-3 &
t p-s16-lr1e-3-t75-seed44 --preset plstm_vit_tiny --conv-stem 16 --lr 1e-3 --seed 44 &
t v-s16-lr1e-3-t75 --preset vit_tiny --conv-stem 16 --lr 1e-3 &
elif [ "${SET}" = 2 ]; then   # SET=2: stem 32 (the best validation accuracy of SET=1) on more run seeds and next to its neighbours
t p-s32-seed44 --preset plstm_vit_tiny --conv-stem 32 --seed 44 &
t p-s32-seed45 --preset plstm_vit_tiny --conv-stem 32 --seed 45 &
t p-s32-seed46 --preset plstm_vit_tiny --conv-stem 32 --seed 46 &
t p-s32-steps2400 --preset plstm_vit_tiny --conv-stem 32 --steps 2400 &
t p-s24 --preset plstm_vit_tiny --conv-stem 24 &
t p-s32-lr7e-4 --preset plstm_vit_tiny --conv-stem 32 --lr 7e-4 &
t p-s32-lr3e-4 --preset plstm_vit_tiny --conv-stem 32 --lr 3e-4 &
t v-s32 --preset vit_tiny --conv-stem 32 &
else   # SET=3: what fits the 15-minute CPU budget: stem 32 for 1,600 steps, stem 24 for 2,000, more run seeds
t p-s32-1600-seed43 --preset plstm_vit_tiny --conv-stem 32 --steps 1600 &
t p-s32-1600-seed44 --preset plstm_vit_tiny --conv-stem 32 --steps 1600 --seed 44 &
t p-s32-1600-seed45 --preset plstm_vit_tiny --conv-stem 32 --steps 1600 --seed 45 &
t p-s24-seed44 --preset plstm_vit_tiny --conv-stem 24 --seed 44 &
t p-s24-seed45 --preset plstm_vit_tiny --conv-stem 24 --seed 45 &
t v-s24 --preset vit_tiny --conv-stem 24 &
fi
wait
for f in "$OUT"/*.log; do echo "== $(basename "$f")"; grep -E "^\| (plstm|vit)|curriculum at|val step" "$f"; done
