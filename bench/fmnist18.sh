#!/bin/sh
# fmnist18.sh -- issue 18's rows of the Fashion-MNIST results (docs/results.md,
# "When learning the threshold pays"): bench/fmnist.sh with its own output
# folder, the same 5-minute budget and discipline, three seeds, resumable.
# Static rows first (the main rows with today's build as the baseline, then
# every mechanism), then the simulated-event rows (the contrast step, and
# the baseline they are compared with).  Extra options go to fmnist.sh
# (e.g. --seeds 1 --max-runs 4, --list).  Run from the repository root:
#   sh bench/fmnist18.sh [fmnist.sh options]
# docs/results.md's rows so far were made with an equal-samples budget of one
# epoch instead (one thread per run, two runs side by side), row by row:
#   sh bench/fmnist.sh --out bench/out/fmnist18-e1 --kind issue18 --inputs static \
#       --epochs 1 --threads 1 --rows ROW
set -e
OUT=${OUT:-bench/out/fmnist18}
HERE=$(dirname "$0")
STATIC="fixed,sgp,sgp-lrvth1e-4,sgp-lrvth1e-5,sgp-vthsgd,stsg,stsg-lrvth1e-4,stsg-lrvth1e-5,stsg-vthsgd"
STATIC="$STATIC,sgp-bntd,sgp-noaffine,sgp-wdvth,fixed-vth0.25,sgp-vth0.25,fixed-vth4,sgp-vth4,fixed-T2,sgp-T2"
STATIC="$STATIC,authors-fixed,authors-sgp_stsg"
NEURO="fixed,sgp,fixed-contrast,sgp-contrast"
sh "$HERE/fmnist.sh" --out "$OUT" --kind issue18 --rows "$STATIC" --inputs static --no-table "$@"
sh "$HERE/fmnist.sh" --out "$OUT" --kind issue18 --rows "$NEURO" --inputs neuro "$@"
