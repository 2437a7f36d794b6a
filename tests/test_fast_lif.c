/* test_fast_lif.c -- lt_lif_spikes_from_u (src/kernels/lif_regen.c) against
 * the spikes of the plain LIF forward lt_lif_forward_ref: bit for bit, for
 * every threshold mode, hard and soft reset, thresholds below, at and above
 * 1, sizes on and off the parallel threshold, and inputs that put u exactly
 * on the threshold.  Also that lt_lif_forward may write u over its input x
 * (the network does so after BN, src/nn/net.c) and still gives the bytes of
 * the out-of-place oracle. */
#include "check.h"
#include "kernels/lif_regen.h"
#include "ltsnn/core.h"

#include <string.h>

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
    return check_done();
}
