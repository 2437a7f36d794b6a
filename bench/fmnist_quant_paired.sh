#!/bin/sh
# fmnist_quant_paired.sh -- 4-bit against float32 on equal training samples
# (docs/results.md "4-bit weights"): each row of bench/fmnist_quant.sh
# (fixed, sgp and their --wbits 4 versions) trains for exactly one pass over
# the first N training images, so a float run and its 4-bit twin (same seed:
# same initialisation, same order) see the same data whatever else the
# machine is doing; a time budget (bench/fmnist_quant.sh) needs an idle
# machine to be fair.  Then the same energy and integer-model evaluation
# on the full test set, and OUT/quant.md.  Run from the repository root:
#
#   sh bench/fmnist_quant_paired.sh                     # N = 12000, seeds 1 and 2, both inputs
#   N=60000 SEEDS=1,2,3 sh bench/fmnist_quant_paired.sh # one full epoch
#
# Resumable: a run with a DONE file is skipped.
set -e
OUT=${OUT:-bench/out/fmnist-paired}
N=${N:-12000}
SEEDS=${SEEDS:-1,2}
INPUTS=${INPUTS:-static,neuro}
ROWS=${ROWS:-fixed,sgp,fixed-w4,sgp-w4}
LTSNN=${LTSNN:-./ltsnn}
THREADS=${THREADS:-2}
export OPENBLAS_NUM_THREADS=1
flags() {
    case $1 in
    fixed) echo "--mode fixed --beta 0.45" ;;
    sgp) echo "--mode sgp --window sigmoid --beta 0.45" ;;
    fixed-w4) echo "--mode fixed --beta 0.45 --wbits 4" ;;
    sgp-w4) echo "--mode sgp --window sigmoid --beta 0.45 --wbits 4" ;;
    *) echo "fmnist_quant_paired.sh: unknown row $1" >&2; exit 2 ;;
    esac
}
for input in $(echo "$INPUTS" | tr ',' ' '); do
    case $input in
    static) data="--data fashion-mnist --model fmnist --T 4"; edata=fashion-mnist ;;
    neuro) data="--data n-fashion-mnist --model AP2-32C3-32C3-AP2-64C3-64C3-AP2-FC256-FC10 --T 10"
           edata="$OUT/cache/nfm-T10-34x34" ;;
    *) echo "fmnist_quant_paired.sh: unknown input $input" >&2; exit 2 ;;
    esac
    if [ "$input" = neuro ] && { [ ! -f "$edata-test.ltc" ] || [ ! -f "$edata-train.ltc" ]; }; then
        mkdir -p "$OUT/cache" # the evaluations' test set (ltsnn eval opens both splits of a cache)
        "$LTSNN" data prepare n-fashion-mnist --out "$edata" --T 10 --size 34x34 --threads "$THREADS"
    fi
    for s in $(echo "$SEEDS" | tr ',' ' '); do
        for row in $(echo "$ROWS" | tr ',' ' '); do
            run="$OUT/runs/$input/$row/seed$s"
            if [ ! -f "$run/DONE" ]; then
                mkdir -p "$(dirname "$run")"
                # shellcheck disable=SC2046,SC2086
                set -- "$LTSNN" train $data --batch 64 --epochs 1 --limit "$N" --lr 0.001 $(flags "$row") --seed "$s" \
                    --threads "$THREADS" --out "$run" --force
                echo "== $(date +%H:%M:%S) $*"
                "$@" > "$run.out" 2>&1 || { echo "failed: see $run.out"; exit 1; }
                mv "$run.out" "$run/train.out"
                printf '{"input": "%s", "row": "%s", "seed": %s, "n_train": %s, "command": "%s"}\n' "$input" "$row" \
                    "$s" "$N" "$*" > "$run/row.json"
                touch "$run/DONE"
            fi
            if [ ! -s "$run/energy.txt" ]; then
                "$LTSNN" eval "$run/last.safetensors" --data "$edata" --energy --threads "$THREADS" > "$run/energy.tmp"
                mv "$run/energy.tmp" "$run/energy.txt"
            fi
            case $row in *-w4) ;; *) continue ;; esac
            if [ ! -s "$run/integer.txt" ]; then
                "$LTSNN" export "$run/last.safetensors" --out "$run/model.ltq" > "$run/export.txt"
                "$LTSNN" eval "$run/model.ltq" --data "$edata" --float "$run/last.safetensors" --energy \
                    --threads "$THREADS" > "$run/integer.tmp"
                mv "$run/integer.tmp" "$run/integer.txt"
            fi
        done
    done
done
python3 "$(dirname "$0")/quant_table.py" "$OUT" > "$OUT/quant.md"
echo "wrote $OUT/quant.md"
