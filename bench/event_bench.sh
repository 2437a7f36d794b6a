#!/bin/sh
# event_bench.sh -- event-driven integer inference against dense float
# inference, per sample at T=10, as the firing rate grows (docs/benchmarks.md
# "Event-driven inference").  Run from the repository root after `make`, on
# an otherwise idle machine:
#
#   sh bench/event_bench.sh                 # vgg9 and mobilenet-light, rates 0.01-0.3, 20 samples a point
#   QUICK=1 sh bench/event_bench.sh         # a smoke test: 2 rates, 3 samples
#
# For each model: build/bench/rt_bench (bench/rt_bench.c) at every rate (random
# 4-bit weights, every layer calibrated to fire at the rate, the runtime one
# thread, ltsnn float with 1 and THREADS threads), then once on real event
# input when EVENTS names a frame cache of 2x48x48, T=10 frames (e.g. from
# `ltsnn data prepare cifar10-dvs ROOT --out PREFIX --T 10`; default: none),
# and the PyTorch reference's float inference at batch 1 (bench/bench_vs_torch.py
# --what infer; skipped when python3-torch or the reference is missing).  It
# draws OUT/crossover_MODEL.svg with ltsnn's SVG writer and writes every
# point as a JSON line to OUT/event_bench.jsonl.
set -e
OUT=${OUT:-bench/out/event}
MODELS=${MODELS:-vgg9 mobilenet-light}
RATES=${RATES:-0.01,0.02,0.05,0.1,0.15,0.2,0.3}
SAMPLES=${SAMPLES:-20}
DENSE=${DENSE:-1}      # samples for the dense integer oracle, at the first rate only (about 40 s each for VGG-9)
THREADS=${THREADS:-2}
EVENTS=${EVENTS:-}
LTSNN=${LTSNN:-./ltsnn}
if [ "${QUICK:-0}" = 1 ]; then RATES=0.02,0.2; SAMPLES=3; fi
mkdir -p "$OUT" build
export OPENBLAS_NUM_THREADS=1
make -s build/bench/rt_bench
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) (the numbers mean something only on an idle machine)"
for m in $MODELS; do
    torch_ms=0
    if [ "${NO_TORCH:-0}" != 1 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
        # PyTorch float inference, one sample, T=10, random 15% input (dense: the rate does not matter)
        if /usr/bin/python3 bench/bench_vs_torch.py --ltsnn "$LTSNN" --no-ltsnn --models "$m" --T 10 --batch 1 --what infer \
               --inputs random --threads 1 --warmup 2 --steps "$SAMPLES" --out "$OUT/torch_$m.jsonl" \
               >"$OUT/torch_$m.txt" 2>&1; then
            torch_ms=$(/usr/bin/python3 - "$OUT/torch_$m.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = [r["torch"] for r in rows if isinstance(r.get("torch"), dict) and "per_sample_ms" in r["torch"]]
print(t[-1]["per_sample_ms"] if t else 0)
PY
)
        else
            echo "PyTorch reference not run (see $OUT/torch_$m.txt)"
        fi
    fi
    echo "== $m: PyTorch float, batch 1, 1 thread: ${torch_ms} ms per sample (0: not measured)"
    build/bench/rt_bench --model "$m" --T 10 --rates "$RATES" --samples "$SAMPLES" --threads "$THREADS" --dense-samples "$DENSE" \
        --torch-ms "$torch_ms" --svg "$OUT/crossover_$m.svg" | tee -a "$OUT/event_bench.jsonl"
    if [ -n "$EVENTS" ]; then
        build/bench/rt_bench --model "$m" --T 10 --events "$EVENTS" --samples "$SAMPLES" --threads "$THREADS" |
            tee -a "$OUT/event_bench.jsonl"
    fi
done
echo "wrote $OUT/event_bench.jsonl and $OUT/crossover_*.svg"
