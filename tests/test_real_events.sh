#!/bin/sh
# test_real_events.sh -- the real recordings in tests/data/events/ decoded by
# ltsnn and by tests/data/events/decode_ref.py, a second decoder written in
# Python from the formats' descriptions: event count, skipped words or
# packets, and min / max / sum of t, x, y, p must agree exactly.  Without
# python3 + numpy the comparison is reported as skipped (ltsnn's figures are
# still checked against the README's by test_formats and test_events_cli):
# exit 77, which scripts/run-tests.sh reports as skipped.
LTSNN=${LTSNN:-build/ltsnn}
R=tests/data/events
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
T=$(mktemp -d /tmp/ltsnn-real-XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
if ! "$PY" -c 'import numpy' 2>/dev/null; then
    echo "test_real_events: python3 with numpy not found; the comparison with the second decoder skipped"
    exit 77
fi
fail=0 n=0
for f in $R/davis346_cut.aedat4 $R/evt3_trigger.raw $R/evt2_gen3_cut.raw; do
    ref=$("$PY" $R/decode_ref.py "$f") || { echo "FAIL: decode_ref.py $f"; fail=1; continue; }
    out=$("$LTSNN" events "$f" --head 0) || { echo "FAIL: ltsnn events $f"; fail=1; continue; }
    # ltsnn's figures in decode_ref.py's words
    mine=$(printf '%s\n' "$out" | awk -v f="$f" '
        /^format/ {fmt=$2} /^events/ {ev=$2} /^skipped/ {sk=$2}
        /^[txyp] / {v[$1]=$1 "=" $2 "/" $3 "/" $4}
        END {printf "%s format=%s events=%s skipped=%s %s %s %s %s\n", f, fmt, ev, sk, v["t"], v["x"], v["y"], v["p"]}')
    if [ "$ref" = "$mine" ]; then
        n=$((n + 1))
    else
        echo "FAIL: $f: the decoders disagree
  decode_ref.py: $ref
  ltsnn:         $mine"
        fail=1
    fi
done
echo "test_real_events: $n of 3 recordings agree with the second decoder"
exit $fail
