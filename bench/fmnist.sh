#!/bin/sh
# fmnist.sh -- the Fashion-MNIST results matrix of docs/results.md: threshold
# modes x seeds x {static, neuro}, each run a fixed budget of training time,
# resumable.  Run from the repository root:
#
#   sh bench/fmnist.sh [options]            (sh bench/fmnist.sh --help)
#
# Every run is a directory OUT/runs/INPUT/ROW/seedS.  The script writes its
# row.json (the command, the budget) before the first training invocation and
# a DONE file when the run has trained for its whole budget.  On a later call:
# a DONE run is skipped; an unfinished one is resumed from its
# last.safetensors with the budget minus the train_seconds of the epochs that
# checkpoint has seen (python3 bench/results_table.py --remaining); one with
# nothing saved starts again.  So the script can be stopped at any time
# (Ctrl-C, kill, end of session) and called again with the same options.  At
# the end it rebuilds OUT/results.md from all run directories.
#
# Order: the main rows (fixed, sgp) for every seed first, then the other rows
# seed by seed, static before neuro within each, so a partial matrix is the
# most useful one.  The neuromorphic data are simulated once into
# OUT/cache/ (ltsnn data prepare n-fashion-mnist, about 3 ms of CPU per image).
set -e

OUT=${OUT:-bench/out/fmnist}
ROWS=${ROWS:-fixed,stsg,sgp,sgp-arctan,sgp-triangle,sgp-piecewise,penalty_all,sgp_stsg,sgp-beta0.95}
INPUTS=${INPUTS:-static,neuro}
SEEDS=${SEEDS:-1,2,3}
MINUTES=${MINUTES:-5}
EPOCHS=${EPOCHS:-0}
CHUNK=${CHUNK:-0}
THREADS=${THREADS:-2}
LIMIT=${LIMIT:-0}
LTSNN=${LTSNN:-./ltsnn}
BATCH=${BATCH:-64}
STATIC_MODEL=${STATIC_MODEL:-fmnist}
NEURO_MODEL=${NEURO_MODEL:-AP2-32C3-32C3-AP2-64C3-64C3-AP2-FC256-FC10}
MAX_RUNS=${MAX_RUNS:-0}
KIND=${KIND:-matrix}
TABLE=${TABLE:-1}
ENERGY=${ENERGY:-}
LIST=0
# one BLAS thread per OpenMP worker: ltsnn parallelises over the batch itself
OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export OPENBLAS_NUM_THREADS

usage() {
    cat <<'EOF'
usage: sh bench/fmnist.sh [options]      (each option also as an environment variable)
  --out DIR          OUT      output folder (default bench/out/fmnist)
  --rows LIST        ROWS     comma-separated rows (default the matrix's): fixed stsg sgp sgp-arctan
                              sgp-triangle sgp-piecewise penalty_all sgp_stsg sgp-beta0.95; issue 18's
                              rows (bench/fmnist18.sh runs them): sgp-lrvth1e-4 sgp-lrvth1e-5 sgp-vthsgd
                              stsg-lrvth1e-4 stsg-lrvth1e-5 stsg-vthsgd sgp-bntd sgp-noaffine sgp-wdvth
                              fixed-vth0.25 sgp-vth0.25 fixed-vth4 sgp-vth4 fixed-T2 sgp-T2 (static)
                              fixed-contrast sgp-contrast (neuro: a contrast step of CONTRAST, default
                              0.5, halfway through each sample) authors-fixed authors-sgp_stsg
                              4-bit weights (bench/fmnist_quant.sh): fixed-w4 sgp-w4
  --inputs LIST      INPUTS   static,neuro (default both)
  --seeds LIST       SEEDS    default 1,2,3
  --minutes M        MINUTES  training minutes per run (default 5; evaluation not counted)
  --epochs E         EPOCHS   instead of minutes, a budget of E epochs per run (equal samples: every
                              row of a seed sees the same batches whatever else the machine is doing,
                              so runs may share it; default 0 = the minutes budget)
  --chunk M          CHUNK    at most M training minutes per ltsnn invocation (default 0: the
                              whole remaining budget in one); each invocation ends with a save
  --threads N        THREADS  ltsnn --threads (default 2)
  --limit N          LIMIT    smoke tests: N training images (static: N/5 test images;
                              neuro: a separate N+N cache); 0 = all (default)
  --max-runs N       MAX_RUNS stop after N ltsnn train invocations (default 0: no limit)
  --ltsnn PATH       LTSNN    the binary (default ./ltsnn)
  --batch N          BATCH    default 64
  --static-model M   STATIC_MODEL  default fmnist (32C3-32C3-AP2-64C3-64C3-AP2-FC256-FC10)
  --neuro-model M    NEURO_MODEL   default AP2-32C3-32C3-AP2-64C3-64C3-AP2-FC256-FC10
  --no-table         TABLE=0  do not rebuild OUT/results.md at the end
  --energy, --no-energy  ENERGY=1/0  for every finished run, `ltsnn eval last.safetensors --energy` into
                              RUN/energy.txt (MACs, SOPs, firing rates on the test set; default: on
                              without --limit, off with it)
  --list                      print every run and its state, run nothing
Environment: OPENBLAS_NUM_THREADS (default 1).
EOF
}

while [ $# -gt 0 ]; do
    case $1 in
    --no-table | --list | --energy | --no-energy | -h | --help) ;;
    *) [ $# -ge 2 ] || { echo "fmnist.sh: $1 needs a value" >&2; exit 2; } ;;
    esac
    case $1 in
    --out) OUT=$2; shift ;;
    --rows) ROWS=$2; shift ;;
    --inputs) INPUTS=$2; shift ;;
    --seeds) SEEDS=$2; shift ;;
    --minutes) MINUTES=$2; shift ;;
    --epochs) EPOCHS=$2; shift ;;
    --chunk) CHUNK=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --limit) LIMIT=$2; shift ;;
    --max-runs) MAX_RUNS=$2; shift ;;
    --ltsnn) LTSNN=$2; shift ;;
    --batch) BATCH=$2; shift ;;
    --static-model) STATIC_MODEL=$2; shift ;;
    --neuro-model) NEURO_MODEL=$2; shift ;;
    --kind) KIND=$2; shift ;;
    --no-table) TABLE=0 ;;
    --energy) ENERGY=1 ;;
    --no-energy) ENERGY=0 ;;
    --list) LIST=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "fmnist.sh: unknown option '$1' (--help lists them)" >&2; exit 2 ;;
    esac
    shift
done

ROWS=$(echo "$ROWS" | tr ',' ' ')
INPUTS=$(echo "$INPUTS" | tr ',' ' ')
SEEDS=$(echo "$SEEDS" | tr ',' ' ')
HERE=$(dirname "$0")
TABLE_PY="$HERE/results_table.py"

die() { echo "fmnist.sh: $*" >&2; exit 2; }
is_num() { awk -v x="$1" 'BEGIN { exit !(x ~ /^[0-9]+(\.[0-9]*)?$/ && x + 0 > 0) }'; }
is_num "$MINUTES" || die "--minutes must be a positive number, not '$MINUTES'"
[ "$CHUNK" = 0 ] || is_num "$CHUNK" || die "--chunk must be a positive number or 0, not '$CHUNK'"
case $THREADS$LIMIT$MAX_RUNS$BATCH$EPOCHS in *[!0-9]*) die "--threads, --limit, --max-runs, --batch, --epochs take integers" ;; esac
case $OUT$LTSNN in *[[:space:]]*) die "--out and --ltsnn must not contain spaces" ;; esac
[ -n "$ENERGY" ] || { [ "$LIMIT" -gt 0 ] && ENERGY=0 || ENERGY=1; }
case $ENERGY in 0 | 1) ;; *) die "ENERGY is 0 or 1, not '$ENERGY'" ;; esac
[ -x "$LTSNN" ] || die "$LTSNN is not an executable (build it with make, or pass --ltsnn)"

# row -> ltsnn train flags (bench/results_table.py has the labels)
row_flags() {
    case $1 in
    fixed) echo "--mode fixed --beta 0.45" ;;
    stsg) echo "--mode stsg --beta 0.45" ;;
    sgp) echo "--mode sgp --window sigmoid --beta 0.45" ;;
    sgp-arctan) echo "--mode sgp --window arctan --beta 0.45" ;;
    sgp-triangle) echo "--mode sgp --window triangle --beta 0.45" ;;
    sgp-piecewise) echo "--mode sgp --window piecewise --beta 0.45" ;;
    penalty_all) echo "--mode penalty_all --window sigmoid --beta 0.45" ;;
    sgp_stsg) echo "--mode sgp_stsg --window sigmoid --beta 0.45" ;;
    sgp-beta0.95) echo "--mode sgp --window sigmoid --beta 0.95" ;;
    # issue 18: threshold learning rate and optimiser (Table 8)
    sgp-lrvth1e-4) echo "--mode sgp --window sigmoid --beta 0.45 --lr-vth 0.0001" ;;
    sgp-lrvth1e-5) echo "--mode sgp --window sigmoid --beta 0.45 --lr-vth 0.00001" ;;
    sgp-vthsgd) echo "--mode sgp --window sigmoid --beta 0.45 --vth-optim sgd --lr-vth 1" ;;
    stsg-lrvth1e-4) echo "--mode stsg --beta 0.45 --lr-vth 0.0001" ;;
    stsg-lrvth1e-5) echo "--mode stsg --beta 0.45 --lr-vth 0.00001" ;;
    stsg-vthsgd) echo "--mode stsg --beta 0.45 --vth-optim sgd --lr-vth 1" ;;
    # issue 18: the scale redundancy of V and BN
    sgp-bntd) echo "--mode sgp --window sigmoid --beta 0.45 --bn td" ;;
    sgp-noaffine) echo "--mode sgp --window sigmoid --beta 0.45 --bn-affine off" ;;
    sgp-wdvth) echo "--mode sgp --window sigmoid --beta 0.45 --wd-vth 0.001" ;;
    # issue 18: where adaptivity should matter
    fixed-vth0.25) echo "--mode fixed --beta 0.45 --vth-init 0.25" ;;
    sgp-vth0.25) echo "--mode sgp --window sigmoid --beta 0.45 --vth-init 0.25" ;;
    fixed-vth4) echo "--mode fixed --beta 0.45 --vth-init 4" ;;
    sgp-vth4) echo "--mode sgp --window sigmoid --beta 0.45 --vth-init 4" ;;
    fixed-T2) echo "--mode fixed --beta 0.45 --T 2" ;;
    sgp-T2) echo "--mode sgp --window sigmoid --beta 0.45 --T 2" ;;
    fixed-contrast) echo "--mode fixed --beta 0.45" ;;
    sgp-contrast) echo "--mode sgp --window sigmoid --beta 0.45" ;;
    # issue 18: the authors' recipe as their code runs it (METHOD §4's note)
    authors-fixed) echo "--recipe authors --mode fixed" ;;
    authors-sgp_stsg) echo "--recipe authors --mode sgp_stsg --window sigmoid" ;;
    fixed-w4) echo "--mode fixed --beta 0.45 --wbits 4" ;;
    sgp-w4) echo "--mode sgp --window sigmoid --beta 0.45 --wbits 4" ;;
    *) return 1 ;;
    esac
}
# rows whose neuromorphic input has a contrast step halfway through each sample
row_cache() { case $1 in *-contrast) echo "$NCACHE_C" ;; *) echo "$NCACHE" ;; esac; }
for r in $ROWS; do row_flags "$r" >/dev/null || die "unknown row '$r' (--help lists them)"; done
for i in $INPUTS; do case $i in static | neuro) ;; *) die "unknown input '$i' (static or neuro)" ;; esac; done
for s in $SEEDS; do case $s in '' | *[!0-9]*) die "seeds are non-negative integers, not '$s'" ;; esac; done

if [ "$LIMIT" -gt 0 ]; then
    NCACHE="$OUT/cache/nfm-T10-34x34-limit$LIMIT"
    LIMIT_FLAG="--limit $LIMIT" # ltsnn data prepare: per split
else
    NCACHE="$OUT/cache/nfm-T10-34x34"
    LIMIT_FLAG=""
fi
CONTRAST=${CONTRAST:-0.5}
NCACHE_C="$NCACHE-contrast$CONTRAST"

# a neuromorphic cache ($1), made once; both files or it is made again
neuro_cache() {
    [ -f "$1-train.ltc" ] && [ -f "$1-test.ltc" ] && return 0
    mkdir -p "$OUT/cache"
    step=""
    [ "$1" = "$NCACHE_C" ] && step="--contrast-step $CONTRAST"
    echo "== simulating n-fashion-mnist into $1-{train,test}.ltc (once)"
    # shellcheck disable=SC2086
    "$LTSNN" data prepare n-fashion-mnist --out "$1" --T 10 --size 34x34 --threads "$THREADS" $LIMIT_FLAG $step
}

# the training command of one run, as a single line ($1 input, $2 row, $3 seed, $4 dir)
train_cmd() {
    if [ "$1" = static ]; then
        data="--data fashion-mnist --model $STATIC_MODEL --T 4"
        [ "$LIMIT" -gt 0 ] && data="$data --limit $LIMIT"
    else
        data="--data $(row_cache "$2") --model $NEURO_MODEL --T 10" # the cache holds --limit images already
    fi
    if [ "$EPOCHS" -gt 0 ]; then
        echo "$LTSNN train $data --batch $BATCH --epochs $EPOCHS --lr 0.001 $(row_flags "$2") --seed $3" \
            "--threads $THREADS --out $4" | tr -s ' '
    else
        echo "$LTSNN train $data --batch $BATCH --epochs 1000 --lr 0.001 $(row_flags "$2") --seed $3" \
            "--threads $THREADS --minutes $MINUTES --out $4" | tr -s ' '
    fi
}

# the run order: main rows for all seeds, then the rest seed by seed
plan() {
    for s in $SEEDS; do for r in $ROWS; do case $r in fixed | sgp) for i in $INPUTS; do echo "$i $r $s"; done ;; esac; done; done
    for s in $SEEDS; do for r in $ROWS; do case $r in fixed | sgp) ;; *) for i in $INPUTS; do echo "$i $r $s"; done ;; esac; done; done
}

BUDGET_S=$(awk -v m="$MINUTES" 'BEGIN { printf "%.3f", m * 60 }')
# a run is finished when less than 1% of its budget (at least 1 s) is left
TOL_S=$(awk -v b="$BUDGET_S" 'BEGIN { t = b / 100; printf "%.3f", t < 1 ? 1 : t }')

# training seconds left (minutes budget), or epochs left (epochs budget: 0 once
# the log has epoch E whole)
remaining() {
    if [ "$EPOCHS" -gt 0 ]; then
        python3 "$TABLE_PY" --remaining-epochs "$1" "$EPOCHS"
    else
        python3 "$TABLE_PY" --remaining "$1" "$BUDGET_S"
    fi
}
[ "$EPOCHS" -gt 0 ] && TOL_S=0.5

CHILD=""
on_signal() {
    set +e
    if [ -n "$CHILD" ]; then
        kill "$CHILD" 2>/dev/null
        wait "$CHILD" 2>/dev/null
        rm -f "$dir/pid"
    fi
    echo "fmnist.sh: stopped; call it again with the same options to resume" >&2
    exit 130
}
trap on_signal INT TERM HUP

# a finished run's operation counts and energy on the test set (METHOD.md §10), once:
# RUN/energy.txt, written whole or not at all ($1 dir, $2 input, $3 row)
run_energy() {
    [ "$ENERGY" = 1 ] && [ ! -s "$1/energy.txt" ] && [ -f "$1/last.safetensors" ] || return 0
    if [ "$2" = static ]; then edata=fashion-mnist; else edata=$(row_cache "$3"); fi
    echo "== energy: $1"
    if "$LTSNN" eval "$1/last.safetensors" --data "$edata" --energy --threads "$THREADS" < /dev/null \
        > "$1/energy.tmp" 2> "$1/energy.err"; then
        mv "$1/energy.tmp" "$1/energy.txt"
        rm -f "$1/energy.err"
    else
        rm -f "$1/energy.tmp"
        die "ltsnn eval --energy failed for $1; its message is in $1/energy.err"
    fi
}

# a command without its binary and --threads: what must not change when a run is resumed
same_run() { echo "${1#* }" | sed 's/ --threads [0-9]*//'; }

invocations=0
PLAN=$(mktemp "${TMPDIR:-/tmp}/fmnist-plan.XXXXXX")
trap 'rm -f "$PLAN"' EXIT
plan > "$PLAN"
while read -r inp row seed <&3; do
    dir="$OUT/runs/$inp/$row/seed$seed"
    cmd=$(train_cmd "$inp" "$row" "$seed" "$dir")
    if [ -f "$dir/DONE" ]; then
        [ "$LIST" = 1 ] && echo "done      $dir"
        [ "$LIST" = 1 ] || run_energy "$dir" "$inp" "$row"
        continue
    fi
    if [ -f "$dir/row.json" ]; then
        old=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["command"])' "$dir/row.json")
        [ "$(same_run "$old")" = "$(same_run "$cmd")" ] || die "$dir was started with a different command:
  $old
not
  $cmd
(remove the folder, or pick another --out)"
    fi
    rem=$(remaining "$dir")
    if [ "$LIST" = 1 ]; then
        if [ "$EPOCHS" -gt 0 ]; then
            echo "todo      $dir ($rem of $EPOCHS epochs left)"
        else
            echo "todo      $dir ($(awk -v r="$rem" 'BEGIN { printf "%.2f", r / 60 }') of $MINUTES min left)"
        fi
        continue
    fi
    [ "$MAX_RUNS" -gt 0 ] && [ "$invocations" -ge "$MAX_RUNS" ] && { echo "== --max-runs $MAX_RUNS reached"; break; }
    if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null &&
        grep -q train "/proc/$(cat "$dir/pid")/cmdline" 2>/dev/null; then
        die "$dir is being trained by process $(cat "$dir/pid") (left over from a killed fmnist.sh?)"
    fi
    [ "$inp" = neuro ] && neuro_cache "$(row_cache "$row")" < /dev/null
    mkdir -p "$dir"
    if [ ! -f "$dir/row.json" ]; then
        prep=""
        if [ "$inp" = neuro ]; then
            prep="$LTSNN data prepare n-fashion-mnist --out $(row_cache "$row") --T 10 --size 34x34 $LIMIT_FLAG"
            case $row in *-contrast) prep="$prep --contrast-step $CONTRAST" ;; esac
        fi
        python3 - "$dir/row.json" "$KIND" "$inp" "$row" "$seed" "$MINUTES" "$LIMIT" "$cmd" "$prep" "$EPOCHS" <<'EOF'
import json, os, sys
path, kind, inp, row, seed, minutes, limit, cmd, prep, epochs = sys.argv[1:]
n_train = 60000 if int(limit) == 0 else int(limit)
meta = {"kind": kind, "input": inp, "row": row, "seed": int(seed), "limit": int(limit), "n_train": n_train,
        "command": cmd,
        "env": {"OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "")}}
if int(epochs) > 0:
    meta["budget_epochs"] = int(epochs)
else:
    meta["budget_minutes"] = float(minutes)
if prep:
    meta["prepare"] = prep.strip()
with open(path + ".tmp", "w") as f:
    json.dump(meta, f, indent=1)
    f.write("\n")
os.replace(path + ".tmp", path)
EOF
    fi
    while :; do
        rem=$(remaining "$dir")
        if awk -v r="$rem" -v t="$TOL_S" 'BEGIN { exit !(r < t) }'; then
            if python3 "$TABLE_PY" --last-interrupted "$dir"; then
                rem=0.06 # a signal stopped it in its budget's last 1 %, unevaluated: one step more ends it evaluated
            else
                date -u +%Y-%m-%dT%H:%M:%SZ > "$dir/DONE"
                "$LTSNN" plot "$dir" < /dev/null > /dev/null 2>&1 || echo "fmnist.sh: ltsnn plot $dir failed" >&2
                echo "== done $dir"
                run_energy "$dir" "$inp" "$row"
                break
            fi
        fi
        [ "$MAX_RUNS" -gt 0 ] && [ "$invocations" -ge "$MAX_RUNS" ] && break
        if [ "$EPOCHS" -gt 0 ]; then
            # --chunk bounds an invocation's minutes; ltsnn train saves when they run out
            run=$cmd
            [ "$CHUNK" = 0 ] || run=$(echo "$cmd" | sed "s| --out | --minutes $CHUNK --out |")
        else
            mins=$(awk -v r="$rem" -v c="$CHUNK" 'BEGIN { m = r / 60; if (c > 0 && c < m) m = c; printf "%.4f", m }')
            # the recorded command with this invocation's minutes, resuming when something was saved
            run=$(echo "$cmd" | sed "s|--minutes $MINUTES |--minutes $mins |")
        fi
        if [ -f "$dir/last.safetensors" ]; then
            run="$run --resume $dir/last.safetensors"
        fi
        echo "== $(date -u +%H:%M:%S) $run"
        echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $run" >> "$dir/invocations.txt"
        # in the background so that a signal reaches the script (and is passed on) at once
        # shellcheck disable=SC2086
        $run < /dev/null >> "$dir/train.out" 2>&1 &
        CHILD=$!
        echo "$CHILD" > "$dir/pid"
        rc=0
        wait "$CHILD" || rc=$?
        CHILD=""
        rm -f "$dir/pid"
        invocations=$((invocations + 1))
        if [ "$rc" != 0 ]; then
            tail -n 5 "$dir/train.out" | tr '\r' '\n' | tail -n 5 >&2
            die "ltsnn train failed (exit $rc) for $dir; its output is in $dir/train.out"
        fi
    done
done 3< "$PLAN"
rm -f "$PLAN"

if [ "$LIST" = 0 ] && [ "$TABLE" = 1 ] && [ -d "$OUT/runs" ]; then
    python3 "$TABLE_PY" "$OUT" --out "$OUT/results.md"
    echo "== table: $OUT/results.md"
fi
