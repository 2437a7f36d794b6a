#!/bin/sh
# test_gen1_cli.sh -- the Gen1 verbs end to end on a tiny synthetic dataset:
# `ltsnn data synth-gen1` (both box dtypes), `data info` on the folder and on
# the detection caches, `data prepare gen1` (sizes, T, window, splits; a
# recording without its box file stops it, naming the file, and leaves no
# cache; --skip-bad skips and counts it), `data show-gen1` (PNG files), and
# flag errors.
LTSNN=${LTSNN:-build/ltsnn}
T=$(mktemp -d /tmp/ltsnn-test-gen1-cli.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
fail() { echo "FAIL test_gen1_cli.sh: $*" >&2; fails=$((fails + 1)); }
expect_rc() { # expected-rc description command...
    want=$1; what=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    [ "$rc" -eq "$want" ] || { fail "$what: exit $rc, expected $want"; sed 's/^/    /' "$T/err" >&2; }
}
has() { grep -q -- "$2" "$1" || { fail "$3: '$2' not in $1"; sed 's/^/    /' "$1" >&2; }; }

G=$T/g
expect_rc 0 "synth-gen1" "$LTSNN" data synth-gen1 "$G" --train 2 --val 1 --test 1 --duration 0.5 --threads 2
has "$T/out" "2, 1, 1 recordings of 0.5 s" "synth-gen1 summary"
for f in train/synth_train_0000_td.dat train/synth_train_0001_bbox.npy val/synth_val_0000_td.dat \
         test/synth_test_0000_bbox.npy; do
    [ -s "$G/$f" ] || fail "synth-gen1 did not write $f"
done
head -c 80 "$G/train/synth_train_0000_td.dat" | grep -q "% Version 2" || fail "DAT header"

expect_rc 0 "info on the folder" "$LTSNN" data info "$G"
has "$T/out" "gen1 dataset folder" "folder info"
grep -q "^  train       2      0" "$T/out" || fail "train row: $(cat "$T/out")"

expect_rc 0 "prepare gen1" "$LTSNN" data prepare gen1 "$G" --out "$T/c" --size 48x60 -T 3 --window 80ms
has "$T/out" "wrote $T/c-train.ltc: " "train cache written"
has "$T/out" "frames 3x2x48x60" "frame shape"
for s in train val test; do [ -s "$T/c-$s.ltc" ] || fail "no $s cache"; done
expect_rc 0 "info on a detection cache" "$LTSNN" data info "$T/c-train.ltc"
has "$T/out" "task      detect" "task line"
has "$T/out" "pedestrian" "class rows"
has "$T/out" "window_us=80000" "options text"
expect_rc 0 "info on the prefix" "$LTSNN" data info "$T/c"
[ "$(grep -c 'ltsnn frame cache' "$T/out")" -eq 3 ] || fail "info on the prefix shows three caches"
expect_rc 0 "prepare one split" "$LTSNN" data prepare gen1 "$G" --out "$T/one" --split val --size 24x30
[ -f "$T/one-val.ltc" ] && [ ! -f "$T/one-train.ltc" ] || fail "--split val writes only the val cache"

expect_rc 0 "show-gen1" "$LTSNN" data show-gen1 "$G" synth_train_0001 --out "$T/png" --frames 2
[ "$(ls "$T/png" | grep -c '^synth_train_0001_t.*ms\.png$')" -eq 2 ] || fail "two frame images: $(ls "$T/png")"
[ -s "$T/png/synth_train_0001_sheet.png" ] || fail "contact sheet"
[ "$(head -c 4 "$T/png/synth_train_0001_sheet.png" | tail -c 3)" = "PNG" ] || fail "not a PNG"
expect_rc 0 "show-gen1 by path" "$LTSNN" data show-gen1 . "$G/val/synth_val_0000_td.dat" --out "$T/png2" --frames 1
expect_rc 1 "show-gen1 unknown recording" "$LTSNN" data show-gen1 "$G" nothing --out "$T/png"
has "$T/err" "no recording nothing" "unknown recording message"

# v1 box files go through the same path
expect_rc 0 "synth-gen1 v1" "$LTSNN" data synth-gen1 "$T/g1" --train 1 --val 0 --test 0 --duration 0.3 \
    --bbox-dtype v1 --seed 5
expect_rc 0 "prepare v1 boxes" "$LTSNN" data prepare gen1 "$T/g1" --out "$T/v1" --size 24x30

# a recording without its box file: stops, named, nothing written; --skip-bad skips it
mv "$G/train/synth_train_0000_bbox.npy" "$T/saved.npy"
expect_rc 1 "missing box file" "$LTSNN" data prepare gen1 "$G" --out "$T/bad" --size 24x30
has "$T/err" "synth_train_0000_td.dat: has no _bbox.npy" "missing box file message"
ls "$T"/bad-* >/dev/null 2>&1 && fail "a failed prepare left a cache behind"
ls "$G"/*/*.tmp.* "$T"/*.tmp.* >/dev/null 2>&1 && fail "temporary files left behind"
expect_rc 0 "--skip-bad" "$LTSNN" data prepare gen1 "$G" --out "$T/bad" --size 24x30 --skip-bad
has "$T/out" "1 bad recording skipped" "skip count"
has "$T/err" "skipped 1 of 2 recordings" "skip summary"
mv "$T/saved.npy" "$G/train/synth_train_0000_bbox.npy"
expect_rc 1 "not a Gen1 folder" "$LTSNN" data prepare gen1 "$T/png" --out "$T/x"
has "$T/err" "no train, val or test folder" "layout message"

# flag errors
expect_rc 2 "window without a unit" "$LTSNN" data prepare gen1 "$G" --out "$T/x" --window 100
expect_rc 2 "--bin for gen1" "$LTSNN" data prepare gen1 "$G" --out "$T/x" --bin count
has "$T/err" "does not apply to gen1" "flag message"
expect_rc 2 "--window for another dataset" "$LTSNN" data prepare n-mnist "$G" --out "$T/x" --window 10ms
expect_rc 2 "bad dtype" "$LTSNN" data synth-gen1 "$T/x" --bbox-dtype v3
expect_rc 2 "bad box period" "$LTSNN" data synth-gen1 "$T/x" --box-period 10us
[ $fails -eq 0 ] && echo "test_gen1_cli: ok" || echo "test_gen1_cli: $fails failure(s)"
[ $fails -eq 0 ]
