/* lif.c -- multi-step LIF neuron kernels: forward, backward through time,
 * surrogate gradients and the threshold-gradient modes (METHOD.md §1, §2).
 *
 * Not for: layer bookkeeping (nn/ owns the buffers) or the loss (loss.c).
 *
 * Activations are time-major [T, M]: neuron j at step t is x[t*M + j].
 * Forward stores u, the membrane BEFORE reset; backward recomputes the
 * spike from u with the very same float comparison, so no spike tensor is
 * needed for the gradient.
 *
 * One formulation covers every mode.  Let h_t = H(z_t) be the binary
 * firing decision, with z_t = u_t - V (DSR: z_t = u_t - alpha*V).  The
 * layer emits s_t = a*h_t with a = 1 (a = V under DSR) and carries
 *     hard reset:  m_t = u_t * (1 - h_t)
 *     soft reset:  m_t = u_t - V * h_t   (under DSR: u_t - s_t)
 * to the next step as u_{t+1} = lam*m_t + x_{t+1}.  Backward, with gm the
 * gradient on m_t (0 after the last step) and ds the gradient from the
 * next layer:
 *     G    = a*ds - r*gm        r = u_t (hard) or V (soft); r = 0 under
 *                                detach_reset (no gradient through h_t
 *                                in the reset term)
 *     gu   = gm*(1 - h_t) + G*dh/du      (soft reset: gm + G*dh/du)
 *     dV  += G*dh/dV                      (+ ds*h_t under DSR: s = V*h)
 *                                         (- h_t*gm under soft reset: the
 *                                          V in m = u - V*h is direct)
 *     dx_t = gu,  gm <- lam*gu  (for step t-1).
 * Without DSR G is METHOD §1's total spike gradient dL/ds_t and dh/du,
 * dh/dV are the table of METHOD §2.  Under DSR, dh/du = tri(z) and
 * dh/dV = -alpha*tri(z); the chain rule through s = V*h then gives exactly
 * METHOD §2's ds/du = V*tri and ds/dV = H - alpha*V*tri for the spike
 * output, and the reset path m = u*(1-h) is differentiated through h (not
 * through s/V), which is what "reset u*(1 - H)" means.  The soft-reset
 * direct term -h_t*gm is kept under detach_reset: detaching stops the
 * gradient through the spike, not through the parameter V.
 *
 * The _bn versions take BN's input and its per-channel affine instead of x
 * (BN folded into the current, bn_row), so a network never writes BN's
 * output; their backward rebuilds u chunk by chunk into a scratch tensor
 * the caller lends (the only extra work is the forward recurrence of the
 * chunk) and may write dx over ds.
 *
 * The fast versions work on fixed chunks of LT_LIF_CHUNK neurons, keep the
 * running gm of a chunk on the stack and walk t inside the chunk (one
 * streaming pass).  The threshold gradient is summed per element in double,
 * per chunk in element order, per part (a fixed range of chunks) in chunk
 * order and over parts in part order.  The partition depends only on M, so
 * results are the same for any thread count and schedule. */
#include "kernels/kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define LT_LIF_CHUNK 512
#define LT_LIF_MAXPART 256

static const float lt_pi_f = 3.14159265358979323846f;

void lt_lif_opts_default(lt_lif_opts *o)
{
    o->lam = 0.5f;
    o->g = 1.0f;
    o->alpha = 0.3f;
    o->mode = LT_MODE_SGP;
    o->window = LT_WIN_SIGMOID;
    o->soft_reset = 0;
    o->detach_reset = 0;
}

/* ---------------- windows and surrogates (METHOD §2) ---------------- */

static inline float win_sigmoid(float z) { return 1.0f / (1.0f + expf(-z)); }
static inline float win_arctan(float z) { return 0.5f + atanf((lt_pi_f / 2.0f) * z) / lt_pi_f; }

/* Piecewise-quadratic CDF of the unit triangle; written with selects so
 * the loop over a row vectorises. */
static inline float win_triangle(float z)
{
    float c = z < -1.0f ? -1.0f : (z > 1.0f ? 1.0f : z);
    float lo = 0.5f * (c + 1.0f) * (c + 1.0f);
    float hi = 1.0f - 0.5f * (1.0f - c) * (1.0f - c);
    return c < 0.0f ? lo : hi;
}

static inline float win_piecewise(float z)
{
    float v = 0.5f + 0.5f * z;
    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

float lt_window_eval(lt_window w, float z)
{
    switch (w) {
    case LT_WIN_SIGMOID: return win_sigmoid(z);
    case LT_WIN_ARCTAN: return win_arctan(z);
    case LT_WIN_TRIANGLE: return win_triangle(z);
    case LT_WIN_PIECEWISE: return win_piecewise(z);
    }
    return 0.5f;
}

/* tri(z) = max(0, g - |z|) / g^2 (METHOD §1, Eq. 5); ig2 = 1/g^2. */
static inline float tri_eval(float z, float g, float ig2)
{
    float t = g - fabsf(z);
    return (t > 0.0f ? t : 0.0f) * ig2;
}

static inline int mode_uses_window(lt_vth_mode m)
{
    return m == LT_MODE_SGP || m == LT_MODE_PENALTY_ALL || m == LT_MODE_SGP_STSG;
}

/* dh/du and dh/dV of the binary decision h for z = u - V (non-DSR modes),
 * METHOD §2's table.  hm is 1{u >= V}. */
static void surrogate_h(float *dhdu, float *dhdv, float z, float hm, const lt_lif_opts *o, float ig2)
{
    float tri = tri_eval(z, o->g, ig2);
    float w = mode_uses_window(o->mode) ? lt_window_eval(o->window, z) : 0.0f;
    switch (o->mode) {
    case LT_MODE_FIXED: *dhdu = tri; *dhdv = 0.0f; return;
    case LT_MODE_STSG: *dhdu = tri; *dhdv = -tri; return;
    case LT_MODE_SGP: *dhdu = tri; *dhdv = -(tri * w * hm); return;
    case LT_MODE_PENALTY_ALL: *dhdu = tri * w; *dhdv = -(tri * w * hm); return;
    case LT_MODE_SGP_STSG: *dhdu = tri; *dhdv = -(tri * w * hm) - tri; return;
    case LT_MODE_DSR: break;
    }
    *dhdu = tri;
    *dhdv = -o->alpha * tri;
}

void lt_lif_surrogate(float *dsdu, float *dsdv, float u, float vth, const lt_lif_opts *o)
{
    float ig2 = 1.0f / (o->g * o->g);
    float du, dv;
    if (o->mode == LT_MODE_DSR) {
        /* s = V*H(u - alpha*V): METHOD §2's DSR row */
        float thr = o->alpha * vth;
        float tri = tri_eval(u - thr, o->g, ig2);
        du = vth * tri;
        dv = (u >= thr ? 1.0f : 0.0f) - o->alpha * vth * tri;
    } else {
        surrogate_h(&du, &dv, u - vth, u >= vth ? 1.0f : 0.0f, o, ig2);
    }
    if (dsdu)
        *dsdu = du;
    if (dsdv)
        *dsdv = dv;
}

/* ---------------- plain versions (the oracle) ---------------- */

void lt_lif_forward_ref(float *s, float *u, const float *x, float vth, const lt_lif_opts *o, int T, size_t M)
{
    int dsr = o->mode == LT_MODE_DSR;
    float thr = dsr ? o->alpha * vth : vth;
    for (size_t j = 0; j < M; j++) {
        float m = 0.0f;
        for (int t = 0; t < T; t++) {
            size_t i = (size_t)t * M + j;
            float ut = o->lam * m + x[i];
            float h = ut >= thr ? 1.0f : 0.0f;
            u[i] = ut;
            s[i] = dsr ? (h != 0.0f ? vth : 0.0f) : h;
            m = o->soft_reset ? ut - vth * h : ut * (1.0f - h);
        }
    }
}

void lt_lif_backward_ref(float *dx, float *dvth, const float *ds, const float *u, float vth,
                         const lt_lif_opts *o, int T, size_t M)
{
    int dsr = o->mode == LT_MODE_DSR;
    float thr = dsr ? o->alpha * vth : vth;
    float a = dsr ? vth : 1.0f;
    float ig2 = 1.0f / (o->g * o->g);
    double acc = 0.0;
    for (size_t j = 0; j < M; j++) {
        float gm = 0.0f;
        for (int t = T - 1; t >= 0; t--) {
            size_t i = (size_t)t * M + j;
            float ut = u[i];
            float h = ut >= thr ? 1.0f : 0.0f;
            float dhdu, dhdv;
            surrogate_h(&dhdu, &dhdv, ut - thr, h, o, ig2);
            float G = a * ds[i];
            if (!o->detach_reset)
                G -= (o->soft_reset ? vth : ut) * gm;
            float gu = (o->soft_reset ? gm : gm * (1.0f - h)) + G * dhdu;
            acc += (double)(G * dhdv);
            if (dsr)
                acc += (double)(ds[i] * h); /* s = V*h: the V outside h */
            if (o->soft_reset)
                acc -= (double)(h * gm);    /* m = u - V*h: V direct */
            dx[i] = gu;
            gm = o->lam * gu;
        }
    }
    if (dvth && o->mode != LT_MODE_FIXED)
        *dvth = (float)((double)*dvth + acc);
}

/* ---------------- fast versions ---------------- */

/* One step's row of BN output for neurons [j0, j0+n): xb = (xr - mean)*scale
 * + beta per channel, run by run (a channel's neurons are HW consecutive
 * ones).  The expression of bn.c's bn_channel_apply, so the same floats. */
static void bn_row(float *xb, const float *xr, const lt_bn_affine *bn, size_t j0, size_t n)
{
    const size_t HW = (size_t)bn->HW, C = (size_t)bn->C;
    size_t k = 0;
    while (k < n) {
        size_t q = (j0 + k) / HW, stop = (q + 1) * HW - j0;
        size_t c = q % C;
        const float mu = bn->mean[c], sc = bn->scale[c], be = bn->beta[c];
        if (stop > n)
            stop = n;
        for (; k < stop; k++)
            xb[k] = (xr[k] - mu) * sc + be;
    }
}

/* Forward over neurons [j0, j0+n) of the chunk, n <= LT_LIF_CHUNK.  With bn
 * the current is BN of x (bn_row); s or u NULL: not stored. */
static void lif_forward_chunk(float *s, float *u, const float *x, const lt_bn_affine *bn, float vth,
                              const lt_lif_opts *o, int T, size_t M, size_t j0, size_t n)
{
    float m[LT_LIF_CHUNK], xb[LT_LIF_CHUNK], ub[LT_LIF_CHUNK], sb[LT_LIF_CHUNK];
    int dsr = o->mode == LT_MODE_DSR, soft = o->soft_reset;
    float thr = dsr ? o->alpha * vth : vth;
    float lam = o->lam;
    float on = dsr ? vth : 1.0f;
    memset(m, 0, sizeof m);
    for (int t = 0; t < T; t++) {
        size_t base = (size_t)t * M + j0;
        const float *xr = x + base;
        float *ur = u ? u + base : ub, *sr = s ? s + base : sb;
        if (bn) {
            bn_row(xb, xr, bn, j0, n);
            xr = xb;
        }
        for (size_t k = 0; k < n; k++) {
            float ut = lam * m[k] + xr[k];
            float h = ut >= thr ? 1.0f : 0.0f;
            ur[k] = ut;
            sr[k] = ut >= thr ? on : 0.0f;
            m[k] = soft ? ut - vth * h : ut * (1.0f - h);
        }
    }
}

static void lif_forward_any(float *s, float *u, const float *x, const lt_bn_affine *bn, float vth,
                            const lt_lif_opts *o, int T, size_t M)
{
    size_t nch = (M + LT_LIF_CHUNK - 1) / LT_LIF_CHUNK;
    long c;
#pragma omp parallel for schedule(static) if (nch > 1 && (size_t)T * M > 32768)
    for (c = 0; c < (long)nch; c++) {
        size_t j0 = (size_t)c * LT_LIF_CHUNK;
        size_t n = M - j0 < LT_LIF_CHUNK ? M - j0 : LT_LIF_CHUNK;
        lif_forward_chunk(s, u, x, bn, vth, o, T, M, j0, n);
    }
}

void lt_lif_forward(float *s, float *u, const float *x, float vth, const lt_lif_opts *o, int T, size_t M)
{
    lif_forward_any(s, u, x, NULL, vth, o, T, M);
}

void lt_lif_forward_bn(float *s, float *u, const float *x, const lt_bn_affine *bn, float vth, const lt_lif_opts *o,
                       int T, size_t M)
{
    lif_forward_any(s, u, x, bn, vth, o, T, M);
}

/* exp(x) in a form GCC vectorises (libm's expf is a scalar call, and it made
 * the sgp backward 4.6x slower than the fixed one): x = k*ln2 + r with
 * |r| <= ln2/2 (ln2 split in two so k*ln2_hi is exact), e^r by its Taylor
 * series to r^7 (truncation below 5e-9 relative), times 2^k built in the
 * exponent bits.  x is clamped to [-87, 88], where 2^k stays a normal float;
 * the sigmoid window needs nothing beyond (it is 0 or 1 there to float
 * precision).  Error within a few ulp of expf (tests/test_lif.c). */
static inline float exp_vec(float x)
{
    /* written so GCC if-converts it: two one-sided clamps, rintf (not a
     * rounding conversion, which may trap and keeps the branches) */
    x = x > 88.0f ? 88.0f : x;
    x = x < -87.0f ? -87.0f : x;
    float k = rintf(x * 1.44269504088896341f);
    float r = x - k * 0.693145751953125f - k * 1.42860682030941723e-6f;
    float p = 1.0f + r * (1.0f + r * (1.0f / 2 + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 +
              r * (1.0f / 720 + r * (1.0f / 5040)))))));
    int32_t bits = ((int32_t)k + 127) << 23;
    float two_k;
    memcpy(&two_k, &bits, sizeof two_k);
    return p * two_k;
}

/* atan(x) in a form GCC vectorises, for the arctan window as exp_vec is for
 * the sigmoid one (libm's atanf is a scalar call, and a costly one: in
 * docs/results.md's matrix, made with a build where both windows went through
 * libm, the arctan-window runs saw about 30% fewer samples per minute than
 * the sigmoid ones).  Range reduction by atan(a) = pi/2 + atan(-1/a) for
 * a > tan(3pi/8) and atan(a) = pi/4 + atan((a-1)/(a+1)) for a > tan(pi/8),
 * so the reduced argument t has |t| <= tan(pi/8); there atan(t) = t + t^3 *
 * p(t^2), p of degree 3 fitted by least squares on Chebyshev nodes (max
 * error 5e-9 in exact arithmetic).  Every branch is computed and one
 * selected; the divisions by a and a+1 never see a = 0 in the branch that is
 * kept. */
static inline float atan_vec(float x)
{
    float a = fabsf(x);
    int big = a > 2.41421356f, mid = a > 0.414213562f;
    float t = big ? -1.0f / a : (mid ? (a - 1.0f) / (a + 1.0f) : a);
    float base = big ? 1.57079633f : (mid ? 0.785398163f : 0.0f);
    float z = t * t;
    float r = base + (t + t * z * (-0.333327610f + z * (0.199720150f + z * (-0.138256420f + z * 0.0790585400f))));
    return copysignf(r, x);
}

/* Window values of one row of the chunk.  Sigmoid and arctan through
 * exp_vec and atan_vec, so the row vectorises (lt_window_eval, the plain
 * version, uses libm's expf and atanf); the other two are selects. */
void lt_window_row(float *w, const float *ur, float thr, lt_window win, size_t n)
{
    switch (win) {
    case LT_WIN_SIGMOID:
        for (size_t k = 0; k < n; k++)
            w[k] = 1.0f / (1.0f + exp_vec(thr - ur[k]));
        return;
    case LT_WIN_ARCTAN:
        for (size_t k = 0; k < n; k++)
            w[k] = 0.5f + atan_vec((lt_pi_f / 2.0f) * (ur[k] - thr)) / lt_pi_f;
        return;
    case LT_WIN_TRIANGLE:
        for (size_t k = 0; k < n; k++)
            w[k] = win_triangle(ur[k] - thr);
        return;
    case LT_WIN_PIECEWISE:
        for (size_t k = 0; k < n; k++)
            w[k] = win_piecewise(ur[k] - thr);
        return;
    }
    for (size_t k = 0; k < n; k++)
        w[k] = 0.5f;
}

/* One time step of the backward over a chunk row: the arithmetic per
 * element of lt_lif_backward_ref.  Always inlined and called only with
 * literal flags (see LIF_ROW), so each call site is a branch-free loop that
 * GCC vectorises; with the flags left as variables it gives up ("control
 * flow in loop").  For non-DSR modes a is 1, and w is 0 where the mode has
 * no window, so -twh - tri is exactly -tri for stsg. */
static inline __attribute__((always_inline)) void
lif_backward_row(float *xr, float *gm, double *acc, const float *ur, const float *dr, const float *w,
                 float thr, float vth, float a, float lam, float alpha, float g, float ig2, size_t n,
                 int dsr, int du_w, int dv_tri, int soft, int detach)
{
    for (size_t k = 0; k < n; k++) {
        float ut = ur[k], gmk = gm[k];
        float h = ut >= thr ? 1.0f : 0.0f;
        float tri = tri_eval(ut - thr, g, ig2);
        float tw = tri * w[k], twh = tw * h;
        float dhdu = dsr ? tri : (du_w ? tw : tri);
        float dhdv = dsr ? -alpha * tri : (dv_tri ? -twh - tri : -twh);
        float G = a * dr[k];
        if (!detach)
            G -= (soft ? vth : ut) * gmk;
        float gu = (soft ? gmk : gmk * (1.0f - h)) + G * dhdu;
        double d = (double)(G * dhdv);
        if (dsr)
            d += (double)(dr[k] * h);
        if (soft)
            d -= (double)(h * gmk);
        acc[k] += d;
        xr[k] = gu;
        gm[k] = lam * gu;
    }
}

#define LIF_ROW(DSR, DUW, DVT, SOFT, DETACH) \
    lif_backward_row(xr, gm, acc, ur, dr, w, thr, vth, a, lam, alpha, g, ig2, n, DSR, DUW, DVT, SOFT, DETACH)
#define LIF_ROW_RESET(DSR, DUW, DVT) do { \
        if (soft) { if (detach) LIF_ROW(DSR, DUW, DVT, 1, 1); else LIF_ROW(DSR, DUW, DVT, 1, 0); } \
        else { if (detach) LIF_ROW(DSR, DUW, DVT, 0, 1); else LIF_ROW(DSR, DUW, DVT, 0, 0); } \
    } while (0)

/* Backward over neurons [j0, j0+n) of one chunk; returns the chunk's
 * threshold-gradient sum (elements summed in double, per element over t,
 * then in element order).  With bn, u is first rebuilt from x into this
 * chunk's rows of uwork (the forward of lif_forward_chunk, so the same u),
 * and each step's rows of u and ds are copied out before dx is written: uwork
 * may be dx, and dx may be ds. */
static double lif_backward_chunk(float *dx, const float *ds, const float *u, const float *x,
                                 const lt_bn_affine *bn, float *uwork, float vth, const lt_lif_opts *o, int T,
                                 size_t M, size_t j0, size_t n)
{
    float gm[LT_LIF_CHUNK], w[LT_LIF_CHUNK], ucopy[LT_LIF_CHUNK], dcopy[LT_LIF_CHUNK];
    double acc[LT_LIF_CHUNK];
    lt_vth_mode mode = o->mode;
    int dsr = mode == LT_MODE_DSR, soft = o->soft_reset, detach = o->detach_reset;
    int use_w = mode_uses_window(mode);
    float thr = dsr ? o->alpha * vth : vth;
    float a = dsr ? vth : 1.0f;
    float lam = o->lam, g = o->g, ig2 = 1.0f / (o->g * o->g), alpha = o->alpha;
    double sum = 0.0;

    if (bn) {
        lif_forward_chunk(NULL, uwork, x, bn, vth, o, T, M, j0, n);
        u = uwork;
    }
    memset(gm, 0, sizeof gm);
    memset(w, 0, sizeof w);
    for (size_t k = 0; k < n; k++)
        acc[k] = 0.0;
    for (int t = T - 1; t >= 0; t--) {
        size_t base = (size_t)t * M + j0;
        const float *ur = u + base, *dr = ds + base;
        float *xr = dx + base;
        if (bn) {
            memcpy(ucopy, ur, n * sizeof(float));
            memcpy(dcopy, dr, n * sizeof(float));
            ur = ucopy;
            dr = dcopy;
        }
        if (use_w)
            lt_window_row(w, ur, thr, o->window, n);
        if (dsr)
            LIF_ROW_RESET(1, 0, 0);
        else if (mode == LT_MODE_PENALTY_ALL)
            LIF_ROW_RESET(0, 1, 0);
        else if (mode == LT_MODE_STSG || mode == LT_MODE_SGP_STSG)
            LIF_ROW_RESET(0, 0, 1);
        else
            LIF_ROW_RESET(0, 0, 0);
    }
    for (size_t k = 0; k < n; k++)
        sum += acc[k];
    return sum;
}

static void lif_backward_any(float *dx, float *dvth, const float *ds, const float *u, const float *x,
                             const lt_bn_affine *bn, float *uwork, float vth, const lt_lif_opts *o, int T,
                             size_t M)
{
    double part[LT_LIF_MAXPART];
    size_t nch = (M + LT_LIF_CHUNK - 1) / LT_LIF_CHUNK;
    size_t nparts = nch < LT_LIF_MAXPART ? nch : LT_LIF_MAXPART;
    size_t per = nparts ? (nch + nparts - 1) / nparts : 0; /* chunks per part */
    double total = 0.0;
    long p;

    if (nparts)
        nparts = (nch + per - 1) / per;
#pragma omp parallel for schedule(dynamic, 1) if (nparts > 1 && (size_t)T * M > 32768)
    for (p = 0; p < (long)nparts; p++) {
        size_t c0 = (size_t)p * per, c1 = c0 + per < nch ? c0 + per : nch;
        double s = 0.0;
        for (size_t c = c0; c < c1; c++) {
            size_t j0 = c * LT_LIF_CHUNK;
            size_t n = M - j0 < LT_LIF_CHUNK ? M - j0 : LT_LIF_CHUNK;
            s += lif_backward_chunk(dx, ds, u, x, bn, uwork, vth, o, T, M, j0, n);
        }
        part[p] = s;
    }
    for (size_t q = 0; q < nparts; q++)
        total += part[q];
    if (dvth && o->mode != LT_MODE_FIXED)
        *dvth = (float)((double)*dvth + total);
}

void lt_lif_backward(float *dx, float *dvth, const float *ds, const float *u, float vth,
                     const lt_lif_opts *o, int T, size_t M)
{
    lif_backward_any(dx, dvth, ds, u, NULL, NULL, NULL, vth, o, T, M);
}

void lt_lif_backward_bn(float *dx, float *dvth, const float *ds, const float *x, const lt_bn_affine *bn, float vth,
                        const lt_lif_opts *o, int T, size_t M, float *uwork)
{
    lif_backward_any(dx, dvth, ds, NULL, x, bn, uwork, vth, o, T, M);
}
