/* layer_bn.c -- BatchNorm2d on the [T*B, C, H, W] view (METHOD.md §3):
 * batch statistics over T*B*H*W in training, running statistics in eval. */
#include "nn/net.h"

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

static void bn_plan(lt_layer *l, const lt_net_config *cfg)
{
    int C = l->in_c;
    l->out_c = C, l->out_h = l->in_h, l->out_w = l->in_w;
    l->n_slot = 4;
    l->slot[0] = (lt_pslot){.suffix = "weight", .ndim = 1, .shape = {C}, .numel = (size_t)C};
    l->slot[1] = (lt_pslot){.suffix = "bias", .ndim = 1, .shape = {C}, .numel = (size_t)C};
    l->slot[2] = (lt_pslot){.suffix = "running_mean", .ndim = 1, .shape = {C}, .numel = (size_t)C, .buffer = 1};
    l->slot[3] = (lt_pslot){.suffix = "running_var", .ndim = 1, .shape = {C}, .numel = (size_t)C, .buffer = 1};
    l->saved_fixed[0] = (size_t)C; /* mean   [C] */
    l->saved_fixed[1] = (size_t)C; /* invstd [C] */
    l->saved_fixed[2] = (size_t)C; /* scale  [C] of the affine a fused LIF applies */
    l->needs_input = 1;
}

static void bn_init(lt_layer *l, const lt_net_config *cfg, lt_rng *rng)
{
    for (size_t c = 0; c < l->slot[0].numel; c++) {
        l->p[0][c] = 1.0f; /* gamma */
        l->p[1][c] = 0.0f; /* beta */
        l->p[2][c] = 0.0f; /* running mean */
        l->p[3][c] = 1.0f; /* running var */
    }
}

/* Fused (l->fused, y NULL): only the statistics and the affine, which the
 * LIF after this layer applies as it reads x (lt_lif_forward_bn). */
static void bn_forward(lt_layer *l, float *y, const float *x, int T, int b, int train)
{
    int N = T * b, C = l->in_c, HW = l->in_h * l->in_w;
    if (train && y)
        lt_bn_forward_train(y, l->saved[0], l->saved[1], l->p[2], l->p[3], x, l->p[0], l->p[1], N, C, HW, BN_EPS,
                            BN_MOMENTUM);
    else if (train)
        lt_bn_stats_train(l->saved[0], l->saved[1], l->saved[2], l->p[2], l->p[3], x, l->p[0], N, C, HW, BN_EPS,
                          BN_MOMENTUM);
    else if (y)
        lt_bn_forward_eval(y, x, l->p[0], l->p[1], l->p[2], l->p[3], N, C, HW, BN_EPS);
    else
        lt_bn_eval_scale(l->saved[2], l->p[0], l->p[3], C, BN_EPS);
    l->k.aff = (lt_bn_affine){.mean = train ? l->saved[0] : l->p[2], .scale = l->saved[2], .beta = l->p[1],
                              .C = C, .HW = HW};
}

static void bn_backward(lt_layer *l, float *dx, const float *dy, const float *x, int T, int b)
{
    int N = T * b, C = l->in_c, HW = l->in_h * l->in_w;
    lt_bn_backward(dx, l->g[0], l->g[1], dy, x, l->saved[0], l->saved[1], l->p[0], N, C, HW);
}

const lt_layer_kind lt_kind_bn = {"bn", bn_plan, bn_init, bn_forward, bn_backward, NULL};
