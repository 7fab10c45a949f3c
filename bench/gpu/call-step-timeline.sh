#!/usr/bin/env bash
# One device call (2026-12-01, eighteenth session): where the 224-px pLSTM-ViT-T training step's time goes now —
# GPU kernel time against wall time (is the step launch-bound?), with Nsight Systems when the machine has it (real
# kernel durations and the gaps between them), else Nsight Compute's per-kernel durations; ViT-T beside it.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-tl; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
which nsys ncu 2>&1 | head -3
part step224 150 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 3 --iters 10
if command -v nsys >/dev/null; then
  for preset in plstm_vit_t vit_t; do
    timeout 200 nsys profile -t cuda,osrt --stats=false -o "$R/$preset" -f true \
      bash .gpu/run.sh bench step --device cuda --presets $preset --sizes 224 --warmup 3 --iters 5 > "$R/$preset.log" 2>&1
    echo "$preset nsys exit $?"
    nsys stats -r cuda_gpu_kern_sum,cuda_api_sum -f csv -o "$R/$preset" "$R/$preset.nsys-rep" > /dev/null 2>&1
    nsys stats -r cuda_gpu_trace -f csv -o "$R/$preset" "$R/$preset.nsys-rep" > /dev/null 2>&1
    ls "$R"
  done
  python3 bench/gpu/nsys_gaps.py "$R" plstm_vit_t vit_t | tee "$R/summary.txt"
else
  for preset in plstm_vit_t vit_t; do
    timeout 200 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
      bash .gpu/run.sh bench step --device cuda --presets $preset --sizes 224 --warmup 1 --iters 1 > "$R/$preset.csv" 2> "$R/$preset.err"
    echo "$preset ncu exit $?"
  done
  python3 bench/gpu/ncu_sum.py --halve plstm_vit_t="$R/plstm_vit_t.csv" vit_t="$R/vit_t.csv" | tee "$R/summary.txt"
fi
cp "$R"/*.md "$OUT"/ 2>/dev/null; (cd "$R" && tar czf "$OUT/results.tgz" summary.txt *.csv *.log 2>/dev/null)
