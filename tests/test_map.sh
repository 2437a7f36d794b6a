#!/bin/sh
# test_map.sh -- `ltsnn map` against tests/data/map_ref.py, a second
# evaluator written in Python from the COCOeval / VOC / Prophesee
# definitions: random recordings of ground truth and detections (jittered,
# missed, duplicated, false, tied scores, early and small boxes, both Gen1
# dtypes) scored with every filter preset and several time tolerances must
# agree to 1e-6; plus the refusals (a wrong detection dtype, a missing
# detection file, a bad flag).
LTSNN=${LTSNN:-./ltsnn}
PY=/usr/bin/python3
if ! $PY -c 'import numpy' 2>/dev/null; then
    echo "test_map: python3-numpy not installed (scripts/install-deps.sh installs it); skipped"
    exit 77
fi
T=$(mktemp -d /tmp/ltsnn-test-map.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
checks=0
fail() { echo "FAIL test_map.sh: $*" >&2; fails=$((fails + 1)); }

# CASE SEED RECORDINGS CLASSES: random recordings under $T/SEED/{gt,dt}
make_case() {
    $PY - "$T/$1" "$1" "$2" "$3" <<'PY'
import os, sys
import numpy as np
out, seed, nrec, K = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(seed)
V1 = np.dtype([('ts', '<u8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', 'u1'),
               ('confidence', '<f4'), ('track_id', '<u4')])
V2 = np.dtype({'names': ['t', 'x', 'y', 'w', 'h', 'class_id', 'track_id', 'class_confidence'],
               'formats': ['<i8', '<f4', '<f4', '<f4', '<f4', '<u4', '<u4', '<f4'],
               'offsets': [0, 8, 12, 16, 20, 24, 28, 32], 'itemsize': 40})
def write(path, rows, dt):
    a = np.zeros(len(rows), dtype=dt)
    tn = 't' if 't' in dt.names else 'ts'
    sn = 'class_confidence' if 'class_confidence' in dt.names else 'confidence'
    for i, (t, x, y, w, h, c, s) in enumerate(rows):
        a[i][tn], a[i]['x'], a[i]['y'], a[i]['w'], a[i]['h'], a[i]['class_id'], a[i][sn] = t, x, y, w, h, c, s
        a[i]['track_id'] = i
    np.save(path, a)
os.makedirs(out + '/gt'); os.makedirs(out + '/dt')
for r in range(nrec):
    gt, dt = [], []
    times = np.sort(rng.choice(np.arange(0, 2000000, 25000), size=rng.integers(1, 12), replace=False))
    for t in times:
        for _ in range(rng.integers(0, 5)):
            w, h = rng.uniform(5, 90), rng.uniform(5, 70)
            x, y = rng.uniform(-10, 300), rng.uniform(-10, 230)
            c = int(rng.integers(0, K))
            gt.append((t, x, y, w, h, c, 1.0))
            u = rng.random()
            if u < 0.15:
                continue                                   # missed
            copies = 2 if u > 0.85 else 1                  # duplicated
            for _ in range(copies):
                j = rng.normal(0, 0.06, 4) * [w, h, w, h]   # jittered: IoU mostly 0.6 to 1
                dtt = t + int(rng.choice([0, 0, 0, 20000, -40000, 50000, -50000, 60000]))
                cc = c if rng.random() > 0.1 else int(rng.integers(0, K))   # sometimes the wrong class
                s = round(float(rng.uniform(0.01, 1)), 1)     # coarse scores: many ties
                dt.append((max(dtt, 0), x + j[0], y + j[1], max(w + j[2], 1), max(h + j[3], 1), cc, s))
        for _ in range(rng.integers(0, 3)):                  # false positives
            dt.append((t, rng.uniform(0, 300), rng.uniform(0, 230), rng.uniform(5, 80), rng.uniform(5, 60),
                       int(rng.integers(0, K)), round(float(rng.uniform(0, 1)), 2)))
    gt.sort(key=lambda b: b[0]); dt.sort(key=lambda b: b[0])   # stable: order within a time kept
    name = 'rec%02d_bbox.npy' % r
    write(out + '/gt/' + name, gt, V1 if r % 2 else V2)
    write(out + '/dt/' + name, dt, V2 if r % 3 else V1)
PY
}

# compare SEED CLASSES FILTER TOL_US
compare() {
    d=$T/$1
    tolf=$4us
    [ "$4" -eq 0 ] && tolf=0
    if ! "$LTSNN" map "$d/gt" "$d/dt" --json --filter "$3" --time-tol "$tolf" --classes "$2" >"$T/c.json" 2>"$T/c.err"; then
        fail "ltsnn map case $1 filter $3 tol $4: $(cat "$T/c.err")"
        return
    fi
    $PY tests/data/map_ref.py "$d/gt" "$d/dt" --filter "$3" --time-tol-us "$4" --classes "$2" >"$T/p.json" || {
        fail "map_ref.py case $1"; return; }
    if $PY - "$T/c.json" "$T/p.json" <<'PY'
import json, sys
c, p = (json.load(open(f)) for f in sys.argv[1:3])
bad = [k for k in ('coco', 'ap50', 'ap75', 'voc', 'images') if abs(c[k] - p[k]) > 1e-6]
for i, (a, b) in enumerate(zip(c['classes'], p['classes'])):
    bad += ['class %d %s' % (i, k) for k in ('coco', 'ap50', 'voc') if abs(a[k] - b[k]) > 1e-6]
if bad or c['images'] == 0:
    print('differ:', bad, 'ltsnn', c, 'python', p)
    sys.exit(1)
print('coco %.4f ap50 %.4f voc %.4f over %d images' % (c['coco'], c['ap50'], c['voc'], c['images']))
PY
    then
        checks=$((checks + 1))
    else
        fail "case $1 ($2 classes) filter $3 tol $4 us: ltsnn and map_ref.py differ"
    fi
}

for seed in 1 2 3 4; do
    k=$(( seed % 3 == 0 ? 3 : 2 ))
    make_case $seed $(( 2 + seed )) $k || { fail "making case $seed"; continue; }
    for f in none toolbox paper; do
        for tol in 50000 0 20000; do
            compare $seed $k $f $tol
        done
    done
done
echo "test_map: $checks filter/tolerance cases agree with map_ref.py to 1e-6"
[ "$checks" -eq 36 ] || fail "only $checks of 36 comparisons ran"

# a detection file with a float64 x is refused, not misread
$PY - "$T/1/dt/rec00_bbox.npy" <<'PY'
import sys, numpy as np
a = np.zeros(3, dtype=[('t', '<i8'), ('x', '<f8'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', '<u4'),
                       ('track_id', '<u4'), ('class_confidence', '<f4')])
np.save(sys.argv[1], a)
PY
if "$LTSNN" map "$T/1/gt" "$T/1/dt" >"$T/out" 2>"$T/err"; then
    fail "a float64 detection dtype was accepted"
else
    grep -q "rec00_bbox.npy: not a Gen1 box array" "$T/err" || fail "wrong dtype message: $(cat "$T/err")"
fi
rm -f "$T/1/dt/rec00_bbox.npy"
if "$LTSNN" map "$T/1/gt" "$T/1/dt" >"$T/out" 2>"$T/err"; then
    fail "a missing detection file was accepted"
else
    grep -q "has no detection file" "$T/err" || fail "missing file message: $(cat "$T/err")"
fi
"$LTSNN" map "$T/2/gt" "$T/2/dt" --filter strict >/dev/null 2>"$T/err" && fail "--filter strict accepted"
grep -q "expected toolbox" "$T/err" || fail "--filter message: $(cat "$T/err")"
"$LTSNN" map "$T/2/gt" "$T/2/dt" >"$T/out" 2>&1 || fail "table output: $(cat "$T/out")"
grep -q "COCO mAP@\[.5:.95\]" "$T/out" || fail "table: $(cat "$T/out")"
[ $fails -eq 0 ] && echo "test_map: ok" || echo "test_map: $fails failure(s)"
[ $fails -eq 0 ]
