#!/bin/sh
# test_events_cli.sh -- `ltsnn events` on the real recordings (figures from
# ../shared/data/events/README.md when it is there, and from
# tests/data/events/README.md), its flags, `ltsnn events convert` between
# every format read and every format written (figures unchanged, refusals
# leave no file), and that bad input exits non-zero with a message naming
# the file and byte.
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

if [ -d "$D" ]; then
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
else
    echo "test_events_cli: $D not found; the checks on those recordings skipped"
fi
"$LTSNN" events "$T/missing.bin" >/dev/null 2>&1 && bad "missing file accepted"
"$LTSNN" events >/dev/null 2>&1 && bad "no file accepted"
# a DAT whose event size byte says 16
{ printf '%% Version 2\n'; printf '\000\020'; head -c 16 /dev/zero; } > "$T/size16.dat"
"$LTSNN" events "$T/size16.dat" >/dev/null 2>"$T/err" && bad "DAT event size 16 accepted"
grep -q "event size 16" "$T/err" || bad "DAT size message: $(cat "$T/err")"

# ---- the recordings in the repository (tests/data/events/README.md) ----
R=tests/data/events
check_file2() {
    f=$1; shift
    out=$(norm "$f")
    for p in "$@"; do
        printf '%s\n' "$out" | grep -qF -- "$p" || bad "$f: no '$p' in:
$out"
    done
}
check_file2 $R/davis346_cut.aedat4 "format aedat4" "sensor 346x260" "events 89711" "skipped 21 (21 packets of other streams)" \
    "stream 0 EVTS (events) 346x260: 10 packets" "stream 1 FRME (frames) 346x260: 3 packets" "compression LZ4" \
    "$(row t 1633953690975950 1633953691075947 146583619575259759757)" "$(row x 0 345 13375384)" \
    "$(row y 0 259 7927947)" "$(row p 0 1 55784)"
check_file2 $R/evt3_trigger.raw "format evt3" "sensor 1280x720" "events 82469" \
    "skipped 53226 (2 EXT_TRIGGER words, 15688 OTHERS words, 37536 CONTINUED words)" \
    "$(row t 14224870 15476187 1222326831810)" "$(row x 0 1279 42078718)" "$(row y 0 719 31656267)" "$(row p 0 1 41439)"
check_file2 $R/evt2_gen3_cut.raw "format evt2" "sensor 640x480" "events 247491" "skipped 0" \
    "$(row t 913716224 913755685 226140439884309)" "$(row x 0 639 76377601)" "$(row y 0 479 103464381)" \
    "$(row p 0 1 85545)"
"$LTSNN" events $R/davis346_cut.aedat4 --stream 1 >/dev/null 2>"$T/err" && bad "--stream 1 (frames) accepted"
grep -q "not an event" "$T/err" || bad "--stream 1 message: $(cat "$T/err")"

# stats without the file and format lines, to compare two files' figures
figures() { "$LTSNN" events "$1" --head 3 | grep -E '^(events|t |x |y |p |  [0-9])' | tr -s ' '; }
sensor() { "$LTSNN" events "$1" --head 0 | grep '^sensor'; }

# convert: every format read -> every format written, read back with the same figures
for src in $R/evt3_trigger.raw $R/evt2_gen3_cut.raw $R/davis346_cut.aedat4; do
    want=$(figures "$src")
    for ext in npy raw aedat4; do
        o="$T/conv.$ext"
        "$LTSNN" events convert "$src" "$o" >"$T/out" 2>&1 || { bad "convert $src -> .$ext: $(cat "$T/out")"; continue; }
        [ "$(figures "$o")" = "$want" ] || bad "convert $src -> .$ext changed the figures:
$(figures "$o")
expected
$want"
        [ $ext = npy ] || [ "$(sensor "$o")" = "$(sensor "$src")" ] || bad "convert $src -> .$ext lost the sensor size"
        rm -f "$o"
    done
done
"$LTSNN" events convert $R/davis346_cut.aedat4 "$T/c.aedat4" --compression zstd-high >/dev/null || bad "convert --compression"
[ "$(figures "$T/c.aedat4")" = "$(figures $R/davis346_cut.aedat4)" ] || bad "zstd-high round trip"
"$LTSNN" events "$T/c.aedat4" | grep -qF "compression Zstd high" || bad "zstd-high not in the header"
# 32-bit formats: DV's epoch microseconds are refused (no file left), --rebase stores them
"$LTSNN" events convert $R/davis346_cut.aedat4 "$T/c.dat" >/dev/null 2>"$T/err" && bad "epoch t into DAT accepted"
grep -q "event 0" "$T/err" || bad "DAT refusal does not name the event: $(cat "$T/err")"
[ -e "$T/c.dat" ] && bad "a refused convert left $T/c.dat"
ls "$T" | grep -q '\.tmp\.' && bad "a refused convert left a temporary file"
for ext in dat aedat; do
    "$LTSNN" events convert $R/davis346_cut.aedat4 "$T/r.$ext" --rebase >/dev/null || bad "convert --rebase .$ext"
    norm "$T/r.$ext" | grep -qF "$(row t 0 99997 4116309307)" || bad "--rebase .$ext: $(norm "$T/r.$ext" | grep '^t ')"
done
"$LTSNN" events convert $R/evt3_trigger.raw "$T/x.aedat" >/dev/null 2>"$T/err" && bad "1280x720 into AEDAT 2.0 accepted"
grep -q "1024x512" "$T/err" || bad "AEDAT 2.0 size message: $(cat "$T/err")"
"$LTSNN" events convert $R/evt3_trigger.raw "$T/x.evt3" >/dev/null 2>"$T/err" && bad "unknown output extension accepted"
"$LTSNN" events convert $R/evt3_trigger.raw "$T/x.raw" --format evt3 >/dev/null 2>"$T/err" && bad "EVT 3.0 output accepted"
grep -q "does not write" "$T/err" || bad "EVT 3.0 output message: $(cat "$T/err")"
"$LTSNN" events convert $R/evt3_trigger.raw >/dev/null 2>&1; [ $? = 2 ] || bad "convert with one file: not exit 2"
"$LTSNN" events convert $R/evt3_trigger.raw "$T/x.npy" --compression lz9 >/dev/null 2>&1; [ $? = 2 ] || bad "--compression lz9"
# a corrupt input fails mid-way: exit 1, the message names the byte, no output file
head -c 500000 $R/evt3_trigger.raw > "$T/cut.raw"
printf '\220\220' >> "$T/cut.raw"   # a reserved word type 0x9
"$LTSNN" events convert "$T/cut.raw" "$T/cut.npy" >/dev/null 2>"$T/err"; [ $? = 1 ] || bad "corrupt convert: not exit 1"
grep -q "cut.raw: byte 500000" "$T/err" || bad "corrupt convert message: $(cat "$T/err")"
[ -e "$T/cut.npy" ] && bad "a failed convert left $T/cut.npy"
# detection: the EVT 3.0 file under a .dat name is still EVT 3.0, forcing DAT fails cleanly
cp $R/evt3_trigger.raw "$T/evt3.dat"
norm "$T/evt3.dat" | grep -qF "format evt3" || bad "EVT 3.0 named .dat not detected"
"$LTSNN" events "$T/evt3.dat" --format dat >/dev/null 2>&1 && bad "EVT 3.0 read as DAT"
head -c 100000 $R/davis346_cut.aedat4 > "$T/t.aedat4"
"$LTSNN" events "$T/t.aedat4" >/dev/null 2>"$T/err" && bad "truncated AEDAT 4.0 accepted"
grep -q "t.aedat4: byte" "$T/err" || bad "truncated AEDAT 4.0 message: $(cat "$T/err")"

exit $fail
