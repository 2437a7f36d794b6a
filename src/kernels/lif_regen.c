/* lif_regen.c -- spikes from the saved membrane (see lif_regen.h).
 * The threshold and spike value are formed exactly as lt_lif_forward forms
 * them, so the result equals the forward's s bit for bit; tests/test_fast_lif.c
 * checks that against lt_lif_forward_ref for every mode.  No reductions: any
 * split across threads gives the same bytes. */
#include "kernels/lif_regen.h"

void lt_lif_spikes_from_u(float *s, const float *u, float vth, const lt_lif_opts *o, size_t n)
{
    const int dsr = o->mode == LT_MODE_DSR;
    const float thr = dsr ? o->alpha * vth : vth;
    const float on = dsr ? vth : 1.0f;
    long i;
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (i = 0; i < (long)n; i++)
        s[i] = u[i] >= thr ? on : 0.0f;
}
