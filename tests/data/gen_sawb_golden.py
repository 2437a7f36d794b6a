#!/usr/bin/python3
"""gen_sawb_golden.py -- `ltsnn grad` golden tensors for SAWB-quantised nets (wbits 4 and 8).

Run from anywhere with Debian's python3-torch:
    /usr/bin/python3 tests/data/gen_sawb_golden.py [--out DIR]
Uses bench/ref (ltsnn's own PyTorch reference, written from METHOD.md sections
1-4 and 7): every convolution's weight is fake-quantised at every forward
(alpha from mean |w| and the unbiased std in double, scale = n / alpha rounded
to float32, round half to even), FC weights stay float, and the backward is
straight through where |w| <= alpha and zero elsewhere.  Two models on input
2x8x8, T=4, B=3:
  vgg  4C3-6C3-AP2-8C3-MP2-FC12-FC5   (plain convs, both poolings)
  dw   4C3-6DW-AP2-8DW-FC5            (depthwise and pointwise convs)
It writes tests/data/grad_sawb/{vgg,dw}_w{4,8}/, each in tests/test_grad.sh's
layout: W.safetensors (float32 latent weights, ltsnn's names, metadata model,
input, classes, beta, T and wbits = "4" / "8"), X.safetensors (x [B,T,C,H,W]
float32, y [B] int64) and G_<mode>_sigmoid.safetensors for the modes sgp, fixed
and stsg (loss [1], O [B,T,K], <name>.grad).

Inputs and weights are redrawn until no membrane lies within 1e-3 of its
threshold, every LIF fires (2% to 98%), no conv weight times scale lies within
1e-3 of a rounding tie or within 1e-4 (relative) of +-alpha, so that no float
implementation can round a weight differently, some weights of every net are
clipped (the mask is exercised), and float32 agrees with float64 to 2e-5.
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'bench'))
from ref import golden as G  # noqa: E402
from ref import ltsnn_torch as R  # noqa: E402

MODELS = {'vgg': '4C3-6C3-AP2-8C3-MP2-FC12-FC5', 'dw': '4C3-6DW-AP2-8DW-FC5'}
T, B, C, HW, K = 4, 3, 2, 8, 5
BETA = 0.45
CASES = [G.mode_case(mode, 'sigmoid', False) for mode in ('sgp', 'fixed', 'stsg')]


def sawb_ok(net, bits):
    """(no weight near a rounding tie or near +-alpha, number of clipped weights)"""
    clipped, ok = 0, True
    for m in net.modules():
        if isinstance(m, R.Conv):
            tie, edge = R.sawb_margin(m.weight, bits)
            ok = ok and tie >= 1e-3 and edge >= 1e-4
            clipped += int((m.weight.detach().double().abs() > R.sawb_alpha(m.weight, bits)).sum())
    return ok, clipped


def find(arch, bits):
    def build(**opts):
        return R.LTSNN(arch, T=T, input=(C, HW, HW), wbits=bits, **opts)
    f = G.search(build, CASES, (B, T, C, HW, HW), K, range(1000), BETA,
                 accept=lambda net: sawb_ok(net, bits)[0] and sawb_ok(net, bits)[1] > 0)
    net = build()
    net.load_state_dict(f['state'])
    return build, f, sawb_ok(net, bits)[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(HERE, 'grad_sawb'))
    out = ap.parse_args().out
    made = []
    for name, arch in MODELS.items():
        for bits in (4, 8):
            build, f, clipped = find(arch, bits)
            made.append(f'`{name}_w{bits}/` seed {f["seed"]}, {clipped} weights clipped, float32 against float64 '
                        f'{f["worst"]:.2e}')
            print(f'{made[-1]}, firing rates {" ".join("%.2f" % r for r in f["rates"])}')
            G.write_grad_dir(os.path.join(out, f'{name}_w{bits}'), build(), f['state'], f['x'], f['y'], CASES,
                             f['golden'], {'beta': BETA, 'T': T, 'wbits': bits})
            for case, g in f['golden'].items():
                print('  ', case, 'loss', float(g['loss'][0]), 'tensors', len(g))
    if os.path.abspath(out) == os.path.join(HERE, 'grad_sawb'):
        G.readme_section('gen_sawb_golden.py', f'''
**`grad_sawb/{{vgg,dw}}_w{{4,8}}/`** (`gen_sawb_golden.py`; not yet read by a test):
SAWB fake quantisation (METHOD.md section 7) of every convolution, 4 and 8 bits,
on `{MODELS["vgg"]}` (`vgg_*`) and `{MODELS["dw"]}` (`dw_*`, depthwise and
pointwise convs), input {C}x{HW}x{HW}, T={T}, B={B}, cases {", ".join(c['name'] for c in CASES)};
`wbits` in W's metadata, W holds the float32 latent weights. Besides the common
rules, no conv weight times scale lies within 1e-3 of a rounding tie nor within
1e-4 (relative) of +-alpha, and some weights of every net are clipped (so the
masked straight-through gradient is exercised). Made with torch {torch.__version__}:
{"; ".join(made)}.''')


if __name__ == '__main__':
    main()
