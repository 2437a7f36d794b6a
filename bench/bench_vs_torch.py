#!/usr/bin/python3
"""bench_vs_torch.py -- ltsnn against the PyTorch reference, same weights, same batch, one run.

  /usr/bin/python3 bench/bench_vs_torch.py --ltsnn build/ltsnn              # the full matrix (~20 min)
  /usr/bin/python3 bench/bench_vs_torch.py --quick                          # T=10, random input, 3 steps
  /usr/bin/python3 bench/bench_vs_torch.py --models vgg7 --T 10 --what train --inputs real
  /usr/bin/python3 bench/bench_vs_torch.py --scaling --models vgg9          # ltsnn alone: T 10/20/30, B 8/16/32
  /usr/bin/python3 bench/bench_vs_torch.py --arch resnet19                  # 3x32x32, T=4, B=16, tdBN
  /usr/bin/python3 bench/bench_vs_torch.py --det                            # yolov2's detection loss step

For every (model, T, what, input) it writes a fresh checkpoint with `ltsnn init`
and one batch file x [B,T,C,H,W], y [B] (C x H x W: 2x48x48, or the preset's own
input such as resnet19's 3x32x32): either random binary frames of 15% density
or frames binned from the real recordings in --events.  Then it runs `ltsnn
bench --weights --x` and bench/bench_torch_same.py (ltsnn's PyTorch reference,
bench/ref, which builds the net from that checkpoint's metadata, loads it with
strict names and reads the same x) one after the other, each under
/usr/bin/time -v, and prints per row: ms per step (per sample for inference),
GFLOP/s by the counting rule of bench_torch_same.py, peak RSS of the whole
process, ltsnn's speed-up and memory ratio, and both sides' firing rates per LIF
layer (they must agree: the same work was done).  Rows are also appended as JSON
lines to --out.

--det times a training step of the yolov2 preset (input --det-input, default
2x96x128) with the detection head's loss (METHOD.md section 9) on random boxes
stored in the batch file as boxes [N, 6] = (image, class, cx, cy, w, h); the
ltsnn side is `ltsnn bench ... --det-loss mean|tet` (issue 13's flag).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_torch_same import random_boxes  # noqa: E402
from ref import ltsnn_torch as R  # noqa: E402
from ref import st_io  # noqa: E402

# the real recordings: the repository's own (tests/data/events: DAVIS346 AEDAT 4.0, Prophesee EVT 3.0 and
# EVT 2.0, decoded by its numpy decoder), else the N-MNIST / N-Cars files of a ../shared checkout
EVENT_SETS = [(os.path.join(ROOT, 'tests', 'data', 'events'),
               ('davis346_cut.aedat4', 'evt3_trigger.raw', 'evt2_gen3_cut.raw')),
              (os.path.join(ROOT, '..', 'shared', 'data', 'events'),
               ('nmnist_train_1_label5.bin', 'sample_nmnist.bin', 'dat_sample.npy'))]


# ---------------- input batches ----------------

def random_batch(B, T, shape, density, seed):
    rng = np.random.default_rng(seed)
    x = (rng.random((B, T) + shape) < density).astype(np.float32)
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


def read_recording(path):
    """(t, x, y, p, W, H) of any recording of EVENT_SETS."""
    if path.endswith('.bin'):
        return read_atis_bin(path)
    if path.endswith('.npy'):
        return read_npy_events(path)
    import importlib.util
    spec = importlib.util.spec_from_file_location('decode_ref', os.path.join(ROOT, 'tests', 'data', 'events',
                                                                             'decode_ref.py'))
    d = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(d)
    data = open(path, 'rb').read()
    if data.startswith(b'#!AER-DAT4'):
        t, x, y, p, _ = d.aedat4(data)
        W, H = int(x.max()) + 1, int(y.max()) + 1
    else:
        _, keys = d.prophesee_header(data)
        ver = keys.get('evt', '') or keys.get('format', '')[:4]
        t, x, y, p, _ = d.evt3(data) if ver in ('3.0', 'EVT3') else d.evt2(data)
        W, H = d.sensor_of(keys)
    return t, x, y, p, W, H


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


def real_batch(B, T, shape, seed, events):
    if shape[0] != 2 or shape[1] != shape[2]:
        raise SystemExit(f'real event input needs a 2xHxH input, not {"x".join(map(str, shape))}')
    hw = shape[1]
    recs = [read_recording(os.path.join(events[0], f)) for f in events[1]]
    x = np.stack([bin_events(recs[b % len(recs)], T, hw, (3 * (b // 3), 2 * (b // 3))) for b in range(B)])
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, B).astype(np.float32)
    return x, y


# ---------------- running ----------------

def timed(cmd):
    """Run under /usr/bin/time -v: (last JSON line of stdout, max RSS in MiB)."""
    r = subprocess.run(['/usr/bin/time', '-v'] + cmd, capture_output=True, text=True)
    if r.returncode:
        err = r.stderr.split('\tCommand being timed')[0]   # its own messages, not time's report
        raise SystemExit('bench_vs_torch.py: %s failed:\n%s\n%s' % (' '.join(cmd), r.stdout[-2000:], err[-2000:]))
    js = [l for l in r.stdout.splitlines() if l.startswith('{')]
    m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', r.stderr)
    return json.loads(js[-1]), int(m.group(1)) / 1024.0


def input_shape(a, model):
    """C, H, W of a model's input: --det-input for --det, the preset's own input, else 2 x hw x hw."""
    if a.det:
        return tuple(int(v) for v in a.det_input.split('x'))
    return R.PRESET_INPUT.get(model, (2, a.hw, a.hw))


def run_one(a, tmp, model, T, B, what, inp, with_torch):
    w = os.path.join(tmp, 'w.safetensors')
    xf = os.path.join(tmp, 'x.safetensors')
    shape = input_shape(a, model)
    sh = 'x'.join(map(str, shape))
    if a.no_ltsnn:   # the reference alone: it makes the checkpoint too
        torch.manual_seed(1)
        R.LTSNN(model, T=T, input=shape).save_ltsnn(w)
    else:
        r = subprocess.run([a.ltsnn, 'init', model, '--input', sh, '--T', str(T), '--seed', '1', '--out', w],
                           capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError('ltsnn init %s failed: %s' % (model, r.stderr.strip()))
        bn = st_io.read(w)[1].get('bn', 'standard')
        if bn != R.PRESET_BN.get(model, 'standard'):
            print('note: ltsnn init wrote bn=%s for %s, whose preset default is %s; both sides run %s BN'
                  % (bn, model, R.PRESET_BN[model], bn), flush=True)
    x, y = (random_batch(B, T, shape, a.density, 1) if inp == 'random' else real_batch(B, T, shape, 1, a.events))
    batch = {'x': x, 'y': y}
    det = []
    if a.det:
        batch['boxes'] = random_boxes(B, 2, np.random.default_rng(1))
        det = ['--det-loss', a.det_loss]
    st_io.write(xf, batch)
    steps = ['--warmup', str(a.warmup), '--steps', str(a.steps)]
    row = {'model': model, 'what': what, 'T': T, 'B': B, 'input': inp, 'shape': sh, 'density': float(x.mean()),
           'head': ('det-' + a.det_loss) if a.det else 'class', 'load1': os.getloadavg()[0]}
    if not a.no_ltsnn:
        lt, lt_rss = timed([a.ltsnn, 'bench', '--model', model, '--what', what, '--T', str(T), '--batch', str(B),
                            '--input', sh, '--threads', str(a.threads), '--weights', w, '--x', xf] + steps + det)
        row.update({'ltsnn': lt, 'ltsnn_rss_MiB': lt_rss})
    if with_torch:
        th, th_rss = timed(['/usr/bin/python3', os.path.join(HERE, 'bench_torch_same.py'), '--weights', w,
                            '--x', xf, '--what', what, '--threads', str(a.threads)] + steps
                           + (['--det'] + det if a.det else []))
        row.update({'torch': th, 'torch_rss_MiB': th_rss})
        if 'ltsnn' in row:
            row.update({'speedup': th['median_s'] / row['ltsnn']['median_s'], 'mem_ratio': row['ltsnn_rss_MiB'] / th_rss})
    row['load1'] = os.getloadavg()[0]
    return row


def show(row):
    unit = lambda r: (1e3 * r['median_s'] / row['B']) if row['what'] == 'infer' else (1e3 * r['median_s'])
    rates = lambda r: ','.join('%.2f' % v for v in r['rate'])
    s = '| %s | %s | %s | %d | %d | %s | %.1f |' % (row['model'], row['shape'], row['what'], row['T'], row['B'],
                                                  row['input'], row['load1'])
    for side in ('ltsnn', 'torch'):
        if side in row:
            s += ' %.0f | %.0f | %.0f |' % (unit(row[side]), row[side]['GFLOPs'], row[side + '_rss_MiB'])
    if 'speedup' in row:
        s += ' **%.2fx** | %.2f | %s / %s |' % (row['speedup'], row['mem_ratio'], rates(row['ltsnn']),
                                                rates(row['torch']))
    else:
        s += ' %s |' % rates(row['ltsnn'] if 'ltsnn' in row else row['torch'])
    print(s, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--ltsnn', default=os.environ.get('LTSNN', os.path.join(ROOT, 'build', 'ltsnn')))
    ap.add_argument('--models', '--arch', dest='models', default='vgg9,vgg7,mobilenet-light',
                    help='presets or model strings, comma-separated')
    ap.add_argument('--T', help='time steps, comma-separated (default 10,30; resnet19 4; --det 5)')
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
    ap.add_argument('--no-torch', action='store_true', help='ltsnn alone')
    ap.add_argument('--no-ltsnn', action='store_true', help='the PyTorch reference alone')
    ap.add_argument('--events', help='folder with the recordings of one of %s (default: the first found)'
                    % '; '.join('%s in %s' % (', '.join(f), os.path.relpath(d, ROOT)) for d, f in EVENT_SETS))
    ap.add_argument('--det', action='store_true', help="yolov2's detection loss step (random input, training)")
    ap.add_argument('--det-input', default='2x96x128', help='input CxHxW of --det (default 2x96x128)')
    ap.add_argument('--det-loss', default='mean', choices=['mean', 'tet'])
    ap.add_argument('--out', default='bench_results.jsonl')
    a = ap.parse_args()
    if a.quick:
        a.T, a.inputs, a.warmup, a.steps = a.T or '10', 'random', 1, 3
    if a.det:
        a.models, a.what, a.inputs, a.T = 'yolov2', 'train', 'random', a.T or '5'
    if a.no_torch and a.no_ltsnn:
        ap.error('--no-torch and --no-ltsnn leave nothing to run')
    models = a.models.split(',')
    if 'real' in a.inputs.split(','):
        sets = [(a.events, f) for _, f in EVENT_SETS] if a.events else EVENT_SETS
        found = [(d, f) for d, f in sets if all(os.path.exists(os.path.join(d, n)) for n in f)]
        if not found:
            ap.error('real input needs one of %s; use --inputs random'
                     % '; '.join('%s in %s' % (', '.join(f), d) for d, f in sets))
        a.events = found[0]
    default_T = lambda m: a.T or ('4' if m == 'resnet19' else '10,30')
    with open('/proc/cpuinfo') as f:
        cpu = re.search(r'model name\s*:\s*(.*)', f.read()).group(1)
    print('machine: %d cores, %s; ltsnn %s; threads %d; %d warm-up + %d timed steps (median)'
          % (os.cpu_count(), cpu, a.ltsnn, a.threads, a.warmup, a.steps))
    if a.scaling:
        jobs = [(m, T, 16, 'train', 'random') for m in models for T in (10, 20, 30)]
        jobs += [(m, 10, B, 'train', 'random') for m in models for B in (8, 32)]
        with_torch = False
    else:
        jobs = [(m, int(T), int(B), w, i) for m in models for T in default_T(m).split(',')
                for B in a.batch.split(',') for w in a.what.split(',') for i in a.inputs.split(',')]
        with_torch = not a.no_torch
    head = '| model | input CxHxW | what | T | B | input | load |'
    if not a.no_ltsnn:
        head += ' ltsnn ms | GFLOP/s | RSS MiB |'
    if with_torch:
        head += ' torch ms | GFLOP/s | RSS MiB |'
    if with_torch and not a.no_ltsnn:
        head += ' speed-up | mem ratio | firing rates ltsnn / torch |'
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
