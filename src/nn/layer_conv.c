/* layer_conv.c -- 2-D convolution without bias (kCn tokens, and both halves
 * of a kDW block).  Geometry is fixed when the layer is appended; the kernel
 * does the work: oneDNN primitives planned here for ordinary convolutions
 * (kernels/conv_dnnl.c, ~3x the GFLOP/s of im2col + OpenBLAS on 2 cores),
 * kernels/conv.c for depthwise ones and wherever oneDNN refuses a shape. */
#include <math.h>

#include "kernels/conv_dnnl.h"
#include "nn/net.h"

static void conv_plan(lt_layer *l, const lt_net_config *cfg)
{
    lt_conv_shape *s = &l->k.conv;
    s->N = cfg->T * cfg->B;
    s->Cin = l->in_c, s->H = l->in_h, s->W = l->in_w;
    int ok = lt_conv_shape_fill(s);
    (void)ok; /* validated by the net before planning */
    l->out_c = s->Cout, l->out_h = s->Ho, l->out_w = s->Wo;
    l->n_slot = 1;
    l->slot[0] = (lt_pslot){.suffix = "weight", .ndim = 4,
                            .shape = {s->Cout, s->Cin / s->groups, s->kh, s->kw},
                            .numel = (size_t)s->Cout * (size_t)(s->Cin / s->groups) * (size_t)(s->kh * s->kw)};
    l->work_floats = lt_conv2d_work_floats(s);
    l->needs_input = 1;
    /* depthwise stays on conv.c's direct kernel: oneDNN 2.6's depthwise
     * training primitives were measured 4x slower on this net */
    lt_dnnl_conv *d = s->groups == 1 ? lt_dnnl_conv_create(s, cfg->train) : NULL;
    if (d && lt_dnnl_conv_work_floats(d) > l->work_floats)
        l->work_floats = lt_dnnl_conv_work_floats(d);
    l->impl = d;
}

static void conv_release(lt_layer *l)
{
    lt_dnnl_conv_free(l->impl);
    l->impl = NULL;
}

/* METHOD.md §3: PyTorch's default, uniform in +-1/sqrt(fan_in). */
static void conv_init(lt_layer *l, const lt_net_config *cfg, lt_rng *rng)
{
    const lt_conv_shape *s = &l->k.conv;
    float fan_in = (float)(s->Cin / s->groups * s->kh * s->kw);
    lt_init_uniform(l->p[0], l->slot[0].numel, 1.0f / sqrtf(fan_in), rng);
}

static void conv_forward(lt_layer *l, float *y, const float *x, int T, int b, int train)
{
    lt_conv_shape s = l->k.conv;
    s.N = T * b;
    if (l->impl)
        lt_dnnl_conv_forward(l->impl, y, x, l->p[0], &s, l->work);
    else
        lt_conv2d_forward(y, x, l->p[0], &s, l->work);
}

static void conv_backward(lt_layer *l, float *dx, const float *dy, const float *x, int T, int b)
{
    lt_conv_shape s = l->k.conv;
    s.N = T * b;
    if (l->impl)
        lt_dnnl_conv_backward(l->impl, dx, l->g[0], dy, x, l->p[0], &s, l->work);
    else
        lt_conv2d_backward(dx, l->g[0], dy, x, l->p[0], &s, l->work);
}

const lt_layer_kind lt_kind_conv = {"conv", conv_plan, conv_init, conv_forward, conv_backward, conv_release};
