/* loss.c -- the LT-SNN loss (METHOD.md §4, paper Eqs. 12-13) and the
 * prediction rule, on time-major logits O[T, B, K].
 *
 * Not for: choosing Omega (the caller passes the detached mean threshold)
 * or averaging over batches (train/ does that).
 *
 * Everything is summed in double; log-softmax subtracts the row maximum
 * first so large logits cannot overflow.  The function is cheap next to the
 * network (T*B*K elements), so there is no separate plain version: this one
 * is the plain loop. */
#include "kernels/kernels.h"

#include <assert.h>
#include <math.h>

/* Mean over t of O[t, b, k] (the time-averaged logit), in double. */
static double mean_t(const float *O, int T, int B, int K, int b, int k)
{
    double s = 0.0;
    for (int t = 0; t < T; t++)
        s += O[((size_t)t * B + b) * K + k];
    return s / T;
}

/* TET form: beta * mean_t CE(O_t, y) + (1 - beta) * mean_t MSE(O_t, omega). */
static lt_loss_parts loss_tet(float *dO, const float *O, const int32_t *y, float omega, float beta,
                              int T, int B, int K)
{
    lt_loss_parts r = {0.0, 0.0, 0.0};
    double ce_sum = 0.0, mse_sum = 0.0;
    double gce = (double)beta / ((double)T * B);                /* d(beta*ce)/d(row CE) */
    double gmse = 2.0 * (1.0 - (double)beta) / ((double)T * B * K); /* d((1-beta)*mse)/d(diff^2) / diff */

    for (int t = 0; t < T; t++) {
        for (int b = 0; b < B; b++) {
            const float *o = O + ((size_t)t * B + b) * K;
            int yb = y[b];
            double mx = o[0], se = 0.0;
            assert(yb >= 0 && yb < K);
            for (int k = 1; k < K; k++)
                mx = o[k] > mx ? o[k] : mx;
            for (int k = 0; k < K; k++)
                se += exp(o[k] - mx);
            double lse = mx + log(se);
            ce_sum += lse - o[yb];
            for (int k = 0; k < K; k++) {
                double d = (double)o[k] - omega;
                mse_sum += d * d;
            }
            if (dO) {
                float *g = dO + ((size_t)t * B + b) * K;
                for (int k = 0; k < K; k++) {
                    double p = exp(o[k] - lse) - (k == yb ? 1.0 : 0.0);
                    g[k] = (float)(gce * p + gmse * ((double)o[k] - omega));
                }
            }
        }
    }
    r.ce = ce_sum / ((double)T * B);
    r.mse = mse_sum / ((double)T * B * K);
    r.loss = beta * r.ce + (1.0 - beta) * r.mse;
    return r;
}

/* Plain form: CE on the time-averaged logits, same MSE term.  The averaged
 * row is recomputed in each pass rather than stored, so nothing is
 * allocated. */
static lt_loss_parts loss_mean(float *dO, const float *O, const int32_t *y, float omega, float beta,
                               int T, int B, int K)
{
    lt_loss_parts r = {0.0, 0.0, 0.0};
    double ce_sum = 0.0, mse_sum = 0.0;
    double gce = (double)beta / ((double)T * B);
    double gmse = 2.0 * (1.0 - (double)beta) / ((double)T * B * K);

    for (int b = 0; b < B; b++) {
        int yb = y[b];
        double mx = mean_t(O, T, B, K, b, 0), se = 0.0;
        assert(yb >= 0 && yb < K);
        for (int k = 1; k < K; k++) {
            double v = mean_t(O, T, B, K, b, k);
            mx = v > mx ? v : mx;
        }
        for (int k = 0; k < K; k++)
            se += exp(mean_t(O, T, B, K, b, k) - mx);
        double lse = mx + log(se);
        ce_sum += lse - mean_t(O, T, B, K, b, yb);
        for (int k = 0; k < K; k++) {
            double p = exp(mean_t(O, T, B, K, b, k) - lse) - (k == yb ? 1.0 : 0.0);
            for (int t = 0; t < T; t++) {
                size_t i = ((size_t)t * B + b) * K + k;
                double d = (double)O[i] - omega;
                mse_sum += d * d;
                if (dO)
                    dO[i] = (float)(gce * p + gmse * d);
            }
        }
    }
    r.ce = ce_sum / B;
    r.mse = mse_sum / ((double)T * B * K);
    r.loss = beta * r.ce + (1.0 - beta) * r.mse;
    return r;
}

lt_loss_parts lt_loss_forward_backward(float *dO, const float *O, const int32_t *y, float omega, float beta,
                                       int tet, int T, int B, int K)
{
    lt_loss_parts zero = {0.0, 0.0, 0.0};
    if (T <= 0 || B <= 0 || K <= 0)
        return zero;
    return tet ? loss_tet(dO, O, y, omega, beta, T, B, K) : loss_mean(dO, O, y, omega, beta, T, B, K);
}

void lt_predict(int32_t *pred, const float *O, int T, int B, int K)
{
    for (int b = 0; b < B; b++) {
        int best = 0;
        double bv = -INFINITY;
        for (int k = 0; k < K; k++) {
            double s = 0.0;
            for (int t = 0; t < T; t++)
                s += O[((size_t)t * B + b) * K + k];
            /* strict > keeps the lowest k on ties; a NaN never wins */
            if (s > bv) {
                bv = s;
                best = k;
            }
        }
        pred[b] = best;
    }
}
