#!/bin/sh
# exports.sh -- the linker version script of libltsnn.so: every function the
# public headers (include/ltsnn.h, include/ltsnn/*.h) declare is global,
# everything else (kernels, layer kinds, planner, readers' internals) local.
# Usage: sh scripts/exports.sh include/ltsnn/*.h > build/ltsnn.map
set -e
echo "{"
echo "  global:"
cat "$@" | sed -e 's|/\*.*\*/||g' | grep -o '\blt_[a-z0-9_]*[[:space:]]*(' | sed -e 's/[[:space:]]*($//' |
    sort -u | sed -e 's/.*/    &;/'
echo "  local: *;"
echo "};"
