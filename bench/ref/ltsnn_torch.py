"""ltsnn_torch.py -- ltsnn's own PyTorch reference of the LT-SNN method.

Written from METHOD.md (docs/method.md is ltsnn's account of it), not from
ltsnn's C code, so that golden tensors and benchmarks compare two independent
implementations.  It is what tests/data/gen_*_golden.py compute goldens with and
what bench/bench_torch_same.py times.  Run with Debian's /usr/bin/python3
(python3-torch, python3-numpy).

    net = LTSNN('4C3-R4-R8s2-GAP-FC5', T=3, input=(2, 9, 9), mode='sgp', bn='td', wbits=4)
    O = net(x)                                  # x [B, T, C, H, W] -> O [B, T, K]
    loss = class_loss(O, y, net.omega())        # METHOD.md section 4
    net.save_ltsnn('w.safetensors'); net2 = from_ltsnn('w.safetensors')

What is here, by METHOD.md section:
  1-2  the LIF neuron and every threshold mode and window (neuron.py);
  3    the model string (kCn, kDW, AP2, MP2, FCn, Rk, Rks2, GAP) and the presets,
       BN with PyTorch's BatchNorm2d semantics on the [T*B, C, H, W] view,
       PyTorch's default initialisation, MACs;
  4    the classification loss, TET and mean forms, Omega detached;
  5    Adam;
  7    SAWB fake quantisation of every convolution (wbits 4 or 8);
  8    tdBN;
  9    the detection head's loss and decode (det.py).
The state_dict names ARE ltsnn's checkpoint names (docs/checkpoints.md), so
save_ltsnn / load_ltsnn move weights both ways with strict name checks.
Everything runs in float32 or, after net.double(), float64.
"""
import math
import re

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import st_io
from .neuron import LIF, MODES, WINDOWS, NeuronOptions, lif_fused, lif_stepwise, partials  # noqa: F401
from .det import det_decode, det_loss, det_postprocess  # noqa: F401

__all__ = ['MODES', 'WINDOWS', 'LIF', 'NeuronOptions', 'lif_fused', 'lif_stepwise', 'partials', 'det_decode',
           'det_loss', 'det_postprocess', 'PRESETS', 'PRESET_INPUT', 'PRESET_BN', 'SAWB_Z', 'TD_ALPHA_SUM',
           'BN_EPS', 'BN_MOMENTUM', 'sawb_alpha', 'sawb_scale', 'sawb_quantize', 'sawb_margin', 'Conv', 'BN',
           'bn_explicit', 'ConvBlock', 'DWBlock', 'Shortcut', 'ResBlock', 'Pool', 'GAP', 'FCBlock', 'expand_model',
           'LTSNN', 'net_from_meta', 'from_ltsnn', 'class_loss', 'Adam', 'train_step']

PRESETS = {
    'vgg7': '32C3-32C3-AP2-64C3-64C3-AP2-128C3-128C3-AP2-256C3-256C3-AP2-FC256-FC10',
    'vgg9': '32C3-64C3-64C3-AP2-128C3-128C3-AP2-256C3-256C3-AP2-512C3-512C3-AP2-FC512-FC10',
    'mobilenet-light': '32C3-64DW-64DW-AP2-128DW-128DW-AP2-256DW-AP2-FC256-FC10',
    'vgg11': '64C3-128C3-AP2-256C3-256C3-AP2-512C3-512C3-AP2-512C3-512C3-AP2-FC10',
    'yolov2': ('32C3-MP2-64C3-MP2-128C3-64C1-128C3-MP2-256C3-128C1-256C3-MP2-512C3-256C1-512C3-256C1-'
               'MP2-1024C3-512C1-1024C3-AP2-FC512-FC576'),
    'resnet19': '128C3-R128-R128-R128-R256s2-R256-R256-R512s2-R512-GAP-FC256-FC10',
    # ltsnn's own presets (not in the paper): the demo data and Fashion-MNIST
    'small': '16C3-AP2-32C3-AP2-64C3-AP2-FC128-FC10',
    'fmnist': '32C3-32C3-AP2-64C3-64C3-AP2-FC256-FC10',
}
PRESETS['mobilenet_light'] = PRESETS['mobilenet-light']
PRESET_INPUT = {'resnet19': (3, 32, 32)}     # every other preset: the caller's input
PRESET_BN = {'resnet19': 'td'}

BN_EPS, BN_MOMENTUM = 1e-5, 0.1
TRACKED = '.num_batches_tracked'   # BatchNorm2d's counter: in PyTorch's state_dict, not in ltsnn's
SAWB_Z = {4: (0.077, 1.013), 8: (0.027, 1.114)}   # METHOD.md section 7, (z1, z2) per bit width
TD_ALPHA_SUM = 1 / math.sqrt(2)                    # METHOD.md section 8: bn2 and short.bn


# ---------------------------------------------------------------- SAWB (section 7)

def sawb_alpha(w, bits):
    """The clipping level alpha of a weight tensor, statistics in double."""
    z1, z2 = SAWB_Z[bits]
    wd = w.detach().double()
    m = float(wd.abs().mean())
    s = float(wd.std(unbiased=True)) if wd.numel() > 1 else 0.0
    a = s / z1 - (z2 / z1) * m
    if not a > 0:
        a = float(wd.abs().max())
    return a


def sawb_scale(alpha, bits):
    """n / alpha rounded to float32, as METHOD.md section 7 pins it."""
    return float(np.float32((2 ** (bits - 1) - 1) / alpha))


class _SAWB(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w, bits):
        n = 2 ** (bits - 1) - 1
        alpha = sawb_alpha(w, bits)
        if alpha == 0:                  # every weight is 0 (max |w| = 0): nothing to scale
            ctx.save_for_backward(torch.ones_like(w, dtype=torch.bool))
            return w.clone()
        scale = sawb_scale(alpha, bits)
        # torch.round rounds half to even, as METHOD.md asks
        q = torch.clamp(torch.round(torch.clamp(w, -alpha, alpha) * scale), -n, n)
        ctx.save_for_backward(w.abs() <= alpha)
        return q / scale

    @staticmethod
    def backward(ctx, g):
        (keep,) = ctx.saved_tensors
        return g * keep.to(g.dtype), None       # straight through where |w| <= alpha; alpha gets none


def sawb_quantize(w, bits):
    """w_q of METHOD.md section 7 (bits 4 or 8), straight-through backward masked to |w| <= alpha."""
    if bits not in SAWB_Z:
        raise ValueError(f'wbits {bits}: SAWB is pinned for 4 and 8 bits')
    return _SAWB.apply(w, bits)


def sawb_margin(w, bits):
    """How close any weight lies to a place where float rounding could change w_q:
    (smallest distance of w*scale to a rounding tie, in quantisation steps;
     smallest | |w| - alpha |, relative to alpha)."""
    alpha = sawb_alpha(w, bits)
    ws = w.detach().double().clamp(-alpha, alpha) * sawb_scale(alpha, bits)
    tie = float(((ws - ws.floor()) - 0.5).abs().min())
    edge = float((w.detach().double().abs() - alpha).abs().min()) / alpha
    return tie, edge


# ---------------------------------------------------------------- layers

def _init_fan_in(t, fan_in):
    """PyTorch's default init for Conv2d / Linear weights (kaiming_uniform_ with
    a = sqrt(5)), which is uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)] (METHOD.md
    section 3).  Called through torch so the random stream matches nn.Conv2d's."""
    assert fan_in == nn.init._calculate_fan_in_and_fan_out(t)[0]
    nn.init.kaiming_uniform_(t, a=math.sqrt(5))


class Conv(nn.Module):
    """Convolution without bias; SAWB fake-quantised at every forward when wbits is 4
    or 8.  k and pad are an int or an (h, w) pair."""

    def __init__(self, cin, cout, k, stride, pad, groups, wbits):
        super().__init__()
        kh, kw = (k, k) if isinstance(k, int) else k
        self.weight = nn.Parameter(torch.empty(cout, cin // groups, kh, kw))
        _init_fan_in(self.weight, cin // groups * kh * kw)
        self.stride, self.pad, self.groups, self.wbits = stride, pad, groups, wbits

    def forward(self, x):
        w = self.weight if self.wbits == 32 else sawb_quantize(self.weight, self.wbits)
        return F.conv2d(x, w, None, self.stride, self.pad, 1, self.groups)


class BN(nn.BatchNorm2d):
    """BatchNorm over [T*B, C, H, W] (METHOD.md section 3): batch statistics over
    T*B*H*W with the biased variance in training, running mean and unbiased
    variance kept with momentum 0.1, eps 1e-5.  In tdBN (section 8) the output is
    gamma * alpha * V * xhat + beta with V the fed LIF's threshold, a constant to
    backward.  The arithmetic is F.batch_norm's; test_ref.py checks it against
    the formula written out.  A BatchNorm2d, so a state_dict holds its
    num_batches_tracked as PyTorch's does (ltsnn export --torch writes it;
    ltsnn's own checkpoints do not hold it: save_ltsnn / load_ltsnn skip it)."""

    def __init__(self, c, td=False, td_alpha=1.0):
        super().__init__(c, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.td, self.td_alpha = td, td_alpha

    def forward(self, x, vth=None):
        w = self.weight
        if self.td:
            w = w * (self.td_alpha * vth.detach())
        if self.training:
            self.num_batches_tracked.add_(1)
        return F.batch_norm(x, self.running_mean, self.running_var, w, self.bias, self.training,
                            BN_MOMENTUM, BN_EPS)


def bn_explicit(x, gamma, beta, rm, rv, training, scale=1.0):
    """BN written out from METHOD.md sections 3 and 8 (the oracle for BN above):
    returns (y, new running mean, new running var)."""
    C = x.shape[1]
    xc = x.transpose(0, 1).reshape(C, -1)
    if training:
        n = xc.shape[1]
        mean = xc.mean(1)
        var = ((xc - mean[:, None]) ** 2).mean(1)
        rm = (1 - BN_MOMENTUM) * rm + BN_MOMENTUM * mean.detach()
        rv = (1 - BN_MOMENTUM) * rv + BN_MOMENTUM * var.detach() * n / (n - 1)
    else:
        mean, var = rm, rv
    shape = (1, C) + (1,) * (x.dim() - 2)
    xhat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + BN_EPS)
    return (gamma * scale).view(shape) * xhat + beta.view(shape), rm, rv


class ConvBlock(nn.Module):
    """kCn, and each half of kDW: conv, BN, LIF (names conv.weight, bn.*, lif.vth)."""

    def __init__(self, cin, cout, k, stride, groups, ctx):
        super().__init__()
        self.conv = Conv(cin, cout, k, stride, k // 2, groups, ctx.wbits)
        self.bn = BN(cout, ctx.td)
        self.lif = LIF(ctx.opt)

    def forward(self, h, T):
        return self.lif(self.bn(self.conv(h), self.lif.vth), T)


class DWBlock(nn.Module):
    """kDW: depthwise 3x3 + BN + LIF, then pointwise 1x1 to k + BN + LIF."""

    def __init__(self, cin, cout, ctx):
        super().__init__()
        self.dw = ConvBlock(cin, cin, 3, 1, cin, ctx)
        self.pw = ConvBlock(cin, cout, 1, 1, 1, ctx)

    def forward(self, h, T):
        return self.pw(self.dw(h, T), T)


class Shortcut(nn.Module):
    """The conv shortcut of a residual block: 1x1 conv (the block's stride) + BN."""

    def __init__(self, cin, cout, stride, ctx):
        super().__init__()
        self.conv = Conv(cin, cout, 1, stride, 0, 1, ctx.wbits)
        self.bn = BN(cout, ctx.td, TD_ALPHA_SUM)

    def forward(self, h, vth):
        return self.bn(self.conv(h), vth)


class ResBlock(nn.Module):
    """Rk / Rks2: conv1-bn1-lif1-conv2-bn2 plus the shortcut, summed into the block's lif."""

    def __init__(self, cin, cout, stride, ctx):
        super().__init__()
        self.conv1 = Conv(cin, cout, 3, stride, 1, 1, ctx.wbits)
        self.bn1 = BN(cout, ctx.td)
        self.lif1 = LIF(ctx.opt)
        self.conv2 = Conv(cout, cout, 3, 1, 1, 1, ctx.wbits)
        self.bn2 = BN(cout, ctx.td, TD_ALPHA_SUM)
        self.short = Shortcut(cin, cout, stride, ctx) if (cin != cout or stride != 1) else None
        self.lif = LIF(ctx.opt)

    def forward(self, h, T):
        a = self.lif1(self.bn1(self.conv1(h), self.lif1.vth), T)
        b = self.bn2(self.conv2(a), self.lif.vth)
        sc = h if self.short is None else self.short(h, self.lif.vth)
        return self.lif(b + sc, T)


class Pool(nn.Module):
    """AP2 / MP2 on the spikes, 2x2 stride 2, odd sizes floor."""

    def __init__(self, kind):
        super().__init__()
        self.kind = kind

    def forward(self, h, T):
        return F.avg_pool2d(h, 2) if self.kind == 'AP2' else F.max_pool2d(h, 2)


class GAP(nn.Module):
    """Global average pooling over H x W, on the spikes: C x 1 x 1."""

    def forward(self, h, T):
        return h.mean((2, 3), keepdim=True)


class FCBlock(nn.Module):
    """FCn: flatten (C, H, W order), linear with bias, then LIF unless it makes the logits."""

    def __init__(self, fin, fout, last, ctx):
        super().__init__()
        self.fc = nn.Linear(fin, fout)        # PyTorch's default init: weight, then bias
        self.lif = None if last else LIF(ctx.opt)

    def forward(self, h, T):
        o = self.fc(h.reshape(h.shape[0], -1))
        return o if self.lif is None else self.lif(o, T)


# ---------------------------------------------------------------- the model string

class _Ctx:
    def __init__(self, opt, td, wbits):
        self.opt, self.td, self.wbits = opt, td, wbits


def expand_model(model, classes=None):
    """The full model string of a preset or a string; `classes` replaces a
    preset's last FC (an explicit string must already end in that many outputs)."""
    if model in PRESETS:
        s = PRESETS[model]
        if classes is not None:
            s = re.sub(r'FC\d+$', f'FC{classes}', s)
        return s
    if classes is not None and not model.endswith(f'FC{classes}'):
        raise ValueError(f'model {model!r} does not end in FC{classes}')
    return model


def _bad(model, i, tok, why):
    return ValueError(f'model {model!r}: token {i + 1} ({tok!r}): {why}')


class LTSNN(nn.Module):
    """A spiking net built from a model string (METHOD.md section 3).

    model:  preset name or dash-separated tokens;  T: time steps;
    input:  (C, H, W);  classes: replaces a preset's last FC;
    bn:     'standard' or 'td';  wbits: 32 (full precision), 4 or 8;
    neuron options (mode, window, lam, g, alpha, reset, detach_reset) as keywords.
    x [B, T, C, H, W] -> O [B, T, K]; inside, activations are [T*B, ...], t slowest."""

    def __init__(self, model, T, input=None, classes=None, bn=None, wbits=32, **neuron):
        super().__init__()
        if input is None:
            input = PRESET_INPUT.get(model, (2, 48, 48))
        if bn is None:
            bn = PRESET_BN.get(model, 'standard')
        if bn not in ('standard', 'td'):
            raise ValueError(f'bn {bn!r}: expected standard or td')
        if wbits not in (32, 4, 8):
            raise ValueError(f'wbits {wbits}: expected 4, 8 or 32')
        self.model = expand_model(model, classes)
        self.T, self.input, self.bn, self.wbits = int(T), tuple(input), bn, int(wbits)
        self.opt = NeuronOptions(**neuron).check()
        ctx = _Ctx(self.opt, bn == 'td', self.wbits)
        self.blocks = nn.ModuleDict()
        self.layer_info = []                  # (token, output shape, MACs per sample per step)
        self.macs_per_frame = 0
        C, H, W = self.input
        toks = self.model.split('-')
        flat, seen_conv = False, False
        for i, tok in enumerate(toks):
            last = i == len(toks) - 1
            macs = 0
            if flat and not tok.startswith('FC'):
                raise _bad(self.model, i, tok, 'only FC may follow an FC')
            if m := re.fullmatch(r'(\d+)C(\d+)', tok):
                k, n = int(m.group(1)), int(m.group(2))
                if k < 1 or n < 1:
                    raise _bad(self.model, i, tok, 'filters and kernel size must be >= 1')
                blk = ConvBlock(C, k, n, 1, 1, ctx)
                H, W = H + 2 * (n // 2) - n + 1, W + 2 * (n // 2) - n + 1
                macs = k * C * n * n * H * W
                C, seen_conv = k, True
            elif m := re.fullmatch(r'(\d+)DW', tok):
                k = int(m.group(1))
                if k < 1:
                    raise _bad(self.model, i, tok, 'channels must be >= 1')
                blk = DWBlock(C, k, ctx)
                macs = C * 9 * H * W + k * C * H * W
                C, seen_conv = k, True
            elif m := re.fullmatch(r'R(\d+)(s2)?', tok):
                k, stride = int(m.group(1)), 2 if m.group(2) else 1
                if k < 1:
                    raise _bad(self.model, i, tok, 'channels must be >= 1')
                if stride == 2 and H == 1 and W == 1:
                    raise _bad(self.model, i, tok, 'stride 2 on a 1x1 map')
                blk = ResBlock(C, k, stride, ctx)
                Ho, Wo = (H + 1) // 2 if stride == 2 else H, (W + 1) // 2 if stride == 2 else W
                macs = k * C * 9 * Ho * Wo + k * k * 9 * Ho * Wo
                if blk.short is not None:
                    macs += k * C * Ho * Wo
                C, H, W, seen_conv = k, Ho, Wo, True
            elif tok in ('AP2', 'MP2'):
                if H < 2 or W < 2:
                    raise _bad(self.model, i, tok, f'2x2 pooling on a {H}x{W} map')
                blk = Pool(tok)
                H, W = H // 2, W // 2
            elif tok == 'GAP':
                if not seen_conv:
                    raise _bad(self.model, i, tok, 'GAP before any convolution')
                blk = GAP()
                H, W = 1, 1
            elif m := re.fullmatch(r'FC(\d+)', tok):
                n = int(m.group(1))
                if n < 1:
                    raise _bad(self.model, i, tok, 'outputs must be >= 1')
                fin = C * H * W
                blk = FCBlock(fin, n, last, ctx)
                macs = fin * n
                C, H, W, flat = n, 1, 1, True
            else:
                raise _bad(self.model, i, tok, 'unknown token (kCn, kDW, AP2, MP2, FCn, Rk, Rks2, GAP)')
            self.blocks[str(i)] = blk
            self.layer_info.append((tok, (C, H, W), macs))
            self.macs_per_frame += macs
        if not flat or not toks[-1].startswith('FC'):
            raise ValueError(f'model {self.model!r}: the last token must be an FC (the logits)')
        self.classes = C

    # -- neuron and structure

    def lifs(self):
        """Every LIF in execution order (a residual block: lif1, then lif)."""
        return [m for m in self.modules() if isinstance(m, LIF)]

    def bns(self):
        return [m for m in self.modules() if isinstance(m, BN)]

    def set_neuron(self, **kw):
        """Change neuron options on every LIF (the weights stay)."""
        d = dict(self.opt.__dict__)
        d.update(kw)
        self.opt = NeuronOptions(**d).check()
        for lif in self.lifs():
            lif.set_options(self.opt)
        return self

    def omega(self):
        """METHOD.md section 4: mean threshold over every LIF, detached."""
        return torch.cat([lif.vth.detach().reshape(1) for lif in self.lifs()]).mean()

    def num_params(self):
        return sum(p.numel() for p in self.parameters())

    def forward(self, x):
        B, T = x.shape[:2]
        if T != self.T or tuple(x.shape[2:]) != self.input:
            raise ValueError(f'input {list(x.shape)} does not fit the net: expected [B, {self.T}, '
                             f'{", ".join(map(str, self.input))}]')
        h = x.transpose(0, 1).reshape(T * B, *x.shape[2:])
        for blk in self.blocks.values():
            h = blk(h, T)
        return h.reshape(T, B, -1).transpose(0, 1)

    def min_margin(self, x):
        """Smallest |u - fire point| over every LIF, step and neuron on input x, in the
        net's dtype and mode (training-mode statistics; the BN running buffers are
        restored afterwards)."""
        saved = {k: v.clone() for k, v in self.named_buffers()}
        for lif in self.lifs():
            lif.track, lif.margin = True, math.inf
        try:
            with torch.no_grad():
                self(x)
        finally:
            for lif in self.lifs():
                lif.track = False
            with torch.no_grad():
                for k, v in self.named_buffers():
                    v.copy_(saved[k])
        return min(lif.margin for lif in self.lifs())

    # -- checkpoints (docs/checkpoints.md)

    def save_ltsnn(self, path, extra=None):
        """Every parameter and BN buffer under ltsnn's names, F32, thresholds [1];
        metadata model, input, classes, then `extra` (values turned into strings),
        then T, and bn / wbits when they are not the defaults, unless `extra` has them."""
        t = {k: v.detach().cpu().float() for k, v in self.state_dict().items() if not k.endswith(TRACKED)}
        meta = {'model': self.model, 'input': 'x'.join(map(str, self.input)), 'classes': str(self.classes)}
        meta.update({k: str(v) for k, v in (extra or {}).items()})
        meta.setdefault('T', str(self.T))
        if self.bn != 'standard':
            meta.setdefault('bn', self.bn)
        if self.wbits != 32:
            meta.setdefault('wbits', str(self.wbits))
        st_io.write(path, t, meta)

    def load_ltsnn(self, path):
        """Load a checkpoint written by ltsnn or save_ltsnn; every name must match
        both ways (tensors under optim. are skipped) and every shape must fit
        (a threshold may be [] or [1])."""
        t, _ = st_io.read(path)
        sd = {k: v for k, v in self.state_dict().items() if not k.endswith(TRACKED)}
        weights = {k for k in t if not k.startswith('optim.')}
        missing = [k for k in sd if k not in weights]
        extra = sorted(weights - set(sd))
        if missing or extra:
            raise ValueError(f'{path}: does not fit model {self.model!r}: '
                             + '; '.join(([f'missing {", ".join(missing)}'] if missing else [])
                                         + ([f'not in the model {", ".join(extra)}'] if extra else [])))
        new = {}
        for k, v in sd.items():
            a = t[k]
            if tuple(a.shape) != tuple(v.shape) and not (k.endswith('.vth') and a.size == 1):
                raise ValueError(f'{path}: tensor {k} has shape {list(a.shape)}, the model needs {list(v.shape)}')
            new[k] = torch.from_numpy(np.asarray(a, dtype=np.float64)).to(v.dtype).reshape(v.shape)
        self.load_state_dict(new, strict=False)   # BN's num_batches_tracked keeps its value
        return self


def net_from_meta(meta, where='metadata', **overrides):
    """The net a checkpoint's metadata (a dict of strings) describes, untrained.
    Keywords override the metadata (T, input, bn, wbits, neuron options)."""
    for key in ('model', 'input', 'T'):
        if key not in meta and key not in overrides:
            raise ValueError(f'{where}: metadata has no {key!r}')
    kw = {'input': tuple(int(d) for d in meta.get('input', '').split('x')) if 'input' in meta else None,
          'T': int(meta['T']) if 'T' in meta else None,
          'bn': meta.get('bn', 'standard'), 'wbits': int(meta.get('wbits', '32'))}
    conv = {'mode': str, 'window': str, 'lam': float, 'g': float, 'alpha': float, 'reset': str,
            'detach_reset': lambda s: s.lower() in ('true', '1')}
    kw.update({k: f(meta[k]) for k, f in conv.items() if k in meta})
    kw.update(overrides)
    return LTSNN(meta['model'], **kw)


def from_ltsnn(path, **overrides):
    """Build the net a checkpoint's metadata describes and load it.  Keywords
    override the metadata (T, input, bn, wbits, neuron options)."""
    _, meta = st_io.read(path)
    return net_from_meta(meta, path, **overrides).load_ltsnn(path)


# ---------------------------------------------------------------- loss and optimiser

def class_loss(O, y, omega, beta=0.45, form='tet'):
    """METHOD.md section 4 on O [B, T, K], labels y [B] and Omega (a detached scalar):
    beta * CE + (1 - beta) * mean_t MSE(O_t, Omega).  form 'tet' averages the
    per-step CE; 'mean' (ltsnn's --loss mean) takes the CE of the time-averaged
    logits and keeps the per-step MSE."""
    if form == 'tet':
        ce = sum(F.cross_entropy(O[:, t], y) for t in range(O.shape[1])) / O.shape[1]
    elif form == 'mean':
        ce = F.cross_entropy(O.mean(1), y)
    else:
        raise ValueError(f'loss form {form!r}: expected tet or mean')
    mse = ((O - omega.detach()) ** 2).mean()
    return beta * ce + (1 - beta) * mse


class Adam:
    """Adam of METHOD.md section 5: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight
    decay; thresholds take lr_vth (default: lr).  Parameters without a gradient are
    left alone (a fixed-mode threshold)."""

    def __init__(self, net, lr=1e-3, lr_vth=None, betas=(0.9, 0.999), eps=1e-8):
        vth = {id(lif.vth) for lif in net.lifs()}
        self.params = [(p, lr_vth if (id(p) in vth and lr_vth is not None) else lr) for p in net.parameters()]
        self.b1, self.b2, self.eps, self.t = betas[0], betas[1], eps, 0
        self.m = [torch.zeros_like(p) for p, _ in self.params]
        self.v = [torch.zeros_like(p) for p, _ in self.params]

    def zero_grad(self):
        for p, _ in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for (p, lr), m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            m.mul_(self.b1).add_(p.grad, alpha=1 - self.b1)
            v.mul_(self.b2).addcmul_(p.grad, p.grad, value=1 - self.b2)
            # p -= lr * (m / c1) / (sqrt(v / c2) + eps), with one temporary
            p.addcdiv_(m, v.sqrt().div_(math.sqrt(c2)).add_(self.eps), value=-lr / c1)


def train_step(net, opt, x, y, beta=0.45, form='tet'):
    """One training step on a classification batch; returns the loss (detached)."""
    opt.zero_grad()
    loss = class_loss(net(x), y, net.omega(), beta, form)
    loss.backward()
    opt.step()
    return loss.detach()
