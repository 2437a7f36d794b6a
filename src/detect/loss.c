/* loss.c -- the detection head's loss and its gradient (METHOD.md §9).
 *
 * A YOLOv2-style region loss over a grid of cells with A anchor slots and
 * C class logits per cell, read from the head output O [T, B, K]: either
 * on the time average (mean mode) or on every step (tet mode).  One plain
 * implementation in double, allocation-free; it is cheap next to the
 * network (K = 576 values an image by default), so there is no fast
 * variant and no _ref twin.  Not here: decoding for inference and NMS
 * (box.c). */
#include "ltsnn/detect.h"

#include <assert.h>
#include <math.h>
#include <string.h>

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* What the loss reads: image b's outputs at step t, or (t < 0) their mean
 * over the T steps, computed in double on every read so that the mean
 * mode loses nothing to rounding (finite-difference tests rely on it). */
typedef struct view {
    const float *O;
    size_t K;
    int T, B, b, t;
} view;

static double at(const view *v, size_t k)
{
    if (v->t >= 0)
        return v->O[((size_t)v->t * (size_t)v->B + (size_t)v->b) * v->K + k];
    double s = 0;
    for (int t = 0; t < v->T; t++)
        s += v->O[((size_t)t * (size_t)v->B + (size_t)v->b) * v->K + k];
    return s / v->T;
}

/* The cell and slot that own a GT box (METHOD.md §9): the cell holding its
 * centre (clamped into the grid) and the anchor whose size best matches
 * (first one on ties).  Returns the slot index (cell * A + a). */
static size_t owner(const lt_box *g, const float *anchors, int Sh, int Sw, int A, int *ci, int *cj)
{
    int j = (int)floor((double)g->cx * Sw), i = (int)floor((double)g->cy * Sh);
    j = j < 0 ? 0 : j >= Sw ? Sw - 1 : j;
    i = i < 0 ? 0 : i >= Sh ? Sh - 1 : i;
    double gw = (double)g->w * Sw, gh = (double)g->h * Sh, best = -1;
    int ba = 0;
    for (int a = 0; a < A; a++) {
        double v = lt_det_iou_wh(gw, gh, anchors[2 * a], anchors[2 * a + 1]);
        if (v > best)
            best = v, ba = a;
    }
    *ci = i, *cj = j;
    return ((size_t)i * (size_t)Sw + (size_t)j) * (size_t)A + (size_t)ba;
}

/* IoU of two boxes given by centre and size. */
static double iou_cs(double ax, double ay, double aw, double ah, double bx, double by, double bw, double bh)
{
    double iw = fmin(ax + aw / 2, bx + bw / 2) - fmax(ax - aw / 2, bx - bw / 2);
    double ih = fmin(ay + ah / 2, by + bh / 2) - fmax(ay - ah / 2, by - bh / 2);
    if (!(iw > 0) || !(ih > 0))
        return 0.0;
    double inter = iw * ih, u = aw * ah + bw * bh - inter;
    return u > 0 ? inter / u : 0.0;
}

typedef struct sums {
    double coord, obj, noobj, cls;
    double iou, obj_resp, obj_all, p_true, r50, r75, resp, slots;
} sums;

/* One image's loss on view v; adds scale * dL/dv into g[K]. */
static void image_loss(sums *s, float *g, double scale, const view *v, const lt_box *gt, size_t ng,
                       const float *anchors, int Sh, int Sw, int A, int C)
{
    const size_t stride = (size_t)(5 * A + C);
    for (int i = 0; i < Sh; i++)
        for (int j = 0; j < Sw; j++) {
            const size_t cell = (size_t)i * (size_t)Sw + (size_t)j, base = cell * stride;
            for (int a = 0; a < A; a++) {
                const size_t k = base + 5 * (size_t)a, slot = cell * (size_t)A + (size_t)a;
                const double sx = sigmoid(at(v, k)), sy = sigmoid(at(v, k + 1)), tw = at(v, k + 2),
                             th = at(v, k + 3), so = sigmoid(at(v, k + 4));
                const double aw = anchors[2 * a], ah = anchors[2 * a + 1];
                const double bx = (j + sx) / Sw, by = (i + sy) / Sh, bw = aw * exp(tw) / Sw, bh = ah * exp(th) / Sh;
                /* the last GT box owning this slot wins (METHOD.md §9) */
                const lt_box *r = NULL;
                double best = 0;
                for (size_t q = 0; q < ng; q++) {
                    int oi, oj;
                    if (owner(&gt[q], anchors, Sh, Sw, A, &oi, &oj) == slot)
                        r = &gt[q];
                    best = fmax(best, iou_cs(bx, by, bw, bh, gt[q].cx, gt[q].cy, gt[q].w, gt[q].h));
                }
                s->obj_all += so;
                s->slots += 1;
                if (!r) {
                    /* not responsible: pushed towards 0 unless it already
                     * overlaps some GT box well (then left alone) */
                    if (best <= LT_DET_IGNORE_IOU) {
                        s->noobj += LT_DET_L_NOOBJ * so * so;
                        g[k + 4] += (float)(scale * LT_DET_L_NOOBJ * 2 * so * so * (1 - so));
                    }
                    continue;
                }
                const double cw = (double)r->w * Sw, chh = (double)r->h * Sh;
                const double ex = (double)r->cx * Sw - j, ey = (double)r->cy * Sh - i;
                const double ew = log(cw / aw), eh = log(chh / ah);
                const double wc = LT_DET_L_COORD * (2 - (double)r->w * r->h);
                s->coord += wc * ((sx - ex) * (sx - ex) + (sy - ey) * (sy - ey) + (tw - ew) * (tw - ew) +
                                  (th - eh) * (th - eh));
                g[k] += (float)(scale * wc * 2 * (sx - ex) * sx * (1 - sx));
                g[k + 1] += (float)(scale * wc * 2 * (sy - ey) * sy * (1 - sy));
                g[k + 2] += (float)(scale * wc * 2 * (tw - ew));
                g[k + 3] += (float)(scale * wc * 2 * (th - eh));
                s->obj += LT_DET_L_OBJ * (so - 1) * (so - 1);
                g[k + 4] += (float)(scale * LT_DET_L_OBJ * 2 * (so - 1) * so * (1 - so));
                /* class: cross-entropy of the cell's logits (shared by its slots) */
                const size_t kc = base + 5 * (size_t)A;
                double mx = at(v, kc), z = 0;
                for (int c = 1; c < C; c++)
                    mx = fmax(mx, at(v, kc + (size_t)c));
                for (int c = 0; c < C; c++)
                    z += exp(at(v, kc + (size_t)c) - mx);
                const double lse = mx + log(z);
                s->cls += LT_DET_L_CLS * (lse - at(v, kc + (size_t)r->cls));
                for (int c = 0; c < C; c++) {
                    double p = exp(at(v, kc + (size_t)c) - lse);
                    g[kc + (size_t)c] += (float)(scale * LT_DET_L_CLS * (p - (c == r->cls)));
                    if (c == r->cls)
                        s->p_true += p;
                }
                const double iou = iou_cs(bx, by, bw, bh, r->cx, r->cy, r->w, r->h);
                s->iou += iou;
                s->r50 += iou > 0.5;
                s->r75 += iou > 0.75;
                s->obj_resp += so;
                s->resp += 1;
            }
        }
}

lt_det_parts lt_det_loss(float *dO, const float *O, const lt_box *boxes, const uint32_t *box_start,
                         const float *anchors, const int grid[2], int A, int C, lt_det_loss_mode mode, int T, int B)
{
    assert(T >= 1 && B >= 1 && A >= 1 && C >= 1 && grid[0] >= 1 && grid[1] >= 1);
    const size_t K = lt_det_outputs(grid, A, C);
    memset(dO, 0, (size_t)T * (size_t)B * K * sizeof *dO);
    sums s;
    memset(&s, 0, sizeof s);
    const int views = mode == LT_DET_LOSS_TET ? T : 1;
    /* L = (1/B) sum_b L_b, and in tet mode also averaged over the T steps */
    const double scale = 1.0 / ((double)B * views);
    for (int b = 0; b < B; b++) {
        const lt_box *gt = boxes + box_start[b];
        const size_t ng = (size_t)(box_start[b + 1] - box_start[b]);
        for (size_t q = 0; q < ng; q++)
            assert(gt[q].w > 0 && gt[q].h > 0 && gt[q].cls >= 0 && gt[q].cls < C);
        if (mode == LT_DET_LOSS_TET) {
            for (int t = 0; t < T; t++) {
                view v = {O, K, T, B, b, t};
                image_loss(&s, dO + ((size_t)t * (size_t)B + (size_t)b) * K, scale, &v, gt, ng, anchors, grid[0],
                           grid[1], A, C);
            }
        } else {
            /* dL/dO_t = dL/dObar * dObar/dO_t = dL/dObar / T at every step */
            view v = {O, K, T, B, b, -1};
            float *g0 = dO + (size_t)b * K;
            image_loss(&s, g0, scale / T, &v, gt, ng, anchors, grid[0], grid[1], A, C);
            for (int t = 1; t < T; t++)
                memcpy(dO + ((size_t)t * (size_t)B + (size_t)b) * K, g0, K * sizeof *g0);
        }
    }
    lt_det_parts p;
    memset(&p, 0, sizeof p);
    p.coord = s.coord * scale, p.obj = s.obj * scale, p.noobj = s.noobj * scale, p.cls = s.cls * scale;
    p.loss = p.coord + p.obj + p.noobj + p.cls;
    if (s.resp > 0) {
        p.avg_iou = s.iou / s.resp, p.avg_obj = s.obj_resp / s.resp, p.avg_cls = s.p_true / s.resp;
        p.recall50 = s.r50 / s.resp, p.recall75 = s.r75 / s.resp;
    }
    p.avg_noobj = s.obj_all / s.slots;
    p.count = s.resp * scale;
    return p;
}
