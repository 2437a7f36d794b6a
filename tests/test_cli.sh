#!/bin/sh
# test_cli.sh -- the command line: info figures, init checkpoints readable by
# plain Python (json + struct), and clear refusals of bad flags and models.
set -u
LTSNN=${LTSNN:-./ltsnn}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

# expect CODE CMD... : exit status must equal CODE
expect() { want=$1; shift; "$@" >"$tmp/out" 2>"$tmp/err"; got=$?; [ "$got" = "$want" ]; }

expect 0 "$LTSNN" info vgg9 --input 2x48x48 && grep -q "7,069,588 (7.07M" "$tmp/out" \
    && ok "info vgg9: $(grep "^parameters" "$tmp/out")" || bad "info vgg9: $(cat "$tmp/out" "$tmp/err")"
grep -q "MACs per step     513,299,456" "$tmp/out" && ok "info vgg9 MACs" || bad "info vgg9 MACs"
expect 0 "$LTSNN" info vgg9 --T 30 --batch 8 && grep -q "memory planned at T=30, batch 8" "$tmp/out" \
    && grep -q "^training .*activations" "$tmp/out" && grep -q "^inference .*activations" "$tmp/out" \
    && ok "info memory plan: $(grep '^training' "$tmp/out" | cut -c1-40)" || bad "info memory plan: $(cat "$tmp/out")"
expect 0 "$LTSNN" info mobilenet_light --classes 101 && grep -q "2,455,505" "$tmp/out" \
    && ok "info mobilenet_light --classes 101" || bad "mobilenet 101: $(grep "^parameters" "$tmp/out")"
expect 1 "$LTSNN" info 32C3-64X3-FC10 && grep -q "'64X3' at position 6" "$tmp/err" \
    && ok "malformed model: $(cat "$tmp/err")" || bad "malformed model: $(cat "$tmp/err")"
expect 2 "$LTSNN" info vgg9 --input 2x48 && grep -q "CxHxW" "$tmp/err" && ok "bad --input" || bad "bad --input"
expect 2 "$LTSNN" train --lr abc && grep -q "\-\-lr: cannot read 'abc'" "$tmp/err" && ok "bad --lr" || bad "bad --lr: $(cat "$tmp/err")"
expect 2 "$LTSNN" eval x --data demo --split tset && grep -q "split" "$tmp/err" && ok "bad --split" || bad "bad --split: $(cat "$tmp/err")"
expect 2 "$LTSNN" train --frobnicate && grep -q "unknown flag '--frobnicate'" "$tmp/err" && ok "unknown flag" || bad "unknown flag"
expect 2 "$LTSNN" train --mode sgd && grep -q "unknown threshold mode 'sgd'" "$tmp/err" && ok "bad --mode" || bad "bad --mode"
expect 2 "$LTSNN" nosuchverb && ok "unknown verb" || bad "unknown verb"
expect 0 "$LTSNN" train --help && grep -q "\-\-detach-reset" "$tmp/out" && ok "train --help" || bad "train --help"
expect 2 "$LTSNN" bench --window cosine && grep -q "unknown SGP window 'cosine'" "$tmp/err" \
    && ok "bench: bad --window" || bad "bench bad --window: $(cat "$tmp/err")"
# bench times the window it is given and says so in its JSON line
expect 0 "$LTSNN" bench --model 8C3-AP2-FC10 --input 1x8x8 --T 2 --batch 2 --threads 1 --warmup 0 --steps 1 \
    --mode penalty_all --window triangle \
    && /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert (d["mode"], d["window"], d["T"]) == ("penalty_all", "triangle", 2), d' "$tmp/out" \
    && ok "bench --mode penalty_all --window triangle" || bad "bench --window: $(cat "$tmp/out" "$tmp/err")"

# init: a checkpoint plain Python can read, with the documented names, shapes and values
expect 0 "$LTSNN" init vgg7 --input 2x48x48 --classes 10 --seed 3 --out "$tmp/w.safetensors" \
    && ok "init vgg7" || bad "init vgg7: $(cat "$tmp/err")"
if /usr/bin/python3 - "$tmp/w.safetensors" <<'PY'
import json, math, struct, sys
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
hdr = json.loads(raw[8:8 + n]); meta = hdr.pop('__metadata__')
data = raw[8 + n:]
def tensor(name):
    d = hdr[name]; b, e = d['data_offsets']
    return d['shape'], struct.unpack('<%df' % ((e - b) // 4), data[b:e])
assert meta['model'] == '32C3-32C3-AP2-64C3-64C3-AP2-128C3-128C3-AP2-256C3-256C3-AP2-FC256-FC10', meta
assert meta['input'] == '2x48x48' and meta['classes'] == '10' and meta['mode'] == 'sgp', meta
assert all(isinstance(v, str) for v in meta.values())
shape, w = tensor('blocks.0.conv.weight'); assert shape == [32, 2, 3, 3], shape
bound = 1 / math.sqrt(2 * 9); assert max(abs(v) for v in w) <= bound and max(abs(v) for v in w) > 0.9 * bound
shape, g = tensor('blocks.1.bn.weight'); assert shape == [32] and all(v == 1.0 for v in g)
shape, v = tensor('blocks.0.lif.vth'); assert shape == [1] and v == (1.0,), (shape, v)
shape, rv = tensor('blocks.4.bn.running_var'); assert shape == [64] and all(x == 1.0 for x in rv)
shape, fw = tensor('blocks.12.fc.weight'); assert shape == [256, 2304], shape
shape, fb = tensor('blocks.13.fc.bias'); assert shape == [10]
assert 'blocks.13.lif.vth' not in hdr and 'blocks.12.lif.vth' in hdr
n_params = sum(math.prod(d['shape']) for k, d in hdr.items() if 'running' not in k)
assert n_params == 1765587, n_params
PY
then ok "python json+struct reads the init checkpoint"; else bad "python reading init checkpoint"; fi
expect 1 "$LTSNN" init vgg7 --out "$tmp/nodir/w.safetensors" && [ ! -e "$tmp/nodir" ] \
    && ok "init into a missing directory fails cleanly: $(cat "$tmp/err")" || bad "init missing dir"
# same seed, same bytes
"$LTSNN" init vgg7 --seed 3 --out "$tmp/w2.safetensors" >/dev/null 2>&1
cmp -s "$tmp/w.safetensors" "$tmp/w2.safetensors" && ok "init is deterministic" || bad "init determinism"

echo "test_cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
