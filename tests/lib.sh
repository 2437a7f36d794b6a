# lib.sh -- what the test scripts share, sourced from the repository root
# (`. tests/lib.sh`) after they set tmp: the counters, ok/bad, and refused,
# which runs a command that must fail with a message containing a text.
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
refused() { # description, expected text, command...
    what=$1; want=$2; shift 2
    if "$@" >"$tmp/o" 2>&1; then bad "$what: accepted"
    elif grep -q -- "$want" "$tmp/o"; then ok "$what: $(tail -n 1 "$tmp/o")"
    else bad "$what: message lacks '$want': $(cat "$tmp/o")"; fi
}
