"""det.py -- the detection head of METHOD.md section 9 in PyTorch: loss, decode, NMS.

Part of ltsnn's PyTorch reference (bench/ref), written from METHOD.md, not from
ltsnn's C code.  The last FC's output at step t, O_t [B, Sh*Sw*(5A+C)], is a
grid of Sh x Sw cells, row-major; each cell holds, for each of A box slots,
(tx, ty, tw, th, to), then C class logits shared by the cell's slots.

Ground truth is one tensor, boxes [Nbox, 6] = (image index b, class k, cx, cy,
w, h) with centre and size as fractions of the image, in the order the image's
boxes are listed (a later box that owns the same cell and slot replaces an
earlier one).  Anchors [A, 2] are (aw, ah) in cell units; grid is (Sh, Sw).

    loss, parts = det_loss(O, boxes, anchors, (6, 8), classes=2, form='mean')
    dets = det_postprocess(*det_decode(O.mean(1), anchors, (6, 8), 2))

Choices METHOD.md leaves open, made here:
- an argmax tie between anchors (equal size IoU) goes to the lower slot index;
- the ignore rule compares the decoded box with every GT box of the image,
  including one that a later box replaced, and is a constant to backward;
- post-processing clips boxes to the image before NMS, and NMS keeps, among
  boxes of one class, the higher score first (ties by lower index).
"""
import math

import torch
import torch.nn.functional as F

LAMBDAS = (1.0, 5.0, 1.0, 1.0)     # l_coord, l_obj, l_noobj, l_cls
IGNORE_IOU = 0.6


def _split(ob, grid, A, C):
    """ob [B, P] -> slots [B, Sh, Sw, A, 5], class logits [B, Sh, Sw, C]."""
    Sh, Sw = grid
    if ob.shape[1] != Sh * Sw * (5 * A + C):
        raise ValueError(f'head output {ob.shape[1]} != {Sh}x{Sw} cells x (5*{A} + {C})')
    o = ob.reshape(ob.shape[0], Sh, Sw, 5 * A + C)
    return o[..., :5 * A].reshape(ob.shape[0], Sh, Sw, A, 5), o[..., 5 * A:]


def decode_boxes(slots, anchors, grid):
    """Centre and size (fractions of the image) of every slot: [B, Sh, Sw, A, 4]."""
    Sh, Sw = grid
    j = torch.arange(Sw, dtype=slots.dtype).view(1, 1, Sw, 1)
    i = torch.arange(Sh, dtype=slots.dtype).view(1, Sh, 1, 1)
    an = anchors.to(slots.dtype)
    bx = (j + torch.sigmoid(slots[..., 0])) / Sw
    by = (i + torch.sigmoid(slots[..., 1])) / Sh
    bw = an[:, 0] * torch.exp(slots[..., 2]) / Sw
    bh = an[:, 1] * torch.exp(slots[..., 3]) / Sh
    return torch.stack([bx, by, bw, bh], -1)


def iou_cxcywh(a, b):
    """IoU of boxes a [..., 4] against b [M, 4] (centre, size) -> [..., M]."""
    a = a.unsqueeze(-2)
    ax0, ay0, ax1, ay1 = a[..., 0] - a[..., 2] / 2, a[..., 1] - a[..., 3] / 2, a[..., 0] + a[..., 2] / 2, \
        a[..., 1] + a[..., 3] / 2
    bx0, by0, bx1, by1 = b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2
    iw = (torch.minimum(ax1, bx1) - torch.maximum(ax0, bx0)).clamp(min=0)
    ih = (torch.minimum(ay1, by1) - torch.maximum(ay0, by0)).clamp(min=0)
    inter = iw * ih
    union = a[..., 2] * a[..., 3] + b[:, 2] * b[:, 3] - inter
    return inter / union


def owners(gt, anchors, grid):
    """{(i, j, a): (k, cx, cy, w, h)} for one image's GT rows [n, 5] = (k, cx, cy, w, h):
    owner cell by the centre, slot by the best size IoU with an anchor; later rows
    replace earlier ones."""
    Sh, Sw = grid
    own = {}
    for k, cx, cy, w, h in gt.tolist():
        j = min(max(int(math.floor(cx * Sw)), 0), Sw - 1)
        i = min(max(int(math.floor(cy * Sh)), 0), Sh - 1)
        best, a_best = -1.0, 0
        for a, (aw, ah) in enumerate(anchors.tolist()):
            inter = min(w * Sw, aw) * min(h * Sh, ah)
            iou = inter / (w * Sw * h * Sh + aw * ah - inter)
            if iou > best:
                best, a_best = iou, a
        own[(i, j, a_best)] = (int(k), cx, cy, w, h)
    return own


def _loss_one_step(ob, boxes, anchors, grid, C, lambdas):
    """The loss of METHOD.md section 9 on one output ob [B, P]: (loss, parts[4])."""
    l_coord, l_obj, l_noobj, l_cls = lambdas
    Sh, Sw = grid
    A = anchors.shape[0]
    B = ob.shape[0]
    slots, cls = _split(ob, grid, A, C)
    with torch.no_grad():
        dec = decode_boxes(slots.detach(), anchors, grid)
    coord, obj, noobj, clsl = [], [], [], []     # each term already weighted
    for b in range(B):
        rows = boxes[boxes[:, 0].round().long() == b][:, 1:].to(torch.float64)
        own = owners(rows, anchors.to(torch.float64), grid)
        resp = torch.zeros(Sh, Sw, A, dtype=torch.bool)
        for (i, j, a) in own:
            resp[i, j, a] = True
        if rows.shape[0]:
            best = iou_cxcywh(dec[b], rows[:, 1:].to(dec.dtype)).max(-1).values
            quiet = (best <= IGNORE_IOU) & ~resp
        else:
            quiet = ~resp
        to = slots[b, ..., 4]
        noobj.append(l_noobj * (torch.sigmoid(to) ** 2 * quiet.to(ob.dtype)).sum())
        for (i, j, a), (k, cx, cy, w, h) in own.items():
            aw, ah = anchors[a].tolist()
            tx, ty, tw, th, tob = slots[b, i, j, a].unbind()
            sq = ((torch.sigmoid(tx) - (cx * Sw - j)) ** 2 + (torch.sigmoid(ty) - (cy * Sh - i)) ** 2
                  + (tw - math.log(w * Sw / aw)) ** 2 + (th - math.log(h * Sh / ah)) ** 2)
            coord.append(l_coord * (2 - w * h) * sq)
            obj.append(l_obj * (torch.sigmoid(tob) - 1) ** 2)
            clsl.append(l_cls * -F.log_softmax(cls[b, i, j], 0)[k])
    terms = [sum(c, ob.new_zeros(())) for c in (coord, obj, noobj, clsl)]
    parts = torch.stack(terms) / B
    return parts.sum(), parts.detach()


def det_loss(O, boxes, anchors, grid, classes, form='mean', lambdas=LAMBDAS):
    """Detection loss of O [B, T, P]: 'mean' on Obar = mean_t O_t (METHOD.md's
    default), 'tet' on every O_t, averaged over t.  Returns (loss, parts [4] =
    coord, obj, noobj, class, each weighted and divided by B, summed like the loss)."""
    anchors = torch.as_tensor(anchors, dtype=torch.float64).reshape(-1, 2)
    boxes = torch.as_tensor(boxes, dtype=torch.float64).reshape(-1, 6)
    if form == 'mean':
        return _loss_one_step(O.mean(1), boxes, anchors, tuple(grid), classes, lambdas)
    if form == 'tet':
        steps = [_loss_one_step(O[:, t], boxes, anchors, tuple(grid), classes, lambdas) for t in range(O.shape[1])]
        return sum(s[0] for s in steps) / len(steps), sum(s[1] for s in steps) / len(steps)
    raise ValueError(f'det-loss {form!r}: expected mean or tet')


def det_decode(ob, anchors, grid, classes):
    """Boxes [B, Sh*Sw*A, 4] (centre, size, fractions) and class scores
    [B, Sh*Sw*A, C] = sig(to) * softmax(class logits) for one output ob [B, P]."""
    anchors = torch.as_tensor(anchors, dtype=ob.dtype).reshape(-1, 2)
    A = anchors.shape[0]
    slots, cls = _split(ob, grid, A, classes)
    box = decode_boxes(slots, anchors, grid)
    score = torch.sigmoid(slots[..., 4]).unsqueeze(-1) * torch.softmax(cls, -1).unsqueeze(-2)
    B = ob.shape[0]
    return box.reshape(B, -1, 4), score.reshape(B, -1, classes)


def det_postprocess(box, score, min_score=0.01, nms_iou=0.45, max_dets=100):
    """Per image: a list of (x0, y0, x1, y1, score, class) with boxes clipped to
    [0, 1], scores >= min_score, NMS per class at nms_iou, at most max_dets by score."""
    out = []
    for b in range(box.shape[0]):
        c = box[b]
        xyxy = torch.stack([c[:, 0] - c[:, 2] / 2, c[:, 1] - c[:, 3] / 2,
                            c[:, 0] + c[:, 2] / 2, c[:, 1] + c[:, 3] / 2], -1).clamp(0, 1)
        dets = []
        for k in range(score.shape[2]):
            s = score[b, :, k]
            idx = [int(i) for i in torch.nonzero(s >= min_score).flatten()]
            idx.sort(key=lambda i: (-float(s[i]), i))
            kept = []
            for i in idx:
                if all(_iou_xyxy(xyxy[i], xyxy[j]) <= nms_iou for j in kept):
                    kept.append(i)
            dets += [tuple(xyxy[i].tolist()) + (float(s[i]), k) for i in kept]
        dets.sort(key=lambda d: -d[4])
        out.append(dets[:max_dets])
    return out


def _iou_xyxy(p, q):
    iw = max(0.0, min(float(p[2]), float(q[2])) - max(float(p[0]), float(q[0])))
    ih = max(0.0, min(float(p[3]), float(q[3])) - max(float(p[1]), float(q[1])))
    inter = iw * ih
    union = float((p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1])) - inter
    return inter / union if union > 0 else 0.0
