#!/bin/sh
# test_torch_export.sh -- `ltsnn export CKPT --torch OUT.safetensors`
# (issue 17, item 6): the file holds the checkpoint's weights byte for byte
# under the same names, thresholds [1], one num_batches_tracked (I64, [])
# per BN equal to the training steps taken, no optimiser or run state; the
# ten-line example of docs/checkpoints.md (examples/torch_load.py) loads it
# into the PyTorch model with strict=True, for a VGG-style net with 4-bit
# weights and for a residual net with tdBN; refusals leave no file.  The
# PyTorch part reports "skipped" (exit 77) when torch is not installed,
# after the rest has passed.
set -u
LTSNN=${LTSNN:-./ltsnn}
PY=/usr/bin/python3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

# two short trainings: a VGG-style net with 4-bit convs, a residual net with tdBN
"$LTSNN" train --data demo --model 8C3-AP2-16C3-AP2-FC32-FC10 --wbits 4 --epochs 1 --limit 64 --batch 16 \
    --T 4 --threads 2 --out "$tmp/a" >"$tmp/t" 2>&1 || bad "training a: $(tail -n 3 "$tmp/t")"
"$LTSNN" train --data demo --model 8C3-R8-R16s2-AP2-FC10 --bn td --epochs 1 --limit 48 --batch 16 \
    --T 3 --threads 2 --out "$tmp/b" >"$tmp/t" 2>&1 || bad "training b: $(tail -n 3 "$tmp/t")"
"$LTSNN" init 8C3-AP2-FC10 --input 2x16x16 --out "$tmp/i.safetensors" >/dev/null 2>&1 || bad "init"

cat > "$tmp/check.py" <<'PYEOF'
import sys
sys.path.insert(0, 'bench')
from ref import st_io
src, out, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
a, ma = st_io.read(src)
b, mb = st_io.read(out)
weights = {k for k in a if not k.startswith('optim.')}
bns = {k[:-len('.running_var')] for k in weights if k.endswith('.running_var')}
want = weights | {p + '.num_batches_tracked' for p in bns}
assert set(b) == want, sorted(set(b) ^ want)
for k in weights:
    assert b[k].dtype.str == '<f4' and b[k].tobytes() == a[k].astype('<f4').tobytes(), k
    assert not k.endswith('.vth') or b[k].shape == (1,), (k, b[k].shape)
for p in bns:
    t = b[p + '.num_batches_tracked']
    assert t.dtype.str == '<i8' and t.shape == () and int(t) == steps, (p, t.dtype, t.shape, t)
for k in ('model', 'input', 'classes', 'T'):
    assert mb.get(k) == ma.get(k), (k, mb.get(k), ma.get(k))
assert mb.get('format') == 'ltsnn-torch-1' and 'optim' not in mb and 'rng' not in mb, mb
print(f'{len(weights)} tensors as in the checkpoint, {len(bns)} BN counters = {steps}')
PYEOF

# one epoch of 64 samples in batches of 16 is 4 steps; 48 samples, 3 steps
for r in a:4 b:3; do
    steps=${r#*:}; r=${r%:*}; ck="$tmp/$r/last.safetensors"
    if "$LTSNN" export "$ck" --torch "$tmp/$r.torch.safetensors" >"$tmp/e" 2>&1; then
        ok "export $r: $(sed 's|/tmp/[^ ]*/||' "$tmp/e")"
    else bad "export $r: $(cat "$tmp/e")"; fi
    if $PY "$tmp/check.py" "$ck" "$tmp/$r.torch.safetensors" "$steps" >"$tmp/c" 2>&1; then ok "$r: $(cat "$tmp/c")"
    else bad "$r: $(tail -n 3 "$tmp/c")"; fi
done
if "$LTSNN" export "$tmp/i.safetensors" --torch "$tmp/i.torch.safetensors" >"$tmp/e" 2>&1 &&
   $PY "$tmp/check.py" "$tmp/i.safetensors" "$tmp/i.torch.safetensors" 0 >"$tmp/c" 2>&1; then
    ok "an init checkpoint (no step): $(cat "$tmp/c")"
else bad "init checkpoint: $(cat "$tmp/e" "$tmp/c")"; fi

refused "--torch with --out" "either --out" "$LTSNN" export "$tmp/a/last.safetensors" --torch "$tmp/x" --out "$tmp/y"
refused "--torch with --input" "--input and --T are for" \
    "$LTSNN" export "$tmp/a/last.safetensors" --torch "$tmp/x" --input u8
refused "a missing checkpoint" "nothere" "$LTSNN" export "$tmp/nothere.safetensors" --torch "$tmp/x"
head -c 300 "$tmp/a/last.safetensors" > "$tmp/cut.safetensors"
refused "a cut checkpoint" "cut.safetensors" "$LTSNN" export "$tmp/cut.safetensors" --torch "$tmp/x"
refused "a folder that does not exist" "nodir" "$LTSNN" export "$tmp/a/last.safetensors" --torch "$tmp/nodir/x"
[ -e "$tmp/x" ] || [ -n "$(ls "$tmp" | grep '\.tmp\.')" ] && bad "a refused export left a file" ||
    ok "refused exports leave no file"

echo "test_torch_export: $pass passed, $fail failed"
[ $fail -eq 0 ] || exit 1
if ! $PY -c 'import torch' 2>/dev/null; then
    echo "skipped: the strict=True load in PyTorch (python3-torch is not installed)"
    exit 77
fi
# the documented example, verbatim
for r in a b; do
    if $PY examples/torch_load.py "$tmp/$r.torch.safetensors" >"$tmp/p" 2>&1; then
        ok "examples/torch_load.py loads $r with strict=True: predictions $(tail -n 1 "$tmp/p")"
    else bad "examples/torch_load.py on $r: $(tail -n 4 "$tmp/p")"; fi
done
# and the counter is PyTorch's own: a BatchNorm2d's state_dict has the same names, dtype and shape
if $PY - "$tmp/a.torch.safetensors" >"$tmp/p" 2>&1 <<'PYEOF'
import sys, torch
sys.path.insert(0, 'bench')
from ref import st_io
t, _ = st_io.read(sys.argv[1])
sd = torch.nn.BatchNorm2d(8).state_dict()
p = 'blocks.0.bn.'
assert [k for k in t if k.startswith(p)] == [p + k for k in sd], [k for k in t if k.startswith(p)]
assert t[p + 'num_batches_tracked'].dtype.str == '<i8' and t[p + 'num_batches_tracked'].shape == ()
print('BN tensors in BatchNorm2d state_dict order, counter int64 []')
PYEOF
then ok "$(cat "$tmp/p")"; else bad "BatchNorm2d layout: $(tail -n 3 "$tmp/p")"; fi
echo "test_torch_export: $pass passed, $fail failed"
[ $fail -eq 0 ]
