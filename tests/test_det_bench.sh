#!/bin/sh
# test_det_bench.sh -- the resumable detection results script of
# docs/detection.md ("Results"), bench/det.sh, on a tiny synthetic dataset
# and a small model (seconds, not the hour of the real runs): it makes the
# data once, stops after --max-runs inside a run's budget, resumes that run
# from its checkpoint with what is left, scores finished runs' best
# checkpoints on val and test with and without the Prophesee filter, refuses
# a run folder started with another command, passes --train-flags to every
# run, and bench/det_table.py builds the table from the run folders.
LTSNN=${LTSNN:-build/ltsnn}
d=$(mktemp -d /tmp/ltsnn-test-det-bench.XXXXXX) || exit 1
trap 'rm -rf "$d"' EXIT INT TERM
. tests/lib.sh
R="$d/out/runs"
det() { sh bench/det.sh --out "$d/out" --synth "--train 2 --val 1 --test 1 --duration 1" --size 32x40 -T 3 \
    --model 8C3-MP2-16C3-MP2-FC576 --rows sgp,fixed --seeds 1 --minutes 0.06 --chunk 0.03 --batch 4 --threads 1 \
    --ltsnn "$LTSNN" "$@"; }

sh bench/det.sh --rows sgp,nosuch >"$d/o" 2>&1
[ $? -eq 2 ] && grep -q "unknown threshold mode 'nosuch'" "$d/o" && ok "an unknown mode: exit 2, named" ||
    bad "unknown mode: $(cat "$d/o")"

det --max-runs 1 --no-table >"$d/o" 2>&1 || bad "first call: $(tail -n 3 "$d/o")"
[ -f "$d/out/cache/synth-32x40-T3-val.ltc" ] && ok "the data made once: $(ls "$d/out/cache" | tr '\n' ' ')" ||
    bad "no caches: $(cat "$d/o")"
[ -f "$R/sgp/seed1/last.safetensors" ] && [ ! -f "$R/sgp/seed1/DONE" ] && [ ! -d "$R/fixed" ] &&
    ok "--max-runs 1: one invocation, the run unfinished" || bad "after --max-runs 1: $(ls -R "$R")"

det --lr 0.002 >"$d/o" 2>&1
grep -q "was started with a different command" "$d/o" && ok "a run folder started with another command is refused" ||
    bad "refusal: $(cat "$d/o")"

det >"$d/o" 2>&1 || bad "second call: $(tail -n 3 "$d/o")"
grep -q -- "--resume $R/sgp/seed1/last.safetensors" "$R/sgp/seed1/invocations.txt" &&
    ok "the unfinished run resumed: $(wc -l < "$R/sgp/seed1/invocations.txt") invocations" ||
    bad "no resume: $(cat "$R/sgp/seed1/invocations.txt")"
n=0
for m in sgp fixed; do for f in val_toolbox val_none test_toolbox test_none; do
    /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert 0 <= r['voc'] <= 1" \
        "$R/$m/seed1/eval_$f.json" 2>/dev/null && n=$((n+1))
done; [ -f "$R/$m/seed1/DONE" ] && n=$((n+1)); done
[ $n -eq 10 ] && ok "both runs DONE, their best checkpoints scored 4 ways" || bad "DONE and eval files: $n of 10"
grep -q "^| sgp | 1 | done |" "$d/out/results.md" && grep -q "^| fixed | 1 | done |" "$d/out/results.md" &&
    grep -q "mode sgp --seed 1" "$d/out/results.md" && ok "results.md: both rows and the commands" ||
    bad "table: $(cat "$d/out/results.md")"
det --list >"$d/o" 2>&1 && [ "$(grep -c '^done' "$d/o")" -eq 2 ] && ok "--list: 2 done" || bad "--list: $(cat "$d/o")"
# finished runs kept without their checkpoints (as docs/results-data keeps them) give the same table
mkdir -p "$d/logs" && cp -R "$R" "$d/logs/" && rm -f "$d"/logs/runs/*/seed1/*.safetensors
/usr/bin/python3 bench/det_table.py "$d/logs" | grep "^| [a-z]* | 1 |" >"$d/t2" &&
    grep "^| [a-z]* | 1 |" "$d/out/results.md" >"$d/t1" && cmp -s "$d/t1" "$d/t2" && [ -s "$d/t1" ] &&
    ok "the table of finished runs without checkpoints is the same" || bad "logs-only table: $(cat "$d/t1" "$d/t2")"
# --train-flags reach every run's command (recorded in row.json); the script's own flags are refused in it
sh bench/det.sh --train-flags "--seed 3" --list >"$d/o" 2>&1
[ $? -eq 2 ] && grep -q "must not set" "$d/o" && ok "--train-flags setting --seed refused" || bad "--train-flags --seed: $(cat "$d/o")"
mkdir -p "$d/out2" && cp -R "$d/out/gen1-synth" "$d/out/cache" "$d/out2/"
sh bench/det.sh --out "$d/out2" --size 32x40 -T 3 --model 8C3-MP2-16C3-MP2-FC32-FC576 --rows fixed --seeds 1 \
    --minutes 0.02 --batch 4 --threads 1 --train-flags "--fc-spikes off" --max-runs 1 --no-table --ltsnn "$LTSNN" \
    >"$d/o" 2>&1 || bad "--train-flags run: $(tail -n 3 "$d/o")"
grep -q -- "--fc-spikes off --out" "$d/out2/runs/fixed/seed1/row.json" &&
    grep -q "hidden FC spikes off" "$d/out2/runs/fixed/seed1/train.out" &&
    ok "--train-flags \"--fc-spikes off\": in the recorded command and the run" ||
    bad "--train-flags: $(cat "$d/out2/runs/fixed/seed1/row.json") $(tail -n 3 "$d/out2/runs/fixed/seed1/train.out")"
echo "test_det_bench: $pass passed, $fail failed"
[ $fail -eq 0 ]
