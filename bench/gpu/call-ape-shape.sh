#!/bin/bash
# Device call (2026-11-30, eighth session): why does the ape-small pLSTM level off near 0.8? The probe
# (bench/Plstm.Bench/ApeProbe.cs) with ink input and the symmetry curriculum (advance 0.75, lr 5e-4: the preset's
# recipe, constant lr) on shapes other than plstm_vit_tiny's (patch 8, D 64, 2 P/D pairs): finer patches, wider, deeper,
# a conv stem. Eight runs share one H200 for MIN minutes each.
# Bundle: ../shared/tools/gpu/bundle.sh bench/Plstm.Bench/Plstm.Bench.csproj; run: OUT=$OUT bash bench/gpu/call-ape-shape.sh
set -u
MIN=${MIN:-8}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
[ -d .gpu/stage ] || tar -C .gpu -xJf .gpu/bundle.tar.xz   # unpack once, before the parallel runs
p() { local name=$1; shift
  timeout $((MIN * 60 + 120)) bash .gpu/run.sh --ape-probe --device cuda --minutes "$MIN" --ink --symmetry --advance 0.75 "$@" > "$OUT/$name.log" 2>&1 & }
if [ "${SET:-1}" = 1 ]; then
p plstm-p8           --model plstm_vit_tiny
p plstm-p4           --model plstm_vit_tiny --patch 4
p plstm-d128         --model plstm_vit_tiny --dim 128 --heads 4
p plstm-b4           --model plstm_vit_tiny --blocks 4
p plstm-stem         --model plstm_vit_tiny --stem
p plstm-p4-d128      --model plstm_vit_tiny --patch 4 --dim 128 --heads 4
p vit-p4             --model vit_tiny --patch 4
p vit-stem           --model vit_tiny --stem
else   # SET=2: the conv stem (the only change of SET=1 that left 0.8) without the curriculum, faster, lighter
p plstm-stem-nocur       --model plstm_vit_tiny --stem --no-symmetry
p plstm-stem-nocur-lr1e-3 --model plstm_vit_tiny --stem --no-symmetry --lr 1e-3
p plstm-stem-lr1e-3      --model plstm_vit_tiny --stem --lr 1e-3
p plstm-stem16           --model plstm_vit_tiny --stem --stem-width 16
p plstm-stem16-nocur     --model plstm_vit_tiny --stem --stem-width 16 --no-symmetry
p plstm-stem8-nocur      --model plstm_vit_tiny --stem --stem-width 8 --no-symmetry
p vit-stem-nocur         --model vit_tiny --stem --no-symmetry
p vit-stem-nocur-lr1e-3  --model vit_tiny --stem --no-symmetry --lr 1e-3
fi
wait
for f in "$OUT"/*.log; do echo "== $(basename "$f")"; grep -v "^step .* stage [0-9]  train" "$f" | head -3; grep -E "stage [0-9]  [0-9]+ s$" "$f"; grep "val acc" "$f" | tail -4; done
