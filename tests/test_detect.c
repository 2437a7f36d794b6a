/* test_detect.c -- the detection head's kernels (src/detect/box.c, loss.c):
 * the loss against hand-worked values, against a reference written here
 * from METHOD.md §9 (slot ownership built GT-first, unlike the kernel), and
 * its gradient against finite differences in both modes; decode, NMS,
 * IoU, k-means anchors and the anchor/grid text forms. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ltsnn.h"

static double sig(double x) { return 1.0 / (1.0 + exp(-x)); }

/* ---- a reference loss from METHOD.md §9, for one image view in double ---- */

typedef struct ref_geom {
    int Sh, Sw, A, C;
    const float *anchors;
} ref_geom;

static double ref_iou_cs(double ax, double ay, double aw, double ah, double bx, double by, double bw, double bh)
{
    double x0 = fmax(ax - aw / 2, bx - bw / 2), x1 = fmin(ax + aw / 2, bx + bw / 2);
    double y0 = fmax(ay - ah / 2, by - bh / 2), y1 = fmin(ay + ah / 2, by + bh / 2);
    if (x1 <= x0 || y1 <= y0)
        return 0;
    double in = (x1 - x0) * (y1 - y0);
    return in / (aw * ah + bw * bh - in);
}

/* Loss of one image; *margin gets the smallest |IoU - 0.6| of a slot that
 * is not responsible (how far O is from the ignore rule's jump). */
static double ref_image(const double *o, const lt_box *gt, int ng, const ref_geom *g, double *margin)
{
    const int S = g->Sh * g->Sw * g->A, stride = 5 * g->A + g->C;
    int *own = malloc((size_t)S * sizeof *own);
    for (int s = 0; s < S; s++)
        own[s] = -1;
    /* GT boxes in order; a later box owning the same slot replaces an earlier one */
    for (int q = 0; q < ng; q++) {
        int j = (int)floor((double)gt[q].cx * g->Sw), i = (int)floor((double)gt[q].cy * g->Sh);
        if (j >= g->Sw)
            j = g->Sw - 1;
        if (i >= g->Sh)
            i = g->Sh - 1;
        int best = 0;
        double bi = -1;
        for (int a = 0; a < g->A; a++) {
            double w0 = (double)gt[q].w * g->Sw, h0 = (double)gt[q].h * g->Sh, w1 = g->anchors[2 * a], h1 = g->anchors[2 * a + 1];
            double in = fmin(w0, w1) * fmin(h0, h1), v = in / (w0 * h0 + w1 * h1 - in);
            if (v > bi)
                bi = v, best = a;
        }
        own[(i * g->Sw + j) * g->A + best] = q;
    }
    double L = 0;
    *margin = 1;
    for (int i = 0; i < g->Sh; i++)
        for (int j = 0; j < g->Sw; j++)
            for (int a = 0; a < g->A; a++) {
                const double *c = o + (i * g->Sw + j) * stride, *p = c + 5 * a;
                double bx = (j + sig(p[0])) / g->Sw, by = (i + sig(p[1])) / g->Sh;
                double bw = g->anchors[2 * a] * exp(p[2]) / g->Sw, bh = g->anchors[2 * a + 1] * exp(p[3]) / g->Sh;
                int q = own[(i * g->Sw + j) * g->A + a];
                if (q < 0) {
                    double mx = 0;
                    for (int r = 0; r < ng; r++)
                        mx = fmax(mx, ref_iou_cs(bx, by, bw, bh, gt[r].cx, gt[r].cy, gt[r].w, gt[r].h));
                    if (ng)
                        *margin = fmin(*margin, fabs(mx - 0.6));
                    if (mx <= 0.6)
                        L += sig(p[4]) * sig(p[4]);
                    continue;
                }
                const lt_box *b = &gt[q];
                double tx = (double)b->cx * g->Sw - j, ty = (double)b->cy * g->Sh - i;
                double tw = log((double)b->w * g->Sw / g->anchors[2 * a]);
                double th = log((double)b->h * g->Sh / g->anchors[2 * a + 1]);
                L += (2 - (double)b->w * b->h) * (pow(sig(p[0]) - tx, 2) + pow(sig(p[1]) - ty, 2) + pow(p[2] - tw, 2) +
                                                  pow(p[3] - th, 2));
                L += 5 * pow(sig(p[4]) - 1, 2);
                double z = 0;
                for (int k = 0; k < g->C; k++)
                    z += exp(c[5 * g->A + k]);
                L += log(z) - c[5 * g->A + b->cls];
            }
    free(own);
    return L;
}

/* The whole batch's loss from the reference, O [T, B, K]. */
static double ref_loss(const float *O, const lt_box *boxes, const uint32_t *start, const ref_geom *g, int tet, int T,
                       int B, double *margin)
{
    const size_t K = (size_t)g->Sh * g->Sw * (5 * g->A + g->C);
    double *v = malloc(K * sizeof *v), L = 0, m;
    *margin = 1;
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < (tet ? T : 1); t++) {
            for (size_t k = 0; k < K; k++) {
                if (tet) {
                    v[k] = O[((size_t)t * B + b) * K + k];
                } else {
                    v[k] = 0;
                    for (int u = 0; u < T; u++)
                        v[k] += O[((size_t)u * B + b) * K + k];
                    v[k] /= T;
                }
            }
            L += ref_image(v, boxes + start[b], (int)(start[b + 1] - start[b]), g, &m) / (tet ? T : 1);
            *margin = fmin(*margin, m);
        }
    }
    free(v);
    return L / B;
}

/* ---- hand-worked cases ---- */

static void test_loss_hand(void)
{
    /* 1 x 2 grid, A = 1 (anchor 1 x 1 cells), C = 2, one GT box of class 1
     * filling the right cell exactly: centre (0.75, 0.5), size 0.5 x 1. */
    const int grid[2] = {1, 2};
    const float anchors[2] = {1, 1};
    const lt_box gt = {0.75f, 0.5f, 0.5f, 1.0f, 1};
    const uint32_t start[2] = {0, 1};
    float O[14] = {0}, dO[14];
    /* All outputs 0: left slot decodes to [0, .5] x [0, 1] (IoU 0 with the GT
     * box): noobj .5^2 = .25; right slot: every coord target is met
     * (sig(0) = .5 = .75*2 - 1, log(.5*2/1) = 0), obj 5 (.5 - 1)^2 = 1.25,
     * class CE log 2.  Total 2.1931471805599454. */
    lt_det_parts p = lt_det_loss(dO, O, &gt, start, anchors, grid, 1, 2, LT_DET_LOSS_MEAN, 1, 1);
    CHECK_CLOSE(p.loss, 2.1931471805599454, 1e-12, "loss of the all-zero head");
    CHECK_CLOSE(p.noobj, 0.25, 1e-12, "noobj");
    CHECK_CLOSE(p.obj, 1.25, 1e-12, "obj");
    CHECK_CLOSE(p.cls, 0.6931471805599453, 1e-12, "cls");
    CHECK(p.coord == 0, "coord %g", p.coord);
    CHECK_CLOSE(p.avg_iou, 1.0, 1e-12, "the responsible box is the GT box");
    CHECK(p.recall50 == 1 && p.count == 1 && p.avg_cls == 0.5 && p.avg_noobj == 0.5, "region log");
    /* d noobj/dto = 2 s^2 (1 - s) = .25; d obj/dto = 5 * 2 (s - 1) s (1 - s) = -1.25; dCE = p - onehot */
    CHECK(dO[4] == 0.25f && dO[7 + 4] == -1.25f && dO[12] == 0.5f && dO[13] == -0.5f, "hand gradient %g %g %g %g",
          (double)dO[4], (double)dO[11], (double)dO[12], (double)dO[13]);
    CHECK(dO[0] == 0 && dO[7] == 0 && dO[9] == 0, "no coord gradient at the target");
    /* tx = 1 in the right cell: coord (2 - .5) (sig(1) - .5)^2 = 0.08008210013777724,
     * d/dtx = 1.5 * 2 (sig(1) - .5) sig(1) (1 - sig(1)) = 0.13628662150942264 */
    O[7] = 1;
    p = lt_det_loss(dO, O, &gt, start, anchors, grid, 1, 2, LT_DET_LOSS_MEAN, 1, 1);
    CHECK_CLOSE(p.coord, 0.08008210013777724, 1e-12, "coord with tx = 1");
    CHECK_CLOSE(dO[7], 0.13628662150942264, 1e-7, "d coord / d tx");
    /* T = 2 in mean mode with steps (1, -1): Obar = 0 gives the zero-head loss,
     * and dO_t = dL/dObar / 2 at both steps */
    float O2[28] = {0}, dO2[28];
    O2[7] = 1, O2[14 + 7] = -1;
    p = lt_det_loss(dO2, O2, &gt, start, anchors, grid, 1, 2, LT_DET_LOSS_MEAN, 2, 1);
    CHECK_CLOSE(p.loss, 2.1931471805599454, 1e-12, "mean of two steps");
    CHECK(dO2[4] == 0.125f && dO2[14 + 4] == 0.125f && dO2[13] == -0.25f && dO2[14 + 13] == -0.25f,
          "mean mode: dL/dObar / T at every step");
    /* tet: the average of the two steps' losses, each step's gradient / T */
    p = lt_det_loss(dO2, O2, &gt, start, anchors, grid, 1, 2, LT_DET_LOSS_TET, 2, 1);
    CHECK_CLOSE(p.loss, 2.1931471805599454 + 0.08008210013777724, 1e-12, "tet: both steps' coord terms are equal");
    CHECK_CLOSE(dO2[7], 0.13628662150942264 / 2, 1e-7, "tet gradient of step 0");
    CHECK_CLOSE(dO2[14 + 7], -0.13628662150942264 / 2, 1e-7, "tet gradient of step 1");
}

static void test_loss_rules(void)
{
    /* 1 x 1 grid, A = 2 anchors (1 x 1) and (0.5 x 0.5), C = 1 */
    const int grid[2] = {1, 1};
    const float anchors[4] = {1, 1, 0.5f, 0.5f};
    float O[11] = {0}, dO[11];
    const uint32_t one[2] = {0, 1}, two[2] = {0, 2}, none[2] = {0, 0};
    /* a large box goes to slot 0, a small one to slot 1 */
    lt_box big = {0.5f, 0.5f, 0.9f, 0.9f, 0}, small = {0.5f, 0.5f, 0.4f, 0.4f, 0};
    lt_det_parts p = lt_det_loss(dO, O, &big, one, anchors, grid, 2, 1, LT_DET_LOSS_MEAN, 1, 1);
    CHECK(dO[4] != 0 && p.count == 1, "big box: slot 0 responsible");
    /* slot 1's box (0.5 x 0.5 at the centre) has IoU .25/.81 < .6 with it: noobj */
    CHECK_CLOSE(p.noobj, 0.25, 1e-12, "slot 1 pushed to 0");
    p = lt_det_loss(dO, O, &small, one, anchors, grid, 2, 1, LT_DET_LOSS_MEAN, 1, 1);
    /* now slot 1 owns it; slot 0's box (1 x 1) has IoU .16 with it: noobj */
    CHECK_CLOSE(p.obj, 1.25, 1e-12, "small box: slot 1 responsible");
    CHECK(dO[5 + 4] < 0 && dO[4] > 0, "slot 1 pulled up, slot 0 pushed down");
    /* a later box owning the same slot replaces an earlier one: two boxes of
     * sizes .9 and .95 both match slot 0; only the second is a target */
    lt_box pair[2] = {{0.5f, 0.5f, 0.9f, 0.9f, 0}, {0.5f, 0.5f, 0.95f, 0.95f, 0}};
    p = lt_det_loss(dO, O, pair, two, anchors, grid, 2, 1, LT_DET_LOSS_MEAN, 1, 1);
    double e = log(0.95), coord = (2 - 0.95 * 0.95) * 2 * e * e;
    CHECK_CLOSE(p.coord, coord, 1e-6, "coord of the later box only");
    CHECK(p.count == 1, "one responsible slot, %g", p.count);
    /* the ignore rule: slot 1 made to decode a box with IoU > .6 with the GT
     * box gets no noobj term although it is not responsible */
    O[5 + 2] = (float)log(1.8), O[5 + 3] = (float)log(1.8); /* 0.5 * 1.8 = 0.9: the same box as the GT */
    p = lt_det_loss(dO, O, &big, one, anchors, grid, 2, 1, LT_DET_LOSS_MEAN, 1, 1);
    CHECK(p.noobj == 0 && dO[5 + 4] == 0, "ignored slot: noobj %g, grad %g", p.noobj, (double)dO[9]);
    /* an image without boxes: every slot pushed to 0, nothing else */
    p = lt_det_loss(dO, O, NULL, none, anchors, grid, 2, 1, LT_DET_LOSS_MEAN, 1, 1);
    CHECK_CLOSE(p.noobj, 0.5, 1e-12, "no boxes: two slots of .25");
    CHECK(p.coord == 0 && p.obj == 0 && p.cls == 0 && p.count == 0 && p.avg_iou == 0, "no boxes: nothing else");
    /* a box centred on the image's right / bottom edge (cx = 1) belongs to the last cell */
    const int g2[2] = {2, 2};
    float O4[44] = {0}, dO4[44];
    lt_box edge = {1.0f, 1.0f, 0.2f, 0.2f, 0};
    lt_det_loss(dO4, O4, &edge, one, anchors, g2, 2, 1, LT_DET_LOSS_MEAN, 1, 1);
    CHECK(dO4[3 * 11 + 5 + 4] < 0, "edge box owned by cell (1, 1) slot 1");
}

/* ---- finite differences and the reference, random heads ---- */

static void fill_random(float *O, size_t n, lt_rng *r)
{
    for (size_t k = 0; k < n; k++)
        O[k] = (float)(lt_rng_normal(r) * 1.2);
}

static void random_boxes(lt_box *b, int n, lt_rng *r)
{
    for (int k = 0; k < n; k++) {
        b[k].w = lt_rng_uniformf(r, 0.08f, 0.7f), b[k].h = lt_rng_uniformf(r, 0.08f, 0.7f);
        b[k].cx = lt_rng_uniformf(r, 0.02f, 0.98f), b[k].cy = lt_rng_uniformf(r, 0.02f, 0.98f);
        b[k].cls = (int32_t)lt_rng_below(r, 3);
    }
}

static void test_loss_fd(int tet)
{
    const int grid[2] = {2, 3}, A = 2, C = 3, T = 3, B = 3;
    const float anchors[4] = {0.7f, 1.1f, 1.6f, 0.9f};
    const ref_geom g = {2, 3, A, C, anchors};
    const size_t K = lt_det_outputs(grid, A, C), N = (size_t)T * B * K;
    float *O = malloc(N * sizeof *O), *dO = malloc(N * sizeof *dO), *tmp = malloc(N * sizeof *tmp);
    lt_box boxes[7];
    /* image 0: 3 boxes, image 1: none, image 2: 4 boxes (two in one cell) */
    const uint32_t start[4] = {0, 3, 3, 7};
    lt_rng r;
    lt_rng_seed(&r, tet ? 11 : 7);
    double margin = 0;
    int draws = 0;
    /* redraw until no slot's IoU sits within .02 of the ignore rule's 0.6 */
    do {
        fill_random(O, N, &r);
        random_boxes(boxes, 7, &r);
        boxes[5].cx = boxes[6].cx, boxes[5].cy = boxes[6].cy; /* same cell (and maybe slot) */
        ref_loss(O, boxes, start, &g, tet, T, B, &margin);
        draws++;
    } while (margin < 0.02 && draws < 1000);
    CHECK(margin >= 0.02, "no draw away from the ignore rule in %d tries", draws);
    lt_det_loss_mode mode = tet ? LT_DET_LOSS_TET : LT_DET_LOSS_MEAN;
    lt_det_parts p = lt_det_loss(dO, O, boxes, start, anchors, grid, A, C, mode, T, B);
    double ref = ref_loss(O, boxes, start, &g, tet, T, B, &margin);
    CHECK_CLOSE(p.loss, ref, 1e-9, "%s: kernel against the METHOD.md reference", tet ? "tet" : "mean");
    CHECK_CLOSE(p.loss, p.coord + p.obj + p.noobj + p.cls, 1e-12, "parts add up");
    /* central differences of the kernel's own loss, every element */
    double worst = 0;
    size_t at = 0;
    for (size_t k = 0; k < N; k++) {
        memcpy(tmp, O, N * sizeof *O);
        const float h = 1e-3f;
        tmp[k] = O[k] + h;
        double hp = (double)tmp[k] - O[k];
        double lp = lt_det_loss(dO + 0, tmp, boxes, start, anchors, grid, A, C, mode, T, B).loss;
        tmp[k] = O[k] - h;
        double hm = (double)O[k] - tmp[k];
        double lm = lt_det_loss(dO + 0, tmp, boxes, start, anchors, grid, A, C, mode, T, B).loss;
        double fd = (lp - lm) / (hp + hm);
        lt_det_loss(dO, O, boxes, start, anchors, grid, A, C, mode, T, B);
        double e = fabs(fd - dO[k]) / fmax(1e-2, fabs(fd));
        if (e > worst)
            worst = e, at = k;
    }
    lt_det_loss(dO, O, boxes, start, anchors, grid, A, C, mode, T, B);
    CHECK(worst < 1e-4, "%s: gradient vs finite differences: worst relative error %g at %zu", tet ? "tet" : "mean",
          worst, at);
    /* mean mode: the gradient is the same at every step */
    if (!tet)
        CHECK(!memcmp(dO, dO + (size_t)B * K, (size_t)B * K * sizeof *dO) &&
                  !memcmp(dO, dO + 2 * (size_t)B * K, (size_t)B * K * sizeof *dO),
              "mean mode: dO equal over t");
    free(O), free(dO), free(tmp);
}

/* ---- decode, NMS, IoU ---- */

static void test_decode_nms(void)
{
    const int grid[2] = {2, 2};
    const float anchors[2] = {1, 1};
    float o[4 * 7] = {0};
    /* cell (0, 1), slot 0: centre (1 + sig(0))/2 = .75, .25; size 1 * e^0 / 2 = .5 */
    for (int c = 0; c < 4; c++)
        o[c * 7 + 4] = -20; /* every slot but one silent */
    o[1 * 7 + 4] = 3;       /* obj sig(3) */
    o[1 * 7 + 5] = 2;       /* class logits 2, 0 */
    lt_det d[16];
    size_t n = lt_det_decode(d, o, anchors, grid, 1, 2, 0.01f);
    double s3 = sig(3), p0 = exp(2) / (exp(2) + 1);
    CHECK(n == 2, "two classes above 0.01: %zu", n);
    CHECK(n >= 1 && d[0].cls == 0 && fabs(d[0].score - s3 * p0) < 1e-6 && fabs(d[0].x0 - 0.5) < 1e-6 &&
              fabs(d[0].x1 - 1.0) < 1e-6 && fabs(d[0].y0 - 0.0) < 1e-6 && fabs(d[0].y1 - 0.5) < 1e-6,
          "decoded box %g %g %g %g score %g", (double)d[0].x0, (double)d[0].y0, (double)d[0].x1, (double)d[0].y1,
          (double)d[0].score);
    /* a wide box is clipped to the image */
    o[1 * 7 + 2] = (float)log(3.0);
    n = lt_det_decode(d, o, anchors, grid, 1, 2, 0.01f);
    CHECK(n >= 1 && d[0].x0 == 0.0f && d[0].x1 == 1.0f, "clipped to [0, 1]: %g %g", (double)d[0].x0, (double)d[0].x1);
    /* score threshold */
    CHECK(lt_det_decode(d, o, anchors, grid, 1, 2, 0.99f) == 0, "nothing above 0.99");

    /* NMS: two overlapping boxes of a class (IoU .6 > .45): the weaker goes;
     * the same box in another class stays; a box with IoU .4 stays */
    lt_det b[5] = {{0, 0, 1, 1, 0.5f, 0},      {0, 0, 1, 0.6f, 0.9f, 0}, {0, 0, 1, 0.6f, 0.3f, 1},
                   {0, 0.6f, 1, 1, 0.2f, 0}, {0, 0, 0.4f, 1, 0.7f, 0}};
    CHECK(fabs(lt_det_iou(&b[0], &b[1]) - 0.6) < 1e-6 && fabs(lt_det_iou(&b[0], &b[4]) - 0.4) < 1e-6, "IoUs");
    n = lt_det_nms(b, 5, 0.45f, 100);
    CHECK(n == 4, "kept %zu", n);
    CHECK(b[0].score == 0.9f && b[1].score == 0.7f && b[2].score == 0.3f && b[3].score == 0.2f,
          "order after NMS: %g %g %g %g", (double)b[0].score, (double)b[1].score, (double)b[2].score,
          (double)b[3].score);
    /* keep_max */
    lt_det c[3] = {{0, 0, .1f, .1f, .3f, 0}, {.5f, .5f, .6f, .6f, .2f, 0}, {.8f, .8f, .9f, .9f, .9f, 0}};
    CHECK(lt_det_nms(c, 3, 0.45f, 2) == 2 && c[0].score == .9f && c[1].score == .3f, "keep_max 2");
    lt_det e0 = {0, 0, 0, 1, 1, 0}, e1 = {0, 0, 1, 1, 1, 0};
    CHECK(lt_det_iou(&e0, &e1) == 0 && lt_det_iou(&e1, &e1) == 1, "empty and identical");
    CHECK(fabs(lt_det_iou_wh(2, 1, 1, 2) - 1.0 / 3) < 1e-12, "centred sizes");
}

/* ---- anchors ---- */

static void test_anchors(void)
{
    /* two clusters of sizes: ~(1, 2) and ~(4, 1) */
    enum { N = 400 };
    float wh[2 * N];
    lt_rng r;
    lt_rng_seed(&r, 3);
    for (int k = 0; k < N; k++) {
        int c = k % 2;
        wh[2 * k] = (c ? 4.0f : 1.0f) * lt_rng_uniformf(&r, 0.9f, 1.1f);
        wh[2 * k + 1] = (c ? 1.0f : 2.0f) * lt_rng_uniformf(&r, 0.9f, 1.1f);
    }
    float a[4], b[4];
    double iou, iou2;
    lt_err err;
    CHECK(lt_det_anchors_kmeans(a, &iou, wh, N, 2, 42, &err) == LT_OK, "%s", err.msg);
    CHECK(fabs(a[0] - 1) < 0.05 && fabs(a[1] - 2) < 0.05 && fabs(a[2] - 4) < 0.1 && fabs(a[3] - 1) < 0.05,
          "anchors near the cluster means, by area: %g,%g %g,%g", (double)a[0], (double)a[1], (double)a[2],
          (double)a[3]);
    CHECK(iou > 0.85, "avg IoU %g", iou);
    CHECK(lt_det_anchors_kmeans(b, &iou2, wh, N, 2, 42, &err) == LT_OK && !memcmp(a, b, sizeof a) && iou == iou2,
          "deterministic for a seed");
    CHECK(lt_det_anchors_kmeans(a, &iou, wh, 1, 2, 42, &err) == LT_ERR_ARG, "fewer boxes than anchors");
    wh[3] = -1;
    CHECK(lt_det_anchors_kmeans(a, &iou, wh, N, 2, 42, &err) == LT_ERR_ARG && strstr(err.msg, "box 1"),
          "bad size named: %s", err.msg);
    /* text forms */
    char txt[128];
    const float an[4] = {1.25f, 2.0f, 0.1f, 3.3333333f};
    float back[4];
    CHECK(lt_det_anchors_format(txt, sizeof txt, an, 2, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_det_anchors_parse(back, 2, txt, &err) == LT_OK && !memcmp(an, back, sizeof an), "round trip '%s'", txt);
    CHECK(lt_det_anchors_parse(back, 2, "1,2,3", &err) == LT_ERR_PARSE, "too few");
    CHECK(lt_det_anchors_parse(back, 2, "1,2,3,4,5", &err) == LT_ERR_PARSE, "too many");
    CHECK(lt_det_anchors_parse(back, 1, "1,-2", &err) == LT_ERR_PARSE, "negative");
    CHECK(lt_det_anchors_format(txt, 8, an, 2, &err) == LT_ERR_ARG, "too small a buffer");
    int grid[2];
    CHECK(lt_det_grid_parse(grid, "6x8", &err) == LT_OK && grid[0] == 6 && grid[1] == 8, "grid 6x8");
    CHECK(lt_det_grid_parse(grid, "6x", &err) == LT_ERR_PARSE && lt_det_grid_parse(grid, "0x8", &err) == LT_ERR_PARSE,
          "bad grids");
    CHECK(lt_det_outputs((int[2]){6, 8}, 2, 2) == 576, "the paper's FC576");
}

int main(void)
{
    check_begin("test_detect");
    test_loss_hand();
    test_loss_rules();
    test_loss_fd(0);
    test_loss_fd(1);
    test_decode_nms();
    test_anchors();
    return check_done();
}
