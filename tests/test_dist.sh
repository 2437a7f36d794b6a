#!/bin/sh
# test_dist.sh -- data-parallel training under mpirun (METHOD.md §11,
# ltsnn/dist.h), kept short: a small model on demo data, 20 steps.
#  - 2 and 4 ranks with --sync-bn end where one process with the same global
#    batch ends, to float summation order (weights within 1e-5 of each
#    tensor's largest value, Adam's moments within 1e-4; see docs/scaling.md);
#  - the same run twice gives the same bytes (2 and 4 ranks);
#  - a run resumed with the same rank count equals the uninterrupted one
#    exactly; resumed with another rank count it continues within tolerance;
#  - rank 0 alone writes the run directory; log.jsonl counts every rank's samples;
#  - refusals: a batch smaller than the ranks, a last batch smaller than the
#    ranks, ranks with other flags, data or checkpoints (checksums at start),
#    an error on one rank (every rank stops with its message, no hang), rank 0
#    unable to write; a rank killed mid-run stops the others and leaves the
#    last checkpoint intact; SIGTERM to one rank stops every rank after the
#    same batch, rank 0 saves, and the run resumes exactly;
#  - a build without MPI refuses to run as one of several processes.
# Skipped (exit 77) when ltsnn was built without MPI or mpirun is missing.
set -u
LTSNN=${LTSNN:-./ltsnn}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
PY=/usr/bin/python3

if "$LTSNN" train --help | grep -q "built without MPI"; then
    # the launcher's environment, as mpirun sets it, without mpirun
    if OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0 "$LTSNN" train --epochs 1 --limit 32 --out "$tmp/x" \
        >"$tmp/o" 2>&1; then bad "a build without MPI trained as one of 2 processes"
    else
        grep -q "built without MPI" "$tmp/o" && ok "a build without MPI refuses: $(head -c 120 "$tmp/o")..." ||
            bad "refusal message: $(cat "$tmp/o")"
    fi
    [ -e "$tmp/x" ] && bad "the refused run wrote $tmp/x"
    echo "test_dist: skipped the MPI runs: this ltsnn was built without MPI"
    echo "test_dist: $pass passed, $fail failed"
    [ $fail -eq 0 ] && exit 77 || exit 1
fi
if ! command -v mpirun >/dev/null 2>&1; then
    echo "test_dist: skipped: ltsnn has MPI but mpirun is not installed"; exit 77
fi
# 4 ranks on a 2-core machine, also as root; one thread each; a hang fails, not blocks
# Under a sanitizer build the ranks run with LeakSanitizer off: Open MPI's own
# allocations at exit (components it has unloaded) are reported as leaks and
# would fail every rank; ASan's other checks and UBSan stay on.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
MPI="timeout 300 mpirun --oversubscribe --allow-run-as-root --bind-to none -x OMP_NUM_THREADS=1 -x ASAN_OPTIONS"
common="--limit 160 --batch 8 --T 4 --model 8C3-AP2-16C3-AP2-FC10 --threads 1 --seed 3"

# 1. the same global batch on 1, 2 and 4 processes: 20 steps
"$LTSNN" train $common --epochs 1 --out "$tmp/n1" >"$tmp/o1" 2>&1 || bad "one process: $(tail -n 3 "$tmp/o1")"
for n in 2 4; do
    $MPI -np $n "$LTSNN" train $common --epochs 1 --sync-bn --out "$tmp/n$n" >"$tmp/o$n" 2>&1 ||
        bad "$n ranks: $(tail -n 5 "$tmp/o$n")"
done
# weights, BN statistics and optimiser state against one process's: the
# largest difference relative to the tensor's largest value
cat >"$tmp/close.py" <<'PY'
import sys
sys.path.insert(0, 'tests/data')
from compare_st import read
import numpy as np
a, b = read(sys.argv[1]), read(sys.argv[2])
tol_w, tol_o = float(sys.argv[3]), float(sys.argv[4])
worst = {'weights': 0.0, 'optimiser': 0.0}
for k, ref in b.items():
    got = a[k].astype(np.float64)
    e = float(np.abs(got - ref).max()) / max(float(np.abs(ref).max()), 1e-12)
    part = 'optimiser' if k.startswith('optim.') else 'weights'
    worst[part] = max(worst[part], e)
print('weights within %.2g, optimiser state within %.2g' % (worst['weights'], worst['optimiser']))
sys.exit(0 if worst['weights'] <= tol_w and worst['optimiser'] <= tol_o else 1)
PY
for n in 2 4; do
    if $PY "$tmp/close.py" "$tmp/n$n/last.safetensors" "$tmp/n1/last.safetensors" 1e-5 1e-4 >"$tmp/c" 2>&1; then
        ok "$n ranks with --sync-bn equal one process after 20 steps: $(cat "$tmp/c")"
    else bad "$n ranks against one process: $(cat "$tmp/c")"; fi
done
$PY - "$tmp/n2/log.jsonl" "$tmp/n1/log.jsonl" <<'PY' && ok "log.jsonl: every rank's samples, the rank count, losses as one process" || bad "log.jsonl of 2 ranks"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == 1 and a[0]['samples'] == 160 and a[0]['batches'] == 20, a
assert a[0]['ranks'] == 2 and a[0]['sync_bn'] is True and 'ranks' not in b[0], (a, b)
assert abs(a[0]['train_loss'] - b[0]['train_loss']) < 1e-5 * abs(b[0]['train_loss']), (a, b)
assert a[0]['test_acc'] == b[0]['test_acc'], (a[0]['test_acc'], b[0]['test_acc'])
PY
# --sync-bn is nothing to one process
"$LTSNN" train $common --epochs 1 --sync-bn --out "$tmp/n1s" >/dev/null 2>&1
cmp -s "$tmp/n1s/last.safetensors" "$tmp/n1/last.safetensors" && ok "--sync-bn on one process changes nothing" ||
    bad "--sync-bn changed a one-process run"

# 2. the same run twice: the same bytes
for n in 2 4; do
    $MPI -np $n "$LTSNN" train $common --epochs 1 --sync-bn --out "$tmp/again$n" >/dev/null 2>&1
    cmp -s "$tmp/again$n/last.safetensors" "$tmp/n$n/last.safetensors" &&
        ok "$n ranks twice: bit-identical checkpoints" || bad "$n ranks twice: checkpoints differ"
done

# 3. resume: 2 epochs straight against 1 + 1, with 2 ranks, then from 2 ranks' checkpoint on 4
$MPI -np 2 "$LTSNN" train $common --epochs 2 --sync-bn --out "$tmp/a" >/dev/null 2>&1 || bad "2 epochs on 2 ranks"
cp -r "$tmp/n2" "$tmp/b"; cp -r "$tmp/n2" "$tmp/c4"
$MPI -np 2 "$LTSNN" train $common --epochs 2 --sync-bn --out "$tmp/b" --resume "$tmp/b/last.safetensors" \
    >"$tmp/r" 2>&1 || bad "resume on 2 ranks: $(tail -n 3 "$tmp/r")"
cmp -s "$tmp/a/last.safetensors" "$tmp/b/last.safetensors" &&
    ok "resumed on the same 2 ranks: the uninterrupted run's bytes" || bad "resume on 2 ranks differs"
# stopped inside an epoch by --minutes (every rank after the same step), then resumed
$MPI -np 2 "$LTSNN" train $common --epochs 2 --sync-bn --minutes 0.001 --out "$tmp/m" >/dev/null 2>&1 ||
    bad "2 ranks with --minutes"
$MPI -np 2 "$LTSNN" train $common --epochs 2 --sync-bn --out "$tmp/m" --resume "$tmp/m/last.safetensors" \
    >"$tmp/r" 2>&1 || bad "resume after --minutes: $(tail -n 3 "$tmp/r")"
# (the last epoch record: a resumed log also holds a resume line)
la=$(grep '"train_loss"' "$tmp/a/log.jsonl" | tail -n 1 | sed 's/.*"train_loss": \([^,]*\),.*/\1/')
lm=$(grep '"train_loss"' "$tmp/m/log.jsonl" | tail -n 1 | sed 's/.*"train_loss": \([^,]*\),.*/\1/')
if $PY tests/data/compare_st.py "$tmp/m/last.safetensors" "$tmp/a/last.safetensors" 0 >"$tmp/c" 2>&1 &&
   [ "$la" = "$lm" ]; then
    ok "stopped by --minutes in $(head -n 1 "$tmp/m/log.jsonl" | sed 's/.*"batches": \([0-9]*\).*/\1/') of 20 batches and resumed: the uninterrupted run exactly"
else bad "--minutes and resume on 2 ranks: losses $la / $lm, $(tail -n 1 "$tmp/c")"; fi
$MPI -np 4 "$LTSNN" train $common --epochs 2 --sync-bn --out "$tmp/c4" --resume "$tmp/c4/last.safetensors" \
    >"$tmp/r" 2>&1 || bad "resume on 4 ranks: $(tail -n 3 "$tmp/r")"
if $PY "$tmp/close.py" "$tmp/c4/last.safetensors" "$tmp/a/last.safetensors" 1e-5 1e-4 >"$tmp/c" 2>&1 &&
   [ "$(grep -c '"epoch"' "$tmp/c4/log.jsonl")" = 2 ]; then
    ok "2 ranks' checkpoint resumed on 4: $(cat "$tmp/c")"
else bad "resume on 4 ranks: $(cat "$tmp/c")"; fi

# 4. refusals: every rank stops, one message, nothing half written
refused() { # name expected-text command...
    name=$1; want=$2; shift 2
    if "$@" >"$tmp/e" 2>&1; then bad "$name was accepted"
    elif grep -q "$want" "$tmp/e"; then ok "$name: $(grep -m 1 "$want" "$tmp/e" | head -c 200)"
    else bad "$name: $(tail -n 4 "$tmp/e")"; fi
}
refused "--batch 2 on 4 ranks" "smaller than the 4 ranks" \
    $MPI -np 4 "$LTSNN" train $common --batch 2 --epochs 1 --out "$tmp/small"
[ -e "$tmp/small" ] && bad "the refused run made its directory"
refused "a last batch of 2 on 4 ranks" "fewer than the 4 ranks" \
    $MPI -np 4 "$LTSNN" train $common --limit 162 --epochs 1 --out "$tmp/tail"
refused "ranks with other flags" "rank 1 of 2 has other settings" \
    $MPI -np 1 "$LTSNN" train $common --epochs 1 --out "$tmp/d" : -np 1 "$LTSNN" train $common --limit 168 \
    --epochs 1 --out "$tmp/d"
# the same flags, other files: each rank runs in its own folder whose cache "c" holds other images
abs="$(cd "$(dirname "$LTSNN")" && pwd)/$(basename "$LTSNN")"
mkdir -p "$tmp/w1" "$tmp/w2"
if "$LTSNN" data prepare fashion-mnist --limit 48 --out "$tmp/w1/c" >/dev/null 2>&1 &&
   "$LTSNN" data prepare fashion-mnist --limit 56 --out "$tmp/w2/c" >/dev/null 2>&1; then
    fm="--data c --model 8C3-AP2-16C3-AP2-FC10 --batch 8 --threads 1 --epochs 1 --out $tmp/d2"
    refused "ranks with other data" "rank 1 of 2 has other training data" \
        $MPI -np 1 -wdir "$tmp/w1" "$abs" train $fm : -np 1 -wdir "$tmp/w2" "$abs" train $fm
else
    echo "test_dist: skipped: other data on two ranks (needs /usr/share/datasets/fashion-mnist)"
fi
refused "ranks resuming other checkpoints" "rank 1 of 2 has other starting weights" \
    $MPI -np 1 "$LTSNN" train $common --epochs 2 --out "$tmp/k" --resume "$tmp/n1/last.safetensors" : \
    -np 1 "$LTSNN" train $common --epochs 2 --out "$tmp/k" --resume "$tmp/n2/last.safetensors"
printf 'not a cache' >"$tmp/broken.ltc"
refused "an error on rank 1 only" "rank 1 of 2: $tmp/broken.ltc" \
    $MPI -np 1 "$LTSNN" train $common --epochs 1 --out "$tmp/f" : -np 1 "$LTSNN" train --data "$tmp/broken.ltc" \
    --epochs 1 --out "$tmp/f"
[ "$(grep -c "broken.ltc" "$tmp/e")" = 1 ] && ok "its message printed once" || bad "message count: $(cat "$tmp/e")"
: >"$tmp/file"
refused "rank 0 unable to write its run directory" "cannot create directory" \
    $MPI -np 2 "$LTSNN" train $common --epochs 1 --out "$tmp/file/run"
# an uneven split is not refused: slices of 3, 3 and 2
$MPI -np 3 "$LTSNN" train $common --epochs 1 --sync-bn --out "$tmp/u" >"$tmp/o" 2>&1 &&
    ok "a batch of 8 on 3 ranks (slices 3, 3, 2)" || bad "uneven split: $(tail -n 3 "$tmp/o")"
$PY "$tmp/close.py" "$tmp/u/last.safetensors" "$tmp/n1/last.safetensors" 1e-5 1e-4 >"$tmp/c" 2>&1 &&
    ok "3 uneven ranks equal one process: $(cat "$tmp/c")" || bad "3 uneven ranks: $(cat "$tmp/c")"

# 5. a rank killed mid-run: the others stop, the last checkpoint stays whole
mpirun --oversubscribe --allow-run-as-root --bind-to none -x OMP_NUM_THREADS=1 -x ASAN_OPTIONS -np 2 "$LTSNN" train $common \
    --epochs 1000 --out "$tmp/kill" >"$tmp/ko" 2>&1 &
mp=$!
i=0
while [ ! -s "$tmp/kill/last.safetensors" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
ranks=$(ps -o pid= --ppid $mp | tr -d ' ')
victim=$(echo "$ranks" | tail -n 1)
if [ -n "$victim" ] && [ -s "$tmp/kill/last.safetensors" ]; then
    kill -9 "$victim"
    i=0
    while kill -0 $mp 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
    if kill -0 $mp 2>/dev/null; then
        bad "mpirun still runs 30 s after a rank was killed"; kill $mp
    else
        wait $mp; rc=$?
        [ $rc -ne 0 ] && ok "a killed rank stops the run (mpirun exit $rc)" || bad "mpirun exited 0 after a kill"
        left=1; i=0
        while [ $left -gt 0 ] && [ $i -lt 100 ]; do
            left=0
            for p in $ranks; do # a zombie nobody reaped has stopped running
                case "$(ps -o stat= -p "$p" 2>/dev/null)" in ''|Z*) ;; *) left=$((left+1)) ;; esac
            done
            [ $left -gt 0 ] && sleep 0.1; i=$((i+1))
        done
        [ $left -eq 0 ] && ok "no rank left running" || bad "$left ranks still run 10 s after mpirun ended"
    fi
    $PY tests/data/compare_st.py "$tmp/kill/last.safetensors" "$tmp/kill/last.safetensors" 0 >/dev/null 2>&1 &&
        ok "the last checkpoint reads whole" || bad "the last checkpoint is damaged"
else
    bad "no checkpoint or no rank to kill: $(tail -n 3 "$tmp/ko")"; kill $mp 2>/dev/null
fi

# 6. SIGTERM to one rank: every rank stops after the same batch, rank 0 saves, and the run resumes exactly
mpirun --oversubscribe --allow-run-as-root --bind-to none -x OMP_NUM_THREADS=1 -x ASAN_OPTIONS -np 2 "$LTSNN" train $common \
    --epochs 1000 --sync-bn --out "$tmp/sig" >"$tmp/so" 2>&1 &
mp=$!
i=0
while [ ! -s "$tmp/sig/last.safetensors" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
victim=$(ps -o pid= --ppid $mp | tr -d ' ' | tail -n 1)
if [ -n "$victim" ] && [ -s "$tmp/sig/last.safetensors" ]; then
    kill -TERM "$victim"
    i=0
    while kill -0 $mp 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
    if kill -0 $mp 2>/dev/null; then bad "mpirun still runs 60 s after SIGTERM to a rank"; kill $mp
    else
        wait $mp; rc=$?
        if [ $rc -ne 0 ] && [ "$(grep -c "interrupted in epoch" "$tmp/so")" = 1 ]; then
            ok "SIGTERM to rank 1: $(grep -m 1 "interrupted in epoch" "$tmp/so")"
        else bad "SIGTERM to rank 1: exit $rc, $(tail -n 4 "$tmp/so")"; fi
        # the uninterrupted run to the end of the epoch the signal cut (no schedule depends on --epochs here)
        e=$(grep -m 1 -o "interrupted in epoch [0-9]*" "$tmp/so" | grep -o "[0-9]*$")
        $MPI -np 2 "$LTSNN" train $common --epochs "${e:-3}" --sync-bn --out "$tmp/a3" >/dev/null 2>&1 ||
            bad "$e epochs on 2 ranks"
        $MPI -np 2 "$LTSNN" train $common --epochs "${e:-3}" --sync-bn --resume "$tmp/sig/last.safetensors" >"$tmp/r" 2>&1 ||
            bad "resume after SIGTERM: $(tail -n 3 "$tmp/r")"
        $PY tests/data/compare_st.py "$tmp/sig/last.safetensors" "$tmp/a3/last.safetensors" 0 >"$tmp/c" 2>&1 &&
            ok "resumed after SIGTERM: the uninterrupted run exactly" || bad "resume after SIGTERM: $(tail -n 1 "$tmp/c")"
    fi
else
    bad "no checkpoint or no rank to signal: $(tail -n 3 "$tmp/so")"; kill $mp 2>/dev/null
fi

echo "test_dist: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
