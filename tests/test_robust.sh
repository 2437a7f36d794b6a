#!/bin/sh
# test_robust.sh -- never lose work, never accept nonsense: interrupts
# (signals sent with kill), run folders that cannot mix, non-finite numbers,
# strict flags, resumes that must make the same run, memory checked before it
# is used (ulimit -v), and what a write failure says (ulimit -f).
set -u
LTSNN=${LTSNN:-./ltsnn}
LTSNN=$(cd "$(dirname "$LTSNN")" && pwd)/$(basename "$LTSNN")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
ROOT=$(pwd)
cd "$tmp"
expect() { want=$1; shift; "$@" >out 2>err; got=$?; [ "$got" = "$want" ]; }
common="--limit 96 --batch 16 --threads 1 --seed 4"

# ---- strict flags: out of range is an error naming flag, value and range (exit 2), never "the default" ----
for f in "train --T 0" "train --epochs 0" "train --limit 0" "train --threads 0" "train --threads -1" \
         "train --batch 0" "train --minutes 0" "train --beta 1.5" "info small --classes 0" "info small --T 0" \
         "bench --density 1.5" "bench --steps 0" "eval x --batch 0" "init small --T 0 --out w" "grad --lam 2"; do
    set -- $f
    flag=""; val=""; prev=""
    for w in "$@"; do case "$prev" in --*) [ -z "$flag" ] && flag=$prev && val=$w ;; esac; prev=$w; done
    if expect 2 "$LTSNN" "$@" && grep -q -- "$flag $val is out of range" err; then ok "$f: $(cat err)"
    else bad "$f: exit $got, $(cat err)"; fi
done
expect 2 "$LTSNN" train --on-nan maybe && grep -q "on-nan" err && ok "--on-nan maybe refused" || bad "--on-nan: $(cat err)"
for v in train eval info init grad events data plot bench; do
    expect 0 "$LTSNN" $v --version && grep -q "^ltsnn [0-9]" out || { bad "$v --version: $(cat out err)"; continue; }
done
ok "--version on every verb"
expect 0 "$LTSNN" info resnet19 && grep -q "input  3x32x32" out && ok "info uses the preset's own input (resnet19 3x32x32)" \
    || bad "info resnet19 input: $(head -3 out)"
expect 0 "$LTSNN" grad --help && grep -q -- "--lam.*default" out && grep -q -- "--reset.*default" out \
    && ok "grad --help states its defaults" || bad "grad --help: $(cat out)"

# ---- memory: planned, compared, never touched by info ----
start=$(date +%s)
expect 0 "$LTSNN" info small --batch 1000 --T 30 && [ $(( $(date +%s) - start )) -le 5 ] \
    && ok "info --batch 1000 reports without allocating ($(grep '^training' out | cut -c1-30))" || bad "info --batch 1000: $(cat err)"
/usr/bin/python3 - huge.safetensors <<'PY'
import json, struct, sys
b = json.dumps({'__metadata__': {'model': '8192C3-8192C3-FC10', 'input': '2x48x48'}}).encode()
open(sys.argv[1], 'wb').write(struct.pack('<Q', len(b)) + b)
PY
# (AddressSanitizer reserves terabytes of address space at start, so a build
# with it cannot run under ulimit -v: those two checks are left out there)
if ldd "$LTSNN" 2>/dev/null | grep -q libasan; then
    echo "skipped: the two ulimit -v checks (this ltsnn is built with AddressSanitizer)"
else
if (ulimit -v 400000; expect 1 "$LTSNN" eval huge.safetensors --data demo) && grep -q "tensor 'blocks.0.conv.weight' is missing" err
then ok "a tiny checkpoint naming a huge model is refused before building it: $(cat err)"
else bad "huge metadata: $(cat err)"; fi
if (ulimit -v 1500000; expect 1 "$LTSNN" train --model vgg9 --batch 2048 --limit 96 --threads 1 --out mem) && grep -q "MiB allowed" err \
   && grep -q "needs" err; then ok "a net larger than the memory is refused before allocating: $(cut -c1-120 err)"
else bad "memory check: $(cat err)"; fi
fi
expect 1 "$LTSNN" train --model vgg9 --max-memory 50 --limit 96 --threads 1 --out mem2 && grep -q "50.0 MiB allowed" err \
    && ok "--max-memory" || bad "--max-memory: $(cat err)"

# ---- run folders ----
expect 0 "$LTSNN" train $common --epochs 1 && [ -L runs/latest ] && [ -f runs/latest/last.safetensors ] \
    && ok "a run without --out gets its own folder, linked as runs/latest -> $(readlink runs/latest)" || bad "default folder: $(cat err)"
first=$(readlink runs/latest)
sleep 1
expect 0 "$LTSNN" train $common --epochs 1 && [ "$(readlink runs/latest)" != "$first" ] && [ -f "runs/$first/last.safetensors" ] \
    && ok "a second run does not touch the first" || bad "second default run: $(cat err)"
expect 0 "$LTSNN" train $common --epochs 1 --out a || bad "run into a: $(cat err)"
cp a/log.jsonl a.log
expect 2 "$LTSNN" train $common --epochs 1 --out a && grep -q "already holds a run" err && cmp -s a/log.jsonl a.log \
    && ok "a folder holding a run is refused: $(cat err)" || bad "non-empty --out accepted: $(cat err)"
echo keep > a/notes.txt
expect 0 "$LTSNN" train $common --epochs 1 --out a --force && [ "$(grep -c '"epoch"' a/log.jsonl)" = 1 ] \
    && [ -f a/notes.txt ] && ok "--force starts over in a run folder, removing only the run's files" \
    || bad "--force: $(cat err)"
expect 0 "$LTSNN" train $common --epochs 2 --resume a/last.safetensors && [ "$(grep -c '"epoch"' a/log.jsonl)" = 2 ] \
    && grep -q '"resume"' a/log.jsonl && head -1 a/log.jsonl | grep -q '"epoch": 1' \
    && ok "--resume continues in the checkpoint's folder, appending to its log" || bad "resume folder: $(cat err) $(cat a/log.jsonl)"
expect 2 "$LTSNN" train $common --epochs 3 --resume a/last.safetensors --out runs/latest && grep -q "holds another run" err \
    && ok "--resume into another run's folder refused" || bad "resume into another run: $(cat err)"

# ---- a resume must make the same model, data and order ----
expect 1 "$LTSNN" train --limit 112 --batch 16 --threads 1 --seed 4 --epochs 3 --resume a/last.safetensors \
    && grep -q "data_opts: checkpoint limit=96, now limit=112" err && ok "resume with another --limit refused, naming it" \
    || bad "resume --limit: $(cat err)"
expect 1 "$LTSNN" train $common --T 6 --epochs 3 --resume a/last.safetensors && grep -q "T: checkpoint 10, now 6" err \
    && ok "resume with another --T refused, naming it" || bad "resume --T: $(cat err)"

# ---- non-finite numbers ----
expect 1 "$LTSNN" train $common --epochs 1 --lr 1e30 --out nan && grep -q "epoch 1, batch [0-9]* of 6: .* is not finite" err \
    && [ ! -f nan/last.safetensors ] && ok "a non-finite loss or gradient stops training: $(cut -c1-110 err)" \
    || bad "lr 1e30: $(cat err)"
expect 0 "$LTSNN" train $common --epochs 1 --lr 1e30 --on-nan skip --out skip \
    && /usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in open("skip/log.jsonl")]
json.load(open("skip/config.json"))
assert rows[-1]["skipped_nonfinite"] > 0, rows
' && ! grep -qiE "nan|inf" skip/log.jsonl && ok "--on-nan skip drops such batches; the log stays JSON" || bad "skip: $(cat err)"

# ---- interrupts ----
"$LTSNN" train --limit 480 --batch 16 --threads 1 --epochs 3 --out int >int.out 2>int.err &
pid=$!
i=0; while [ ! -f int/config.json ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
sleep 2
kill -INT $pid; wait $pid; rc=$?
if [ $rc = 130 ] && grep -q "interrupted in epoch" int.err && grep -q "resume with" int.err && [ -f int/last.safetensors ] \
   && [ -z "$(ls int | grep tmp)" ]; then ok "SIGINT finishes the batch, saves, says how to resume: $(grep interrupted int.err)"
else bad "SIGINT: rc $rc, $(cat int.err | tr '\r' '\n' | tail -3), $(ls int)"; fi
expect 0 "$LTSNN" train --limit 480 --batch 16 --threads 1 --epochs 3 --resume int/last.safetensors --minutes 0.05 \
    && ok "the interrupted run resumes" || bad "resume after SIGINT: $(cat err)"
# a signal on an epoch's last batch: that epoch is still evaluated, logged and saved whole, then the run
# stops (before, a resume went on to the next epoch and this one was never evaluated).  One batch per
# epoch: every signal the batch loop sees lands on a last batch.  And inside an epoch: the stopped part is
# logged, not evaluated, and the checkpoint counts that line.
sig_run() { # $1: folder, $2: --limit
    "$LTSNN" train --limit "$2" --batch 16 --threads 1 --epochs 100000 --out "$1" >"$1.out" 2>"$1.err" &
    pid=$!
    i=0; while [ ! -s "$1/log.jsonl" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
    kill -INT $pid; wait $pid; rc=$?
}
for case in "one 16 whole" "many 960 part"; do
    set -- $case
    sig_run "$1" "$2"
    if [ $rc = 130 ] && grep -q "interrupted in epoch" "$1.err" && /usr/bin/python3 - "$1" "$3" "$ROOT/bench" <<'PY' 2>"$1.py"
import json, os, sys
d, kind, bench = sys.argv[1:]
sys.path.insert(0, bench)
from results_table import ckpt_epoch
import struct
lines = [json.loads(l) for l in open(os.path.join(d, "log.jsonl"))]
last = lines[-1]
with open(os.path.join(d, "last.safetensors"), "rb") as f:
    meta = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))["__metadata__"]
assert int(meta["log_lines"]) == len(lines), (meta["log_lines"], len(lines))
assert ckpt_epoch(os.path.join(d, "last.safetensors")) == last["epoch"], (meta["epoch"], last)
if kind == "whole":
    assert not last["partial"] and "interrupted" not in last and last["test_acc"] >= 0, last
    assert int(meta["epoch_batches_done"]) == last["batches"] == 1, (meta, last)
else:
    assert last["partial"] and last["interrupted"] and last["test_acc"] == -1 and last["train_seconds"] > 0, last
    assert int(meta["epoch_batches_done"]) == last["batches"] < 60, (meta, last)
PY
    then ok "SIGINT ($3 epoch): $(tail -n 1 "$1/log.jsonl" | cut -c 1-60)..., the checkpoint counts its lines"
    else bad "SIGINT ($3 epoch): rc $rc, $(tail -n 2 "$1.err"), $(cat "$1.py")"; fi
done
"$LTSNN" train --limit 480 --batch 16 --threads 1 --epochs 3 --out term >/dev/null 2>term.err &
pid=$!
i=0; while [ ! -f term/config.json ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
sleep 1
kill -TERM $pid; sleep 0.2; kill -TERM $pid 2>/dev/null; wait $pid; rc=$?
[ $rc -ge 128 ] && [ -z "$(ls term | grep tmp)" ] && ok "a second signal exits at once (exit $rc), no temporary left" \
    || bad "second SIGTERM: rc $rc, $(ls term)"
# data prepare: no temporary left behind
"$LTSNN" data export n-fashion-mnist --out nfm --limit 2000 >/dev/null 2>&1 || bad "export for prepare"
"$LTSNN" data prepare n-mnist nfm --out cache -T 6 >prep.out 2>&1 &
pid=$!
i=0; while [ -z "$(ls | grep '\.tmp\.')" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
kill -INT $pid; wait $pid; rc=$?
left=$(ls | grep -c "\.tmp\.")
[ $rc = 130 ] && [ "$left" = 0 ] && [ ! -f cache-train.ltc ] && ok "SIGINT during data prepare leaves no temporary (exit $rc)" \
    || bad "prepare: exit $rc, left: $(ls)"

# ---- data export --split writes and says only what it wrote; prepare checks every split before converting ----
expect 0 "$LTSNN" data export n-fashion-mnist --out ex --limit 20 --split train && grep -q "wrote ex/Train (" out \
    && ! grep -q Test out && [ ! -d ex/Test ] && grep -q -- "--split train" out \
    && ok "export --split train says what it wrote: $(cat out)" || bad "export --split: $(cat out err)"
expect 1 "$LTSNN" data prepare n-mnist ex --out exc -T 4 && grep -q "test split has no files" err \
    && ! grep -q "n-mnist train" err && [ -z "$(ls | grep exc)" ] \
    && ok "prepare refuses a missing split before converting anything" || bad "prepare missing split: $(cat err)"

# ---- writes that fail say why ----
mkdir ro && chmod 555 ro
if [ "$(id -u)" != 0 ]; then
    expect 1 "$LTSNN" init small --out ro/w.safetensors && grep -q "Permission denied" err \
        && ok "a write error names the reason: $(cat err)" || bad "read-only: $(cat err)"
fi
if (ulimit -f 8; expect 1 "$LTSNN" init vgg9 --out big.safetensors) && grep -qiE "too large|no space|write" err && [ ! -f big.safetensors ] \
   && [ -z "$(ls | grep big)" ]; then ok "a write cut short by ulimit -f leaves nothing: $(cat err)"
else bad "ulimit -f: $(cat err); $(ls | grep big)"; fi
long=$(printf 'd%.0s' $(seq 1 200))/$(printf 'e%.0s' $(seq 1 200))/$(printf 'f%.0s' $(seq 1 200))/x.safetensors
expect 1 "$LTSNN" eval "$long" --data demo && grep -q "No such file" err \
    && ok "a long path does not cut the reason off" || bad "long path: $(cat err)"

echo "test_robust: $pass passed, $fail failed"
[ $fail -eq 0 ]
