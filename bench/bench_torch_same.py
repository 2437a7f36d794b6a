#!/usr/bin/python3
"""bench_torch_same.py -- ltsnn's PyTorch reference (bench/ref) timed on ltsnn's own workload.

  /usr/bin/python3 bench/bench_torch_same.py --weights W.safetensors --x X.safetensors --what train --threads 2
  /usr/bin/python3 bench/bench_torch_same.py --arch resnet19 --T 4 --batch 16      # fresh weights, random input
  /usr/bin/python3 bench/bench_torch_same.py --det --weights W.safetensors --x X.safetensors

The net is the one the checkpoint's metadata describes (model, input, T, bn,
wbits, neuron options; --mode, --bn and --wbits override), loaded with strict
name checks, and the batch is the x [B,T,C,H,W] / y [B] of a safetensors file:
the very ones `ltsnn bench --weights W --x X` runs on.  Without --weights the
net is freshly initialised from --arch (seed --seed), and without --x the batch
is random binary frames of --density.

One step: forward, loss, backward, Adam (METHOD.md section 5) for --what train;
forward in evaluation mode without gradients for infer.  The loss is METHOD.md
section 4's (beta 0.45, TET), or with --det the detection head's (section 9:
boxes [N, 6] from the batch file, or random boxes; grid and anchors from the
checkpoint's metadata `grid`/`anchors`, else --grid/--anchors).  Prints one JSON
line: median seconds per step over --steps after --warmup, GFLOP/s counted as
(6 for training, 2 for inference) x MACs per frame x B x T, the process's peak
RSS, and each LIF layer's firing rate in the last step (to check that both
sides did the same work).
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref import ltsnn_torch as R  # noqa: E402
from ref import st_io  # noqa: E402

DET_ANCHORS = '1.0,1.6,2.6,1.4'   # default anchors (cells) when neither checkpoint nor flag gives them


def random_boxes(B, classes, rng):
    """One to four boxes per image: (b, class, cx, cy, w, h) as fractions."""
    rows = []
    for b in range(B):
        for _ in range(int(rng.integers(1, 5))):
            w, h = rng.uniform(0.05, 0.5), rng.uniform(0.05, 0.5)
            rows.append((b, int(rng.integers(0, classes)), rng.uniform(w / 2, 1 - w / 2), rng.uniform(h / 2, 1 - h / 2),
                         w, h))
    return np.array(rows, np.float32)


def build(a):
    over = {k: v for k, v in (('mode', a.mode), ('bn', a.bn), ('wbits', a.wbits)) if v is not None}
    if a.weights:
        net = R.from_ltsnn(a.weights, **({'T': a.T} if a.T else {}), **over)
        _, meta = st_io.read(a.weights)
        return net, meta
    torch.manual_seed(a.seed)
    kw = {'input': tuple(int(v) for v in a.input.split('x'))} if a.input else {}
    return R.LTSNN(a.arch, T=a.T or 10, **kw, **over), {}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--arch', default='vgg9', help='preset or model string when --weights is absent (default vgg9)')
    ap.add_argument('--weights', help='an ltsnn checkpoint (the net comes from its metadata)')
    ap.add_argument('--x', help='safetensors with x [B,T,C,H,W], y [B] (and boxes [N,6] for --det)')
    ap.add_argument('--what', default='train', choices=['train', 'infer'])
    ap.add_argument('--T', type=int, help="time steps (default: the checkpoint's, else 10)")
    ap.add_argument('--batch', type=int, default=16, help='batch size of a random batch (default 16)')
    ap.add_argument('--input', help="CxHxW of a fresh net (default: the preset's, else 2x48x48)")
    ap.add_argument('--density', type=float, default=0.15, help='ones in random input frames (default 0.15)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--mode', help="threshold mode (default: the checkpoint's, else sgp)")
    ap.add_argument('--bn', choices=['standard', 'td'], help="BN kind (default: the checkpoint's or the preset's)")
    ap.add_argument('--wbits', type=int, choices=[4, 8, 32], help="SAWB weight bits (default: the checkpoint's)")
    ap.add_argument('--det', action='store_true', help="the detection head's loss instead of classification")
    ap.add_argument('--det-loss', default='mean', choices=['mean', 'tet'])
    ap.add_argument('--det-classes', type=int, default=2, help='C of the detection head (default 2: car, pedestrian)')
    ap.add_argument('--grid', help="Sh x Sw of the head (default: the checkpoint's, else 6x8)")
    ap.add_argument('--anchors', help=f"aw0,ah0,aw1,ah1,... in cells (default: the checkpoint's, else {DET_ANCHORS})")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    net, meta = build(a)
    rng = np.random.default_rng(a.seed)
    if a.x:
        t, _ = st_io.read(a.x)
        x = torch.from_numpy(t['x'].astype(np.float32))
        y = torch.from_numpy(t['y'].astype(np.int64)) if 'y' in t else None
        boxes = t.get('boxes')
    else:
        B = a.batch
        x = torch.from_numpy((rng.random((B, net.T) + net.input) < a.density).astype(np.float32))
        y = torch.from_numpy(rng.integers(0, net.classes, B))
        boxes = None
    B, T = x.shape[:2]
    if T != net.T or tuple(x.shape[2:]) != net.input:
        sys.exit(f'bench_torch_same.py: x {list(x.shape)} does not fit the net ({net.T} steps of '
                 f'{"x".join(map(str, net.input))})')
    if a.det:
        grid = tuple(int(v) for v in (a.grid or meta.get('grid', '6x8')).split('x'))
        anchors = [float(v) for v in (a.anchors or meta.get('anchors', DET_ANCHORS)).split(',')]
        if boxes is None:
            boxes = random_boxes(B, a.det_classes, rng)
        need = grid[0] * grid[1] * (5 * (len(anchors) // 2) + a.det_classes)
        if net.classes != need:
            sys.exit(f'bench_torch_same.py: the net has {net.classes} outputs, the head needs {need}')

    def loss_of(O):
        if a.det:
            return R.det_loss(O, boxes, anchors, grid, a.det_classes, a.det_loss)[0]
        return R.class_loss(O, y, net.omega())

    rates = {}
    lifs = net.lifs()
    for m in lifs:
        m.register_forward_hook(lambda mod, _i, out: rates.__setitem__(id(mod), float((out != 0).float().mean())))
    opt = R.Adam(net)

    def step():
        if a.what == 'train':
            opt.zero_grad()
            loss_of(net(x)).backward()
            opt.step()
        else:
            with torch.no_grad():
                net(x)

    net.train(a.what == 'train')
    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        step()
        dt = time.perf_counter() - t0
        if i >= a.warmup:
            times.append(dt)
    med = statistics.median(times)
    flops = (6 if a.what == 'train' else 2) * net.macs_per_frame * B * T
    print(json.dumps({
        'impl': 'torch', 'arch': net.model, 'what': a.what, 'T': T, 'B': B, 'threads': a.threads,
        'bn': net.bn, 'wbits': net.wbits, 'mode': net.opt.mode, 'head': ('det-' + a.det_loss) if a.det else 'class',
        'torch': torch.__version__, 'counted_GFLOP': flops / 1e9, 'median_s': med, 'min_s': min(times),
        'max_s': max(times), 'per_sample_ms': 1e3 * med / B, 'GFLOPs': flops / med / 1e9,
        'maxrss_MiB_self': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        'input_density': float((x != 0).float().mean()),
        'rate': [round(rates.get(id(m), 0.0), 4) for m in lifs],
        'vth': [round(float(m.vth), 4) for m in lifs],
    }))


if __name__ == '__main__':
    main()
