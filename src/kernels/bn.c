/* bn.c -- BatchNorm2d over NCHW float32 (METHOD.md §3), train, eval, backward.
 *
 * PyTorch BatchNorm2d semantics on the [T*B, C, H, W] view: per channel the
 * statistics run over M = N*HW values, the BIASED variance normalises, the
 * UNBIASED one (times M/(M-1)) enters run_var, and the running stats move as
 * run = (1 - momentum)*run + momentum*stat.  Sums are taken in double in both
 * versions: M reaches ~10^6 for early layers, where float sums lose digits.
 * The reference follows the textbook chain rule term by term; the fast
 * versions use one-pass statistics and the simplified backward, and split
 * channels across OpenMP threads: each channel's sums are taken by one
 * thread in a fixed order, so they are deterministic.
 * Not here: parameter storage or the choice of train/eval (the BN layer). */
#include "kernels/kernels.h"

#include <math.h>

/* ---------------- fast per-channel helpers ---------------- */

/* The sum and sum of squares of channel c over N frames, in double (one
 * pass; with float inputs the cancellation in E[x^2]-mean^2 costs at most
 * ~log10(mean^2/var) of double's 16 digits).  Processes that hold parts of
 * a batch add these up (sync BN, METHOD.md §11) before bn_channel_finish. */
static void bn_channel_sums(double *sum, double *sq, const float *x, int N, int C, int HW, int c)
{
    double s = 0.0, q = 0.0;
    for (int n = 0; n < N; n++) {
        const float *xc = x + ((size_t)n * C + c) * HW;
        #pragma omp simd reduction(+:s, q)
        for (int i = 0; i < HW; i++) {
            s += xc[i];
            q += (double)xc[i] * xc[i];
        }
    }
    *sum = s;
    *sq = q;
}

/* From the sums over M values: saves mean/invstd, moves the running stats;
 * returns the float scale gamma*invstd that y = (x - mean)*scale + beta
 * uses, formed from the double invstd (not the saved float one) so fused
 * consumers (lif.c's lt_lif_forward_bn) reproduce y bit for bit. */
static float bn_channel_finish(float *mean, float *invstd, float *run_mean, float *run_var, double s, double q,
                               double M, const float *gamma, float eps, float momentum, int c)
{
    const double mu = s / M;
    double var = q / M - mu * mu;
    var = var > 0.0 ? var : 0.0; /* the biased variance */
    const double is = 1.0 / sqrt(var + (double)eps);
    mean[c] = (float)mu;
    invstd[c] = (float)is;
    /* PyTorch refuses M == 1 in training; keep the biased value there rather
     * than divide by zero. */
    const double unbiased = M > 1.0 ? var * M / (M - 1.0) : var;
    if (run_mean)
        run_mean[c] = (float)((1.0 - momentum) * run_mean[c] + (double)momentum * mu);
    if (run_var)
        run_var[c] = (float)((1.0 - momentum) * run_var[c] + (double)momentum * unbiased);
    return (float)(gamma[c] * is);
}

/* Statistics of channel c over this batch alone. */
static float bn_channel_stats_train(float *mean, float *invstd, float *run_mean, float *run_var, const float *x,
                                    const float *gamma, int N, int C, int HW, float eps, float momentum, int c)
{
    double s, q;
    bn_channel_sums(&s, &q, x, N, C, HW, c);
    return bn_channel_finish(mean, invstd, run_mean, run_var, s, q, (double)N * HW, gamma, eps, momentum, c);
}

/* y = (x - mean)*scale + beta on channel c.  Not x*scale + shift: with a
 * near-constant channel invstd is ~1/sqrt(eps) and the folded shift would
 * cancel away the digits of beta.  lif.c's bn_row is the same expression. */
static void bn_channel_apply(float *y, const float *x, float mean, float scale, float beta, int N, int C, int HW,
                             int c)
{
    for (int n = 0; n < N; n++) {
        const float *xc = x + ((size_t)n * C + c) * HW;
        float *yc = y + ((size_t)n * C + c) * HW;
        for (int i = 0; i < HW; i++)
            yc[i] = (xc[i] - mean) * scale + beta;
    }
}

/* eval-mode scale gamma/sqrt(run_var + eps) */
static inline float bn_eval_scale(const float *gamma, const float *run_var, float eps, int c)
{
    return (float)(gamma[c] / sqrt((double)run_var[c] + (double)eps));
}

/* Backward's sums over channel c: sd = sum dy, sdx = sum dy*(x - mean)
 * (times invstd it is sum dy*xhat), in double.  Processes holding parts of
 * a batch add these up (sync BN) before bn_channel_dx. */
static void bn_channel_bsums(double *sd, double *sdx, const float *dy, const float *x, float mu, int N, int C,
                             int HW, int c)
{
    double s = 0.0, q = 0.0;
    for (int n = 0; n < N; n++) {
        const float *xc = x + ((size_t)n * C + c) * HW;
        const float *dyc = dy + ((size_t)n * C + c) * HW;
        #pragma omp simd reduction(+:s, q)
        for (int i = 0; i < HW; i++) {
            s += dyc[i];
            q += (double)dyc[i] * (xc[i] - mu);
        }
    }
    *sd = s;
    *sdx = q;
}

/* With xhat = (x - mean)*invstd, the sums sd = sum dy and sdxh = sum
 * dy*xhat over the M values of the channel:
 *   dx = gamma*invstd*(dy - sd/M - xhat*sdxh/M)
 * (the derivative through mean and the biased variance, simplified). */
static void bn_channel_dx(float *dx, const float *dy, const float *x, float mu, float is, float gamma, double sd,
                          double sdxh, double M, int N, int C, int HW, int c)
{
    const float k = gamma * is;
    const float a = (float)(sd / M);               /* mean of dy */
    const float b = (float)(sdxh / M * (double)is); /* mean of dy*xhat, times invstd */
    for (int n = 0; n < N; n++) {
        const float *xc = x + ((size_t)n * C + c) * HW;
        const float *dyc = dy + ((size_t)n * C + c) * HW;
        float *dxc = dx + ((size_t)n * C + c) * HW;
        if (dxc == xc) {
            /* over its own input (the network's plan): one pointer, so the
             * loop vectorises without a failing overlap check */
            for (int i = 0; i < HW; i++)
                dxc[i] = k * (dyc[i] - a - (dxc[i] - mu) * b);
        } else {
            for (int i = 0; i < HW; i++)
                dxc[i] = k * (dyc[i] - a - (xc[i] - mu) * b);
        }
    }
}

/* dbeta = sum dy, dgamma = sum dy*xhat, then dx (bn_channel_dx). */
static void bn_channel_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *mean, const float *invstd,
                                const float *gamma, int N, int C, int HW, int c)
{
    double sd, sdx;
    bn_channel_bsums(&sd, &sdx, dy, x, mean[c], N, C, HW, c);
    sdx *= invstd[c]; /* sum dy * xhat */
    dbeta[c] += (float)sd;
    dgamma[c] += (float)sdx;
    if (dx)
        bn_channel_dx(dx, dy, x, mean[c], invstd[c], gamma[c], sd, sdx, (double)N * HW, N, C, HW, c);
}

/* ---------------- reference (oracle): the textbook chain rule ---------------- */

void lt_bn_forward_train_ref(float *y, float *mean, float *invstd, float *run_mean, float *run_var,
                             const float *x, const float *gamma, const float *beta,
                             int N, int C, int HW, float eps, float momentum)
{
    const double M = (double)N * HW;
    for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++)
                s += x[((size_t)n * C + c) * HW + i];
        const double mu = s / M;
        double q = 0.0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                double d = x[((size_t)n * C + c) * HW + i] - mu;
                q += d * d;
            }
        const double var = q / M;
        const double is = 1.0 / sqrt(var + (double)eps);
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                size_t k = ((size_t)n * C + c) * HW + i;
                y[k] = (float)(gamma[c] * (x[k] - mu) * is + beta[c]);
            }
        mean[c] = (float)mu;
        invstd[c] = (float)is;
        if (run_mean)
            run_mean[c] = (float)((1.0 - momentum) * run_mean[c] + (double)momentum * mu);
        if (run_var)
            run_var[c] = (float)((1.0 - momentum) * run_var[c] +
                                 (double)momentum * (M > 1.0 ? q / (M - 1.0) : var));
    }
}

/* Through xhat, var and mean separately:
 *   dxhat = dy*gamma
 *   dvar  = sum dxhat*(x-mean) * (-1/2) invstd^3
 *   dmean = -invstd * sum dxhat + dvar * (-2/M) sum (x-mean)
 *   dx    = dxhat*invstd + dvar*2(x-mean)/M + dmean/M */
void lt_bn_backward_ref(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                        const float *mean, const float *invstd, const float *gamma, int N, int C, int HW)
{
    const double M = (double)N * HW;
    for (int c = 0; c < C; c++) {
        const double mu = mean[c], is = invstd[c];
        double sdy = 0.0, sdyxh = 0.0, sdxh_xm = 0.0, sdxh = 0.0, sxm = 0.0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                size_t k = ((size_t)n * C + c) * HW + i;
                double xm = x[k] - mu;
                sdy += dy[k];
                sdyxh += dy[k] * xm * is;
                sdxh += dy[k] * (double)gamma[c];
                sdxh_xm += dy[k] * (double)gamma[c] * xm;
                sxm += xm;
            }
        dbeta[c] += (float)sdy;
        dgamma[c] += (float)sdyxh;
        if (!dx)
            continue;
        const double dvar = sdxh_xm * -0.5 * is * is * is;
        const double dmean = -is * sdxh + dvar * (-2.0 / M) * sxm;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                size_t k = ((size_t)n * C + c) * HW + i;
                double xm = x[k] - mu;
                dx[k] = (float)(dy[k] * (double)gamma[c] * is + dvar * 2.0 * xm / M + dmean / M);
            }
    }
}

/* ---------------- fast kernels ---------------- */

void lt_bn_forward_train(float *y, float *mean, float *invstd, float *run_mean, float *run_var,
                         const float *x, const float *gamma, const float *beta,
                         int N, int C, int HW, float eps, float momentum)
{
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        float scale = bn_channel_stats_train(mean, invstd, run_mean, run_var, x, gamma, N, C, HW, eps, momentum, c);
        bn_channel_apply(y, x, mean[c], scale, beta[c], N, C, HW, c);
    }
}

void lt_bn_stats_train(float *mean, float *invstd, float *scale, float *run_mean, float *run_var, const float *x,
                       const float *gamma, int N, int C, int HW, float eps, float momentum)
{
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++)
        scale[c] = bn_channel_stats_train(mean, invstd, run_mean, run_var, x, gamma, N, C, HW, eps, momentum, c);
}

void lt_bn_forward_eval(float *y, const float *x, const float *gamma, const float *beta,
                        const float *run_mean, const float *run_var, int N, int C, int HW, float eps)
{
    #pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            bn_channel_apply(y + (size_t)n * C * HW, x + (size_t)n * C * HW, run_mean[c],
                             bn_eval_scale(gamma, run_var, eps, c), beta[c], 1, C, HW, c);
}

void lt_bn_eval_scale(float *scale, const float *gamma, const float *run_var, int C, float eps)
{
    for (int c = 0; c < C; c++)
        scale[c] = bn_eval_scale(gamma, run_var, eps, c);
}

void lt_bn_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                    const float *mean, const float *invstd, const float *gamma, int N, int C, int HW)
{
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++)
        bn_channel_backward(dx, dgamma, dbeta, dy, x, mean, invstd, gamma, N, C, HW, c);
}

/* ---------------- across processes (sync BN, METHOD.md §11) ----------------
 * The fast kernels above split into their sums and what follows from them,
 * so that processes holding parts of one batch can add their sums between
 * the two halves.  On one process, sums then finish are exactly
 * lt_bn_forward_train / lt_bn_backward (the same helpers, the same floats);
 * their oracle is the _ref pair on the whole batch. */

void lt_bn_sums(double *sum, double *sq, const float *x, int N, int C, int HW)
{
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++)
        bn_channel_sums(&sum[c], &sq[c], x, N, C, HW, c);
}

void lt_bn_stats_from_sums(float *mean, float *invstd, float *scale, float *run_mean, float *run_var,
                           const double *sum, const double *sq, double M, const float *gamma, int C, float eps,
                           float momentum)
{
    for (int c = 0; c < C; c++)
        scale[c] = bn_channel_finish(mean, invstd, run_mean, run_var, sum[c], sq[c], M, gamma, eps, momentum, c);
}

void lt_bn_apply(float *y, const float *x, const float *mean, const float *scale, const float *beta, int N, int C,
                 int HW)
{
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++)
        bn_channel_apply(y, x, mean[c], scale[c], beta[c], N, C, HW, c);
}

void lt_bn_backward_sums(double *sd, double *sdx, const float *dy, const float *x, const float *mean, int N, int C,
                         int HW)
{
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++)
        bn_channel_bsums(&sd[c], &sdx[c], dy, x, mean[c], N, C, HW, c);
}

void lt_bn_backward_from_sums(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                              const float *mean, const float *invstd, const float *gamma, const double *sd,
                              const double *sdx, double M, int N, int C, int HW)
{
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double sdxh = sdx[c] * invstd[c]; /* sum dy * xhat */
        if (dbeta)
            dbeta[c] += (float)sd[c];
        if (dgamma)
            dgamma[c] += (float)sdxh;
        if (dx)
            bn_channel_dx(dx, dy, x, mean[c], invstd[c], gamma[c], sd[c], sdxh, M, N, C, HW, c);
    }
}
