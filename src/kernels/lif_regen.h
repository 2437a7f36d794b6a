/* lif_regen.h -- a LIF layer's spikes rebuilt from its saved membrane.
 *
 * The LIF forward (lif.c) saves u, the membrane before reset, and emits
 * s = a*H(u - thr) (a = 1, thr = V; under DSR a = V, thr = alpha*V).  The
 * same comparison on the saved u gives back s bit for bit, so the network
 * need not keep a spike tensor for the next layer's backward: it rebuilds it
 * there (METHOD.md §1). */
#ifndef LT_KERNELS_LIF_REGEN_H
#define LT_KERNELS_LIF_REGEN_H

#include "kernels/kernels.h"

/* s[n] = spikes of membranes u[n] under threshold vth and options o */
void lt_lif_spikes_from_u(float *s, const float *u, float vth, const lt_lif_opts *o, size_t n);

#endif
