#!/usr/bin/env bash
# Prepared in the twenty-sixth session (2026-12-02) for the next (not yet run): source tiles for the P-mode gate walk
# (fused_gate.cu TILE_X × TILE_Y, turned on by PLSTM_WALK_TILES="LxC" at run time, no rebuild): each warp walks a tile of
# L lines × C columns of sources and skips the positions before the tile's first column (backward: −32 % of its cell
# steps at 32² by count; paired forward: each twin's columns separately). Checked so far by the C# mirror against
# autograd and by NVRTC compiles only. One call (bundle first: bash ../shared/tools/gpu/bundle.sh
# src/Plstm.Cli/Plstm.Cli.csproj; then run(command="OUT=$OUT bash bench/gpu/call-session27-tiles.sh", carry=[".gpu"])):
# selfcheck walk with 4x8, Nsight Compute kernel durations at 14² and 32² for none / 4x8 / 8x4, the gate alone, the
# P-mode operator at 32² (issue 6's ≥ 20× target: ≤ 15.5 ms), steps at 224 / 512 px with 4x8, and the committed build's
# steps against ViT-T at 192, 224, 384 and 512 px (the README has no 192-px row of a current build).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
tiles() { if [ "$1" = none ]; then unset PLSTM_WALK_TILES; else export PLSTM_WALK_TILES=$1; fi; }
for t in 4x8; do
  tiles $t; timeout 150 bash .gpu/run.sh selfcheck --parts walk 2>&1 | grep -E "FAIL|cases agree|rror" | sed "s/^/$t: /" | tee -a "$R/selfcheck.txt"
done
tiles none
files=""
for g in 14 32; do for t in none 4x8 8x4; do
  tiles $t
  timeout 60 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:plstm_fused_gate \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids $g --warmup 1 --iters 2 > "$R/ncu-$t-$g.csv" 2>/dev/null
  echo "ncu $t $g exit $?"; files="$files $t-$g=$R/ncu-$t-$g.csv"
done; done
tiles none
python3 bench/gpu/ncu_sum.py $files > "$R/durations.txt"; cat "$R/durations.txt"
for t in none 4x8; do tiles $t; part "op-$t" 60 op --forms walk,kernel --mode p --grids 14,24,32 --warmup 5 --iters 20; done
tiles none; part step-none 150 step --presets plstm_vit_t,vit_t --sizes 192,224,384,512 --warmup 5 --iters 20
tiles 4x8; part step-4x8 100 step --presets plstm_vit_t --sizes 224,512 --warmup 5 --iters 20
tiles none
collect "$R/durations.txt"
