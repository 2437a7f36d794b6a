#!/bin/sh
# campaign.sh -- the long fuzzing campaign behind docs/reliability.md: each
# harness in turn (never two at once) for RUNS executions under ASan + UBSan,
# at nice 19, with a corpus that persists between campaigns.
#   sh fuzz/campaign.sh [RUNS] [HARNESS ...]     (default 10000000, every harness)
# Writes build-fuzz/campaign/NAME.log (libFuzzer's output), crash/leak/timeout
# inputs as build-fuzz/campaign/NAME-*, and one summary line per harness to
# build-fuzz/campaign/summary.txt: harness, commit, executions, seconds, result.
# A harness that finds something stops there (libFuzzer's behaviour): fix it,
# add the input as a regression test, and run the harness again.
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-10000000}
[ $# -gt 0 ] && shift
make -s fuzz-build >/dev/null || exit 1
H=${*:-$(cd fuzz && ls fuzz_*.c | sed 's/\.c$//')}
OUT=build-fuzz/campaign
mkdir -p "$OUT"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- src include fuzz 2>/dev/null | head -1)
[ -n "$dirty" ] && commit="$commit+changes"
for n in $H; do
    c=$OUT/corpus-$n
    mkdir -p "$c"
    start=$(date +%s)
    nice -n 19 build-fuzz/"$n" -runs="$RUNS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$OUT/$n-" "$c" "fuzz/seeds/$n" > "$OUT/$n.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/$n.log" | grep -o '[0-9]*$' | tail -1)
    if [ $rc -eq 0 ]; then res=ok; else res="FOUND (exit $rc): $(grep -m1 -o 'ERROR: [A-Za-z]*Sanitizer: [^ ]*\|ERROR: libFuzzer: [^ ]*' "$OUT/$n.log")"; fi
    line="$n commit=$commit runs=${execs:-?} seconds=$secs corpus=$(ls "$c" | wc -l) result=$res"
    echo "$line" | tee -a "$OUT/summary.txt"
done
