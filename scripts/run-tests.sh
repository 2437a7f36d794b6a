#!/bin/sh
# run-tests.sh -- run each test program / script, print its output, and
# close with "tests: N passed, N failed".  Exit status is the verdict.
# Scripts get $LTSNN (the CLI under test) in their environment.
pass=0; fail=0; failed=""
for t in "$@"; do
    start=$(date +%s)
    case "$t" in
        *.sh) sh "$t" ;;
        *) "$t" ;;
    esac
    rc=$?
    dur=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then pass=$((pass+1)); echo "ok   $t (${dur}s)"
    else fail=$((fail+1)); failed="$failed $t"; echo "FAIL $t (exit $rc, ${dur}s)"; fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
