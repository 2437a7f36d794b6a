#!/bin/sh
# test_folders.sh -- `ltsnn data prepare ROOT --layout folders`: a folder of
# one subfolder per class holding recordings of mixed formats (EVT 3.0,
# EVT 2.0, AEDAT 4.0 with LZ4, DAT, npy), converted from the repository's
# real recordings; the sensor comes from each header (a file without one
# needs --sensor), other files are ignored, and bad flags exit 2.
LTSNN=${LTSNN:-build/ltsnn}
R=tests/data/events
T=$(mktemp -d /tmp/ltsnn-folders-XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
fail=0 checks=0
bad() { echo "FAIL: $*" >&2; fail=1; }
ok() { checks=$((checks + 1)); }
D=$T/root
mkdir -p $D/cats $D/dogs
cp $R/evt3_trigger.raw $D/cats/a.raw
"$LTSNN" events convert $R/evt3_trigger.raw $D/cats/b.raw >/dev/null || bad "convert to EVT 2.0"
"$LTSNN" events convert $R/evt3_trigger.raw $D/dogs/c.aedat4 --compression lz4 >/dev/null || bad "convert to AEDAT 4.0"
"$LTSNN" events convert $R/evt3_trigger.raw $D/dogs/d.dat >/dev/null || bad "convert to DAT"
echo "not a recording" > $D/dogs/notes.txt
"$LTSNN" data prepare $D --layout folders --out $T/c --split-rule first1 >$T/out 2>$T/err && ok || bad "prepare: $(cat $T/err)"
grep -q "c-train.ltc: 2 samples" $T/out && grep -q "c-test.ltc: 2 samples" $T/out && ok || bad "sample counts: $(cat $T/out)"
"$LTSNN" data info $T/c-train.ltc > $T/info || bad "info on the cache"
grep -q "dataset   folders" $T/info && grep -q "sensor=header" $T/info && grep -q "cats" $T/info && ok ||
    bad "cache info: $(cat $T/info)"
# the same folder named explicitly
"$LTSNN" data prepare folders $D --layout folders --out $T/d --split all >/dev/null 2>&1 && [ -f $T/d-all.ltc ] && ok ||
    bad "prepare folders ROOT --split all"
cmp -s $T/d-all.ltc $T/c-train.ltc && bad "--split all equals the train split"
# a recording that does not give its sensor: named, and nothing written
"$LTSNN" events convert $R/evt3_trigger.raw $D/dogs/e.npy >/dev/null || bad "convert to npy"
"$LTSNN" data prepare $D --layout folders --split-rule first1 --out $T/e >/dev/null 2>$T/err && bad "npy without --sensor accepted"
grep -q "e.npy: the recording does not say its sensor size" $T/err && ok || bad "no-sensor message: $(cat $T/err)"
ls $T | grep -q "^e-" && bad "a failed prepare left a cache"
"$LTSNN" data prepare $D --layout folders --out $T/e --sensor 1280x720 --split-rule first1 >/dev/null 2>&1 && ok || bad "--sensor 1280x720"
"$LTSNN" data info --name folders $D > $T/info 2>&1 && grep -q "from each recording" $T/info && ok ||
    bad "data info --name folders: $(cat $T/info)"
# flags
"$LTSNN" data prepare $D --layout tree --out $T/f >/dev/null 2>&1; [ $? = 2 ] && ok || bad "--layout tree: not exit 2"
"$LTSNN" data prepare n-mnist $D --layout folders --out $T/f >/dev/null 2>&1; [ $? = 2 ] && ok || bad "n-mnist + folders"
"$LTSNN" data prepare $D --layout folders --out $T/f --cifar10dvs-fix >/dev/null 2>&1; [ $? = 2 ] && ok ||
    bad "--cifar10dvs-fix with folders"
echo "test_folders: $checks checks passed"
[ $checks -gt 0 ] || fail=1
exit $fail
