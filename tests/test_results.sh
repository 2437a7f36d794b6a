#!/bin/sh
# test_results.sh -- the resumable results pipeline of docs/results.md:
# bench/fmnist.sh stops after --max-runs inside a run's budget, resumes that
# run from its checkpoint with the rest of the budget, skips finished runs,
# refuses a run folder started with other settings, resumes a run stopped
# by a signal inside its first epoch (its stopped part logged), and
# bench/results_table.py rebuilds the table from the run folders (each seed's
# final accuracy is its log's last evaluation; --by-epoch lines runs up by
# epoch).  Tiny runs: 320 training images, 6 s of training each (in 3 s
# chunks), on the real Fashion-MNIST.  And
# bench/spikes_figure.py's spikes per sample on the committed matrix runs.
LTSNN=${LTSNN:-./ltsnn}
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    echo "test_results: Fashion-MNIST not installed (scripts/install-deps.sh installs it); skipped"
    exit 77
fi
d=$(mktemp -d /tmp/ltsnn-test-results.XXXXXX) || exit 1
trap 'rm -rf "$d"' EXIT
fail=0
bad() { echo "FAIL test_results.sh: $*" >&2; fail=1; }
R="$d/out/runs/static"
fm() { sh bench/fmnist.sh --out "$d/out" --rows fixed,sgp --inputs static --seeds 1,2 --minutes 0.1 \
    --limit 320 --batch 32 --threads 1 --ltsnn "$LTSNN" "$@"; }
lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }

# a wrong option: exit 2, named
sh bench/fmnist.sh --rows fixed,nosuch > "$d/o" 2>&1
rc=$?
[ $rc -eq 2 ] || bad "unknown row: exit $rc, want 2"
grep -q "unknown row 'nosuch'" "$d/o" || bad "unknown row not named: $(cat "$d/o")"

# one invocation of half the budget, then stop: the run is unfinished
fm --chunk 0.05 --max-runs 1 --no-table > "$d/o" 2>&1 || bad "first call failed: $(tail -n 3 "$d/o")"
[ -f "$R/fixed/seed1/last.safetensors" ] || bad "first run saved no checkpoint"
[ ! -f "$R/fixed/seed1/DONE" ] || bad "first run DONE after half its budget"
[ ! -d "$R/sgp/seed1" ] || bad "--max-runs 1 started a second run"
[ "$(lines "$R/fixed/seed1/invocations.txt")" -eq 1 ] || bad "want 1 invocation after --max-runs 1"
fm --list > "$d/o" 2>&1 || bad "--list failed"
grep -q "todo .*static/fixed/seed1 (0\.0[0-5] of 0.1 min left)" "$d/o" ||
    bad "--list does not show the unfinished run with less than its budget left: $(cat "$d/o")"
[ "$(grep -c '^todo' "$d/o")" -eq 4 ] || bad "--list: want 4 runs to do"

# the rest: the first run is resumed, the other three made
fm --chunk 0.05 > "$d/o" 2>&1 || bad "second call failed: $(tail -n 3 "$d/o")"
for r in fixed/seed1 fixed/seed2 sgp/seed1 sgp/seed2; do
    [ -f "$R/$r/DONE" ] || { bad "$r not DONE"; continue; }
    [ -s "$R/$r/fig_accuracy_threshold.svg" ] || bad "$r has no figure"
    left=$(python3 bench/results_table.py --remaining "$R/$r" 6)
    awk -v x="$left" 'BEGIN { exit !(x < 1) }' || bad "$r DONE with $left s of its 6 s budget left"
done
sed -n 2p "$R/fixed/seed1/invocations.txt" | grep -q -- "--minutes 0.0[0-9]* .*--resume $R/fixed/seed1/last.safetensors" ||
    bad "second invocation of fixed/seed1 does not resume: $(sed -n 2p "$R/fixed/seed1/invocations.txt")"
[ -s "$d/out/results.md" ] || bad "results.md not written"

# the table: both seeds of both rows, each seed's final = its log's last evaluation
python3 - "$d/out" > "$d/o" 2>&1 <<'EOF' || bad "table check: $(cat "$d/o")"
import json, os, sys
out = sys.argv[1]
text = open(os.path.join(out, "results.md")).read()
for row, label in (("fixed", "fixed threshold (no threshold learning)"), ("sgp", "SGP, sigmoid window")):
    line = next(l for l in text.splitlines() if l.startswith("| " + label + " ["))
    cells = [c.strip() for c in line.split("|")[1:-1]]
    assert cells[1] == "1, 2", line
    want = []
    for s in (1, 2):
        log = [json.loads(l) for l in open(os.path.join(out, "runs/static", row, f"seed{s}", "log.jsonl"))]
        want.append(f"s{s}: {log[-1]['test_acc']:.2f}")
    assert cells[4] == " / ".join(want), (cells[4], want)
    assert cells[-1] == "done", line
    assert len(cells) == 11, line
    assert cells[0].count("[") == 1
assert "Thresholds and firing rates" in text
assert "--seed $S" in text and "./ltsnn train" in text
EOF

# --splice: the tables go between the markers, the text around them stays,
# and a second splice changes nothing
printf 'before\n<!-- results_table %s -->\nstale\n<!-- /results_table -->\nafter\n' "$d/out" > "$d/doc.md"
python3 bench/results_table.py "$d/out" --splice "$d/doc.md" > /dev/null 2>&1 || bad "--splice failed"
[ "$(head -n 1 "$d/doc.md")" = before ] && [ "$(tail -n 1 "$d/doc.md")" = after ] || bad "--splice lost the text around"
grep -q stale "$d/doc.md" && bad "--splice kept the old body"
grep -q "^| SGP, sigmoid window \[" "$d/doc.md" || bad "--splice wrote no table"
cp "$d/doc.md" "$d/doc1.md"
python3 bench/results_table.py "$d/out" --splice "$d/doc.md" > /dev/null 2>&1
cmp -s "$d/doc.md" "$d/doc1.md" || bad "a second --splice changed the page"
python3 bench/results_table.py "$d/out" --splice "$d/o" > /dev/null 2>&1 && bad "--splice without markers succeeded"

# called again: nothing to do, nothing run
n1=$(cat "$R"/*/*/invocations.txt | wc -l)
fm > "$d/o" 2>&1 || bad "third call failed"
n2=$(cat "$R"/*/*/invocations.txt | wc -l)
[ "$n1" -eq "$n2" ] || bad "finished runs trained again ($n1 -> $n2 invocations)"
grep -q "train " "$d/o" && bad "third call printed a training command"

# a finished folder with other settings is refused, and left alone
rm "$R/sgp/seed2/DONE"
cp "$R/sgp/seed2/log.jsonl" "$d/log.before"
sh bench/fmnist.sh --out "$d/out" --rows sgp --inputs static --seeds 2 --minutes 0.1 --limit 320 \
    --batch 16 --threads 1 --ltsnn "$LTSNN" > "$d/o" 2>&1
rc=$?
[ $rc -eq 2 ] || bad "other settings: exit $rc, want 2"
grep -q "was started with a different command" "$d/o" || bad "other settings not explained: $(cat "$d/o")"
cmp -s "$d/log.before" "$R/sgp/seed2/log.jsonl" || bad "refused run's log changed"

# a signal inside the last 1 % of a time budget: the run's last record is the unevaluated stopped part, and
# what is left is below the tolerance; the script trains one step more (--minutes 0.0010), which ends the
# run evaluated, instead of calling it done.  Made from a finished run: its folder without DONE, an
# interrupted line appended to its log and counted by its checkpoint, as ltsnn writes them.
F="$R/fixed/seed2"
rm "$F/DONE"
python3 - "$F" > "$d/o" 2>&1 <<'PY' || bad "edge: could not make the interrupted state: $(cat "$d/o")"
import json, os, struct, sys
d = sys.argv[1]
lines = open(os.path.join(d, "log.jsonl")).read().splitlines()
r = json.loads(lines[-1])
r.update(partial=True, interrupted=True, test_acc=-1.0, train_seconds=0.01, seconds=0.01)
with open(os.path.join(d, "log.jsonl"), "a") as f:
    f.write(json.dumps(r) + "\n")
p = os.path.join(d, "last.safetensors")
raw = open(p, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
head = json.loads(raw[8:8 + n])
head["__metadata__"]["log_lines"] = str(int(head["__metadata__"]["log_lines"]) + 1)
h = json.dumps(head).encode()
h += b" " * (-len(h) % 8)
open(p, "wb").write(struct.pack("<Q", len(h)) + h + raw[8 + n:])
PY
python3 bench/results_table.py --last-interrupted "$F" || bad "edge: --last-interrupted does not see the stopped part"
n1=$(wc -l < "$F/invocations.txt")
sh bench/fmnist.sh --out "$d/out" --rows fixed --inputs static --seeds 2 --minutes 0.1 --limit 320 --batch 32 \
    --threads 1 --ltsnn "$LTSNN" --no-table > "$d/o" 2>&1 || bad "edge: the call failed: $(tail -n 3 "$d/o")"
[ "$(wc -l < "$F/invocations.txt")" -eq $((n1 + 1)) ] && tail -n 1 "$F/invocations.txt" | grep -q -- "--minutes 0.0010 " ||
    bad "edge: want one more invocation of --minutes 0.0010: $(tail -n 2 "$F/invocations.txt")"
[ -f "$F/DONE" ] || bad "edge: not DONE after the extra step"
python3 bench/results_table.py --last-interrupted "$F" && bad "edge: the run still ends unevaluated"
tail -n 1 "$F/log.jsonl" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["test_acc"] >= 0, r' ||
    bad "edge: the last log line is not an evaluation"

# an epoch budget (equal samples): an invocation cut short by --chunk is resumed inside its epoch, the
# run is DONE when its log holds epoch 2 whole, every run has seen exactly 2 x 320 samples, and the
# table names the budget in epochs
E="$d/ep/runs/static"
fe() { sh bench/fmnist.sh --out "$d/ep" --rows fixed,sgp --inputs static --seeds 1 --epochs 2 \
    --limit 320 --batch 32 --threads 1 --ltsnn "$LTSNN" "$@"; }
fe --chunk 0.001 --max-runs 1 --no-table > "$d/o" 2>&1 || bad "epochs: first call failed: $(tail -n 3 "$d/o")"
[ ! -f "$E/fixed/seed1/DONE" ] || bad "epochs: DONE after one invocation of a few steps"
[ "$(python3 bench/results_table.py --remaining-epochs "$E/fixed/seed1" 2)" -ge 1 ] ||
    bad "epochs: --remaining-epochs says nothing is left after a cut-short invocation"
fe > "$d/o" 2>&1 || bad "epochs: second call failed: $(tail -n 3 "$d/o")"
for r in fixed sgp; do
    [ -f "$E/$r/seed1/DONE" ] || bad "epochs: $r not DONE"
    [ "$(python3 bench/results_table.py --remaining-epochs "$E/$r/seed1" 2)" = 0 ] || bad "epochs: $r has epochs left"
    grep -q -- "--epochs 2 " "$E/$r/seed1/invocations.txt" || bad "epochs: $r not trained with --epochs 2"
    grep -q -- "--minutes" "$E/$r/seed1/row.json" && bad "epochs: $r's recorded command has a minutes budget"
    python3 -c 'import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]
l=[x for x in l if "epoch" in x and not x["partial"]]
assert [(x["epoch"], x["samples"]) for x in l] == [(1, 320), (2, 320)], l' "$E/$r/seed1/log.jsonl" 2>"$d/o" ||
        bad "epochs: $r's log is not 2 whole epochs of 320: $(tail -n 1 "$d/o")"
done
[ "$(wc -l < "$E/fixed/seed1/invocations.txt")" -eq 2 ] || bad "epochs: the cut-short run was not resumed once"
sed -n 2p "$E/fixed/seed1/invocations.txt" | grep -q -- "--resume $E/fixed/seed1/last.safetensors" ||
    bad "epochs: the second invocation does not resume"
grep -q "Budget: 2 epochs per run (equal samples" "$d/ep/results.md" || bad "epochs: the table does not name the budget"

# --by-epoch: a line per whole epoch with each run's test accuracy from its log, a V_th column only for
# the run whose thresholds move, and a folder that is not a run refused with exit 1
python3 bench/results_table.py --by-epoch "$E/fixed/seed1=F" "$E/sgp/seed1" > "$d/be" 2> "$d/o" ||
    bad "--by-epoch failed: $(cat "$d/o")"
python3 - "$d/be" "$E" > "$d/o" 2>&1 <<'PY' || bad "--by-epoch table: $(cat "$d/o")"
import json, sys
rows = [l.split("|")[1:-1] for l in open(sys.argv[1]).read().splitlines()]
rows = [[c.strip() for c in r] for r in rows]
assert rows[0] == ["epoch", "F test %", "training min", "sgp seed 1 test %", "training min", "V_th"], rows[0]
assert [r[0] for r in rows[2:]] == ["1", "2"], rows
for col, run in ((1, "fixed"), (3, "sgp")):
    log = [json.loads(l) for l in open(f"{sys.argv[2]}/{run}/seed1/log.jsonl")]
    want = [f"{x['test_acc']:.2f}" for x in log if "epoch" in x and not x["partial"]]
    assert [r[col] for r in rows[2:]] == want, (run, want, rows)
    t, mins = 0.0, []
    for x in (x for x in log if "epoch" in x):
        t += x["train_seconds"]
        if not x["partial"]:
            mins.append(f"{t / 60:.1f}")
    assert [r[col + 1] for r in rows[2:]] == mins, (run, mins, rows)
    if run == "sgp":
        assert len(rows[3][5].split()) == len(log[-1]["vth"]), rows[3]
PY
python3 bench/results_table.py --by-epoch "$d" > "$d/o" 2>&1
[ $? -eq 1 ] && grep -q "no log.jsonl" "$d/o" || bad "--by-epoch on a folder without a log: $(cat "$d/o")"

# a script stopped (SIGTERM) inside a run's first epoch: ltsnn logs the stopped part (no evaluation, its
# training seconds, "interrupted") and saves last.safetensors; the next call resumes from that checkpoint (it
# used to start over into a folder that holds a run, which ltsnn refuses) and the run ends with exactly one
# epoch of 1600 samples, its stopped part's seconds counted once
I="$d/int/runs/static/fixed/seed1"
fi_() { exec sh bench/fmnist.sh --out "$d/int" --rows fixed --inputs static --seeds 1 --epochs 1 --limit 1600 \
    --batch 16 --threads 1 --no-table --ltsnn "$LTSNN"; }
(fi_) > "$d/oi" 2>&1 &
fpid=$! # the script itself (exec), so that its trap stops ltsnn, which saves
i=0
while ! grep -q "batch [0-9]*/100 " "$I/train.out" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done
kill -TERM $fpid
wait $fpid
if [ -f "$I/last.safetensors" ] && [ -f "$I/log.jsonl" ] && [ ! -f "$I/DONE" ]; then
    python3 -c 'import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]
assert len(l) == 1 and l[0]["epoch"] == 1 and l[0]["partial"] and l[0]["interrupted"], l
assert l[0]["test_acc"] == -1 and 0 < l[0]["samples"] < 1600 and l[0]["train_seconds"] > 0, l' "$I/log.jsonl" \
        2>"$d/o" || bad "interrupted: the stopped part is not logged as such: $(tail -n 1 "$d/o")"
    python3 bench/results_table.py --last-interrupted "$I" || bad "interrupted: --last-interrupted says no"
    python3 bench/results_table.py "$d/int" > "$d/o" 2>&1 && grep -q "| s1 unfinished: 0\.[0-9]* of 1 epochs |" "$d/o" ||
        bad "interrupted: the table does not show the stopped part: $(grep '^| fixed' "$d/o")"
    (fi_) > "$d/o" 2>&1 || bad "interrupted: second call failed: $(tail -n 3 "$d/o")"
    sed -n 2p "$I/invocations.txt" | grep -q -- "--resume $I/last.safetensors" ||
        bad "interrupted: the second call does not resume: $(cat "$I/invocations.txt")"
    python3 -c 'import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]
assert "resume" in l[1] and l[1]["from_epoch"] == 1 and l[1]["from_batch"] == l[0]["batches"] > 0, l[1]
assert l[1]["log_lines_at_checkpoint"] == 1, l[1]
l=[x for x in l if "epoch" in x]
assert [(x["epoch"], x["samples"], x["partial"]) for x in l] == [(1, l[0]["samples"], True), (1, 1600, False)], l
assert "interrupted" not in l[1] and l[1]["test_acc"] >= 0, l[1]' "$I/log.jsonl" 2>"$d/o" ||
        bad "interrupted: the resumed log is not the stopped part and one whole epoch of 1600: $(tail -n 1 "$d/o")"
    [ -f "$I/DONE" ] || bad "interrupted: not DONE after the second call"
    python3 bench/results_table.py --last-interrupted "$I" && bad "interrupted: --last-interrupted after the resume"
    # a minutes budget counts the stopped part's seconds: what is left is the budget less both lines' seconds
    want=$(python3 -c 'import json,sys; print("%.3f" % max(0, 600 - sum(json.loads(x).get("train_seconds", 0)
        for x in open(sys.argv[1]))))' "$I/log.jsonl")
    [ "$(python3 bench/results_table.py --remaining "$I" 600)" = "$want" ] ||
        bad "interrupted: --remaining does not count the stopped part's seconds"
else
    bad "interrupted: want a checkpoint and a log after SIGTERM in the first epoch: $(ls "$I") $(tail -n 2 "$d/oi")"
fi

# bench/paired_table.py: the seed-paired difference of the two epoch-budget runs is their logs' final
# accuracies subtracted, and the effective thresholds of a hand-made checkpoint are worked by hand:
# BN gamma (2, 0.5), beta (0.2, -0.1), V 1.5: channels (1.5 - 0.2) / 2 = 0.65 and 1.6 / 0.5 = 3.2, median
# 1.925; tdBN scales by V too: 0.65 / 1.5 and 3.2 / 1.5, median 1.2833; a LIF without BN (V 0.7): 0.7
/usr/bin/python3 bench/paired_table.py "$d/ep" --pairs sgp:fixed --ltsnn "$LTSNN" > "$d/pt.md" 2>"$d/o" ||
    bad "paired_table.py failed: $(cat "$d/o")"
/usr/bin/python3 - "$d/pt.md" "$E" "$d" > "$d/o" 2>&1 <<'EOF2' || bad "paired_table.py: $(cat "$d/o")"
import json, struct, sys
sys.path.insert(0, "bench")
import paired_table
md, E, d = sys.argv[1:]
acc = {r: [json.loads(l) for l in open(f"{E}/{r}/seed1/log.jsonl") if '"epoch"' in l][-1]["test_acc"]
       for r in ("fixed", "sgp")}
line = next(l for l in open(md) if l.startswith("| sgp | fixed |"))
assert f"s1: {acc['sgp'] - acc['fixed']:+.2f}" in line, (line, acc)
def st(path, bn):
    t = {"blocks.0.bn.weight": [2.0, 0.5], "blocks.0.bn.bias": [0.2, -0.1], "blocks.0.bn.running_mean": [0.0, 0.0],
         "blocks.0.lif.vth": [1.5], "blocks.1.lif.vth": [0.7]}
    head, data = {"__metadata__": {"bn": bn}}, b""
    for k, v in t.items():
        head[k] = {"dtype": "F32", "shape": [len(v)], "data_offsets": [len(data), len(data) + 4 * len(v)]}
        data += struct.pack(f"<{len(v)}f", *v)
    h = json.dumps(head).encode()
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + data)
    return paired_table.effective_thresholds(path)
assert [paired_table.every_seed(d) for d in ([0.0, 0.0], [0.1, 0.2], [-0.1, -0.2], [0.0, 0.3], [0.1, -0.1])] == \
    ["equal", "ahead", "behind", "mixed", "mixed"]
for bn, want in (("standard", 1.925), ("td", (0.65 + 3.2) / 2 / 1.5)):
    (v0, e0), (v1, e1) = st(f"{d}/h.safetensors", bn)
    assert abs(v0 - 1.5) < 1e-6 and abs(e0 - want) < 1e-5 and abs(e1 - 0.7) < 1e-6, (bn, e0, want, e1)
EOF2
/usr/bin/python3 bench/paired_table.py "$d/ep" --pairs sgp > "$d/o" 2>&1 && bad "paired_table.py took a pair without a base"

# --energy: a finished run gets RUN/energy.txt (ltsnn eval --energy on its last checkpoint) once, and
# paired_table.py reports its SOPs and energy per sample; off by default with --limit
[ ! -e "$E/fixed/seed1/energy.txt" ] || bad "energy: written under --limit without --energy"
fe --rows fixed --energy --no-table > "$d/o" 2>&1 || bad "energy: call failed: $(tail -n 3 "$d/o")"
grep -q "^total " "$E/fixed/seed1/energy.txt" 2>/dev/null || bad "energy: no totals in $E/fixed/seed1/energy.txt"
[ ! -e "$E/fixed/seed1/energy.tmp" ] && [ ! -e "$E/sgp/seed1/energy.txt" ] || bad "energy: a leftover or a row not asked for"
cp "$E/fixed/seed1/energy.txt" "$d/energy.before"
fe --rows fixed --energy --no-table > "$d/o" 2>&1 || bad "energy: second call failed: $(tail -n 3 "$d/o")"
grep -q "== energy" "$d/o" && bad "energy: evaluated again though energy.txt was there"
/usr/bin/python3 bench/paired_table.py "$d/ep" --pairs sgp:fixed --ltsnn "$LTSNN" > "$d/pt.md" 2>"$d/o" ||
    bad "paired_table.py with energy failed: $(cat "$d/o")"
/usr/bin/python3 - "$d/pt.md" "$E/fixed/seed1/energy.txt" > "$d/o" 2>&1 <<'EOF2' || bad "energy columns: $(cat "$d/o")"
import re, sys
md, en = sys.argv[1:]
macs, sops, nj = map(float, re.search(r"^total\s+(\S+)\s+(\S+)\s+(\S+)", open(en).read(), re.M).groups())
assert sops > 0 and abs(nj - (4.6 * macs + 0.9 * sops) / 1e3) < 0.01 * nj, (macs, sops, nj)
rows = {l.split("|")[1].strip(): l.split("|") for l in open(md) if l.count("|") == 8}
assert rows["fixed"][6].strip() == f"{sops / 1e6:.2f}M" and rows["fixed"][7].strip() == f"{nj / 1e3:.2f}", rows["fixed"]
assert rows["sgp"][6].strip() == "—", rows["sgp"]  # no energy.txt: nothing made up
EOF2

# bench/spikes_figure.py on the committed matrix runs: spikes per sample against a count made here from
# the fmnist preset's layer sizes (T=4; 32x28x28 twice, 64x14x14 twice, FC256), one point per run
/usr/bin/python3 bench/spikes_figure.py docs/results-data/matrix --out "$d/sp.svg" --ltsnn "$LTSNN" --table \
    >"$d/sp.md" 2>"$d/sp.err" || bad "spikes_figure.py: $(cat "$d/sp.err")"
/usr/bin/python3 - "$d/sp.md" <<'PY' || bad "spikes per sample differ from the hand count"
import json, sys
n = [32 * 28 * 28, 32 * 28 * 28, 64 * 14 * 14, 64 * 14 * 14, 256]
want = []
for s in (1, 2, 3):
    lines = [json.loads(l) for l in open(f'docs/results-data/matrix/static-fixed-seed{s}/log.jsonl') if '"epoch"' in l]
    want.append(4 * sum(a * b for a, b in zip(lines[-1]['rate'], n)))
row = [l for l in open(sys.argv[1]) if l.startswith('| static | fixed |')][0].split('|')
got = float(row[4].replace(',', ''))
assert abs(got - sum(want) / 3) < 1, (got, sum(want) / 3)
PY
[ "$(grep -c '<circle' "$d/sp.svg")" -eq $((54 + 18 + 9)) ] || bad "spikes figure: not 54 runs, 18 row means, 9 legend marks"

[ $fail -eq 0 ] && echo "test_results: ok"
exit $fail
