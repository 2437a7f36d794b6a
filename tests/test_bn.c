/* test_bn.c -- BatchNorm2d kernels (src/kernels/bn.c, METHOD.md §3).
 *
 * Checks: train and eval outputs on a tiny example worked out by hand (known
 * mean, biased variance for normalising, unbiased variance and momentum for
 * the running stats, a constant channel); both backward versions against
 * finite differences of a double-precision forward written here; the fast
 * kernels against the _ref oracle on random shapes (N = 1, HW = 1, odd
 * sizes); dgamma/dbeta accumulation; dx == NULL; NULL running stats. */
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

/* ---------------- hand-computed example ---------------- */

/* N = 2 frames, C = 2 channels, HW = 2.  Channel 0 holds 1, 2 (frame 0) and
 * 3, 4 (frame 1): mean 2.5, biased variance 1.25, unbiased 5/3.  Channel 1
 * is constant 3: variance 0, so y = beta exactly. */
static void test_hand(void)
{
    const float x[8] = {1, 2, 3, 3, 3, 4, 3, 3};
    const float gamma[2] = {2.0f, 0.5f}, beta[2] = {0.5f, -1.0f};
    const float eps = 1e-5f, mom = 0.1f;
    for (int fast = 0; fast < 2; fast++) {
        const char *v = fast ? "fast" : "ref";
        float y[8], mean[2], invstd[2], rm[2] = {0.0f, 1.0f}, rv[2] = {1.0f, 2.0f};
        if (fast)
            lt_bn_forward_train(y, mean, invstd, rm, rv, x, gamma, beta, 2, 2, 2, eps, mom);
        else
            lt_bn_forward_train_ref(y, mean, invstd, rm, rv, x, gamma, beta, 2, 2, 2, eps, mom);
        const double is0 = 1.0 / sqrt(1.25 + 1e-5), is1 = 1.0 / sqrt(1e-5);
        CHECK_CLOSE(mean[0], 2.5, 1e-7, "%s: mean of channel 0", v);
        CHECK_CLOSE(mean[1], 3.0, 1e-7, "%s: mean of channel 1", v);
        CHECK_CLOSE(invstd[0], is0, 1e-6, "%s: invstd uses the biased variance", v);
        CHECK_CLOSE(invstd[1], is1, 1e-6, "%s: invstd of a constant channel is 1/sqrt(eps)", v);
        const double want0[4] = {2 * (1 - 2.5) * is0 + 0.5, 2 * (2 - 2.5) * is0 + 0.5,
                                 2 * (3 - 2.5) * is0 + 0.5, 2 * (4 - 2.5) * is0 + 0.5};
        const int idx0[4] = {0, 1, 4, 5};
        for (int i = 0; i < 4; i++)
            CHECK_CLOSE(y[idx0[i]], want0[i], 1e-6, "%s: y channel 0 value %d", v, i);
        const int idx1[4] = {2, 3, 6, 7};
        for (int i = 0; i < 4; i++)
            CHECK(y[idx1[i]] == -1.0f, "%s: constant channel gives beta, got %.9g", v, y[idx1[i]]);
        /* run = 0.9*run + 0.1*stat with the UNBIASED variance 5/3. */
        CHECK_CLOSE(rm[0], 0.25, 1e-7, "%s: running mean 0", v);
        CHECK_CLOSE(rv[0], 0.9 + 0.1 * (5.0 / 3.0), 1e-7, "%s: running var 0 takes the unbiased variance", v);
        CHECK_CLOSE(rm[1], 0.9 + 0.3, 1e-7, "%s: running mean 1", v);
        CHECK_CLOSE(rv[1], 1.8, 1e-7, "%s: running var 1", v);
    }

    /* Eval uses the running statistics only. */
    const float rm[2] = {1.0f, -2.0f}, rv[2] = {4.0f, 0.25f};
    float y[8];
    lt_bn_forward_eval(y, x, gamma, beta, rm, rv, 2, 2, 2, eps);
    for (int n = 0; n < 2; n++)
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 2; i++) {
                size_t k = ((size_t)n * 2 + c) * 2 + i;
                double want = gamma[c] * (x[k] - rm[c]) / sqrt(rv[c] + 1e-5) + beta[c];
                CHECK_CLOSE(y[k], want, 1e-6, "eval value n%d c%d i%d", n, c, i);
            }

    /* NULL running stats: the output is unchanged. */
    float y2[8], y3[8], mean[2], invstd[2], rmu[2] = {0, 0}, rvu[2] = {1, 1};
    lt_bn_forward_train(y2, mean, invstd, NULL, NULL, x, gamma, beta, 2, 2, 2, eps, mom);
    lt_bn_forward_train(y3, mean, invstd, rmu, rvu, x, gamma, beta, 2, 2, 2, eps, mom);
    CHECK(memcmp(y2, y3, sizeof y2) == 0, "NULL running stats change the output");
}

/* ---------------- finite differences ---------------- */

/* L = sum y*r for train-mode BN, in double. */
static double bn_loss_d(const double *x, const double *gamma, const double *beta, const float *r,
                        int N, int C, int HW)
{
    const double eps = 1e-5, M = (double)N * HW;
    double L = 0.0;
    for (int c = 0; c < C; c++) {
        double s = 0.0, q = 0.0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++)
                s += x[((size_t)n * C + c) * HW + i];
        double mu = s / M;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                double d = x[((size_t)n * C + c) * HW + i] - mu;
                q += d * d;
            }
        double is = 1.0 / sqrt(q / M + eps);
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                size_t k = ((size_t)n * C + c) * HW + i;
                L += (gamma[c] * (x[k] - mu) * is + beta[c]) * r[k];
            }
    }
    return L;
}

static void fd_one(const char *what, const char *tag, const float *grad, double *v, size_t n,
                   const double *x, const double *g, const double *b, const float *r, int N, int C, int HW)
{
    const double h = 1e-6;
    double worst = 0.0;
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        double keep = v[k];
        v[k] = keep + h;
        double lp = bn_loss_d(x, g, b, r, N, C, HW);
        v[k] = keep - h;
        double lm = bn_loss_d(x, g, b, r, N, C, HW);
        v[k] = keep;
        double fd = (lp - lm) / (2 * h);
        double m = fabs(fd) > fabs(grad[k]) ? fabs(fd) : fabs(grad[k]);
        double e = fabs(fd - grad[k]) / (m > 1.0 ? m : 1.0);
        if (e > worst || isnan(e)) {
            worst = e;
            at = k;
        }
    }
    /* Float kernels with double sums: rounding ~1e-6; the double FD with
     * h = 1e-6 is good to ~1e-9. */
    CHECK(worst < 1e-4, "%s: %s vs finite differences: worst error %g at %zu", tag, what, worst, at);
}

static void test_fd(int N, int C, int HW)
{
    size_t n = (size_t)N * C * HW;
    float *x = randv(n, -2.0f, 3.0f), *r = randv(n, -1.0f, 1.0f);
    float *gamma = randv((size_t)C, 0.5f, 1.5f), *beta = randv((size_t)C, -0.5f, 0.5f);
    float *y = malloc(sizeof(float) * n), *mean = malloc(sizeof(float) * C);
    float *invstd = malloc(sizeof(float) * C), *dx = malloc(sizeof(float) * n);
    float *dg = calloc((size_t)C, sizeof(float)), *db = calloc((size_t)C, sizeof(float));
    double *xd = malloc(sizeof(double) * n), *gd = malloc(sizeof(double) * C), *bd = malloc(sizeof(double) * C);
    for (size_t i = 0; i < n; i++)
        xd[i] = x[i];
    for (int c = 0; c < C; c++) {
        gd[c] = gamma[c];
        bd[c] = beta[c];
    }
    for (int fast = 0; fast < 2; fast++) {
        char tag[96];
        snprintf(tag, sizeof tag, "%s N%d C%d HW%d", fast ? "fast" : "ref", N, C, HW);
        memset(dg, 0, sizeof(float) * C);
        memset(db, 0, sizeof(float) * C);
        if (fast) {
            lt_bn_forward_train(y, mean, invstd, NULL, NULL, x, gamma, beta, N, C, HW, 1e-5f, 0.1f);
            lt_bn_backward(dx, dg, db, r, x, mean, invstd, gamma, N, C, HW);
        } else {
            lt_bn_forward_train_ref(y, mean, invstd, NULL, NULL, x, gamma, beta, N, C, HW, 1e-5f, 0.1f);
            lt_bn_backward_ref(dx, dg, db, r, x, mean, invstd, gamma, N, C, HW);
        }
        double L = 0.0;
        for (size_t i = 0; i < n; i++)
            L += (double)y[i] * r[i];
        CHECK_CLOSE(L, bn_loss_d(xd, gd, bd, r, N, C, HW), 1e-5, "%s: float forward vs double model", tag);
        fd_one("dx", tag, dx, xd, n, xd, gd, bd, r, N, C, HW);
        fd_one("dgamma", tag, dg, gd, (size_t)C, xd, gd, bd, r, N, C, HW);
        fd_one("dbeta", tag, db, bd, (size_t)C, xd, gd, bd, r, N, C, HW);
    }
    free(x); free(r); free(gamma); free(beta); free(y); free(mean); free(invstd); free(dx);
    free(dg); free(db); free(xd); free(gd); free(bd);
}

/* ---------------- fast against the oracle ---------------- */

static void test_fast_vs_ref(int N, int C, int HW)
{
    char tag[64];
    snprintf(tag, sizeof tag, "N%d C%d HW%d", N, C, HW);
    size_t n = (size_t)N * C * HW, at;
    float *x = randv(n, -3.0f, 5.0f), *dy = randv(n, -1.0f, 1.0f);
    float *gamma = randv((size_t)C, 0.5f, 1.5f), *beta = randv((size_t)C, -0.5f, 0.5f);
    float *y0 = malloc(sizeof(float) * n), *y1 = malloc(sizeof(float) * n);
    float *m0 = malloc(sizeof(float) * C), *m1 = malloc(sizeof(float) * C);
    float *s0 = malloc(sizeof(float) * C), *s1 = malloc(sizeof(float) * C);
    float *rm0 = randv((size_t)C, -1.0f, 1.0f), *rv0 = randv((size_t)C, 0.5f, 2.0f);
    float *rm1 = malloc(sizeof(float) * C), *rv1 = malloc(sizeof(float) * C);
    memcpy(rm1, rm0, sizeof(float) * C);
    memcpy(rv1, rv0, sizeof(float) * C);
    lt_bn_forward_train_ref(y0, m0, s0, rm0, rv0, x, gamma, beta, N, C, HW, 1e-5f, 0.1f);
    lt_bn_forward_train(y1, m1, s1, rm1, rv1, x, gamma, beta, N, C, HW, 1e-5f, 0.1f);
    double e = check_max_err(y1, y0, n, &at);
    CHECK(e < 1e-5, "%s: y fast vs ref: error %g at %zu", tag, e, at);
    e = check_max_err(m1, m0, (size_t)C, &at);
    CHECK(e < 1e-6, "%s: mean fast vs ref: error %g at %zu", tag, e, at);
    e = check_max_err(s1, s0, (size_t)C, &at);
    CHECK(e < 1e-5, "%s: invstd fast vs ref: error %g at %zu", tag, e, at);
    e = check_max_err(rm1, rm0, (size_t)C, &at);
    CHECK(e < 1e-6, "%s: running mean fast vs ref: error %g at %zu", tag, e, at);
    e = check_max_err(rv1, rv0, (size_t)C, &at);
    CHECK(e < 1e-5, "%s: running var fast vs ref: error %g at %zu", tag, e, at);

    /* Backward from the same saved statistics; dgamma/dbeta start random. */
    float *dx0 = malloc(sizeof(float) * n), *dx1 = malloc(sizeof(float) * n);
    float *dg0 = randv((size_t)C, -1, 1), *db0 = randv((size_t)C, -1, 1);
    float *dg1 = malloc(sizeof(float) * C), *db1 = malloc(sizeof(float) * C);
    float *dg2 = malloc(sizeof(float) * C), *db2 = malloc(sizeof(float) * C);
    memcpy(dg1, dg0, sizeof(float) * C);
    memcpy(db1, db0, sizeof(float) * C);
    memcpy(dg2, dg0, sizeof(float) * C);
    memcpy(db2, db0, sizeof(float) * C);
    lt_bn_backward_ref(dx0, dg0, db0, dy, x, m0, s0, gamma, N, C, HW);
    lt_bn_backward(dx1, dg1, db1, dy, x, m0, s0, gamma, N, C, HW);
    e = check_max_err(dx1, dx0, n, &at);
    CHECK(e < 1e-5, "%s: dx fast vs ref: error %g at %zu", tag, e, at);
    e = check_max_err(dg1, dg0, (size_t)C, &at);
    CHECK(e < 1e-5, "%s: dgamma fast vs ref: error %g at %zu", tag, e, at);
    e = check_max_err(db1, db0, (size_t)C, &at);
    CHECK(e < 1e-5, "%s: dbeta fast vs ref: error %g at %zu", tag, e, at);

    /* dx written over x (the network's plan) gives the same bytes. */
    {
        float *xi = malloc(sizeof(float) * n), *dgi = malloc(sizeof(float) * C), *dbi = malloc(sizeof(float) * C);
        memcpy(xi, x, sizeof(float) * n);
        memcpy(dgi, dg0, sizeof(float) * C);
        memcpy(dbi, db0, sizeof(float) * C);
        float *dgc = malloc(sizeof(float) * C), *dbc = malloc(sizeof(float) * C);
        memcpy(dgc, dg0, sizeof(float) * C);
        memcpy(dbc, db0, sizeof(float) * C);
        lt_bn_backward(dx1, dgc, dbc, dy, x, m0, s0, gamma, N, C, HW);
        lt_bn_backward(xi, dgi, dbi, dy, xi, m0, s0, gamma, N, C, HW);
        CHECK(!memcmp(xi, dx1, sizeof(float) * n) && !memcmp(dgi, dgc, sizeof(float) * C) &&
              !memcmp(dbi, dbc, sizeof(float) * C), "%s: backward over its input differs", tag);
        free(xi), free(dgi), free(dbi), free(dgc), free(dbc);
    }

    /* dx == NULL gives the same parameter gradients, bit for bit. */
    lt_bn_backward(NULL, dg2, db2, dy, x, m0, s0, gamma, N, C, HW);
    CHECK(memcmp(dg1, dg2, sizeof(float) * C) == 0 && memcmp(db1, db2, sizeof(float) * C) == 0,
          "%s: fast parameter gradients differ when dx is NULL", tag);
    memset(dg1, 0, sizeof(float) * C);
    memset(db1, 0, sizeof(float) * C);
    memset(dg2, 0, sizeof(float) * C);
    memset(db2, 0, sizeof(float) * C);
    lt_bn_backward_ref(dx0, dg1, db1, dy, x, m0, s0, gamma, N, C, HW);
    lt_bn_backward_ref(NULL, dg2, db2, dy, x, m0, s0, gamma, N, C, HW);
    CHECK(memcmp(dg1, dg2, sizeof(float) * C) == 0 && memcmp(db1, db2, sizeof(float) * C) == 0,
          "%s: ref parameter gradients differ when dx is NULL", tag);

    /* Accumulation: from zero, two calls give twice one call. */
    for (int fast = 0; fast < 2; fast++) {
        memset(dg1, 0, sizeof(float) * C);
        memset(db1, 0, sizeof(float) * C);
        for (int k = 0; k < 2; k++) {
            if (fast)
                lt_bn_backward(NULL, dg1, db1, dy, x, m0, s0, gamma, N, C, HW);
            else
                lt_bn_backward_ref(NULL, dg1, db1, dy, x, m0, s0, gamma, N, C, HW);
            if (k == 0) {
                memcpy(dg2, dg1, sizeof(float) * C);
                memcpy(db2, db1, sizeof(float) * C);
            }
        }
        int ok = 1;
        for (int c = 0; c < C; c++)
            ok &= dg1[c] == 2.0f * dg2[c] && db1[c] == 2.0f * db2[c];
        CHECK(ok, "%s: %s backward does not accumulate dgamma/dbeta", tag, fast ? "fast" : "ref");
    }

    free(x); free(dy); free(gamma); free(beta); free(y0); free(y1); free(m0); free(m1); free(s0);
    free(s1); free(rm0); free(rv0); free(rm1); free(rv1); free(dx0); free(dx1); free(dg0);
    free(db0); free(dg1); free(db1); free(dg2); free(db2);
}

/* Eval on random data against the formula written out here. */
static void test_eval_random(int N, int C, int HW)
{
    size_t n = (size_t)N * C * HW;
    float *x = randv(n, -3, 3), *gamma = randv((size_t)C, 0.5f, 1.5f), *beta = randv((size_t)C, -1, 1);
    float *rm = randv((size_t)C, -1, 1), *rv = randv((size_t)C, 0.1f, 3.0f), *y = malloc(sizeof(float) * n);
    lt_bn_forward_eval(y, x, gamma, beta, rm, rv, N, C, HW, 1e-5f);
    double worst = 0.0;
    for (int k = 0; k < N; k++)
        for (int c = 0; c < C; c++)
            for (int i = 0; i < HW; i++) {
                size_t j = ((size_t)k * C + c) * HW + i;
                double want = gamma[c] * (x[j] - (double)rm[c]) / sqrt(rv[c] + 1e-5) + beta[c];
                double e = fabs(want - y[j]) / (fabs(want) > 1 ? fabs(want) : 1);
                if (e > worst)
                    worst = e;
            }
    CHECK(worst < 1e-6, "eval N%d C%d HW%d: worst error %g", N, C, HW, worst);
    free(x); free(gamma); free(beta); free(rm); free(rv); free(y);
}

int main(void)
{
    check_begin("test_bn");
    lt_rng_seed(&rng, 7);
    test_hand();

    test_fd(2, 3, 6);
    test_fd(1, 2, 5);  /* one frame */
    test_fd(5, 2, 1);  /* 1x1 images */
    test_fd(3, 1, 7);

    test_fast_vs_ref(1, 3, 7);
    test_fast_vs_ref(4, 5, 9);
    test_fast_vs_ref(7, 1, 1);
    test_fast_vs_ref(3, 17, 33);
    test_fast_vs_ref(2, 8, 48 * 48);
    for (int k = 0; k < 10; k++)
        test_fast_vs_ref(1 + (int)lt_rng_below(&rng, 6), 1 + (int)lt_rng_below(&rng, 9),
                         2 + (int)lt_rng_below(&rng, 40));

    test_eval_random(3, 4, 5);
    test_eval_random(1, 1, 1);
    return check_done();
}
