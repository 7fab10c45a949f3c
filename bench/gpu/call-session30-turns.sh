#!/usr/bin/env bash
# Twenty-ninth session (2026-12-02): single_path_turns with packed triangles (a thread per existing F and Ā entry). The
# bundle holds that build; .gpu/old/ the DLLs of the commit before it. Selfcheck of the single-path and layer cases, the
# D-mode closed form's kernels under Nsight Compute old / new (gate alone, fwd + bwd, B·H 384), and 512-px steps old / new
# alternating, float32 and bfloat16.
# Bundle, copy the old DLLs to .gpu/old/, then run(command="OUT=$OUT bash bench/gpu/call-session30-turns.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
stage_old
selfcheck 150 --parts single-path,layer
for build in old new; do
  runner=.gpu/run.sh; [ $build = old ] && runner=.gpu/run-old.sh
  timeout 90 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:single_path \
    bash $runner bench op --device cuda --forms single-path --mode d --grids 14,32 --warmup 1 --iters 1 > "$R/ncu-$build.csv" 2>/dev/null
  python3 bench/gpu/ncu_sum.py --halve "turns-$build"="$R/ncu-$build.csv" | tee -a "$R/durations.txt"
done
for round in 1 2; do
  part_old "step-old-$round" 60 step --presets plstm_vit_t --sizes 512 --warmup 5 --iters 20
  part "step-new-$round" 60 step --presets plstm_vit_t --sizes 512 --warmup 5 --iters 20
done
part_old step-bf16-old 60 step --presets plstm_vit_t --sizes 512 --dtype bfloat16 --warmup 5 --iters 20
part step-bf16-new 60 step --presets plstm_vit_t --sizes 512 --dtype bfloat16 --warmup 5 --iters 20
collect "$R/durations.txt"
