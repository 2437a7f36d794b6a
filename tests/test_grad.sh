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
