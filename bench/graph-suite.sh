#!/usr/bin/env bash
# PROTEINS and NCI1 10-fold cross-validations of the pLSTM graph classifier in one `plstm train graph` process on a
# many-core machine: the 20 folds share one pool of worker threads (1 libtorch thread each, longest folds first), and
# each data set's summary.json / summary.md lands in $OUT/graph-proteins/ and $OUT/graph-nci1/.
#
#   OUT=/path/to/results bash bench/graph-suite.sh
#
# Settings (environment):
#   OUT       results folder (required; must not hold fold folders of another run)
#   PLSTM     how to start the CLI (default: `plstm` on PATH, else the Release build of this checkout)
#   DATA      folder with tu/<NAME>/ or <NAME>/ (default: $PLSTM_DATA, then ../shared/data)
#   EPOCHS    epochs per fold (default 15: the paper's 100 do not fit 9 minutes on 16 CPU cores, see docs/graphs.md)
#   PARALLEL  folds trained at once (default 20 = every fold; the OS shares the cores among them)
#   LIMIT_S   wall-clock limit in seconds (default 480; with the 45 s grace below the script ends within 9 minutes); at the limit the run is interrupted (SIGTERM; a background shell ignores SIGINT), finished folds
#             and an "interrupted" summary of them are kept
set -euo pipefail

: "${OUT:?set OUT to the results folder}"
EPOCHS="${EPOCHS:-15}"
PARALLEL="${PARALLEL:-20}"
LIMIT_S="${LIMIT_S:-480}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${PLSTM:-}" ]]; then
    if command -v plstm >/dev/null 2>&1; then PLSTM=plstm
    else PLSTM="dotnet $ROOT/src/Plstm.Cli/bin/Release/net10.0/Plstm.Cli.dll"; fi
fi
data_args=()
if [[ -n "${DATA:-}" ]]; then data_args=(--data "$DATA"); fi

mkdir -p "$OUT"
echo "graph suite: $(nproc) cores, EPOCHS=$EPOCHS PARALLEL=$PARALLEL LIMIT_S=$LIMIT_S, started $(date -u +%FT%TZ)" | tee "$OUT/graph-suite.log"
start=$(date +%s)
status=0
# shellcheck disable=SC2086 # PLSTM may be a command with arguments (dotnet …/Plstm.Cli.dll)
timeout --signal=TERM --kill-after=45 "$LIMIT_S" $PLSTM train graph --dataset NCI1 --dataset PROTEINS "${data_args[@]}" \
    --folds 10 --epochs "$EPOCHS" --parallel-folds "$PARALLEL" --threads 1 --out "$OUT" 2>&1 \
    | tee -a "$OUT/graph-suite.log" || status=$?
echo "graph suite: exit $status after $(( $(date +%s) - start )) s" | tee -a "$OUT/graph-suite.log"
for d in nci1 proteins; do
    [[ -f "$OUT/graph-$d/summary.md" ]] && grep -m1 'Test accuracy' "$OUT/graph-$d/summary.md" | sed "s/^/$d: /"
done
exit "$status"
