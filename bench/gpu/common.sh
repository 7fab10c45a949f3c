# Shared by the device-call scripts in this folder (source it after setting OUT and R):
#   probe   unpacks the bundle once and checks that CUDA answers (one tiny sdpa row);
#   part NAME CAP ARGS…   runs `plstm bench ARGS --device cuda` in its own process with a time limit of CAP seconds,
#           writes $R/NAME.md and $R/NAME.json and prints the table rows (a CUDA OOM aborts only that process).
probe() {
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  timeout 120 bash .gpu/run.sh bench op --device cuda --forms sdpa --grids 2 --bh 3 --dk 8 --warmup 0 --iters 1 | tail -1
}
part() { local name=$1 cap=$2; shift 2; echo "=== $name ==="
  timeout --kill-after=5 $((cap + 30)) bash .gpu/run.sh bench "$@" --device cuda --max-seconds "$cap" \
    --out "$R/$name.md" --json "$R/$name.json" 2>&1 | grep -E "^\| [a-z]|rror" ; echo "$name exit ${PIPESTATUS[0]}"; }
#   unpack  unpacks the bundle once (before runs that start in parallel);
#   train_run NAME ARGS…   runs `plstm train --data arrows --device cuda ARGS` with a time limit of $LIMIT seconds
#           (default 560) into /tmp/r/NAME, its log in /tmp/r-NAME.log with the results table appended.
unpack() { [ -d .gpu/stage ] || tar -C .gpu -xJf .gpu/bundle.tar.xz; }
train_run() { local name=$1; shift
  timeout ${LIMIT:-560} bash .gpu/run.sh train --data arrows --device cuda --no-plot --log-every 500 --out "/tmp/r/$name" "$@" \
    > "/tmp/r-$name.log" 2>&1; echo "$name exit $?"
  cat "/tmp/r/$name/results.md" >> "/tmp/r-$name.log" 2>/dev/null; }
#   selfcheck CAP ARGS…   runs `plstm selfcheck ARGS` with a time limit of CAP seconds, its output in
#           $R/selfcheck-full.txt; prints its exit status and keeps (and prints) the summary lines in $R/selfcheck.txt;
#   collect FILES…   writes $R/selfcheck.txt, every $R/*.md and FILES, each under a "=== name" line, into $OUT/all.md.
selfcheck() { local cap=$1; shift
  timeout "$cap" bash .gpu/run.sh selfcheck "$@" > "$R/selfcheck-full.txt" 2>&1; echo "selfcheck exit $?"
  grep -E "FAIL|kernels:|cases agree|rror|not run" "$R/selfcheck-full.txt" | tee "$R/selfcheck.txt"; }
collect() { for f in "$R"/selfcheck.txt "$R"/*.md "$@"; do echo "=== $(basename "$f")"; cat "$f"; done > "$OUT/all.md"; }
#   stage_old   makes .gpu/stage-old and .gpu/run-old.sh: a copy of the bundle's stage with the DLLs in .gpu/old/ (an
#           older build's Plstm.dll and Plstm.Cli.dll, put there after bundling) in place of its own (after probe);
#   part_old NAME CAP ARGS…   part with that older build.
stage_old() { cp -r .gpu/stage .gpu/stage-old && cp .gpu/old/*.dll .gpu/stage-old/app/
  sed "s#\\\$B/stage/#\$B/stage-old/#g" .gpu/run.sh > .gpu/run-old.sh; }
part_old() { local name=$1 cap=$2; shift 2; echo "=== $name ==="
  timeout --kill-after=5 $((cap + 30)) bash .gpu/run-old.sh bench "$@" --device cuda --max-seconds "$cap" \
    --out "$R/$name.md" --json "$R/$name.json" 2>&1 | grep -E "^\| [a-z]|rror" ; echo "$name exit ${PIPESTATUS[0]}"; }
#   gate_variant OUT PATCH [DEFINE…]   writes OUT: the gate walk kernel (fused_gate.cu, or $BASE_SRC when set) with the
#           hunks of PATCH (a `git diff` kept in kernels/; "-" for none) applied by apply_patch.py and a "#define DEFINE"
#           line prepended for each DEFINE (e.g. "SEG 2");
#   use_gate NAME   runs the next commands with /tmp/v-NAME.cu as the gate walk's source (PLSTM_FUSED_GATE_SOURCE), or
#           with the bundle's own for NAME = base.
gate_variant() { local out=$1 patch=$2 k=src/Plstm/Ops/TwoD/Kernels/fused_gate.cu; shift 2
  cp "${BASE_SRC:-$k}" "$out.base" || return 1
  if [ "$patch" != - ]; then python3 bench/gpu/apply_patch.py "$patch" $k "$out.base" || return 1; fi
  { for d in "$@"; do printf '#define %s\n' "$d"; done; cat "$out.base"; } > "$out"; rm -f "$out.base"; }
use_gate() { if [ "$1" = base ]; then unset PLSTM_FUSED_GATE_SOURCE; else export PLSTM_FUSED_GATE_SOURCE=/tmp/v-$1.cu; fi; }
