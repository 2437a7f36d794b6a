/* layer_gap.c -- GAP: global average pooling over H x W, on the spikes
 * (METHOD.md §3): [C, H, W] -> [C, 1, 1]. */
#include <stdio.h>
#include <string.h>

#include "nn/net.h"
#include "quant/quant.h"

static lt_status gap_plan(lt_layer *l, const lt_net_config *cfg, lt_err *err)
{
    l->out_c = l->in_c, l->out_h = 1, l->out_w = 1;
    return LT_OK;
}

static void gap_init(lt_layer *l, const lt_net_config *cfg, lt_rng *rng) { (void)l; }

static void gap_forward(lt_layer *l, float *y, const float *const *x, int T, int b, int train)
{
    lt_gap_forward(y, x[0], T * b, l->in_c, l->in_h * l->in_w);
}

static void gap_backward(lt_layer *l, float *const *dx, const float *dy, const float *const *x, int T, int b)
{
    if (dx[0])
        lt_gap_backward(dx[0], dy, T * b, l->in_c, l->in_h * l->in_w);
}

static lt_status gap_qexport(lt_layer *l, struct lt_qx *qx, lt_err *err) { return lt_qx_gap(qx, l, err); }

static const lt_layer_kind lt_kind_gap = {
    .name = "gap", .plan = gap_plan, .init = gap_init, .forward = gap_forward, .backward = gap_backward,
    .qexport = gap_qexport,
};

static int lt_add_gap(lt_net *net, int tok, const char *part, int x, lt_err *err)
{
    return lt_net_add_layer(net, &lt_kind_gap, tok, part, &x, 1, NULL, 0, err);
}

/* ---- GAP ---- */

static int gap_parse(lt_token *t, const char *s, size_t len, size_t pos, lt_err *err)
{
    if (len != 3 || strncmp(s, "GAP", 3))
        return 0;
    t->n = 0, t->k = 0, t->stride = 1;
    return 1;
}

static int gap_format(const lt_token *t, char *buf, size_t len) { return snprintf(buf, len, "GAP"); }

/* spikes to average: some block before it must make them */
static lt_status gap_check(const lt_model_spec *sp, int i, lt_err *err)
{
    for (int j = 0; j < i; j++)
        if (lt_block_kinds[sp->tok[j].kind]->spikes)
            return LT_OK;
    return lt_err_set(err, LT_ERR_PARSE, "model string: token %d 'GAP' at position %d: global average pooling "
                      "needs a convolution block (kCn, kDW, Rk) before it", i + 1, sp->tok[i].pos);
}

static lt_status gap_build(lt_net *net, const lt_token *t, int i, int *x, lt_err *err)
{
    int l = lt_add_gap(net, i, "gap", *x, err);
    return l < 0 ? err->status : (*x = lt_net_out_of(net, l), LT_OK);
}

const lt_block_kind lt_block_gap = {
    .syntax = "GAP", .parse = gap_parse, .format = gap_format, .check = gap_check, .build = gap_build,
};
