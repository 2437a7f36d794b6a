/* test_loss.c -- the LT-SNN loss and prediction (src/kernels/loss.c,
 * METHOD.md §4): values against hand-computed ones, dL/dO against central
 * finite differences of the returned loss (tet = 1 and tet = 0), overflow
 * safety of the log-softmax, and lt_predict's argmax and tie rule. */
#include "check.h"
#include "kernels/kernels.h"
#include "ltsnn/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect_close(double got, double want, double tol, const char *what)
{
    CHECK(check_close(got, want, tol), "%s: got %.12g want %.12g (tol %g)", what, got, want, tol);
}

static double lse3(double a, double b, double c) { return log(exp(a) + exp(b) + exp(c)); }

static void test_values(void)
{
    /* T 1, B 1, K 2, equal logits: CE = log 2, MSE = (0 - 1)^2 */
    {
        const float O[2] = {0.0f, 0.0f};
        const int32_t y[1] = {0};
        float dO[2];
        lt_loss_parts p = lt_loss_forward_backward(dO, O, y, 1.0f, 0.5f, 1, 1, 1, 2);
        expect_close(p.ce, log(2.0), 1e-12, "ce log 2");
        expect_close(p.mse, 1.0, 1e-12, "mse 1");
        expect_close(p.loss, 0.5 * log(2.0) + 0.5, 1e-12, "loss");
        /* dO = beta*(softmax - onehot) + (1-beta)*2*(O - omega)/K */
        expect_close(dO[0], 0.5 * (0.5 - 1.0) + 0.5 * 2.0 * (0.0 - 1.0) / 2.0, 1e-7, "dO[0]");
        expect_close(dO[1], 0.5 * 0.5 + 0.5 * 2.0 * (0.0 - 1.0) / 2.0, 1e-7, "dO[1]");
    }
    /* T 2, B 1, K 3: O_0 = (1,2,3), O_1 = (3,2,1), y = 2, omega 0.5, beta 0.45 */
    {
        const float O[6] = {1, 2, 3, 3, 2, 1};
        const int32_t y[1] = {2};
        double mse = (0.25 + 2.25 + 6.25) * 2.0 / 6.0;
        double ce_tet = 0.5 * ((lse3(1, 2, 3) - 3.0) + (lse3(3, 2, 1) - 1.0));
        double b45 = 0.45f; /* beta is a float parameter */
        lt_loss_parts p = lt_loss_forward_backward(NULL, O, y, 0.5f, 0.45f, 1, 2, 1, 3);
        expect_close(p.ce, ce_tet, 1e-12, "tet ce");
        expect_close(p.mse, mse, 1e-12, "tet mse");
        expect_close(p.loss, b45 * ce_tet + (1.0 - b45) * mse, 1e-12, "tet loss");
        /* time-averaged logits are (2,2,2): CE = log 3 */
        p = lt_loss_forward_backward(NULL, O, y, 0.5f, 0.45f, 0, 2, 1, 3);
        expect_close(p.ce, log(3.0), 1e-12, "mean ce");
        expect_close(p.mse, mse, 1e-12, "mean mse");
        expect_close(p.loss, b45 * log(3.0) + (1.0 - b45) * mse, 1e-12, "mean loss");
    }
    /* B 2 averages over the batch: a confident right and a confident wrong row */
    {
        const float O[4] = {10.0f, 0.0f, 10.0f, 0.0f};
        const int32_t y[2] = {0, 1};
        lt_loss_parts p = lt_loss_forward_backward(NULL, O, y, 0.0f, 1.0f, 1, 1, 2, 2);
        double c0 = log(1.0 + exp(-10.0)), c1 = 10.0 + log(1.0 + exp(-10.0));
        expect_close(p.ce, 0.5 * (c0 + c1), 1e-12, "batch mean ce");
        expect_close(p.loss, p.ce, 1e-12, "beta 1: loss is ce");
        expect_close(p.mse, 50.0, 1e-12, "mse over B*K");
    }
    /* huge logits must not overflow */
    {
        const float O[3] = {1000.0f, 1001.0f, -1000.0f};
        const int32_t y[1] = {0};
        float dO[3];
        lt_loss_parts p = lt_loss_forward_backward(dO, O, y, 0.0f, 1.0f, 1, 1, 1, 3);
        CHECK(isfinite(p.loss) && isfinite(dO[0]) && isfinite(dO[1]) && isfinite(dO[2]),
              "finite with logits 1000: loss %g", p.loss);
        expect_close(p.ce, log(1.0 + exp(1.0)), 1e-9, "ce with logits 1000");
        expect_close(dO[2], 0.0, 1e-7, "dO of a logit 2000 below");
    }
}

/* Independent double evaluation of the parts, for random shapes. */
static void parts_d(double *ce, double *mse, const float *O, const int32_t *y, double omega, int tet, int T,
                    int B, int K)
{
    double c = 0.0, m = 0.0;
    for (int b = 0; b < B; b++) {
        if (tet) {
            for (int t = 0; t < T; t++) {
                const float *o = O + ((size_t)t * B + b) * K;
                double se = 0.0;
                for (int k = 0; k < K; k++)
                    se += exp((double)o[k]);
                c += (log(se) - o[y[b]]) / T;
            }
        } else {
            double se = 0.0, oy = 0.0;
            for (int k = 0; k < K; k++) {
                double a = 0.0;
                for (int t = 0; t < T; t++)
                    a += O[((size_t)t * B + b) * K + k];
                a /= T;
                se += exp(a);
                if (k == y[b])
                    oy = a;
            }
            c += log(se) - oy;
        }
    }
    for (size_t i = 0; i < (size_t)T * B * K; i++)
        m += ((double)O[i] - omega) * ((double)O[i] - omega);
    *ce = c / B;
    *mse = m / ((double)T * B * K);
}

static void test_fd(int tet)
{
    enum { T = 4, B = 3, K = 5 };
    size_t n = (size_t)T * B * K;
    float O[T * B * K], dO[T * B * K], dO2[T * B * K];
    int32_t y[B];
    lt_rng rng;
    char what[64];
    const float omega = 0.8f, beta = 0.45f;
    lt_rng_seed(&rng, 100 + tet);
    for (size_t i = 0; i < n; i++)
        O[i] = lt_rng_uniformf(&rng, -3.0f, 3.0f);
    for (int b = 0; b < B; b++)
        y[b] = (int32_t)lt_rng_below(&rng, K);

    lt_loss_parts p = lt_loss_forward_backward(dO, O, y, omega, beta, tet, T, B, K);
    double ce, mse;
    parts_d(&ce, &mse, O, y, omega, tet, T, B, K);
    snprintf(what, sizeof what, "tet %d ce", tet);
    expect_close(p.ce, ce, 1e-12, what);
    snprintf(what, sizeof what, "tet %d mse", tet);
    expect_close(p.mse, mse, 1e-12, what);
    snprintf(what, sizeof what, "tet %d total", tet);
    expect_close(p.loss, beta * ce + (1.0 - beta) * mse, 1e-12, what);

    /* dO NULL: same loss */
    lt_loss_parts q = lt_loss_forward_backward(NULL, O, y, omega, beta, tet, T, B, K);
    CHECK(q.loss == p.loss && q.ce == p.ce && q.mse == p.mse, "tet %d: dO NULL changes the loss", tet);

    /* central differences; the step is what float rounding of O +- h leaves */
    int bad = 0;
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        float o0 = O[i];
        O[i] = o0 + 1e-3f;
        double op = O[i];
        double lp = lt_loss_forward_backward(NULL, O, y, omega, beta, tet, T, B, K).loss;
        O[i] = o0 - 1e-3f;
        double om = O[i];
        double lm = lt_loss_forward_backward(NULL, O, y, omega, beta, tet, T, B, K).loss;
        O[i] = o0;
        double g = (lp - lm) / (op - om);
        double e = fabs(g - dO[i]);
        worst = e > worst ? e : worst;
        bad += !(e <= 1e-6);
    }
    CHECK(bad == 0, "tet %d: %d of %zu dO differ from finite differences (worst %.3g)", tet, bad, n, worst);

    /* dO is overwritten, not accumulated */
    for (size_t i = 0; i < n; i++)
        dO2[i] = 123.0f;
    lt_loss_forward_backward(dO2, O, y, omega, beta, tet, T, B, K);
    CHECK(memcmp(dO, dO2, sizeof dO) == 0, "tet %d: dO overwritten", tet);
}

static void test_predict(void)
{
    enum { T = 2, B = 4, K = 3 };
    /* b0: clear winner k=1; b1: tie between k=0 and k=2 -> 0;
     * b2: last step says k=2 but the mean says k=0; b3: tie between 1 and 2 -> 1 */
    const float O[T * B * K] = {
        0, 5, 1,   2, 1, 2,   9, 0, 0,   0, 3, 3,
        0, 4, 1,   2, 1, 2,   0, 0, 1,   1, 3, 3,
    };
    int32_t pred[B];
    lt_predict(pred, O, T, B, K);
    CHECK(pred[0] == 1, "clear argmax: got %d", pred[0]);
    CHECK(pred[1] == 0, "tie goes to the lowest k: got %d", pred[1]);
    CHECK(pred[2] == 0, "argmax of the time average, not the last step: got %d", pred[2]);
    CHECK(pred[3] == 1, "tie between 1 and 2 goes to 1: got %d", pred[3]);
    /* a NaN never wins */
    const float On[3] = {NAN, -1.0f, 2.0f};
    int32_t p1;
    lt_predict(&p1, On, 1, 1, 3);
    CHECK(p1 == 2, "NaN logit does not win: got %d", p1);
}

int main(void)
{
    check_begin("test_loss");
    test_values();
    test_fd(1);
    test_fd(0);
    test_predict();
    return check_done();
}
