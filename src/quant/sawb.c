/* sawb.c -- SAWB weight quantisation (Choi et al. 2019), exactly as METHOD.md
 * §7 pins it: per tensor, a clipping level alpha from the mean of |w| and the
 * unbiased standard deviation (both in double), 2^(b-1) - 1 symmetric levels,
 * round half to even, and a straight-through backward masked to |w| <= alpha.
 *
 * Two versions of the same maths: *_ref are plain sequential loops (the
 * oracle); the fast ones split the tensor into fixed chunks of LT_SAWB_CHUNK
 * weights whose double partial sums are added in chunk order, so their
 * result does not depend on the thread count, and run the elementwise parts
 * across OpenMP threads.  Not here: where w_q lives (the conv layer keeps it
 * in its saved_fixed region) or the integer export (export.c). */
#include <math.h>
#include <string.h>

#include "quant/quant.h"

#define LT_SAWB_CHUNK 4096
/* below this many weights one thread does it all (thread start-up costs more) */
#define LT_SAWB_PAR 65536

int lt_sawb_bits_ok(int bits) { return bits == 4 || bits == 8; }

int lt_sawb_levels(int bits) { return (1 << (bits - 1)) - 1; }

/* METHOD.md §7: (z1, z2) per width */
static void sawb_z(int bits, double *z1, double *z2)
{
    if (bits == 8)
        *z1 = 0.027, *z2 = 1.114;
    else
        *z1 = 0.077, *z2 = 1.013;
}

/* alpha from the statistics; max|w| when the formula is not positive */
static double sawb_from_stats(double mean_abs, double std, double max_abs, int bits)
{
    double z1, z2;
    sawb_z(bits, &z1, &z2);
    double a = std / z1 - (z2 / z1) * mean_abs;
    return a > 0 ? a : max_abs;
}

double lt_sawb_alpha_ref(const float *w, size_t n, int bits)
{
    if (n == 0)
        return 0.0;
    double sa = 0.0, s = 0.0, mx = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = w[i];
        sa += fabs(v);
        s += v;
        if (fabs(v) > mx)
            mx = fabs(v);
    }
    double mean = s / (double)n, q = 0.0;
    for (size_t i = 0; i < n; i++)
        q += ((double)w[i] - mean) * ((double)w[i] - mean);
    double sd = n > 1 ? sqrt(q / (double)(n - 1)) : 0.0;
    return sawb_from_stats(sa / (double)n, sd, mx, bits);
}

double lt_sawb_alpha(const float *w, size_t n, int bits)
{
    if (n == 0)
        return 0.0;
    const long nc = (long)((n + LT_SAWB_CHUNK - 1) / LT_SAWB_CHUNK);
    double sa = 0.0, s = 0.0, mx = 0.0, q = 0.0;
    /* pass 1: sum |w|, sum w, max |w|, chunk by chunk in order */
    for (long c = 0; c < nc; c++) {
        size_t lo = (size_t)c * LT_SAWB_CHUNK, hi = lo + LT_SAWB_CHUNK < n ? lo + LT_SAWB_CHUNK : n;
        double csa = 0.0, cs = 0.0, cmx = 0.0;
        for (size_t i = lo; i < hi; i++) {
            double v = w[i], av = fabs(v);
            csa += av;
            cs += v;
            cmx = av > cmx ? av : cmx;
        }
        sa += csa, s += cs;
        mx = cmx > mx ? cmx : mx;
    }
    const double mean = s / (double)n;
    for (long c = 0; c < nc; c++) {
        size_t lo = (size_t)c * LT_SAWB_CHUNK, hi = lo + LT_SAWB_CHUNK < n ? lo + LT_SAWB_CHUNK : n;
        double cq = 0.0;
        for (size_t i = lo; i < hi; i++) {
            double d = (double)w[i] - mean;
            cq += d * d;
        }
        q += cq;
    }
    double sd = n > 1 ? sqrt(q / (double)(n - 1)) : 0.0;
    return sawb_from_stats(sa / (double)n, sd, mx, bits);
}

/* one weight: METHOD.md §7's clamp, scale, round half to even, clamp */
static inline float sawb_code(float w, float alpha, float scale, float levels)
{
    float c = w < -alpha ? -alpha : w > alpha ? alpha : w;
    float q = rintf(c * scale); /* the default rounding mode: half to even */
    return q < -levels ? -levels : q > levels ? levels : q;
}

/* METHOD.md §7's constants for a clipping level ad (double): the clamp
 * bound (float), scale = n / alpha rounded to float32, n; 0 when alpha is
 * not positive (an all-zero tensor: w_q = 0) */
typedef struct sawb_p {
    float alpha, scale, levels;
} sawb_p;

static int sawb_params(sawb_p *p, double ad, int bits)
{
    p->alpha = (float)ad;
    p->levels = (float)lt_sawb_levels(bits);
    p->scale = p->alpha > 0 ? (float)(lt_sawb_levels(bits) / ad) : 0.0f;
    return p->alpha > 0;
}

void lt_sawb_forward_ref(float *wq, float *alpha_out, const float *w, size_t n, int bits)
{
    sawb_p p;
    int ok = sawb_params(&p, lt_sawb_alpha_ref(w, n, bits), bits);
    *alpha_out = p.alpha;
    for (size_t i = 0; i < n; i++)
        wq[i] = ok ? sawb_code(w[i], p.alpha, p.scale, p.levels) / p.scale : 0.0f;
}

void lt_sawb_forward(float *wq, float *alpha_out, const float *w, size_t n, int bits)
{
    sawb_p p;
    int ok = sawb_params(&p, lt_sawb_alpha(w, n, bits), bits);
    *alpha_out = p.alpha;
    if (!ok) {
        memset(wq, 0, n * sizeof *wq);
        return;
    }
    long i, nn = (long)n;
#pragma omp parallel for schedule(static) if (nn > LT_SAWB_PAR)
    for (i = 0; i < nn; i++)
        wq[i] = sawb_code(w[i], p.alpha, p.scale, p.levels) / p.scale;
}

void lt_sawb_backward_ref(float *dw, const float *dwq, const float *w, float alpha, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fabsf(w[i]) <= alpha)
            dw[i] += dwq[i];
}

void lt_sawb_backward(float *dw, const float *dwq, const float *w, float alpha, size_t n)
{
    long i, nn = (long)n;
#pragma omp parallel for schedule(static) if (nn > LT_SAWB_PAR)
    for (i = 0; i < nn; i++)
        if (fabsf(w[i]) <= alpha) /* skipped, not += 0: a -0.0 gradient stays -0.0, as in the oracle */
            dw[i] += dwq[i];
}

void lt_sawb_codes(int8_t *q, float *scale_out, const float *w, size_t n, int bits)
{
    sawb_p p;
    int ok = sawb_params(&p, lt_sawb_alpha(w, n, bits), bits);
    *scale_out = p.scale;
    for (size_t i = 0; i < n; i++)
        q[i] = ok ? (int8_t)sawb_code(w[i], p.alpha, p.scale, p.levels) : 0;
}
