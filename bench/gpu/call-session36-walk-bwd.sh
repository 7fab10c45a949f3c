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
P=bench/gpu/kernels/session36-walk-variants.patch
gate_variant /tmp/v-ofast.cu $P "BWD_ORIENT_FAST 1" && gate_variant /tmp/v-seg2.cu $P "SEG 2" \
  && gate_variant /tmp/v-ofseg2.cu $P "BWD_ORIENT_FAST 1" "SEG 2" || exit 1
M='gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,lts__t_bytes.sum,l1tex__t_bytes_pipe_lsu_mem_local_op_ld.sum,l1tex__t_bytes_pipe_lsu_mem_local_op_st.sum,l1tex__t_bytes_pipe_lsu_mem_global_op_ld.sum,lts__t_sector_hit_rate.pct,launch__registers_per_thread,sm__warps_active.avg.pct_of_peak_sustained_active,smsp__issue_active.avg.pct_of_peak_sustained_active,smsp__inst_executed.sum,regex:smsp__average_warps_issue_stalled_(long_scoreboard|short_scoreboard|wait|lg_throttle|math_pipe_throttle|mio_throttle|no_instruction|not_selected|barrier|dispatch_stall|membar|drain|selected)_per_issue_active\.ratio'
for v in base ofast; do use_gate $v
  timeout 90 ncu --csv --target-processes all -k regex:plstm_fused_gate_backward --metrics "$M" \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids 32 --warmup 0 --iters 1 > "$R/m-$v.csv" 2> "$R/m-$v.err"
  echo "ncu metrics $v exit $?"; python3 bench/gpu/ncu_metrics.py "$R/m-$v.csv" > "$R/metrics-$v.txt"; cat "$R/metrics-$v.txt"
done
files=""
for g in 24 32; do for v in base ofast seg2 ofseg2; do use_gate $v
  timeout 60 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:plstm_fused_gate \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids $g --warmup 1 --iters 1 > "$R/ncu-$v-$g.csv" 2>/dev/null
  echo "ncu $v $g exit $?"; files="$files $v$g=$R/ncu-$v-$g.csv"
done; done
use_gate base
python3 bench/gpu/ncu_sum.py --halve $files > "$R/durations.txt"; cat "$R/durations.txt"
for round in 1 2; do for v in base ofast; do use_gate $v
  part "op-$v-$round" 40 op --forms kernel --mode p --grids 24,32 --warmup 3 --iters 10
done; done
use_gate base
collect "$R/durations.txt" "$R"/metrics-*.txt
