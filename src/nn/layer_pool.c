/* layer_pool.c -- 2x2 average (AP2) or max (MP2) pooling, stride 2, on the
 * spikes; odd sizes floor, as PyTorch does (METHOD.md §3). */
#include <stdio.h>
#include <string.h>

#include "nn/net.h"
#include "quant/quant.h"

static lt_status pool_plan(lt_layer *l, const lt_net_config *cfg, lt_err *err)
{
    if (l->in_h < 2 || l->in_w < 2)
        return lt_err_set(err, LT_ERR_SHAPE, "2x2 pooling needs at least 2x2 input, has %dx%d", l->in_h, l->in_w);
    l->out_c = l->in_c, l->out_h = l->in_h / 2, l->out_w = l->in_w / 2;
    return LT_OK;
}

static void pool_init(lt_layer *l, const lt_net_config *cfg, lt_rng *rng) { (void)l; }

static void avg_forward(lt_layer *l, float *y, const float *const *x, int T, int b, int train)
{
    lt_avgpool2_forward(y, x[0], T * b, l->in_c, l->in_h, l->in_w);
}

static void avg_backward(lt_layer *l, float *const *dx, const float *dy, const float *const *x, int T, int b)
{
    if (dx[0])
        lt_avgpool2_backward(dx[0], dy, T * b, l->in_c, l->in_h, l->in_w);
}

static void max_forward(lt_layer *l, float *y, const float *const *x, int T, int b, int train)
{
    lt_maxpool2_forward(y, x[0], T * b, l->in_c, l->in_h, l->in_w);
}

static void max_backward(lt_layer *l, float *const *dx, const float *dy, const float *const *x, int T, int b)
{
    if (dx[0])
        lt_maxpool2_backward(dx[0], dy, x[0], T * b, l->in_c, l->in_h, l->in_w);
}

/* METHOD.md §10: average pooling of spikes sums counts, max pooling keeps them */
static lt_status avg_qexport(lt_layer *l, struct lt_qx *qx, lt_err *err) { return lt_qx_pool(qx, l, 0, err); }
static lt_status max_qexport(lt_layer *l, struct lt_qx *qx, lt_err *err) { return lt_qx_pool(qx, l, 1, err); }

static const lt_layer_kind lt_kind_avgpool = {
    .name = "avgpool", .plan = pool_plan, .init = pool_init, .forward = avg_forward, .backward = avg_backward,
    .qexport = avg_qexport,
};
/* max pooling routes the gradient by its input */
static const lt_layer_kind lt_kind_maxpool = {
    .name = "maxpool", .flags = LT_KF_NEEDS_INPUT, .plan = pool_plan, .init = pool_init, .forward = max_forward,
    .backward = max_backward, .qexport = max_qexport,
};

int lt_add_pool(lt_net *net, int tok, const char *part, int x, int max, lt_err *err)
{
    return lt_net_add_layer(net, max ? &lt_kind_maxpool : &lt_kind_avgpool, tok, part, &x, 1, NULL, 0, err);
}

/* ---- AP2, MP2 ---- */

static int ap2_parse(lt_token *t, const char *s, size_t len, size_t pos, lt_err *err)
{
    if (len != 3 || strncmp(s, "AP2", 3))
        return 0;
    t->n = 0, t->k = 2, t->stride = 2;
    return 1;
}

static int mp2_parse(lt_token *t, const char *s, size_t len, size_t pos, lt_err *err)
{
    if (len != 3 || strncmp(s, "MP2", 3))
        return 0;
    t->n = 0, t->k = 2, t->stride = 2;
    return 1;
}

static int ap2_format(const lt_token *t, char *buf, size_t len) { return snprintf(buf, len, "AP2"); }
static int mp2_format(const lt_token *t, char *buf, size_t len) { return snprintf(buf, len, "MP2"); }

static lt_status ap2_build(lt_net *net, const lt_token *t, int i, int *x, lt_err *err)
{
    int l = lt_add_pool(net, i, "pool", *x, 0, err);
    return l < 0 ? err->status : (*x = lt_net_out_of(net, l), LT_OK);
}

static lt_status mp2_build(lt_net *net, const lt_token *t, int i, int *x, lt_err *err)
{
    int l = lt_add_pool(net, i, "pool", *x, 1, err);
    return l < 0 ? err->status : (*x = lt_net_out_of(net, l), LT_OK);
}

const lt_block_kind lt_block_ap2 = {.syntax = "AP2", .parse = ap2_parse, .format = ap2_format, .build = ap2_build};
const lt_block_kind lt_block_mp2 = {.syntax = "MP2", .parse = mp2_parse, .format = mp2_format, .build = mp2_build};
