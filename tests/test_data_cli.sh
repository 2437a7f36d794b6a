#!/bin/sh
# test_data_cli.sh -- `ltsnn data prepare` and `ltsnn data info` on a small
# generated N-MNIST folder (ATIS .bin files written with printf): cache
# names, info output, identical bytes for 1 and 2 threads, bad files with
# and without --skip-bad (no cache left behind), progress lines, flag errors,
# and Fashion-MNIST when Debian's dataset-fashion-mnist is installed.
LTSNN=${LTSNN:-build/ltsnn}
T=/tmp/ltsnn-test-data-cli-$$
fails=0
trap 'rm -rf "$T"' EXIT INT TERM

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect_rc() { # expected-rc description command...
    want=$1; what=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    [ "$rc" -eq "$want" ] || { fail "$what: exit $rc, expected $want"; sed 's/^/    /' "$T/err" >&2; }
}
has() { grep -q -- "$2" "$1" || { fail "$3: '$2' not in $1"; sed 's/^/    /' "$1" >&2; }; }

# ev X Y P T: one 40-bit ATIS event (x, y, polarity bit 7 + 23-bit big-endian time)
ev() {
    printf "$(printf '\\%03o\\%03o\\%03o\\%03o\\%03o' "$1" "$2" $(( ($3 << 7) | (($4 >> 16) & 127) )) \
        $(( ($4 >> 8) & 255 )) $(( $4 & 255 )))"
}
sample() { # FILE SEED: six events inside 34x34
    s=$2
    { for k in 0 1 2 3 4 5; do ev $(( (s * 7 + k * 5) % 34 )) $(( (s * 3 + k * 11) % 34 )) $(( (s + k) % 2 )) \
        $(( 1000 + k * 3000 + s * 10 )); done; } >"$1"
}

mkdir -p "$T/out-dir"
R=$T/nmnist
n=0
for d in 0 1 2 3 4 5 6 7 8 9; do
    mkdir -p "$R/Train/$d" "$R/Test/$d"
    sample "$R/Train/$d/0000$n.bin" $n; n=$((n + 1))
    sample "$R/Train/$d/0001$n.bin" $n; n=$((n + 1))
    sample "$R/Test/$d/0000$n.bin" $n; n=$((n + 1))
done
[ "$(wc -c <"$R/Train/0/00000.bin")" -eq 30 ] || fail "generated ATIS file is not 30 bytes"

D=$T/out-dir
expect_rc 0 "prepare n-mnist" "$LTSNN" data prepare n-mnist "$R" --out "$D/nm" -T 4 --threads 1
has "$T/out" "wrote $D/nm-train.ltc: 20 samples" "prepare output"
has "$T/out" "wrote $D/nm-test.ltc: 10 samples" "prepare output"
has "$T/err" "n-mnist train: 20/20 (100%)" "plain progress lines on a pipe"
[ -f "$D/nm-train.ltc" ] && [ -f "$D/nm-test.ltc" ] || fail "PREFIX-train.ltc / PREFIX-test.ltc not written"

expect_rc 0 "info on a cache file" "$LTSNN" data info "$D/nm-train.ltc"
has "$T/out" "samples   20" "cache info"
has "$T/out" "dataset   n-mnist" "cache info"
has "$T/out" "Ts=4 C=2 H=34 W=34" "cache info"
has "$T/out" "T=4 bin=time value=binary" "cache info options"
expect_rc 0 "info on a prefix" "$LTSNN" data info "$D/nm"
[ "$(grep -c 'ltsnn frame cache' "$T/out")" -eq 2 ] || fail "info PREFIX shows both splits"
expect_rc 0 "info on a folder" "$LTSNN" data info "$R"
has "$T/out" "n-mnist dataset folder" "folder info"
has "$T/out" "20 train, 10 test" "folder info"
has "$T/out" "events min 6 mean 6 max 6" "folder info statistics"

# 1 and 2 threads: the same bytes
expect_rc 0 "prepare 2 threads" "$LTSNN" data prepare n-mnist "$R" --out "$D/t2" --T 4 --threads 2
cmp -s "$D/nm-train.ltc" "$D/t2-train.ltc" || fail "1 and 2 threads differ"
# --split all, count values, a trailing .ltc on the prefix
expect_rc 0 "prepare --split all" "$LTSNN" data prepare n-mnist "$R" --out "$D/every.ltc" --split all \
    --value count --bin count --size 17x17
[ -f "$D/every-all.ltc" ] || fail "--split all writes PREFIX-all.ltc"
expect_rc 0 "info all" "$LTSNN" data info "$D/every-all.ltc"
has "$T/out" "samples   30" "split all"
has "$T/out" "8 bits per value" "count values"
rm -f "$D"/*

# a bad file: an event at x = 40 on the 34-wide sensor
sample "$R/Train/3/00099.bin" 99
ev 40 1 1 5000 >>"$R/Train/3/00099.bin"
expect_rc 1 "bad file stops" "$LTSNN" data prepare n-mnist "$R" --out "$D/bad"
has "$T/err" "Train/3/00099.bin" "bad file named"
has "$T/err" "event 6" "bad event named"
[ -z "$(ls -A "$D")" ] || { fail "files left behind after a failed prepare:"; ls -A "$D" >&2; }
expect_rc 0 "bad file skipped" "$LTSNN" data prepare n-mnist "$R" --out "$D/bad" --skip-bad
has "$T/err" "warning: skipping" "skip warning"
has "$T/err" "skipped 1 of 21 files" "skip count"
has "$T/out" "20 samples, frames" "skipped file not in the cache"
has "$T/out" "1 bad file skipped" "skip count on stdout"
rm -f "$R/Train/3/00099.bin" "$D"/*

# flag and argument errors
expect_rc 2 "no --out" "$LTSNN" data prepare n-mnist "$R"
has "$T/err" "--out" "missing --out named"
expect_rc 2 "unknown dataset" "$LTSNN" data prepare imagenet "$R" --out "$D/x"
has "$T/err" "unknown dataset 'imagenet'" "unknown dataset named"
expect_rc 2 "bad --bin" "$LTSNN" data prepare n-mnist "$R" --out "$D/x" --bin sideways
has "$T/err" "sideways" "bad value named"
expect_rc 2 "bad --size" "$LTSNN" data prepare n-mnist "$R" --out "$D/x" --size 3x10x10
expect_rc 2 "bad --sensor" "$LTSNN" data prepare n-mnist "$R" --out "$D/x" --sensor wide
expect_rc 2 "bad --split-rule" "$LTSNN" data prepare cifar10-dvs "$R" --out "$D/x" --split-rule some
expect_rc 2 "split rule on n-mnist" "$LTSNN" data prepare n-mnist "$R" --out "$D/x" --test-percent 20
has "$T/err" "own train/test folders" "official split kept"
expect_rc 2 "fix on n-mnist" "$LTSNN" data prepare n-mnist "$R" --out "$D/x" --cifar10dvs-fix
expect_rc 2 "unknown flag" "$LTSNN" data prepare n-mnist "$R" --out "$D/x" --frobnicate
expect_rc 2 "no ROOT" "$LTSNN" data prepare n-mnist --out "$D/x"
expect_rc 1 "missing ROOT" "$LTSNN" data prepare n-mnist "$T/nowhere" --out "$D/x"
has "$T/err" "nowhere" "missing folder named"
expect_rc 1 "wrong layout" "$LTSNN" data prepare cifar10-dvs "$R" --out "$D/x"
has "$T/err" "airplane" "missing class folder named"
expect_rc 2 "no subcommand" "$LTSNN" data
expect_rc 2 "bad subcommand" "$LTSNN" data frobnicate
expect_rc 0 "help" "$LTSNN" data prepare --help
has "$T/out" "--skip-bad" "help lists flags"
expect_rc 1 "info on nothing" "$LTSNN" data info "$T/nothing"
printf 'not a cache' >"$T/junk.ltc"
expect_rc 1 "info on junk" "$LTSNN" data info "$T/junk.ltc"
has "$T/err" "junk.ltc" "junk file named"
[ -z "$(ls -A "$D")" ] || { fail "files left behind by failed commands:"; ls -A "$D" >&2; }

# Fashion-MNIST (Debian package dataset-fashion-mnist), a few samples
if [ -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]; then
    expect_rc 0 "prepare fashion-mnist" "$LTSNN" data prepare fashion-mnist --out "$D/fm" --limit 30
    expect_rc 0 "info fashion-mnist" "$LTSNN" data info "$D/fm-test.ltc"
    has "$T/out" "samples   30" "fashion-mnist test split"
    has "$T/out" "Ts=1 C=1 H=28 W=28" "static images"
    expect_rc 2 "fashion-mnist rejects event flags" "$LTSNN" data prepare fashion-mnist --out "$D/fm" --bin count
else
    echo "test_data_cli: Fashion-MNIST not installed; skipped that part"
fi

[ "$fails" -eq 0 ] && echo "test_data_cli: all passed" || echo "test_data_cli: $fails failed"
[ "$fails" -eq 0 ]
