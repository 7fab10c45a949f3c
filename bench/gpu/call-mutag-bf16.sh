#!/usr/bin/env bash
# One device call (2026-12-01, twenty-third session): MUTAG with the graph layers in bfloat16 (--compute-dtype
# bfloat16, the reference's autocast), the best combination of the earlier sessions (--reference-variants --select
# loss), torch seeds 12 and 13 (the local 2-core VM runs seeds 4-11 of the same fixed list). Each fold its own process
# on the GPU machine's CPU cores (--device cpu, one thread), then per seed the folds merged into one folder and
# summarised by a --resume run (nothing left to train). TU files in the ignored .gpu-data/tu/MUTAG.
# run: OUT=$OUT bash bench/gpu/call-mutag-bf16.sh with carry [".gpu", ".gpu-data"]. RUN replaces `bash .gpu/run.sh`
# (a local check: RUN="dotnet …/Plstm.Cli.dll" EXTRA="--epochs 1" SEEDS=98), EXTRA adds options, LIMIT caps each fold.
# First attempt (twenty-third session, LIMIT=150): the session's last 261 device seconds ran out before the folds
# finished; no results came back. It needs about 4–5 minutes of device time for two seeds.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/r; rm -rf "$R"; mkdir -p "$R"
${RUN:-bash .gpu/run.sh} --version >/dev/null 2>&1
echo "cores $(nproc)"
A="--dataset MUTAG --data .gpu-data --threads 1 --reference-variants --select loss --compute-dtype bfloat16 ${EXTRA:-}"
cat > /tmp/job.sh <<JOB
#!/usr/bin/env bash
s=\${1%:*}; f=\${1#*:}
timeout ${LIMIT:-180} ${RUN:-bash .gpu/run.sh} train graph $A --seed \$s --fold \$f --out "$R/s\$s-f\$f" > "$R/s\$s-f\$f.log" 2>&1
echo "seed \$s fold \$f exit \$?"
JOB
for s in ${SEEDS:-12 13}; do for f in 0 1 2 3 4 5 6 7 8 9; do echo "$s:$f"; done; done | xargs -P "$(nproc)" -n 1 bash /tmp/job.sh
for s in ${SEEDS:-12 13}; do
  mkdir -p "$R/seed$s"; cp -r "$R"/s$s-f*/fold-* "$R/seed$s"/ 2>/dev/null
  timeout 60 ${RUN:-bash .gpu/run.sh} train graph $A --seed $s --out "$R/seed$s" --resume > "$R/seed$s.log" 2>&1
  echo "seed$s: $(grep -h "Test accuracy" "$R/seed$s/summary.md" 2>/dev/null)"
done
tar czf "$OUT/mutag-bf16.tgz" -C "$R" --exclude='*.ckpt' .
