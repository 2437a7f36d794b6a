/* layer_linear.c -- FCn: flatten (C, H, W order, a no-op on contiguous
 * frames) then a linear layer with bias, then a LIF, except for the last
 * FC, whose output O_t is the logits of step t (METHOD.md §3), and except
 * every FC under fc_analog (the authors' released code, METHOD.md §4's
 * note: their hidden FC layers do not spike). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/net.h"
#include "quant/quant.h"

typedef struct linear_cfg {
    int out;
} linear_cfg;

static lt_status linear_plan(lt_layer *l, const lt_net_config *cfg, lt_err *err)
{
    int out = LT_CFG(l, linear_cfg)->out;
    size_t in = l->in_size;
    if (in > (size_t)1 << 30 || (size_t)out * in > (size_t)1 << 40)
        return lt_err_set(err, LT_ERR_SHAPE, "a linear layer from %zu to %d values is too large", in, out);
    l->out_c = out, l->out_h = 1, l->out_w = 1;
    l->n_slot = 2;
    l->slot[0] = (lt_pslot){.suffix = "weight", .ndim = 2, .shape = {out, (int64_t)in}, .numel = (size_t)out * in,
                            .weight = 1};
    l->slot[1] = (lt_pslot){.suffix = "bias", .ndim = 1, .shape = {out}, .numel = (size_t)out};
    return LT_OK;
}

/* METHOD.md §3: PyTorch's Linear default, weight and bias uniform in +-1/sqrt(in). */
static void linear_init(lt_layer *l, const lt_net_config *cfg, lt_rng *rng)
{
    float bound = 1.0f / sqrtf((float)l->in_size);
    lt_init_uniform(l->p[0], l->slot[0].numel, bound, rng);
    lt_init_uniform(l->p[1], l->slot[1].numel, bound, rng);
}

static void linear_forward(lt_layer *l, float *y, const float *const *x, int T, int b, int train)
{
    lt_linear_forward(y, x[0], l->p[0], l->p[1], T * b, (int)l->in_size, l->out_c);
}

static void linear_backward(lt_layer *l, float *const *dx, const float *dy, const float *const *x, int T, int b)
{
    lt_linear_backward(dx[0], l->g[0], l->g[1], dy, x[0], l->p[0], T * b, (int)l->in_size, l->out_c);
}

static size_t linear_macs(const lt_layer *l) { return l->slot[0].numel; } /* in * out */

/* METHOD.md §10: every nonzero input reaches every output */
static double linear_sops(const lt_layer *l, const float *x, int T, int b)
{
    size_t n = (size_t)T * (size_t)b * l->in_size, nz = 0;
    for (size_t i = 0; i < n; i++)
        nz += x[i] != 0.0f;
    return (double)nz * (double)l->out_c;
}

static lt_status linear_qexport(lt_layer *l, struct lt_qx *qx, lt_err *err)
{
    return lt_qx_linear(qx, l, l->p[0], l->p[1], err);
}

static const lt_layer_kind lt_kind_linear = {
    .name = "linear", .flags = LT_KF_NEEDS_INPUT, .plan = linear_plan, .init = linear_init,
    .forward = linear_forward, .backward = linear_backward, .macs = linear_macs, .sops = linear_sops,
    .qexport = linear_qexport,
};

int lt_add_linear(lt_net *net, int tok, const char *part, int x, int out, lt_err *err)
{
    linear_cfg c = {.out = out};
    return lt_net_add_layer(net, &lt_kind_linear, tok, part, &x, 1, &c, sizeof c, err);
}

/* ---- FCn ---- */

static int fc_parse(lt_token *t, const char *s, size_t len, size_t pos, lt_err *err)
{
    if (len < 2 || strncmp(s, "FC", 2))
        return 0;
    if (!lt_token_number(s + 2, len - 2, &t->n)) {
        lt_err_set(err, LT_ERR_PARSE, "model string: token '%.*s' at position %zu: expected FC then a positive "
                   "number of outputs (e.g. FC10)", (int)len, s, pos);
        return -1;
    }
    t->k = 0, t->stride = 1;
    return 1;
}

static int fc_format(const lt_token *t, char *buf, size_t len) { return snprintf(buf, len, "FC%d", t->n); }

static lt_status fc_build(lt_net *net, const lt_token *t, int i, int *x, lt_err *err)
{
    int l = lt_add_linear(net, i, "fc", *x, t->n, err);
    if (l < 0)
        return err->status;
    *x = lt_net_out_of(net, l);
    if (i + 1 == net->spec.n_tok || net->cfg.fc_analog)
        return LT_OK; /* the logits, or an analog hidden FC */
    l = lt_add_lif(net, i, "lif", *x, err);
    if (l < 0)
        return err->status;
    *x = lt_net_out_of(net, l);
    return LT_OK;
}

const lt_block_kind lt_block_fc = {
    .syntax = "FCn (e.g. FC10)", .parse = fc_parse, .format = fc_format, .flattens = 1, .build = fc_build,
};
