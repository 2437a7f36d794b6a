#!/usr/bin/python3
"""test_ref.py -- self-tests of ltsnn's PyTorch reference (bench/ref).

    /usr/bin/python3 bench/ref/test_ref.py

Checks, without ltsnn's binary:
- hand-derived values: the windows, the surrogate, a 3-step single neuron in
  every threshold mode (hard and soft reset, detach, DSR), SAWB on tensors
  worked out by hand (round half to even included), the classification loss,
  the detection loss of a one-cell grid, Adam's first step;
- torch.autograd.gradcheck in float64 on every smooth piece: BN and tdBN,
  convolutions (strided, grouped), the residual sum, the classification loss and
  the detection loss w.r.t. O (where its decisions are fixed);
- the fused LIF against the step-by-step autograd LIF in every mode, window and
  reset; BN against BN written out; the detection loss against a loop-by-loop
  version; Adam against torch.optim.Adam;
- model strings, checkpoint names, strict loading and the safetensors reader;
- equality with ../shared/bench/ltsnn_ref.py on the models it covers, when that
  file is present beside the repository (reported as skipped otherwise).
Exit status 0 when every check passed; skipped checks are listed, not counted.
"""
import math
import os
import sys
import tempfile
import traceback

import numpy as np
import torch
from torch.nn.utils.stateless import functional_call

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from ref import det as D  # noqa: E402
from ref import golden as G  # noqa: E402
from ref import ltsnn_torch as R  # noqa: E402
from ref import st_io  # noqa: E402
from ref.neuron import NeuronOptions, lif_fused, lif_stepwise, tri, window  # noqa: E402

SHARED = os.path.join(os.path.dirname(os.path.dirname(HERE)), '..', 'shared', 'bench')
TESTS = []


class Skip(Exception):
    pass


def test(fn):
    TESTS.append(fn)
    return fn


def close(a, b, tol=1e-12, what=''):
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    assert a.shape == b.shape, f'{what}: shape {tuple(a.shape)} != {tuple(b.shape)}'
    err = float((a - b).abs().max()) if a.numel() else 0.0
    assert err <= tol * max(1.0, float(b.abs().max()) if b.numel() else 0.0), \
        f'{what}: differs by {err:.3g}\n got {a.flatten()[:8].tolist()}\n want {b.flatten()[:8].tolist()}'


def sig(z):
    return 1 / (1 + math.exp(-z))


# ---------------------------------------------------------------- neuron

@test
def windows_and_surrogate_by_hand():
    z = torch.tensor([-2.0, -0.5, 0.0, 0.4, 0.5, 3.0], dtype=torch.float64)
    close(window('sigmoid', z), [sig(v) for v in z.tolist()], what='sigmoid')
    close(window('arctan', z), [0.5 + math.atan(math.pi / 2 * v) / math.pi for v in z.tolist()], what='arctan')
    close(window('triangle', z), [0, 0.125, 0.5, 1 - 0.5 * 0.36, 0.875, 1], what='triangle')
    close(window('piecewise', z), [0, 0.25, 0.5, 0.7, 0.75, 1], what='piecewise')
    close(tri(z, 1.0), [0, 0.5, 1, 0.6, 0.5, 0], what='tri g=1')
    close(tri(torch.tensor([0.2, -0.6], dtype=torch.float64), 0.5), [1.2, 0.0], what='tri g=0.5')


def one_neuron(mode, **kw):
    """The 3-step neuron of the hand derivations: V = 0.8, lam = 0.5, g = 1,
    x = (0.5, 0.9, 1.2), upstream gradient (0.3, -0.5, 1.0)."""
    opt = NeuronOptions(mode=mode, **kw)
    x = torch.tensor([[0.5], [0.9], [1.2]], dtype=torch.float64, requires_grad=True)
    v = torch.tensor([0.8], dtype=torch.float64, requires_grad=mode != 'fixed')
    s = lif_fused(x, v, opt)
    s.backward(torch.tensor([[0.3], [-0.5], [1.0]], dtype=torch.float64))
    return s.detach().flatten(), x.grad.flatten(), (v.grad if v.grad is not None else None)


@test
def neuron_hard_reset_by_hand():
    # forward: u = 0.5 (z -0.3, no spike), u = 0.25 + 0.9 = 1.15 (z 0.35, spike, reset to 0),
    # u = 1.2 (z 0.4, spike); tri = 0.7, 0.65, 0.6
    # backward (METHOD.md section 1), t = 3: dm = 0, dH = 1.0, du = 0.6; dm_2 = 0.3
    # t = 2: dH = -0.5 - 1.15 * 0.3 = -0.845, du = -0.845 * 0.65 = -0.54925; dm_1 = -0.274625
    # t = 1: dH = 0.3 - 0.5 * -0.274625 = 0.4373125, du = -0.274625 + 0.4373125 * 0.7 = 0.03149375
    dx = [0.03149375, -0.54925, 0.6]
    dh = [0.4373125, -0.845, 1.0]
    tr = [0.7, 0.65, 0.6]
    h = [0, 1, 1]
    zs = [-0.3, 0.35, 0.4]
    for mode in ('fixed', 'stsg', 'sgp', 'sgp_stsg'):
        s, gx, gv = one_neuron(mode)
        close(s, [0, 1, 1], what=mode + ' spikes')
        close(gx, dx, what=mode + ' dx')
        if mode == 'fixed':
            assert gv is None, 'fixed mode gave the threshold a gradient'
            continue
        want = {'stsg': sum(d * -t for d, t in zip(dh, tr)),
                'sgp': sum(d * -m * t * sig(z) for d, m, t, z in zip(dh, h, tr, zs)),
                'sgp_stsg': sum(d * (-t - m * t * sig(z)) for d, m, t, z in zip(dh, h, tr, zs))}[mode]
        close(gv, [want], what=mode + ' dV')
    close(one_neuron('sgp')[2], [-0.6 * sig(0.4) + 0.54925 * sig(0.35)], what='sgp dV written out')


@test
def neuron_penalty_all_by_hand():
    # ds/du = tri * w: t = 3: du = 0.6 w3; dm_2 = 0.3 w3; t = 2: dH = -0.5 - 1.15 * 0.3 w3,
    # du = dH * 0.65 w2; t = 1: dH = 0.3 - 0.5 * dm_1, du = dm_1 + dH * 0.7 w1
    for win, w in (('sigmoid', sig), ('piecewise', lambda z: min(1.0, max(0.0, 0.5 + z / 2)))):
        w1, w2, w3 = w(-0.3), w(0.35), w(0.4)
        du3 = 0.6 * w3
        dh2 = -0.5 - 1.15 * 0.5 * du3
        du2 = dh2 * 0.65 * w2
        dm1 = 0.5 * du2
        dh1 = 0.3 - 0.5 * dm1
        du1 = dm1 + dh1 * 0.7 * w1
        dv = 1.0 * -(0.6 * w3) + dh2 * -(0.65 * w2)
        s, gx, gv = one_neuron('penalty_all', window=win)
        close(gx, [du1, du2, du3], what='penalty_all dx ' + win)
        close(gv, [dv], what='penalty_all dV ' + win)


@test
def neuron_detach_reset_by_hand():
    # no reset path: t = 3 du = 0.6; t = 2 dH = -0.5, du = -0.325; dm_1 = -0.1625;
    # t = 1 dH = 0.3, du = -0.1625 + 0.21 = 0.0475; dV (sgp) = -0.6 w(0.4) + 0.325 w(0.35)
    s, gx, gv = one_neuron('sgp', detach_reset=True)
    close(gx, [0.0475, -0.325, 0.6], what='detach dx')
    close(gv, [-0.6 * sig(0.4) + 0.325 * sig(0.35)], what='detach dV')


@test
def neuron_soft_reset_by_hand():
    # forward: u = 0.5 (no spike, m = 0.5), u = 1.15 (spike, m = 0.35), u = 0.175 + 1.2 = 1.375
    # (z 0.575, spike, tri 0.425).  backward: t = 3 dH = 1, du = 0.425, dV -= 0.425 w(0.575);
    # dm_2 = 0.2125; t = 2 dH = -0.5 - 0.8 * 0.2125 = -0.67, du = 0.2125 - 0.67 * 0.65 = -0.223,
    # dV += 0.4355 w(0.35) - 1 * 0.2125 (V's direct term); dm_1 = -0.1115;
    # t = 1 dH = 0.3 + 0.8 * 0.1115 = 0.3892, du = -0.1115 + 0.3892 * 0.7 = 0.16094
    s, gx, gv = one_neuron('sgp', reset='soft')
    close(s, [0, 1, 1], what='soft spikes')
    close(gx, [0.16094, -0.223, 0.425], what='soft dx')
    close(gv, [-0.425 * sig(0.575) + 0.4355 * sig(0.35) - 0.2125], what='soft dV')
    # detach keeps V's direct term: t = 2 dH = -0.5, du = 0.2125 - 0.325 = -0.1125,
    # dV = -0.425 w(0.575) + 0.325 w(0.35) - 0.2125
    s, gx, gv = one_neuron('sgp', reset='soft', detach_reset=True)
    close(gv, [-0.425 * sig(0.575) + 0.325 * sig(0.35) - 0.2125], what='soft detach dV')
    close(gx, [-0.05625 + 0.3 * 0.7, -0.1125, 0.425], what='soft detach dx')


@test
def neuron_dsr_by_hand():
    # alpha 0.5: fires at u >= 0.4 with s = V = 0.8.  u = 0.5, 0.9, 1.2 (each resets to 0);
    # z = 0.1, 0.5, 0.8; tri = 0.9, 0.5, 0.2.  dH = G V - u dm, du = dH tri (H = 1),
    # dV += dH (-alpha tri) + G H:
    # t = 3: dH = 0.8, du = 0.16, dV = -0.08 + 1.0; dm_2 = 0.08
    # t = 2: dH = -0.4 - 0.072 = -0.472, du = -0.236, dV += 0.118 - 0.5; dm_1 = -0.118
    # t = 1: dH = 0.24 + 0.059 = 0.299, du = 0.2691, dV += -0.13455 + 0.3
    s, gx, gv = one_neuron('dsr', alpha=0.5)
    close(s, [0.8, 0.8, 0.8], what='dsr spikes')
    close(gx, [0.2691, -0.236, 0.16], what='dsr dx')
    close(gv, [0.92 - 0.382 + 0.16545], what='dsr dV')


@test
def fused_equals_stepwise_every_option():
    torch.manual_seed(3)
    x0 = torch.randn(5, 40, dtype=torch.float64) * 0.9 + 0.6
    gs = torch.randn(5, 40, dtype=torch.float64)
    n = 0
    for mode in R.MODES:
        for win in R.WINDOWS:
            for reset in ('hard', 'soft'):
                for detach in (False, True):
                    for lam, g in ((0.5, 1.0), (0.8, 0.6)):
                        opt = NeuronOptions(mode=mode, window=win, reset=reset, detach_reset=detach, lam=lam, g=g,
                                            alpha=0.4)
                        out = []
                        for fn in (lif_fused, lif_stepwise):
                            x = x0.clone().requires_grad_(True)
                            v = torch.tensor([0.9], dtype=torch.float64, requires_grad=mode != 'fixed')
                            s = fn(x, v, opt)
                            s.backward(gs)
                            out.append((s.detach(), x.grad, v.grad))
                        (s1, x1, v1), (s2, x2, v2) = out
                        tag = f'{mode}/{win}/{reset}/detach={detach}/lam={lam}'
                        close(s1, s2, what=tag + ' spikes')
                        close(x1, x2, 1e-12, tag + ' dx')
                        if mode == 'fixed':
                            assert v1 is None and v2 is None, tag
                        else:
                            close(v1, v2, 1e-12, tag + ' dV')
                        n += 1
    assert n == len(R.MODES) * len(R.WINDOWS) * 8


# ---------------------------------------------------------------- BN, tdBN, conv, residual sum

@test
def bn_matches_the_formula():
    torch.manual_seed(4)
    for td, scale in ((False, 1.0), (True, 0.7 * R.TD_ALPHA_SUM)):
        bn = R.BN(3, td, R.TD_ALPHA_SUM if td else 1.0).double()
        with torch.no_grad():
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
        v = torch.tensor([0.7], dtype=torch.float64, requires_grad=True)
        x = torch.randn(6, 3, 4, 5, dtype=torch.float64, requires_grad=True)
        y = bn(x, v)
        y2, rm, rv = R.bn_explicit(x, bn.weight, bn.bias, torch.zeros(3, dtype=torch.float64),
                                   torch.ones(3, dtype=torch.float64), True, scale)
        close(y, y2, 1e-12, 'BN train output')
        close(bn.running_mean, rm, 1e-14, 'running mean')
        close(bn.running_var, rv, 1e-14, 'running var (unbiased)')
        r = torch.randn_like(y)
        ga = torch.autograd.grad((y * r).sum(), (x, bn.weight, bn.bias))
        gb = torch.autograd.grad((y2 * r).sum(), (x, bn.weight, bn.bias))
        for a, b, nm in zip(ga, gb, ('dx', 'dgamma', 'dbeta')):
            close(a, b, 1e-11, 'BN ' + nm)
        bn.eval()
        close(bn(x, v), R.bn_explicit(x, bn.weight, bn.bias, bn.running_mean, bn.running_var, False, scale)[0],
              1e-12, 'BN eval output')
        bn.train()
        (bn(x, v) * r).sum().backward()
        assert v.grad is None, 'tdBN gave the threshold a gradient (V is a constant to BN)'


def call(module, params, *args):
    """module(*args) with some parameters replaced by the given tensors (so gradcheck can
    vary them); BN running buffers are cloned so that the calls do not touch them."""
    d = {k: v.clone() for k, v in module.named_buffers()}
    d.update(params)
    return functional_call(module, d, args)


@test
def gradcheck_bn_tdbn_conv():
    torch.manual_seed(5)
    for td in (False, True):
        bn = R.BN(3, td, R.TD_ALPHA_SUM).double()
        v = torch.tensor([1.3], dtype=torch.float64)
        x = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
        g = torch.rand(3, dtype=torch.float64, requires_grad=True)
        b = torch.randn(3, dtype=torch.float64, requires_grad=True)
        for training in (True, False):
            bn.train(training)
            assert torch.autograd.gradcheck(lambda x, g, b: call(bn, {'weight': g, 'bias': b}, x, v), (x, g, b)), \
                f'BN td={td} training={training}'
    for (cin, cout, k, st, pad, grp) in ((3, 4, 3, 1, 1, 1), (4, 6, 3, 2, 1, 2), (5, 5, 3, 1, 1, 5), (3, 4, 1, 2, 0, 1)):
        conv = R.Conv(cin, cout, k, st, pad, grp, 32).double()
        x = torch.randn(2, cin, 7, 6, dtype=torch.float64, requires_grad=True)
        w = conv.weight.detach().clone().requires_grad_(True)
        assert torch.autograd.gradcheck(lambda x, w: call(conv, {'weight': w}, x), (x, w)), \
            f'conv {cin}->{cout} k{k} s{st} g{grp}'


class _ResSum(torch.nn.Module):
    """The part of Rk between the first LIF and the block's LIF: bn2(conv2(a)) + shortcut(h)."""

    def __init__(self, blk):
        super().__init__()
        self.blk = blk

    def forward(self, h, a):
        b = self.blk.bn2(self.blk.conv2(a), self.blk.lif.vth)
        return b + (h if self.blk.short is None else self.blk.short(h, self.blk.lif.vth))


@test
def gradcheck_residual_sum():
    torch.manual_seed(6)
    for cin, stride, bn in ((4, 1, 'standard'), (3, 1, 'td'), (4, 2, 'td'), (4, 2, 'standard')):
        net = R.LTSNN(f'{cin}C3-R4' + ('s2' if stride == 2 else '') + '-GAP-FC2', T=1, input=(1, 5, 5), bn=bn)
        f = _ResSum(net.blocks['1']).double()
        with torch.no_grad():
            f.blk.lif.vth.fill_(1.4)
        assert (f.blk.short is None) == (cin == 4 and stride == 1)
        ho = 3 if stride == 2 else 5
        h = torch.randn(3, cin, 5, 5, dtype=torch.float64, requires_grad=True)
        a = torch.randn(3, 4, ho, ho, dtype=torch.float64, requires_grad=True)
        params = ['blk.conv2.weight', 'blk.bn2.weight'] + (['blk.short.conv.weight'] if f.blk.short else [])
        ps = [dict(f.named_parameters())[k].detach().clone().requires_grad_(True) for k in params]
        assert torch.autograd.gradcheck(lambda h, a, *p: call(f, dict(zip(params, p)), h, a), (h, a, *ps),
                                        fast_mode=True), \
            f'residual sum cin={cin} stride={stride} bn={bn}'


@test
def tdbn_scales_by_the_fed_threshold():
    torch.manual_seed(7)
    net = R.LTSNN('3C3-R4s2-GAP-FC2', T=2, input=(2, 6, 6), bn='td')
    blk = net.blocks['1']
    assert blk.bn1.td_alpha == 1.0 and net.blocks['0'].bn.td_alpha == 1.0
    assert blk.bn2.td_alpha == R.TD_ALPHA_SUM and blk.short.bn.td_alpha == R.TD_ALPHA_SUM
    with torch.no_grad():
        blk.lif1.vth.fill_(0.6)
        blk.lif.vth.fill_(1.7)
    x = torch.randn(4, 4, 3, 3)
    y = blk.bn2(x, blk.lif.vth)
    y2 = R.bn_explicit(x, blk.bn2.weight, blk.bn2.bias, torch.zeros(4), torch.ones(4), True,
                       1.7 / math.sqrt(2))[0]
    close(y, y2, 1e-5, 'bn2 = gamma alpha V xhat + beta')


# ---------------------------------------------------------------- SAWB

@test
def sawb_by_hand():
    # w = (1, -1, 1, -1): mean|w| = 1, std = sqrt(4/3); 4 bits: alpha = 1.1547005/0.077 - 1.013/0.077
    # = 1.8402667, scale = 7 / alpha = 3.8038 -> q = +-4; 8 bits: alpha = 1.5074273, q = +-84
    w = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    for bits, alpha, n, q in ((4, 1.8402667321980708, 7, 4), (8, 1.507427347379675, 127, 84)):
        assert abs(R.sawb_alpha(w, bits) - alpha) < 1e-12, (bits, R.sawb_alpha(w, bits))
        scale = float(np.float32(n / alpha))
        close(R.sawb_quantize(w, bits), torch.tensor([q, -q, q, -q], dtype=torch.float64) / scale, 1e-15,
              f'{bits}-bit w_q')
    # small spread: std 0.3669 < 1.013 * mean|w| = 0.7154, so alpha <= 0 and alpha = max|w| = 0.875;
    # scale = 7 / 0.875 = 8 exactly; 0.3125 * 8 = 2.5 -> 2, 0.4375 * 8 = 3.5 -> 4, -1.5 -> -2 (half to even)
    w = torch.tensor([0.875] * 7 + [0.3125, 0.4375, -0.1875], dtype=torch.float64, requires_grad=True)
    assert R.sawb_alpha(w, 4) == 0.875
    wq = R.sawb_quantize(w, 4)
    close(wq, [0.875] * 7 + [0.25, 0.5, -0.25], 0, 'round half to even')
    # straight through where |w| <= alpha, zero beyond: Gaussian weights clip beyond about 2.5 sigma
    w = torch.randn(400, dtype=torch.float64, generator=torch.Generator().manual_seed(1)).requires_grad_(True)
    alpha = R.sawb_alpha(w, 4)
    keep = (w.detach().abs() <= alpha).double()
    assert 0 < int((1 - keep).sum()) < 40, alpha
    up = torch.rand(400, dtype=torch.float64)
    R.sawb_quantize(w, 4).backward(up)
    close(w.grad, up * keep, 0, 'masked straight-through gradient')
    # all zeros (alpha = max |w| = 0): zeros, and the gradient passes
    z = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    R.sawb_quantize(z, 4).backward(torch.ones(5, dtype=torch.float64))
    close(z.grad, torch.ones(5), 0, 'all-zero weights')
    # float32 input: the quantised weights are exactly q / scale in float32
    w32 = torch.randn(6, 3, 3, 3)
    a = R.sawb_alpha(w32, 4)
    s = R.sawb_scale(a, 4)
    q = R.sawb_quantize(w32, 4)
    assert q.dtype == torch.float32 and set((q * s).round().unique().abs().tolist()) <= set(range(8))


@test
def sawb_on_every_conv():
    net = R.LTSNN('4C3-6DW-R6-R8s2-GAP-FC3', T=2, input=(2, 7, 7), wbits=4)
    convs = [m for m in net.modules() if isinstance(m, R.Conv)]
    assert len(convs) == 1 + 2 + 2 + 3 and all(c.wbits == 4 for c in convs)
    x = (torch.rand(2, 2, 2, 7, 7) < 0.4).float()
    seen = []
    hooks = [c.register_forward_hook(lambda m, i, o: seen.append(m)) for c in convs]
    O = net(x)
    for h in hooks:
        h.remove()
    assert len(seen) == len(convs)
    for c in convs:
        s = R.sawb_scale(R.sawb_alpha(c.weight, 4), 4)
        q = R.sawb_quantize(c.weight, 4) * s
        assert float((q - q.round()).abs().max()) < 1e-4, 'a conv weight is not on the 4-bit grid'
    R.class_loss(O, torch.tensor([0, 2]), net.omega()).backward()
    assert all(c.weight.grad is not None for c in convs)
    assert net.blocks['5'].fc.weight.grad is not None


# ---------------------------------------------------------------- losses

@test
def class_loss_by_hand():
    # T = 2, B = 1, K = 2; O_1 = (1, 0), O_2 = (0, 2), y = 0, Omega = 0.5, beta = 0.45
    O = torch.tensor([[[1.0, 0.0], [0.0, 2.0]]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0])
    ce1 = math.log(1 + math.exp(-1))
    ce2 = math.log(1 + math.exp(2))
    mse = ((0.5 ** 2 + 0.5 ** 2) + (0.5 ** 2 + 1.5 ** 2)) / 4
    tet = R.class_loss(O, y, torch.tensor(0.5, dtype=torch.float64), 0.45, 'tet')
    close(tet, 0.45 * (ce1 + ce2) / 2 + 0.55 * mse, what='TET loss')
    mean = R.class_loss(O, y, torch.tensor(0.5, dtype=torch.float64), 0.45, 'mean')
    close(mean, 0.45 * math.log(1 + math.exp(0.5)) + 0.55 * mse, what='mean loss (CE of (0.5, 1))')
    # Omega is a constant to backward, both where the net makes it and inside the loss
    om = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    R.class_loss(O, y, om).backward()
    assert om.grad is None, 'Omega received a gradient'
    assert not R.LTSNN('3C3-FC4-FC2', T=1, input=(1, 4, 4)).omega().requires_grad
    for form in ('tet', 'mean'):
        Or = torch.randn(3, 4, 5, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(lambda o: R.class_loss(o, torch.tensor([1, 4, 0]),
                                                               torch.tensor(0.8, dtype=torch.float64), 0.3, form),
                                        (Or,)), form


def det_loss_loops(O, boxes, anchors, grid, C):
    """The detection loss written again, cell by cell in plain Python (mean form only)."""
    Sh, Sw = grid
    A = len(anchors)
    B, T, P = O.shape
    ob = O.mean(1)
    total = 0.0
    for b in range(B):
        gts = [bx[1:] for bx in boxes if int(bx[0]) == b]
        own = {}
        for k, cx, cy, w, h in gts:
            j = min(max(int(math.floor(cx * Sw)), 0), Sw - 1)
            i = min(max(int(math.floor(cy * Sh)), 0), Sh - 1)
            ious = []
            for aw, ah in anchors:
                inter = min(w * Sw, aw) * min(h * Sh, ah)
                ious.append(inter / (w * Sw * h * Sh + aw * ah - inter))
            own[(i, j, ious.index(max(ious)))] = (int(k), cx, cy, w, h)
        for i in range(Sh):
            for j in range(Sw):
                base = (i * Sw + j) * (5 * A + C)
                for a in range(A):
                    tx, ty, tw, th, to = (float(ob[b, base + 5 * a + f]) for f in range(5))
                    if (i, j, a) in own:
                        k, cx, cy, w, h = own[(i, j, a)]
                        aw, ah = anchors[a]
                        total += (2 - w * h) * ((sig(tx) - (cx * Sw - j)) ** 2 + (sig(ty) - (cy * Sh - i)) ** 2
                                                + (tw - math.log(w * Sw / aw)) ** 2 + (th - math.log(h * Sh / ah)) ** 2)
                        total += 5 * (sig(to) - 1) ** 2
                        logits = [float(ob[b, base + 5 * A + c]) for c in range(C)]
                        mx = max(logits)
                        total += -(logits[k] - mx - math.log(sum(math.exp(v - mx) for v in logits)))
                        continue
                    bx, by = (j + sig(tx)) / Sw, (i + sig(ty)) / Sh
                    bw, bh = anchors[a][0] * math.exp(tw) / Sw, anchors[a][1] * math.exp(th) / Sh
                    best = 0.0
                    for _, cx, cy, w, h in gts:
                        iw = max(0.0, min(bx + bw / 2, cx + w / 2) - max(bx - bw / 2, cx - w / 2))
                        ih = max(0.0, min(by + bh / 2, cy + h / 2) - max(by - bh / 2, cy - h / 2))
                        best = max(best, iw * ih / (bw * bh + w * h - iw * ih))
                    if best <= 0.6:
                        total += sig(to) ** 2
    return total / B


@test
def det_loss_by_hand():
    # one cell, one anchor (1, 1), O = 0, box (k 1, centre 0.5, 0.5, size 0.5 x 0.5):
    # coord = (2 - 0.25) * 2 * ln(2)^2, obj = 5 * 0.25, class = ln 2
    O = torch.zeros(1, 2, 7, dtype=torch.float64)
    loss, parts = D.det_loss(O, [[0, 1, 0.5, 0.5, 0.5, 0.5]], [[1.0, 1.0]], (1, 1), 2)
    close(parts, [3.5 * math.log(2) ** 2, 1.25, 0.0, math.log(2)], what='parts')
    close(loss, 3.5 * math.log(2) ** 2 + 1.25 + math.log(2), what='loss')
    # two slots with the anchor (1, 1): a tie, slot 0 owns the box; slot 1 decodes to the whole
    # image, IoU 0.81 with the 0.9 x 0.9 box > 0.6, so it is ignored (no no-object term)
    O = torch.zeros(1, 1, 12, dtype=torch.float64)
    loss, parts = D.det_loss(O, [[0, 0, 0.5, 0.5, 0.9, 0.9]], [[1.0, 1.0], [1.0, 1.0]], (1, 1), 2)
    close(parts, [1.19 * 2 * math.log(0.9) ** 2, 1.25, 0.0, math.log(2)], what='ignored slot')
    # the same with a 0.7 x 0.7 box: IoU 0.49, slot 1 pays 0.25
    loss, parts = D.det_loss(O, [[0, 0, 0.5, 0.5, 0.7, 0.7]], [[1.0, 1.0], [1.0, 1.0]], (1, 1), 2)
    close(parts, [1.51 * 2 * math.log(0.7) ** 2, 1.25, 0.25, math.log(2)], what='slot below the ignore IoU')
    # anchors (1, 2) and (2, 1) match a 1 x 1 (cells) box equally: the lower slot wins;
    # a later box on the same cell and slot replaces the earlier one
    # (the third box, 0.6 x 1.2 cells, prefers (1, 2) by 0.36 to 0.28 and replaces the first)
    own = D.owners(torch.tensor([[1, 0.5, 0.5, 0.5, 0.5], [0, 0.6, 0.4, 0.5, 0.5], [0, 0.7, 0.8, 0.3, 0.6]],
                                dtype=torch.float64), torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=torch.float64), (2, 2))
    assert own == {(1, 1, 0): (0, 0.7, 0.8, 0.3, 0.6), (0, 1, 0): (0, 0.6, 0.4, 0.5, 0.5)}, own
    # no boxes: every slot's sig(to)^2, summed over the image, divided by B
    O = torch.zeros(2, 1, 2 * 3 * (10 + 2), dtype=torch.float64)
    loss, _ = D.det_loss(O, np.zeros((0, 6)), [[1, 1], [2, 2]], (2, 3), 2)
    close(loss, 12 * 0.25 * 2 / 2, what='empty images')


@test
def det_loss_against_loops_and_gradcheck():
    rng = np.random.default_rng(11)
    grid, anchors, C = (2, 3), [(0.8, 1.2), (2.0, 0.9)], 2
    boxes = [(0, 0, 0.45, 0.3, 0.6, 0.4), (0, 1, 0.5, 0.2, 0.55, 0.35), (0, 1, 0.2, 0.7, 0.25, 0.6),
             (1, 1, 1.0, 0.25, 0.3, 0.3), (1, 0, 0.52, 0.6, 0.5, 0.3)]
    n = 0
    for trial in range(20):
        O = torch.tensor(rng.normal(0, 1.2, (3, 2, 72)))
        ob = O.mean(1)
        slots = ob.reshape(3, 2, 3, 12)[..., :10].reshape(3, 2, 3, 2, 5)
        dec = D.decode_boxes(slots, torch.tensor(anchors, dtype=torch.float64), grid)
        near = [float((D.iou_cxcywh(dec[b], torch.tensor([bx[2:] for bx in boxes if bx[0] == b],
                                                         dtype=torch.float64)) - 0.6).abs().min())
                for b in (0, 1)]
        if min(near) < 1e-3:
            continue
        loss, _ = D.det_loss(O, boxes, anchors, grid, C, 'mean')
        close(loss, det_loss_loops(O, boxes, anchors, grid, C), 1e-12, f'trial {trial}')
        n += 1
        if n <= 3:
            for form in ('mean', 'tet'):
                x = O.clone().requires_grad_(True)
                assert torch.autograd.gradcheck(lambda o: D.det_loss(o, boxes, anchors, grid, C, form)[0], (x,),
                                                fast_mode=True), form
    assert n >= 10, n


@test
def det_decode_and_nms():
    # one cell, two slots decoding to the same box: NMS keeps the higher score
    ob = torch.zeros(1, 1 * 1 * (10 + 2), dtype=torch.float64)
    ob[0, 4], ob[0, 9] = 2.0, 1.0          # to of slot 0 and 1
    ob[0, 10] = 3.0                        # class 0 logit
    box, score = D.det_decode(ob, [[1.0, 1.0], [1.0, 1.0]], (1, 1), 2)
    close(box[0, 0], [0.5, 0.5, 1.0, 1.0], what='decoded box')
    p0 = math.exp(3) / (math.exp(3) + 1)
    close(score[0, 0], [sig(2) * p0, sig(2) * (1 - p0)], what='scores')
    dets = D.det_postprocess(box, score)[0]
    assert [d[5] for d in dets] == [0, 1], dets
    close(dets[0][:5], [0, 0, 1, 1, sig(2) * p0], what='kept detection')


# ---------------------------------------------------------------- model, names, checkpoints

@test
def model_strings_names_and_counts():
    net = R.LTSNN('4C3-R4-R8s2-GAP-FC5', T=1, input=(2, 9, 9))
    want = ['blocks.0.conv.weight', 'blocks.0.bn.weight', 'blocks.0.bn.bias', 'blocks.0.bn.running_mean',
            'blocks.0.bn.running_var', 'blocks.0.lif.vth']
    for i, short in ((1, False), (2, True)):
        p = f'blocks.{i}.'
        want += [p + 'conv1.weight'] + [p + 'bn1.' + s for s in ('weight', 'bias', 'running_mean', 'running_var')]
        want += [p + 'lif1.vth', p + 'conv2.weight']
        want += [p + 'bn2.' + s for s in ('weight', 'bias', 'running_mean', 'running_var')]
        if short:
            want += [p + 'short.conv.weight'] + [p + 'short.bn.' + s for s in ('weight', 'bias', 'running_mean',
                                                                               'running_var')]
        want += [p + 'lif.vth']
    want += ['blocks.4.fc.weight', 'blocks.4.fc.bias']
    names = [k for k in net.state_dict() if not k.endswith('.num_batches_tracked')]
    assert names == want, names
    assert [s for _, s, _ in net.layer_info] == [(4, 9, 9), (4, 9, 9), (8, 5, 5), (8, 1, 1), (5, 1, 1)]
    assert len(net.lifs()) == 5 and net.classes == 5
    # VGG-9 at 2x48x48: 7,069,588 parameters, 513,299,456 MACs per step (METHOD.md section 3's rule)
    vgg9 = R.LTSNN('vgg9', T=1)
    assert vgg9.num_params() == 7069588 and vgg9.macs_per_frame == 513299456
    r19 = R.LTSNN('resnet19', T=1)
    assert r19.bn == 'td' and r19.input == (3, 32, 32) and r19.model == R.PRESETS['resnet19']
    assert len(r19.lifs()) == 1 + 2 * 8 + 1
    assert R.LTSNN('vgg7', T=1, classes=7).model.endswith('FC256-FC7')
    for bad, what in (('4C3-R0-FC2', 'R0'), ('GAP-FC2', 'GAP before'), ('4C3-GAP-R4s2-FC2', 'stride 2 on a 1x1'),
                      ('4C3-X7-FC2', 'unknown'), ('4C3-FC4-4C3-FC2', 'only FC'), ('4C3-AP2', 'last token'),
                      ('4C3-AP2-AP2-AP2-AP2-FC2', 'pooling')):
        try:
            R.LTSNN(bad, T=1, input=(2, 9, 9))
        except ValueError as e:
            assert what in str(e), (bad, str(e))
        else:
            raise AssertionError(f'{bad} was accepted')


@test
def checkpoints_round_trip_and_strict():
    torch.manual_seed(8)
    net = R.LTSNN('4C3-6DW-R6s2-GAP-FC3', T=2, input=(2, 6, 6), bn='td', wbits=8, mode='stsg', reset='soft')
    with torch.no_grad():
        for i, lif in enumerate(net.lifs()):
            lif.vth.fill_(0.9 + 0.1 * i)
    x = (torch.rand(2, 2, 2, 6, 6) < 0.5).float()
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, 'w.safetensors')
        net.save_ltsnn(p, {'bn': 'td', 'wbits': 8, 'mode': 'stsg', 'reset': 'soft'})
        t, meta = st_io.read(p)
        assert meta['model'] == net.model and meta['input'] == '2x6x6' and meta['T'] == '2' and meta['bn'] == 'td'
        assert all(a.dtype == np.float32 for a in t.values()) and t['blocks.0.lif.vth'].shape == (1,)
        net2 = R.from_ltsnn(p)
        assert (net2.bn, net2.wbits, net2.opt.mode, net2.opt.reset) == ('td', 8, 'stsg', 'soft')
        net.eval()
        net2.eval()
        close(net(x), net2(x), 0, 'outputs after a round trip')
        # a threshold stored as a scalar is accepted
        t['blocks.0.lif.vth'] = t['blocks.0.lif.vth'].reshape(())
        st_io.write(p, t, meta)
        R.from_ltsnn(p)
        for change, msg in ((lambda t: t.pop('blocks.2.short.bn.running_var'), 'missing blocks.2.short.bn.running_var'),
                            (lambda t: t.update({'blocks.9.fc.weight': np.zeros(1, np.float32)}),
                             'not in the model blocks.9.fc.weight'),
                            (lambda t: t.update({'blocks.2.conv2.weight': np.zeros((6, 6, 1, 1), np.float32)}),
                             'blocks.2.conv2.weight has shape')):
            t2 = dict(t)
            change(t2)
            st_io.write(p, t2, meta)
            try:
                R.from_ltsnn(p)
            except ValueError as e:
                assert msg in str(e), str(e)
            else:
                raise AssertionError('loaded a checkpoint that does not fit: ' + msg)
        t2 = dict(t)
        t2['optim.m.blocks.0.conv.weight'] = np.zeros(8, np.float32)
        st_io.write(p, t2, meta)
        R.from_ltsnn(p)


@test
def safetensors_reader_refuses_bad_files():
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, 'a.safetensors')
        a = {'x': np.arange(6, dtype=np.float32).reshape(2, 3), 'y': np.array([-1, 2 ** 40], np.int64),
             'e': np.zeros((0, 4), np.float32), 'h': np.array([1, -2, 0.5], np.float16), 'u': np.array([7], np.uint8)}
        st_io.write(p, a, {'k': 'v "q" \u00e9'})
        b, meta = st_io.read(p)
        assert meta == {'k': 'v "q" \u00e9'} and list(b) == list(a)
        assert all(np.array_equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a)
        raw = open(p, 'rb').read()
        assert int.from_bytes(raw[:8], 'little') % 8 == 0
        for bad, msg in ((raw[:5], 'shorter than'), (raw[:-3], 'leaves'), (b'\xff' * 8 + raw[8:], 'does not fit'),
                         (raw[:8] + b'x' + raw[9:], 'not valid JSON')):
            open(p, 'wb').write(bad)
            try:
                st_io.read(p)
            except ValueError as e:
                assert msg in str(e) and p in str(e), str(e)
            else:
                raise AssertionError('read a bad file: ' + msg)
        assert not [f for f in os.listdir(d) if '.tmp.' in f]


@test
def gradcheck_through_a_residual_tdbn_net():
    """Through a whole residual net with tdBN, w.r.t. the parameters downstream of every
    LIF (the hidden and last FC), where the loss is smooth."""
    torch.manual_seed(9)
    net = R.LTSNN('4C3-R4-R6s2-GAP-FC8-FC3', T=2, input=(2, 5, 5), bn='td').double()
    x = (torch.rand(2, 2, 2, 5, 5) < 0.4).double()
    y = torch.tensor([0, 2])
    names = ['blocks.5.fc.weight', 'blocks.5.fc.bias']
    ps = [dict(net.named_parameters())[k].detach().clone().requires_grad_(True) for k in names]
    omega = net.omega()
    assert torch.autograd.gradcheck(
        lambda *p: R.class_loss(call(net, dict(zip(names, p)), x), y, omega, 0.45, 'tet'), tuple(ps))


# ---------------------------------------------------------------- Adam

@test
def adam_matches_the_formula_and_torch():
    torch.manual_seed(10)
    net = R.LTSNN('3C3-FC4-FC2', T=2, input=(1, 4, 4)).double()
    ref = R.LTSNN('3C3-FC4-FC2', T=2, input=(1, 4, 4)).double()
    ref.load_state_dict(net.state_dict())
    p0 = {k: v.detach().clone() for k, v in net.named_parameters()}
    ours, theirs = R.Adam(net), torch.optim.Adam(ref.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    x = torch.rand(3, 2, 1, 4, 4, dtype=torch.float64) * 2
    y = torch.tensor([0, 1, 1])
    for step in range(4):
        R.train_step(net, ours, x, y)
        R.train_step(ref, theirs, x, y)
        if step == 0:
            # first step: m/c1 = g and v/c2 = g^2, so every parameter moves by lr * g / (|g| + eps)
            for k, p in net.named_parameters():
                close(p0[k] - p.detach(), 1e-3 * p.grad / (p.grad.abs() + 1e-8), 1e-12, 'first Adam step ' + k)
    for (k, a), b in zip(net.named_parameters(), ref.parameters()):
        close(a, b, 1e-12, 'Adam ' + k)
    lr_net = R.LTSNN('3C3-FC2', T=1, input=(1, 3, 3))
    opt = R.Adam(lr_net, lr=1e-3, lr_vth=0.5)
    assert sorted(lr for _, lr in opt.params) == [1e-3] * 5 + [0.5]   # conv, bn (2), fc (2); vth


# ---------------------------------------------------------------- the ../shared reference

def shared_ref():
    path = os.path.join(SHARED, 'ltsnn_ref.py')
    if not os.path.exists(path):
        raise Skip(f'{os.path.normpath(path)} not present')
    sys.path.insert(0, SHARED)
    import ltsnn_ref
    return ltsnn_ref


@test
def equals_shared_reference_when_present():
    S = shared_ref()
    torch.manual_seed(12)
    arch, T, B, C, HW = '4C3-6DW-AP2-8C3-MP2-FC12-FC5', 3, 2, 2, 8
    x = (torch.rand(B, T, C, HW, HW) < 0.35).float()
    y = torch.randint(0, 5, (B,))
    n = 0
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, 'w.safetensors')
        for mode in ('fixed', 'stsg', 'sgp', 'penalty_all', 'sgp_stsg'):
            for win in R.WINDOWS:
                for detach in (False, True):
                    theirs = S.LTSNN(arch, T=T, in_ch=C, in_hw=(HW, HW), mode=mode, window=win, detach_reset=detach)
                    with torch.no_grad():
                        for i, lif in enumerate(theirs.lifs()):
                            lif.vth.fill_(0.7 + 0.12 * i)
                    S.save_ltsnn(theirs, p, 5, (C, HW, HW))
                    ours = R.LTSNN(arch, T=T, input=(C, HW, HW), mode=mode, window=win, detach_reset=detach)
                    ours.load_ltsnn(p)
                    theirs.double().train()
                    O = theirs(x.double())
                    S.ltsnn_loss(O, y, theirs.thresholds(), 0.45)[0].backward()
                    names = S.ltsnn_names(arch)
                    want = {'O': O.detach().numpy()}
                    for k, prm in theirs.named_parameters():
                        if prm.grad is not None:
                            want[S._ltsnn_key(names, k) + '.grad'] = prm.grad.numpy().reshape(-1)
                    got = G.grad_tensors(ours.double(), x, y, 0.45)
                    assert {k for k in got if k.endswith('.grad')} == {k for k in want if k.endswith('.grad')}, \
                        (mode, win, detach)
                    for k, v in want.items():
                        close(got[k].reshape(v.shape), v, 1e-10, f'{mode}/{win}/detach={detach} {k}')
                    n += 1
    assert n == 5 * 4 * 2


def main():
    torch.set_num_threads(1)
    passed, failed, skipped = 0, 0, 0
    for fn in TESTS:
        try:
            fn()
        except Skip as e:
            skipped += 1
            print(f'skipped {fn.__name__}: {e}')
        except Exception:
            failed += 1
            print(f'FAIL {fn.__name__}')
            traceback.print_exc()
        else:
            passed += 1
            print(f'ok   {fn.__name__}')
    print(f'test_ref: {passed} passed, {failed} failed, {skipped} skipped')
    sys.exit(1 if failed or not passed else 0)


if __name__ == '__main__':
    main()
