#!/bin/sh
# test_det_cli.sh -- detection end to end on a tiny synthetic Gen1 dataset
# (docs/detection.md): `ltsnn train` picks the detection head from the
# cache (anchors by k-means, evaluated on the val split, loss parts in the
# progress lines and the log, the head's settings in config.json and the
# checkpoints); a resumed run equals the uninterrupted one bit for bit and
# other head settings are refused on --resume; `ltsnn eval` prints the four
# metrics with the filter and gives the log's value for the same split;
# `ltsnn detect` writes a Prophesee box file that numpy loads with the v2
# dtype (and that `ltsnn map` scores as detect does), PNG frames and a
# contact sheet; `ltsnn bench --det-loss`; the refusals (a model whose last
# FC does not fit the grid, classification flags on boxes and detection
# flags on labels); under mpirun, 2 ranks evaluate as one process does.
set -u
LTSNN=${LTSNN:-build/ltsnn}
T=$(mktemp -d /tmp/ltsnn-test-det-cli.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
. tests/lib.sh
skip=0
PY=/usr/bin/python3

"$LTSNN" data synth-gen1 "$T/g" --train 2 --val 1 --test 1 --duration 1 --threads 2 >/dev/null 2>&1 &&
    "$LTSNN" data prepare gen1 "$T/g" --out "$T/c" --size 32x40 -T 3 >/dev/null 2>&1 || {
    echo "FAIL test_det_cli: could not make the tiny dataset"; exit 1; }
M=8C3-MP2-16C3-MP2-FC144
common="--data $T/c --model $M --grid 3x4 --batch 4 --threads 1 --seed 2 --lr 3e-3"

# 1. training picks the detection head
if "$LTSNN" train $common --epochs 20 --out "$T/a" >"$T/o" 2>&1; then
    grep -q "detection head: grid 3x4, 2 anchors .* (cells; k-means on the training boxes), 2 classes, loss mean; evaluated on 10 samples with the toolbox filter" "$T/o" &&
        ok "train: $(grep '^detection head' "$T/o")" || bad "train's head line: $(cat "$T/o")"
    grep "^data " "$T/o" | grep -q "standard BN, detection loss, adam" && ! grep "^data " "$T/o" | grep -q beta &&
        ok "settings line names the detection loss, no classification beta" || bad "settings line: $(grep '^data ' "$T/o")"
    grep -q "^epoch 20/20 .*loss .* (coord .* obj .* noobj .* cls .*)  avg_iou .*  recall50 .* | eval voc" "$T/o" &&
        ok "progress line: $(grep '^epoch 20/20  loss' "$T/o" | cut -c1-150)..." || bad "progress lines: $(cat "$T/o")"
else
    bad "train: $(cat "$T/o")"
fi
$PY - "$T/a" <<'PY' && ok "log.jsonl, config.json and the checkpoints hold the head's numbers and settings" || bad "run files"
import json, struct, sys
d = sys.argv[1]
rows = [json.loads(l) for l in open(d + '/log.jsonl')]
assert len(rows) == 20, rows
for k in ('train_coord', 'train_obj', 'train_noobj', 'train_cls', 'train_avg_iou', 'train_recall50', 'test_voc',
          'test_map', 'test_ap50', 'test_ap75'):
    assert k in rows[-1], k
parts = sum(rows[-1]['train_' + k] for k in ('coord', 'obj', 'noobj', 'cls'))
assert abs(parts - rows[-1]['train_loss']) < 1e-6 * rows[-1]['train_loss'], (parts, rows[-1])
assert rows[-1]['train_loss'] < rows[0]['train_loss'], 'the loss falls'
c = json.load(open(d + '/config.json'))
assert c['head'] == 'detect' and c['grid'] == '3x4' and c['det_loss'] == 'mean' and c['classes'] == 144, c
assert len(c['anchors'].split(',')) == 4
for f in ('best', 'last'):
    b = open('%s/%s.safetensors' % (d, f), 'rb').read()
    m = json.loads(b[8:8 + struct.unpack('<Q', b[:8])[0]])['__metadata__']
    assert m['head'] == 'detect' and m['anchors'] == c['anchors'] and m['grid'] == '3x4', m
    assert 'det_loss=mean' in m['run_settings'] and 'anchors=' + c['anchors'] in m['run_settings'], m
PY

# 2. resume: 10 + 10 epochs equal 20; the anchors come from the checkpoint
"$LTSNN" train $common --epochs 10 --out "$T/b" >/dev/null 2>&1 || bad "first 10 epochs"
if "$LTSNN" train $common --epochs 20 --out "$T/b" --resume "$T/b/last.safetensors" >"$T/o" 2>&1; then
    grep -q "(cells; the checkpoint's)" "$T/o" && ok "resume takes the checkpoint's anchors" ||
        bad "resume anchors: $(grep '^detection' "$T/o")"
    $PY tests/data/compare_st.py "$T/a/last.safetensors" "$T/b/last.safetensors" 0 >"$T/cmp" 2>&1 &&
        ok "resumed detector equals the uninterrupted one exactly" || bad "resume differs: $(cat "$T/cmp")"
else
    bad "resume: $(cat "$T/o")"
fi
if "$LTSNN" train $common --epochs 21 --anchors 1,1,2,1 --out "$T/b" --resume "$T/b/last.safetensors" >"$T/o" 2>&1
then bad "resume with other anchors accepted"
else
    grep -q "anchors: checkpoint" "$T/o" && ok "resume with other anchors refused" ||
        bad "anchors refusal: $(cat "$T/o")"
fi
if "$LTSNN" train $common --epochs 21 --det-loss tet --out "$T/b" --resume "$T/b/last.safetensors" >"$T/o" 2>&1
then bad "resume with another --det-loss accepted"
else
    grep -q "det_loss: checkpoint mean, now tet" "$T/o" && ok "resume with another --det-loss refused" ||
        bad "det-loss refusal: $(cat "$T/o")"
fi

# 3. refusals
"$LTSNN" train --data "$T/c" --model 8C3-MP2-FC96 --grid 3x4 --epochs 1 --out "$T/x1" >"$T/o" 2>&1
grep -q "ends with FC96; a detector with a 3x4 grid, 2 anchors and 2 classes needs FC144" "$T/o" &&
    ok "a last FC that does not fit the grid: $(tail -n 1 "$T/o")" || bad "FC refusal: $(cat "$T/o")"
"$LTSNN" train $common --beta 0.9 --epochs 1 --out "$T/x2" >"$T/o" 2>&1
grep -q "\-\-beta and --loss are the classification loss's" "$T/o" && ok "--beta on boxes refused" ||
    bad "--beta refusal: $(cat "$T/o")"
"$LTSNN" train --limit 16 --epochs 1 --grid 3x4 --out "$T/x3" >"$T/o" 2>&1
grep -q "are for detection data" "$T/o" && ok "--grid on labels refused" || bad "--grid refusal: $(cat "$T/o")"
"$LTSNN" train $common --anchors 1,2,3 --epochs 1 --out "$T/x4" >"$T/o" 2>&1
grep -q "\-\-anchors 1,2,3: 3 values" "$T/o" && ok "odd anchor values refused" || bad "anchors: $(cat "$T/o")"

# 4. eval: the four metrics with the filter; the same number as the log for the same split
if "$LTSNN" eval "$T/a/last.safetensors" --split val >"$T/e" 2>&1; then
    grep -q "COCO mAP@\[.5:.95\] .* AP50 .* AP75 .* VOC AP@0.5" "$T/e" && grep -q "filter toolbox" "$T/e" &&
        ok "eval: $(grep 'COCO' "$T/e")" || bad "eval output: $(cat "$T/e")"
else bad "eval: $(cat "$T/e")"; fi
"$LTSNN" eval "$T/a/last.safetensors" --split val --json >"$T/j" 2>/dev/null
$PY - "$T/j" "$T/a/log.jsonl" <<'PY' && ok "eval --json on val gives the log's last test_voc and test_map" || bad "eval vs log: $(cat "$T/j")"
import json, sys
e = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
r = [json.loads(l) for l in open(sys.argv[2])][-1]
assert abs(e['voc'] - r['test_voc']) < 1e-4 and abs(e['coco'] - r['test_map']) < 1e-4, (e, r)
assert e['filter'] == 'toolbox'
PY
"$LTSNN" eval "$T/a/last.safetensors" --filter none --json >"$T/j" 2>/dev/null && grep -q '"filter": "none"' "$T/j" &&
    ok "eval --filter none on the test split" || bad "eval --filter none: $(cat "$T/j")"
# 20 epochs on 20 samples learn them by heart: decode, NMS and scoring find the training boxes
"$LTSNN" eval "$T/a/last.safetensors" --split train --json >"$T/j" 2>/dev/null
$PY -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['voc'] > 0.5 and r['coco'] > 0.2, r" "$T/j" &&
    ok "eval on the training split of an overfit detector: $(cut -c1-90 "$T/j")..." || bad "train split: $(cat "$T/j")"

# 5. detect: the box file (numpy, v2 dtype), pictures, and ltsnn map agrees with detect's own score
REC=$T/g/train/synth_train_0001
if "$LTSNN" detect "$T/a/last.safetensors" "${REC}_td.dat" --out "$T/det" --frames 2 --min-score 0.05 >"$T/o" 2>&1
then
    [ "$(ls "$T/det" | grep -c '^synth_train_0001_t.*ms\.png$')" -eq 2 ] && [ -s "$T/det/synth_train_0001_sheet.png" ] &&
        [ "$(head -c 4 "$T/det/synth_train_0001_sheet.png" | tail -c 3)" = "PNG" ] &&
        ok "detect: two frames and a contact sheet" || bad "detect pictures: $(ls "$T/det")"
    $PY - "$T/det/synth_train_0001_bbox.npy" <<'PY' && ok "detect's box file loads in numpy with Gen1's v2 dtype" || bad "box file"
import sys
import numpy as np
a = np.load(sys.argv[1])
assert a.dtype.names == ('t', 'x', 'y', 'w', 'h', 'class_id', 'track_id', 'class_confidence'), a.dtype
assert a.dtype['t'] == np.dtype('<i8') and a.dtype['class_confidence'] == np.dtype('<f4'), a.dtype
assert len(a) > 0 and (np.diff(a['t']) >= 0).all() and (a['class_confidence'] >= 0.01).all()
assert set(np.unique(a['t'])) == set(range(100000, 1000001, 100000)), np.unique(a['t'])
PY
    mkdir -p "$T/gt" && cp "${REC}_bbox.npy" "$T/gt/"
    "$LTSNN" map "$T/gt" "$T/det" --json >"$T/m" 2>&1
    d=$(grep "COCO mAP" "$T/o"); m=$($PY -c "import json,sys; r=json.load(open(sys.argv[1])); print('  COCO mAP@[.5:.95] %.4f   AP50 %.4f   AP75 %.4f   VOC AP@0.5 %.4f' % (r['coco'], r['ap50'], r['ap75'], r['voc']))" "$T/m")
    [ -n "$d" ] && [ "$d" = "$m" ] && ! echo "$m" | grep -q "VOC AP@0.5 0.0000" &&
        ok "ltsnn map on detect's file (a training recording): $m" || bad "map vs detect: '$d' / '$m'"
else
    bad "detect: $(cat "$T/o")"
fi
"$LTSNN" detect "$T/a/last.safetensors" "${REC}_td.dat" --out "$T/det2" --every 250ms --frames 0 >"$T/o" 2>&1 &&
    grep -q "4 samples (evenly spaced" "$T/o" && ok "detect --every 250ms: $(head -n 1 "$T/o")" ||
    bad "detect --every: $(cat "$T/o")"
"$LTSNN" detect "$T/a/last.safetensors" "$T/nothing_td.dat" --out "$T/det3" >"$T/o" 2>&1
[ $? -ne 0 ] && grep -q "nothing_td.dat" "$T/o" && ok "detect on a missing recording names it" ||
    bad "detect missing file: $(cat "$T/o")"

# 6. bench times the detection step
"$LTSNN" bench --model $M --input 2x32x40 --T 3 --batch 4 --grid 3x4 --det-loss tet --warmup 0 --steps 1 \
    --threads 1 >"$T/o" 2>&1 && grep -q '"head": "det-tet"' "$T/o" && ok "bench --det-loss tet" ||
    bad "bench: $(cat "$T/o")"

# 7. data-parallel: 2 ranks train and evaluate as one process does
# Under a sanitizer build the ranks run with LeakSanitizer off: Open MPI's own
# allocations at exit (components it has unloaded) are reported as leaks and
# would fail every rank; ASan's other checks and UBSan stay on.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
MPI="timeout 300 mpirun --oversubscribe --allow-run-as-root --bind-to none -x OMP_NUM_THREADS=1 -x ASAN_OPTIONS"
if "$LTSNN" train --help | grep -q "built without MPI" || ! command -v mpirun >/dev/null 2>&1; then
    skip=$((skip+1)); echo "test_det_cli: skipped: 2 ranks (no MPI build or no mpirun)"
elif $MPI -np 2 "$LTSNN" train $common --epochs 20 --sync-bn --out "$T/p" >"$T/o" 2>&1; then
    $PY - "$T/p/log.jsonl" "$T/a/log.jsonl" <<'PY' && ok "2 ranks: the one-process losses and validation mAP" || bad "2 ranks vs one"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
for x, y in zip(a, b):
    assert abs(x['train_loss'] - y['train_loss']) < 1e-4 * y['train_loss'], (x, y)
    assert abs(x['test_voc'] - y['test_voc']) < 2e-3 and abs(x['test_map'] - y['test_map']) < 2e-3, (x, y)
PY
else
    bad "2 ranks: $(tail -n 5 "$T/o")"
fi
echo "test_det_cli: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
