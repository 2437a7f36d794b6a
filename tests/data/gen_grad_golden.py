#!/usr/bin/python3
"""gen_grad_golden.py -- golden tensors for tests/test_grad.sh from ltsnn's PyTorch reference.

Run from anywhere with Debian's python3-torch:
    /usr/bin/python3 tests/data/gen_grad_golden.py [--out DIR]
It uses bench/ref (ltsnn's own reference, written from METHOD.md) and writes,
under tests/data/grad/ (or DIR): W.safetensors (weights before the step,
ltsnn names), X.safetensors (x [B,T,C,H,W], y [B] int64) and one
G_<case>.safetensors per threshold mode / window / detach-reset case: loss [1],
O [B,T,K] and every parameter's gradient as <name>.grad.  The inputs are drawn
until no membrane lies within 1e-3 of its threshold, so spikes cannot flip
between float implementations, and until float32 PyTorch itself agrees with the
float64 reference to 2e-5 (threshold gradients are sums that can cancel); the
golden values are computed in float64 and stored as float32.
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'bench'))
from ref import golden as G  # noqa: E402
from ref import ltsnn_torch as R  # noqa: E402

ARCH = '4C3-6DW-AP2-8C3-MP2-FC12-FC5'
T, B, C, HW = 4, 3, 2, 8
BETA = 0.45
CASES = [G.mode_case(*c) for c in [('fixed', 'sigmoid', False), ('stsg', 'sigmoid', False),
         ('sgp', 'sigmoid', False), ('sgp', 'arctan', False), ('sgp', 'triangle', False),
         ('sgp', 'piecewise', False), ('penalty_all', 'sigmoid', False), ('penalty_all', 'arctan', False),
         ('penalty_all', 'triangle', False), ('penalty_all', 'piecewise', False),
         ('sgp_stsg', 'sigmoid', False), ('sgp_stsg', 'triangle', False),
         ('sgp', 'sigmoid', True), ('stsg', 'sigmoid', True), ('fixed', 'sigmoid', True)]]


def build(**opts):
    return R.LTSNN(ARCH, T=T, input=(C, HW, HW), **opts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(HERE, 'grad'))
    out = ap.parse_args().out
    default_out = os.path.abspath(out) == os.path.join(HERE, 'grad')
    f = G.search(build, CASES, (B, T, C, HW, HW), 5, range(200), BETA, rates=False)
    seed, golden, worst = f['seed'], f['golden'], f['worst']
    print('seed', seed, 'float32 vs float64 worst relative error', worst)
    G.write_grad_dir(out, build(), f['state'], f['x'], f['y'], CASES, golden, {'beta': BETA, 'T': T})
    for case, g in golden.items():
        print(case, 'loss', float(g['loss'][0]), 'tensors', len(g))
    if default_out:
        G.readme_section('gen_grad_golden.py', f'''
**`grad/`** (`gen_grad_golden.py`, read by `tests/test_grad.sh`): the model
`{ARCH}` (a conv, a depthwise-separable block, both poolings, a hidden FC) on
input {C}x{HW}x{HW}, T={T}, B={B}, in the 15 cases {", ".join(c['name'] for c in CASES)}.
Weights: PyTorch's default initialisation under `torch.manual_seed(seed)`, then
thresholds 0.7 + 0.15 i for the i-th LIF, BN gamma from U(0.6, 1.6) and beta from
U(-0.3, 0.5); x binary with density 0.35, y uniform over 5 classes. Made with
torch {torch.__version__}: seed {seed} was the first to pass the rules above; float32
against float64, worst relative error {worst:.2e}.''')


if __name__ == '__main__':
    main()
