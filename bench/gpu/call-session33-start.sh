#!/usr/bin/env bash
# Prepared in the thirty-first session (2026-12-02) for the next one's first call (about 5 minutes):
# 1. `plstm selfcheck --parts norm,layer`: the norm part's new leak check (ten float32 steps of the blocks' norm on the
#    GPU leave as many live tensors as one; written after the last device call of that session, so not yet run there);
# 2. Nsight Compute of one 224-px ViT-T step and one pLSTM-ViT-T step on the current code (the last ViT-T kernel list is
#    the twelfth session's, before the flat linear maps and the norm kernel): the per-kernel difference that is left;
# 3. three 224-px rounds of both models.
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session33-start.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
selfcheck 200 --parts norm,layer
for preset in plstm_vit_t vit_t; do
  timeout 150 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
    bash .gpu/run.sh bench step --device cuda --presets $preset --sizes 224 --warmup 1 --iters 1 > "$R/$preset.csv" 2> "$R/$preset.err"
  echo "$preset ncu exit $?"
done
python3 bench/gpu/ncu_sum.py --halve --top 300 plstm_vit_t="$R/plstm_vit_t.csv" vit_t="$R/vit_t.csv" > "$OUT/summary.txt"
head -3 "$OUT/summary.txt"
for round in 1 2 3; do
  part "step-224-$round" 60 step --presets plstm_vit_t,vit_t --sizes 224 --warmup 5 --iters 30
done
collect
(cd "$R" && tar czf "$OUT/profile.tgz" *.csv *.err)
