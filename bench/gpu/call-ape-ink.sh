#!/bin/bash
# Device call (2026-11-30, seventh session): the ape-small probe (bench/Plstm.Bench/ApeProbe.cs) with ink input (strokes 1,
# background 0) and/or the symmetry curriculum, eight runs sharing one H200 for MIN minutes each (SET=1: first look,
# 6 min; SET=2: the curriculum's settings, 9 min).
# Bundle: ../shared/tools/gpu/bundle.sh bench/Plstm.Bench/Plstm.Bench.csproj; run: OUT=$OUT bash bench/gpu/call-ape-ink.sh
set -u
MIN=${MIN:-6}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
[ -d .gpu/stage ] || tar -C .gpu -xJf .gpu/bundle.tar.xz   # unpack once, before the parallel runs
p() { local name=$1; shift
  timeout $((MIN * 60 + 120)) bash .gpu/run.sh --ape-probe --device cuda --minutes "$MIN" "$@" > "$OUT/$name.log" 2>&1 & }
if [ "${SET:-1}" = 1 ]; then
p vit-ink            --model vit_tiny --ink
p plstm-ink          --model plstm_vit_tiny --ink
p plstm-ink-mean     --model plstm_vit_tiny --ink --pooling mean
p plstm-ink-sym      --model plstm_vit_tiny --ink --symmetry --advance 0.85
p vit-ink-sym        --model vit_tiny --ink --symmetry --advance 0.85
p plstm-ink-lr3e-4   --model plstm_vit_tiny --ink --lr 3e-4
p vit-sym            --model vit_tiny --symmetry --advance 0.85
p cnn-gap-ink        --model cnn-gap --ink
else   # SET=2: longer runs of the ink + symmetry curriculum
p plstm-sym85        --model plstm_vit_tiny --ink --symmetry --advance 0.85
p plstm-sym80        --model plstm_vit_tiny --ink --symmetry --advance 0.80
p plstm-sym90        --model plstm_vit_tiny --ink --symmetry --advance 0.90
p plstm-sym85-lr2e-3 --model plstm_vit_tiny --ink --symmetry --advance 0.85 --lr 2e-3
p plstm-sym85-lr5e-4 --model plstm_vit_tiny --ink --symmetry --advance 0.85 --lr 5e-4
p plstm-sym85-mean   --model plstm_vit_tiny --ink --symmetry --advance 0.85 --pooling mean
p vit-sym85          --model vit_tiny --ink --symmetry --advance 0.85
p vit-sym80          --model vit_tiny --ink --symmetry --advance 0.80
fi
wait
for f in "$OUT"/*.log; do echo "== $(basename "$f")"; grep -v "^step .* stage [0-9]  train" "$f" | head -3; grep -E "stage [0-9]  [0-9]+ s$" "$f"; grep "val acc" "$f" | tail -3; done
