#!/usr/bin/env bash
# One device call (2026-12-01, sixteenth session), the committed build: pLSTM-ViT-T (WalkedGateAttention, storing) and
# ViT-T training steps at 224, 512 and 1024 px, two rounds with the models alternating, and the recomputing pLSTM at
# 1024 px with batch 32.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for round in a b; do
  part step-plstm-$round 100 step --presets plstm_vit_t --sizes 224,512,1024 --batch-sizes 128@224,32@512,8@1024 --warmup 2 --iters 5
  part step-vit-$round 60 step --presets vit_t --sizes 224,512,1024 --batch-sizes 128@224,32@512,8@1024 --warmup 2 --iters 5
done
part step-recompute-b32 60 step --presets plstm_vit_t --sizes 1024 --batch-sizes 32@1024 --warmup 1 --iters 3 --recompute
(cd "$R" && tar czf "$OUT/results.tgz" .)
