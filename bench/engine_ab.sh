#!/bin/sh
# engine_ab.sh -- this build against an older one (issue 12: the graph
# engine must leave VGG-9, VGG-7 and MobileNet-light no slower, within 3%,
# and plan no more memory).  Run from the repository root on an idle
# machine:
#
#   sh bench/engine_ab.sh OLD_LTSNN [NEW_LTSNN]      (NEW default ./ltsnn)
#
# e.g. the build before the engine issue:
#   git worktree add /tmp/old abbc0d7 && make -C /tmp/old ltsnn && sh bench/engine_ab.sh /tmp/old/ltsnn
#
# For each model: `ltsnn bench --what train` (T, batch and threads below,
# random 15% input, seed 1, WARMUP untimed then STEPS timed steps, the
# median) ROUNDS times, old and new interleaved and the order swapped each
# round, so drift of the machine falls on both; then new/old of the median
# of the rounds' medians, and the planned training memory of `ltsnn info`.
# JSON lines of every bench call go to OUT (default bench/out/engine_ab.jsonl).
set -e
OLD=${1:?usage: sh bench/engine_ab.sh OLD_LTSNN [NEW_LTSNN]}
NEW=${2:-./ltsnn}
MODELS=${MODELS:-vgg9 vgg7 mobilenet-light}
T=${T:-10}; B=${B:-16}; THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}; WARMUP=${WARMUP:-2}; STEPS=${STEPS:-5}
OUT=${OUT:-bench/out/engine_ab.jsonl}
for b in "$OLD" "$NEW"; do [ -x "$b" ] || { echo "engine_ab.sh: $b is not an executable" >&2; exit 2; }; done
mkdir -p "$(dirname "$OUT")"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
med() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
one() { # binary model -> median seconds (and the JSON line appended to OUT)
    line=$("$1" bench --model "$2" --what train --T "$T" --batch "$B" --threads "$THREADS" --warmup "$WARMUP" \
        --steps "$STEPS" --seed 1 2>/dev/null | tail -n 1)
    echo "$line" | sed "s|^{|{\"binary\": \"$1\", |" >> "$OUT"
    echo "$line" | sed 's/.*"median_s": \([0-9.e+-]*\).*/\1/'
}
plan() { "$1" info "$2" --T "$T" --batch "$B" 2>/dev/null | sed -n 's/^training *\([0-9.]*\):.*/\1/p'; }
printf '%-16s %10s %10s %9s %12s %12s\n' model "old s" "new s" new/old "old MiB" "new MiB"
for m in $MODELS; do
    o=""; n=""
    r=1
    while [ $r -le "$ROUNDS" ]; do
        if [ $((r % 2)) = 1 ]; then o="$o $(one "$OLD" "$m")"; n="$n $(one "$NEW" "$m")"
        else n="$n $(one "$NEW" "$m")"; o="$o $(one "$OLD" "$m")"; fi
        r=$((r + 1))
    done
    mo=$(echo $o | tr ' ' '\n' | med); mn=$(echo $n | tr ' ' '\n' | med)
    printf '%-16s %10.4f %10.4f %9.4f %12s %12s   (rounds old:%s new:%s)\n' "$m" "$mo" "$mn" \
        "$(awk -v a="$mn" -v b="$mo" 'BEGIN { print a / b }')" "$(plan "$OLD" "$m")" "$(plan "$NEW" "$m")" "$o" "$n"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
