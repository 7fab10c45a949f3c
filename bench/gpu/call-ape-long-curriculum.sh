#!/bin/bash
# Device call (2026-11-30, seventh session): the ape-small recipe (ink input, symmetry curriculum, lr 5e-4,
# threshold 0.75) for 5,000 steps instead of 2,000, each model alone (`plstm train --preset … --data arrows`, the
# recipe of ape-small), the two sharing one H200. Bundle: ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj
set -u
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
[ -d .gpu/stage ] || tar -C .gpu -xJf .gpu/bundle.tar.xz
t() { local name=$1; shift
  timeout ${LIMIT:-250} bash .gpu/run.sh train --data arrows --device cuda --no-plot --log-every 500 --eval-every 1000 \
    --out "/tmp/r/$name" "$@" > "$OUT/$name.log" 2>&1; echo "$name exit $?" >> "$OUT/exits.txt"
  cp "/tmp/r/$name/results.md" "$OUT/$name.md" 2>/dev/null; }
mkdir -p /tmp/r
t plstm-5000 --preset plstm_vit_tiny --steps ${STEPS:-5000} &
t vit-5000 --preset vit_tiny --steps ${STEPS:-5000} &
wait
cat "$OUT/exits.txt"; grep -h -E "^\| (plstm|vit)|curriculum at|val step" "$OUT"/*.md "$OUT"/*.log
