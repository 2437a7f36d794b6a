#!/usr/bin/env python3
"""map_ref.py -- a second, independent detection evaluator (numpy only), to
check `ltsnn map` against.

Written from the definitions, not from ltsnn's C code:
  * the Prophesee automotive toolbox's protocol: boxes filtered with
    t > skip, w**2 + h**2 >= diag**2, w >= side, h >= side (numpy arithmetic
    on the file's float32 fields); per recording one image per unique GT
    timestamp ts holding the GT boxes stamped ts and every detection with
    ts - tol <= t <= ts + tol;
  * pycocotools' COCOeval for 'bbox' with areaRng 'all' and maxDets 100:
    per (image, class) detections sorted by -score with a stable sort and
    cut to 100, IoU = inter / (area_d + area_g - inter) with
    inter = (min(x+w) - max(x)) * (min(y+h) - max(y)) when both positive,
    greedy matching per IoU threshold (each detection in turn takes the
    not-yet-matched GT box with the largest IoU >= threshold, ties to the
    later GT box), then per class all images' detections stably sorted by
    -score, tp/fp cumulated, precision made monotone from the right, read at
    recall thresholds linspace(0, 1, 101) with searchsorted(side='left')
    (0 past the end); a class without GT is -1 and left out of the mean;
  * VOC AP at IoU >= 0.5 with all-point interpolation: detections of a
    class stably sorted by -score over all images, each matched to the GT box
    of largest IoU in its image (first on ties); a hit on an already matched
    box is a false positive.

Usage: map_ref.py GT_DIR DET_DIR [--filter toolbox|paper|none]
       [--time-tol-us N] [--classes K]     prints one JSON line.
"""
import argparse
import json
import os
import sys

import numpy as np

FILTERS = {"toolbox": (100000, 30, 20), "paper": (500000, 30, 10), "none": None}


def load(path):
    a = np.load(path)
    tname = "t" if "t" in a.dtype.names else "ts"
    score = "class_confidence" if "class_confidence" in a.dtype.names else "confidence"
    return {
        "t": a[tname].astype(np.int64),
        "x": a["x"], "y": a["y"], "w": a["w"], "h": a["h"],
        "cls": a["class_id"].astype(np.int64),
        "score": a[score],
    }


def take(b, mask):
    return {k: v[mask] for k, v in b.items()}


def prophesee_filter(b, f):
    if f is None:
        return b
    skip, diag, side = f
    w, h = b["w"], b["h"]  # float32, as the toolbox's arrays are
    keep = (b["t"] > skip) & (w ** 2 + h ** 2 >= diag ** 2) & (w >= side) & (h >= side)
    return take(b, keep)


def images_of(gt, dt, tol):
    """One (gt, dt) pair of box lists per unique GT timestamp, in time order."""
    out = []
    for ts in np.unique(gt["t"]):
        g = gt["t"] == ts
        d = (dt["t"] >= ts - tol) & (dt["t"] <= ts + tol)
        out.append((take(gt, g), take(dt, d)))
    return out


def iou(d, g):
    """IoU of detection box d with GT box g, each (x, y, w, h) in float64."""
    iw = min(d[0] + d[2], g[0] + g[2]) - max(d[0], g[0])
    if iw <= 0:
        return 0.0
    ih = min(d[1] + d[3], g[1] + g[3]) - max(d[1], g[1])
    if ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (d[2] * d[3] + g[2] * g[3] - inter)


def boxes(b, idx):
    return [(float(b["x"][i]), float(b["y"][i]), float(b["w"][i]), float(b["h"][i])) for i in idx]


IOU_THRS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
REC_THRS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)


def coco_class(images, k):
    """AP per IoU threshold for class k, or None without GT."""
    scores, matched, npos = [], [], 0
    for gt, dt in images:
        gi = np.nonzero(gt["cls"] == k)[0]
        di = np.nonzero(dt["cls"] == k)[0]
        npos += len(gi)
        if len(di) == 0:
            continue
        order = np.argsort(-dt["score"][di].astype(np.float64), kind="mergesort")[:100]
        di = di[order]
        G, D = boxes(gt, gi), boxes(dt, di)
        m = np.zeros((len(IOU_THRS), len(D)), dtype=bool)
        for t, thr in enumerate(IOU_THRS):
            taken = np.zeros(len(G), dtype=bool)
            for j, d in enumerate(D):
                best, bi = min(thr, 1 - 1e-10), -1
                for gidx, g in enumerate(G):
                    if taken[gidx]:
                        continue
                    v = iou(d, g)
                    if v < best:
                        continue
                    best, bi = v, gidx
                if bi >= 0:
                    taken[bi] = True
                    m[t, j] = True
        scores.append(dt["score"][di].astype(np.float64))
        matched.append(m)
    if npos == 0:
        return None
    if scores:
        s = np.concatenate(scores)
        m = np.concatenate(matched, axis=1)
    else:
        s = np.zeros(0)
        m = np.zeros((len(IOU_THRS), 0), dtype=bool)
    order = np.argsort(-s, kind="mergesort")
    m = m[:, order]
    aps = []
    for t in range(len(IOU_THRS)):
        tp = np.cumsum(m[t]).astype(np.float64)
        fp = np.cumsum(~m[t]).astype(np.float64)
        rc = tp / npos
        pr = (tp / (fp + tp + np.spacing(1))).tolist()
        for i in range(len(pr) - 1, 0, -1):
            if pr[i] > pr[i - 1]:
                pr[i - 1] = pr[i]
        q = np.zeros(len(REC_THRS))
        for r, i in enumerate(np.searchsorted(rc, REC_THRS, side="left")):
            if i < len(pr):
                q[r] = pr[i]
        aps.append(q.mean())
    return aps


def voc_class(images, k):
    dets, npos = [], 0
    for n, (gt, dt) in enumerate(images):
        npos += int(np.sum(gt["cls"] == k))
        for i in np.nonzero(dt["cls"] == k)[0]:
            dets.append((float(dt["score"][i]), n, i))
    if npos == 0:
        return None
    order = np.argsort(-np.array([d[0] for d in dets], dtype=np.float64), kind="mergesort")
    used = {}
    tp = np.zeros(len(dets))
    for r, j in enumerate(order):
        _, n, i = dets[j]
        gt, dt = images[n]
        d = boxes(dt, [i])[0]
        best, bi = -1.0, -1
        for gidx in np.nonzero(gt["cls"] == k)[0]:
            v = iou(d, boxes(gt, [gidx])[0])
            if v > best:
                best, bi = v, gidx
        if best >= 0.5 and not used.get((n, bi)):
            used[(n, bi)] = True
            tp[r] = 1
    ctp = np.cumsum(tp)
    cfp = np.cumsum(1 - tp)
    rec = ctp / npos
    prec = ctp / np.maximum(ctp + cfp, np.finfo(np.float64).eps)
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(len(mpre) - 1, 0, -1):
        mpre[i - 1] = max(mpre[i - 1], mpre[i])
    i = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gt_dir")
    ap.add_argument("det_dir")
    ap.add_argument("--filter", default="toolbox", choices=sorted(FILTERS))
    ap.add_argument("--time-tol-us", type=int, default=50000)
    ap.add_argument("--classes", type=int, default=2)
    a = ap.parse_args()
    images = []
    names = sorted(n for n in os.listdir(a.gt_dir) if n.endswith("_bbox.npy") and not n.startswith("."))
    for name in names:
        gt = prophesee_filter(load(os.path.join(a.gt_dir, name)), FILTERS[a.filter])
        dt = prophesee_filter(load(os.path.join(a.det_dir, name)), FILTERS[a.filter])
        images += images_of(gt, dt, a.time_tol_us)
    coco, ap50, ap75, voc, per = [], [], [], [], []
    for k in range(a.classes):
        c, v = coco_class(images, k), voc_class(images, k)
        per.append({"coco": -1 if c is None else float(np.mean(c)), "ap50": -1 if c is None else c[0],
                    "voc": -1 if v is None else v})
        if c is not None:
            coco.append(np.mean(c))
            ap50.append(c[0])
            ap75.append(c[5])
            voc.append(v)
    mean = lambda v: float(np.mean(v)) if v else -1.0
    print(json.dumps({"coco": mean(coco), "ap50": mean(ap50), "ap75": mean(ap75), "voc": mean(voc),
                      "images": len(images), "classes": per}))


if __name__ == "__main__":
    sys.exit(main())
