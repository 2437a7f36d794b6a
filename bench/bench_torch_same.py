#!/usr/bin/python3
"""bench_torch_same.py -- the PyTorch reference timed on ltsnn's own workload.

  /usr/bin/python3 bench/bench_torch_same.py --arch vgg9 --weights W.safetensors --x X.safetensors \
      --what train --T 10 --threads 2

Like ../shared/bench/bench_torch.py (same step, same FLOP rule, median over
--steps after --warmup), but the weights are ltsnn's checkpoint (load_ltsnn)
and the batch is the x [B,T,2,H,W] / y [B] of a safetensors file, the very
ones `ltsnn bench --weights W --x X` runs on.  Also prints each LIF layer's
firing rate in the last step, to check both sides did the same work.
Imports ltsnn_ref and safetensors_io from ../shared/bench (never copied here).
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'shared', 'bench'))

import torch  # noqa: E402

import safetensors_io  # noqa: E402
from ltsnn_ref import LIF, LTSNN, load_ltsnn, ltsnn_loss, make_optimizer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--arch', required=True)
    ap.add_argument('--weights', required=True)
    ap.add_argument('--x', required=True)
    ap.add_argument('--what', default='train', choices=['train', 'infer'])
    ap.add_argument('--T', type=int, required=True)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--mode', default='sgp')
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    t, _ = safetensors_io.read(a.x)
    x = torch.tensor(t['x'].copy())
    y = torch.tensor(t['y'].copy()).long()
    B, T = x.shape[:2]
    assert T == a.T, (T, a.T)
    hw = (x.shape[3], x.shape[4])
    net = LTSNN(a.arch, T=a.T, in_hw=hw, mode=a.mode)
    load_ltsnn(net, a.weights)
    opt = make_optimizer(net)

    rates = {}

    def hook(mod, _inp, out):
        rates[id(mod)] = float((out != 0).float().mean())

    lifs = [m for m in net.modules() if isinstance(m, LIF)]
    for m in lifs:
        m.register_forward_hook(hook)

    def step():
        if a.what == 'train':
            opt.zero_grad(set_to_none=True)
            O = net(x)
            loss = ltsnn_loss(O, y, net.thresholds())[0]
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                net(x)

    if a.what == 'infer':
        net.eval()
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
        'impl': 'torch', 'arch': a.arch, 'what': a.what, 'T': T, 'B': B, 'threads': a.threads,
        'torch': torch.__version__, 'counted_GFLOP': flops / 1e9, 'median_s': med, 'min_s': min(times),
        'max_s': max(times), 'per_sample_ms': 1e3 * med / B, 'GFLOPs': flops / med / 1e9,
        'maxrss_MiB_self': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        'input_density': float((x != 0).float().mean()),
        'rate': [round(rates.get(id(m), 0.0), 4) for m in lifs],
        'vth': [round(float(m.vth), 4) for m in lifs],
    }))


if __name__ == '__main__':
    main()
