/* test_fast_lif.c -- lt_lif_spikes_from_u (src/kernels/lif_regen.c) against
 * the spikes of the plain LIF forward lt_lif_forward_ref: bit for bit, for
 * every threshold mode, hard and soft reset, thresholds below, at and above
 * 1, sizes on and off the parallel threshold, and inputs that put u exactly
 * on the threshold.  Also that lt_lif_forward may write u over its input x
 * (the network does so in inference) and still gives the bytes of the
 * out-of-place oracle.
 *
 * The fused BN + LIF kernels (lt_lif_forward_bn, lt_lif_backward_bn, with
 * lt_bn_stats_train / lt_bn_eval_scale) against their oracle, BN written out
 * by lt_bn_forward_train / lt_bn_forward_eval followed by the plain
 * lt_lif_forward / lt_lif_backward: spikes, u, dx and dV bit for bit, for
 * every mode, both resets, detach, and channel sizes that do and do not
 * line up with the kernels' 512-neuron chunks. */
#include "check.h"
#include "kernels/kernels.h"
#include "kernels/lif_regen.h"
#include "ltsnn/core.h"

#include <string.h>

static void test_fused_bn(lt_rng *rng)
{
    const lt_vth_mode modes[] = {LT_MODE_FIXED, LT_MODE_STSG, LT_MODE_SGP, LT_MODE_PENALTY_ALL,
                                 LT_MODE_SGP_STSG, LT_MODE_DSR};
    /* b, C, HW: HW 9 and 37 cross chunk borders mid-channel; 600 > one chunk */
    const int shapes[][3] = {{2, 3, 9}, {3, 5, 37}, {2, 2, 600}, {1, 1, 1}};
    const int T = 5;
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        int b = shapes[si][0], C = shapes[si][1], HW = shapes[si][2], N = T * b;
        size_t M = (size_t)b * C * HW, n = (size_t)T * M;
        float *x = lt_alloc(n * 4), *y = lt_alloc(n * 4), *u = lt_alloc(n * 4), *s = lt_alloc(n * 4);
        float *u2 = lt_alloc(n * 4), *s2 = lt_alloc(n * 4), *ds = lt_alloc(n * 4), *dx = lt_alloc(n * 4),
              *dx2 = lt_alloc(n * 4);
        float gamma[8], beta[8], mean[8], invstd[8], scale[8], rm[8], rv[8], rm2[8], rv2[8], m2[8], is2[8];
        for (int c = 0; c < C; c++) {
            gamma[c] = lt_rng_uniformf(rng, 0.5f, 1.5f);
            beta[c] = lt_rng_uniformf(rng, -0.2f, 0.8f);
            rm[c] = rm2[c] = lt_rng_uniformf(rng, -0.1f, 0.1f);
            rv[c] = rv2[c] = lt_rng_uniformf(rng, 0.5f, 2.0f);
        }
        for (size_t i = 0; i < n; i++) {
            x[i] = lt_rng_uniformf(rng, -1.0f, 2.0f);
            ds[i] = lt_rng_uniformf(rng, -1.0f, 1.0f);
        }
        /* statistics: the same bytes as the writing kernel, running stats too */
        lt_bn_forward_train(y, m2, is2, rm2, rv2, x, gamma, beta, N, C, HW, 1e-5f, 0.1f);
        lt_bn_stats_train(mean, invstd, scale, rm, rv, x, gamma, N, C, HW, 1e-5f, 0.1f);
        CHECK(!memcmp(mean, m2, C * 4) && !memcmp(invstd, is2, C * 4) && !memcmp(rm, rm2, C * 4) &&
              !memcmp(rv, rv2, C * 4), "shape %zu: lt_bn_stats_train differs from lt_bn_forward_train", si);
        for (int train = 1; train >= 0; train--) {
            lt_bn_affine aff = {.mean = mean, .scale = scale, .beta = beta, .C = C, .HW = HW};
            if (!train) {
                lt_bn_forward_eval(y, x, gamma, beta, rm, rv, N, C, HW, 1e-5f);
                lt_bn_eval_scale(scale, gamma, rv, C, 1e-5f);
                aff.mean = rm;
            }
            for (size_t mi = 0; mi < sizeof modes / sizeof *modes; mi++)
                for (int variant = 0; variant < 3; variant++) {
                    lt_lif_opts o;
                    lt_lif_opts_default(&o);
                    o.mode = modes[mi];
                    o.soft_reset = variant == 1;
                    o.detach_reset = variant == 2;
                    float vth = 0.4f + 0.1f * (float)variant;
                    lt_lif_forward(s, u, y, vth, &o, T, M);
                    lt_lif_forward_bn(s2, u2, x, &aff, vth, &o, T, M);
                    CHECK(!memcmp(s, s2, n * 4) && !memcmp(u, u2, n * 4),
                          "shape %zu train %d mode %d variant %d: fused forward differs", si, train, (int)o.mode,
                          variant);
                    memset(s2, 0xff, n * 4);
                    lt_lif_forward_bn(s2, NULL, x, &aff, vth, &o, T, M);
                    CHECK(!memcmp(s, s2, n * 4), "shape %zu mode %d: spikes-only fused forward differs", si,
                          (int)o.mode);
                    float dv = 0.25f;
                    lt_lif_backward(dx, &dv, ds, u, vth, &o, T, M);
                    /* u rebuilt into dx; into a separate buffer; and with dx written over ds */
                    for (int where = 0; where < 3; where++) {
                        float dv2 = 0.25f;
                        memset(dx2, 0xff, n * 4);
                        memset(u2, 0xff, n * 4);
                        if (where == 2)
                            memcpy(dx2, ds, n * 4);
                        lt_lif_backward_bn(dx2, &dv2, where == 2 ? dx2 : ds, x, &aff, vth, &o, T, M,
                                           where == 0 ? dx2 : u2);
                        CHECK(!memcmp(dx, dx2, n * 4) && !memcmp(&dv, &dv2, 4),
                              "shape %zu train %d mode %d variant %d where %d: fused backward differs (dV %.9g vs "
                              "%.9g)", si, train, (int)o.mode, variant, where, dv, dv2);
                    }
                    size_t nz = 0;
                    for (size_t i = 0; i < n; i++)
                        nz += s[i] != 0.0f;
                    CHECK(n < 100 || (nz > 0 && nz < n), "shape %zu mode %d: degenerate (%zu spikes)", si,
                          (int)o.mode, nz);
                }
        }
        lt_free(x), lt_free(y), lt_free(u), lt_free(s), lt_free(u2), lt_free(s2), lt_free(ds), lt_free(dx);
        lt_free(dx2);
    }
}

int main(void)
{
    check_begin("test_fast_lif");
    lt_rng rng;
    lt_rng_seed(&rng, 3);
    const lt_vth_mode modes[] = {LT_MODE_FIXED, LT_MODE_STSG, LT_MODE_SGP, LT_MODE_PENALTY_ALL,
                                 LT_MODE_SGP_STSG, LT_MODE_DSR};
    const float vths[] = {0.5f, 1.0f, 1.7f};
    const size_t sizes[] = {1, 1000, 70001};
    const int T = 6;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        size_t M = sizes[si], n = (size_t)T * M;
        float *x = lt_alloc(n * 4), *u = lt_alloc(n * 4), *s = lt_alloc(n * 4), *r = lt_alloc(n * 4);
        for (size_t mi = 0; mi < sizeof modes / sizeof *modes; mi++)
            for (size_t vi = 0; vi < 3; vi++)
                for (int soft = 0; soft < 2; soft++) {
                    lt_lif_opts o;
                    lt_lif_opts_default(&o);
                    o.mode = modes[mi];
                    o.soft_reset = soft;
                    float thr = o.mode == LT_MODE_DSR ? o.alpha * vths[vi] : vths[vi];
                    for (size_t i = 0; i < n; i++)
                        x[i] = i % 7 == 0 ? thr : lt_rng_uniformf(&rng, -0.5f, 1.5f * vths[vi]);
                    lt_lif_forward_ref(s, u, x, vths[vi], &o, T, M);
                    memset(r, 0xff, n * 4);
                    lt_lif_spikes_from_u(r, u, vths[vi], &o, n);
                    size_t nz = 0;
                    for (size_t i = 0; i < n; i++)
                        nz += s[i] != 0.0f;
                    CHECK(!memcmp(r, s, n * 4), "M %zu mode %d vth %g soft %d: spikes differ", M, (int)o.mode,
                          vths[vi], soft);
                    /* in place: u written over x */
                    float *xu = lt_alloc(n * 4), *s2 = lt_alloc(n * 4);
                    memcpy(xu, x, n * 4);
                    lt_lif_forward(s2, xu, xu, vths[vi], &o, T, M);
                    CHECK(!memcmp(xu, u, n * 4) && !memcmp(s2, s, n * 4),
                          "M %zu mode %d soft %d: in-place forward differs from the oracle", M, (int)o.mode, soft);
                    lt_free(xu), lt_free(s2);
                    CHECK(M < 1000 || (nz > 0 && nz < n), "M %zu mode %d: degenerate input (%zu spikes)", M,
                          (int)o.mode, nz);
                }
        lt_free(x), lt_free(u), lt_free(s), lt_free(r);
    }
    test_fused_bn(&rng);
    return check_done();
}
