#!/usr/bin/python3
"""gen_neuron_golden.py -- `ltsnn grad` golden tensors for the neuron options test_grad.sh does not cover.

Run from anywhere with Debian's python3-torch:
    /usr/bin/python3 tests/data/gen_neuron_golden.py [--out DIR]
Uses bench/ref (ltsnn's own PyTorch reference, written from METHOD.md sections
1, 2 and 4) on the model of tests/data/grad/ (4C3-6DW-AP2-8C3-MP2-FC12-FC5, input
2x8x8, T=4, B=3) in the cases soft reset, DSR (two alphas, soft reset,
detach-reset), surrogate widths g other than 1, another leak lam, and the
`--loss mean` form.  Cases whose forward pass is the same (same reset, lam and
firing point) share a directory tests/data/grad_neuron/<group>/ in
tests/test_grad.sh's layout (W.safetensors, X.safetensors, G_<case>.safetensors
with loss [1], O [B,T,K] and <name>.grad), where each G file's metadata also
holds `flags`: the `ltsnn grad` options of the case, e.g. "--mode dsr --alpha
0.5 --reset soft" (and mode, window, detach_reset, reset, lam, g, alpha, loss
one by one).

For each directory, inputs are redrawn until no membrane lies within 1e-3 of
the point where it fires (V, or alpha V for DSR), every LIF fires on 2% to 98%
of its outputs, and float32 agrees with float64 to 2e-5 in each of its cases.
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
T, B, C, HW, K = 4, 3, 2, 8, 5
BETA = 0.45
DEFAULTS = R.NeuronOptions()
# (options different from the defaults, loss form)
SPECS = [({'reset': 'soft'}, 'tet'),
         ({'mode': 'stsg', 'reset': 'soft', 'detach_reset': True}, 'tet'),
         ({'mode': 'penalty_all', 'window': 'arctan', 'reset': 'soft'}, 'tet'),
         ({'mode': 'fixed', 'reset': 'soft'}, 'tet'),
         ({'mode': 'dsr'}, 'tet'),
         ({'mode': 'dsr', 'alpha': 0.5}, 'tet'),
         ({'mode': 'dsr', 'alpha': 0.5, 'reset': 'soft'}, 'tet'),
         ({'mode': 'dsr', 'detach_reset': True}, 'tet'),
         ({'g': 0.5}, 'tet'),
         ({'g': 1.5, 'window': 'triangle'}, 'tet'),
         ({'lam': 0.8}, 'tet'),
         ({'mode': 'stsg', 'lam': 0.25, 'g': 0.7, 'reset': 'soft'}, 'tet'),
         ({}, 'mean'),
         ({'mode': 'dsr', 'alpha': 0.5}, 'mean')]


def make_case(changes, loss):
    opts = dict(DEFAULTS.__dict__)
    opts.update(changes)
    name = [opts['mode']] + ([] if opts['mode'] in ('dsr', 'fixed', 'stsg') else [opts['window']])
    flags = ['--mode', opts['mode']]
    if opts['mode'] not in ('dsr', 'fixed', 'stsg'):
        flags += ['--window', opts['window']]
    for key, short in (('alpha', 'a'), ('g', 'g'), ('lam', 'lam')):
        if key in changes:
            name.append(f'{short}{changes[key]:g}')
            flags += [f'--{key}', f'{changes[key]:g}']
    if opts['reset'] == 'soft':
        name.append('soft')
        flags += ['--reset', 'soft']
    if opts['detach_reset']:
        name.append('detach')
        flags.append('--detach-reset')
    if loss == 'mean':
        name.append('mean')
        flags += ['--loss', 'mean']
    meta = {'mode': opts['mode'], 'window': opts['window'], 'detach_reset': str(opts['detach_reset']),
            'reset': opts['reset'], 'lam': f'{opts["lam"]:g}', 'g': f'{opts["g"]:g}', 'alpha': f'{opts["alpha"]:g}',
            'loss': loss, 'flags': ' '.join(flags)}
    return {'name': '_'.join(name), 'opts': opts, 'loss': loss, 'meta': meta}


CASES = [make_case(*s) for s in SPECS]


def build(**opts):
    return R.LTSNN(ARCH, T=T, input=(C, HW, HW), **opts)


def group_of(case):
    """The directory of a case: cases with the same forward pass share inputs."""
    o = case['opts']
    name = ('dsr' + (f'_a{o["alpha"]:g}' if o['alpha'] != DEFAULTS.alpha else '')) if o['mode'] == 'dsr' else 'binary'
    if o['lam'] != DEFAULTS.lam:
        name += f'_lam{o["lam"]:g}'
    return name + ('_soft' if o['reset'] == 'soft' else '')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(HERE, 'grad_neuron'))
    out = ap.parse_args().out
    groups = {}
    for case in CASES:
        groups.setdefault(group_of(case), []).append(case)
    made = []
    for name, cases in groups.items():
        f = G.search(build, cases, (B, T, C, HW, HW), K, range(2000), BETA)   # a group shares its forward
        made.append(f'`{name}/` seed {f["seed"]}, {f["worst"]:.2e}')
        print(f'{name}: seed {f["seed"]}, float32 vs float64 worst relative error {f["worst"]:.2e}')
        G.write_grad_dir(os.path.join(out, name), build(), f['state'], f['x'], f['y'], cases, f['golden'],
                         {'beta': BETA, 'T': T})
        for case in cases:
            loss = float(f['golden'][case['name']]['loss'][0])
            print(f'   {case["name"]:28s} {case["meta"]["flags"]:45s} loss {loss:.6f}')
    if os.path.abspath(out) == os.path.join(HERE, 'grad_neuron'):
        listing = '; '.join(f'`{g}/`: ' + ', '.join(f'`{c["meta"]["flags"]}`' for c in cs) for g, cs in groups.items())
        G.readme_section('gen_neuron_golden.py', f'''
**`grad_neuron/*/`** (`gen_neuron_golden.py`; not yet read by a test): the model and
input layout of `grad/` ({ARCH}, {C}x{HW}x{HW}, T={T}, B={B}) in {len(CASES)} cases
of the options `grad/` leaves at their defaults: soft reset, DSR (alpha 0.3 and
0.5, soft reset, detach-reset), g 0.5, 0.7 and 1.5, lam 0.8 and 0.25, and
`--loss mean`. Cases with the same forward pass share a directory, and each G
file's metadata `flags` holds the case's `ltsnn grad` options: {listing}. Weights
and inputs are drawn as for `grad/`, per directory; the rules above hold (the
firing point of DSR is alpha V), and every LIF fires on 2% to 98% of its
outputs. Made with torch {torch.__version__}: {"; ".join(made)} (float32 against
float64).''')


if __name__ == '__main__':
    main()
