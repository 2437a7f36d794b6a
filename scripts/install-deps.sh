#!/bin/sh
# install-deps.sh -- the Debian 12 packages ltsnn builds, tests and benchmarks with
# (liblz4-dev, libzstd-dev: the AEDAT 4.0 reader's packet decompression).
# Needs root (or sudo).  Safe to run again.
set -e
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
BUILD_PKGS="build-essential pkg-config libopenblas-dev libdnnl-dev libcjson-dev zlib1g-dev libstb-dev liblz4-dev libzstd-dev"
# Open MPI: data-parallel training (mpirun -np N ltsnn train); ltsnn builds without it too
BUILD_PKGS="$BUILD_PKGS libopenmpi-dev openmpi-bin"
# python3-torch + numpy: the PyTorch reference used by bench/ and to make golden tensors;
# clang + libfuzzer: `make fuzz` and `make fuzz-ci`; dataset-fashion-mnist: the real dataset (issue: real data);
# time: /usr/bin/time -v for the benchmarks' peak RSS; gcc-multilib: the runtime's 32-bit build check
# (tests/test_runtime.sh).
EXTRA_PKGS="clang libfuzzer-14-dev libclang-rt-14-dev python3-numpy dataset-fashion-mnist time gcc-multilib"
[ "${LTSNN_WITH_TORCH:-0}" = 1 ] && EXTRA_PKGS="$EXTRA_PKGS python3-torch"
missing=""
for p in $BUILD_PKGS $EXTRA_PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
