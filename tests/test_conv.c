/* test_conv.c -- 2-D convolution kernels (src/kernels/conv.c).
 *
 * Checks: lt_conv_shape_fill on valid and invalid geometry; both backward
 * versions against finite differences of a double-precision forward written
 * here (the float forward is first checked against that double model);
 * the fast kernels against the _ref oracle on many random shapes (N = 1, odd
 * sizes, stride, padding, groups, depthwise with multiplier, 1x1, kh != kw,
 * chunks that do not divide N); dw accumulation, dx == NULL, bitwise
 * repeatability; and one conv + BatchNorm2d stack against PyTorch
 * (tests/data/conv_golden.h, made by tests/data/gen_conv_golden.py). */
#include "check.h"
#include "kernels/kernels.h"
#include "ltsnn/core.h"

#include "data/conv_golden.h"

#include <cblas.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static lt_rng rng;


static float *randv(size_t n)
{
    float *v = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        v[i] = lt_rng_uniformf(&rng, -1.0f, 1.0f);
    return v;
}

static size_t xsize(const lt_conv_shape *s) { return (size_t)s->N * s->Cin * s->H * s->W; }
static size_t ysize(const lt_conv_shape *s) { return (size_t)s->N * s->Cout * s->Ho * s->Wo; }
static size_t wsize(const lt_conv_shape *s) { return (size_t)s->Cout * (s->Cin / s->groups) * s->kh * s->kw; }

static lt_conv_shape mk(int N, int Cin, int H, int W, int Cout, int kh, int kw, int st, int pad, int g)
{
    lt_conv_shape s = {N, Cin, H, W, Cout, kh, kw, st, pad, g, 0, 0};
    return s;
}

static void shape_str(char *buf, size_t n, const lt_conv_shape *s)
{
    snprintf(buf, n, "N%d Cin%d %dx%d Cout%d k%dx%d s%d p%d g%d", s->N, s->Cin, s->H, s->W, s->Cout,
             s->kh, s->kw, s->stride, s->pad, s->groups);
}

/* Largest |a-b| / max(1,|a|,|b|) over two arrays, and where. */
static double max_err(const float *a, const double *b, size_t n, size_t *at)
{
    double worst = 0.0;
    *at = 0;
    for (size_t i = 0; i < n; i++) {
        double m = fabs(a[i]) > fabs(b[i]) ? fabs(a[i]) : fabs(b[i]);
        double e = fabs(a[i] - b[i]) / (m > 1.0 ? m : 1.0);
        if (e > worst || isnan(e)) {
            worst = e;
            *at = i;
        }
    }
    return worst;
}

/* ---------------- double-precision model for finite differences ---------------- */

/* L = sum y*r with y = conv(x, w), all in double. */
static double conv_loss_d(const double *x, const double *w, const float *r, const lt_conv_shape *s)
{
    const int Cg = s->Cin / s->groups, Kg = s->Cout / s->groups;
    double L = 0.0;
    for (int n = 0; n < s->N; n++)
        for (int co = 0; co < s->Cout; co++)
            for (int oh = 0; oh < s->Ho; oh++)
                for (int ow = 0; ow < s->Wo; ow++) {
                    double acc = 0.0;
                    for (int c = 0; c < Cg; c++)
                        for (int i = 0; i < s->kh; i++)
                            for (int j = 0; j < s->kw; j++) {
                                int ih = oh * s->stride - s->pad + i, iw = ow * s->stride - s->pad + j;
                                if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W)
                                    continue;
                                int ci = (co / Kg) * Cg + c;
                                acc += x[(((size_t)n * s->Cin + ci) * s->H + ih) * s->W + iw] *
                                       w[(((size_t)co * Cg + c) * s->kh + i) * s->kw + j];
                            }
                    L += acc * r[(((size_t)n * s->Cout + co) * s->Ho + oh) * s->Wo + ow];
                }
    return L;
}

/* Central differences of L in double for up to `maxn` entries of v (all when
 * fewer).  L is linear in x and in w, so the difference is exact up to
 * rounding and the step size hardly matters. */
static void fd_check(const char *what, const char *shape, const float *grad, double *v, size_t n,
                     const double *x, const double *w, const float *r, const lt_conv_shape *s)
{
    const double h = 1e-3;
    size_t step = n > 400 ? n / 400 + 1 : 1;
    double worst = 0.0;
    size_t at = 0;
    for (size_t k = 0; k < n; k += step) {
        double keep = v[k];
        v[k] = keep + h;
        double lp = conv_loss_d(x, w, r, s);
        v[k] = keep - h;
        double lm = conv_loss_d(x, w, r, s);
        v[k] = keep;
        double fd = (lp - lm) / (2 * h);
        double m = fabs(fd) > fabs(grad[k]) ? fabs(fd) : fabs(grad[k]);
        double e = fabs(fd - grad[k]) / (m > 1.0 ? m : 1.0);
        if (e > worst || isnan(e)) {
            worst = e;
            at = k;
        }
    }
    /* The analytic gradient is a float sum of a few hundred products of
     * values in [-1, 1]: its rounding error is ~1e-6 relative. */
    CHECK(worst < 2e-5, "%s: %s gradient vs finite differences: worst error %g at %zu", shape, what,
          worst, at);
}

static void test_fd(lt_conv_shape s)
{
    char name[128];
    shape_str(name, sizeof name, &s);
    CHECK(lt_conv_shape_fill(&s), "%s: valid shape rejected", name);
    if (!lt_conv_shape_fill(&s))
        return;
    size_t nx = xsize(&s), ny = ysize(&s), nw = wsize(&s);
    float *x = randv(nx), *w = randv(nw), *r = randv(ny), *y = randv(ny);
    double *xd = malloc(sizeof(double) * nx), *wd = malloc(sizeof(double) * nw);
    for (size_t i = 0; i < nx; i++)
        xd[i] = x[i];
    for (size_t i = 0; i < nw; i++)
        wd[i] = w[i];

    /* The float forward must be the function we differentiate. */
    lt_conv2d_forward_ref(y, x, w, &s);
    double L = 0.0;
    for (size_t i = 0; i < ny; i++)
        L += (double)y[i] * r[i];
    CHECK_CLOSE(L, conv_loss_d(xd, wd, r, &s), 1e-5, "%s: float forward vs double model", name);

    float *dx = randv(nx), *dw = calloc(nw, sizeof(float));
    float *dx2 = randv(nx), *dw2 = calloc(nw, sizeof(float));
    float *work = malloc(sizeof(float) * (lt_conv2d_work_floats(&s) + 1));
    lt_conv2d_backward_ref(dx, dw, r, x, w, &s);
    lt_conv2d_backward(dx2, dw2, r, x, w, &s, work);
    char tag[160];
    snprintf(tag, sizeof tag, "%s ref", name);
    fd_check("dx", tag, dx, xd, nx, xd, wd, r, &s);
    fd_check("dw", tag, dw, wd, nw, xd, wd, r, &s);
    snprintf(tag, sizeof tag, "%s fast", name);
    fd_check("dx", tag, dx2, xd, nx, xd, wd, r, &s);
    fd_check("dw", tag, dw2, wd, nw, xd, wd, r, &s);
    free(x); free(w); free(r); free(y); free(xd); free(wd);
    free(dx); free(dw); free(dx2); free(dw2); free(work);
}

/* ---------------- fast against the oracle ---------------- */

static void test_fast_vs_ref(lt_conv_shape s)
{
    char name[128];
    shape_str(name, sizeof name, &s);
    if (!lt_conv_shape_fill(&s)) {
        CHECK(0, "%s: valid shape rejected", name);
        return;
    }
    size_t nx = xsize(&s), ny = ysize(&s), nw = wsize(&s), at;
    size_t nwork = lt_conv2d_work_floats(&s);
    float *x = randv(nx), *w = randv(nw), *dy = randv(ny);
    float *y0 = randv(ny), *y1 = randv(ny), *y2 = randv(ny);
    float *dx0 = randv(nx), *dx1 = randv(nx);
    float *dw0 = randv(nw), *dw1 = malloc(sizeof(float) * nw), *dw2 = malloc(sizeof(float) * nw);
    float *dwz = calloc(nw, sizeof(float));
    /* Exactly the planned scratch: ASan flags any overrun. */
    float *work = nwork ? malloc(sizeof(float) * nwork) : NULL;
    memcpy(dw1, dw0, sizeof(float) * nw);
    memcpy(dw2, dw0, sizeof(float) * nw);

    lt_conv2d_forward_ref(y0, x, w, &s);
    lt_conv2d_forward(y1, x, w, &s, work);
    double e = check_max_err(y1, y0, ny, &at);
    CHECK(e < 1e-5, "%s: forward fast vs ref: error %g at %zu", name, e, at);
    lt_conv2d_forward(y2, x, w, &s, work);
    CHECK(memcmp(y1, y2, sizeof(float) * ny) == 0, "%s: forward not repeatable", name);

    /* dw starts from random values: backward must add, not overwrite. */
    lt_conv2d_backward_ref(dx0, dw0, dy, x, w, &s);
    lt_conv2d_backward(dx1, dw1, dy, x, w, &s, work);
    e = check_max_err(dx1, dx0, nx, &at);
    CHECK(e < 1e-5, "%s: dx fast vs ref: error %g at %zu", name, e, at);
    e = check_max_err(dw1, dw0, nw, &at);
    CHECK(e < 1e-4, "%s: dw fast vs ref: error %g at %zu", name, e, at);

    /* dx == NULL: dw gets the same increment, bit for bit. */
    lt_conv2d_backward(NULL, dw2, dy, x, w, &s, work);
    CHECK(memcmp(dw1, dw2, sizeof(float) * nw) == 0, "%s: dw differs when dx is NULL", name);

    /* From zero, two calls give twice one call (up to rounding: the
     * second call adds its terms onto a non-zero dw). */
    lt_conv2d_backward(NULL, dwz, dy, x, w, &s, work);
    memcpy(dw2, dwz, sizeof(float) * nw);
    lt_conv2d_backward(NULL, dwz, dy, x, w, &s, work);
    for (size_t i = 0; i < nw; i++)
        dw2[i] *= 2.0f;
    e = check_max_err(dwz, dw2, nw, &at);
    CHECK(e < 1e-5, "%s: two backward calls do not double dw: error %g at %zu", name, e, at);

    /* The reference also accumulates. */
    memset(dwz, 0, sizeof(float) * nw);
    lt_conv2d_backward_ref(NULL, dwz, dy, x, w, &s);
    memcpy(dw2, dwz, sizeof(float) * nw);
    lt_conv2d_backward_ref(NULL, dwz, dy, x, w, &s);
    for (size_t i = 0; i < nw; i++)
        dw2[i] *= 2.0f;
    e = check_max_err(dwz, dw2, nw, &at);
    CHECK(e < 1e-5, "%s: two ref backward calls do not double dw: error %g at %zu", name, e, at);

    free(x); free(w); free(dy); free(y0); free(y1); free(y2); free(dx0); free(dx1);
    free(dw0); free(dw1); free(dw2); free(dwz); free(work);
}

static void test_random_shapes(int count)
{
    int done = 0;
    while (done < count) {
        int g = 1 + (int)lt_rng_below(&rng, 3);
        int dw = lt_rng_below(&rng, 4) == 0;
        int Cin = g * (1 + (int)lt_rng_below(&rng, 4));
        int Cout = dw ? Cin * (1 + (int)lt_rng_below(&rng, 2)) : g * (1 + (int)lt_rng_below(&rng, 4));
        if (dw)
            g = Cin;
        lt_conv_shape s = mk(1 + (int)lt_rng_below(&rng, 4), Cin, 1 + (int)lt_rng_below(&rng, 13),
                             1 + (int)lt_rng_below(&rng, 13), Cout, 1 + (int)lt_rng_below(&rng, 5),
                             1 + (int)lt_rng_below(&rng, 5), 1 + (int)lt_rng_below(&rng, 3),
                             (int)lt_rng_below(&rng, 3), g);
        if (!lt_conv_shape_fill(&s))
            continue;
        test_fast_vs_ref(s);
        done++;
    }
}

/* ---------------- geometry ---------------- */

static void test_shape_fill(void)
{
    lt_conv_shape s = mk(2, 3, 48, 48, 8, 3, 3, 1, 1, 1);
    CHECK(lt_conv_shape_fill(&s) && s.Ho == 48 && s.Wo == 48, "3x3 same: %dx%d", s.Ho, s.Wo);
    s = mk(2, 3, 48, 47, 8, 3, 3, 2, 1, 1);
    CHECK(lt_conv_shape_fill(&s) && s.Ho == 24 && s.Wo == 24, "3x3 stride 2: %dx%d", s.Ho, s.Wo);
    s = mk(1, 4, 7, 5, 4, 3, 1, 1, 0, 4);
    CHECK(lt_conv_shape_fill(&s) && s.Ho == 5 && s.Wo == 5, "3x1 depthwise: %dx%d", s.Ho, s.Wo);
    s = mk(1, 1, 2, 2, 1, 3, 3, 1, 1, 1); /* kernel larger than the image, fits with padding */
    CHECK(lt_conv_shape_fill(&s) && s.Ho == 2 && s.Wo == 2, "padded small: %dx%d", s.Ho, s.Wo);

    const lt_conv_shape bad[] = {
        mk(0, 3, 8, 8, 4, 3, 3, 1, 1, 1),  mk(1, 0, 8, 8, 4, 3, 3, 1, 1, 1),
        mk(1, 3, 0, 8, 4, 3, 3, 1, 1, 1),  mk(1, 3, 8, -1, 4, 3, 3, 1, 1, 1),
        mk(1, 3, 8, 8, 0, 3, 3, 1, 1, 1),  mk(1, 3, 8, 8, 4, 0, 3, 1, 1, 1),
        mk(1, 3, 8, 8, 4, 3, 3, 0, 1, 1),  mk(1, 3, 8, 8, 4, 3, 3, 1, -1, 1),
        mk(1, 3, 8, 8, 4, 3, 3, 1, 1, 0),  mk(1, 3, 8, 8, 4, 3, 3, 1, 1, 2), /* 2 does not divide 3 */
        mk(1, 4, 8, 8, 6, 3, 3, 1, 1, 4),  /* 4 does not divide 6 */
        mk(1, 3, 2, 8, 4, 3, 3, 1, 0, 1),  /* kernel taller than the image */
        mk(1, 3, 8, 2, 4, 1, 5, 1, 1, 1),  /* kernel wider than the padded image */
        mk(1, 3, 8, 8, 4, 3, 3, 1, 2000000000, 1), /* H + 2*pad overflows int */
        mk(1 << 30, 1 << 30, 1 << 30, 1 << 30, 4, 3, 3, 1, 1, 1), /* tensor size overflows */
        mk(1, 1, 50000, 50000, 1, 1, 1, 1, 0, 1), /* Ho*Wo beyond BLAS's int */
        mk(1, 1 << 28, 1, 1, 1, 3, 3, 1, 1, 1),    /* Cin*kh*kw beyond BLAS's int */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lt_conv_shape t = bad[i];
        CHECK(!lt_conv_shape_fill(&t), "invalid shape %zu accepted", i);
    }
    CHECK(!lt_conv_shape_fill(NULL), "NULL shape accepted");
}

/* ---------------- PyTorch golden ---------------- */

static void test_golden(void)
{
    for (size_t k = 0; k < sizeof conv_goldens / sizeof conv_goldens[0]; k++) {
        const conv_golden *g = &conv_goldens[k];
        lt_conv_shape s = g->s;
        CHECK(lt_conv_shape_fill(&s), "golden %s: shape rejected", g->name);
        size_t nx = xsize(&s), ny = ysize(&s), nw = wsize(&s), C = (size_t)s.Cout, at;
        size_t HW = (size_t)s.Ho * s.Wo;
        float *work = malloc(sizeof(float) * (lt_conv2d_work_floats(&s) + 1));
        float *c = malloc(sizeof(float) * ny), *c2 = malloc(sizeof(float) * ny);
        float *y = malloc(sizeof(float) * ny), *dc = malloc(sizeof(float) * ny);
        float *mean = malloc(sizeof(float) * C), *invstd = malloc(sizeof(float) * C);
        float *rm = malloc(sizeof(float) * C), *rv = malloc(sizeof(float) * C);
        float *dgamma = calloc(C, sizeof(float)), *dbeta = calloc(C, sizeof(float));
        float *dx = malloc(sizeof(float) * nx), *dw = calloc(nw, sizeof(float));
        memcpy(rm, g->rm0, sizeof(float) * C);
        memcpy(rv, g->rv0, sizeof(float) * C);
        double *cd = malloc(sizeof(double) * (ny > nx ? (ny > nw ? ny : nw) : (nx > nw ? nx : nw)));

        lt_conv2d_forward(c, g->x, g->w, &s, work);
        lt_conv2d_forward_ref(c2, g->x, g->w, &s);
        for (size_t i = 0; i < ny; i++)
            cd[i] = g->conv[i];
        double e = max_err(c, cd, ny, &at);
        CHECK(e < 1e-5, "golden %s: conv fast vs torch: error %g at %zu", g->name, e, at);
        e = max_err(c2, cd, ny, &at);
        CHECK(e < 1e-5, "golden %s: conv ref vs torch: error %g at %zu", g->name, e, at);

        lt_bn_forward_train(y, mean, invstd, rm, rv, c, g->gamma, g->beta, s.N, s.Cout, (int)HW,
                            1e-5f, 0.1f);
        for (size_t i = 0; i < ny; i++)
            cd[i] = g->y[i];
        e = max_err(y, cd, ny, &at);
        CHECK(e < 1e-4, "golden %s: bn output vs torch: error %g at %zu", g->name, e, at);
        for (size_t i = 0; i < C; i++) {
            CHECK_CLOSE(rm[i], g->rm1[i], 1e-5, "golden %s: running mean %zu", g->name, i);
            CHECK_CLOSE(rv[i], g->rv1[i], 1e-5, "golden %s: running var %zu", g->name, i);
        }

        lt_bn_backward(dc, dgamma, dbeta, g->r, c, mean, invstd, g->gamma, s.N, s.Cout, (int)HW);
        lt_conv2d_backward(dx, dw, dc, g->x, g->w, &s, work);
        for (size_t i = 0; i < nx; i++)
            cd[i] = g->dx[i];
        e = max_err(dx, cd, nx, &at);
        CHECK(e < 1e-4, "golden %s: dx vs torch: error %g at %zu", g->name, e, at);
        for (size_t i = 0; i < nw; i++)
            cd[i] = g->dw[i];
        e = max_err(dw, cd, nw, &at);
        CHECK(e < 1e-4, "golden %s: dw vs torch: error %g at %zu", g->name, e, at);
        for (size_t i = 0; i < C; i++) {
            CHECK_CLOSE(dgamma[i], g->dgamma[i], 1e-4, "golden %s: dgamma %zu", g->name, i);
            CHECK_CLOSE(dbeta[i], g->dbeta[i], 1e-4, "golden %s: dbeta %zu", g->name, i);
        }
        free(work); free(c); free(c2); free(y); free(dc); free(mean); free(invstd); free(rm);
        free(rv); free(dgamma); free(dbeta); free(dx); free(dw); free(cd);
    }
}

int main(void)
{
    check_begin("test_conv");
    lt_rng_seed(&rng, 20240611);
    test_shape_fill();

    /* Finite differences: every path of the fast kernel and the oracle. */
    test_fd(mk(2, 3, 7, 5, 4, 3, 3, 1, 1, 1));    /* plain, H != W */
    test_fd(mk(2, 3, 8, 9, 2, 3, 3, 2, 1, 1));    /* stride 2, padding */
    test_fd(mk(2, 2, 6, 7, 3, 3, 2, 1, 0, 1));    /* kh != kw, no padding */
    test_fd(mk(1, 2, 5, 4, 3, 3, 3, 2, 2, 1));    /* padding wider than half the kernel */
    test_fd(mk(2, 4, 6, 5, 4, 3, 3, 1, 1, 4));    /* depthwise */
    test_fd(mk(2, 3, 7, 8, 6, 3, 3, 2, 1, 3));    /* depthwise, multiplier 2, stride 2 */
    test_fd(mk(2, 3, 6, 7, 3, 2, 3, 1, 1, 3));    /* depthwise, kh != kw */
    test_fd(mk(2, 4, 6, 6, 6, 3, 3, 1, 1, 2));    /* grouped */
    test_fd(mk(3, 5, 4, 3, 3, 1, 1, 1, 0, 1));    /* 1x1, frames chunked */
    test_fd(mk(1, 2, 32, 33, 3, 1, 1, 1, 0, 1));  /* 1x1 straight GEMM on x, no im2col */
    test_fd(mk(2, 3, 7, 6, 2, 1, 1, 2, 0, 1));    /* 1x1 stride 2 */
    test_fd(mk(2, 2, 33, 32, 2, 5, 5, 1, 2, 1));  /* 5x5, one frame per GEMM */
    test_fd(mk(1, 1, 2, 2, 2, 3, 3, 1, 1, 1));    /* kernel larger than the image */

    /* Fast against the oracle: fixed corner cases, then random shapes.  The
     * GEMM paths run either as one thread with OpenBLAS threading its calls
     * or as an OpenMP team of single-threaded calls (conv.c, gemm_team);
     * both are checked, the team with 3 threads so that shares are uneven. */
    for (int mode = 0; mode < 2; mode++) {
        if (mode == 1) {
            openblas_set_num_threads(1);
#ifdef _OPENMP
            omp_set_num_threads(3);
#endif
            test_fd(mk(2, 4, 6, 6, 6, 3, 3, 1, 1, 2));
            test_fd(mk(3, 5, 4, 3, 3, 1, 1, 1, 0, 1));
            test_fd(mk(1, 2, 32, 33, 3, 1, 1, 1, 0, 1));
        }
        test_fast_vs_ref(mk(1, 3, 11, 13, 5, 3, 3, 1, 1, 1));   /* N = 1, odd sizes */
        test_fast_vs_ref(mk(25, 3, 10, 10, 4, 3, 3, 1, 1, 1));  /* chunks of 11 frames, last one 3 */
        test_fast_vs_ref(mk(3, 8, 33, 35, 8, 3, 3, 1, 1, 1));   /* one frame per chunk */
        test_fast_vs_ref(mk(3, 8, 33, 35, 16, 3, 3, 2, 1, 2));  /* grouped, stride 2 */
        test_fast_vs_ref(mk(2, 7, 40, 30, 14, 3, 3, 1, 1, 7));  /* groups of one input channel, x2 */
        test_fast_vs_ref(mk(4, 16, 34, 31, 16, 3, 3, 1, 1, 16));/* depthwise */
        test_fast_vs_ref(mk(2, 6, 33, 32, 5, 1, 1, 1, 0, 1));   /* 1x1 direct */
        test_fast_vs_ref(mk(5, 6, 9, 7, 10, 1, 1, 1, 0, 2));    /* 1x1 grouped, chunked */
        test_fast_vs_ref(mk(3, 4, 12, 9, 4, 5, 3, 2, 2, 4));    /* depthwise 5x3 stride 2 */
        test_fast_vs_ref(mk(2, 2, 9, 9, 2, 9, 9, 1, 4, 2));     /* 81 taps: depthwise tap blocks */
        test_fast_vs_ref(mk(2, 3, 5, 5, 3, 9, 9, 1, 4, 3));     /* 81 taps, depthwise */
        test_fast_vs_ref(mk(2, 1, 40, 40, 4, 3, 3, 1, 1, 1));   /* one input channel, idle threads */
        test_random_shapes(40);
    }

    test_golden();
    return check_done();
}
