#!/bin/sh
# run-tests.sh -- run each test program / script, print its output, and
# close with "tests: N passed, N failed, N skipped".  Exit status is the
# verdict: any failure fails the run, and so does a run in which nothing
# passed.  A test that exits 77 could not run on this machine (a file or
# package it needs is absent): it is reported as skipped, never as passed.
# Scripts get $LTSNN (the CLI under test) in their environment.
pass=0; fail=0; skip=0; failed=""; skipped=""
for t in "$@"; do
    start=$(date +%s)
    case "$t" in
        *.sh) sh "$t" ;;
        *) "$t" ;;
    esac
    rc=$?
    dur=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then pass=$((pass+1)); echo "ok   $t (${dur}s)"
    elif [ $rc -eq 77 ]; then skip=$((skip+1)); skipped="$skipped $t"; echo "SKIP $t (${dur}s)"
    else fail=$((fail+1)); failed="$failed $t"; echo "FAIL $t (exit $rc, ${dur}s)"; fi
done
[ -n "$skipped" ] && echo "skipped:$skipped"
[ -n "$failed" ] && echo "failed:$failed"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
