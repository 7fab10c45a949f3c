#!/usr/bin/env bash
# The state-tracking comparison of docs/state-tracking.md: 2 tasks (parity, s5) × {pLSTM JT = 1, pLSTM JT = 4,
# causal transformer}, six `plstm train state` runs started in parallel, each in OUT/<task>-<model>/ (results.json,
# results.md, metrics.jsonl) with its log in OUT/<task>-<model>.log; at the end OUT/summary.md collects the six tables.
#
# Usage: bench/state-suite.sh OUT [extra options for every run]
# Extra options must not repeat the ones set here (the parser rejects a repeated option): change those through the
# environment below.
# Environment:
#   PLSTM        command that runs the CLI (default: dotnet src/Plstm.Cli/bin/Release/net10.0/Plstm.Cli.dll;
#                on the GPU machine: "bash .gpu/run.sh")
#   DEVICE       cpu (default) or cuda
#   THREADS      libtorch threads per run (default 2: six runs fill 12 cores)
#   TIME_LIMIT   seconds of training per run (default 0 = none; the schedule follows the time fraction, see --time-limit)
#   STEPS        steps per run (default 30000; with TIME_LIMIT usually the time runs out first)
#   SEED         run seed (default 0)
#   BATCH        sequences per step (default 64; 256 on a GPU costs about the same time per step)
#   LR           peak learning rate (default 2e-3)
#   DIM          model width (default 64)
#   TEST_COUNT   sequences per test length (default 512)
#   EVAL_EVERY   periodic evaluation at length 64 every N steps (default 500)
#   EXTRA        1: also three S5 variants aimed at the ≥ 95 % target (1 layer; JT = 4 with random initial
#                transitions; JT = 8), in OUT/s5-jt4-1layer, s5-jt4-randT, s5-jt8
# Every run uses the configuration documented in docs/state-tracking.md (D 64, 2 layers, 4 heads, read-out delay 1,
# train length 64 with a curriculum from 2 over the first half of the schedule).
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 OUT [extra options for every run]" >&2
    exit 2
fi
out=$1
shift
if [[ -e "$out" && -n "$(ls -A "$out" 2>/dev/null)" ]]; then
    echo "$0: $out exists and is not empty" >&2
    exit 2
fi
mkdir -p "$out"
extra_args=("$@")

read -r -a plstm <<< "${PLSTM:-dotnet src/Plstm.Cli/bin/Release/net10.0/Plstm.Cli.dll}"
device=${DEVICE:-cpu}
threads=${THREADS:-2}
time_limit=${TIME_LIMIT:-0}
steps=${STEPS:-30000}
seed=${SEED:-0}
batch=${BATCH:-64}
lr=${LR:-2e-3}
curriculum=$(( steps / 2 ))

common=(--dim "${DIM:-64}" --heads 4 --batch-size "$batch" --lr "$lr" --train-length 64 --curriculum "$curriculum"
        --min-train-length 2 --test-lengths 64,128,256 --test-count "${TEST_COUNT:-512}"
        --eval-every "${EVAL_EVERY:-500}" --log-every 100
        --steps "$steps" --time-limit "$time_limit" --seed "$seed" --device "$device" --threads "$threads")

runs=()
pids=()
start() {
    local name=$1 task=$2
    shift 2
    "${plstm[@]}" train state --task "$task" "${common[@]}" "$@" --out "$out/$name" > "$out/$name.log" 2>&1 &
    pids+=($!)
    runs+=("$name")
}
for task in parity s5; do
    start "$task-jt1" "$task" --model plstm --jt 1 --layers 2 "${extra_args[@]}"
    start "$task-jt4" "$task" --model plstm --jt 4 --layers 2 "${extra_args[@]}"
    start "$task-transformer" "$task" --model transformer --layers 2 "${extra_args[@]}"
done
if [[ "${EXTRA:-0}" == 1 ]]; then
    start s5-jt4-1layer s5 --model plstm --jt 4 --layers 1 "${extra_args[@]}"
    start s5-jt4-randT s5 --model plstm --jt 4 --layers 2 --transition-init 0.05 "${extra_args[@]}"
    start s5-jt8 s5 --model plstm --jt 8 --layers 2 "${extra_args[@]}"
fi

status=0
for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
        echo "$0: run ${runs[$i]} failed; see $out/${runs[$i]}.log" >&2
        status=1
    fi
done

{
    echo "# State-tracking suite"
    echo
    for name in "${runs[@]}"; do
        if [[ -f "$out/$name/results.md" ]]; then
            cat "$out/$name/results.md"
        else
            echo "$name: no results (see $name.log)"
        fi
        echo
    done
} > "$out/summary.md"
cat "$out/summary.md"
exit $status
