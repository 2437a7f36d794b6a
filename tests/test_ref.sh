#!/bin/sh
# test_ref.sh -- ltsnn's own PyTorch reference (bench/ref) checks itself:
# hand-derived surrogate values, gradcheck in float64 on the smooth parts,
# and (when ../shared is beside the repository) agreement with the older
# reference.  Needs Debian's python3-torch; without it the test is skipped.
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "test_ref: skipped: python3-torch is not installed (LTSNN_WITH_TORCH=1 sh scripts/install-deps.sh)"
    exit 77
fi
exec /usr/bin/python3 bench/ref/test_ref.py
