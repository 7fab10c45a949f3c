#!/usr/bin/env bash
# GPU benchmark suite of `plstm bench` (docs/benchmarks.md), for one device call of at most 10 minutes.
#
# Prepare here (publishes the CLI with this machine's .NET into .gpu/):
#   ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj
# Run on the GPU machine through the device tool:
#   run(command="bash bench/gpu-suite.sh", carry=[".gpu"], timeout_s=600)
# Results: $OUT/{step-main,op-main,op-rest,step-rest}.{md,json} (8 files, the most the device returns) plus this
# script's log on stdout. Each part's files are rewritten after every row, so a part cut short keeps its rows.
#
# Order = importance: training steps at 224 and 512 px, the operator at 14² and 32² tokens, then the rest.
# Budget: SUITE_SECONDS (default 470) for everything, including the bundle's first unpack and process starts; every
# part gets --max-seconds = min(its cap, what is left − a margin) and an outer `timeout` as a backstop.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench-out}
mkdir -p "$OUT"
SUITE_SECONDS=${SUITE_SECONDS:-470}
MARGIN=15                     # per part: process start, CUDA initialisation, report writing
start=$(date +%s)
left() { echo $((SUITE_SECONDS - ($(date +%s) - start))); }
DEVICE=${BENCH_DEVICE:-cuda}   # cpu: a dry run of this script's logic on a machine without a GPU

[ -f .gpu/run.sh ] || { echo "gpu-suite: .gpu/run.sh missing: run ../shared/tools/gpu/bundle.sh src/Plstm.Cli/Plstm.Cli.csproj and carry .gpu" >&2; exit 2; }
echo "gpu-suite: $(date -u '+%F %T UTC'), budget ${SUITE_SECONDS}s, results in $OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | sed 's/^/gpu-suite: /'

# Probe: unpacks the bundle, checks CUDA works, and checks that reading libtorch's allocator statistics (only tried
# where libtorch exports them) does not take the process down; if it does, the parts run without them.
echo "=== probe ==="
timeout 180 bash .gpu/run.sh bench op --device "$DEVICE" --forms sdpa --grids 2 --bh 3 --dk 8 --warmup 0 --iters 1 > "$OUT/.probe.log" 2>&1
rc=$?
tail -n 3 "$OUT/.probe.log"
if [ $rc -ge 128 ]; then
  echo "gpu-suite: probe died (exit $rc): PLSTM_BENCH_ALLOCATOR_STATS=0 for the rest"
  export PLSTM_BENCH_ALLOCATOR_STATS=0
elif [ $rc -ne 0 ]; then
  echo "gpu-suite: probe failed (exit $rc); full log:"; cat "$OUT/.probe.log"
fi
rm -f "$OUT/.probe.log"

# part NAME CAP_SECONDS ARGS...: one bench command with its own report files.
part() {
  local name=$1 cap=$2; shift 2
  local remaining; remaining=$(left)
  if [ "$remaining" -le $((MARGIN + 10)) ]; then echo "=== $name: skipped, ${remaining}s left ==="; return; fi
  local limit=$((cap < remaining - MARGIN ? cap : remaining - MARGIN))
  echo "=== $name (--max-seconds $limit, ${remaining}s left) ==="
  timeout --kill-after=5 $((limit + MARGIN)) bash .gpu/run.sh bench "$@" --device "$DEVICE" --max-seconds "$limit" \
    --out "$OUT/$name.md" --json "$OUT/$name.json"
  echo "gpu-suite: $name exit $? after $(( $(date +%s) - start ))s"
}

part step-main 150 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 2 --iters 5
part op-main    90 op --grids 14,32 --dtype float32,bfloat16
part op-rest    90 op --grids 12,24,64 --dtype float32,bfloat16
part step-rest 150 step --presets plstm_vit_t,vit_t --sizes 192,384,1024 --warmup 2 --iters 5
echo "gpu-suite: done in $(( $(date +%s) - start ))s"
ls -l "$OUT"
