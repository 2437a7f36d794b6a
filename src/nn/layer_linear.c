/* layer_linear.c -- FCn: flatten (C, H, W order, a no-op on contiguous
 * frames) then a linear layer with bias. */
#include <math.h>

#include "nn/net.h"

static void linear_plan(lt_layer *l, const lt_net_config *cfg)
{
    int in = (int)l->in_size, out = l->out_c; /* out_c set at append time */
    l->out_h = 1, l->out_w = 1;
    l->n_slot = 2;
    l->slot[0] = (lt_pslot){.suffix = "weight", .ndim = 2, .shape = {out, in}, .numel = (size_t)out * (size_t)in};
    l->slot[1] = (lt_pslot){.suffix = "bias", .ndim = 1, .shape = {out}, .numel = (size_t)out};
    l->needs_input = 1;
}

/* METHOD.md §3: PyTorch's Linear default, weight and bias uniform in +-1/sqrt(in). */
static void linear_init(lt_layer *l, const lt_net_config *cfg, lt_rng *rng)
{
    float bound = 1.0f / sqrtf((float)l->in_size);
    lt_init_uniform(l->p[0], l->slot[0].numel, bound, rng);
    lt_init_uniform(l->p[1], l->slot[1].numel, bound, rng);
}

static void linear_forward(lt_layer *l, float *y, const float *x, int T, int b, int train)
{
    lt_linear_forward(y, x, l->p[0], l->p[1], T * b, (int)l->in_size, l->out_c);
}

static void linear_backward(lt_layer *l, float *dx, const float *dy, const float *x, int T, int b)
{
    lt_linear_backward(dx, l->g[0], l->g[1], dy, x, l->p[0], T * b, (int)l->in_size, l->out_c);
}

const lt_layer_kind lt_kind_linear = {"linear", linear_plan, linear_init, linear_forward, linear_backward, NULL};
