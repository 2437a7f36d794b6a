/* pool.c -- 2x2 average and max pooling with stride 2 over NCHW float32,
 * and global average pooling.
 *
 * Odd sizes floor, as PyTorch does (METHOD.md §3): the last row/column of an
 * odd image is never read and gets zero gradient.  Each (frame, channel)
 * plane is independent, so planes are split across OpenMP threads; there are
 * no reductions, hence no ordering concerns.  These loops are already the
 * plain version; the tests check them against hand values and finite
 * differences.  Not here: 2-D pooling of other sizes (no model uses them). */
#include "kernels/kernels.h"

#include <math.h>
#include <string.h>

void lt_avgpool2_forward(float *y, const float *x, int N, int C, int H, int W)
{
    const int Ho = H / 2, Wo = W / 2;
    const long planes = (long)N * C;
    #pragma omp parallel for schedule(static)
    for (long p = 0; p < planes; p++) {
        const float *xp = x + (size_t)p * H * W;
        float *yp = y + (size_t)p * Ho * Wo;
        for (int oh = 0; oh < Ho; oh++) {
            const float *r0 = xp + (size_t)(2 * oh) * W, *r1 = r0 + W;
            float *yr = yp + (size_t)oh * Wo;
            for (int ow = 0; ow < Wo; ow++)
                yr[ow] = 0.25f * ((r0[2 * ow] + r0[2 * ow + 1]) + (r1[2 * ow] + r1[2 * ow + 1]));
        }
    }
}

void lt_avgpool2_backward(float *dx, const float *dy, int N, int C, int H, int W)
{
    if (!dx)
        return;
    const int Ho = H / 2, Wo = W / 2;
    const long planes = (long)N * C;
    #pragma omp parallel for schedule(static)
    for (long p = 0; p < planes; p++) {
        float *xp = dx + (size_t)p * H * W;
        const float *yp = dy + (size_t)p * Ho * Wo;
        if ((H & 1) || (W & 1))
            memset(xp, 0, sizeof(float) * (size_t)H * W);
        for (int oh = 0; oh < Ho; oh++) {
            float *r0 = xp + (size_t)(2 * oh) * W, *r1 = r0 + W;
            const float *yr = yp + (size_t)oh * Wo;
            for (int ow = 0; ow < Wo; ow++) {
                const float g = 0.25f * yr[ow];
                r0[2 * ow] = g;
                r0[2 * ow + 1] = g;
                r1[2 * ow] = g;
                r1[2 * ow + 1] = g;
            }
        }
    }
}

/* Index 0..3 of the first maximum of a 2x2 window in row-major order; a NaN
 * wins (PyTorch propagates NaN through max pooling). */
static inline int max4_index(float a, float b, float c, float d)
{
    float m = a;
    int k = 0;
    if (b > m || isnan(b)) { m = b; k = 1; }
    if (c > m || isnan(c)) { m = c; k = 2; }
    if (d > m || isnan(d)) { k = 3; }
    return k;
}

void lt_maxpool2_forward(float *y, const float *x, int N, int C, int H, int W)
{
    const int Ho = H / 2, Wo = W / 2;
    const long planes = (long)N * C;
    #pragma omp parallel for schedule(static)
    for (long p = 0; p < planes; p++) {
        const float *xp = x + (size_t)p * H * W;
        float *yp = y + (size_t)p * Ho * Wo;
        for (int oh = 0; oh < Ho; oh++) {
            const float *r0 = xp + (size_t)(2 * oh) * W, *r1 = r0 + W;
            float *yr = yp + (size_t)oh * Wo;
            for (int ow = 0; ow < Wo; ow++) {
                const float v[4] = {r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
                yr[ow] = v[max4_index(v[0], v[1], v[2], v[3])];
            }
        }
    }
}

void lt_maxpool2_backward(float *dx, const float *dy, const float *x, int N, int C, int H, int W)
{
    if (!dx)
        return;
    const int Ho = H / 2, Wo = W / 2;
    const long planes = (long)N * C;
    #pragma omp parallel for schedule(static)
    for (long p = 0; p < planes; p++) {
        const float *xp = x + (size_t)p * H * W;
        float *gp = dx + (size_t)p * H * W;
        const float *yp = dy + (size_t)p * Ho * Wo;
        memset(gp, 0, sizeof(float) * (size_t)H * W);
        for (int oh = 0; oh < Ho; oh++) {
            const size_t o0 = (size_t)(2 * oh) * W, o1 = o0 + W;
            const float *yr = yp + (size_t)oh * Wo;
            for (int ow = 0; ow < Wo; ow++) {
                const size_t idx[4] = {o0 + 2 * ow, o0 + 2 * ow + 1, o1 + 2 * ow, o1 + 2 * ow + 1};
                int k = max4_index(xp[idx[0]], xp[idx[1]], xp[idx[2]], xp[idx[3]]);
                gp[idx[k]] = yr[ow];
            }
        }
    }
}

/* Global average pooling: y[n, c] = mean over the H*W plane of x[n, c],
 * the sum (in plane order) divided by H*W.  On spikes the sums are exact
 * integers, so any summation order gives the same value. */
void lt_gap_forward(float *y, const float *x, int N, int C, int HW)
{
    const long planes = (long)N * C;
    #pragma omp parallel for schedule(static) if (planes * HW > 65536)
    for (long p = 0; p < planes; p++) {
        const float *xp = x + (size_t)p * HW;
        float s = 0.0f;
        for (int i = 0; i < HW; i++)
            s += xp[i];
        y[p] = s / (float)HW;
    }
}

void lt_gap_backward(float *dx, const float *dy, int N, int C, int HW)
{
    const long planes = (long)N * C;
    const float inv = 1.0f / (float)HW;
    #pragma omp parallel for schedule(static) if (planes * HW > 65536)
    for (long p = 0; p < planes; p++) {
        float g = dy[p] * inv, *dp = dx + (size_t)p * HW;
        for (int i = 0; i < HW; i++)
            dp[i] = g;
    }
}
