#!/bin/sh
# test_train.sh -- training on the built-in demo data: a short run lifts test
# accuracy well above chance and writes the run directory; a run resumed from
# its last checkpoint equals the uninterrupted run bit for bit (one thread).
set -u
LTSNN=${LTSNN:-./ltsnn}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

# 1. a short run: well above the 10% of chance (about 58% after these two epochs)
if "$LTSNN" train --epochs 2 --limit 2500 --batch 16 --out "$tmp/short" >"$tmp/out" 2>&1; then
    ok "train ran: $(tail -n 2 "$tmp/out" | head -n 1)"
else
    bad "train failed: $(tail -n 5 "$tmp/out")"
fi
for f in log.jsonl config.json best.safetensors last.safetensors; do
    [ -s "$tmp/short/$f" ] && ok "run directory has $f" || bad "run directory lacks $f"
done
/usr/bin/python3 - "$tmp/short/log.jsonl" <<'PY' && ok "log.jsonl fields; accuracy above chance" || bad "log.jsonl check"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r['epoch'] for r in rows] == [1, 2], rows
for r in rows:
    for k in ('epoch', 'train_loss', 'train_acc', 'test_acc', 'lr', 'vth', 'rate', 'seconds'):
        assert k in r, k
    assert len(r['vth']) == len(r['rate']) > 0
print('test accuracy by epoch', [r['test_acc'] for r in rows])
assert rows[-1]["test_acc"] > 40.0, rows[-1]["test_acc"]
PY
# eval on the best checkpoint
"$LTSNN" eval "$tmp/short/best.safetensors" --data demo >"$tmp/eval" 2>&1 && grep -q "accuracy" "$tmp/eval" \
    && ok "eval: $(head -n 1 "$tmp/eval")" || bad "eval: $(cat "$tmp/eval")"

# 2. resume equality: 3 epochs straight, against 2 epochs then resume to 3
common="--limit 480 --batch 16 --threads 1 --seed 5 --mode sgp"
"$LTSNN" train $common --epochs 3 --out "$tmp/a" >/dev/null 2>&1 || bad "uninterrupted run"
"$LTSNN" train $common --epochs 2 --out "$tmp/b" >/dev/null 2>&1 || bad "first half"
"$LTSNN" train $common --epochs 3 --out "$tmp/b" --resume "$tmp/b/last.safetensors" >"$tmp/r" 2>&1 \
    || bad "resume: $(cat "$tmp/r")"
la=$(/usr/bin/python3 -c "import json,sys; print([r['train_loss'] for r in map(json.loads, open(sys.argv[1])) if 'epoch' in r])" "$tmp/a/log.jsonl")
lb=$(/usr/bin/python3 -c "import json,sys; print([r['train_loss'] for r in map(json.loads, open(sys.argv[1])) if 'epoch' in r])" "$tmp/b/log.jsonl")
[ "$la" = "$lb" ] && ok "resumed losses equal: $lb" || bad "losses differ: $la vs $lb"
# the weights and optimiser state after epoch 3 are the same bytes
/usr/bin/python3 tests/data/compare_st.py "$tmp/a/last.safetensors" "$tmp/b/last.safetensors" 0 >"$tmp/c" 2>&1 \
    && ok "resumed checkpoint equals the uninterrupted one exactly" || bad "checkpoints differ: $(cat "$tmp/c")"
# a run stopped inside an epoch by --minutes continues exactly where it stopped
"$LTSNN" train $common --epochs 3 --minutes 0.04 --out "$tmp/m" >/dev/null 2>&1 || bad "time-limited run"
/usr/bin/python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print('stopped in epoch', r[-1]['epoch'], 'after', r[-1]['batches'], 'batches')" "$tmp/m/log.jsonl"
"$LTSNN" train $common --epochs 3 --out "$tmp/m" --resume "$tmp/m/last.safetensors" >"$tmp/r" 2>&1 \
    || bad "resume after --minutes: $(cat "$tmp/r")"
/usr/bin/python3 tests/data/compare_st.py "$tmp/a/last.safetensors" "$tmp/m/last.safetensors" 0 >"$tmp/c" 2>&1 \
    && ok "a run resumed from inside an epoch equals the uninterrupted one exactly" \
    || bad "mid-epoch resume differs: $(cat "$tmp/c")"
# other settings than the checkpoint's are refused
if "$LTSNN" train $common --epochs 3 --beta 0.9 --out "$tmp/b" --resume "$tmp/b/last.safetensors" >"$tmp/r" 2>&1; then
    bad "resume with another --beta was accepted"
else
    grep -q "other settings" "$tmp/r" && ok "resume with another --beta refused" || bad "beta message: $(cat "$tmp/r")"
fi
# a resume from a file that is not a training checkpoint is refused
"$LTSNN" init small --input 2x32x32 --out "$tmp/w.safetensors" >/dev/null 2>&1
if "$LTSNN" train $common --epochs 3 --out "$tmp/c" --resume "$tmp/w.safetensors" >"$tmp/r" 2>&1; then
    bad "resume from a plain init checkpoint was accepted"
else
    ok "resume from a non-training checkpoint refused: $(tail -n 1 "$tmp/r")"
fi
# 3. a real file path end to end: simulated recordings written as N-MNIST .bin files,
#    prepared into a frame cache by the dataset reader, trained from the memory-mapped cache
if "$LTSNN" data export n-fashion-mnist --out "$tmp/nfm" --limit 64 >"$tmp/x" 2>&1 &&
   "$LTSNN" data prepare n-mnist "$tmp/nfm" --out "$tmp/nfm-cache" -T 6 >"$tmp/p" 2>&1 &&
   "$LTSNN" train --data "$tmp/nfm-cache" --model small --epochs 1 --batch 16 --out "$tmp/nfm-run" >"$tmp/t" 2>&1 &&
   grep -q '"epoch": 1' "$tmp/nfm-run/log.jsonl"; then
    ok "export -> prepare n-mnist -> train from the cache: $(grep -o 'model [^ ]* ([0-9]* parameters), input [0-9x]*, T=[0-9]*' "$tmp/t")"
else
    bad "export/prepare/train: $(tail -n 3 "$tmp/x" "$tmp/p" "$tmp/t")"
fi
echo "test_train: $pass passed, $fail failed"
[ $fail -eq 0 ]
