#!/bin/sh
# events_bench.sh -- event decoding speed (docs/events.md): events/s for
# decoding alone and decoding + binning (fast binner and its reference), on
# the real recordings (../shared/data/events/ when present, and
# tests/data/events/) and on a generated N-event file of each format
# (written to /tmp, deleted afterwards).
#   sh bench/events_bench.sh [BUILD_DIR] [N_EVENTS]
# BUILD_DIR holds libltsnn.a (default build); N_EVENTS defaults to 100000000.
set -e
B=${1:-build}
N=${2:-100000000}
TMP=$(mktemp -d /tmp/ltsnn-events-bench-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cc -std=c11 -O2 -D_GNU_SOURCE -Iinclude -Isrc -o "$TMP/events_bench" bench/events_bench.c "$B/libltsnn.a" \
    -ldnnl -lopenblas -lcjson -llz4 -lzstd -lz -lm -fopenmp
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for REAL in ../shared/data/events/davis240_IMU_rotDisk.aedat tests/data/events/davis346_cut.aedat4 \
            tests/data/events/evt3_trigger.raw tests/data/events/evt2_gen3_cut.raw; do
    [ -f "$REAL" ] || { echo "== $REAL: not found, skipped"; continue; }
    echo "== $REAL (real recording, $(wc -c < $REAL) bytes, 20 reps, page cache warm)"
    "$TMP/events_bench" decode "$REAL" 20
done
for fmt in dat aedat bin npy raw aedat4 aedat4-lz4 aedat4-zstd; do
    ext=${fmt%%-*}
    f="$TMP/gen.$ext"
    case $fmt in aedat4-*) export AEDAT4_COMPRESSION=${fmt#aedat4-} ;; *) unset AEDAT4_COMPRESSION ;; esac
    start=$(date +%s)
    "$TMP/events_bench" gen $ext "$N" "$f"
    echo "== generated $fmt: $N events, $(wc -c < "$f") bytes (written in $(( $(date +%s) - start )) s; best of 2 reads)"
    "$TMP/events_bench" decode "$f" 2
    rm -f "$f"
done
