/* layer_lif.c -- multi-step LIF neurons with one learnable threshold per
 * layer (METHOD.md §1-2).  Saves only the membrane u [T, M]: the spikes are
 * recomputed from it in backward, both for this layer's own gradient and,
 * through lt_lif_layer_regen, as the input the next layer's backward reads.
 * After a fused BN (l->bn) it saves nothing: it reads the BN's input x and
 * applies the BN on the fly, and backward rebuilds u (and, for the next
 * layer, the spikes) from that x; u goes into the spikes' buffer, which is
 * dead by then, and the net may hand it dx == dy. */
#include "kernels/lif_regen.h"
#include "nn/net.h"

static void lif_plan(lt_layer *l, const lt_net_config *cfg)
{
    l->out_c = l->in_c, l->out_h = l->in_h, l->out_w = l->in_w;
    l->n_slot = 1;
    l->slot[0] = (lt_pslot){.suffix = "vth", .ndim = 1, .shape = {1}, .numel = 1,
                            .frozen = l->k.lif.mode == LT_MODE_FIXED};
    l->saved_per_frame[0] = l->in_size; /* u: [T, B, C, H, W] membrane before reset */
    l->needs_input = 0;
}

static void lif_init(lt_layer *l, const lt_net_config *cfg, lt_rng *rng)
{
    l->p[0][0] = cfg->neuron.vth_init; /* METHOD.md §1: V starts at 1.0 */
}

static void lif_forward(lt_layer *l, float *y, const float *x, int T, int b, int train)
{
    size_t M = (size_t)b * l->in_size;
    if (l->bn)
        lt_lif_forward_bn(y, l->saved[0], x, &l->bn->k.aff, l->p[0][0], &l->k.lif, T, M);
    else
        lt_lif_forward(y, l->saved[0], x, l->p[0][0], &l->k.lif, T, M);
    /* firing rate for logs: fraction of non-zero outputs (DSR spikes are V, not 1) */
    size_t n = (size_t)T * M, nz = 0;
    for (size_t i = 0; i < n; i++)
        nz += y[i] != 0.0f;
    l->stat = n ? (double)nz / (double)n : 0.0;
}

static void lif_backward(lt_layer *l, float *dx, const float *dy, const float *x, int T, int b)
{
    size_t M = (size_t)b * l->in_size;
    if (l->bn)
        lt_lif_backward_bn(dx, l->g[0], dy, x, &l->bn->k.aff, l->p[0][0], &l->k.lif, T, M, l->out);
    else
        lt_lif_backward(dx, l->g[0], dy, l->saved[0], l->p[0][0], &l->k.lif, T, M);
}

void lt_lif_layer_regen(lt_layer *l, int T, int b)
{
    lt_lif_spikes_from_u(l->out, l->saved[0], l->p[0][0], &l->k.lif, (size_t)T * (size_t)b * l->in_size);
}

/* The kernel of lif_forward on the same x and affine: the same bytes. */
void lt_lif_layer_respike(lt_layer *l, const float *x, int T, int b)
{
    lt_lif_forward_bn(l->out, NULL, x, &l->bn->k.aff, l->p[0][0], &l->k.lif, T, (size_t)b * l->in_size);
}

const lt_layer_kind lt_kind_lif = {"lif", lif_plan, lif_init, lif_forward, lif_backward, NULL};
