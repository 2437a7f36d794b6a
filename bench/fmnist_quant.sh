#!/bin/sh
# fmnist_quant.sh -- docs/results.md "4-bit weights": 4-bit against float32
# on static and simulated-event Fashion-MNIST, with operation counts and
# energy per row (METHOD.md §7, §10).  Run from the repository root after
# `make`, on an otherwise idle machine:
#
#   sh bench/fmnist_quant.sh                       # seeds 1 and 2, 5 training minutes a run
#   sh bench/fmnist_quant.sh --seeds 1 --inputs static
#
# 1. Trains the rows fixed-w4 and sgp-w4 (--wbits 4; everything else as the
#    matrix: bench/fmnist.sh with its defaults, which it calls; resumable).
#    The float32 rows fixed and sgp come from the same OUT (bench/fmnist.sh
#    makes them; pass FLOAT=1 to train them here too, with the same seeds,
#    which a comparison on one machine state needs).
# 2. For every finished run of those four rows: `ltsnn eval last.safetensors
#    --energy` (RUN/energy.txt); for a 4-bit run also `ltsnn export` and
#    `ltsnn eval RUN/model.ltq --float last.safetensors --energy`
#    (RUN/integer.txt): the integer model's accuracy, spike and prediction
#    agreement, its own counts.
# 3. Writes OUT/quant.md (bench/quant_table.py).
# Options other than --seeds/--inputs/--out go to bench/fmnist.sh.
set -e
OUT=${OUT:-bench/out/fmnist}
SEEDS=${SEEDS:-1,2}
INPUTS=${INPUTS:-static,neuro}
LTSNN=${LTSNN:-./ltsnn}
FLOAT=${FLOAT:-0}
THREADS=${THREADS:-2}
PASS=""
while [ $# -gt 0 ]; do
    case $1 in
    --seeds) SEEDS=$2; shift ;;
    --inputs) INPUTS=$2; shift ;;
    --out) OUT=$2; shift ;;
    --float) FLOAT=1 ;;
    *) PASS="$PASS $1" ;;
    esac
    shift
done
ROWS=fixed-w4,sgp-w4
[ "$FLOAT" = 1 ] && ROWS=fixed,sgp,fixed-w4,sgp-w4
# shellcheck disable=SC2086
sh "$(dirname "$0")/fmnist.sh" --out "$OUT" --rows $ROWS --seeds "$SEEDS" --inputs "$INPUTS" --ltsnn "$LTSNN" \
    --threads "$THREADS" --no-table $PASS
export OPENBLAS_NUM_THREADS=1
for input in $(echo "$INPUTS" | tr ',' ' '); do
    case $input in
    static) data=fashion-mnist ;;
    neuro) data="$OUT/cache/nfm-T10-34x34" ;;
    esac
    for row in fixed sgp fixed-w4 sgp-w4; do
        for s in $(echo "$SEEDS" | tr ',' ' '); do
            run="$OUT/runs/$input/$row/seed$s"
            [ -f "$run/DONE" ] || continue
            if [ ! -s "$run/energy.txt" ]; then
                echo "energy: $run"
                "$LTSNN" eval "$run/last.safetensors" --data "$data" --energy --threads "$THREADS" > "$run/energy.tmp"
                mv "$run/energy.tmp" "$run/energy.txt"
            fi
            case $row in *-w4) ;; *) continue ;; esac
            if [ ! -s "$run/integer.txt" ]; then
                echo "integer model: $run"
                "$LTSNN" export "$run/last.safetensors" --out "$run/model.ltq" > "$run/export.txt"
                "$LTSNN" eval "$run/model.ltq" --data "$data" --float "$run/last.safetensors" --energy \
                    --threads "$THREADS" > "$run/integer.tmp"
                mv "$run/integer.tmp" "$run/integer.txt"
            fi
        done
    done
done
python3 "$(dirname "$0")/quant_table.py" "$OUT" > "$OUT/quant.md"
echo "wrote $OUT/quant.md"
