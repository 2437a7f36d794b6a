#!/usr/bin/python3
"""gen_det_golden.py -- golden loss and dL/dO of the detection head (METHOD.md section 9).

Run from anywhere with Debian's python3-torch:
    /usr/bin/python3 tests/data/gen_det_golden.py [--out DIR]
Uses bench/ref/det.py (ltsnn's own PyTorch reference, written from METHOD.md)
and writes tests/data/grad_det/det_mean.safetensors (--det-loss mean: the loss
of the time-averaged output) and det_tet.safetensors (the loss of every step,
averaged over t).  Each file holds, all little-endian:

    O        [B, T, Sh*Sw*(5A+C)] float32  head output per step; cell (i, j) row-major,
                                           in a cell A slots of (tx, ty, tw, th, to), then C class logits
    boxes    [Nbox, 6]            float32  (image index b, class, cx, cy, w, h), centre and size as
                                           fractions of the image, in order (a later box that owns the
                                           same cell and slot replaces an earlier one)
    anchors  [A, 2]               float32  (aw, ah) in cell units
    grid     [2]                  int32    (Sh, Sw)
    loss     [1]                  float32  the loss (summed over images, divided by B)
    dO       [B, T, ...]          float32  dL/dO, the shape of O
    parts    [4]                  float32  the loss's terms: coord, obj, noobj, class (weighted, / B)

with metadata det_loss ("mean" / "tet"), classes, anchors ("aw0,ah0,aw1,ah1"),
grid ("2x3"), lambdas ("1,5,1,1": coord, obj, noobj, class), ignore_iou ("0.6")
and dtype ("float64": computed in float64 from the float32 values stored).

The case: a 2x3 grid, A = 2 anchors (a tall one and a wide one), C = 2
classes, T = 3, B = 3.  Image 0 has a box that picks the wide anchor in cell
(0, 1) and a later box of the other class in the same cell and slot that
replaces it; a tall box in cell (1, 0) whose cell's other slot decodes to a box
overlapping it with IoU above 0.6 at every step and on average (that slot is
ignored: no no-object term); a slot near a box with IoU below 0.6 (it keeps its
no-object term); and a small box in cell (1, 2).  Image 1 has a box whose
centre lies on the right edge (cx = 1, clamped into the last column) and one
in cell (1, 1).  Image 2 has no boxes: every slot gets the no-object term.
Every slot's largest IoU with the GT is checked to lie at least 1e-3 from 0.6,
so no implementation can decide the ignore rule differently.
"""
import argparse
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'bench'))
from ref import det as D  # noqa: E402
from ref import golden as G  # noqa: E402
from ref import st_io  # noqa: E402

SH, SW, A, C, T, B = 2, 3, 2, 2, 3, 3
P = SH * SW * (5 * A + C)
ANCHORS = [(0.8, 1.2), (2.0, 0.9)]
BOXES = [  # b, class, cx, cy, w, h
    (0, 0, 0.45, 0.30, 0.60, 0.40),   # cell (0,1), wide anchor ...
    (0, 1, 0.50, 0.20, 0.55, 0.35),   # ... replaced by this one (same cell, same slot)
    (0, 1, 0.20, 0.70, 0.25, 0.60),   # cell (1,0), tall anchor; slot (1,0,1) overlaps it > 0.6
    (0, 0, 0.90, 0.95, 0.10, 0.10),   # cell (1,2), small, tall anchor
    (1, 1, 1.00, 0.25, 0.30, 0.30),   # cx = 1: clamped into column 2
    (1, 0, 0.52, 0.60, 0.50, 0.30),   # cell (1,1), wide anchor
]


def idx(i, j, a, f):
    return (i * SW + j) * (5 * A + C) + a * 5 + f


def logit(p):
    return math.log(p / (1 - p))


def set_slot(O, b, i, j, a, box, jitter, rng):
    """Write tx..th of slot (i, j, a) of image b so that it decodes near `box`
    (cx, cy, w, h scaled by `jitter`), with a little noise per step."""
    cx, cy, w, h = box
    base = [logit(cx * SW - j), logit(cy * SH - i), math.log(w * jitter * SW / ANCHORS[a][0]),
            math.log(h * SH / ANCHORS[a][1])]
    for t in range(T):
        for f in range(4):
            O[b, t, idx(i, j, a, f)] = base[f] + rng.normal(0, 0.04)


def max_ious(Ob, boxes, anchors):
    """Largest IoU of every slot with its image's GT, for one output [B, P]."""
    slots = Ob.reshape(B, SH, SW, 5 * A + C)[..., :5 * A].reshape(B, SH, SW, A, 5)
    dec = D.decode_boxes(slots, anchors, (SH, SW))
    out = []
    for b in range(B):
        g = boxes[boxes[:, 0] == b][:, 2:]
        out.append(D.iou_cxcywh(dec[b], g).max(-1).values if len(g) else torch.zeros(SH, SW, A,
                                                                                       dtype=torch.float64))
    return torch.stack(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(HERE, 'grad_det'))
    out = ap.parse_args().out
    rng = np.random.default_rng(7)
    O = rng.normal(0, 1, (B, T, P))
    set_slot(O, 0, 1, 0, 1, BOXES[2][2:], 1.08, rng)     # ignored: IoU ~0.9 with the tall box
    set_slot(O, 0, 0, 2, 0, (0.70, 0.25, 0.5, 0.3), 1.0, rng)  # IoU ~0.45 with the replacing box
    O = O.astype(np.float32)
    boxes = np.array(BOXES, np.float32)
    anchors = np.array(ANCHORS, np.float32)
    grid = np.array([SH, SW], np.int32)
    O64 = torch.tensor(O, dtype=torch.float64)
    b64 = torch.tensor(boxes, dtype=torch.float64)
    a64 = torch.tensor(anchors, dtype=torch.float64)
    ious = [max_ious(O64.mean(1), b64, a64)] + [max_ious(O64[:, t], b64, a64) for t in range(T)]
    gap = min(float((m - D.IGNORE_IOU).abs().min()) for m in ious)
    assert gap >= 1e-3, f'a slot lies {gap:.2g} from the ignore IoU'
    assert all(float(m[0, 1, 0, 1]) > 0.6 for m in ious), 'the ignored slot does not overlap enough'
    assert all(0.3 < float(m[0, 0, 2, 0]) < 0.6 for m in ious), 'the near slot is not between 0.3 and 0.6'
    own = D.owners(b64[b64[:, 0] == 0][:, 1:], a64, (SH, SW))
    assert own[(0, 1, 1)][0] == 1 and (1, 0, 0) in own and (1, 2, 0) in own, own
    os.makedirs(out, exist_ok=True)
    for form in ('mean', 'tet'):
        x = O64.clone().requires_grad_(True)
        loss, parts = D.det_loss(x, b64, a64, (SH, SW), C, form)
        loss.backward()
        meta = {'det_loss': form, 'classes': str(C), 'anchors': ','.join('%g' % v for v in anchors.ravel()),
                'grid': f'{SH}x{SW}', 'lambdas': ','.join('%g' % v for v in D.LAMBDAS),
                'ignore_iou': str(D.IGNORE_IOU), 'dtype': 'float64'}
        st_io.write(os.path.join(out, f'det_{form}.safetensors'),
                    {'O': O, 'boxes': boxes, 'anchors': anchors, 'grid': grid,
                     'loss': np.array([loss.item()], np.float32), 'dO': x.grad.numpy().astype(np.float32),
                     'parts': parts.numpy().astype(np.float32)}, meta)
        print(f'det-loss {form}: loss {loss.item():.6f} parts (coord, obj, noobj, class) '
              f'{" ".join("%.5f" % v for v in parts.tolist())}, closest IoU to 0.6 is {gap:.3g} away')
    if os.path.abspath(out) == os.path.join(HERE, 'grad_det'):
        G.readme_section('gen_det_golden.py', f'''
**`grad_det/`** (`gen_det_golden.py`; not yet read by a test): the detection loss
of METHOD.md section 9 and dL/dO on a {SH}x{SW} grid, A={A} anchors
({", ".join("%gx%g" % a for a in ANCHORS)} cells), C={C}, T={T}, B={B}, in both forms.
Boxes are placed by hand (the generator's docstring lists them) to exercise the
owner cell, the best anchor, a later box replacing an earlier one on the same
cell and slot, a centre on the image's edge (clamped into the grid), a slot
ignored by the IoU-0.6 rule at every step and on average, a slot below it, and
an image without boxes; the other outputs are N(0, 1) from numpy's generator
seeded 7. Every slot's largest IoU lies at least {gap:.2g} from 0.6. Made with
torch {torch.__version__}, float64 from the stored float32 values.''')


if __name__ == '__main__':
    main()
