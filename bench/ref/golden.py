"""golden.py -- what tests/data/gen_*_golden.py share: one `ltsnn grad`-style case
computed by the reference, the well-conditioned input search, and the
W/X/G_<case> directory layout of tests/test_grad.sh (docs/checkpoints.md,
"ltsnn grad files").

A directory holds W.safetensors (the weights before the step, ltsnn names, the
net's metadata), X.safetensors (x [B, T, C, H, W] float32, y [B] int64) and one
G_<case>.safetensors per case: loss [1], O [B, T, K] and <name>.grad for every
trained tensor, computed in float64 and stored as float32.

A case is a dict: name (G_<name>), opts (neuron options for LTSNN), loss ('tet'
or 'mean') and meta (the G file's metadata).
"""
import os

import numpy as np
import torch

from . import st_io
from .ltsnn_torch import class_loss


def case_name(mode, window, detach):
    return f'{mode}_{window}' + ('_detach' if detach else '')


def mode_case(mode, window, detach):
    """The case test_grad.sh runs as --mode MODE --window WINDOW [--detach-reset]."""
    return {'name': case_name(mode, window, detach), 'loss': 'tet',
            'opts': {'mode': mode, 'window': window, 'detach_reset': detach},
            'meta': {'mode': mode, 'window': window, 'detach_reset': str(detach)}}


def grad_tensors(net, x, y, beta=0.45, form='tet'):
    """One forward and backward in training mode: {'loss', 'O', '<name>.grad'} as float64
    numpy arrays (thresholds' gradients shaped [1]).  Updates the BN running buffers."""
    net.train()
    net.zero_grad(set_to_none=True)
    O = net(x.to(next(net.parameters()).dtype))
    loss = class_loss(O, y, net.omega(), beta, form)
    loss.backward()
    g = {'loss': np.array([loss.item()], np.float64), 'O': O.detach().numpy().astype(np.float64)}
    for k, p in net.named_parameters():
        if p.grad is not None:
            g[k + '.grad'] = p.grad.numpy().astype(np.float64)
    return g


def firing_rates(net, x):
    """Fraction of non-zero outputs of every LIF (execution order) on x, training-mode
    statistics; the BN running buffers are restored afterwards."""
    saved = {k: v.clone() for k, v in net.named_buffers()}
    rates = []
    hooks = [lif.register_forward_hook(lambda m, i, o: rates.append(float((o != 0).double().mean())))
             for lif in net.lifs()]
    try:
        net.train()
        with torch.no_grad():
            net(x.to(next(net.parameters()).dtype))
    finally:
        for h in hooks:
            h.remove()
        with torch.no_grad():
            for k, v in net.named_buffers():
                v.copy_(saved[k])
    return rates


def rel_err(a, b):
    """max|a - b| / max(max|b|, 1e-6), the measure of tests/data/compare_st.py."""
    return float(np.abs(a - b).max()) / max(float(np.abs(b).max()), 1e-6)


def worst_rel(ga, gb):
    return max(rel_err(ga[k], gb[k]) for k in gb)


def run_cases(make_net, state, x, y, cases, beta=0.45):
    """For each case: the float64 tensors (golden[name]) and the worst relative error of
    float32 against them over all cases.  make_net(**opts) builds a float32 net."""
    golden, worst = {}, 0.0
    for case in cases:
        res = {}
        for dtype in (torch.float64, torch.float32):
            net = make_net(**case['opts'])
            net.load_state_dict(state)
            res[dtype] = grad_tensors(net.to(dtype), x, y, beta, case['loss'])
        worst = max(worst, worst_rel(res[torch.float32], res[torch.float64]))
        golden[case['name']] = res[torch.float64]
    return golden, worst


def draw(build, seed, x_shape, classes):
    """What every generator draws for one seed: build()'s PyTorch default initialisation
    under torch.manual_seed(seed), thresholds 0.7 + 0.15 i for the i-th LIF, BN gamma from
    U(0.6, 1.6) and beta from U(-0.3, 0.5); then x binary with density 0.35 and y uniform
    over `classes`.  Returns (net, state, x, y)."""
    torch.manual_seed(seed)
    net = build()
    with torch.no_grad():
        for i, lif in enumerate(net.lifs()):
            lif.vth.fill_(0.7 + 0.15 * i)
        for bn in net.bns():
            bn.weight.uniform_(0.6, 1.6)
            bn.bias.uniform_(-0.3, 0.5)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    x = (torch.rand(*x_shape) < 0.35).float()
    y = torch.randint(0, classes, (x_shape[0],))
    return net, state, x, y


def search(build, cases, x_shape, classes, seeds, beta=0.45, rates=True, accept=None):
    """The first seed whose draw is well conditioned: no membrane within 1e-3 of its firing
    point (float64, the forward of cases[0]'s options, which every case must share), with
    `rates` every LIF firing on 2% to 98% of its outputs, accept(net) true if given, and
    float32 within 2e-5 of float64 in every case (a threshold gradient is a sum that can
    cancel, and then no float32 code agrees with it to 1e-4).  Returns a dict with seed,
    state, x, y, golden, worst and rates."""
    for seed in seeds:
        net, state, x, y = draw(build, seed, x_shape, classes)
        if accept is not None and not accept(net):
            continue
        probe = build(**cases[0]['opts']).double()
        probe.load_state_dict(state)
        if probe.min_margin(x.double()) <= 1e-3:
            continue
        r = firing_rates(probe, x)
        if rates and not all(0.02 <= v <= 0.98 for v in r):
            continue
        golden, worst = run_cases(build, state, x, y, cases, beta)
        if worst < 2e-5:
            return {'seed': seed, 'state': state, 'x': x, 'y': y, 'golden': golden, 'worst': worst, 'rates': r}
    raise SystemExit('no seed gave well-conditioned inputs')


def write_grad_dir(out, net, state, x, y, cases, golden, w_meta):
    """Write W, X and the G_<name> file of every case into directory `out`."""
    os.makedirs(out, exist_ok=True)
    net.load_state_dict(state)
    net.save_ltsnn(os.path.join(out, 'W.safetensors'), w_meta)
    st_io.write(os.path.join(out, 'X.safetensors'), {'x': x.numpy().astype(np.float32),
                                                     'y': y.numpy().astype(np.int64)})
    for case in cases:
        g = {k: v.astype(np.float32).reshape(v.shape if v.shape else (1,)) for k, v in golden[case['name']].items()}
        st_io.write(os.path.join(out, f'G_{case["name"]}.safetensors'), g, dict(case['meta'], dtype='float64'))


README = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      'tests', 'data', 'README-golden.md')


def readme_section(generator, text):
    """Replace the paragraph of `generator` in tests/data/README-golden.md (between its
    <!-- generator --> and <!-- /generator --> markers; appended if absent)."""
    begin, end = f'<!-- {generator} -->', f'<!-- /{generator} -->'
    with open(README) as f:
        doc = f.read()
    block = f'{begin}\n{text.strip()}\n{end}'
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip('\n') + '\n\n' + block + '\n'
    with open(README, 'w') as f:
        f.write(doc)
