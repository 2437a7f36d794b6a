#!/bin/sh
# test_grad.sh -- `ltsnn grad` against golden tensors from ltsnn's own
# PyTorch reference (bench/ref, tests/data/gen_*_golden.py): loss, logits and
# every gradient, to a relative error of 1e-4.
set -u
LTSNN=${LTSNN:-./ltsnn}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# every directory of goldens (tests/data/README-golden.md): the chain model in
# every mode/window/detach case (grad/), residual nets with standard BN and
# tdBN (grad_resnet/), the neuron options soft reset, DSR, g, lam and --loss
# mean (grad_neuron/), SAWB 4- and 8-bit convolutions of every kind
# (grad_sawb/: the bit width comes from W's metadata 'wbits', METHOD.md §7);
# a G file's flags are its metadata 'flags', else its name
pass=0; fail=0
meta_flags() {
    /usr/bin/python3 -c 'import json,struct,sys; b=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",b[:8])[0]; print(json.loads(b[8:8+n]).get("__metadata__",{}).get("flags",""))' "$1"
}
for D in tests/data/grad tests/data/grad_resnet/* tests/data/grad_neuron/* tests/data/grad_sawb/*; do
    [ -f "$D/W.safetensors" ] || continue
    for g in $D/G_*.safetensors; do
        flags=$(meta_flags "$g")
        if [ -z "$flags" ]; then
            case=$(basename "$g" .safetensors); case=${case#G_}
            detach=""
            case "$case" in *_detach) detach=--detach-reset; case=${case%_detach} ;; esac
            flags="--mode ${case%_*} --window ${case##*_} $detach"
        fi
        # shellcheck disable=SC2086
        if "$LTSNN" grad --weights $D/W.safetensors --batch $D/X.safetensors --out "$tmp/g.safetensors" $flags \
             >"$tmp/out" 2>&1 &&
           /usr/bin/python3 tests/data/compare_st.py "$tmp/g.safetensors" "$g" 1e-4 >"$tmp/cmp" 2>&1; then
            pass=$((pass+1)); echo "ok   grad ${D#tests/data/} $flags: $(tail -n1 "$tmp/cmp")"
        else
            fail=$((fail+1)); echo "FAIL grad ${D#tests/data/} $flags"; cat "$tmp/out" "$tmp/cmp" 2>/dev/null
        fi
    done
done
# the detection loss (tests/data/grad_det/, METHOD.md section 9): its goldens
# hold the head output O [B, T, K] itself, so the net is one FC layer with
# identity weights and zero bias on an input of K x 1 x 1 (O_t = x_t exactly);
# the reference file holds the golden loss, O, dO and parts, and the FC's
# gradients from the golden dO (dW = sum over b, t of dO x^T, db = sum of dO)
for g in tests/data/grad_det/det_*.safetensors; do
    [ -f "$g" ] || continue
    form=$(basename "$g" .safetensors); form=${form#det_}
    /usr/bin/python3 - "$g" "$tmp" <<'PY'
import sys
sys.path.insert(0, 'bench')
import numpy as np
from ref import st_io
t, m = st_io.read(sys.argv[1])
out = sys.argv[2]
O = t['O'].astype(np.float32)                      # [B, T, K]
B, T, K = O.shape
st_io.write(out + '/W.safetensors', {'blocks.0.fc.weight': np.eye(K, dtype=np.float32),
                                     'blocks.0.fc.bias': np.zeros(K, np.float32)},
            {'format': 'ltsnn-1', 'model': 'FC%d' % K, 'input': '%dx1x1' % K, 'classes': str(K), 'T': str(T),
             'anchors': m['anchors'], 'grid': m['grid'], 'det_loss': m['det_loss']})
st_io.write(out + '/X.safetensors', {'x': O.reshape(B, T, K, 1, 1), 'boxes': t['boxes']})
dO = t['dO'].astype(np.float64)
x = O.astype(np.float64)
st_io.write(out + '/R.safetensors', {'loss': t['loss'], 'O': t['O'], 'dO': t['dO'], 'parts': t['parts'],
            'blocks.0.fc.weight.grad': np.einsum('btk,btj->kj', dO, x).astype(np.float32),
            'blocks.0.fc.bias.grad': dO.sum((0, 1)).astype(np.float32)})
PY
    if "$LTSNN" grad --weights "$tmp/W.safetensors" --batch "$tmp/X.safetensors" --out "$tmp/g.safetensors" \
         >"$tmp/out" 2>&1 &&
       /usr/bin/python3 tests/data/compare_st.py "$tmp/g.safetensors" "$tmp/R.safetensors" 1e-4 >"$tmp/cmp" 2>&1; then
        pass=$((pass+1)); echo "ok   grad detection --det-loss $form (from the metadata): $(tail -n1 "$tmp/cmp")"
    else
        fail=$((fail+1)); echo "FAIL grad detection --det-loss $form"; cat "$tmp/out" "$tmp/cmp" 2>/dev/null
    fi
done
# the other form by the flag must not match the golden (the flag is read)
if [ -f tests/data/grad_det/det_mean.safetensors ]; then
    "$LTSNN" grad --weights "$tmp/W.safetensors" --batch "$tmp/X.safetensors" --out "$tmp/g2.safetensors" \
        --det-loss mean >"$tmp/out" 2>&1
    if /usr/bin/python3 tests/data/compare_st.py "$tmp/g2.safetensors" "$tmp/R.safetensors" 1e-4 >"$tmp/cmp" 2>&1; then
        fail=$((fail+1)); echo "FAIL grad --det-loss mean agrees with the tet golden: the flag is ignored"
    else
        pass=$((pass+1)); echo "ok   grad --det-loss mean overrides the metadata's tet (differs from its golden)"
    fi
    # bad input: a box row of an image outside the batch, and a batch without boxes
    /usr/bin/python3 - "$tmp" <<'PY'
import sys
sys.path.insert(0, 'bench')
from ref import st_io
t, _ = st_io.read(sys.argv[1] + '/X.safetensors')
b = t['boxes'].copy(); b[2, 0] = 7
st_io.write(sys.argv[1] + '/X_badrow.safetensors', {'x': t['x'], 'boxes': b})
st_io.write(sys.argv[1] + '/X_nobox.safetensors', {'x': t['x']})
PY
    if "$LTSNN" grad --weights "$tmp/W.safetensors" --batch "$tmp/X_badrow.safetensors" --out "$tmp/o.safetensors" \
         2>"$tmp/err"; then
        fail=$((fail+1)); echo "FAIL grad accepted a box of image 7 in a batch of 3"
    elif grep -q "boxes row 2: image 7" "$tmp/err" && [ ! -e "$tmp/o.safetensors" ]; then
        pass=$((pass+1)); echo "ok   grad refuses a box row out of the batch: $(cat "$tmp/err")"
    else
        fail=$((fail+1)); echo "FAIL grad bad box row message: $(cat "$tmp/err")"
    fi
    if "$LTSNN" grad --weights "$tmp/W.safetensors" --batch "$tmp/X_nobox.safetensors" --out "$tmp/o.safetensors" \
         2>"$tmp/err"; then
        fail=$((fail+1)); echo "FAIL grad accepted a detector's batch without boxes"
    elif grep -q "needs boxes" "$tmp/err" && [ ! -e "$tmp/o.safetensors" ]; then
        pass=$((pass+1)); echo "ok   grad refuses a detector's batch without boxes: $(cat "$tmp/err")"
    else
        fail=$((fail+1)); echo "FAIL grad no-boxes message: $(cat "$tmp/err")"
    fi
fi
D=tests/data/grad
# bad input: a batch whose frames do not fit the model
/usr/bin/python3 - "$tmp/bad.safetensors" <<'PY'
import json, struct, sys
import numpy as np
x = np.zeros((1, 4, 2, 9, 9), np.float32); y = np.zeros(1, np.int64)
h = {'x': {'dtype': 'F32', 'shape': list(x.shape), 'data_offsets': [0, x.nbytes]},
     'y': {'dtype': 'I64', 'shape': [1], 'data_offsets': [x.nbytes, x.nbytes + 8]}}
b = json.dumps(h).encode(); b += b' ' * (-len(b) % 8)
open(sys.argv[1], 'wb').write(struct.pack('<Q', len(b)) + b + x.tobytes() + y.tobytes())
PY
if "$LTSNN" grad --weights $D/W.safetensors --batch "$tmp/bad.safetensors" --out "$tmp/o.safetensors" 2>"$tmp/err"; then
    fail=$((fail+1)); echo "FAIL grad accepted a 2x9x9 batch for a 2x8x8 model"
elif grep -q "2x8x8" "$tmp/err" && [ ! -e "$tmp/o.safetensors" ]; then
    pass=$((pass+1)); echo "ok   grad refuses a mismatched batch: $(cat "$tmp/err")"
else
    fail=$((fail+1)); echo "FAIL grad mismatch message: $(cat "$tmp/err")"
fi
echo "test_grad: $pass passed, $fail failed"
[ $fail -eq 0 ]
