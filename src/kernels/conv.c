/* conv.c -- 2-D convolution without bias, NCHW float32, forward and backward.
 *
 * Two implementations of the same maths:
 *  - *_ref: plain nested loops, the oracle (slow; tests only);
 *  - fast:  im2col + OpenBLAS sgemm for ordinary and grouped convolutions,
 *           a direct loop kernel for depthwise ones (groups == Cin), which
 *           are memory-bound and gain nothing from a GEMM.
 *
 * The fast path walks the N frames in chunks of F frames.  F is chosen from
 * the shape alone so that the GEMM's column count F*Ho*Wo is large enough to
 * keep sgemm efficient on small late-layer images; with large images F is 1
 * and the GEMM writes straight into y (no copy).  Within a call every
 * parameter-gradient sum is taken in a fixed order (sequential chunks, GEMMs
 * that never split their inner dimension across threads, per-channel loops
 * in the depthwise kernel), so results are deterministic for a fixed thread
 * count.  Not here: bias (BN follows every conv, METHOD.md §3), allocation
 * (the caller passes `work`, sized by lt_conv2d_work_floats). */
#include "kernels/kernels.h"

#include <cblas.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

/* Columns a chunk's GEMM should have at least; below this sgemm's packing
 * overhead dominates.  Chosen by timing on 2 cores (larger gains nothing). */
#define LT_CONV_MIN_COLS 1024

/* ---------------- geometry ---------------- */

int lt_conv_shape_fill(lt_conv_shape *s)
{
    if (!s)
        return 0;
    if (s->N <= 0 || s->Cin <= 0 || s->H <= 0 || s->W <= 0 || s->Cout <= 0 ||
        s->kh <= 0 || s->kw <= 0 || s->stride <= 0 || s->pad < 0 || s->groups <= 0)
        return 0;
    if (s->Cin % s->groups != 0 || s->Cout % s->groups != 0)
        return 0;
    /* 64-bit arithmetic: H + 2*pad may overflow int for hostile values. */
    int64_t hp = (int64_t)s->H + 2 * (int64_t)s->pad;
    int64_t wp = (int64_t)s->W + 2 * (int64_t)s->pad;
    if (hp < s->kh || wp < s->kw || hp > INT_MAX || wp > INT_MAX)
        return 0;
    int64_t ho = (hp - s->kh) / s->stride + 1;
    int64_t wo = (wp - s->kw) / s->stride + 1;
    /* Every tensor and the im2col buffer must be addressable with size_t
     * and their element counts must fit comfortably (< 2^62). */
    const int64_t lim = (int64_t)1 << 62;
    int64_t pin = (int64_t)s->H * s->W, pout = ho * wo;
    int64_t kk = (int64_t)s->kh * s->kw;
    if (pin > lim / s->Cin || pin * s->Cin > lim / s->N)
        return 0;
    if (pout > lim / s->Cout || pout * s->Cout > lim / s->N)
        return 0;
    if (kk > lim / s->Cin || kk * s->Cin > lim / s->Cout)
        return 0;
    if (pout > lim / (kk * s->Cin) || pout * kk * s->Cin > lim / LT_CONV_MIN_COLS)
        return 0;
    s->Ho = (int)ho;
    s->Wo = (int)wo;
    return 1;
}

static int conv_is_depthwise(const lt_conv_shape *s)
{
    return s->groups == s->Cin && s->groups > 1;
}

static int conv_is_pointwise(const lt_conv_shape *s)
{
    return s->kh == 1 && s->kw == 1 && s->stride == 1 && s->pad == 0;
}

/* Frames per chunk: enough that the GEMM has >= LT_CONV_MIN_COLS columns. */
static int conv_chunk_frames(const lt_conv_shape *s)
{
    size_t P = (size_t)s->Ho * s->Wo;
    size_t F = (LT_CONV_MIN_COLS + P - 1) / P;
    if (F < 1)
        F = 1;
    if (F > (size_t)s->N)
        F = (size_t)s->N;
    return (int)F;
}

size_t lt_conv2d_work_floats(const lt_conv_shape *s)
{
    if (conv_is_depthwise(s))
        return 0;
    size_t P = (size_t)s->Ho * s->Wo;
    size_t F = (size_t)conv_chunk_frames(s);
    size_t K = (size_t)s->Cin * s->kh * s->kw;
    if (F == 1)
        return conv_is_pointwise(s) ? 0 : K * P; /* col */
    /* col [K, F*P] and a [Cout, F*P] staging buffer for y / dy. */
    return K * F * P + (size_t)s->Cout * F * P;
}

/* ---------------- reference (oracle) ---------------- */

void lt_conv2d_forward_ref(float *y, const float *x, const float *w, const lt_conv_shape *s)
{
    const int Cg = s->Cin / s->groups, Kg = s->Cout / s->groups;
    for (int n = 0; n < s->N; n++)
        for (int co = 0; co < s->Cout; co++) {
            int g = co / Kg;
            for (int oh = 0; oh < s->Ho; oh++)
                for (int ow = 0; ow < s->Wo; ow++) {
                    double acc = 0.0;
                    for (int c = 0; c < Cg; c++)
                        for (int i = 0; i < s->kh; i++)
                            for (int j = 0; j < s->kw; j++) {
                                int ih = oh * s->stride - s->pad + i;
                                int iw = ow * s->stride - s->pad + j;
                                if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W)
                                    continue;
                                size_t xi = (((size_t)n * s->Cin + (size_t)g * Cg + c) * s->H + ih) * s->W + iw;
                                size_t wi = (((size_t)co * Cg + c) * s->kh + i) * s->kw + j;
                                acc += (double)x[xi] * w[wi];
                            }
                    y[(((size_t)n * s->Cout + co) * s->Ho + oh) * s->Wo + ow] = (float)acc;
                }
        }
}

/* dx by scattering every dy value back through the taps that produced it;
 * dw as one double sum per weight over every frame and output position. */
void lt_conv2d_backward_ref(float *dx, float *dw, const float *dy, const float *x, const float *w,
                            const lt_conv_shape *s)
{
    const int Cg = s->Cin / s->groups, Kg = s->Cout / s->groups;
    if (dx) {
        memset(dx, 0, sizeof(float) * (size_t)s->N * s->Cin * s->H * s->W);
        for (int n = 0; n < s->N; n++)
            for (int co = 0; co < s->Cout; co++)
                for (int oh = 0; oh < s->Ho; oh++)
                    for (int ow = 0; ow < s->Wo; ow++) {
                        float d = dy[(((size_t)n * s->Cout + co) * s->Ho + oh) * s->Wo + ow];
                        for (int c = 0; c < Cg; c++)
                            for (int i = 0; i < s->kh; i++)
                                for (int j = 0; j < s->kw; j++) {
                                    int ih = oh * s->stride - s->pad + i;
                                    int iw = ow * s->stride - s->pad + j;
                                    if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W)
                                        continue;
                                    size_t xi = (((size_t)n * s->Cin + (size_t)(co / Kg) * Cg + c) * s->H + ih) * s->W + iw;
                                    dx[xi] += d * w[(((size_t)co * Cg + c) * s->kh + i) * s->kw + j];
                                }
                    }
    }
    for (int co = 0; co < s->Cout; co++)
        for (int c = 0; c < Cg; c++)
            for (int i = 0; i < s->kh; i++)
                for (int j = 0; j < s->kw; j++) {
                    double acc = 0.0;
                    for (int n = 0; n < s->N; n++)
                        for (int oh = 0; oh < s->Ho; oh++)
                            for (int ow = 0; ow < s->Wo; ow++) {
                                int ih = oh * s->stride - s->pad + i;
                                int iw = ow * s->stride - s->pad + j;
                                if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W)
                                    continue;
                                size_t xi = (((size_t)n * s->Cin + (size_t)(co / Kg) * Cg + c) * s->H + ih) * s->W + iw;
                                acc += (double)dy[(((size_t)n * s->Cout + co) * s->Ho + oh) * s->Wo + ow] * x[xi];
                            }
                    dw[(((size_t)co * Cg + c) * s->kh + i) * s->kw + j] += (float)acc;
                }
}

/* ---------------- im2col / col2im ---------------- */

/* Output columns ow in [*lo, *hi) read input column ow*stride - pad + j
 * inside [0, W); the rest fall in the zero padding. */
static void valid_range(int *lo, int *hi, int j, int stride, int pad, int W, int Wo)
{
    int a = pad - j; /* need ow*stride >= a */
    int l = a <= 0 ? 0 : (a + stride - 1) / stride;
    int b = W - 1 + pad - j; /* need ow*stride <= b */
    int h = b < 0 ? 0 : b / stride + 1;
    if (h > Wo)
        h = Wo;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

/* One input channel plane xc[H,W] into kh*kw rows of col, each row holding
 * Ho*Wo values at col + r*ld (ld = row stride of the chunk's col matrix).
 * Rows are written front to back, so the writes stream. */
static void im2col_plane(float *col, size_t ld, const float *xc, const lt_conv_shape *s)
{
    const int H = s->H, W = s->W, Ho = s->Ho, Wo = s->Wo, st = s->stride, pad = s->pad;
    for (int i = 0; i < s->kh; i++)
        for (int j = 0; j < s->kw; j++) {
            float *row = col + (size_t)(i * s->kw + j) * ld;
            int lo, hi;
            valid_range(&lo, &hi, j, st, pad, W, Wo);
            for (int oh = 0; oh < Ho; oh++) {
                float *dst = row + (size_t)oh * Wo;
                int ih = oh * st - pad + i;
                if (ih < 0 || ih >= H || lo == hi) {
                    memset(dst, 0, sizeof(float) * (size_t)Wo);
                    continue;
                }
                const float *src = xc + (size_t)ih * W - pad + j;
                if (lo > 0)
                    memset(dst, 0, sizeof(float) * (size_t)lo);
                if (st == 1)
                    memcpy(dst + lo, src + lo, sizeof(float) * (size_t)(hi - lo));
                else
                    for (int ow = lo; ow < hi; ow++)
                        dst[ow] = src[(ptrdiff_t)ow * st];
                if (hi < Wo)
                    memset(dst + hi, 0, sizeof(float) * (size_t)(Wo - hi));
            }
        }
}

/* The adjoint of im2col_plane: dxc[H,W] = sum of the kh*kw rows scattered
 * back (dxc overwritten). */
static void col2im_plane(float *dxc, const float *col, size_t ld, const lt_conv_shape *s)
{
    const int H = s->H, W = s->W, Ho = s->Ho, Wo = s->Wo, st = s->stride, pad = s->pad;
    memset(dxc, 0, sizeof(float) * (size_t)H * W);
    for (int i = 0; i < s->kh; i++)
        for (int j = 0; j < s->kw; j++) {
            const float *row = col + (size_t)(i * s->kw + j) * ld;
            int lo, hi;
            valid_range(&lo, &hi, j, st, pad, W, Wo);
            if (lo == hi)
                continue;
            for (int oh = 0; oh < Ho; oh++) {
                int ih = oh * st - pad + i;
                if (ih < 0 || ih >= H)
                    continue;
                const float *src = row + (size_t)oh * Wo;
                float *dst = dxc + (size_t)ih * W - pad + j;
                if (st == 1)
                    for (int ow = lo; ow < hi; ow++)
                        dst[ow] += src[ow];
                else
                    for (int ow = lo; ow < hi; ow++)
                        dst[(ptrdiff_t)ow * st] += src[ow];
            }
        }
}

/* col[K, F*P] for frames n0..n0+F-1: row (c,i,j), column f*P + p. */
static void im2col_chunk(float *col, const float *x, int n0, int F, const lt_conv_shape *s)
{
    const size_t P = (size_t)s->Ho * s->Wo, ld = (size_t)F * P, HW = (size_t)s->H * s->W;
    const size_t kk = (size_t)s->kh * s->kw;
    const int Cin = s->Cin;
    #pragma omp parallel for collapse(2) schedule(static)
    for (int f = 0; f < F; f++)
        for (int c = 0; c < Cin; c++)
            im2col_plane(col + (size_t)c * kk * ld + (size_t)f * P, ld,
                         x + ((size_t)(n0 + f) * Cin + c) * HW, s);
}

static void col2im_chunk(float *dx, const float *col, int n0, int F, const lt_conv_shape *s)
{
    const size_t P = (size_t)s->Ho * s->Wo, ld = (size_t)F * P, HW = (size_t)s->H * s->W;
    const size_t kk = (size_t)s->kh * s->kw;
    const int Cin = s->Cin;
    #pragma omp parallel for collapse(2) schedule(static)
    for (int f = 0; f < F; f++)
        for (int c = 0; c < Cin; c++)
            col2im_plane(dx + ((size_t)(n0 + f) * Cin + c) * HW,
                         col + (size_t)c * kk * ld + (size_t)f * P, ld, s);
}

/* Frames n0..n0+F-1 of an NCHW tensor t[N,C,P] to and from the chunk
 * layout chunk[C, F*P] (column f*P + p). */
static void chunk_gather(float *chunk, const float *t, int n0, int F, int C, size_t P)
{
    const size_t ld = (size_t)F * P;
    #pragma omp parallel for collapse(2) schedule(static)
    for (int f = 0; f < F; f++)
        for (int c = 0; c < C; c++)
            memcpy(chunk + (size_t)c * ld + (size_t)f * P, t + ((size_t)(n0 + f) * C + c) * P,
                   sizeof(float) * P);
}

static void chunk_scatter(float *t, const float *chunk, int n0, int F, int C, size_t P)
{
    const size_t ld = (size_t)F * P;
    #pragma omp parallel for collapse(2) schedule(static)
    for (int f = 0; f < F; f++)
        for (int c = 0; c < C; c++)
            memcpy(t + ((size_t)(n0 + f) * C + c) * P, chunk + (size_t)c * ld + (size_t)f * P,
                   sizeof(float) * P);
}

/* ---------------- depthwise direct kernel ---------------- */

/* Depthwise: output channel co reads only input channel co / m, where m =
 * Cout / Cin is the channel multiplier.  One output plane at a time: the
 * input plane stays in cache while the kh*kw taps are added row by row, and
 * with stride 1 the innermost loop is a contiguous axpy the compiler
 * vectorises. */
static void dw_forward(float *y, const float *x, const float *w, const lt_conv_shape *s)
{
    const int m = s->Cout / s->Cin, Cout = s->Cout, N = s->N;
    const int H = s->H, W = s->W, Ho = s->Ho, Wo = s->Wo, st = s->stride, pad = s->pad;
    const int kh = s->kh, kw = s->kw;
    const size_t HW = (size_t)H * W, P = (size_t)Ho * Wo;
    #pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < N; n++)
        for (int co = 0; co < Cout; co++) {
            const float *xc = x + ((size_t)n * s->Cin + co / m) * HW;
            const float *wk = w + (size_t)co * kh * kw;
            float *yc = y + ((size_t)n * Cout + co) * P;
            for (int oh = 0; oh < Ho; oh++) {
                float *yr = yc + (size_t)oh * Wo;
                memset(yr, 0, sizeof(float) * (size_t)Wo);
                for (int i = 0; i < kh; i++) {
                    int ih = oh * st - pad + i;
                    if (ih < 0 || ih >= H)
                        continue;
                    for (int j = 0; j < kw; j++) {
                        int lo, hi;
                        valid_range(&lo, &hi, j, st, pad, W, Wo);
                        const float *xr = xc + (size_t)ih * W - pad + j;
                        const float wv = wk[i * kw + j];
                        if (st == 1)
                            for (int ow = lo; ow < hi; ow++)
                                yr[ow] += wv * xr[ow];
                        else
                            for (int ow = lo; ow < hi; ow++)
                                yr[ow] += wv * xr[(ptrdiff_t)ow * st];
                    }
                }
            }
        }
}

/* Taps summed at once in the depthwise backward (a fixed-size accumulator
 * array; larger kernels are processed in blocks of this many taps). */
#define LT_DW_TAPS 64

/* Parallel over input channels: a thread owns dx[:, ci] and the m weight
 * rows of ci, and sums over frames in order, so dw is deterministic without
 * partial buffers.  Sums run per row in float (vectorised) and across rows
 * in double, which keeps dw accurate over N*Ho*Wo terms. */
static void dw_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                        const lt_conv_shape *s)
{
    const int m = s->Cout / s->Cin, Cin = s->Cin, N = s->N;
    const int H = s->H, W = s->W, Ho = s->Ho, Wo = s->Wo, st = s->stride, pad = s->pad;
    const int kw = s->kw, kk = s->kh * s->kw;
    const size_t HW = (size_t)H * W, P = (size_t)Ho * Wo;
    #pragma omp parallel for schedule(dynamic, 1)
    for (int ci = 0; ci < Cin; ci++)
        for (int r = 0; r < m; r++)
            for (int t0 = 0; t0 < kk; t0 += LT_DW_TAPS) {
                const int co = ci * m + r, t1 = kk - t0 < LT_DW_TAPS ? kk : t0 + LT_DW_TAPS;
                const float *wk = w + (size_t)co * kk;
                double acc[LT_DW_TAPS] = {0};
                for (int n = 0; n < N; n++) {
                    const float *xc = x + ((size_t)n * Cin + ci) * HW;
                    const float *dyc = dy + ((size_t)n * s->Cout + co) * P;
                    float *dxc = dx ? dx + ((size_t)n * Cin + ci) * HW : NULL;
                    if (dxc && r == 0 && t0 == 0)
                        memset(dxc, 0, sizeof(float) * HW);
                    for (int oh = 0; oh < Ho; oh++) {
                        const float *dyr = dyc + (size_t)oh * Wo;
                        for (int t = t0; t < t1; t++) {
                            const int i = t / kw, j = t % kw;
                            const int ih = oh * st - pad + i;
                            if (ih < 0 || ih >= H)
                                continue;
                            int lo, hi;
                            valid_range(&lo, &hi, j, st, pad, W, Wo);
                            const ptrdiff_t off = (ptrdiff_t)ih * W - pad + j;
                            const float *xr = xc + off;
                            float sum = 0.0f;
                            if (st == 1) {
                                #pragma omp simd reduction(+:sum)
                                for (int ow = lo; ow < hi; ow++)
                                    sum += dyr[ow] * xr[ow];
                            } else {
                                #pragma omp simd reduction(+:sum)
                                for (int ow = lo; ow < hi; ow++)
                                    sum += dyr[ow] * xr[(ptrdiff_t)ow * st];
                            }
                            acc[t - t0] += sum;
                            if (!dxc)
                                continue;
                            const float wv = wk[t];
                            float *dxr = dxc + off;
                            if (st == 1)
                                for (int ow = lo; ow < hi; ow++)
                                    dxr[ow] += wv * dyr[ow];
                            else
                                for (int ow = lo; ow < hi; ow++)
                                    dxr[(ptrdiff_t)ow * st] += wv * dyr[ow];
                        }
                    }
                }
                for (int t = t0; t < t1; t++)
                    dw[(size_t)co * kk + t] += (float)acc[t - t0];
            }
}

/* ---------------- fast forward / backward ---------------- */

void lt_conv2d_forward(float *y, const float *x, const float *w, const lt_conv_shape *s, float *work)
{
    if (conv_is_depthwise(s)) {
        dw_forward(y, x, w, s);
        return;
    }
    const int G = s->groups, Cg = s->Cin / G, Kg = s->Cout / G;
    const int F = conv_chunk_frames(s);
    const size_t P = (size_t)s->Ho * s->Wo, Kc = (size_t)Cg * s->kh * s->kw;
    const size_t K = (size_t)s->Cin * s->kh * s->kw;
    const int direct = F == 1 && conv_is_pointwise(s); /* x_n is its own col */
    float *col = work;
    float *stage = F > 1 ? work + K * F * P : NULL;
    for (int n0 = 0; n0 < s->N; n0 += F) {
        const int Fc = s->N - n0 < F ? s->N - n0 : F;
        const size_t ld = (size_t)Fc * P;
        const float *b = direct ? x + (size_t)n0 * s->Cin * P : col;
        if (!direct)
            im2col_chunk(col, x, n0, Fc, s);
        float *c = Fc > 1 ? stage : y + (size_t)n0 * s->Cout * P;
        /* One GEMM per group over the whole chunk: y_g[Kg, Fc*P] = w_g[Kg, Kc] col_g[Kc, Fc*P]. */
        for (int g = 0; g < G; g++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Kg, (int)ld, (int)Kc, 1.0f,
                        w + (size_t)g * Kg * Kc, (int)Kc, b + (size_t)g * Kc * ld, (int)ld, 0.0f,
                        c + (size_t)g * Kg * ld, (int)ld);
        if (Fc > 1)
            chunk_scatter(y, stage, n0, Fc, s->Cout, P);
    }
}

void lt_conv2d_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                        const lt_conv_shape *s, float *work)
{
    if (conv_is_depthwise(s)) {
        dw_backward(dx, dw, dy, x, w, s);
        return;
    }
    const int G = s->groups, Cg = s->Cin / G, Kg = s->Cout / G;
    const int F = conv_chunk_frames(s);
    const size_t P = (size_t)s->Ho * s->Wo, Kc = (size_t)Cg * s->kh * s->kw;
    const size_t K = (size_t)s->Cin * s->kh * s->kw;
    const int direct = F == 1 && conv_is_pointwise(s);
    float *col = work;
    float *stage = F > 1 ? work + K * F * P : NULL;
    for (int n0 = 0; n0 < s->N; n0 += F) {
        const int Fc = s->N - n0 < F ? s->N - n0 : F;
        const size_t ld = (size_t)Fc * P;
        const float *b = direct ? x + (size_t)n0 * s->Cin * P : col;
        const float *d = dy + (size_t)n0 * s->Cout * P;
        if (!direct)
            im2col_chunk(col, x, n0, Fc, s);
        if (Fc > 1) {
            chunk_gather(stage, dy, n0, Fc, s->Cout, P);
            d = stage;
        }
        /* dw_g[Kg, Kc] += dy_g[Kg, Fc*P] col_g^T: chunks in order, so the
         * frame sum is fixed for a given N. */
        for (int g = 0; g < G; g++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Kg, (int)Kc, (int)ld, 1.0f,
                        d + (size_t)g * Kg * ld, (int)ld, b + (size_t)g * Kc * ld, (int)ld, 1.0f,
                        dw + (size_t)g * Kg * Kc, (int)Kc);
        if (!dx)
            continue;
        /* dcol_g[Kc, Fc*P] = w_g^T dy_g, written over col (no longer needed);
         * for a direct 1x1 conv dcol is dx itself. */
        float *dcol = direct ? dx + (size_t)n0 * s->Cin * P : col;
        for (int g = 0; g < G; g++)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Kc, (int)ld, Kg, 1.0f,
                        w + (size_t)g * Kg * Kc, (int)Kc, d + (size_t)g * Kg * ld, (int)ld, 0.0f,
                        dcol + (size_t)g * Kc * ld, (int)ld);
        if (!direct)
            col2im_chunk(dx, col, n0, Fc, s);
    }
}
