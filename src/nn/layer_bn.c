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

static void bn_forward(lt_layer *l, float *y, const float *x, int T, int b, int train)
{
    int N = T * b, C = l->in_c, HW = l->in_h * l->in_w;
    if (train)
        lt_bn_forward_train(y, l->saved[0], l->saved[1], l->p[2], l->p[3], x, l->p[0], l->p[1], N, C, HW, BN_EPS,
                            BN_MOMENTUM);
    else
        lt_bn_forward_eval(y, x, l->p[0], l->p[1], l->p[2], l->p[3], N, C, HW, BN_EPS);
}

static void bn_backward(lt_layer *l, float *dx, const float *dy, const float *x, int T, int b)
{
    int N = T * b, C = l->in_c, HW = l->in_h * l->in_w;
    lt_bn_backward(dx, l->g[0], l->g[1], dy, x, l->saved[0], l->saved[1], l->p[0], N, C, HW);
}

/* Batch statistics are recomputed from the same x in the same order, so mean,
 * invstd and y come out as the forward made them; the running statistics
 * (NULL here) moved once, in the forward. */
void lt_bn_layer_recompute(lt_layer *l, const float *x, int T, int b)
{
    int N = T * b, C = l->in_c, HW = l->in_h * l->in_w;
    lt_bn_forward_train(l->out, l->saved[0], l->saved[1], NULL, NULL, x, l->p[0], l->p[1], N, C, HW, BN_EPS,
                        BN_MOMENTUM);
}

const lt_layer_kind lt_kind_bn = {"bn", bn_plan, bn_init, bn_forward, bn_backward, NULL};
