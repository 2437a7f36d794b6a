#!/bin/sh
# scaling.sh -- data-parallel training on one machine, measured for
# docs/scaling.md: VGG-9 (2x48x48 simulated event frames) trained by 1 rank
# x C threads against C ranks x 1 thread (with the gradient exchange posted
# during backward, and as one allreduce after it), the time per step split
# into compute and communication, the bytes per step; the allreduce alone
# (bench/dist_allreduce.c); the per-sample compute of VGG-9 and ResNet-19
# (ltsnn bench); then the model of N nodes (bench/scaling_model.py).
#
#   sh bench/scaling.sh [--quick] [--T 10] [--batch 16] [--steps 4] [--reps 2]
#                       [--cores 2] [--resnet-T 6] [--out bench/out/scaling]
#
# Configurations are interleaved rep by rep, so a change in the machine's
# load hits them alike.  Timings need an idle machine: the script prints
# the load average before and after.  --quick: T=2, batch 4, 2 steps, 1 rep
# (checks the script in a few minutes; its figures mean little).
# Needs an ltsnn built with MPI, mpirun, and /usr/share/datasets/fashion-mnist.
set -eu
T=10; BATCH=16; STEPS=4; REPS=2; CORES=2; RT=6; OUT=bench/out/scaling; LTSNN=${LTSNN:-./ltsnn}; BUILD=${BUILD:-build}
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) T=2; BATCH=4; STEPS=2; REPS=1; RT=2 ;;
        --T) T=$2; shift ;;
        --batch) BATCH=$2; shift ;;
        --steps) STEPS=$2; shift ;;
        --reps) REPS=$2; shift ;;
        --cores) CORES=$2; shift ;;
        --resnet-T) RT=$2; shift ;;
        --out) OUT=$2; shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "scaling.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if "$LTSNN" train --help | grep -q "built without MPI"; then
    echo "scaling.sh: $LTSNN was built without MPI" >&2; exit 1
fi
mkdir -p "$OUT"
MPI="mpirun --oversubscribe --allow-run-as-root --bind-to none -x OMP_NUM_THREADS=1"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# the allreduce alone
make -s "$BUILD/bench/dist_allreduce" BUILD="$BUILD"
$MPI -np "$CORES" "$BUILD/bench/dist_allreduce" 20 >"$OUT/allreduce.jsonl"

# data: STEPS batches of simulated events at VGG-9's input, no test split (no
# evaluation); two epochs, the second timed (the first warms up)
DATA="$OUT/nfm-T$T-48x48-n$((STEPS * BATCH))"
[ -s "$DATA-train.ltc" ] || "$LTSNN" data prepare n-fashion-mnist --size 48x48 --T "$T" --limit $((STEPS * BATCH)) \
    --split train --out "$DATA" >/dev/null
common="--data $DATA --model vgg9 --T $T --batch $BATCH --epochs 2 --seed 1"
: >"$OUT/runs.jsonl"
record() { # name ranks threads bucket run-dir
    tail -n 1 "$5/log.jsonl" | /usr/bin/python3 -c "
import json, sys
r = json.loads(sys.stdin.read())
r.update(config='$1', ranks_run=$2, threads=$3, bucket=$4)
print(json.dumps(r))" >>"$OUT/runs.jsonl"
}
rep=1
while [ $rep -le "$REPS" ]; do
    d="$OUT/r$rep"; rm -rf "$d"; mkdir -p "$d"
    "$LTSNN" train $common --threads "$CORES" --out "$d/1x$CORES" >"$d/1x$CORES.out" 2>&1
    record "1 rank x $CORES threads" 1 "$CORES" 0 "$d/1x$CORES"
    for b in 4 0; do
        $MPI -np "$CORES" "$LTSNN" train $common --threads 1 --sync-bn --bucket-mb $b --out "$d/${CORES}x1-b$b" \
            >"$d/${CORES}x1-b$b.out" 2>&1
        record "$CORES ranks x 1 thread, sync BN, buckets $b MB" "$CORES" 1 $b "$d/${CORES}x1-b$b"
    done
    rep=$((rep + 1))
done

# per-sample compute of the two nets on one rank of this machine
"$LTSNN" bench --model vgg9 --T "$T" --batch "$BATCH" --threads "$CORES" --warmup 1 --steps "$STEPS" \
    >"$OUT/bench_vgg9.json" 2>/dev/null
"$LTSNN" bench --model resnet19 --input 3x32x32 --T "$RT" --batch "$BATCH" --threads "$CORES" --warmup 1 \
    --steps "$STEPS" >"$OUT/bench_resnet19.json" 2>/dev/null
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 bench/scaling_model.py "$OUT" | tee "$OUT/scaling.md"
