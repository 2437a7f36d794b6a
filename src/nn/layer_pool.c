/* layer_pool.c -- 2x2 average (AP2) or max (MP2) pooling, stride 2, on the
 * spikes; odd sizes floor, as PyTorch does. */
#include "nn/net.h"

static void pool_plan(lt_layer *l, const lt_net_config *cfg)
{
    l->out_c = l->in_c, l->out_h = l->in_h / 2, l->out_w = l->in_w / 2;
    l->n_slot = 0;
    l->needs_input = l->k.pool_max; /* max pooling routes the gradient by the input */
}

static void pool_init(lt_layer *l, const lt_net_config *cfg, lt_rng *rng) { (void)l; }

static void pool_forward(lt_layer *l, float *y, const float *x, int T, int b, int train)
{
    if (l->k.pool_max)
        lt_maxpool2_forward(y, x, T * b, l->in_c, l->in_h, l->in_w);
    else
        lt_avgpool2_forward(y, x, T * b, l->in_c, l->in_h, l->in_w);
}

static void pool_backward(lt_layer *l, float *dx, const float *dy, const float *x, int T, int b)
{
    if (!dx)
        return;
    if (l->k.pool_max)
        lt_maxpool2_backward(dx, dy, x, T * b, l->in_c, l->in_h, l->in_w);
    else
        lt_avgpool2_backward(dx, dy, T * b, l->in_c, l->in_h, l->in_w);
}

const lt_layer_kind lt_kind_pool = {"pool", pool_plan, pool_init, pool_forward, pool_backward, NULL};
