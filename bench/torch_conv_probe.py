"""torch_conv_probe.py -- how fast PyTorch's own 3x3 convolution runs here.

    /usr/bin/python3 bench/torch_conv_probe.py [--threads 2]

One Conv2d(64, 64, 3, padding=1) over 160 frames of 64x48x48 (VGG-9's
second-stage shape at T=10, batch 16): forward (no grad, median of 3) and
forward + backward (median of 2), printed as seconds and GFLOP/s (2 x MACs
forward, 6 x MACs forward + backward).  docs/benchmarks.md uses it to tell a
slow PyTorch build from a slow PyTorch model step.
"""
import argparse
import json
import statistics
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x = torch.randn(160, 64, 48, 48)
    conv = torch.nn.Conv2d(64, 64, 3, padding=1, bias=False)
    flop = 2 * 64 * 64 * 9 * 48 * 48 * 160
    with torch.no_grad():
        conv(x)
        fwd = []
        for _ in range(3):
            t = time.perf_counter()
            conv(x)
            fwd.append(time.perf_counter() - t)
    x.requires_grad_(True)
    y = conv(x)
    y.backward(torch.ones_like(y))
    both = []
    for _ in range(2):
        t = time.perf_counter()
        y = conv(x)
        y.backward(torch.ones_like(y))
        both.append(time.perf_counter() - t)
    f, b = statistics.median(fwd), statistics.median(both)
    print(json.dumps({"threads": a.threads, "fwd_s": round(f, 4), "fwd_GFLOPs": round(flop / f / 1e9, 1),
                      "fwd_bwd_s": round(b, 4), "fwd_bwd_GFLOPs": round(3 * flop / b / 1e9, 1)}))


if __name__ == "__main__":
    main()
