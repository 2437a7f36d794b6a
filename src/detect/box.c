/* box.c -- boxes of the detection head (METHOD.md §9): IoU, decoding a
 * head's outputs into scored boxes, non-maximum suppression, anchors by
 * k-means, and the small text forms of anchors and grid a checkpoint keeps.
 *
 * Pure functions of arrays, no allocation except the k-means assignment
 * list.  Not here: the loss (loss.c) and the metrics (map.c). */
#include "ltsnn/detect.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GRID 1024
#define KMEANS_MAX_ITERS 1000

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

size_t lt_det_outputs(const int grid[2], int A, int C)
{
    return (size_t)grid[0] * (size_t)grid[1] * (size_t)(5 * A + C);
}

void lt_det_time_mean(float *obar, const float *O, int T, int B, int b, size_t K)
{
    assert(T >= 1 && b >= 0 && b < B);
    for (size_t k = 0; k < K; k++) {
        double s = 0;
        for (int t = 0; t < T; t++)
            s += O[((size_t)t * (size_t)B + (size_t)b) * K + k];
        obar[k] = (float)(s / T);
    }
}

double lt_det_iou(const lt_det *a, const lt_det *b)
{
    double iw = fmin(a->x1, b->x1) - fmax(a->x0, b->x0);
    double ih = fmin(a->y1, b->y1) - fmax(a->y0, b->y0);
    if (!(iw > 0) || !(ih > 0))
        return 0.0;
    double inter = iw * ih;
    double u = ((double)a->x1 - a->x0) * ((double)a->y1 - a->y0) + ((double)b->x1 - b->x0) * ((double)b->y1 - b->y0) -
               inter;
    return u > 0 ? inter / u : 0.0;
}

double lt_det_iou_wh(double w0, double h0, double w1, double h1)
{
    double inter = fmin(w0, w1) * fmin(h0, h1);
    double u = w0 * h0 + w1 * h1 - inter;
    return u > 0 ? inter / u : 0.0;
}

/* ---- decode and NMS ---- */

static float clip01(double v) { return (float)(v < 0 ? 0 : v > 1 ? 1 : v); }

size_t lt_det_decode(lt_det *out, const float *o, const float *anchors, const int grid[2], int A, int C,
                     float score_min)
{
    const int Sh = grid[0], Sw = grid[1], stride = 5 * A + C;
    size_t n = 0;
    for (int i = 0; i < Sh; i++)
        for (int j = 0; j < Sw; j++) {
            const float *cell = o + ((size_t)i * (size_t)Sw + (size_t)j) * (size_t)stride;
            /* class probabilities: softmax over the cell's C logits */
            const float *lg = cell + 5 * A;
            double mx = lg[0], z = 0;
            for (int c = 1; c < C; c++)
                mx = fmax(mx, lg[c]);
            for (int c = 0; c < C; c++)
                z += exp(lg[c] - mx);
            for (int a = 0; a < A; a++) {
                const float *s = cell + 5 * a;
                double bx = (j + sigmoid(s[0])) / Sw, by = (i + sigmoid(s[1])) / Sh;
                double bw = anchors[2 * a] * exp(s[2]) / Sw, bh = anchors[2 * a + 1] * exp(s[3]) / Sh;
                double obj = sigmoid(s[4]);
                lt_det d = {clip01(bx - bw / 2), clip01(by - bh / 2), clip01(bx + bw / 2), clip01(by + bh / 2), 0, 0};
                if (!(d.x1 > d.x0) || !(d.y1 > d.y0))
                    continue;
                for (int c = 0; c < C; c++) {
                    float score = (float)(obj * exp(lg[c] - mx) / z);
                    if (!(score >= score_min))
                        continue;
                    d.score = score;
                    d.cls = c;
                    out[n++] = d;
                }
            }
        }
    return n;
}

/* Descending score; ties by class then corners, so the order is fixed. */
static int cmp_det(const void *pa, const void *pb)
{
    const lt_det *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    const float ka[4] = {a->x0, a->y0, a->x1, a->y1}, kb[4] = {b->x0, b->y0, b->x1, b->y1};
    for (int k = 0; k < 4; k++)
        if (ka[k] != kb[k])
            return ka[k] < kb[k] ? -1 : 1;
    return 0;
}

size_t lt_det_nms(lt_det *d, size_t n, float iou_max, size_t keep_max)
{
    qsort(d, n, sizeof *d, cmp_det);
    size_t kept = 0;
    for (size_t i = 0; i < n && kept < keep_max; i++) {
        int suppressed = 0;
        for (size_t k = 0; k < kept && !suppressed; k++)
            suppressed = d[k].cls == d[i].cls && lt_det_iou(&d[k], &d[i]) > iou_max;
        if (!suppressed)
            d[kept++] = d[i];
    }
    return kept;
}

size_t lt_det_detect(lt_det *out, const float *o, const float *anchors, const int grid[2], int A, int C)
{
    size_t n = lt_det_decode(out, o, anchors, grid, A, C, LT_DET_SCORE_MIN);
    return lt_det_nms(out, n, LT_DET_NMS_IOU, LT_DET_MAX_DETS);
}

/* ---- anchors ---- */

static int best_anchor(const float *c, int A, double w, double h, double *iou)
{
    int best = 0;
    double bi = -1;
    for (int a = 0; a < A; a++) {
        double v = lt_det_iou_wh(w, h, c[2 * a], c[2 * a + 1]);
        if (v > bi)
            bi = v, best = a;
    }
    *iou = bi;
    return best;
}

static int cmp_anchor(const void *pa, const void *pb)
{
    const float *a = pa, *b = pb;
    double aa = (double)a[0] * a[1], ab = (double)b[0] * b[1];
    if (aa != ab)
        return aa < ab ? -1 : 1;
    return a[0] < b[0] ? -1 : a[0] > b[0];
}

lt_status lt_det_anchors_kmeans(float *anchors, double *avg_iou, const float *wh, size_t n, int A, uint64_t seed,
                                lt_err *err)
{
    if (A < 1 || n < (size_t)A)
        return lt_err_set(err, LT_ERR_ARG, "anchors: %zu boxes for %d anchors (need at least one box per anchor)",
                          n, A);
    for (size_t k = 0; k < n; k++)
        if (!(wh[2 * k] > 0) || !(wh[2 * k + 1] > 0) || !isfinite(wh[2 * k]) || !isfinite(wh[2 * k + 1]))
            return lt_err_set(err, LT_ERR_ARG, "anchors: box %zu has size %g x %g, expected positive sizes", k,
                              (double)wh[2 * k], (double)wh[2 * k + 1]);
    int *assign = malloc(n * sizeof *assign);
    double *dist = malloc(n * sizeof *dist);
    double *sum = malloc((size_t)A * 3 * sizeof *sum);
    if (!assign || !dist || !sum) {
        free(assign), free(dist), free(sum);
        return lt_err_set(err, LT_ERR_NOMEM, "anchors: cannot allocate for %zu boxes", n);
    }
    lt_rng rng;
    lt_rng_seed(&rng, seed);
    /* k-means++: each next centre drawn with probability proportional to
     * the squared distance 1 - IoU to the nearest centre so far */
    size_t first = (size_t)(lt_rng_uniform(&rng) * (double)n);
    anchors[0] = wh[2 * first], anchors[1] = wh[2 * first + 1];
    for (size_t k = 0; k < n; k++)
        dist[k] = 1.0 - lt_det_iou_wh(wh[2 * k], wh[2 * k + 1], anchors[0], anchors[1]);
    for (int a = 1; a < A; a++) {
        double total = 0;
        for (size_t k = 0; k < n; k++)
            total += dist[k] * dist[k];
        size_t pick = n - 1;
        if (total > 0) {
            double u = lt_rng_uniform(&rng) * total, acc = 0;
            for (size_t k = 0; k < n; k++) {
                acc += dist[k] * dist[k];
                if (acc > u) {
                    pick = k;
                    break;
                }
            }
        } else {
            pick = (size_t)(lt_rng_uniform(&rng) * (double)n);
        }
        anchors[2 * a] = wh[2 * pick], anchors[2 * a + 1] = wh[2 * pick + 1];
        for (size_t k = 0; k < n; k++)
            dist[k] = fmin(dist[k], 1.0 - lt_det_iou_wh(wh[2 * k], wh[2 * k + 1], anchors[2 * a], anchors[2 * a + 1]));
    }
    /* Lloyd iterations: assign to the anchor of largest IoU, move each
     * anchor to the mean size of its boxes (an empty cluster stays put) */
    for (size_t k = 0; k < n; k++)
        assign[k] = -1;
    for (int it = 0; it < KMEANS_MAX_ITERS; it++) {
        size_t changed = 0;
        double iou;
        for (size_t k = 0; k < n; k++) {
            int b = best_anchor(anchors, A, wh[2 * k], wh[2 * k + 1], &iou);
            changed += b != assign[k];
            assign[k] = b;
        }
        if (!changed)
            break;
        memset(sum, 0, (size_t)A * 3 * sizeof *sum);
        for (size_t k = 0; k < n; k++) {
            sum[3 * assign[k]] += wh[2 * k];
            sum[3 * assign[k] + 1] += wh[2 * k + 1];
            sum[3 * assign[k] + 2] += 1;
        }
        for (int a = 0; a < A; a++)
            if (sum[3 * a + 2] > 0)
                anchors[2 * a] = (float)(sum[3 * a] / sum[3 * a + 2]),
                anchors[2 * a + 1] = (float)(sum[3 * a + 1] / sum[3 * a + 2]);
    }
    qsort(anchors, (size_t)A, 2 * sizeof *anchors, cmp_anchor);
    double tot = 0, iou;
    for (size_t k = 0; k < n; k++) {
        best_anchor(anchors, A, wh[2 * k], wh[2 * k + 1], &iou);
        tot += iou;
    }
    if (avg_iou)
        *avg_iou = tot / (double)n;
    free(assign), free(dist), free(sum);
    return LT_OK;
}

lt_status lt_det_anchors_dataset(float *anchors, double *avg_iou, const lt_dataset *d, const int grid[2], int A,
                                 uint64_t seed, lt_err *err)
{
    if (d->task != LT_TASK_DETECT)
        return lt_err_set(err, LT_ERR_ARG, "anchors: dataset '%s' has no boxes (not a detection dataset)", d->name);
    size_t n = (size_t)d->box_start[d->n];
    float *wh = malloc((n ? n : 1) * 2 * sizeof *wh);
    if (!wh)
        return lt_err_set(err, LT_ERR_NOMEM, "anchors: cannot allocate for %zu boxes", n);
    for (size_t k = 0; k < n; k++) {
        wh[2 * k] = d->boxes[k].w * (float)grid[1];
        wh[2 * k + 1] = d->boxes[k].h * (float)grid[0];
    }
    lt_status st = lt_det_anchors_kmeans(anchors, avg_iou, wh, n, A, seed, err);
    free(wh);
    return st;
}

lt_status lt_det_anchors_format(char *out, size_t cap, const float *anchors, int A, lt_err *err)
{
    size_t len = 0;
    if (cap)
        out[0] = 0;
    for (int k = 0; k < 2 * A; k++) {
        /* %.9g gives a float back exactly */
        int m = snprintf(out + len, cap > len ? cap - len : 0, "%s%.9g", k ? "," : "", (double)anchors[k]);
        if (m < 0 || len + (size_t)m >= cap)
            return lt_err_set(err, LT_ERR_ARG, "anchors: %d anchors do not fit %zu bytes of text", A, cap);
        len += (size_t)m;
    }
    return LT_OK;
}

lt_status lt_det_anchors_parse(float *anchors, int A, const char *s, lt_err *err)
{
    const char *p = s;
    for (int k = 0; k < 2 * A; k++) {
        char *end;
        errno = 0;
        float v = strtof(p, &end);
        if (end == p || errno || !(v > 0) || !isfinite(v))
            return lt_err_set(err, LT_ERR_PARSE, "anchors '%s': value %d is not a positive number (expected %d "
                              "comma-separated sizes aw0,ah0,aw1,ah1,... in cell units)", s, k + 1, 2 * A);
        anchors[k] = v;
        p = end;
        if (k + 1 < 2 * A) {
            if (*p != ',')
                return lt_err_set(err, LT_ERR_PARSE, "anchors '%s': %d values, expected %d (A = %d anchors of w,h)",
                                  s, k + 1, 2 * A, A);
            p++;
        }
    }
    if (*p)
        return lt_err_set(err, LT_ERR_PARSE, "anchors '%s': more than %d values (A = %d anchors of w,h)", s, 2 * A, A);
    return LT_OK;
}

lt_status lt_det_grid_parse(int grid[2], const char *s, lt_err *err)
{
    char *end;
    errno = 0;
    long h = strtol(s, &end, 10);
    if (end != s && (*end == 'x' || *end == 'X') && !errno) {
        const char *q = end + 1;
        long w = strtol(q, &end, 10);
        if (end != q && !*end && !errno && h >= 1 && h <= MAX_GRID && w >= 1 && w <= MAX_GRID) {
            grid[0] = (int)h, grid[1] = (int)w;
            return LT_OK;
        }
    }
    return lt_err_set(err, LT_ERR_PARSE, "grid '%s': expected ROWSxCOLUMNS such as 6x8 (1..%d each)", s, MAX_GRID);
}

/* ---- batches ---- */

size_t lt_dataset_box_total(const lt_dataset *d, const size_t *idx, int B)
{
    size_t n = 0;
    for (int b = 0; b < B; b++)
        n += (size_t)(d->box_start[idx[b] + 1] - d->box_start[idx[b]]);
    return n;
}

size_t lt_det_batch_boxes(lt_box *out, uint32_t *start, const lt_dataset *d, const size_t *idx, int B)
{
    assert(d->task == LT_TASK_DETECT);
    size_t n = 0;
    for (int b = 0; b < B; b++) {
        start[b] = (uint32_t)n;
        size_t i0 = (size_t)d->box_start[idx[b]], i1 = (size_t)d->box_start[idx[b] + 1];
        memcpy(out + n, d->boxes + i0, (i1 - i0) * sizeof *out);
        n += i1 - i0;
    }
    start[B] = (uint32_t)n;
    return n;
}

lt_status lt_det_rows_to_boxes(lt_box *out, uint32_t *start, const float *rows, size_t n, int B, int C, lt_err *err)
{
    if (n >= UINT32_MAX)
        return lt_err_set(err, LT_ERR_FORMAT, "boxes: %zu rows, more than a batch can hold", n);
    memset(start, 0, ((size_t)B + 1) * sizeof *start);
    for (size_t k = 0; k < n; k++) {
        const float *r = rows + 6 * k;
        const float b = r[0], c = r[1];
        if (!(b >= 0 && b < (float)B && b == floorf(b)))
            return lt_err_set(err, LT_ERR_FORMAT, "boxes row %zu: image %g, expected an integer 0..%d", k, (double)b,
                              B - 1);
        if (!(c >= 0 && c < (float)C && c == floorf(c)))
            return lt_err_set(err, LT_ERR_FORMAT, "boxes row %zu: class %g, expected an integer 0..%d", k, (double)c,
                              C - 1);
        if (!(r[2] >= 0 && r[2] <= 1 && r[3] >= 0 && r[3] <= 1 && r[4] > 0 && r[4] <= 1 && r[5] > 0 && r[5] <= 1))
            return lt_err_set(err, LT_ERR_FORMAT, "boxes row %zu: centre (%g, %g), size %g x %g; expected a centre in "
                              "[0, 1] and sizes in (0, 1] (fractions of the image)", k, (double)r[2], (double)r[3],
                              (double)r[4], (double)r[5]);
        start[(int)b + 1]++;
    }
    /* a stable counting sort by image */
    for (int b = 0; b < B; b++)
        start[b + 1] += start[b];
    uint32_t *next = malloc(((size_t)B + 1) * sizeof *next);
    if (!next)
        return lt_err_set(err, LT_ERR_NOMEM, "boxes: out of memory for %d images", B);
    memcpy(next, start, ((size_t)B + 1) * sizeof *next);
    for (size_t k = 0; k < n; k++) {
        const float *r = rows + 6 * k;
        out[next[(int)r[0]]++] = (lt_box){r[2], r[3], r[4], r[5], (int32_t)r[1]};
    }
    free(next);
    return LT_OK;
}
