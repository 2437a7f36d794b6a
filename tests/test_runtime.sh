#!/bin/sh
# test_runtime.sh -- the runtime's portability claims and its agreement with
# ltsnn itself (runtime/ltsnn_rt.h, examples/rt_classify.c):
#  - runtime/ltsnn_rt.c compiles as strict C99 (-pedantic, -Wconversion) for
#    32-bit x86 (-m32) as a freestanding object, and that object calls
#    nothing (nm -u is empty: no libc, no libm, no compiler helper such as
#    64-bit division); also with clang and at -O0;
#  - examples/rt_classify.c, built with -m32 from the runtime alone (no
#    libltsnn), classifies simulated N-MNIST-layout recordings with a 4-bit
#    model trained and exported by ltsnn, and prints exactly the integer
#    logit sums `ltsnn eval MODEL.ltq --dump` gives for the same recording
#    (64-bit, -O3, the library's build of the same runtime).
# A part this machine cannot build (no gcc-multilib for -m32) is reported
# skipped, and the rest still runs.
set -u
LTSNN=${LTSNN:-./ltsnn}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
skip=0
skipped() { skip=$((skip+1)); echo "test_runtime.sh: skipped: $*"; }

STRICT="-std=c99 -pedantic -Wall -Wextra -Werror -Wshadow -Wconversion -Wsign-conversion -Iruntime"
FREE="-ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns -fno-pic"
M32=0
echo 'int main(void){return 0;}' > "$tmp/m.c"
cc -m32 "$tmp/m.c" -o "$tmp/m32" 2>/dev/null && "$tmp/m32" && M32=1

# ---- freestanding object: no undefined symbols ----
check_obj() { # name, compiler and flags...
    name=$1; shift
    if "$@" -c runtime/ltsnn_rt.c -o "$tmp/rt.o" 2>"$tmp/cc.log"; then
        und=$(nm -u "$tmp/rt.o" | tr -s ' \n' ' ')
        if [ -z "$und" ]; then ok "$name: builds, calls nothing outside itself ($(size "$tmp/rt.o" | awk 'NR==2{print $1}') bytes of code)"
        else bad "$name: undefined symbols: $und"; fi
    else bad "$name does not build"; cat "$tmp/cc.log"; fi
}
if [ $M32 = 1 ]; then
    check_obj "gcc -m32 -O2 freestanding" cc $STRICT $FREE -m32 -O2
    check_obj "gcc -m32 -O0 freestanding" cc $STRICT $FREE -m32 -O0
else
    skipped "-m32 (install gcc-multilib: scripts/install-deps.sh)"
fi
check_obj "gcc -O3 freestanding (64-bit)" cc $STRICT $FREE -O3 -march=native
if command -v clang >/dev/null 2>&1; then
    # clang may call memset/memcpy for loops even when freestanding; those are all a C target must provide
    if clang -std=c99 -pedantic -Wall -Wextra -Werror -Iruntime -ffreestanding -O2 -c runtime/ltsnn_rt.c -o "$tmp/rtc.o" 2>"$tmp/cc.log"; then
        und=$(nm -u "$tmp/rtc.o" | awk '{print $2}' | grep -v -x -e memset -e memcpy -e memmove | tr '\n' ' ')
        [ -z "$und" ] && ok "clang -O2 freestanding: nothing beyond memset/memcpy" || bad "clang: undefined $und"
    else bad "clang does not build the runtime"; cat "$tmp/cc.log"; fi
else skipped "clang is not installed"; fi
grep -q '#include <' runtime/ltsnn_rt.c && grep '#include <' runtime/ltsnn_rt.c runtime/ltsnn_rt.h | grep -v -e '<stddef.h>' -e '<stdint.h>' >"$tmp/inc"
[ -s "$tmp/inc" ] && bad "the runtime includes more than stddef.h and stdint.h: $(cat "$tmp/inc")" || ok "the runtime includes only <stddef.h> and <stdint.h>"

# ---- rt_classify against ltsnn eval ----
if [ $M32 = 1 ]; then ARCH=-m32; else ARCH=""; fi
if cc -std=c99 -pedantic -Wall -Wextra -Werror -O2 $ARCH -Iruntime examples/rt_classify.c runtime/ltsnn_rt.c \
      -o "$tmp/rt_classify" 2>"$tmp/cc.log"; then ok "examples/rt_classify.c builds ${ARCH:-64-bit} from the runtime alone"
else bad "rt_classify does not build"; cat "$tmp/cc.log"; fi
MODEL=8C3-AP2-16C3-AP2-FC32-FC10
if "$LTSNN" data export n-fashion-mnist --out "$tmp/rec" --limit 160 >"$tmp/x" 2>&1 &&
   "$LTSNN" data prepare n-mnist "$tmp/rec" --out "$tmp/cache" -T 6 >"$tmp/p" 2>&1 &&
   OMP_NUM_THREADS=2 "$LTSNN" train --data "$tmp/cache" --model $MODEL --wbits 4 --epochs 3 --batch 16 --threads 2 \
       --out "$tmp/run" >"$tmp/t" 2>&1 &&
   "$LTSNN" export "$tmp/run/last.safetensors" --out "$tmp/m.ltq" >"$tmp/e" 2>&1; then
    ok "trained and exported a 4-bit $MODEL: $(head -n 1 "$tmp/e")"
else
    bad "export/prepare/train/export: $(tail -n 3 "$tmp/x" "$tmp/p" "$tmp/t" "$tmp/e")"
fi
# one recording per cache, so the sample is known
n=0; same=0; classes=""
for f in $(find "$tmp/rec/Test" -name '*.bin' | sort | head -n 6); do
    n=$((n+1)); c=$(basename "$(dirname "$f")")
    for k in 0 1 2 3 4 5 6 7 8 9; do mkdir -p "$tmp/one$n/Test/$k" "$tmp/one$n/Train/$k"; done
    cp "$f" "$tmp/one$n/Test/$c/"; cp "$f" "$tmp/one$n/Train/$c/"
    if "$LTSNN" data prepare n-mnist "$tmp/one$n" --out "$tmp/one$n/c" -T 6 >/dev/null 2>"$tmp/err" &&
       "$LTSNN" eval "$tmp/m.ltq" --data "$tmp/one$n/c" --dump "$tmp/d$n" >/dev/null 2>"$tmp/err" &&
       "$tmp/rt_classify" "$tmp/m.ltq" "$f" >"$tmp/r$n" 2>>"$tmp/err"; then
        a=$(sed 's/^sample 0: //' "$tmp/d$n"); b=$(tail -n 1 "$tmp/r$n" | sed 's/^[^:]*: //')
        if [ "$a" = "$b" ]; then same=$((same+1)); classes="$classes $(echo "$a" | cut -d, -f1 | cut -d' ' -f2)"; echo "$b" >> "$tmp/all"
        else echo "  ltsnn eval:  $a"; echo "  rt_classify: $b"; fi
    else cat "$tmp/err"; fi
done
distinct=$(sort -u "$tmp/all" 2>/dev/null | wc -l)
[ "$distinct" -ge 3 ] && ok "the logit sums differ between recordings ($distinct distinct of $n)" ||
    bad "only $distinct distinct logit sums in $n recordings: the check would be empty"
if [ $n -gt 0 ] && [ $same -eq $n ]; then ok "rt_classify ($ARCH) and ltsnn eval agree bit for bit on $n recordings (classes$classes); $(head -n 1 "$tmp/r1" | sed 's/^[^:]*: //')"
else bad "rt_classify and ltsnn eval agree on $same of $n recordings"; fi
# bad input: a truncated model, a wrong recording
head -c 300 "$tmp/m.ltq" > "$tmp/cut.ltq"
if "$tmp/rt_classify" "$tmp/cut.ltq" "$f" >"$tmp/o" 2>&1; then bad "rt_classify ran a truncated model"
else grep -q "truncated\|shorter" "$tmp/o" && ok "rt_classify refuses a truncated model: $(cat "$tmp/o")" || bad "message: $(cat "$tmp/o")"; fi
printf 'abc' > "$tmp/bad.bin"
if "$tmp/rt_classify" "$tmp/m.ltq" "$tmp/bad.bin" >"$tmp/o" 2>&1; then bad "rt_classify accepted a 3-byte recording"
else ok "rt_classify refuses a 3-byte recording: $(tail -n 1 "$tmp/o")"; fi
echo "test_runtime.sh: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
