#!/bin/sh
# det.sh -- the detection results of docs/detection.md ("Results"): the
# yolov2 preset trained on ltsnn's synthetic Gen1 data, learned (sgp)
# against fixed thresholds (the paper's Table 10 question) with several
# seeds, each run a fixed budget of training minutes, resumable.  Run from
# the repository root:
#
#   sh bench/det.sh [options]            (sh bench/det.sh --help)
#
# Data: the default synthetic dataset (ltsnn data synth-gen1, seed 1: 48 /
# 12 / 12 recordings of 6 s) is written once to OUT/gen1-synth and prepared
# once into OUT/cache/synth-HxW-T (ltsnn data prepare gen1).  Every run is a
# directory OUT/runs/ROW/seedS trained by `ltsnn train --data CACHE --model
# yolov2` (the detection head; anchors by k-means on the training boxes;
# validation split evaluated after every epoch, toolbox filter).  The script
# writes the run's row.json (its command and budget) before the first
# invocation and DONE when the budget is spent; a later call skips DONE runs
# and resumes the others from last.safetensors with what is left of the
# budget (bench/results_table.py --remaining), so it can be stopped at any
# time and called again with the same options.  A finished run's best
# checkpoint is then scored with `ltsnn eval` on the val and test splits,
# with the toolbox filter and without one (eval_*.json), and
# OUT/results.md is rebuilt by bench/det_table.py.
set -e

OUT=${OUT:-bench/out/det}
ROWS=${ROWS:-sgp,fixed}
SEEDS=${SEEDS:-1,2}
MINUTES=${MINUTES:-60}
CHUNK=${CHUNK:-0}
THREADS=${THREADS:-2}
BATCH=${BATCH:-16}
LR=${LR:-0.001}
SIZE=${SIZE:-64x80}
FRAMES=${FRAMES:-5}
MODEL=${MODEL:-yolov2}
SYNTH=${SYNTH:-}
TRAIN_FLAGS=${TRAIN_FLAGS:-}
LTSNN=${LTSNN:-./ltsnn}
MAX_RUNS=${MAX_RUNS:-0}
TABLE=${TABLE:-1}
LIST=0
OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export OPENBLAS_NUM_THREADS

usage() {
    cat <<'EOF'
usage: sh bench/det.sh [options]      (each option also as an environment variable)
  --out DIR        OUT      output folder (default bench/out/det)
  --rows LIST      ROWS     threshold modes, comma-separated (default sgp,fixed)
  --seeds LIST     SEEDS    default 1,2
  --minutes M      MINUTES  training minutes per run (default 60; evaluation not counted)
  --chunk M        CHUNK    at most M training minutes per ltsnn invocation (default 0: all that is left)
  --threads N      THREADS  ltsnn --threads (default 2)
  --batch N        BATCH    default 16
  --lr X           LR       default 0.001 (Adam, METHOD.md section 5)
  --size HxW       SIZE     frame size of the cache (default 64x80, the smallest yolov2 takes)
  -T N             FRAMES   frames per sample (default 5)
  --model M        MODEL    default yolov2 (its last FC is set to the head's outputs)
  --synth "FLAGS"  SYNTH    extra ltsnn data synth-gen1 flags (default none: the default dataset)
  --train-flags "FLAGS"  TRAIN_FLAGS  extra ltsnn train flags for every run, e.g. "--fc-spikes off"
                            (default none; recorded in the run's command)
  --max-runs N     MAX_RUNS stop after N ltsnn train invocations (default 0: no limit)
  --ltsnn PATH     LTSNN    the binary (default ./ltsnn)
  --no-table       TABLE=0  do not rebuild OUT/results.md at the end
  --list                    print every run and its state, run nothing
Environment: OPENBLAS_NUM_THREADS (default 1).
EOF
}

while [ $# -gt 0 ]; do
    case $1 in
    --no-table | --list | -h | --help) ;;
    *) [ $# -ge 2 ] || { echo "det.sh: $1 needs a value" >&2; exit 2; } ;;
    esac
    case $1 in
    --out) OUT=$2; shift ;;
    --rows) ROWS=$2; shift ;;
    --seeds) SEEDS=$2; shift ;;
    --minutes) MINUTES=$2; shift ;;
    --chunk) CHUNK=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --batch) BATCH=$2; shift ;;
    --lr) LR=$2; shift ;;
    --size) SIZE=$2; shift ;;
    -T) FRAMES=$2; shift ;;
    --model) MODEL=$2; shift ;;
    --synth) SYNTH=$2; shift ;;
    --train-flags) TRAIN_FLAGS=$2; shift ;;
    --max-runs) MAX_RUNS=$2; shift ;;
    --ltsnn) LTSNN=$2; shift ;;
    --no-table) TABLE=0 ;;
    --list) LIST=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "det.sh: unknown option '$1' (--help lists them)" >&2; exit 2 ;;
    esac
    shift
done

die() { echo "det.sh: $*" >&2; exit 2; }
is_num() { awk -v x="$1" 'BEGIN { exit !(x ~ /^[0-9]+(\.[0-9]*)?$/ && x + 0 > 0) }'; }
is_num "$MINUTES" || die "--minutes must be a positive number, not '$MINUTES'"
is_num "$LR" || die "--lr must be a positive number, not '$LR'"
[ "$CHUNK" = 0 ] || is_num "$CHUNK" || die "--chunk must be a positive number or 0, not '$CHUNK'"
case $THREADS$MAX_RUNS$BATCH$FRAMES in *[!0-9]*) die "--threads, --max-runs, --batch, -T take integers" ;; esac
case $SIZE in *[!0-9x]* | x* | *x | *x*x*) die "--size is HxW, not '$SIZE'" ;; *x*) ;; *) die "--size is HxW" ;; esac
case $OUT$LTSNN$MODEL in *[[:space:]]*) die "--out, --ltsnn and --model must not contain spaces" ;; esac
case $TRAIN_FLAGS in *--minutes* | *--out* | *--resume* | *--seed* | *--mode* | *--threads*)
    die "--train-flags must not set --minutes, --out, --resume, --seed, --mode or --threads (the script's own)" ;; esac
[ -x "$LTSNN" ] || die "$LTSNN is not an executable (build it with make, or pass --ltsnn)"
ROWS=$(echo "$ROWS" | tr ',' ' ')
SEEDS=$(echo "$SEEDS" | tr ',' ' ')
for r in $ROWS; do case $r in fixed | stsg | sgp | penalty_all | sgp_stsg | dsr) ;;
    *) die "unknown threshold mode '$r' (fixed stsg sgp penalty_all sgp_stsg dsr)" ;; esac; done
for s in $SEEDS; do case $s in '' | *[!0-9]*) die "seeds are non-negative integers, not '$s'" ;; esac; done
HERE=$(dirname "$0")
ROOT="$OUT/gen1-synth"
CACHE="$OUT/cache/synth-$SIZE-T$FRAMES"

# the data, made once (a folder or cache that is there is kept)
data() {
    if [ ! -d "$ROOT/train" ]; then
        echo "== ltsnn data synth-gen1 $ROOT $SYNTH (once)"
        mkdir -p "$OUT"
        rm -rf "$ROOT.tmp"
        # shellcheck disable=SC2086
        "$LTSNN" data synth-gen1 "$ROOT.tmp" --threads "$THREADS" $SYNTH
        mv "$ROOT.tmp" "$ROOT"
    fi
    if [ ! -f "$CACHE-train.ltc" ] || [ ! -f "$CACHE-val.ltc" ] || [ ! -f "$CACHE-test.ltc" ]; then
        mkdir -p "$OUT/cache"
        echo "== ltsnn data prepare gen1 $ROOT --out $CACHE --size $SIZE -T $FRAMES (once)"
        "$LTSNN" data prepare gen1 "$ROOT" --out "$CACHE" --size "$SIZE" -T "$FRAMES" --threads "$THREADS"
    fi
}

train_cmd() { # $1 mode, $2 seed, $3 dir
    echo "$LTSNN train --data $CACHE --model $MODEL --batch $BATCH --epochs 1000 --lr $LR --mode $1 --seed $2" \
        "--threads $THREADS --minutes $MINUTES${TRAIN_FLAGS:+ $TRAIN_FLAGS} --out $3"
}
# what must not change when a run is resumed: the command without the binary and --threads
same_run() { echo "${1#* }" | sed 's/ --threads [0-9]*//'; }

BUDGET_S=$(awk -v m="$MINUTES" 'BEGIN { printf "%.3f", m * 60 }')
TOL_S=$(awk -v b="$BUDGET_S" 'BEGIN { t = b / 100; printf "%.3f", t < 1 ? 1 : t }')
remaining() { python3 "$HERE/results_table.py" --remaining "$1" "$BUDGET_S"; }

CHILD=""
trap 'set +e; [ -n "$CHILD" ] && kill "$CHILD" 2>/dev/null && wait "$CHILD"; echo "det.sh: stopped; call it again with the same options to resume" >&2; exit 130' INT TERM HUP

# a finished run: its best checkpoint on val and test, with the toolbox filter and without
score() { # $1 dir
    for split in val test; do for f in toolbox none; do
        out="$1/eval_${split}_$f.json"
        [ -s "$out" ] && continue
        "$LTSNN" eval "$1/best.safetensors" --split $split --filter $f --json --threads "$THREADS" \
            < /dev/null > "$out.tmp" 2>> "$1/train.out" && mv "$out.tmp" "$out" ||
            { rm -f "$out.tmp"; echo "det.sh: ltsnn eval $1 ($split, $f) failed" >&2; }
    done; done
}

invocations=0
[ "$LIST" = 1 ] || data
for seed in $SEEDS; do for row in $ROWS; do
    dir="$OUT/runs/$row/seed$seed"
    cmd=$(train_cmd "$row" "$seed" "$dir")
    if [ -f "$dir/DONE" ]; then
        [ "$LIST" = 1 ] && { echo "done      $dir"; continue; }
        score "$dir"
        continue
    fi
    if [ -f "$dir/row.json" ]; then
        old=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["command"])' "$dir/row.json")
        [ "$(same_run "$old")" = "$(same_run "$cmd")" ] ||
            die "$dir was started with a different command:
  $old
not
  $cmd
(remove the folder, or pick another --out)"
    fi
    rem=$(remaining "$dir")
    if [ "$LIST" = 1 ]; then
        echo "todo      $dir ($(awk -v r="$rem" 'BEGIN { printf "%.2f", r / 60 }') of $MINUTES min left)"
        continue
    fi
    [ "$MAX_RUNS" -gt 0 ] && [ "$invocations" -ge "$MAX_RUNS" ] && { echo "== --max-runs $MAX_RUNS reached"; break 2; }
    mkdir -p "$dir"
    [ -f "$dir/row.json" ] || python3 -c 'import json,sys; d=dict(zip(("kind","row","seed","budget_minutes","command","size","T"), sys.argv[2:])); d["seed"]=int(d["seed"]); d["budget_minutes"]=float(d["budget_minutes"]); json.dump(d, open(sys.argv[1], "w"), indent=1)' \
        "$dir/row.json" det "$row" "$seed" "$MINUTES" "$cmd" "$SIZE" "$FRAMES"
    while :; do
        rem=$(remaining "$dir")
        if awk -v r="$rem" -v t="$TOL_S" 'BEGIN { exit !(r < t) }'; then
            date -u +%Y-%m-%dT%H:%M:%SZ > "$dir/DONE"
            echo "== done $dir"
            score "$dir"
            break
        fi
        [ "$MAX_RUNS" -gt 0 ] && [ "$invocations" -ge "$MAX_RUNS" ] && break
        mins=$(awk -v r="$rem" -v c="$CHUNK" 'BEGIN { m = r / 60; if (c > 0 && c < m) m = c; printf "%.4f", m }')
        run=$(echo "$cmd" | sed "s|--minutes $MINUTES |--minutes $mins |")
        [ -f "$dir/last.safetensors" ] && run="$run --resume $dir/last.safetensors"
        echo "== $(date -u +%H:%M:%S) $run"
        echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $run" >> "$dir/invocations.txt"
        # shellcheck disable=SC2086
        $run < /dev/null >> "$dir/train.out" 2>&1 &
        CHILD=$!
        rc=0
        wait "$CHILD" || rc=$?
        CHILD=""
        invocations=$((invocations + 1))
        [ "$rc" = 0 ] || { tail -n 5 "$dir/train.out" >&2; die "ltsnn train failed (exit $rc) for $dir"; }
    done
done; done

if [ "$LIST" = 0 ] && [ "$TABLE" = 1 ] && [ -d "$OUT/runs" ]; then
    python3 "$HERE/det_table.py" "$OUT" --out "$OUT/results.md"
    echo "== table: $OUT/results.md"
fi
