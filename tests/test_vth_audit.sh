#!/bin/sh
# test_vth_audit.sh -- bench/vth_audit.py, the threshold-gradient audit of
# docs/results.md (issue 18): on a small Fashion-MNIST net its SGP and STSG
# dL/dV of one batch equal `ltsnn grad`'s on the same batch and weights (two
# implementations: the PyTorch reference and the C engine), its loss equals
# ltsnn's, and its finite-difference slope equals the one recomputed here
# from the reference's forward pass with each layer's V moved by hand; a
# checkpoint that is not a Fashion-MNIST model is refused by name.
LTSNN=${LTSNN:-./ltsnn}
PY=/usr/bin/python3
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    echo "test_vth_audit: Fashion-MNIST not installed (scripts/install-deps.sh installs it); skipped"
    exit 77
fi
if ! $PY -c 'import torch, numpy' 2>/dev/null; then
    echo "test_vth_audit: python3-torch not installed; skipped"
    exit 77
fi
d=$(mktemp -d /tmp/ltsnn-test-audit.XXXXXX) || exit 1
trap 'rm -rf "$d"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL test_vth_audit.sh: $*"; fail=1; }
M=4C3-AP2-8C3-AP2-FC10   # no hidden FC: a fresh one fires nothing, and the loss would not move

# a net and a batch on which no spike is within 1e-5 of flipping, so two
# float32 implementations fire the same spikes (as the golden generators do)
found=0
for s in 1 2 3 4 5 6 7 8 9 10; do
    "$LTSNN" init $M --input 1x28x28 --classes 10 --T 2 --seed $s --out "$d/W.safetensors" >/dev/null 2>&1 ||
        { bad "ltsnn init"; break; }
    $PY bench/vth_audit.py "$d/W.safetensors" --batches 2 --batch 4 --h 0.1 --seed $s --json "$d/a.json" \
        --save-batch "$d/X.safetensors" >"$d/o" 2>&1 || { bad "audit: $(cat "$d/o")"; break; }
    if $PY -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["margin_batch0"] < 1e-5)' "$d/a.json"; then
        found=1; break
    fi
done
[ $found -eq 1 ] || bad "no seed in 1-10 gave a batch with every membrane 1e-5 from its threshold"
if [ $found -eq 1 ]; then
    grep -q "^| layer | V | SGP dL/dV | STSG dL/dV | fd h=0.1 |" "$d/o" && [ "$(grep -c "^| [0-9]" "$d/o")" -eq 2 ] &&
        ok "audit table: 2 LIF layers ($(head -n 1 "$d/o" | cut -c1-60)...)" || bad "audit table: $(cat "$d/o")"
    for m in sgp stsg; do
        "$LTSNN" grad --weights "$d/W.safetensors" --batch "$d/X.safetensors" --mode $m --out "$d/G_$m.safetensors" \
            >"$d/g" 2>&1 || bad "ltsnn grad --mode $m: $(cat "$d/g")"
    done
    $PY - "$d" <<'PY' && ok "audit's loss and SGP / STSG dL/dV on batch 0 = ltsnn grad's (1e-3); its fd = the reference's, recomputed" || bad "audit numbers"
import json, sys
sys.path.insert(0, 'bench')
import numpy as np
import torch
from ref import ltsnn_torch as lt, st_io
d = sys.argv[1]
a = json.load(open(d + '/a.json'))
L = a['layers']
for m in ('sgp', 'stsg'):
    g, _ = st_io.read('%s/G_%s.safetensors' % (d, m))
    assert abs(float(g['loss'].reshape(-1)[0]) - a['loss_batch0']) <= 1e-4 * a['loss_batch0'], (m, g['loss'], a)
    names = sorted((k for k in g if k.endswith('.lif.vth.grad')), key=lambda k: int(k.split('.')[1]))
    assert len(names) == len(L) == 2, names
    for k, r in zip(names, L):
        c, mine = float(g[k].reshape(-1)[0]), r[m + '_batch0']
        assert abs(c - mine) <= 1e-3 * abs(c) + 1e-7, (m, k, c, mine)
        print('  %s %s: ltsnn %+.6e audit %+.6e' % (m, k, c, mine))
# the finite difference, by hand: every layer's V moved by +-10% in turn
t, _ = st_io.read(d + '/X.safetensors')
x, y = torch.from_numpy(t['x']), torch.from_numpy(t['y'].astype(np.int64))
net = lt.from_ltsnn(d + '/W.safetensors').train()
omega = net.omega().detach()
moved = False
for li, lif in enumerate(net.lifs()):
    v0 = float(lif.vth.detach())
    ls = []
    for v in (1.1 * v0, 0.9 * v0):
        with torch.no_grad():
            lif.vth.fill_(v)
            ls.append(float(lt.class_loss(net(x), y, omega, 0.45)))
            lif.vth.fill_(v0)
    fd = (ls[0] - ls[1]) / (0.2 * v0)
    mine = L[li]['fd_batch0']['0.1']
    assert abs(fd - mine) <= 1e-5 * abs(fd) + 1e-7, (li, fd, mine)
    print('  layer %d fd: here %+.6e audit %+.6e' % (li + 1, fd, mine))
    moved = moved or fd != 0
assert moved, 'no layer moved the loss: the check would be empty'
PY
    # --table: one row per layer, and the agreement counted by hand from the JSON
    $PY bench/vth_audit.py --table "$d/a.json" "$d/a.json" --names x,y >"$d/t" 2>&1 || bad "--table: $(cat "$d/t")"
    $PY - "$d" <<'PY' && ok "--table: 4 rows, the summary's counts as worked from the JSON" || bad "--table: $(cat "$d/t")"
import json, sys
d = sys.argv[1]
L = json.load(open(d + '/a.json'))['layers']
t = open(d + '/t').read()
assert sum(1 for l in t.splitlines() if l.startswith('| x |') or l.startswith('| y |')) == 4, t
sure = [r for r in L if abs(r['fd']['0.1'][0]) > 2 * r['fd']['0.1'][1]]
n = {m: sum((r[m][0] > 0) == (r['fd']['0.1'][0] > 0) for r in sure) for m in ('sgp', 'stsg')}
want = "beyond 2 s.e.: %d; SGP's sign agrees in %d, STSG's in %d" % (2 * len(sure), 2 * n['sgp'], 2 * n['stsg'])
assert want in t, (want, t)
PY
    $PY bench/vth_audit.py --table "$d/a.json" --names x,y >"$d/t" 2>&1 && bad "--names of the wrong length accepted"
    $PY bench/vth_audit.py --table "$d/a.json" --h 0.5 >"$d/t" 2>&1 && bad "--table --h without that difference accepted"
    grep -q "no finite difference at h=0.5 (it has 0.1)" "$d/t" && ok "--table --h 0.5 refused by name" ||
        bad "--h refusal: $(cat "$d/t")"
fi

# refusals
"$LTSNN" init 4C3-AP2-FC10 --input 2x16x16 --classes 10 --out "$d/N.safetensors" >/dev/null 2>&1
if $PY bench/vth_audit.py "$d/N.safetensors" --batches 2 --batch 2 >"$d/o" 2>&1; then
    bad "a 2x16x16 checkpoint audited on Fashion-MNIST"
else
    grep -q "N.safetensors: input (2, 16, 16), 10 classes: not a Fashion-MNIST model" "$d/o" &&
        ok "non-Fashion-MNIST checkpoint refused: $(tail -n 1 "$d/o")" || bad "refusal: $(cat "$d/o")"
fi
if $PY bench/vth_audit.py "$d/N.safetensors" --batches 1 >"$d/o" 2>&1; then bad "--batches 1 accepted"
else grep -q "at least 2" "$d/o" && ok "--batches 1 refused" || bad "--batches 1: $(cat "$d/o")"; fi
[ $fail -eq 0 ] && echo "test_vth_audit: all passed"
exit $fail
