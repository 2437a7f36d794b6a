#!/usr/bin/python3
"""bench_vs_torch.py -- ltsnn against the PyTorch reference, same weights, same batch, one run.

  /usr/bin/python3 bench/bench_vs_torch.py --ltsnn build/ltsnn              # the full matrix (~20 min)
  /usr/bin/python3 bench/bench_vs_torch.py --quick                          # T=10, random input, 3 steps
  /usr/bin/python3 bench/bench_vs_torch.py --models vgg7 --T 10 --what train --inputs real
  /usr/bin/python3 bench/bench_vs_torch.py --scaling --models vgg9          # ltsnn alone: T 10/20/30, B 8/16/32

For every (model, T, what, input) it writes a fresh checkpoint with `ltsnn init`
and one batch file x [B,T,2,48,48], y [B]: either random binary frames of 15%
density or frames binned from the real recordings in ../shared/data/events.
Then it runs `ltsnn bench --weights --x` and bench/bench_torch_same.py (which
loads that checkpoint with ltsnn_ref.load_ltsnn and reads the same x) one after
the other, each under /usr/bin/time -v, and prints per row: ms per step (per
sample for inference), GFLOP/s by bench_torch.py's counting rule, peak RSS of
the whole process, ltsnn's speed-up and memory ratio, and both sides' firing
rates per LIF layer (they must agree: the same work was done).  Rows are also
appended as JSON lines to --out.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, '..', 'shared')
sys.path.insert(0, os.path.join(SHARED, 'bench'))
import safetensors_io  # noqa: E402

EVENTS = os.path.join(SHARED, 'data', 'events')


# ---------------- input batches ----------------

def random_batch(B, T, hw, density, seed):
    rng = np.random.default_rng(seed)
    x = (rng.random((B, T, 2, hw, hw)) < density).astype(np.float32)
    y = rng.integers(0, 10, B).astype(np.float32)
    return x, y


def read_atis_bin(path):
    """N-MNIST 40-bit records: x, y, p(bit 7) + t(23 bits) big-endian."""
    b = np.fromfile(path, dtype=np.uint8)
    b = b[:len(b) // 5 * 5].reshape(-1, 5).astype(np.int64)
    x, y = b[:, 0], b[:, 1]
    p = b[:, 2] >> 7
    t = ((b[:, 2] & 127) << 16) | (b[:, 3] << 8) | b[:, 4]
    return t, x, y, p, 34, 34


def read_npy_events(path):
    a = np.load(path)
    return (a['t'].astype(np.int64), a['x'].astype(np.int64), a['y'].astype(np.int64),
            a['p'].astype(np.int64), int(a['x'].max()) + 1, int(a['y'].max()) + 1)


def bin_events(ev, T, hw, shift):
    """Binary frames [T, 2, hw, hw]: time cut in T equal bins, the sensor scaled
    onto hw x hw, shifted by `shift` pixels (so the B samples differ)."""
    t, x, y, p, W, H = ev
    f = np.zeros((T, 2, hw, hw), np.float32)
    t0, t1 = t.min(), t.max() + 1
    ti = np.minimum((t - t0) * T // (t1 - t0), T - 1)
    xi = (x * hw // W + shift[0]) % hw
    yi = (y * hw // H + shift[1]) % hw
    f[ti, np.clip(p, 0, 1), yi, xi] = 1.0
    return f


def real_batch(B, T, hw, seed):
    recs = [read_atis_bin(os.path.join(EVENTS, 'nmnist_train_1_label5.bin')),
            read_atis_bin(os.path.join(EVENTS, 'sample_nmnist.bin')),
            read_npy_events(os.path.join(EVENTS, 'dat_sample.npy'))]
    x = np.stack([bin_events(recs[b % len(recs)], T, hw, (3 * (b // 3), 2 * (b // 3))) for b in range(B)])
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, B).astype(np.float32)
    return x, y


# ---------------- running ----------------

def timed(cmd):
    """Run under /usr/bin/time -v: (last JSON line of stdout, max RSS in MiB)."""
    r = subprocess.run(['/usr/bin/time', '-v'] + cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError('%s failed:\n%s\n%s' % (' '.join(cmd), r.stdout[-2000:], r.stderr[-2000:]))
    js = [l for l in r.stdout.splitlines() if l.startswith('{')]
    m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', r.stderr)
    return json.loads(js[-1]), int(m.group(1)) / 1024.0


def run_one(a, tmp, model, T, B, what, inp, with_torch):
    w = os.path.join(tmp, 'w.safetensors')
    xf = os.path.join(tmp, 'x.safetensors')
    subprocess.run([a.ltsnn, 'init', model, '--input', '2x%dx%d' % (a.hw, a.hw), '--T', str(T), '--seed', '1',
                    '--out', w], check=True, capture_output=True)
    x, y = (random_batch(B, T, a.hw, a.density, 1) if inp == 'random' else real_batch(B, T, a.hw, 1))
    safetensors_io.write(xf, {'x': x, 'y': y})
    steps = ['--warmup', str(a.warmup), '--steps', str(a.steps)]
    lt, lt_rss = timed([a.ltsnn, 'bench', '--model', model, '--what', what, '--T', str(T), '--batch', str(B),
                        '--input', '2x%dx%d' % (a.hw, a.hw), '--threads', str(a.threads), '--weights', w,
                        '--x', xf] + steps)
    row = {'model': model, 'what': what, 'T': T, 'B': B, 'input': inp, 'density': float(x.mean()),
           'ltsnn': lt, 'ltsnn_rss_MiB': lt_rss, 'load1': os.getloadavg()[0]}
    if with_torch:
        th, th_rss = timed(['/usr/bin/python3', os.path.join(HERE, 'bench_torch_same.py'), '--arch', model,
                            '--weights', w, '--x', xf, '--what', what, '--T', str(T),
                            '--threads', str(a.threads)] + steps)
        row.update({'torch': th, 'torch_rss_MiB': th_rss, 'speedup': th['median_s'] / lt['median_s'],
                    'mem_ratio': lt_rss / th_rss})
    return row


def show(row):
    lt = row['ltsnn']
    unit = lambda r: (1e3 * r['median_s'] / row['B']) if row['what'] == 'infer' else (1e3 * r['median_s'])
    s = '| %s | %s | %d | %d | %s | %.1f | %.0f | %.0f | %.0f |' % (
        row['model'], row['what'], row['T'], row['B'], row['input'], row['load1'], unit(lt), lt['GFLOPs'],
        row['ltsnn_rss_MiB'])
    if 'torch' in row:
        th = row['torch']
        s += ' %.0f | %.0f | %.0f | **%.2fx** | %.2f |' % (unit(th), th['GFLOPs'], row['torch_rss_MiB'],
                                                          row['speedup'], row['mem_ratio'])
        s += ' %s / %s |' % (','.join('%.2f' % r for r in lt['rate']), ','.join('%.2f' % r for r in th['rate']))
    else:
        s += ' %s |' % ','.join('%.2f' % r for r in lt['rate'])
    print(s, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--ltsnn', default=os.environ.get('LTSNN', os.path.join(ROOT, 'build', 'ltsnn')))
    ap.add_argument('--models', default='vgg9,vgg7,mobilenet-light')
    ap.add_argument('--T', default='10,30')
    ap.add_argument('--batch', default='16')
    ap.add_argument('--what', default='train,infer')
    ap.add_argument('--inputs', default='random,real')
    ap.add_argument('--hw', type=int, default=48)
    ap.add_argument('--density', type=float, default=0.15)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--quick', action='store_true', help='T=10, random input, 1 warm-up + 3 steps')
    ap.add_argument('--scaling', action='store_true',
                    help='ltsnn alone, training: T in 10,20,30 at B=16 and B in 8,16,32 at T=10')
    ap.add_argument('--no-torch', action='store_true')
    ap.add_argument('--out', default='bench_results.jsonl')
    a = ap.parse_args()
    if a.quick:
        a.T, a.inputs, a.warmup, a.steps = '10', 'random', 1, 3
    models = a.models.split(',')
    with open('/proc/cpuinfo') as f:
        cpu = re.search(r'model name\s*:\s*(.*)', f.read()).group(1)
    print('machine: %d cores, %s; ltsnn %s; threads %d; %d warm-up + %d timed steps (median)'
          % (os.cpu_count(), cpu, a.ltsnn, a.threads, a.warmup, a.steps))
    if a.scaling:
        jobs = [(m, T, 16, 'train', 'random') for m in models for T in (10, 20, 30)]
        jobs += [(m, 10, B, 'train', 'random') for m in models for B in (8, 32)]
        with_torch = False
    else:
        jobs = [(m, int(T), int(B), w, i) for m in models for T in a.T.split(',') for B in a.batch.split(',')
                for w in a.what.split(',') for i in a.inputs.split(',')]
        with_torch = not a.no_torch
    head = '| model | what | T | B | input | load | ltsnn ms | GFLOP/s | RSS MiB |'
    if with_torch:
        head += ' torch ms | GFLOP/s | RSS MiB | speed-up | mem ratio | firing rates ltsnn / torch |'
    else:
        head += ' firing rates |'
    print('(ms: per training step, or per sample for inference; RSS: the process maximum, /usr/bin/time -v;'
          ' load: the 1-minute load average when the row finished, other work on the machine included)')
    print(head)
    print('|' + ' --- |' * (head.count('|') - 1))
    with tempfile.TemporaryDirectory(prefix='ltsnn-bench-') as tmp, open(a.out, 'a') as out:
        for job in jobs:
            row = run_one(a, tmp, *job, with_torch)
            show(row)
            out.write(json.dumps(row) + '\n')
            out.flush()


if __name__ == '__main__':
    main()
