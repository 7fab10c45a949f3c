#!/usr/bin/env bash
# Thirty-sixth session (2026-12-02), first call: where the P-mode walk's backward spends its time at 32² (Nsight Compute
# memory traffic and stalls), and source variants of fused_gate.cu: BWD_ORIENT_FAST (the backward's blocks relabelled so
# that the four orientation blocks of one source block run together and share d𝒢's reads in L2), SEG 2 / 4.
# Bundle first, then run(command="OUT=$OUT bash bench/gpu/call-session36-walk-bwd.sh", carry=[".gpu"]).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
# The variants' switches are in bench/gpu/kernels/session36-walk-variants.patch (not kept in the kernel), applied to a
# copy of the kernel it was measured on (6bd2c92's; to re-run on a later tree, put that version in BASE_SRC first:
# `git show 6bd2c92:src/Plstm/Ops/TwoD/Kernels/fused_gate.cu > /tmp/fused_gate_6bd2c92.cu` and carry it).
K=src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
SRC=/tmp/fused_gate_s36.cu; cp "${BASE_SRC:-$K}" $SRC
python3 bench/gpu/apply_patch.py bench/gpu/kernels/session36-walk-variants.patch $K $SRC || exit 1
{ printf '#define BWD_ORIENT_FAST 1\n'; cat $SRC; } > /tmp/v-ofast.cu
{ printf '#define SEG 2\n'; cat $SRC; } > /tmp/v-seg2.cu
{ printf '#define BWD_ORIENT_FAST 1\n#define SEG 2\n'; cat $SRC; } > /tmp/v-ofseg2.cu
use() { if [ "$1" = base ]; then unset PLSTM_FUSED_GATE_SOURCE; else export PLSTM_FUSED_GATE_SOURCE=/tmp/v-$1.cu; fi; }
M='gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,lts__t_bytes.sum,l1tex__t_bytes_pipe_lsu_mem_local_op_ld.sum,l1tex__t_bytes_pipe_lsu_mem_local_op_st.sum,l1tex__t_bytes_pipe_lsu_mem_global_op_ld.sum,lts__t_sector_hit_rate.pct,launch__registers_per_thread,sm__warps_active.avg.pct_of_peak_sustained_active,smsp__issue_active.avg.pct_of_peak_sustained_active,smsp__inst_executed.sum,regex:smsp__average_warps_issue_stalled_(long_scoreboard|short_scoreboard|wait|lg_throttle|math_pipe_throttle|mio_throttle|no_instruction|not_selected|barrier|dispatch_stall|membar|drain|selected)_per_issue_active\.ratio'
for v in base ofast; do use $v
  timeout 90 ncu --csv --target-processes all -k regex:plstm_fused_gate_backward --metrics "$M" \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids 32 --warmup 0 --iters 1 > "$R/m-$v.csv" 2> "$R/m-$v.err"
  echo "ncu metrics $v exit $?"; python3 bench/gpu/ncu_metrics.py "$R/m-$v.csv" > "$R/metrics-$v.txt"; cat "$R/metrics-$v.txt"
done
files=""
for g in 24 32; do for v in base ofast seg2 ofseg2; do use $v
  timeout 60 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:plstm_fused_gate \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids $g --warmup 1 --iters 1 > "$R/ncu-$v-$g.csv" 2>/dev/null
  echo "ncu $v $g exit $?"; files="$files $v$g=$R/ncu-$v-$g.csv"
done; done
use base
python3 bench/gpu/ncu_sum.py --halve $files > "$R/durations.txt"; cat "$R/durations.txt"
for round in 1 2; do for v in base ofast; do use $v
  part "op-$v-$round" 40 op --forms kernel --mode p --grids 24,32 --warmup 3 --iters 10
done; done
use base
collect "$R/durations.txt" "$R"/metrics-*.txt
