#!/bin/bash
# Device call (2026-11-30, ninth session): does a weight average (--ema-decay), label smoothing, weight decay, a wider
# or strided stem, or more steps lift the ape-small pLSTM (SET=1..5)? The ape-small
# recipe (ink input, symmetry curriculum 0.75, lr 5e-4, 2,000 steps of 64, conv stem) in eight runs sharing one H200;
# the same runs without EMA are in bench/results/ape-small-stem-h200-2026-11-30.md.
# Bundle: ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj; run: OUT=$OUT bash bench/gpu/call-ape-ema.sh
set -u
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
[ -d .gpu/stage ] || tar -C .gpu -xJf .gpu/bundle.tar.xz   # unpack once, before the parallel runs
t() { local name=$1; shift
  timeout ${LIMIT:-540} bash .gpu/run.sh train --data arrows --device cuda --no-plot --log-every 200 --out "/tmp/r/$name" "$@" \
    > "/tmp/r-$name.log" 2>&1; echo "$name exit $?"
  cat "/tmp/r/$name/results.md" >> "/tmp/r-$name.log" 2>/dev/null; }
mkdir -p /tmp/r
rm -f /tmp/r-*.log   # a warm machine keeps the last call's logs
if [ "${SET:-1}" = 1 ]; then
t p-s24-ema998-seed43 --preset plstm_vit_tiny --conv-stem 24 --ema-decay 0.998 &
t p-s24-ema998-seed44 --preset plstm_vit_tiny --conv-stem 24 --ema-decay 0.998 --seed 44 &
t p-s24-ema998-seed45 --preset plstm_vit_tiny --conv-stem 24 --ema-decay 0.998 --seed 45 &
t p-s24-ema995-seed43 --preset plstm_vit_tiny --conv-stem 24 --ema-decay 0.995 &
t p-s24-ema995-seed44 --preset plstm_vit_tiny --conv-stem 24 --ema-decay 0.995 --seed 44 &
t p-s24-ema995-seed45 --preset plstm_vit_tiny --conv-stem 24 --ema-decay 0.995 --seed 45 &
t p-s32-ema998-seed43 --preset plstm_vit_tiny --conv-stem 32 --ema-decay 0.998 &
t v-s24-ema998-seed43 --preset vit_tiny --conv-stem 24 --ema-decay 0.998 &
elif [ "${SET}" = 2 ]; then   # SET=2: the free knobs (no CPU cost): label smoothing, weight decay
t p-s24-ls10-seed43 --preset plstm_vit_tiny --conv-stem 24 --label-smoothing 0.1 &
t p-s24-ls10-seed44 --preset plstm_vit_tiny --conv-stem 24 --label-smoothing 0.1 --seed 44 &
t p-s24-ls10-seed45 --preset plstm_vit_tiny --conv-stem 24 --label-smoothing 0.1 --seed 45 &
t p-s24-wd10-seed43 --preset plstm_vit_tiny --conv-stem 24 --weight-decay 0.1 &
t p-s24-wd10-seed44 --preset plstm_vit_tiny --conv-stem 24 --weight-decay 0.1 --seed 44 &
t p-s24-wd01-seed43 --preset plstm_vit_tiny --conv-stem 24 --weight-decay 0.01 &
t p-s24-ls10-ema995-seed44 --preset plstm_vit_tiny --conv-stem 24 --label-smoothing 0.1 --ema-decay 0.995 --seed 44 &
t v-s24-ls10-seed43 --preset vit_tiny --conv-stem 24 --label-smoothing 0.1 &
elif [ "${SET}" = 3 ]; then   # SET=3: wider stems (capacity at full resolution), more seeds of width 32
t p-s40-seed43 --preset plstm_vit_tiny --conv-stem 40 &
t p-s40-seed44 --preset plstm_vit_tiny --conv-stem 40 --seed 44 &
t p-s40-seed45 --preset plstm_vit_tiny --conv-stem 40 --seed 45 &
t p-s48-seed43 --preset plstm_vit_tiny --conv-stem 48 &
t p-s48-seed44 --preset plstm_vit_tiny --conv-stem 48 --seed 44 &
t p-s48-seed45 --preset plstm_vit_tiny --conv-stem 48 --seed 45 &
t p-s32-seed47 --preset plstm_vit_tiny --conv-stem 32 --seed 47 &
t p-s32-seed48 --preset plstm_vit_tiny --conv-stem 32 --seed 48 &
elif [ "${SET}" = 4 ]; then   # SET=4: more updates (batch 32) or more training (3,000 / 4,000 steps), stem 24
t p-s24-b32-4000-seed43 --preset plstm_vit_tiny --conv-stem 24 --batch-size 32 --steps 4000 &
t p-s24-b32-4000-seed44 --preset plstm_vit_tiny --conv-stem 24 --batch-size 32 --steps 4000 --seed 44 &
t p-s24-b32-4000-lr35-seed43 --preset plstm_vit_tiny --conv-stem 24 --batch-size 32 --steps 4000 --lr 3.5e-4 &
t p-s24-b32-4000-lr35-seed44 --preset plstm_vit_tiny --conv-stem 24 --batch-size 32 --steps 4000 --lr 3.5e-4 --seed 44 &
t p-s24-4000-seed43 --preset plstm_vit_tiny --conv-stem 24 --steps 4000 &
t p-s24-4000-seed44 --preset plstm_vit_tiny --conv-stem 24 --steps 4000 --seed 44 &
t p-s24-3000-seed43 --preset plstm_vit_tiny --conv-stem 24 --steps 3000 &
t p-s24-3000-seed44 --preset plstm_vit_tiny --conv-stem 24 --steps 3000 --seed 44 &
elif [ "${SET}" = 5 ]; then   # SET=5: the strided stem (3×3 stride-2 convolutions instead of conv + max-pool)
t p-st24-seed43 --preset plstm_vit_tiny --conv-stem 24 --conv-stem-kind strided &
t p-st24-seed44 --preset plstm_vit_tiny --conv-stem 24 --conv-stem-kind strided --seed 44 &
t p-st24-seed45 --preset plstm_vit_tiny --conv-stem 24 --conv-stem-kind strided --seed 45 &
t p-st32-seed43 --preset plstm_vit_tiny --conv-stem 32 --conv-stem-kind strided &
t p-st32-seed44 --preset plstm_vit_tiny --conv-stem 32 --conv-stem-kind strided --seed 44 &
t p-st48-seed43 --preset plstm_vit_tiny --conv-stem 48 --conv-stem-kind strided &
t p-st48-seed44 --preset plstm_vit_tiny --conv-stem 48 --conv-stem-kind strided --seed 44 &
t v-st24-seed43 --preset vit_tiny --conv-stem 24 --conv-stem-kind strided &
fi
wait
# One summary file: the per-run logs are long and the call keeps few output files.
for f in /tmp/r-*.log; do echo "== $(basename "$f" .log)"; grep -E "^\| (plstm|vit)|curriculum at|val step" "$f"; done \
  | tee "$OUT/summary.txt"
tar -C /tmp -czf "$OUT/logs.tgz" $(cd /tmp && ls r-*.log)
