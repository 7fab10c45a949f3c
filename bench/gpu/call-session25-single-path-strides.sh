#!/usr/bin/env bash
# One device call (2026-12-01, twenty-fifth session), after call-session25-single-path-lines.sh: the D-mode closed
# form's forward with blocks per (line of targets, chunk of sources) — the first form, all of a line's sources in one
# block, lost at 32² (1.26 → 1.53 ms) — and single_path_turns / single_path_chains advancing offsets by fixed steps
# instead of mapping each cell into the orientation's frame, against the build before (.gpu/base/, beef5c3): selfcheck
# (single-path, layer), per-kernel durations and metrics (Nsight Compute) at 14² and 32², the gate alone, steps at 224
# and 512 px, builds alternating.
# The forward and turns/chains variants measured here were reverted; only the tables loops are in the tree
# (bench/results/gpu-h200-single-path-forms-2026-12-01.md).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
cp -r .gpu/stage .gpu/stage-base && cp .gpu/base/*.dll .gpu/stage-base/app/
sed "s#\\\$B/stage/#\$B/stage-base/#g" .gpu/run.sh > .gpu/run-base.sh
selfcheck 200 --parts single-path,layer
for build in base new; do runner=.gpu/run.sh; [ $build = base ] && runner=.gpu/run-base.sh
  for g in 14 32; do
    timeout 120 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:single_path \
      bash $runner bench op --device cuda --forms single-path --grids $g --warmup 1 --iters 1 \
      > "$R/ncu-$build-$g.csv" 2> "$R/ncu-$build-$g.err"; echo "ncu $build $g exit $?"
  done
done
python3 bench/gpu/ncu_sum.py --halve base14="$R/ncu-base-14.csv" new14="$R/ncu-new-14.csv" base32="$R/ncu-base-32.csv" \
  new32="$R/ncu-new-32.csv" | tee "$R/durations.txt"
M=gpu__time_duration.sum,launch__grid_size,launch__block_size,launch__registers_per_thread,launch__waves_per_multiprocessor
M=$M,sm__warps_active.avg.pct_of_peak_sustained_active,dram__throughput.avg.pct_of_peak_sustained_elapsed
M=$M,smsp__issue_active.avg.pct_of_peak_sustained_active,lts__t_sector_hit_rate.pct
for st in long_scoreboard lg_throttle wait; do M=$M,smsp__average_warps_issue_stalled_${st}_per_issue_active.ratio; done
timeout 120 ncu --csv --metrics $M --target-processes all -k regex:single_path \
  bash .gpu/run.sh bench op --device cuda --forms single-path --grids 14 --warmup 0 --iters 1 > "$R/m14.csv" 2>/dev/null
python3 bench/gpu/ncu_metrics.py "$R/m14.csv" > "$R/metrics.txt"; cat "$R/metrics.txt"
opb() { local name=$1 runner=$2; shift 2; echo "=== $name ==="
  timeout 120 bash "$runner" bench op --device cuda "$@" --out "$R/$name.md" 2>&1 | grep -E "^\| [a-z0-9]"; }
step() { local name=$1 runner=$2; shift 2; echo "=== $name ==="
  timeout 150 bash "$runner" bench step --device cuda "$@" --out "$R/$name.md" 2>&1 | grep -E "^\| [a-z]"; }
for round in 1 2; do
  opb "op-base$round" .gpu/run-base.sh --forms single-path --grids 14,24,32 --warmup 3 --iters 20
  opb "op-new$round" .gpu/run.sh --forms single-path --grids 14,24,32 --warmup 3 --iters 20
done
for round in 1 2; do
  step "base$round" .gpu/run-base.sh --presets plstm_vit_t --sizes 224,512 --warmup 5 --iters 20
  step "new$round" .gpu/run.sh --presets plstm_vit_t --sizes 224,512 --warmup 5 --iters 20
done
step vit .gpu/run.sh --presets vit_t --sizes 224,512 --warmup 5 --iters 20
collect "$R/durations.txt" "$R/metrics.txt"
