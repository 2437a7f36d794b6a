#!/bin/sh
# test_train_options.sh -- issue 18's flags of `ltsnn train` end to end, on a
# few batches of the built-in demo data: --help lists them, bad values are
# refused, config.json and the checkpoint record them, a resume with another
# value is refused, --bn-affine off leaves every BN gamma at exactly 1 and beta
# at 0 (and on moves them), --recipe authors builds a net without the hidden
# FC's LIF whose first threshold stays exactly at --vth-init (--fc-spikes off
# drops that LIF alone), that ltsnn eval
# rebuilds from the checkpoint and that ltsnn export refuses by name; a net
# that stops learning (every threshold at 100) is named by a warning and in
# log.jsonl, a learning one is not.
# (The exact steps are checked in tests/test_vth_options.c.)
set -u
LTSNN=${LTSNN:-./ltsnn}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
common="--epochs 1 --limit 96 --T 4 --batch 16 --threads 1 --seed 3"

# 1. --help lists every flag
"$LTSNN" train --help >"$tmp/h" 2>&1
for f in --vth-optim --wd-vth --vth-init --bn-affine --recipe --fc-spikes; do
    grep -q -- "$f" "$tmp/h" && ok "--help lists $f" || bad "--help lacks $f"
done

# 2. bad values are refused, naming the flag
refused() { # flag value
    if "$LTSNN" train $common --out "$tmp/bad" --force "$1" "$2" >"$tmp/r" 2>&1; then
        bad "$1 $2 accepted"
    else
        grep -q -- "$1" "$tmp/r" && ok "$1 $2 refused: $(tail -n 1 "$tmp/r")" || bad "$1 $2: $(cat "$tmp/r")"
    fi
}
refused --vth-optim adam
refused --bn-affine maybe
refused --recipe paper
refused --vth-init 0
refused --wd-vth -1
refused --fc-spikes maybe

# reads a checkpoint: tensors and metadata as JSON-able values (json and struct only)
cat >"$tmp/st.py" <<'PY'
import json, struct, sys
def read(path):
    raw = open(path, 'rb').read()
    (n,) = struct.unpack('<Q', raw[:8])
    hdr = json.loads(raw[8:8 + n])
    meta = hdr.pop('__metadata__', {})
    data = raw[8 + n:]
    t = {}
    for k, v in hdr.items():
        assert v['dtype'] == 'F32', k
        a, b = v['data_offsets']
        t[k] = struct.unpack('<%df' % ((b - a) // 4), data[a:b])
    return t, meta
def vths(t):  # the thresholds' names, without the optimiser's state
    return sorted(k for k in t if k.endswith('.vth') and not k.startswith('optim.'))
PY

# 3. --bn-affine off: every BN gamma exactly 1, beta exactly 0; on: they move
for aff in off on; do
    if "$LTSNN" train $common --bn-affine $aff --out "$tmp/bn$aff" >"$tmp/t" 2>&1; then
        ok "trained with --bn-affine $aff"
    else
        bad "--bn-affine $aff: $(tail -n 3 "$tmp/t")"
    fi
done
/usr/bin/python3 - "$tmp" <<'PY' && ok "--bn-affine off: gamma 1 and beta 0 exactly; on: they moved" || bad "BN affine check"
import sys; sys.path.insert(0, sys.argv[1]); from st import read
for aff in ('off', 'on'):
    t, meta = read(sys.argv[1] + '/bn%s/last.safetensors' % aff)
    assert meta['bn_affine'] == aff, meta['bn_affine']
    g = [v for k, v in t.items() if k.endswith('.bn.weight') and not k.startswith('optim.')]
    b = [v for k, v in t.items() if k.endswith('.bn.bias') and not k.startswith('optim.')]
    assert len(g) == len(b) == 3, (len(g), len(b))
    fixed = all(x == 1.0 for v in g for x in v) and all(x == 0.0 for v in b for x in v)
    assert fixed == (aff == 'off'), (aff, g[0][:4], b[0][:4])
PY
if "$LTSNN" train $common --out "$tmp/bnoff" --resume "$tmp/bnoff/last.safetensors" --epochs 2 >"$tmp/r" 2>&1; then
    bad "resume of a --bn-affine off run with on accepted"
else
    grep -q "bn_affine" "$tmp/r" && ok "resume with another --bn-affine refused" || bad "bn-affine resume: $(cat "$tmp/r")"
fi
"$LTSNN" train $common --bn-affine off --out "$tmp/bnoff" --resume "$tmp/bnoff/last.safetensors" --epochs 2 \
    >"$tmp/r" 2>&1 && ok "resume with the same --bn-affine" || bad "resume with the same --bn-affine: $(cat "$tmp/r")"

# 4. --vth-optim sgd and --wd-vth: recorded, and a resume with another value refused
if "$LTSNN" train $common --vth-optim sgd --lr-vth 0.5 --wd-vth 0.01 --vth-init 2 --out "$tmp/sgd" >"$tmp/t" 2>&1; then
    ok "trained with --vth-optim sgd --wd-vth 0.01 --vth-init 2"
else
    bad "--vth-optim sgd: $(tail -n 3 "$tmp/t")"
fi
/usr/bin/python3 - "$tmp/sgd/config.json" <<'PY' && ok "config.json records vth_optim, wd_vth, vth_init" || bad "config.json: $(cat "$tmp/sgd/config.json")"
import json, sys
c = json.load(open(sys.argv[1]))
assert c['vth_optim'] == 'sgd' and abs(c['wd_vth'] - 0.01) < 1e-9 and c['vth_init'] == 2 and c['lr_vth'] == 0.5, c
PY
for alt in "--vth-optim same --lr-vth 0.5 --wd-vth 0.01 --vth-init 2" "--vth-optim sgd --lr-vth 0.5 --vth-init 2" \
           "--vth-optim sgd --lr-vth 0.5 --wd-vth 0.01"; do
    if "$LTSNN" train $common $alt --epochs 2 --out "$tmp/sgd" --resume "$tmp/sgd/last.safetensors" >"$tmp/r" 2>&1; then
        bad "resume with $alt accepted"
    else
        grep -q "other settings" "$tmp/r" && ok "resume refused with $alt" || bad "resume with $alt: $(cat "$tmp/r")"
    fi
done

# 5. --recipe authors: a LIF fewer (the hidden FC), the first V exactly at --vth-init, Omega from the previous batch
if "$LTSNN" train $common --recipe authors --vth-init 0.5 --out "$tmp/auth" >"$tmp/t" 2>&1 &&
   "$LTSNN" train $common --vth-init 0.5 --out "$tmp/def" >"$tmp/t2" 2>&1; then
    ok "trained with --recipe authors and the default recipe"
else
    bad "recipe runs: $(tail -n 3 "$tmp/t" "$tmp/t2")"
fi
/usr/bin/python3 - "$tmp" <<'PY' && ok "--recipe authors: no LIF after the hidden FC, first V fixed, the rest learned, beta 0.9, Omega of the previous batch" || bad "recipe check"
import json, sys; sys.path.insert(0, sys.argv[1]); from st import read, vths
d = sys.argv[1]
ta, ma = read(d + '/auth/last.safetensors')
td, md = read(d + '/def/last.safetensors')
va, vd = vths(ta), vths(td)
assert len(vd) == 4 and len(va) == 3 and set(va) < set(vd), (va, vd)
assert ta['blocks.0.lif.vth'] == (0.5,), ta['blocks.0.lif.vth']
assert all(ta[k] != (0.5,) for k in va[1:]), [ta[k] for k in va]
assert td['blocks.0.lif.vth'] != (0.5,)
assert ma['fc_spikes'] == '0' and ma['first_vth_fixed'] == 'true' and ma['omega_from'] == 'previous_batch', ma
assert md['fc_spikes'] == '1' and md['first_vth_fixed'] == 'false' and 'omega_from' not in md, md
ca = json.load(open(d + '/auth/config.json')); cd = json.load(open(d + '/def/config.json'))
assert abs(ca['beta'] - 0.9) < 1e-6 and abs(cd['beta'] - 0.45) < 1e-6, (ca['beta'], cd['beta'])
assert 'fc_spikes' not in cd and 'first_vth_fixed' not in cd and ca['fc_spikes'] == 0, (ca, cd)
log = [json.loads(l) for l in open(d + '/auth/log.jsonl') if '"epoch"' in l]
assert len(log[-1]['vth']) == 3 and log[-1]['vth'][0] == 0.5, log[-1]['vth']
PY
"$LTSNN" eval "$tmp/auth/last.safetensors" --data demo >"$tmp/e" 2>&1 && grep -q accuracy "$tmp/e" \
    && ok "eval rebuilds the recipe's net: $(grep accuracy "$tmp/e" | head -n 1)" || bad "eval: $(tail -n 3 "$tmp/e")"
if "$LTSNN" train $common --vth-init 0.5 --epochs 2 --out "$tmp/auth" --resume "$tmp/auth/last.safetensors" >"$tmp/r" 2>&1; then
    bad "resume of an authors' run under the default recipe accepted"
else
    grep -q "other settings" "$tmp/r" && ok "resume under another --recipe refused" || bad "recipe resume: $(cat "$tmp/r")"
fi
"$LTSNN" train $common --recipe authors --vth-init 0.5 --epochs 2 --out "$tmp/auth" --resume "$tmp/auth/last.safetensors" \
    >"$tmp/r" 2>&1 && ok "resume under the same recipe" || bad "resume under the same recipe: $(cat "$tmp/r")"
# the beta a user gives wins over the recipe's
"$LTSNN" train $common --recipe authors --beta 0.5 --out "$tmp/authb" >/dev/null 2>&1 &&
    grep -q '"beta": 0.5,' "$tmp/authb/config.json" && ok "--beta overrides the recipe's 0.9" || bad "recipe --beta"
if "$LTSNN" train $common --recipe authors --mode dsr --out "$tmp/dsr" >"$tmp/r" 2>&1; then
    bad "--recipe authors --mode dsr accepted"
else
    grep -q "dsr" "$tmp/r" && ok "--recipe authors --mode dsr refused" || bad "dsr: $(cat "$tmp/r")"
fi
# --fc-spikes off alone: the hidden FC's LIF goes, nothing else of the recipe comes with it
if "$LTSNN" train $common --fc-spikes off --vth-init 0.5 --out "$tmp/fcoff" >"$tmp/t" 2>&1; then
    ok "trained with --fc-spikes off"
else
    bad "--fc-spikes off: $(tail -n 3 "$tmp/t")"
fi
/usr/bin/python3 - "$tmp" <<'PY' && ok "--fc-spikes off: no LIF after the hidden FC, every other threshold learned, beta 0.45, Omega of the batch" || bad "fc-spikes check"
import json, sys; sys.path.insert(0, sys.argv[1]); from st import read, vths
d = sys.argv[1]
t, m = read(d + '/fcoff/last.safetensors')
v, va = vths(t), vths(read(d + '/auth/last.safetensors')[0])
assert v == va, (v, va)
assert all(t[k] != (0.5,) for k in v), [t[k] for k in v]
assert m['fc_spikes'] == '0' and m['first_vth_fixed'] == 'false' and 'omega_from' not in m, m
c = json.load(open(d + '/fcoff/config.json'))
assert c['fc_spikes'] == 0 and abs(c['beta'] - 0.45) < 1e-6 and 'first_vth_fixed' not in c, c
PY
"$LTSNN" eval "$tmp/fcoff/last.safetensors" --data demo >"$tmp/e" 2>&1 && grep -q accuracy "$tmp/e" \
    && ok "eval rebuilds the --fc-spikes off net" || bad "eval --fc-spikes off: $(tail -n 3 "$tmp/e")"
if "$LTSNN" train $common --vth-init 0.5 --epochs 2 --out "$tmp/fcoff" --resume "$tmp/fcoff/last.safetensors" >"$tmp/r" 2>&1; then
    bad "resume of a --fc-spikes off run with spiking FCs accepted"
else
    grep -q "fc_spikes" "$tmp/r" && ok "resume with another --fc-spikes refused" || bad "fc-spikes resume: $(cat "$tmp/r")"
fi
if "$LTSNN" train $common --recipe authors --fc-spikes on --out "$tmp/bad" --force >"$tmp/r" 2>&1; then
    bad "--recipe authors --fc-spikes on accepted"
else
    grep -q -- "--fc-spikes on" "$tmp/r" && ok "--recipe authors --fc-spikes on refused" || bad "authors + fc on: $(cat "$tmp/r")"
fi
# the integer export has no op for an FC reading an analog FC: refused, naming the layers
if "$LTSNN" train $common --recipe authors --wbits 4 --out "$tmp/q" >"$tmp/t" 2>&1; then
    if "$LTSNN" export "$tmp/q/last.safetensors" --out "$tmp/q.ltq" >"$tmp/x" 2>&1; then
        bad "export of a net with an analog hidden FC accepted"
    else
        grep -q "analog output of blocks.6.fc" "$tmp/x" && [ ! -e "$tmp/q.ltq" ] \
            && ok "export refused: $(tail -n 1 "$tmp/x")" || bad "export message: $(cat "$tmp/x")"
    fi
else
    bad "--recipe authors --wbits 4: $(tail -n 3 "$tmp/t")"
fi
# --recipe authors resumed inside an epoch continues bit for bit: the checkpoint carries the Omega the
# next batch uses (the previous batch's), so the resumed run equals the uninterrupted one exactly
rc="--limit 480 --T 4 --batch 16 --threads 1 --seed 5 --recipe authors --epochs 2"
"$LTSNN" train $rc --out "$tmp/ra" >"$tmp/t" 2>&1 || bad "recipe run: $(tail -n 3 "$tmp/t")"
inside=""
for m in 0.01 0.02 0.005 0.03 0.015; do # a time limit that lands inside an epoch (the machine's speed varies)
    rm -rf "$tmp/rm"
    "$LTSNN" train $rc --minutes $m --out "$tmp/rm" >/dev/null 2>&1 || { bad "recipe --minutes $m run"; break; }
    if /usr/bin/python3 -c "import json,sys; r=json.loads(open(sys.argv[1]).readlines()[-1]); sys.exit(0 if r.get('partial') else 1)" \
           "$tmp/rm/log.jsonl" && grep -q '"omega_prev"' "$tmp/rm/last.safetensors"; then
        inside=$m; break
    fi
done
if [ -z "$inside" ]; then
    bad "no --minutes value stopped the recipe run inside an epoch"
elif "$LTSNN" train $rc --out "$tmp/rm" --resume "$tmp/rm/last.safetensors" >"$tmp/r" 2>&1 &&
     /usr/bin/python3 tests/data/compare_st.py "$tmp/ra/last.safetensors" "$tmp/rm/last.safetensors" 0 >"$tmp/c" 2>&1; then
    ok "--recipe authors resumed inside an epoch (--minutes $inside) equals the uninterrupted run exactly"
else
    bad "recipe mid-epoch resume differs: $(tail -n 2 "$tmp/r") $(tail -n 3 "$tmp/c")"
fi

# a net that stops learning is named: with every threshold at 100 nothing spikes and no membrane is
# near V, so every tensor but the last FC's bias gets an exactly zero gradient all epoch; a normal
# run reports zero such tensors
"$LTSNN" train $common --vth-init 100 --out "$tmp/dead" >"$tmp/t" 2>&1
if grep -q "^warning: epoch 1: .* parameter tensors (the last blocks\.[0-9]*\.fc\.weight) got a zero gradient" "$tmp/t" &&
   grep -q '"zero_grad_tensors": [1-9][0-9]*, "zero_grad_last": "blocks\.[0-9]*\.fc\.weight"' "$tmp/dead/log.jsonl"; then
    ok "a dead net is named: $(grep '^warning' "$tmp/t" | cut -c1-100)..."
else
    bad "no dead-net warning: $(tail -n 3 "$tmp/t")"
fi
"$LTSNN" train $common --out "$tmp/alive" >"$tmp/t" 2>&1
if ! grep -q '^warning' "$tmp/t" && grep -q '"zero_grad_tensors": 0, "faint_grad_tensors": 0' "$tmp/alive/log.jsonl"; then
    ok "a learning net gets no warning, zero_grad_tensors and faint_grad_tensors 0"
else
    bad "warning on a learning net: $(grep warning "$tmp/t") $(tail -c 200 "$tmp/alive/log.jsonl")"
fi
echo "test_train_options: $pass passed, $fail failed"
[ $fail -eq 0 ]
