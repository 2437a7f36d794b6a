#!/usr/bin/python3
"""gen_resnet_golden.py -- `ltsnn grad` golden tensors for residual nets, standard BN and tdBN.

Run from anywhere with Debian's python3-torch:
    /usr/bin/python3 tests/data/gen_resnet_golden.py [--out DIR]
Uses bench/ref (ltsnn's own PyTorch reference, written from METHOD.md sections
1-4 and 8) on the model 4C3-R4-R6-R8s2-GAP-FC5 with input 2x9x9, T=3, B=2:
R4 has the identity shortcut, R6 a 1x1-conv + BN shortcut at stride 1 (4 -> 6
channels), R8s2 a conv shortcut at stride 2 on an odd map (9x9 -> 5x5), then
global average pooling.  It writes tests/data/grad_resnet/standard/ and
tests/data/grad_resnet/td/, each in tests/test_grad.sh's layout:
W.safetensors (weights before the step, ltsnn's names, metadata model, input,
classes, beta, T and bn = "standard" / "td"), X.safetensors (x [B,T,C,H,W]
float32, y [B] int64) and G_<mode>_sigmoid.safetensors for the modes sgp,
fixed and stsg: loss [1], O [B,T,K] and <name>.grad of every trained tensor.

As in gen_grad_golden.py, the inputs are redrawn until no membrane lies within
1e-3 of its threshold, every LIF layer fires (rate between 2% and 98%), and
float32 agrees with float64 to 2e-5; goldens are float64 stored as float32.
The thresholds start at 0.7 + 0.15 i (the i-th LIF) and BN's affine parameters
are drawn away from 1 and 0, so that tdBN's alpha * V scaling is visible.
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'bench'))
from ref import golden as G  # noqa: E402
from ref import ltsnn_torch as R  # noqa: E402

ARCH = '4C3-R4-R6-R8s2-GAP-FC5'
T, B, C, HW, K = 3, 2, 2, 9, 5
BETA = 0.45
CASES = [G.mode_case(mode, 'sigmoid', False) for mode in ('sgp', 'fixed', 'stsg')]


def find(bn):
    def build(**opts):
        return R.LTSNN(ARCH, T=T, input=(C, HW, HW), bn=bn, **opts)
    return build, G.search(build, CASES, (B, T, C, HW, HW), K, range(500), BETA)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(HERE, 'grad_resnet'))
    out = ap.parse_args().out
    made = []
    for bn in ('standard', 'td'):
        build, f = find(bn)
        made.append(f'`{bn}/` seed {f["seed"]}, float32 against float64 {f["worst"]:.2e}, firing rates '
                    f'{" ".join("%.2f" % r for r in f["rates"])}')
        print(f'bn {bn}: {made[-1]}')
        G.write_grad_dir(os.path.join(out, bn), build(), f['state'], f['x'], f['y'], CASES, f['golden'],
                         {'beta': BETA, 'T': T, 'bn': bn})
        for case, g in f['golden'].items():
            print('  ', case, 'loss', float(g['loss'][0]), 'tensors', len(g))
    if os.path.abspath(out) == os.path.join(HERE, 'grad_resnet'):
        G.readme_section('gen_resnet_golden.py', f'''
**`grad_resnet/standard/`, `grad_resnet/td/`** (`gen_resnet_golden.py`; not yet read
by a test): the model `{ARCH}` on input {C}x{HW}x{HW}, T={T}, B={B}: `R4` has the
identity shortcut, `R6` a 1x1 conv + BN shortcut at stride 1, `R8s2` a conv
shortcut at stride 2 on an odd map (9x9 to 5x5), then `GAP`; with standard BN
and with tdBN (`bn` in W's metadata), each in the cases
{", ".join(c['name'] for c in CASES)}. Weights as for `grad/` (thresholds
0.7 + 0.15 i, so tdBN's alpha V is not 1); inputs also had to make every LIF fire
on 2% to 98% of its outputs. Made with torch {torch.__version__}: {"; ".join(made)}.''')


if __name__ == '__main__':
    main()
