#!/bin/sh
# test_plot.sh -- `ltsnn plot RUN_DIR`: writes the three figures (well-formed
# SVG, one polyline per LIF layer in fig_rate.svg), honours --out, and fails
# with the file and line number on a malformed log line.
LTSNN=${LTSNN:-./ltsnn}
d=$(mktemp -d /tmp/ltsnn-test-plot-sh.XXXXXX) || exit 1
trap 'rm -rf "$d"' EXIT
fail=0
bad() { echo "FAIL test_plot.sh: $*" >&2; fail=1; }

mkdir "$d/run"
for e in 1 2 3 4; do
    printf '{"epoch": %d, "train_loss": 1.%d, "train_acc": %d0.5, "test_acc": %d1.0, "lr": 0.001, "seconds": 2.0, "vth": [1.0, 0.9%d, 1.0%d, 0.8], "rate": [0.1, 0.2, 0.0%d, 0.15]}\n' \
        $e $e $e $e $e $e $e >> "$d/run/log.jsonl"
done
printf '{"mode": "penalty_all", "window": "triangle", "g": 1.0, "lam": 0.5}\n' > "$d/run/config.json"

"$LTSNN" plot "$d/run" > "$d/out.txt" 2> "$d/err.txt" || bad "plot exited $? ($(cat "$d/err.txt"))"
for f in fig_accuracy_threshold fig_surrogate fig_rate; do
    s="$d/run/$f.svg"
    [ -s "$s" ] || { bad "$f.svg missing"; continue; }
    head -c 4 "$s" | grep -q '^<svg' || bad "$f.svg does not start with <svg"
    [ "$(tail -n 1 "$s")" = "</svg>" ] || bad "$f.svg does not end with </svg>"
    [ "$(grep -o '<g[ >]' "$s" | wc -l)" -eq "$(grep -o '</g>' "$s" | wc -l)" ] || bad "$f.svg: <g> unbalanced"
    [ "$(grep -o '<text' "$s" | wc -l)" -eq "$(grep -o '</text>' "$s" | wc -l)" ] || bad "$f.svg: <text> unbalanced"
    grep -q "wrote $s" "$d/out.txt" || bad "output does not list $s"
done
n=$(grep -o '<polyline' "$d/run/fig_rate.svg" | wc -l)
[ "$n" -eq 4 ] || bad "fig_rate.svg has $n polylines, want 4 (one per LIF layer)"
n=$(grep -o '<polyline' "$d/run/fig_surrogate.svg" | wc -l)
[ "$n" -eq 8 ] || bad "fig_surrogate.svg has $n polylines, want 8 (two panels of 4 layers)"
n=$(grep -o '<polyline' "$d/run/fig_accuracy_threshold.svg" | wc -l)
[ "$n" -eq 6 ] || bad "fig_accuracy_threshold.svg has $n polylines, want 6 (test, train, 4 layers)"
grep -q 'mode penalty_all, window triangle' "$d/run/fig_surrogate.svg" || bad "config.json mode not used"

"$LTSNN" plot "$d/run" --out "$d/figs" > /dev/null 2>&1 || bad "--out failed"
[ -s "$d/figs/fig_rate.svg" ] || bad "--out DIR not written"

# a malformed line: non-zero exit, message names the file and line 3
printf '{"epoch": 1, "test_acc": 1, "vth": [1], "rate": [0]}\n\n{"epoch": 2, "test_acc": \n' > "$d/run/log.jsonl"
if "$LTSNN" plot "$d/run" > /dev/null 2> "$d/err.txt"; then
    bad "malformed log accepted"
fi
grep -q 'log.jsonl:3:' "$d/err.txt" || bad "error does not name log.jsonl:3: $(cat "$d/err.txt")"

"$LTSNN" plot "$d/nope" > /dev/null 2>&1 && bad "missing run directory accepted"
"$LTSNN" plot > /dev/null 2>&1 && bad "no RUN_DIR accepted"
"$LTSNN" plot --help > /dev/null 2>&1 || bad "--help failed"

[ $fail -eq 0 ] && echo "test_plot.sh: ok"
exit $fail
