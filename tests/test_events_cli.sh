#!/bin/sh
# test_events_cli.sh -- `ltsnn events` on the real recordings (figures from
# ../shared/data/events/README.md), its flags, and that bad input exits
# non-zero with a message naming the file and byte.
LTSNN=${LTSNN:-build/ltsnn}
D=../shared/data/events
T=$(mktemp -d /tmp/ltsnn-events-cli-XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }

# stats line: name min max sum (spaces collapsed)
row() { echo "$1 $2 $3 $4"; }
norm() { "$LTSNN" events "$@" 2>&1 | tr -s ' '; }

check_file() {
    f=$D/$1; shift
    out=$(norm "$f")
    for p in "$@"; do
        printf '%s\n' "$out" | grep -qF -- "$p" || bad "$f: no '$p' in:
$out"
    done
}

check_file sample_nmnist.bin "format atis-bin" "events 4325" "$(row t 654 311175 690487405)" \
    "$(row x 0 33 74457)" "$(row y 0 33 71931)" "$(row p 0 1 2145)" " 654 7 15 1"
check_file nmnist_train_1_label5.bin "events 4681" "$(row t 893 305924 625535240)" "$(row x 0 33 76115)" \
    "$(row y 0 33 82306)" "$(row p 0 1 2328)" " 893 18 16 1"
check_file sample_ncars.dat "format dat" "events 2009" "$(row t 0 99952 98196680)" "$(row x 0 77 93457)" \
    "$(row y 0 41 40463)" "$(row p 0 1 1350)" " 0 25 8 0"
check_file NCARS_obj_004397_td.dat "events 4407" "$(row t 0 99937 239318661)" "$(row x 0 53 108033)" \
    "$(row y 1 60 134194)" "$(row p 0 1 1671)" " 0 6 18 1"
check_file dat_sample.npy "format npy" "events 4407" "$(row t 0 99937 239318661)" "$(row x 0 53 108033)" \
    "$(row y 1 60 134194)" "$(row p 0 1 1671)" " 0 6 18 1"
check_file davis240_IMU_rotDisk.aedat "format aedat2" "layout davis" "sensor 240x180" "events 374296" "skipped 51688" \
    "duration 3166759 us" "$(row t 341678 3508437 766755861458)" "$(row x 0 239 50765220)" \
    "$(row y 0 179 31656030)" "$(row p 0 1 163098)" " 341678 11 15 1"
check_file sample_aedat_header.aedat "events 0" "ends inside its header" "sensor 346x260"

# --head
n=$("$LTSNN" events $D/sample_nmnist.bin --head 12 | grep -c '^  [0-9]')
[ "$n" = 12 ] || bad "--head 12 printed $n events"
n=$("$LTSNN" events $D/sample_nmnist.bin --head 0 | grep -c '^  [0-9]')
[ "$n" = 0 ] || bad "--head 0 printed $n events"
"$LTSNN" events $D/sample_nmnist.bin --head -1 >/dev/null 2>&1 && bad "--head -1 accepted"

# --format overrides detection: the ATIS file under another name
cp $D/sample_nmnist.bin "$T/nmnist.raw"
"$LTSNN" events "$T/nmnist.raw" >/dev/null 2>"$T/err" && bad "unknown extension accepted"
grep -q "nmnist.raw" "$T/err" || bad "unknown-format message does not name the file: $(cat "$T/err")"
norm "$T/nmnist.raw" --format atis | grep -qF "events 4325" || bad "--format atis"
"$LTSNN" events $D/sample_nmnist.bin --format png >/dev/null 2>&1 && bad "--format png accepted"

# --layout: forcing DVS128 on the DAVIS file is refused (addresses do not fit), not misread
"$LTSNN" events $D/davis240_IMU_rotDisk.aedat --layout dvs128 >/dev/null 2>"$T/err" && bad "--layout dvs128 on DAVIS data accepted"
grep -q "byte 175039" "$T/err" || bad "forced dvs128 message lacks the byte: $(cat "$T/err")"
"$LTSNN" events $D/davis240_IMU_rotDisk.aedat --cifar10dvs >/dev/null 2>&1 && bad "--cifar10dvs on DAVIS accepted"
"$LTSNN" events $D/davis240_IMU_rotDisk.aedat --layout sideways >/dev/null 2>&1 && bad "--layout sideways accepted"

# bad input: truncated, corrupt, missing
head -c 21623 $D/sample_nmnist.bin > "$T/trunc.bin"
"$LTSNN" events "$T/trunc.bin" >/dev/null 2>"$T/err" && bad "truncated .bin accepted"
grep -q "trunc.bin: byte 21620" "$T/err" || bad "truncated .bin message: $(cat "$T/err")"
head -c 35340 $D/NCARS_obj_004397_td.dat > "$T/trunc.dat"
"$LTSNN" events "$T/trunc.dat" >/dev/null 2>"$T/err" && bad "truncated .dat accepted"
grep -q "partial record" "$T/err" || bad "truncated .dat message: $(cat "$T/err")"
head -c 57000 $D/dat_sample.npy > "$T/trunc.npy"
"$LTSNN" events "$T/trunc.npy" >/dev/null 2>"$T/err" && bad "truncated .npy accepted"
grep -q "truncated" "$T/err" || bad "truncated .npy message: $(cat "$T/err")"
head -c 200000 $D/davis240_IMU_rotDisk.aedat > "$T/trunc.aedat"
"$LTSNN" events "$T/trunc.aedat" >/dev/null 2>"$T/err" && bad "truncated .aedat accepted"
grep -q "trunc.aedat: byte 199999" "$T/err" || bad "truncated .aedat message: $(cat "$T/err")"
"$LTSNN" events "$T/missing.bin" >/dev/null 2>&1 && bad "missing file accepted"
"$LTSNN" events >/dev/null 2>&1 && bad "no file accepted"
# a DAT whose event size byte says 16
{ printf '%% Version 2\n'; printf '\000\020'; head -c 16 /dev/zero; } > "$T/size16.dat"
"$LTSNN" events "$T/size16.dat" >/dev/null 2>"$T/err" && bad "DAT event size 16 accepted"
grep -q "event size 16" "$T/err" || bad "DAT size message: $(cat "$T/err")"

exit $fail
