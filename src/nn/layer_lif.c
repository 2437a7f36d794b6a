/* layer_lif.c -- multi-step LIF neurons with one learnable threshold per
 * layer (METHOD.md §1-2).
 *
 * In training a LIF saves its membrane u [T, M] (saved[0]) and nothing
 * else: its backward reads u, and the spikes the next layer's backward
 * reads are rebuilt from u (regen).  Fused to the BN before it (l->affine)
 * it saves nothing: it reads the BN's input x and applies the BN on the
 * fly; backward rebuilds u chunk by chunk from that x into its backward
 * scratch (bscratch), and regen makes the spikes again from x.  In
 * inference it keeps no u at all. */
#include "kernels/lif_regen.h"
#include "nn/net.h"
#include "quant/quant.h"

static lt_status lif_plan(lt_layer *l, const lt_net_config *cfg, lt_err *err)
{
    l->out_c = l->in_c, l->out_h = l->in_h, l->out_w = l->in_w;
    l->n_slot = 1;
    l->slot[0] = (lt_pslot){.suffix = "vth", .ndim = 1, .shape = {1}, .numel = 1,
                            .frozen = cfg->neuron.mode == LT_MODE_FIXED, .vth = 1};
    l->saved_per_frame[0] = l->in_size;  /* u: [T, B, C, H, W] membrane before reset (unfused) */
    l->bscratch_per_frame = l->in_size;  /* u rebuilt in backward (fused) */
    lt_lif_opts *o = LT_CFG(l, lt_lif_opts);
    const lt_neuron *n = &cfg->neuron;
    lt_lif_opts_default(o);
    o->lam = n->lam;
    o->g = n->g;
    o->alpha = n->alpha;
    o->mode = n->mode;
    o->window = n->window;
    o->soft_reset = n->soft_reset;
    o->detach_reset = n->detach_reset;
    return LT_OK;
}

static void lif_init(lt_layer *l, const lt_net_config *cfg, lt_rng *rng)
{
    l->p[0][0] = cfg->neuron.vth_init; /* METHOD.md §1: V starts at 1.0 */
}

static void lif_forward(lt_layer *l, float *y, const float *const *x, int T, int b, int train)
{
    size_t M = (size_t)b * l->in_size;
    const lt_lif_opts *o = LT_CFG(l, lt_lif_opts);
    float *u = train ? l->saved[0] : NULL; /* NULL when fused or in inference: not stored */
    if (l->affine)
        lt_lif_forward_bn(y, NULL, x[0], lt_bn_layer_affine(l->affine), l->p[0][0], o, T, M);
    else
        lt_lif_forward(y, u, x[0], l->p[0][0], o, T, M);
    /* firing rate for logs: fraction of non-zero outputs (DSR spikes are V, not 1) */
    size_t n = (size_t)T * M, nz = 0;
    for (size_t i = 0; i < n; i++)
        nz += y[i] != 0.0f;
    l->stat = n ? (double)nz / (double)n : 0.0;
}

static void lif_backward(lt_layer *l, float *const *dx, const float *dy, const float *const *x, int T, int b)
{
    size_t M = (size_t)b * l->in_size;
    const lt_lif_opts *o = LT_CFG(l, lt_lif_opts);
    if (l->affine)
        lt_lif_backward_bn(dx[0], l->g[0], dy, x[0], lt_bn_layer_affine(l->affine), l->p[0][0], o, T, M,
                           l->bscratch);
    else
        lt_lif_backward(dx[0], l->g[0], dy, l->saved[0], l->p[0][0], o, T, M);
}

/* The spikes of the last forward again: from u, or, fused, the kernel of
 * lif_forward on the same x and affine (the same bytes). */
static void lif_regen(lt_layer *l, float *y, const float *x, int T, int b)
{
    const lt_lif_opts *o = LT_CFG(l, lt_lif_opts);
    size_t M = (size_t)b * l->in_size;
    if (l->affine)
        lt_lif_forward_bn(y, NULL, x, lt_bn_layer_affine(l->affine), l->p[0][0], o, T, M);
    else
        lt_lif_spikes_from_u(y, l->saved[0], l->p[0][0], o, (size_t)T * M);
}

/* METHOD.md §10: a fixed-point neuron op */
static lt_status lif_qexport(lt_layer *l, struct lt_qx *qx, lt_err *err)
{
    return lt_qx_lif(qx, l, l->p[0] ? l->p[0][0] : 0.0f, LT_CFG(l, lt_lif_opts), err);
}

static const lt_layer_kind lt_kind_lif = {
    .name = "lif",
    .flags = LT_KF_NEURON | LT_KF_SAVED_OVER_X | LT_KF_OUT_OVER_X | LT_KF_DX_OVER_DY,
    .plan = lif_plan, .init = lif_init, .forward = lif_forward, .backward = lif_backward, .regen = lif_regen,
    .qexport = lif_qexport,
};

int lt_add_lif(lt_net *net, int tok, const char *part, int x, lt_err *err)
{
    int i = lt_net_add_layer(net, &lt_kind_lif, tok, part, &x, 1, NULL, 0, err);
    if (i < 0 || !net->cfg.first_vth_fixed || lt_net_layer(net, i)->lif_index != 0)
        return i;
    /* first_vth_fixed (the authors' released code): the first LIF is the fixed mode's neuron whatever the
     * net's mode, its V never stepped and no threshold gradient; its input gradient is the fixed mode's too */
    if (net->cfg.neuron.mode == LT_MODE_DSR) {
        lt_err_set(err, LT_ERR_ARG, "%s: a fixed first threshold is not defined for the dsr mode (its spikes are "
                   "V, not 1)", lt_net_layer(net, i)->name);
        return -1;
    }
    lt_layer *l = lt_net_layer(net, i);
    l->slot[0].frozen = 1;
    LT_CFG(l, lt_lif_opts)->mode = LT_MODE_FIXED;
    return i;
}
