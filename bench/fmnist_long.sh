#!/bin/sh
# fmnist_long.sh -- the long runs of docs/results.md: SGP (sigmoid window) and
# the fixed-threshold baseline on static Fashion-MNIST, one hour of training
# each (the evaluation after every epoch not counted), seed 1, the same
# model, batch and learning rate as the 5-minute rows of bench/fmnist.sh.
#
#   sh bench/fmnist_long.sh [fmnist.sh options]      (from the repository root)
#
# It is bench/fmnist.sh with other defaults: output bench/out/fmnist_long,
# rows sgp,fixed, static input only, seed 1, 60 minutes, and chunks of 15
# training minutes: each ltsnn invocation trains at most 15 minutes, then
# evaluates and saves, so stopping costs at most the work since the last
# save (an epoch or a chunk).  Call it again with the same options to
# continue; finished runs are skipped, and the table is rebuilt into
# bench/out/fmnist_long/results.md.  Any fmnist.sh option overrides these
# (e.g. --threads 1, --seeds 1,2, --chunk 30).
OUT=${OUT:-bench/out/fmnist_long}
ROWS=${ROWS:-sgp,fixed}
INPUTS=${INPUTS:-static}
SEEDS=${SEEDS:-1}
MINUTES=${MINUTES:-60}
CHUNK=${CHUNK:-15}
KIND=long
export OUT ROWS INPUTS SEEDS MINUTES CHUNK KIND
exec sh "$(dirname "$0")/fmnist.sh" "$@"
