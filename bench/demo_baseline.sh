#!/bin/sh
# demo_baseline.sh -- build bench/demo_baseline.c against the library and run it:
# softmax regression on the built-in demo data, with time-summed event counts
# (what the data is designed to defeat) and with features that keep time.
# Usage: sh bench/demo_baseline.sh [demo_baseline flags]   (from the repo root)
# Env: BUILD (default build-bench), CC (default cc).  Takes a few minutes on 2 cores.
set -e
BUILD=${BUILD:-build-bench}
CC=${CC:-cc}
make -s BUILD="$BUILD" "$BUILD/libltsnn.a"
$CC -std=c11 -O2 -march=native -Wall -Wextra -Werror -fopenmp -Iinclude -o "$BUILD/demo_baseline" \
    bench/demo_baseline.c "$BUILD/libltsnn.a" -lopenblas -lcjson -lz -lm
# one BLAS thread: the matrices are small and OpenMP already owns the cores
OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} exec "$BUILD/demo_baseline" "$@"
