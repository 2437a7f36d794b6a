/* test_fast_conv.c -- the oneDNN convolution path (src/kernels/conv_dnnl.c)
 * against the plain oracle lt_conv2d_*_ref.
 *
 * Checks, on shapes with 2 to 64 input channels, odd sizes, stride 2, 1x1,
 * 5x5 and frame counts that are below, equal to and not a multiple of the
 * chunk (so the BLAS leftover path runs too): forward y, backward dx, dw
 * accumulated onto a non-zero start, dx == NULL, a run with fewer frames
 * than planned, bitwise repeatability; the same for depthwise (with and
 * without a channel multiplier) and grouped convolutions. */
#include "check.h"
#include "kernels/conv_dnnl.h"
#include "ltsnn/core.h"

#include <string.h>

static lt_rng rng;

static float *randv(size_t n, float lo, float hi)
{
    float *v = lt_alloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        v[i] = lt_rng_uniformf(&rng, lo, hi);
    return v;
}

/* binary spikes, as the layers after the first LIF see them */
static float *spikes(size_t n, float p)
{
    float *v = lt_alloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        v[i] = lt_rng_uniform(&rng) < p ? 1.0f : 0.0f;
    return v;
}

static double max_rel(const float *a, const float *b, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double m = fabs(a[i]) > fabs(b[i]) ? fabs(a[i]) : fabs(b[i]);
        double e = fabs((double)a[i] - b[i]) / (m > 1.0 ? m : 1.0);
        if (e > worst || e != e)
            worst = e;
    }
    return worst;
}

/* plan for Nplan frames, run with Nrun */
static void one_g(int Nplan, int Nrun, int Cin, int H, int W, int Cout, int k, int st, int pad, int binary, int G)
{
    lt_conv_shape s = {Nplan, Cin, H, W, Cout, k, k, st, pad, G, 0, 0};
    char name[128];
    snprintf(name, sizeof name, "N%d/%d Cin%d %dx%d Cout%d k%d s%d p%d g%d", Nrun, Nplan, Cin, H, W, Cout, k, st, pad,
             G);
    lt_dnnl_conv *c = lt_dnnl_conv_create(&s, 1);
    CHECK(c != NULL, "%s: oneDNN plan", name);
    if (!c)
        return;
    CHECK(lt_conv_shape_fill(&s), "%s", name);
    s.N = Nrun;
    size_t nx = (size_t)s.N * Cin * H * W, ny = (size_t)s.N * Cout * s.Ho * s.Wo;
    size_t nw = (size_t)Cout * (Cin / G) * k * k;
    float *x = binary ? spikes(nx, 0.15f) : randv(nx, -1, 1), *w = randv(nw, -0.5f, 0.5f), *dy = randv(ny, -1, 1);
    float *y = lt_alloc(ny * 4), *yr = lt_alloc(ny * 4), *dx = lt_alloc(nx * 4), *dxr = lt_alloc(nx * 4);
    float *dw = randv(nw, -1, 1), *dwr = lt_alloc(nw * 4), *dw0 = lt_alloc(nw * 4);
    float *work = lt_alloc(lt_dnnl_conv_work_floats(c) * 4 + 64);
    memcpy(dwr, dw, nw * 4);
    memcpy(dw0, dw, nw * 4);

    lt_dnnl_conv_forward(c, y, x, w, &s, work);
    lt_conv2d_forward_ref(yr, x, w, &s);
    double e = max_rel(y, yr, ny);
    /* up to Cin*k*k = 576-term float sums in both: a few 1e-6 apart */
    CHECK(e < 5e-5, "%s: forward max rel err %g", name, e);

    lt_dnnl_conv_backward(c, dx, dw, dy, x, w, &s, work);
    lt_conv2d_backward_ref(dxr, dwr, dy, x, w, &s);
    e = max_rel(dx, dxr, nx);
    CHECK(e < 5e-5, "%s: dx max rel err %g", name, e);
    /* dw sums N*Ho*Wo products: float accumulation error grows with them */
    e = max_rel(dw, dwr, nw);
    CHECK(e < 2e-4, "%s: dw (accumulated) max rel err %g", name, e);

    /* dx NULL: dw alone, the same values bit for bit; and repeatable */
    float *dw2 = lt_alloc(nw * 4), *y2 = lt_alloc(ny * 4);
    memcpy(dw2, dw0, nw * 4);
    lt_dnnl_conv_backward(c, NULL, dw2, dy, x, w, &s, work);
    CHECK(!memcmp(dw2, dw, nw * 4), "%s: dw without dx differs", name);
    lt_dnnl_conv_forward(c, y2, x, w, &s, work);
    CHECK(!memcmp(y2, y, ny * 4), "%s: forward not repeatable", name);
    lt_free(dw2);
    lt_free(y2);

    lt_free(x), lt_free(w), lt_free(dy), lt_free(y), lt_free(yr), lt_free(dx), lt_free(dxr);
    lt_free(dw), lt_free(dwr), lt_free(dw0), lt_free(work);
    lt_dnnl_conv_free(c);
}

static void one(int Nplan, int Nrun, int Cin, int H, int W, int Cout, int k, int st, int pad, int binary)
{
    one_g(Nplan, Nrun, Cin, H, W, Cout, k, st, pad, binary, 1);
}

int main(void)
{
    check_begin("test_fast_conv");
    lt_rng_seed(&rng, 7);
    /* chunk: the largest divisor of N with chunk*64*32*32 <= 2^20 floats, 10 of 20 */
    one(20, 20, 2, 48, 48, 8, 3, 1, 1, 1);      /* one chunk of 20 */
    one(20, 13, 64, 32, 32, 64, 3, 1, 1, 1);    /* fewer frames than planned: 1 chunk + 3 leftover */
    one(3, 3, 16, 24, 24, 32, 3, 1, 1, 1);      /* chunk capped at the planned N */
    one(40, 40, 32, 6, 6, 64, 3, 1, 1, 1);     /* late-layer size: one chunk */
    one(9, 9, 5, 11, 13, 7, 3, 2, 1, 0);       /* odd sizes, stride 2 */
    one(10, 10, 24, 12, 12, 40, 1, 1, 0, 1);   /* pointwise */
    one(6, 6, 3, 7, 7, 4, 5, 1, 2, 0);         /* 5x5 */

    one_g(20, 20, 32, 48, 48, 32, 3, 1, 1, 1, 32);  /* depthwise, as in MobileNet-light */
    one_g(40, 37, 64, 12, 12, 64, 3, 1, 1, 1, 64);
    one_g(5, 5, 6, 9, 9, 12, 3, 2, 1, 0, 6);        /* depthwise with multiplier 2, stride 2 */
    one_g(4, 4, 8, 10, 10, 8, 3, 1, 1, 0, 2);       /* grouped */
    lt_conv_shape inf = {4, 8, 10, 10, 8, 3, 3, 1, 1, 1, 0, 0};
    lt_dnnl_conv *c = lt_dnnl_conv_create(&inf, 0);
    CHECK(c != NULL && lt_dnnl_conv_work_floats(c) > 0, "inference plan");
    lt_dnnl_conv_free(c);
    return check_done();
}
