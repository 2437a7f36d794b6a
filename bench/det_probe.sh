#!/bin/sh
# det_probe.sh -- build bench/det_probe.c against the library and run it: a
# small spiking net trained with the detection loss on a detection cache,
# validation mAP as it goes (docs/detection.md, "Is it learnable?").
# Usage: sh bench/det_probe.sh --data PREFIX [det_probe flags]   (from the repo root)
# Env: BUILD (default build-bench), CC (default cc).
set -e
BUILD=${BUILD:-build-bench}
CC=${CC:-cc}
make -s BUILD="$BUILD" "$BUILD/libltsnn.a"
$CC -std=c11 -O2 -march=native -Wall -Wextra -Werror -fopenmp -Iinclude -o "$BUILD/det_probe" \
    bench/det_probe.c "$BUILD/libltsnn.a" -ldnnl -lopenblas -lcjson -lz -lstb -lm
exec "$BUILD/det_probe" "$@"
