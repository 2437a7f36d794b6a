/* head.c -- the detection head (ltsnn/detect.h, METHOD.md §9): an lt_head
 * of ltsnn/head.h around the kernels of loss.c, box.c and map.c.
 *
 * Training: lt_det_loss on the batch's boxes (lt_targets.boxes / box_start)
 * in mean or tet mode, with its parts and darknet's region-log numbers as
 * the head's statistics.  Evaluation: each image's time-averaged output
 * decoded and NMS'd, kept with its ground truth in sensor pixels and its
 * (recording, t_l) from the dataset the targets index; the result is the
 * Prophesee protocol over them (filters, one image per GT time stamp,
 * +-tol matching) through lt_map_eval_recordings.  Not here: the kernels
 * themselves, and where the targets come from (train/train.c). */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ltsnn/detect.h"
#include "ltsnn/io.h"

/* One evaluated image: where it comes from and its boxes in the pools. */
typedef struct det_image {
    uint32_t rec;
    int64_t t;
    size_t order;       /* when it was added (ties keep this order) */
    size_t gt0, n_gt, dt0, n_dt;
} det_image;

typedef struct detector {
    lt_head h;
    lt_det_head_config c;
    float *scratch;       /* [T, B, K] dL/dO when the caller wants the loss only */
    float *obar;          /* [K] one image's time average */
    lt_det *dets;         /* [Sh * Sw * A * C] decode output */
    /* the evaluation so far */
    det_image *im;
    size_t n_im, cap_im;
    lt_map_box *gt, *dt;  /* pools, pixels, t = the image's t_l */
    size_t n_gt, cap_gt, n_dt, cap_dt;
    lt_map_result last;
    int have_last;
    /* checkpoint metadata (meta()) */
    char anchors_txt[32 * LT_DET_MAX_ANCHORS], grid_txt[32];
    const char *meta[9];
} detector;

static const lt_head_kind detect_kind;

void lt_det_head_config_default(lt_det_head_config *c)
{
    memset(c, 0, sizeof *c);
    c->grid[0] = 6, c->grid[1] = 8;
    c->A = 2;
    c->C = LT_GEN1_CLASSES;
    c->mode = LT_DET_LOSS_MEAN;
    lt_map_filter_preset(&c->filter, "toolbox", NULL);
    c->tol_us = 50000;
}

const char *lt_det_loss_mode_name(lt_det_loss_mode m) { return m == LT_DET_LOSS_TET ? "tet" : "mean"; }

lt_status lt_det_loss_mode_parse(lt_det_loss_mode *m, const char *name, lt_err *err)
{
    if (!strcmp(name, "mean"))
        *m = LT_DET_LOSS_MEAN;
    else if (!strcmp(name, "tet"))
        *m = LT_DET_LOSS_TET;
    else
        return lt_err_set(err, LT_ERR_ARG, "detection loss '%s': expected mean (the loss of the time-averaged "
                          "output) or tet (the loss at every step, averaged)", name);
    return LT_OK;
}

/* ---- training ---- */

static double det_loss(lt_head *h, float *dO, const float *O, const lt_targets *y, lt_head_stats *s)
{
    detector *d = (detector *)h;
    const lt_det_head_config *c = &d->c;
    /* boxes of sample j: boxes[box_start[j] .. box_start[j + 1]) (none is legal, a missing start array is not) */
    assert(y->box_start);
    lt_det_parts p = lt_det_loss(dO ? dO : d->scratch, O, y->boxes, y->box_start, c->anchors, c->grid, c->A, c->C,
                                 c->mode, h->T, y->b);
    if (s) {
        const double b = (double)y->b;
        s->seen += (size_t)y->b;
        s->loss += p.loss * b;
        const double part[4] = {p.coord, p.obj, p.noobj, p.cls};
        const double metric[6] = {p.avg_iou, p.recall50, p.recall75, p.avg_obj, p.avg_noobj, p.avg_cls};
        for (int i = 0; i < 4; i++)
            s->part[i] += part[i] * b;
        for (int i = 0; i < 6; i++)
            s->metric[i] += metric[i] * b;
    }
    return p.loss;
}

/* ---- evaluation ---- */

static void det_eval_reset(lt_head *h)
{
    detector *d = (detector *)h;
    d->n_im = d->n_gt = d->n_dt = 0;
    d->have_last = 0;
}

/* room for n more elements of size sz in *p (capacity *cap, count used) */
static int grow(void **p, size_t *cap, size_t used, size_t n, size_t sz)
{
    if (used + n <= *cap)
        return 1;
    size_t c = *cap ? *cap : 64;
    while (c < used + n)
        c *= 2;
    void *q = realloc(*p, c * sz);
    if (!q)
        return 0;
    *p = q, *cap = c;
    return 1;
}

static lt_status det_eval_add(lt_head *h, const float *O, const lt_targets *y, lt_err *err)
{
    detector *d = (detector *)h;
    const lt_det_head_config *c = &d->c;
    const lt_dataset *ds = y->data;
    if (!ds || !y->ids || !y->box_start)
        return lt_err_set(err, LT_ERR_ARG, "detection evaluation needs targets with boxes, dataset indices and the "
                          "dataset (lt_targets.box_start, ids, data): each image is a (recording, time) of it");
    if (ds->task != LT_TASK_DETECT || !ds->sample_rec || !ds->sample_t || ds->sensor_w < 1 || ds->sensor_h < 1)
        return lt_err_set(err, LT_ERR_ARG, "detection evaluation: dataset '%s' holds no recordings, times and "
                          "sensor size (not a detection cache)", ds->name);
    const float sw = (float)ds->sensor_w, sh = (float)ds->sensor_h;
    const size_t K = (size_t)h->K;
    for (int j = 0; j < y->b; j++) {
        const uint64_t id = y->ids[j];
        if (id >= ds->n)
            return lt_err_set(err, LT_ERR_ARG, "detection evaluation: sample %d has index %" PRIu64 ", the dataset "
                              "'%s' has %zu samples", j, id, ds->name, ds->n);
        const size_t ng = (size_t)(y->box_start[j + 1] - y->box_start[j]);
        lt_det_time_mean(d->obar, O, h->T, y->b, j, K);
        const size_t nd = lt_det_detect(d->dets, d->obar, c->anchors, c->grid, c->A, c->C);
        if (!grow((void **)&d->im, &d->cap_im, d->n_im, 1, sizeof *d->im) ||
            !grow((void **)&d->gt, &d->cap_gt, d->n_gt, ng, sizeof *d->gt) ||
            !grow((void **)&d->dt, &d->cap_dt, d->n_dt, nd, sizeof *d->dt))
            return lt_err_set(err, LT_ERR_NOMEM, "detection evaluation: out of memory after %zu images", d->n_im);
        const int64_t t = ds->sample_t[id];
        d->im[d->n_im] = (det_image){ds->sample_rec[id], t, d->n_im, d->n_gt, ng, d->n_dt, nd};
        d->n_im++;
        /* METHOD.md §9: both sides as top-left corner and size in sensor pixels */
        for (size_t q = 0; q < ng; q++) {
            const lt_box *g = &y->boxes[y->box_start[j] + q];
            d->gt[d->n_gt++] = (lt_map_box){t, (g->cx - g->w / 2) * sw, (g->cy - g->h / 2) * sh, g->w * sw, g->h * sh,
                                            0, g->cls};
        }
        for (size_t q = 0; q < nd; q++) {
            const lt_det *e = &d->dets[q];
            d->dt[d->n_dt++] = (lt_map_box){t, e->x0 * sw, e->y0 * sh, (e->x1 - e->x0) * sw, (e->y1 - e->y0) * sh,
                                            e->score, e->cls};
        }
    }
    return LT_OK;
}

static int cmp_image(const void *pa, const void *pb)
{
    const det_image *a = pa, *b = pb;
    if (a->rec != b->rec)
        return a->rec < b->rec ? -1 : 1;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static lt_status det_eval_result(lt_head *h, lt_eval_result *r, lt_err *err)
{
    detector *d = (detector *)h;
    memset(r, 0, sizeof *r);
    r->n = 4;
    r->name[0] = "voc", r->name[1] = "map", r->name[2] = "ap50", r->name[3] = "ap75";
    if (!d->n_im)
        return LT_OK;
    /* per recording, in time order: the protocol filters in place, so it
     * works on copies and the pools stay as they were */
    det_image *im = malloc(d->n_im * sizeof *im);
    lt_map_box *gt = malloc((d->n_gt + 1) * sizeof *gt), *dt = malloc((d->n_dt + 1) * sizeof *dt);
    lt_map_rec *recs = calloc(d->n_im, sizeof *recs);
    lt_status st = LT_OK;
    if (!im || !gt || !dt || !recs) {
        st = lt_err_set(err, LT_ERR_NOMEM, "detection evaluation: out of memory for %zu images", d->n_im);
        goto done;
    }
    memcpy(im, d->im, d->n_im * sizeof *im);
    qsort(im, d->n_im, sizeof *im, cmp_image);
    size_t n_rec = 0, ng = 0, nd = 0;
    for (size_t i = 0; i < d->n_im; i++) {
        if (i == 0 || im[i].rec != im[i - 1].rec) {
            recs[n_rec++] = (lt_map_rec){gt + ng, 0, dt + nd, 0, NULL};
        }
        lt_map_rec *rc = &recs[n_rec - 1];
        memcpy(gt + ng, d->gt + im[i].gt0, im[i].n_gt * sizeof *gt);
        memcpy(dt + nd, d->dt + im[i].dt0, im[i].n_dt * sizeof *dt);
        ng += im[i].n_gt, nd += im[i].n_dt;
        rc->n_gt += im[i].n_gt, rc->n_dt += im[i].n_dt;
    }
    if ((st = lt_map_eval_recordings(&d->last, recs, n_rec, d->c.C, &d->c.filter, d->c.tol_us, err)))
        goto done;
    d->have_last = 1;
    r->value[0] = d->last.voc, r->value[1] = d->last.coco, r->value[2] = d->last.ap50, r->value[3] = d->last.ap75;
done:
    free(im), free(gt), free(dt), free(recs);
    return st;
}

static lt_status det_check_data(const lt_head *h, const lt_dataset *d, const char *what, lt_err *err)
{
    const detector *dh = (const detector *)h;
    if (d->task != LT_TASK_DETECT)
        return lt_err_set(err, LT_ERR_ARG, "%s data '%s' is a classification dataset (labels, no boxes): the "
                          "detection head needs a detection cache (ltsnn data prepare gen1)", what, d->name);
    if (d->classes != dh->c.C)
        return lt_err_set(err, LT_ERR_SHAPE, "%s data has %d classes, the detection head %d (its output is %dx%d "
                          "cells x (5 x %d anchors + %d classes))", what, d->classes, dh->c.C, dh->c.grid[0],
                          dh->c.grid[1], dh->c.A, dh->c.C);
    return LT_OK;
}

static const char *const *det_meta(const lt_head *h) { return ((const detector *)h)->meta; }

static void det_free(lt_head *h)
{
    detector *d = (detector *)h;
    lt_free(d->scratch);
    free(d->obar);
    free(d->dets);
    free(d->im);
    free(d->gt);
    free(d->dt);
    free(d);
}

static const lt_head_kind detect_kind = {
    .name = "detect", .n_parts = 4, .part = {"coord", "obj", "noobj", "cls"}, .n_metrics = 6,
    .metric = {"avg_iou", "recall50", "recall75", "avg_obj", "avg_noobj", "avg_cls"},
    .loss = det_loss, .eval_reset = det_eval_reset, .eval_add = det_eval_add, .eval_result = det_eval_result,
    .check_data = det_check_data, .meta = det_meta, .free = det_free,
};

static lt_status check_config(const lt_det_head_config *c, lt_err *err)
{
    if (c->grid[0] < 1 || c->grid[1] < 1 || c->A < 1 || c->A > LT_DET_MAX_ANCHORS || c->C < 1 ||
        c->C > LT_MAP_MAX_CLASSES)
        return lt_err_set(err, LT_ERR_ARG, "detection head: grid %dx%d, %d anchors, %d classes (expected a grid of at "
                          "least 1x1, 1..%d anchors, 1..%d classes)", c->grid[0], c->grid[1], c->A, c->C,
                          LT_DET_MAX_ANCHORS, LT_MAP_MAX_CLASSES);
    for (int k = 0; k < 2 * c->A; k++)
        if (!(c->anchors[k] > 0) || !(c->anchors[k] < 1e30f))
            return lt_err_set(err, LT_ERR_ARG, "detection head: anchor %d is %g x %g cells (anchors must be positive: "
                              "k-means on the training boxes, --anchors or a checkpoint's)", k / 2,
                              (double)c->anchors[k & ~1], (double)c->anchors[k | 1]);
    if (c->mode != LT_DET_LOSS_MEAN && c->mode != LT_DET_LOSS_TET)
        return lt_err_set(err, LT_ERR_ARG, "detection head: loss mode %d (expected mean or tet)", (int)c->mode);
    if (c->tol_us < 0)
        return lt_err_set(err, LT_ERR_ARG, "detection head: time tolerance %lld us (expected >= 0)",
                          (long long)c->tol_us);
    return LT_OK;
}

lt_status lt_head_detect(lt_head **out, const lt_net *net, const lt_det_head_config *c, lt_err *err)
{
    *out = NULL;
    lt_status st = check_config(c, err);
    if (st)
        return st;
    const size_t K = lt_det_outputs(c->grid, c->A, c->C);
    if ((size_t)lt_net_classes(net) != K)
        return lt_err_set(err, LT_ERR_SHAPE, "detection head: a %dx%d grid with %d anchors and %d classes needs %zu "
                          "outputs a step (%d x %d x (5 x %d + %d)), the model has %d (its last FC)", c->grid[0],
                          c->grid[1], c->A, c->C, K, c->grid[0], c->grid[1], c->A, c->C, lt_net_classes(net));
    const lt_net_config *nc = lt_net_cfg(net);
    detector *d = calloc(1, sizeof *d);
    if (!d)
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory");
    d->h = (lt_head){.kind = &detect_kind, .net = net, .T = nc->T, .K = (int)K};
    d->c = *c;
    d->scratch = lt_alloc((size_t)nc->T * (size_t)nc->B * K * sizeof *d->scratch);
    d->obar = malloc(K * sizeof *d->obar);
    d->dets = malloc((size_t)c->grid[0] * (size_t)c->grid[1] * (size_t)c->A * (size_t)c->C * sizeof *d->dets);
    if (!d->scratch || !d->obar || !d->dets) {
        det_free(&d->h);
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory for the detection head (%zu outputs)", K);
    }
    if ((st = lt_det_anchors_format(d->anchors_txt, sizeof d->anchors_txt, c->anchors, c->A, err))) {
        det_free(&d->h);
        return st;
    }
    snprintf(d->grid_txt, sizeof d->grid_txt, "%dx%d", c->grid[0], c->grid[1]);
    const char *meta[9] = {"anchors", d->anchors_txt, "grid", d->grid_txt, "det_loss", lt_det_loss_mode_name(c->mode),
                           "det_filter", d->c.filter.name, NULL};
    memcpy(d->meta, meta, sizeof meta);
    *out = &d->h;
    return LT_OK;
}

const lt_det_head_config *lt_head_detect_config(const lt_head *h)
{
    return h && h->kind == &detect_kind ? &((const detector *)h)->c : NULL;
}

const lt_map_result *lt_head_detect_map(const lt_head *h)
{
    const detector *d = h && h->kind == &detect_kind ? (const detector *)h : NULL;
    return d && d->have_last ? &d->last : NULL;
}

lt_status lt_det_head_config_read(lt_det_head_config *c, const char *path, int K, int *found, lt_err *err)
{
    *found = 0;
    lt_st_file f;
    lt_status st = lt_st_read(&f, path, err);
    if (st)
        return st;
    const char *an = lt_st_meta(&f, "anchors"), *gr = lt_st_meta(&f, "grid"), *mo = lt_st_meta(&f, "det_loss");
    const char *kv = lt_st_meta(&f, "classes");
    if (!an && !gr && !mo)
        goto done;
    if (K <= 0 && (!kv || (K = atoi(kv)) <= 0)) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: metadata has no 'classes' (the model's outputs)", path);
        goto done;
    }
    lt_det_head_config n = *c;
    if (!an || !gr) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: metadata has %s but no %s (a detector's checkpoint has both)", path,
                        an ? "anchors" : "grid", an ? "grid" : "anchors");
        goto done;
    }
    if ((st = lt_det_grid_parse(n.grid, gr, err)))
        goto prefix;
    /* A from the number of values: "aw0,ah0,aw1,ah1" */
    int values = 1;
    for (const char *p = an; *p; p++)
        values += *p == ',';
    if (values % 2 || values / 2 > LT_DET_MAX_ANCHORS) {
        st = lt_err_set(err, LT_ERR_FORMAT, "anchors '%s': %d values, expected pairs aw,ah (at most %d)", an, values,
                        LT_DET_MAX_ANCHORS);
        goto prefix;
    }
    n.A = values / 2;
    if ((st = lt_det_anchors_parse(n.anchors, n.A, an, err)))
        goto prefix;
    if (mo && (st = lt_det_loss_mode_parse(&n.mode, mo, err)))
        goto prefix;
    /* C from K = Sh * Sw * (5A + C) */
    const long cells = (long)n.grid[0] * n.grid[1], per = cells ? K / cells : 0;
    if (K % cells || per - 5L * n.A < 1) {
        st = lt_err_set(err, LT_ERR_FORMAT, "the model's %d outputs are not %s cells x (5 x %d anchors + C classes)",
                        K, gr, n.A);
        goto prefix;
    }
    n.C = (int)(per - 5L * n.A);
    *c = n;
    *found = 1;
    goto done;
prefix:
    lt_err_prefix(err, "%s: metadata: ", path);
done:
    lt_st_free(&f);
    return st;
}
