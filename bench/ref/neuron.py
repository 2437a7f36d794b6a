"""neuron.py -- the multi-step LIF neuron and its threshold gradient modes, in PyTorch.

Part of ltsnn's PyTorch reference (bench/ref), written from METHOD.md sections 1
and 2 (docs/method.md restates them), not from ltsnn's C code.  Two
implementations of the same neuron live here:

- lif_fused(): one torch.autograd.Function over all T steps whose backward is the
  recurrence written out by hand (the form the golden tensors come from);
- lif_stepwise(): a spike function per step with its surrogate, and PyTorch's
  autograd through the membrane and the reset (used only to check lif_fused).

Both share partials(), the table of METHOD.md section 2.  Inputs are time-major,
x [T, N]; the threshold is a tensor of one element.  Everything runs in the
dtype of x (float32 or float64).

Reset (METHOD.md section 1), written with H_t the Heaviside step of the mode:
hard m_t = u_t * (1 - H_t), soft m_t = u_t - V * H_t.  For binary modes the
spike is s_t = H_t; DSR emits s_t = V * H_t, and its soft reset subtracts that
spike (a choice: METHOD.md pins DSR only with the hard reset).
"""
import math
from dataclasses import dataclass

import torch

MODES = ('fixed', 'stsg', 'sgp', 'penalty_all', 'sgp_stsg', 'dsr')
WINDOWS = ('sigmoid', 'arctan', 'triangle', 'piecewise')
RESETS = ('hard', 'soft')


@dataclass
class NeuronOptions:
    """Every option of METHOD.md sections 1-2 with its default."""
    mode: str = 'sgp'
    window: str = 'sigmoid'
    lam: float = 0.5
    g: float = 1.0
    alpha: float = 0.3          # DSR only (Table 1)
    reset: str = 'hard'
    detach_reset: bool = False

    def check(self):
        if self.mode not in MODES:
            raise ValueError(f'mode {self.mode!r}: expected one of {", ".join(MODES)}')
        if self.window not in WINDOWS:
            raise ValueError(f'window {self.window!r}: expected one of {", ".join(WINDOWS)}')
        if self.reset not in RESETS:
            raise ValueError(f'reset {self.reset!r}: expected hard or soft')
        if not self.g > 0:
            raise ValueError(f'g {self.g}: the surrogate width must be > 0')
        return self


def window(name, z):
    """w(z) of METHOD.md section 2: monotone, in [0, 1], w(0) = 1/2."""
    if name == 'sigmoid':
        return torch.sigmoid(z)
    if name == 'arctan':
        return 0.5 + torch.atan((math.pi / 2) * z) / math.pi
    if name == 'triangle':
        lo = 0.5 * (z + 1) ** 2
        hi = 1 - 0.5 * (1 - z) ** 2
        return torch.where(z < -1, torch.zeros_like(z),
                           torch.where(z < 0, lo, torch.where(z < 1, hi, torch.ones_like(z))))
    if name == 'piecewise':
        return torch.clamp(0.5 + 0.5 * z, 0.0, 1.0)
    raise ValueError(f'window {name!r}')


def tri(z, g):
    """Eq. 5's triangle surrogate of width g: max(0, g - |z|) / g^2."""
    t = torch.clamp(g - z.abs(), min=0.0)
    return t if g == 1 else t.mul_(1 / (g * g))


def fire_point(v, opt):
    """The membrane value at which H steps: V, or alpha * V for DSR."""
    return opt.alpha * v if opt.mode == 'dsr' else v


def partials(u, v, opt):
    """(H, dH/du, dH/dV) elementwise for membrane u and threshold v (a 0-d tensor).

    For the binary modes the spike is H and these are the ds/du, ds/dV columns of
    METHOD.md section 2's table (m = H there).  For DSR the spike is V * H with
    H = H(u - alpha V), dH/du = tri, dH/dV = -alpha tri, so that
    ds/du = V tri and ds/dV = H - alpha V tri, as the table states.
    dH/dV is None in fixed mode (the threshold is not trained)."""
    z = u - fire_point(v, opt)
    h = (z >= 0).to(u.dtype)
    tr = tri(z, opt.g)
    m = opt.mode
    if m == 'fixed':
        return h, tr, None
    if m == 'stsg':
        return h, tr, -tr
    if m == 'dsr':
        return h, tr, tr * -opt.alpha
    w = window(opt.window, z)
    pen = h * tr * w
    if m == 'sgp':
        return h, tr, pen.neg_()
    if m == 'penalty_all':
        return h, tr * w, pen.neg_()
    if m == 'sgp_stsg':
        return h, tr, (-tr).sub_(pen)
    raise ValueError(f'mode {m!r}')


class _LIFFused(torch.autograd.Function):
    """The whole T-step neuron as one op; backward is METHOD.md section 1's recurrence."""

    @staticmethod
    def forward(ctx, x, vth, opt):
        v = vth.detach().reshape(())
        fire, vf = float(fire_point(v, opt)), float(v)
        u = torch.empty_like(x)
        s = torch.empty_like(x)
        m = None                             # the membrane kept from the step before (none at t = 0)
        for t in range(x.shape[0]):
            if m is None:
                u[t] = x[t]
            else:
                torch.add(x[t], m, alpha=opt.lam, out=u[t])
            s[t] = u[t] >= fire
            # the membrane kept for the next step: emptied, or lowered by V, where it fired
            m = u[t] * (1 - s[t]) if opt.reset == 'hard' else torch.sub(u[t], s[t], alpha=vf)
        if opt.mode == 'dsr':
            s.mul_(vf)
        ctx.opt = opt
        ctx.save_for_backward(u, vth)
        return s

    @staticmethod
    def backward(ctx, gs):
        u, vth = ctx.saved_tensors
        opt = ctx.opt
        v = vth.detach().reshape(())
        learn = opt.mode != 'fixed' and ctx.needs_input_grad[1]
        gs = gs.contiguous()
        dx = torch.empty_like(u)
        dm = None                            # dL/dm_t; nothing comes after the last step
        dv = torch.zeros((), dtype=u.dtype)
        for t in range(u.shape[0] - 1, -1, -1):
            h, hu, hv = partials(u[t], v, opt)
            # total gradient on H_t: from the next layer, and through the reset
            dh = gs[t] * v if opt.mode == 'dsr' else gs[t]
            if dm is not None and not opt.detach_reset:
                dh = dh - (u[t] if opt.reset == 'hard' else v) * dm
            du = dh * hu
            if dm is not None:
                du += dm * (1 - h) if opt.reset == 'hard' else dm
            if learn:
                dv += (dh * hv).sum()
                if opt.mode == 'dsr':          # s = V * H: the product rule's direct term
                    dv += torch.dot(gs[t], h)
                if opt.reset == 'soft' and dm is not None:   # m = u - V * H: V's direct term, kept under detach
                    dv -= torch.dot(dm, h)
            dx[t] = du
            dm = du * opt.lam
        gv = dv.reshape(vth.shape) if learn else None
        return dx, gv, None


def lif_fused(x, vth, opt):
    """Spikes [T, N] of the LIF for input currents x [T, N] (hand-written backward)."""
    return _LIFFused.apply(x, vth, opt)


class _Spike(torch.autograd.Function):
    """H(u - V) for one step with the surrogate partials of the mode."""

    @staticmethod
    def forward(ctx, u, vth, opt):
        ctx.opt = opt
        ctx.save_for_backward(u, vth)
        return partials(u, vth.detach().reshape(()), opt)[0]

    @staticmethod
    def backward(ctx, gh):
        u, vth = ctx.saved_tensors
        _, hu, hv = partials(u, vth.detach().reshape(()), ctx.opt)
        gv = None
        if hv is not None and ctx.needs_input_grad[1]:
            gv = (gh * hv).sum().reshape(vth.shape)
        return gh * hu, gv, None


def lif_stepwise(x, vth, opt):
    """The same neuron as lif_fused, one step at a time through autograd (a cross-check)."""
    v = vth.reshape(())
    m = torch.zeros_like(x[0])
    out = []
    for t in range(x.shape[0]):
        u = opt.lam * m + x[t]
        h = _Spike.apply(u, vth, opt)
        out.append(v * h if opt.mode == 'dsr' else h)
        hr = h.detach() if opt.detach_reset else h
        m = u * (1 - hr) if opt.reset == 'hard' else u - v * hr
    return torch.stack(out)


class LIF(torch.nn.Module):
    """One LIF layer: a scalar threshold `vth` (shape [1], init 1.0) and shared options.

    The threshold is always a Parameter so that every mode has the same state
    names; in fixed mode it does not require a gradient.  With `track` set, the
    last forward's smallest |u - fire point| is kept in `margin` (the golden
    generators reject inputs where a spike could flip between implementations)."""

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        self.vth = torch.nn.Parameter(torch.ones(1), requires_grad=opt.mode != 'fixed')
        self.track = False
        self.margin = math.inf

    def set_options(self, opt):
        self.opt = opt
        self.vth.requires_grad_(opt.mode != 'fixed')

    def forward(self, x, T):
        xs = x.reshape(T, -1)
        if self.track:
            self.margin = min(self.margin, _min_margin(xs.detach(), self.vth.detach(), self.opt))
        return lif_fused(xs, self.vth, self.opt).reshape(x.shape)


def _min_margin(x, vth, opt):
    v = vth.reshape(())
    m = torch.zeros_like(x[0])
    best = math.inf
    for t in range(x.shape[0]):
        u = opt.lam * m + x[t]
        z = u - fire_point(v, opt)
        best = min(best, float(z.abs().min()))
        h = (z >= 0).to(x.dtype)
        m = u * (1 - h) if opt.reset == 'hard' else u - v * h
    return best
