/* test_pool_linear.c -- 2x2 pooling and linear kernels (src/kernels/pool.c,
 * src/kernels/linear.c).
 *
 * Checks: pooling on hand-made planes (odd sizes floor, ties go to the first
 * maximum in row-major order, NaN propagates, the dropped row/column gets
 * zero gradient); pooling and linear backward against finite differences of
 * double-precision forwards written here; fast linear against the _ref
 * oracle on random shapes (N = 1, odd sizes); dw/db accumulation; dx == NULL;
 * pooling against a plain loop written here on random odd shapes. */
#include "check.h"
#include "kernels/kernels.h"
#include "ltsnn/core.h"

#include <string.h>

static lt_rng rng;

static float *randv(size_t n, float lo, float hi)
{
    float *v = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        v[i] = lt_rng_uniformf(&rng, lo, hi);
    return v;
}

/* ---------------- pooling: hand values ---------------- */

static void test_pool_hand(void)
{
    /* One 3x5 plane: output 1x2, row 2 and column 4 are dropped. */
    const float x[15] = {1, 5, 2, 2, 9,
                         3, 4, 2, 2, 9,
                         9, 9, 9, 9, 9};
    float y[2], dx[15];
    const float dy[2] = {10.0f, 20.0f};
    lt_avgpool2_forward(y, x, 1, 1, 3, 5);
    CHECK(y[0] == 3.25f && y[1] == 2.0f, "avg pool values: %g %g", y[0], y[1]);
    lt_maxpool2_forward(y, x, 1, 1, 3, 5);
    CHECK(y[0] == 5.0f && y[1] == 2.0f, "max pool values: %g %g", y[0], y[1]);

    memset(dx, 0x7f, sizeof dx); /* garbage: backward must overwrite all of dx */
    lt_avgpool2_backward(dx, dy, 1, 1, 3, 5);
    const float want_avg[15] = {2.5f, 2.5f, 5, 5, 0,
                                2.5f, 2.5f, 5, 5, 0,
                                0, 0, 0, 0, 0};
    CHECK(memcmp(dx, want_avg, sizeof dx) == 0, "avg pool backward: dx[0]=%g dx[4]=%g dx[10]=%g",
          dx[0], dx[4], dx[10]);

    /* Window 1 is all 2: the gradient goes to its first element only. */
    memset(dx, 0x7f, sizeof dx);
    lt_maxpool2_backward(dx, dy, x, 1, 1, 3, 5);
    const float want_max[15] = {0, 10, 20, 0, 0,
                                0, 0, 0, 0, 0,
                                0, 0, 0, 0, 0};
    CHECK(memcmp(dx, want_max, sizeof dx) == 0, "max pool backward: dx[1]=%g dx[2]=%g dx[3]=%g",
          dx[1], dx[2], dx[3]);

    /* Ties in other positions: the first in row-major order wins. */
    const float t[8] = {0, 7, 1, 1,
                        7, 7, 3, 3}; /* window 0: max 7 at (0,1); window 1: max 3 at (1,0) */
    float ty[2], tdx[8];
    const float tdy[2] = {1, 2};
    lt_maxpool2_backward(tdx, tdy, t, 1, 1, 2, 4);
    const float want_t[8] = {0, 1, 0, 0, 0, 0, 2, 0};
    CHECK(memcmp(tdx, want_t, sizeof tdx) == 0, "max pool ties: %g %g %g %g %g %g %g %g", tdx[0],
          tdx[1], tdx[2], tdx[3], tdx[4], tdx[5], tdx[6], tdx[7]);
    lt_maxpool2_forward(ty, t, 1, 1, 2, 4);
    CHECK(ty[0] == 7 && ty[1] == 3, "max pool tie values: %g %g", ty[0], ty[1]);

    /* NaN propagates through max pooling, as in PyTorch. */
    const float nx[4] = {1, NAN, 5, 2};
    float ny;
    lt_maxpool2_forward(&ny, nx, 1, 1, 2, 2);
    CHECK(isnan(ny), "max pool drops a NaN: %g", ny);

    /* Images smaller than the window give empty outputs and zero gradient. */
    const float one[3] = {4, 5, 6};
    float g1[3] = {1, 1, 1};
    lt_maxpool2_backward(g1, dy, one, 1, 1, 1, 3);
    CHECK(g1[0] == 0 && g1[1] == 0 && g1[2] == 0, "1x3 max pool backward not zero");
    g1[0] = g1[1] = g1[2] = 1;
    lt_avgpool2_backward(g1, dy, 1, 1, 3, 1);
    CHECK(g1[0] == 0 && g1[1] == 0 && g1[2] == 0, "3x1 avg pool backward not zero");
    lt_avgpool2_backward(NULL, dy, 1, 1, 3, 1); /* dx == NULL is allowed */
    lt_maxpool2_backward(NULL, dy, one, 1, 1, 1, 3);
}

/* ---------------- pooling: random shapes and finite differences ---------------- */

static double pool_loss_d(const double *x, const float *r, int maxp, int N, int C, int H, int W)
{
    const int Ho = H / 2, Wo = W / 2;
    double L = 0.0;
    for (int p = 0; p < N * C; p++)
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++) {
                const double *b = x + (size_t)p * H * W + (size_t)(2 * oh) * W + 2 * ow;
                double v;
                if (maxp) {
                    v = b[0];
                    if (b[1] > v) v = b[1];
                    if (b[W] > v) v = b[W];
                    if (b[W + 1] > v) v = b[W + 1];
                } else {
                    v = 0.25 * (b[0] + b[1] + b[W] + b[W + 1]);
                }
                L += v * r[((size_t)p * Ho + oh) * Wo + ow];
            }
    return L;
}

static void test_pool_random(int N, int C, int H, int W)
{
    const int Ho = H / 2, Wo = W / 2;
    size_t nx = (size_t)N * C * H * W, ny = (size_t)N * C * Ho * Wo;
    float *x = randv(nx, -1, 1), *r = randv(ny, -1, 1), *y = malloc(sizeof(float) * (ny + 1));
    float *dx = malloc(sizeof(float) * nx);
    double *xd = malloc(sizeof(double) * nx);
    for (size_t i = 0; i < nx; i++)
        xd[i] = x[i];
    for (int maxp = 0; maxp < 2; maxp++) {
        const char *nm = maxp ? "max" : "avg";
        if (maxp)
            lt_maxpool2_forward(y, x, N, C, H, W);
        else
            lt_avgpool2_forward(y, x, N, C, H, W);
        double L = 0.0;
        for (size_t i = 0; i < ny; i++)
            L += (double)y[i] * r[i];
        /* The double model doubles as the plain-loop oracle for the forward. */
        CHECK(check_close(L, pool_loss_d(xd, r, maxp, N, C, H, W), 1e-6),
              "%s pool N%d C%d %dx%d: forward vs plain loop", nm, N, C, H, W);
        memset(dx, 0x7f, sizeof(float) * nx);
        if (maxp)
            lt_maxpool2_backward(dx, r, x, N, C, H, W);
        else
            lt_avgpool2_backward(dx, r, N, C, H, W);
        /* Random inputs have no ties within h, so max pooling is smooth
         * there; both losses are piecewise linear, so FD is exact. */
        const double h = 1e-7;
        double worst = 0.0;
        size_t at = 0;
        for (size_t k = 0; k < nx; k++) {
            double keep = xd[k];
            xd[k] = keep + h;
            double lp = pool_loss_d(xd, r, maxp, N, C, H, W);
            xd[k] = keep - h;
            double lm = pool_loss_d(xd, r, maxp, N, C, H, W);
            xd[k] = keep;
            double e = fabs((lp - lm) / (2 * h) - dx[k]);
            if (e > worst || isnan(e)) {
                worst = e;
                at = k;
            }
        }
        CHECK(worst < 1e-6, "%s pool N%d C%d %dx%d: dx vs finite differences: error %g at %zu", nm,
              N, C, H, W, worst, at);
    }
    free(x); free(r); free(y); free(dx); free(xd);
}

/* ---------------- linear ---------------- */

static double lin_loss_d(const double *x, const double *w, const double *b, const float *r, int N,
                         int in, int out)
{
    double L = 0.0;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < out; o++) {
            double acc = b[o];
            for (int i = 0; i < in; i++)
                acc += x[(size_t)n * in + i] * w[(size_t)o * in + i];
            L += acc * r[(size_t)n * out + o];
        }
    return L;
}

static void lin_fd(const char *what, const char *tag, const float *grad, double *v, size_t n,
                   const double *x, const double *w, const double *b, const float *r, int N, int in,
                   int out)
{
    const double h = 1e-3; /* L is linear in each argument: FD is exact up to rounding */
    double worst = 0.0;
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        double keep = v[k];
        v[k] = keep + h;
        double lp = lin_loss_d(x, w, b, r, N, in, out);
        v[k] = keep - h;
        double lm = lin_loss_d(x, w, b, r, N, in, out);
        v[k] = keep;
        double fd = (lp - lm) / (2 * h);
        double m = fabs(fd) > fabs(grad[k]) ? fabs(fd) : fabs(grad[k]);
        double e = fabs(fd - grad[k]) / (m > 1.0 ? m : 1.0);
        if (e > worst || isnan(e)) {
            worst = e;
            at = k;
        }
    }
    CHECK(worst < 2e-5, "%s: %s vs finite differences: worst error %g at %zu", tag, what, worst, at);
}

static void test_linear_fd(int N, int in, int out)
{
    size_t nx = (size_t)N * in, nw = (size_t)out * in, ny = (size_t)N * out;
    float *x = randv(nx, -1, 1), *w = randv(nw, -1, 1), *b = randv((size_t)out, -1, 1);
    float *r = randv(ny, -1, 1), *y = malloc(sizeof(float) * ny), *dx = malloc(sizeof(float) * nx);
    float *dw = malloc(sizeof(float) * nw), *db = malloc(sizeof(float) * out);
    double *xd = malloc(sizeof(double) * nx), *wd = malloc(sizeof(double) * nw);
    double *bd = malloc(sizeof(double) * out);
    for (size_t i = 0; i < nx; i++) xd[i] = x[i];
    for (size_t i = 0; i < nw; i++) wd[i] = w[i];
    for (int i = 0; i < out; i++) bd[i] = b[i];
    for (int fast = 0; fast < 2; fast++) {
        char tag[80];
        snprintf(tag, sizeof tag, "linear %s N%d in%d out%d", fast ? "fast" : "ref", N, in, out);
        memset(dw, 0, sizeof(float) * nw);
        memset(db, 0, sizeof(float) * out);
        if (fast) {
            lt_linear_forward(y, x, w, b, N, in, out);
            lt_linear_backward(dx, dw, db, r, x, w, N, in, out);
        } else {
            lt_linear_forward_ref(y, x, w, b, N, in, out);
            lt_linear_backward_ref(dx, dw, db, r, x, w, N, in, out);
        }
        double L = 0.0;
        for (size_t i = 0; i < ny; i++)
            L += (double)y[i] * r[i];
        CHECK(check_close(L, lin_loss_d(xd, wd, bd, r, N, in, out), 1e-5),
              "%s: float forward vs double model", tag);
        lin_fd("dx", tag, dx, xd, nx, xd, wd, bd, r, N, in, out);
        lin_fd("dw", tag, dw, wd, nw, xd, wd, bd, r, N, in, out);
        lin_fd("db", tag, db, bd, (size_t)out, xd, wd, bd, r, N, in, out);
    }
    free(x); free(w); free(b); free(r); free(y); free(dx); free(dw); free(db);
    free(xd); free(wd); free(bd);
}

static void test_linear_fast_vs_ref(int N, int in, int out)
{
    char tag[64];
    snprintf(tag, sizeof tag, "linear N%d in%d out%d", N, in, out);
    size_t nx = (size_t)N * in, nw = (size_t)out * in, ny = (size_t)N * out, at;
    float *x = randv(nx, -1, 1), *w = randv(nw, -1, 1), *b = randv((size_t)out, -1, 1);
    float *dy = randv(ny, -1, 1), *y0 = malloc(sizeof(float) * ny), *y1 = malloc(sizeof(float) * ny);
    float *dx0 = malloc(sizeof(float) * nx), *dx1 = randv(nx, 5, 6);
    float *dw0 = randv(nw, -1, 1), *db0 = randv((size_t)out, -1, 1);
    float *dw1 = malloc(sizeof(float) * nw), *db1 = malloc(sizeof(float) * out);
    float *dw2 = malloc(sizeof(float) * nw), *db2 = malloc(sizeof(float) * out);
    memcpy(dw1, dw0, sizeof(float) * nw);
    memcpy(db1, db0, sizeof(float) * out);
    memcpy(dw2, dw0, sizeof(float) * nw);
    memcpy(db2, db0, sizeof(float) * out);

    /* A float dot product of `in` terms of size <= 1 is off by up to about
     * in * 2^-24 in the worst case; the oracle sums in double. */
    const double tol = 1e-6 + 1e-7 * (in > out ? in : out) + 1e-7 * N;
    lt_linear_forward_ref(y0, x, w, b, N, in, out);
    lt_linear_forward(y1, x, w, b, N, in, out);
    double e = check_max_err(y1, y0, ny, &at);
    CHECK(e < tol, "%s: forward fast vs ref: error %g at %zu", tag, e, at);
    /* Without a bias the output is x w^T alone. */
    lt_linear_forward(y1, x, w, NULL, N, in, out);
    for (size_t i = 0; i < ny; i++)
        y0[i] -= b[i % (size_t)out];
    e = check_max_err(y1, y0, ny, &at);
    CHECK(e < tol, "%s: forward without bias: error %g at %zu", tag, e, at);

    lt_linear_backward_ref(dx0, dw0, db0, dy, x, w, N, in, out);
    lt_linear_backward(dx1, dw1, db1, dy, x, w, N, in, out);
    e = check_max_err(dx1, dx0, nx, &at);
    CHECK(e < tol, "%s: dx fast vs ref: error %g at %zu", tag, e, at);
    e = check_max_err(dw1, dw0, nw, &at);
    CHECK(e < tol, "%s: dw fast vs ref (accumulated onto random): error %g at %zu", tag, e, at);
    e = check_max_err(db1, db0, (size_t)out, &at);
    CHECK(e < tol, "%s: db fast vs ref (accumulated onto random): error %g at %zu", tag, e, at);

    lt_linear_backward(NULL, dw2, db2, dy, x, w, N, in, out);
    CHECK(memcmp(dw1, dw2, sizeof(float) * nw) == 0 && memcmp(db1, db2, sizeof(float) * out) == 0,
          "%s: dw/db differ when dx is NULL", tag);

    /* From zero, two calls give twice one call (rounding aside: the second
     * call adds onto a non-zero dw). */
    for (int fast = 0; fast < 2; fast++) {
        memset(dw1, 0, sizeof(float) * nw);
        memset(db1, 0, sizeof(float) * out);
        for (int k = 0; k < 2; k++) {
            if (fast)
                lt_linear_backward(NULL, dw1, db1, dy, x, w, N, in, out);
            else
                lt_linear_backward_ref(NULL, dw1, db1, dy, x, w, N, in, out);
            if (k == 0) {
                for (size_t i = 0; i < nw; i++)
                    dw2[i] = 2.0f * dw1[i];
                for (int i = 0; i < out; i++)
                    db2[i] = 2.0f * db1[i];
            }
        }
        e = check_max_err(dw1, dw2, nw, &at);
        CHECK(e < 1e-6, "%s %s: dw does not accumulate: error %g at %zu", tag, fast ? "fast" : "ref", e, at);
        e = check_max_err(db1, db2, (size_t)out, &at);
        CHECK(e < 1e-6, "%s %s: db does not accumulate: error %g at %zu", tag, fast ? "fast" : "ref", e, at);
    }
    free(x); free(w); free(b); free(dy); free(y0); free(y1); free(dx0); free(dx1);
    free(dw0); free(db0); free(dw1); free(db1); free(dw2); free(db2);
}

int main(void)
{
    check_begin("test_pool_linear");
    lt_rng_seed(&rng, 99);
    test_pool_hand();
    test_pool_random(2, 3, 6, 8);
    test_pool_random(1, 2, 7, 5);   /* odd both ways */
    test_pool_random(3, 1, 9, 4);
    test_pool_random(1, 1, 1, 6);   /* no output rows */
    for (int k = 0; k < 6; k++)
        test_pool_random(1 + (int)lt_rng_below(&rng, 3), 1 + (int)lt_rng_below(&rng, 4),
                         1 + (int)lt_rng_below(&rng, 12), 1 + (int)lt_rng_below(&rng, 12));

    test_linear_fd(3, 5, 4);
    test_linear_fd(1, 7, 3);
    test_linear_fd(4, 1, 1);
    test_linear_fast_vs_ref(1, 1, 1);
    test_linear_fast_vs_ref(1, 37, 11);
    test_linear_fast_vs_ref(7, 13, 5);
    test_linear_fast_vs_ref(64, 257, 10);
    test_linear_fast_vs_ref(160, 1152, 256);
    for (int k = 0; k < 8; k++)
        test_linear_fast_vs_ref(1 + (int)lt_rng_below(&rng, 40), 1 + (int)lt_rng_below(&rng, 100),
                                1 + (int)lt_rng_below(&rng, 30));
    return check_done();
}
