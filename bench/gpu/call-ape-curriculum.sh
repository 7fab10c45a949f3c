#!/bin/bash
# Device call (2026-11-30, seventh session): the ape-small preset with ink input and the symmetry curriculum
# (`plstm train ape-small`, both models, 2,000 steps by default) in eight variants sharing one H200, to choose the
# preset's learning rate and curriculum threshold. Bundle: ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj
# Run: OUT=$OUT bash bench/gpu/call-ape-curriculum.sh — results.md of every run are printed and kept in $OUT.
set -u
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
[ -d .gpu/stage ] || tar -C .gpu -xJf .gpu/bundle.tar.xz   # unpack once, before the parallel runs
t() { local name=$1; shift
  timeout ${LIMIT:-540} bash .gpu/run.sh train ape-small --device cuda --no-plot --log-every 100 --out "/tmp/r/$name" "$@" \
    > "$OUT/$name.log" 2>&1; echo "$name exit $?" >> "$OUT/exits.txt"
  cp "/tmp/r/$name/results.md" "$OUT/$name.md" 2>/dev/null; }
mkdir -p /tmp/r
t default &
t lr5e-4 --lr 5e-4 &
t th75 --symmetry-curriculum 0.75 &
t th85 --symmetry-curriculum 0.85 &
t lr5e-4-th75 --lr 5e-4 --symmetry-curriculum 0.75 &
t steps3000 --steps 3000 &
t lr2e-3 --lr 2e-3 &
t no-curriculum --symmetry-curriculum 0 &
wait
cat "$OUT/exits.txt"
for f in "$OUT"/*.md; do echo "== $(basename "$f")"; grep -E "^\| (plstm|vit) |curriculum at" "$f"; done
