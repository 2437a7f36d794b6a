/* map.c -- detection metrics (METHOD.md §9): COCO mAP@[.5:.95] computed
 * the way pycocotools' COCOeval does for bounding boxes, VOC AP at IoU 0.5
 * with all-point interpolation, and the Prophesee protocol around them
 * (box filters, one image per ground-truth timestamp, detections matched
 * within +-tol of it).
 *
 * The COCO rules reproduced, per class and image: detections ranked by
 * score (stable), at most 100; IoU as COCO's bbIou (no +1 pixel); for each
 * IoU threshold linspace(.5, .95, 10), each detection in rank order takes
 * the unmatched GT box of largest IoU >= threshold (a later GT box wins a
 * tie); then per class all images' detections ranked by score (stable, in
 * image order), precision made monotone, read at the 101 recall points
 * linspace(0, 1, 101) by searchsorted(side='left'), 0 past the last
 * recall; a class without GT is left out of the mean.  tests/data/map_ref.py
 * is an independent Python implementation the tests compare against.
 * Not here: where the boxes come from (gen1.c, the CLI). */
#include "ltsnn/detect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_IOU 10
#define N_REC 101
#define COCO_MAX_DETS 100
#define VOC_IOU 0.5

/* numpy's linspace(.5, .95, 10) and linspace(0, 1, 101), bit for bit:
 * start + i * ((stop - start) / (num - 1)), the last one exactly stop. */
static void thresholds(double *iou, double *rec)
{
    const double step = (0.95 - 0.5) / (N_IOU - 1);
    for (int i = 0; i < N_IOU - 1; i++)
        iou[i] = (double)i * step + 0.5;
    iou[N_IOU - 1] = 0.95;
    const double rstep = 1.0 / (N_REC - 1);
    for (int i = 0; i < N_REC - 1; i++)
        rec[i] = (double)i * rstep;
    rec[N_REC - 1] = 1.0;
}

/* COCO's bbIou for boxes (x, y, w, h), in double. */
static double iou_xywh(const lt_map_box *d, const lt_map_box *g)
{
    double dx = d->x, dy = d->y, dw = d->w, dh = d->h, gx = g->x, gy = g->y, gw = g->w, gh = g->h;
    double w = fmin(dw + dx, gw + gx) - fmax(dx, gx);
    if (w <= 0)
        return 0;
    double h = fmin(dh + dy, gh + gy) - fmax(dy, gy);
    if (h <= 0)
        return 0;
    double i = w * h;
    return i / (dw * dh + gw * gh - i);
}

/* A ranked detection: score, then the order it was met in (stable sorts). */
typedef struct ranked {
    double score;
    size_t order;
    size_t image, index; /* where it came from */
    uint16_t match;      /* COCO: bit t set when matched at threshold t */
} ranked;

static int cmp_ranked(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

typedef struct scratch {
    ranked *all;     /* [total dets] */
    ranked *img;     /* [max dets of an image] */
    size_t *gt;      /* [max GT of an image] indices of the class's GT boxes */
    double *iou;     /* [min(max dets, 100) * max GT] */
    uint8_t *gtm;    /* [max GT] */
    double *pr, *rc; /* [total dets] precision and recall at each rank */
    uint8_t *voc_m;  /* [total GT] */
    size_t *gt_off;  /* [n + 1] */
} scratch;

/* The class-k GT boxes of image m, in order, into s->gt; returns the count. */
static size_t class_gt(scratch *s, const lt_map_image *m, int k)
{
    size_t ng = 0;
    for (size_t g = 0; g < m->n_gt; g++)
        if (m->gt[g].cls == k)
            s->gt[ng++] = g;
    return ng;
}

/* COCO AP of class k: *ap over all thresholds, ap_t[t] per threshold; -1 without GT. */
static void coco_class(scratch *s, const lt_map_image *im, size_t n, int k, double *ap, double *ap_t)
{
    double iou_thr[N_IOU], rec_thr[N_REC];
    thresholds(iou_thr, rec_thr);
    size_t nall = 0, npig = 0;
    for (size_t i = 0; i < n; i++) {
        const lt_map_image *m = &im[i];
        size_t ng = class_gt(s, m, k), nd = 0;
        for (size_t d = 0; d < m->n_dt; d++)
            if (m->dt[d].cls == k)
                s->img[nd] = (ranked){m->dt[d].score, d, i, d, 0}, nd++;
        npig += ng;
        if (!nd)
            continue;
        qsort(s->img, nd, sizeof *s->img, cmp_ranked);
        if (nd > COCO_MAX_DETS)
            nd = COCO_MAX_DETS;
        for (size_t d = 0; d < nd; d++)
            for (size_t g = 0; g < ng; g++)
                s->iou[d * ng + g] = iou_xywh(&m->dt[s->img[d].index], &m->gt[s->gt[g]]);
        for (int t = 0; t < N_IOU; t++) {
            memset(s->gtm, 0, ng);
            for (size_t d = 0; d < nd; d++) {
                double best = fmin(iou_thr[t], 1 - 1e-10);
                size_t mg = (size_t)-1;
                for (size_t g = 0; g < ng; g++) {
                    if (s->gtm[g])
                        continue;
                    if (s->iou[d * ng + g] < best)
                        continue;
                    best = s->iou[d * ng + g];
                    mg = g;
                }
                if (mg == (size_t)-1)
                    continue;
                s->gtm[mg] = 1;
                s->img[d].match |= (uint16_t)(1u << t);
            }
        }
        for (size_t d = 0; d < nd; d++) {
            s->all[nall] = s->img[d];
            s->all[nall].order = nall;
            nall++;
        }
    }
    if (npig == 0) {
        *ap = -1;
        for (int t = 0; t < N_IOU; t++)
            ap_t[t] = -1;
        return;
    }
    qsort(s->all, nall, sizeof *s->all, cmp_ranked);
    double sum_all = 0;
    for (int t = 0; t < N_IOU; t++) {
        double tp = 0, fp = 0;
        for (size_t d = 0; d < nall; d++) {
            if (s->all[d].match >> t & 1)
                tp += 1;
            else
                fp += 1;
            s->rc[d] = tp / (double)npig;
            s->pr[d] = tp / (fp + tp + 2.220446049250313e-16); /* + np.spacing(1) */
        }
        for (size_t d = nall; d-- > 1;)
            if (s->pr[d] > s->pr[d - 1])
                s->pr[d - 1] = s->pr[d];
        /* precision at the first rank whose recall reaches each recall point
         * (searchsorted, side='left'), 0 past the last; both rise, so one walk */
        double sum = 0;
        size_t d = 0;
        for (int r = 0; r < N_REC; r++) {
            while (d < nall && s->rc[d] < rec_thr[r])
                d++;
            sum += d < nall ? s->pr[d] : 0.0;
        }
        ap_t[t] = sum / N_REC;
        sum_all += ap_t[t];
    }
    *ap = sum_all / N_IOU;
}

/* VOC AP of class k at IoU >= 0.5, all-point interpolation; -1 without GT. */
static double voc_class(scratch *s, const lt_map_image *im, size_t n, int k)
{
    size_t nall = 0, npos = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t g = 0; g < im[i].n_gt; g++)
            npos += im[i].gt[g].cls == k;
        for (size_t d = 0; d < im[i].n_dt; d++)
            if (im[i].dt[d].cls == k) {
                s->all[nall] = (ranked){im[i].dt[d].score, nall, i, d, 0};
                nall++;
            }
    }
    if (npos == 0)
        return -1;
    qsort(s->all, nall, sizeof *s->all, cmp_ranked);
    memset(s->voc_m, 0, s->gt_off[n] ? s->gt_off[n] : 1);
    double tp = 0, fp = 0, ap = 0, prev_rec = 0;
    /* pr[d] = precision after d+1 detections; the recall there is tp/npos */
    for (size_t d = 0; d < nall; d++) {
        const lt_map_image *m = &im[s->all[d].image];
        const lt_map_box *b = &m->dt[s->all[d].index];
        double ovmax = -1;
        size_t jmax = 0;
        for (size_t g = 0; g < m->n_gt; g++)
            if (m->gt[g].cls == k) {
                double o = iou_xywh(b, &m->gt[g]);
                if (o > ovmax)
                    ovmax = o, jmax = g;
            }
        /* the best-overlapping GT box counts once: a second hit on it is a false positive */
        uint8_t *used = &s->voc_m[s->gt_off[s->all[d].image] + jmax];
        if (ovmax >= VOC_IOU && !*used) {
            *used = 1;
            tp += 1;
        } else {
            fp += 1;
        }
        s->pr[d] = tp / (tp + fp);
        s->rc[d] = tp / (double)npos;
    }
    /* precision envelope from the right, then the area under the step
     * function where the recall changes */
    for (size_t d = nall; d-- > 1;)
        if (s->pr[d] > s->pr[d - 1])
            s->pr[d - 1] = s->pr[d];
    for (size_t d = 0; d < nall; d++)
        if (s->rc[d] != prev_rec) {
            ap += (s->rc[d] - prev_rec) * s->pr[d];
            prev_rec = s->rc[d];
        }
    return ap;
}

static lt_status check_boxes(const lt_map_box *b, size_t nb, int classes, int is_dt, size_t image, lt_err *err)
{
    for (size_t k = 0; k < nb; k++)
        if (b[k].cls < 0 || b[k].cls >= classes || !isfinite(b[k].x) || !isfinite(b[k].y) || !isfinite(b[k].w) ||
            !isfinite(b[k].h) || (is_dt && !isfinite(b[k].score)))
            return lt_err_set(err, LT_ERR_ARG, "map: image %zu %s box %zu: class %d, box (%g, %g, %g, %g), score %g; "
                              "expected a class in 0..%d and finite numbers", image, is_dt ? "detection" : "ground-truth",
                              k, (int)b[k].cls, (double)b[k].x, (double)b[k].y, (double)b[k].w, (double)b[k].h,
                              (double)b[k].score, classes - 1);
    return LT_OK;
}

lt_status lt_map_eval(lt_map_result *r, const lt_map_image *im, size_t n, int classes, lt_err *err)
{
    memset(r, 0, sizeof *r);
    if (classes < 1 || classes > LT_MAP_MAX_CLASSES)
        return lt_err_set(err, LT_ERR_ARG, "map: %d classes, expected 1..%d", classes, LT_MAP_MAX_CLASSES);
    size_t total_dt = 0, total_gt = 0, max_dt = 0, max_gt = 0;
    lt_status st;
    for (size_t i = 0; i < n; i++) {
        if ((st = check_boxes(im[i].gt, im[i].n_gt, classes, 0, i, err)) ||
            (st = check_boxes(im[i].dt, im[i].n_dt, classes, 1, i, err)))
            return st;
        total_dt += im[i].n_dt, total_gt += im[i].n_gt;
        max_dt = im[i].n_dt > max_dt ? im[i].n_dt : max_dt;
        max_gt = im[i].n_gt > max_gt ? im[i].n_gt : max_gt;
        for (size_t g = 0; g < im[i].n_gt; g++)
            r->n_gt[im[i].gt[g].cls]++;
        for (size_t d = 0; d < im[i].n_dt; d++)
            r->n_dt[im[i].dt[d].cls]++;
    }
    r->classes = classes;
    r->images = n;
    scratch s;
    size_t max_dt100 = max_dt < COCO_MAX_DETS ? max_dt : COCO_MAX_DETS;
    s.all = malloc((total_dt + 1) * sizeof *s.all);
    s.img = malloc((max_dt + 1) * sizeof *s.img);
    s.gt = malloc((max_gt + 1) * sizeof *s.gt);
    s.iou = malloc((max_dt100 * max_gt + 1) * sizeof *s.iou);
    s.gtm = malloc(max_gt + 1);
    s.pr = malloc((total_dt + 1) * sizeof *s.pr);
    s.rc = malloc((total_dt + 1) * sizeof *s.rc);
    s.voc_m = malloc(total_gt + 1);
    s.gt_off = malloc((n + 1) * sizeof *s.gt_off);
    if (!s.all || !s.img || !s.gt || !s.iou || !s.gtm || !s.pr || !s.rc || !s.voc_m || !s.gt_off) {
        st = lt_err_set(err, LT_ERR_NOMEM, "map: cannot allocate for %zu detections and %zu boxes", total_dt,
                        total_gt);
        goto free_all;
    }
    s.gt_off[0] = 0;
    for (size_t i = 0; i < n; i++)
        s.gt_off[i + 1] = s.gt_off[i] + im[i].n_gt;
    double sum_coco = 0, sum50 = 0, sum75 = 0, sum_voc = 0;
    int with_gt = 0;
    for (int k = 0; k < classes; k++) {
        double ap_t[N_IOU];
        coco_class(&s, im, n, k, &r->coco_cls[k], ap_t);
        r->ap50_cls[k] = ap_t[0];
        r->voc_cls[k] = voc_class(&s, im, n, k);
        if (r->coco_cls[k] < 0)
            continue;
        with_gt++;
        sum_coco += r->coco_cls[k], sum50 += ap_t[0], sum75 += ap_t[5], sum_voc += r->voc_cls[k];
    }
    r->coco = with_gt ? sum_coco / with_gt : -1;
    r->ap50 = with_gt ? sum50 / with_gt : -1;
    r->ap75 = with_gt ? sum75 / with_gt : -1;
    r->voc = with_gt ? sum_voc / with_gt : -1;
    st = LT_OK;
free_all:
    free(s.all), free(s.img), free(s.gt), free(s.iou), free(s.gtm), free(s.pr), free(s.rc), free(s.voc_m), free(s.gt_off);
    return st;
}

/* ---- the Prophesee protocol ---- */

lt_status lt_map_filter_preset(lt_map_filter *f, const char *name, lt_err *err)
{
    static const struct {
        const char *name;
        int64_t skip_us;
        float diag, side;
    } presets[] = {{"toolbox", 100000, 30, 20}, {"paper", 500000, 30, 10}, {"none", 0, 0, 0}};
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(name, presets[i].name)) {
            memset(f, 0, sizeof *f);
            strcpy(f->name, presets[i].name);
            f->skip_us = presets[i].skip_us, f->min_diag = presets[i].diag, f->min_side = presets[i].side;
            f->active = strcmp(name, "none") != 0;
            return LT_OK;
        }
    return lt_err_set(err, LT_ERR_ARG, "filter '%s': expected toolbox (skip 0.1 s, diagonal 30, side 20), paper "
                      "(0.5 s, 30, 10) or none", name);
}

size_t lt_map_filter_apply(lt_map_box *b, size_t n, const lt_map_filter *f)
{
    if (!f->active)
        return n;
    size_t kept = 0;
    const float diag2 = f->min_diag * f->min_diag;
    for (size_t i = 0; i < n; i++) {
        /* float32 as the toolbox's numpy computes w**2 + h**2; volatile
         * keeps the compiler from fusing it into one rounding */
        volatile float w2 = b[i].w * b[i].w, h2 = b[i].h * b[i].h;
        volatile float d2 = w2 + h2;
        if (b[i].t > f->skip_us && d2 >= diag2 && b[i].w >= f->min_side && b[i].h >= f->min_side)
            b[kept++] = b[i];
    }
    return kept;
}

/* One recording's boxes: in time order, classes in range (named by recording and box). */
static lt_status check_rec(const lt_map_box *b, size_t n, int classes, const char *name, const char *what, lt_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && b[i].t < b[i - 1].t)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: %s box %zu has t %lld, before box %zu's %lld (boxes must be in "
                              "time order)", name ? name : "recording", what, i, (long long)b[i].t, i - 1,
                              (long long)b[i - 1].t);
        if (b[i].cls < 0 || b[i].cls >= classes)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: %s box %zu has class %d, expected 0..%d",
                              name ? name : "recording", what, i, (int)b[i].cls, classes - 1);
    }
    return LT_OK;
}

lt_status lt_map_eval_recordings(lt_map_result *r, lt_map_rec *recs, size_t n, int classes, const lt_map_filter *f,
                                 int64_t tol_us, lt_err *err)
{
    lt_status st;
    size_t images = 0;
    for (size_t k = 0; k < n; k++) {
        lt_map_rec *rc = &recs[k];
        if ((st = check_rec(rc->gt, rc->n_gt, classes, rc->name, "ground-truth", err)) ||
            (st = check_rec(rc->dt, rc->n_dt, classes, rc->name, "detection", err)))
            return st;
        if (f) {
            rc->n_gt = lt_map_filter_apply(rc->gt, rc->n_gt, f);
            rc->n_dt = lt_map_filter_apply(rc->dt, rc->n_dt, f);
        }
        for (size_t i = 0; i < rc->n_gt; i++)
            images += i == 0 || rc->gt[i].t != rc->gt[i - 1].t;
    }
    lt_map_image *im = calloc(images + 1, sizeof *im);
    if (!im)
        return lt_err_set(err, LT_ERR_NOMEM, "map: cannot allocate %zu images", images);
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        const lt_map_rec *rc = &recs[k];
        /* one image per unique GT timestamp ts: its GT boxes, and the
         * detections with ts - tol <= t <= ts + tol (both windows only move
         * forward, as the toolbox's _match_times walks them) */
        size_t lo_dt = 0, hi_dt = 0;
        for (size_t i = 0; i < rc->n_gt;) {
            const int64_t ts = rc->gt[i].t;
            size_t j = i;
            while (j < rc->n_gt && rc->gt[j].t == ts)
                j++;
            while (lo_dt < rc->n_dt && rc->dt[lo_dt].t < ts - tol_us)
                lo_dt++;
            if (hi_dt < lo_dt)
                hi_dt = lo_dt;
            while (hi_dt < rc->n_dt && rc->dt[hi_dt].t <= ts + tol_us)
                hi_dt++;
            im[m++] = (lt_map_image){rc->gt + i, j - i, rc->dt + lo_dt, hi_dt - lo_dt};
            i = j;
        }
    }
    st = lt_map_eval(r, im, images, classes, err);
    free(im);
    return st;
}
