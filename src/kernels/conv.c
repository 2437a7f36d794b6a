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
 * and the GEMM writes straight into y (no copy).  Inside a chunk the work is
 * split across an OpenMP team by output rows (forward) or input channels
 * (backward), each thread calling a single-threaded sgemm on its share, or
 * -- when OpenBLAS runs its own thread pool -- done by one thread whose
 * sgemm calls OpenBLAS parallelises (gemm_team).  Either way every output
 * value and every dw entry is summed by exactly one thread over the whole
 * chunk, chunks run in order and the depthwise kernel gives each channel to
 * one thread, so results are deterministic for a fixed thread count, with no
 * partial-gradient buffers.  Not here: bias (BN follows every conv,
 * METHOD.md §3), allocation (the caller passes `work`, sized by
 * lt_conv2d_work_floats, the same for every thread count). */
#include "kernels/kernels.h"

#include <cblas.h>
#include <limits.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdint.h>
#include <string.h>

/* Columns a chunk's GEMM should have at least; below this sgemm's packing
 * and call overhead dominates.  A first guess, not tuned: worth sweeping
 * with the benchmark on 6x6 and 12x12 layers. */
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
    /* OpenBLAS takes int dimensions: a chunk's column count (< Ho*Wo +
     * LT_CONV_MIN_COLS) and the im2col row count must fit. */
    if (pout > INT_MAX - LT_CONV_MIN_COLS || kk * s->Cin > INT_MAX)
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

/* Output rows [oh0, oh1) of tap (i, j) of one input plane xc[H, W]: the
 * (oh1-oh0)*Wo values of that col row starting at dst.  With stride 1 and
 * W == Wo (a "same" convolution, kw = 2*pad + 1) the valid rows form one
 * contiguous run in both x and col, so they are copied with one memcpy and
 * only the padding columns fixed afterwards: a row-by-row copy would spend
 * more on call overhead than on data for small images. */
static void im2col_tap(float *dst, const float *xc, int i, int j, int oh0, int oh1,
                       const lt_conv_shape *s)
{
    const int W = s->W, Wo = s->Wo, st = s->stride, pad = s->pad;
    int lo, hi, a, b;
    valid_range(&lo, &hi, j, st, pad, W, Wo);
    valid_range(&a, &b, i, st, pad, s->H, s->Ho);
    if (a < oh0)
        a = oh0;
    if (b > oh1)
        b = oh1;
    if (a >= b || lo == hi)
        a = b = oh1;
    memset(dst, 0, sizeof(float) * (size_t)(a - oh0) * Wo);
    memset(dst + (size_t)(b - oh0) * Wo, 0, sizeof(float) * (size_t)(oh1 - b) * Wo);
    if (a == b)
        return;
    float *d = dst + (size_t)(a - oh0) * Wo;
    /* x index of output (a, lo): row a*st - pad + i, column lo*st - pad + j */
    const float *src = xc + (size_t)(a * st - pad + i) * W + (lo * st - pad + j);
    if (st == 1 && W == Wo) {
        memcpy(d + lo, src, sizeof(float) * ((size_t)(b - a - 1) * Wo + (size_t)(hi - lo)));
        if (lo > 0 || hi < Wo)
            for (int r = 0; r < b - a; r++) {
                float *row = d + (size_t)r * Wo;
                for (int ow = 0; ow < lo; ow++)
                    row[ow] = 0.0f;
                for (int ow = hi; ow < Wo; ow++)
                    row[ow] = 0.0f;
            }
        return;
    }
    for (int r = 0; r < b - a; r++) {
        float *row = d + (size_t)r * Wo;
        const float *sr = src + (size_t)r * st * W;
        for (int ow = 0; ow < lo; ow++)
            row[ow] = 0.0f;
        if (st == 1)
            memcpy(row + lo, sr, sizeof(float) * (size_t)(hi - lo));
        else
            for (int ow = lo; ow < hi; ow++)
                row[ow] = sr[(ptrdiff_t)(ow - lo) * st];
        for (int ow = hi; ow < Wo; ow++)
            row[ow] = 0.0f;
    }
}

/* One input plane into its kh*kw col rows (row stride ld). */
static void im2col_plane(float *col, size_t ld, const float *xc, const lt_conv_shape *s)
{
    for (int i = 0; i < s->kh; i++)
        for (int j = 0; j < s->kw; j++)
            im2col_tap(col + (size_t)(i * s->kw + j) * ld, xc, i, j, 0, s->Ho, s);
}

/* The adjoint of im2col_plane: dxc[H,W] = the kh*kw rows of dcol scattered
 * back and summed (dxc overwritten).  In the contiguous case the padding
 * columns of dcol (gradients for zeros, never used) are cleared first so
 * that one long add over the run puts nothing where they wrap around. */
static void col2im_plane(float *dxc, float *dcol, size_t ld, const lt_conv_shape *s)
{
    const int H = s->H, W = s->W, Ho = s->Ho, Wo = s->Wo, st = s->stride, pad = s->pad;
    memset(dxc, 0, sizeof(float) * (size_t)H * W);
    for (int i = 0; i < s->kh; i++)
        for (int j = 0; j < s->kw; j++) {
            int lo, hi, a, b;
            valid_range(&lo, &hi, j, st, pad, W, Wo);
            valid_range(&a, &b, i, st, pad, H, Ho);
            if (a >= b || lo == hi)
                continue;
            float *d = dcol + (size_t)(i * s->kw + j) * ld + (size_t)a * Wo;
            float *dst = dxc + (size_t)(a * st - pad + i) * W + (lo * st - pad + j);
            if (st == 1 && W == Wo) {
                if (lo > 0 || hi < Wo)
                    for (int r = 0; r < b - a; r++) {
                        float *row = d + (size_t)r * Wo;
                        for (int ow = 0; ow < lo; ow++)
                            row[ow] = 0.0f;
                        for (int ow = hi; ow < Wo; ow++)
                            row[ow] = 0.0f;
                    }
                const size_t n = (size_t)(b - a - 1) * Wo + (size_t)(hi - lo);
                const float *sp = d + lo;
                for (size_t k = 0; k < n; k++)
                    dst[k] += sp[k];
                continue;
            }
            for (int r = 0; r < b - a; r++) {
                const float *sr = d + (size_t)r * Wo;
                float *dr = dst + (size_t)r * st * W;
                if (st == 1)
                    for (int ow = lo; ow < hi; ow++)
                        dr[ow - lo] += sr[ow];
                else
                    for (int ow = lo; ow < hi; ow++)
                        dr[(ptrdiff_t)(ow - lo) * st] += sr[ow];
            }
        }
}

/* The chunk layout: frames n0..n0+F-1 side by side, so a matrix over the
 * chunk has ld = F*P columns and column f*P + oh*Wo + ow.  "Rows" below are
 * output rows r = f*Ho + oh, the unit the forward splits across threads. */

/* col rows of channels [c0, c1) (all taps), for every frame of the chunk. */
static void im2col_channels(float *col, size_t ld, const float *x, int n0, int F, int c0, int c1,
                            const lt_conv_shape *s)
{
    const size_t P = (size_t)s->Ho * s->Wo, HW = (size_t)s->H * s->W, kk = (size_t)s->kh * s->kw;
    for (int c = c0; c < c1; c++)
        for (int f = 0; f < F; f++)
            im2col_plane(col + (size_t)c * kk * ld + (size_t)f * P, ld,
                         x + ((size_t)(n0 + f) * s->Cin + c) * HW, s);
}

static void col2im_channels(float *dx, float *col, size_t ld, int n0, int F, int c0, int c1,
                            const lt_conv_shape *s)
{
    const size_t P = (size_t)s->Ho * s->Wo, HW = (size_t)s->H * s->W, kk = (size_t)s->kh * s->kw;
    for (int c = c0; c < c1; c++)
        for (int f = 0; f < F; f++)
            col2im_plane(dx + ((size_t)(n0 + f) * s->Cin + c) * HW,
                         col + (size_t)c * kk * ld + (size_t)f * P, ld, s);
}

/* Columns of output rows [r0, r1) of the chunk, every col row.  Each col row
 * is written as one contiguous run per frame, from a plane that stays in
 * cache across its taps. */
static void im2col_rows(float *col, size_t ld, const float *x, int n0, size_t r0, size_t r1,
                        const lt_conv_shape *s)
{
    const size_t HW = (size_t)s->H * s->W, Ho = (size_t)s->Ho, Wo = (size_t)s->Wo;
    for (size_t f = r0 / Ho; f * Ho < r1; f++) {
        const int oh0 = f * Ho > r0 ? 0 : (int)(r0 - f * Ho);
        const int oh1 = (f + 1) * Ho < r1 ? (int)Ho : (int)(r1 - f * Ho);
        for (int c = 0; c < s->Cin; c++) {
            const float *xc = x + ((size_t)n0 + f) * s->Cin * HW + (size_t)c * HW;
            for (int i = 0; i < s->kh; i++)
                for (int j = 0; j < s->kw; j++)
                    im2col_tap(col + ((size_t)(c * s->kh + i) * s->kw + j) * ld + (f * Ho + oh0) * Wo,
                               xc, i, j, oh0, oh1, s);
        }
    }
}

/* Planes [p0, p1) of the C*F planes of a chunk, moved between the NCHW
 * tensor t[N, C, P] and the chunk matrix m[C, F*P]; plane index c*F + f. */
static void chunk_gather(float *m, const float *t, int n0, int F, int C, size_t P, size_t p0, size_t p1)
{
    const size_t ld = (size_t)F * P;
    for (size_t q = p0; q < p1; q++) {
        const size_t c = q / (size_t)F, f = q % (size_t)F;
        memcpy(m + c * ld + f * P, t + (((size_t)n0 + f) * C + c) * P, sizeof(float) * P);
    }
}

/* Output rows [r0, r1) of every channel of the chunk matrix m back to y;
 * the rows of one frame are contiguous on both sides. */
static void chunk_scatter_rows(float *y, const float *m, int n0, int F, const lt_conv_shape *s,
                               size_t r0, size_t r1)
{
    const size_t P = (size_t)s->Ho * s->Wo, ld = (size_t)F * P, Ho = (size_t)s->Ho, Wo = (size_t)s->Wo;
    for (size_t f = r0 / Ho; f * Ho < r1; f++) {
        const size_t a = f * Ho > r0 ? f * Ho : r0, b = (f + 1) * Ho < r1 ? (f + 1) * Ho : r1;
        for (int co = 0; co < s->Cout; co++)
            memcpy(y + (((size_t)n0 + f) * s->Cout + co) * P + (a - f * Ho) * Wo,
                   m + (size_t)co * ld + a * Wo, sizeof(float) * (b - a) * Wo);
    }
}

/* Threads for the GEMM paths.  Either OpenMP threads that each call a
 * single-threaded sgemm on their own share, or one thread whose sgemm calls
 * OpenBLAS threads itself -- never both: a pthreads OpenBLAS pool and an
 * OpenMP team spinning side by side fight over the cores (measured 2-3x
 * slower on 2 cores).  An OpenMP build of OpenBLAS runs single-threaded
 * inside a parallel region by itself. */
static int gemm_team(void)
{
#ifdef _OPENMP
    if (openblas_get_parallel() == 2 || openblas_get_num_threads() == 1)
        return omp_get_max_threads();
#endif
    return 1;
}

static void team_range(size_t *lo, size_t *hi, size_t n, int t, int nt)
{
    *lo = n * (size_t)t / (size_t)nt;
    *hi = n * (size_t)(t + 1) / (size_t)nt;
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
                        if (lo == hi)
                            continue;
                        /* x at output column lo; never a pointer before the plane */
                        const float *xr = xc + (size_t)ih * W + (size_t)(lo * st - pad + j);
                        const float wv = wk[i * kw + j];
                        float *yl = yr + lo;
                        if (st == 1)
                            for (int k = 0; k < hi - lo; k++)
                                yl[k] += wv * xr[k];
                        else
                            for (int k = 0; k < hi - lo; k++)
                                yl[k] += wv * xr[(ptrdiff_t)k * st];
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
                            if (lo == hi)
                                continue;
                            /* offset of x at output column lo (inside the plane) */
                            const size_t off = (size_t)ih * W + (size_t)(lo * st - pad + j);
                            const float *xr = xc + off, *dyl = dyr + lo;
                            const int len = hi - lo;
                            float sum = 0.0f;
                            if (st == 1) {
                                #pragma omp simd reduction(+:sum)
                                for (int k = 0; k < len; k++)
                                    sum += dyl[k] * xr[k];
                            } else {
                                #pragma omp simd reduction(+:sum)
                                for (int k = 0; k < len; k++)
                                    sum += dyl[k] * xr[(ptrdiff_t)k * st];
                            }
                            acc[t - t0] += sum;
                            if (!dxc)
                                continue;
                            const float wv = wk[t];
                            float *dxr = dxc + off;
                            if (st == 1)
                                for (int k = 0; k < len; k++)
                                    dxr[k] += wv * dyl[k];
                            else
                                for (int k = 0; k < len; k++)
                                    dxr[(ptrdiff_t)k * st] += wv * dyl[k];
                        }
                    }
                }
                for (int t = t0; t < t1; t++)
                    dw[(size_t)co * kk + t] += (float)acc[t - t0];
            }
}

/* ---------------- fast forward / backward ---------------- */

/* Per chunk, thread t takes a contiguous range of output rows: it builds
 * those columns of col and multiplies them by w, so no thread waits for
 * another and each output value is one thread's full dot product. */
void lt_conv2d_forward(float *y, const float *x, const float *w, const lt_conv_shape *s, float *work)
{
    if (conv_is_depthwise(s)) {
        dw_forward(y, x, w, s);
        return;
    }
    const int G = s->groups, Cg = s->Cin / G, Kg = s->Cout / G;
    const int F = conv_chunk_frames(s), team = gemm_team();
    const size_t P = (size_t)s->Ho * s->Wo, Kc = (size_t)Cg * s->kh * s->kw;
    const size_t K = (size_t)s->Cin * s->kh * s->kw;
    const int direct = F == 1 && conv_is_pointwise(s); /* x_n is its own col */
    float *col = work;
    float *stage = F > 1 ? work + K * F * P : NULL;
    for (int n0 = 0; n0 < s->N; n0 += F) {
        const int Fc = s->N - n0 < F ? s->N - n0 : F;
        const size_t ld = (size_t)Fc * P;
        const float *b = direct ? x + (size_t)n0 * s->Cin * P : col;
        float *c = Fc > 1 ? stage : y + (size_t)n0 * s->Cout * P;
        #pragma omp parallel num_threads(team)
        {
            int t = 0, nt = 1;
#ifdef _OPENMP
            t = omp_get_thread_num();
            nt = omp_get_num_threads();
#endif
            size_t r0, r1;
            team_range(&r0, &r1, (size_t)Fc * s->Ho, t, nt);
            if (r1 > r0) {
                const size_t j0 = r0 * s->Wo, nc = (r1 - r0) * s->Wo;
                if (!direct)
                    im2col_rows(col, ld, x, n0, r0, r1, s);
                /* y_g[Kg, cols] = w_g[Kg, Kc] col_g[Kc, cols] */
                for (int g = 0; g < G; g++)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Kg, (int)nc, (int)Kc, 1.0f,
                                w + (size_t)g * Kg * Kc, (int)Kc, b + (size_t)g * Kc * ld + j0, (int)ld,
                                0.0f, c + (size_t)g * Kg * ld + j0, (int)ld);
                if (Fc > 1)
                    chunk_scatter_rows(y, stage, n0, Fc, s, r0, r1);
            }
        }
    }
}

/* Per chunk, thread t takes a contiguous range of input channels: it builds
 * their col rows, adds their columns of dw (dy_g col_g^T, summed over every
 * position of the chunk by this one thread, so dw is deterministic without
 * partial buffers), forms their rows of dcol = w_g^T dy_g over its own col
 * rows and scatters them into dx.  Only the dy gather of a multi-frame
 * chunk is shared, behind one barrier. */
void lt_conv2d_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                        const lt_conv_shape *s, float *work)
{
    if (conv_is_depthwise(s)) {
        dw_backward(dx, dw, dy, x, w, s);
        return;
    }
    const int G = s->groups, Cg = s->Cin / G, Kg = s->Cout / G;
    const int F = conv_chunk_frames(s), team = gemm_team();
    const size_t P = (size_t)s->Ho * s->Wo, kk = (size_t)s->kh * s->kw, Kc = (size_t)Cg * kk;
    const size_t K = (size_t)s->Cin * kk;
    const int direct = F == 1 && conv_is_pointwise(s);
    float *col = work;
    float *stage = F > 1 ? work + K * F * P : NULL;
    for (int n0 = 0; n0 < s->N; n0 += F) {
        const int Fc = s->N - n0 < F ? s->N - n0 : F;
        const size_t ld = (size_t)Fc * P;
        const float *b = direct ? x + (size_t)n0 * s->Cin * P : col;
        const float *d = Fc > 1 ? stage : dy + (size_t)n0 * s->Cout * P;
        float *dcol = !direct ? col : dx ? dx + (size_t)n0 * s->Cin * P : NULL;
        #pragma omp parallel num_threads(team)
        {
            int t = 0, nt = 1;
#ifdef _OPENMP
            t = omp_get_thread_num();
            nt = omp_get_num_threads();
#endif
            size_t a0, a1;
            if (Fc > 1) {
                team_range(&a0, &a1, (size_t)s->Cout * Fc, t, nt);
                chunk_gather(stage, dy, n0, Fc, s->Cout, P, a0, a1);
                #pragma omp barrier
            }
            team_range(&a0, &a1, (size_t)s->Cin, t, nt);
            const int c0 = (int)a0, c1 = (int)a1;
            if (c1 > c0 && !direct)
                im2col_channels(col, ld, x, n0, Fc, c0, c1, s);
            /* The groups that channels [c0, c1) fall in, one piece each. */
            for (int g = c0 / Cg; c1 > c0 && g <= (c1 - 1) / Cg; g++) {
                const int u0 = c0 > g * Cg ? c0 : g * Cg;
                const int u1 = c1 < (g + 1) * Cg ? c1 : (g + 1) * Cg;
                const size_t off = (size_t)(u0 - g * Cg) * kk, width = (size_t)(u1 - u0) * kk;
                const float *dg = d + (size_t)g * Kg * ld;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Kg, (int)width, (int)ld, 1.0f,
                            dg, (int)ld, b + (size_t)u0 * kk * ld, (int)ld, 1.0f,
                            dw + (size_t)g * Kg * Kc + off, (int)Kc);
                if (dx)
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)width, (int)ld, Kg, 1.0f,
                                w + (size_t)g * Kg * Kc + off, (int)Kc, dg, (int)ld, 0.0f,
                                dcol + (size_t)u0 * kk * ld, (int)ld);
            }
            if (dx && c1 > c0 && !direct)
                col2im_channels(dx, col, ld, n0, Fc, c0, c1, s);
        }
    }
}
