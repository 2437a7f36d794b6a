#!/usr/bin/python3
"""vth_audit.py -- does a threshold gradient point where the loss goes?

Issue 18 asks why SGP's learned thresholds climb.  A threshold mode's dL/dV
is a surrogate: the spike is a step in V, so the loss as a function of V is
piecewise constant and its true derivative is zero almost everywhere.  What
training needs is the slope of the loss over a finite change of V, averaged
over many samples, and that can be measured: perturb one layer's V by +-h,
run the net forward with real binary spikes on the same batches, and take
(L(V + h) - L(V - h)) / 2h.  This script prints, for every LIF layer of a
checkpoint, that finite-difference slope (for a few h) next to the dL/dV
that SGP and STSG (METHOD.md section 2) compute on the same batches, each
as a mean over batches with its standard error, so a sign that disagrees
with the loss's own slope shows beyond noise.

The forward, the loss and both gradients are the PyTorch reference's
(bench/ref, written from METHOD.md): BN in training mode (batch statistics,
as a training step sees it), the classification loss of METHOD.md section 4
with Omega held at the checkpoint's value (it is detached in the loss, so
the gradient does not see it move either) and the checkpoint's beta.
Static Fashion-MNIST only (x = image / 255 at every step, ltsnn's static
encoding); batches are drawn from the training split with --seed.

    /usr/bin/python3 bench/vth_audit.py CKPT [--batches 16] [--batch 64] [--h 0.03,0.1]
        [--data /usr/share/datasets/fashion-mnist] [--init-seed S] [--double] [--json OUT.json]
        [--save-batch X.safetensors]

    /usr/bin/python3 bench/vth_audit.py --table A.json B.json ... [--h 0.1] [--names a,b]

CKPT is an ltsnn checkpoint of a Fashion-MNIST model (any mode: the audit
runs the net in sgp and stsg mode with the checkpoint's weights), or
`init:MODEL` for a freshly initialised net (PyTorch's default init, seeded
by --init-seed) with every V at 1.  h is relative to each layer's V.
"""
import argparse
import gzip
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref import ltsnn_torch as lt  # noqa: E402  (same folder)
from ref import st_io  # noqa: E402


def read_idx(path):
    """An IDX file (gzip or not): uint8 array with its dimensions."""
    op = gzip.open if path.endswith('.gz') else open
    with op(path, 'rb') as f:
        b = f.read()
    if len(b) < 4 or b[0] or b[1] or b[2] != 8:
        raise ValueError(f'{path}: not an unsigned-byte IDX file')
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], 'big') for i in range(nd)]
    n = int(np.prod(dims))
    if len(b) < 4 + 4 * nd + n:
        raise ValueError(f'{path}: {len(b)} bytes, the header says {4 + 4 * nd + n}')
    return np.frombuffer(b, np.uint8, n, 4 + 4 * nd).reshape(dims)


def idx(root, name):
    for p in (os.path.join(root, name + '.gz'), os.path.join(root, name)):
        if os.path.exists(p):
            return read_idx(p)
    raise FileNotFoundError(f'{root}: no {name}[.gz] (Debian: apt install dataset-fashion-mnist)')


def load_net(spec, init_seed, T):
    if spec.startswith('init:'):
        torch.manual_seed(init_seed)
        net = lt.LTSNN(spec[5:], T=T, input=(1, 28, 28), classes=10, mode='sgp', window='sigmoid')
        return net, {'beta': '0.45'}
    _, meta = st_io.read(spec)
    return lt.from_ltsnn(spec, mode='sgp', window=meta.get('window', 'sigmoid')), meta


def losses(net, batches, omega, beta):
    """The loss of every batch, forward only, real spikes."""
    with torch.no_grad():
        return np.array([float(lt.class_loss(net(x), y, omega, beta)) for x, y in batches])


def grads(net, batches, omega, beta, mode):
    """dL/dV of every layer on every batch, in `mode` ([batches, layers])."""
    net.set_neuron(mode=mode)
    g = []
    for x, y in batches:
        net.zero_grad()
        lt.class_loss(net(x), y, omega, beta).backward()
        g.append([float(lif.vth.grad.reshape(())) for lif in net.lifs()])
    net.set_neuron(mode='sgp')
    return np.array(g)


def mean_se(a):
    a = np.asarray(a, float)
    return float(a.mean()), float(a.std(ddof=1) / math.sqrt(len(a))) if len(a) > 1 else float('nan')


def table(argv):
    """--table J.json ... [--h H] [--names a,b,...]: the audits of several checkpoints
    as one table, and how often each mode's sign agrees with the loss's slope where
    that slope is beyond two standard errors."""
    ap = argparse.ArgumentParser(prog='vth_audit.py --table')
    ap.add_argument('json', nargs='+')
    ap.add_argument('--h', default='0.1', help='which finite difference (default 0.1)')
    ap.add_argument('--names', help='comma-separated names for the audits (default: their checkpoints)')
    a = ap.parse_args(argv)
    audits = [json.load(open(p)) for p in a.json]
    names = a.names.split(',') if a.names else [x['ckpt'] for x in audits]
    if len(names) != len(audits):
        ap.error(f'--names has {len(names)} names for {len(audits)} audits')
    print(f'| checkpoint | layer | V | loss slope fd h={a.h} | SGP dL/dV | STSG dL/dV | SGP sign | STSG sign |')
    print('|' + ' --- |' * 8)
    sure, agree, up_wrong, ratio = 0, {'sgp': 0, 'stsg': 0}, 0, {'sgp': [], 'stsg': []}
    for name, x in zip(names, audits):
        for r in x['layers']:
            if a.h not in r['fd']:
                sys.exit(f"{x['ckpt']}: no finite difference at h={a.h} (it has {', '.join(r['fd'])})")
            fd, se = r['fd'][a.h]
            cells = [name, str(r['layer']), f"{r['V']:.2f}", f'{fd:+.1e} +- {se:.0e}',
                     f"{r['sgp'][0]:+.1e} +- {r['sgp'][1]:.0e}", f"{r['stsg'][0]:+.1e} +- {r['stsg'][1]:.0e}"]
            if abs(fd) > 2 * se:
                sure += 1
                for m in ('sgp', 'stsg'):
                    same = (r[m][0] > 0) == (fd > 0)
                    agree[m] += same
                    ratio[m].append(abs(r[m][0]) / abs(fd))
                    cells.append('agrees' if same else '**opposite**')
                up_wrong += fd > 0 and r['sgp'][0] < 0
            else:
                cells += ['(slope within 2 s.e.)', '']
            print('| ' + ' | '.join(cells) + ' |')
    med = {m: (float(np.median(v)) if v else float('nan')) for m, v in ratio.items()}
    print(f'\nlayers whose loss slope is beyond 2 s.e.: {sure}; SGP\'s sign agrees in {agree["sgp"]}, STSG\'s in '
          f'{agree["stsg"]}; SGP asks V up where the loss asks it down in {up_wrong}; median |dL/dV| / |slope|: '
          f'SGP {med["sgp"]:.2f}, STSG {med["stsg"]:.2f}')
    return 0


def main(argv):
    if argv[:1] == ['--table']:
        return table(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[1], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument('ckpt')
    ap.add_argument('--batches', type=int, default=16)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--h', default='0.03,0.1', help='relative steps of V (default 0.03,0.1)')
    ap.add_argument('--seed', type=int, default=1, help='which training images (default 1)')
    ap.add_argument('--init-seed', type=int, default=1)
    ap.add_argument('--T', type=int, default=4, help='steps for init:MODEL (a checkpoint has its own)')
    ap.add_argument('--data', default='/usr/share/datasets/fashion-mnist')
    ap.add_argument('--json', help='write the numbers here too')
    ap.add_argument('--save-batch', metavar='X.safetensors', help="write batch 0 (x, y) for `ltsnn grad --batch`")
    ap.add_argument('--double', action='store_true', help='float64 (default float32, as ltsnn trains)')
    a = ap.parse_args(argv)
    hs = [float(s) for s in a.h.split(',')]
    if a.batches < 2 or a.batch < 2 or not hs or min(hs) <= 0:
        ap.error('--batches and --batch need at least 2, --h positive values')

    torch.set_num_threads(1)
    net, meta = load_net(a.ckpt, a.init_seed, a.T)
    if net.input != (1, 28, 28) or net.classes != 10:
        sys.exit(f'{a.ckpt}: input {net.input}, {net.classes} classes: not a Fashion-MNIST model')
    net = (net.double() if a.double else net.float()).train()
    dt = torch.float64 if a.double else torch.float32
    beta = float(meta.get('beta', '0.45'))
    img = idx(a.data, 'train-images-idx3-ubyte')
    lab = idx(a.data, 'train-labels-idx1-ubyte')
    pick = np.random.default_rng(a.seed).permutation(len(img))[:a.batches * a.batch]
    batches = []
    for b in range(a.batches):
        k = pick[b * a.batch:(b + 1) * a.batch]
        x = torch.from_numpy(img[k].astype(np.float32) / np.float32(255)).to(dt).reshape(a.batch, 1, 1, 28, 28)
        batches.append((x.expand(a.batch, net.T, 1, 28, 28).contiguous(), torch.from_numpy(lab[k].astype(np.int64))))
    omega = net.omega().detach()
    if a.save_batch:   # batch 0 as `ltsnn grad --batch` reads it (tests/test_vth_audit.sh)
        st_io.write(a.save_batch, {'x': batches[0][0].float().numpy(), 'y': batches[0][1].numpy()})
    margin0 = net.min_margin(batches[0][0])   # how near a spike of batch 0 is to flipping

    base = losses(net, batches, omega, beta)
    g_sgp = grads(net, batches, omega, beta, 'sgp')
    g_stsg = grads(net, batches, omega, beta, 'stsg')
    rows = []
    for li, lif in enumerate(net.lifs()):
        v0 = float(lif.vth.detach().reshape(()))
        row = {'layer': li + 1, 'V': v0, 'sgp': mean_se(g_sgp[:, li]), 'stsg': mean_se(g_stsg[:, li]), 'fd': {}}
        for h in hs:
            d = h * v0
            with torch.no_grad():
                lif.vth.fill_(v0 + d)
                lp = losses(net, batches, omega, beta)
                lif.vth.fill_(v0 - d)
                lm = losses(net, batches, omega, beta)
                lif.vth.fill_(v0)
            row['fd'][str(h)] = mean_se((lp - lm) / (2 * d))
            row.setdefault('fd_batch0', {})[str(h)] = float((lp[0] - lm[0]) / (2 * d))
        row['sgp_batch0'], row['stsg_batch0'] = float(g_sgp[0, li]), float(g_stsg[0, li])
        rows.append(row)

    print(f'{a.ckpt}: {a.batches} batches of {a.batch} training images (seed {a.seed}), T {net.T}, beta {beta:.4g}, '
          f'Omega {float(omega):.4f}; loss {base.mean():.5f}')
    print('dL/dV per LIF layer, mean over batches +- standard error; fd(h): (L(V+hV) - L(V-hV)) / 2hV with real spikes')
    hdr = ['layer', 'V', 'SGP dL/dV', 'STSG dL/dV'] + [f'fd h={h:g}' for h in hs]
    print('| ' + ' | '.join(hdr) + ' |')
    print('|' + ' --- |' * len(hdr))
    for r in rows:
        cells = [str(r['layer']), f"{r['V']:.3f}"] + [f'{m:+.2e} +- {s:.1e}' for m, s in
                                                     [r['sgp'], r['stsg']] + [r['fd'][str(h)] for h in hs]]
        print('| ' + ' | '.join(cells) + ' |')
    if a.json:
        with open(a.json + '.tmp', 'w') as f:
            json.dump({'ckpt': a.ckpt, 'batches': a.batches, 'batch': a.batch, 'seed': a.seed, 'beta': beta,
                       'omega': float(omega), 'loss': float(base.mean()), 'loss_batch0': float(base[0]),
                       'margin_batch0': float(margin0), 'layers': rows}, f, indent=1)
        os.replace(a.json + '.tmp', a.json)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
