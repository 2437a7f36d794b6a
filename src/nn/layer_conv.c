/* layer_conv.c -- 2-D convolution without bias, and the two blocks made of
 * convolutions: kCn (conv n x n, k filters, stride 1, pad n/2, then BN and
 * LIF) and kDW (MobileNet-v1: depthwise 3x3 + BN + LIF, pointwise 1x1 + BN
 * + LIF), METHOD.md §3.
 *
 * The kernel does the work: oneDNN primitives planned here for ordinary
 * convolutions (kernels/conv_dnnl.c, ~3x the GFLOP/s of im2col + OpenBLAS on
 * 2 cores), kernels/conv.c for depthwise ones and wherever oneDNN refuses a
 * shape. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/conv_dnnl.h"
#include "nn/net.h"
#include "quant/quant.h"

typedef struct conv_cfg {
    lt_conv_shape s;        /* geometry; s.N is set per call (T*b) */
    int depthwise;          /* groups = Cout = Cin, resolved at planning */
    int wbits;              /* 4 or 8: SAWB fake quantisation (METHOD.md §7); 0: float32 */
    float alpha;            /* SAWB's clipping level of the last forward (the backward's mask) */
} conv_cfg;

static lt_status conv_plan(lt_layer *l, const lt_net_config *cfg, lt_err *err)
{
    conv_cfg *c = LT_CFG(l, conv_cfg);
    lt_conv_shape *s = &c->s;
    if (c->depthwise)
        s->groups = l->in_c, s->Cout = l->in_c;
    s->N = cfg->T * cfg->B;
    s->Cin = l->in_c, s->H = l->in_h, s->W = l->in_w;
    if (!lt_conv_shape_fill(s))
        return lt_err_set(err, LT_ERR_SHAPE, "a %dx%d convolution with stride %d does not fit its %dx%dx%d input",
                          s->kh, s->kw, s->stride, l->in_c, l->in_h, l->in_w);
    size_t numel = (size_t)s->Cout * (size_t)(s->Cin / s->groups) * (size_t)(s->kh * s->kw);
    if (numel > (size_t)1 << 31) /* kernels index weights with int */
        return lt_err_set(err, LT_ERR_SHAPE, "a convolution from %d to %d channels (%dx%d) has %zu weights, too "
                          "large", s->Cin, s->Cout, s->kh, s->kw, numel);
    l->out_c = s->Cout, l->out_h = s->Ho, l->out_w = s->Wo;
    l->n_slot = 1;
    l->slot[0] = (lt_pslot){.suffix = "weight", .ndim = 4,
                            .shape = {s->Cout, s->Cin / s->groups, s->kh, s->kw},
                            .numel = (size_t)s->Cout * (size_t)(s->Cin / s->groups) * (size_t)(s->kh * s->kw),
                            .weight = 1};
    /* SAWB: w_q [Cout, Cin/groups, kh, kw] lives from forward to backward in
     * saved[0], and backward collects dL/dw_q in saved[1] before masking it
     * into the latent weight's gradient; both persistent, so nothing is
     * allocated in forward or backward */
    c->wbits = cfg->wbits == 32 ? 0 : cfg->wbits;
    if (c->wbits && !lt_sawb_bits_ok(c->wbits))
        return lt_err_set(err, LT_ERR_ARG, "wbits %d: SAWB is pinned for 4 and 8 bits (METHOD.md §7; 32 or 0 "
                          "is float32)", cfg->wbits);
    if (c->wbits) {
        l->saved_fixed[0] = l->slot[0].numel;
        l->saved_fixed[1] = cfg->train ? l->slot[0].numel : 0;
    }
    l->work_floats = lt_conv2d_work_floats(s);
    /* depthwise stays on conv.c's direct kernel: oneDNN 2.6's depthwise
     * training primitives were measured 4x slower on this net; a planned-only
     * net (ltsnn info) needs no primitive, only its scratch size */
    lt_dnnl_conv *d = s->groups == 1 ? lt_dnnl_conv_create(s, cfg->train) : NULL;
    if (d && lt_dnnl_conv_work_floats(d) > l->work_floats)
        l->work_floats = lt_dnnl_conv_work_floats(d);
    if (d && cfg->plan_only) {
        lt_dnnl_conv_free(d);
        d = NULL;
    }
    l->impl = d;
    return LT_OK;
}

static void conv_release(lt_layer *l)
{
    lt_dnnl_conv_free(l->impl);
    l->impl = NULL;
}

/* METHOD.md §3: PyTorch's default, uniform in +-1/sqrt(fan_in). */
static void conv_init(lt_layer *l, const lt_net_config *cfg, lt_rng *rng)
{
    const lt_conv_shape *s = &LT_CFG(l, conv_cfg)->s;
    float fan_in = (float)(s->Cin / s->groups * s->kh * s->kw);
    lt_init_uniform(l->p[0], l->slot[0].numel, 1.0f / sqrtf(fan_in), rng);
}

/* METHOD.md §7: under wbits the conv runs on w_q, made afresh from the
 * latent w at every forward, training and evaluation alike */
static void conv_forward(lt_layer *l, float *y, const float *const *x, int T, int b, int train)
{
    conv_cfg *c = LT_CFG(l, conv_cfg);
    lt_conv_shape s = c->s;
    s.N = T * b;
    const float *w = l->p[0];
    if (c->wbits) {
        lt_sawb_forward(l->saved[0], &c->alpha, l->p[0], l->slot[0].numel, c->wbits);
        w = l->saved[0];
    }
    if (l->impl)
        lt_dnnl_conv_forward(l->impl, y, x[0], w, &s, l->work);
    else
        lt_conv2d_forward(y, x[0], w, &s, l->work);
}

/* Under wbits the kernels differentiate through w_q into saved[1], and the
 * straight-through estimator passes that to w where |w| <= alpha (§7). */
static void conv_backward(lt_layer *l, float *const *dx, const float *dy, const float *const *x, int T, int b)
{
    conv_cfg *c = LT_CFG(l, conv_cfg);
    lt_conv_shape s = c->s;
    s.N = T * b;
    const float *w = c->wbits ? l->saved[0] : l->p[0];
    float *dw = l->g[0];
    if (c->wbits && dw) {
        dw = l->saved[1];
        memset(dw, 0, l->slot[0].numel * sizeof *dw);
    }
    if (l->impl)
        lt_dnnl_conv_backward(l->impl, dx[0], dw, dy, x[0], w, &s, l->work);
    else
        lt_conv2d_backward(dx[0], dw, dy, x[0], w, &s, l->work);
    if (c->wbits && l->g[0])
        lt_sawb_backward(l->g[0], dw, l->p[0], c->alpha, l->slot[0].numel);
}

/* METHOD.md §3: Cout * Cin/groups * kh * kw * Ho * Wo */
static size_t conv_macs(const lt_layer *l) { return l->slot[0].numel * (size_t)l->out_h * (size_t)l->out_w; }

/* kernel offsets along one axis through which input position i reaches an output: o*stride - pad + k = i */
static int conv_reach(int i, int k, int pad, int stride, int n_out)
{
    int r = 0;
    for (int j = 0; j < k; j++) {
        int d = i + pad - j;
        r += d >= 0 && d % stride == 0 && d / stride < n_out;
    }
    return r;
}

/* METHOD.md §10: every nonzero input value reaches Cout/groups outputs per
 * kernel offset that lands inside the output (fewer at the borders) */
static double conv_sops(const lt_layer *l, const float *x, int T, int b)
{
    const lt_conv_shape *s = &LT_CFG(l, conv_cfg)->s;
    const size_t HW = (size_t)s->H * (size_t)s->W, frames = (size_t)T * (size_t)b * (size_t)s->Cin;
    double total = 0;
    for (int y = 0; y < s->H; y++) {
        int fy = conv_reach(y, s->kh, s->pad, s->stride, s->Ho);
        for (int xx = 0; xx < s->W; xx++) {
            size_t nz = 0, at = (size_t)y * (size_t)s->W + (size_t)xx;
            for (size_t f = 0; f < frames; f++)
                nz += x[f * HW + at] != 0.0f;
            total += (double)nz * fy * conv_reach(xx, s->kw, s->pad, s->stride, s->Wo) * (s->Cout / s->groups);
        }
    }
    return total;
}

static lt_status conv_qexport(lt_layer *l, struct lt_qx *qx, lt_err *err)
{
    const conv_cfg *c = LT_CFG(l, conv_cfg);
    return lt_qx_conv(qx, l, &c->s, c->wbits, l->p[0], err);
}

static const lt_layer_kind lt_kind_conv = {
    .name = "conv", .flags = LT_KF_NEEDS_INPUT | LT_KF_QUANT, .plan = conv_plan, .init = conv_init, .forward = conv_forward,
    .backward = conv_backward, .macs = conv_macs, .sops = conv_sops, .qexport = conv_qexport, .release = conv_release,
};

int lt_add_conv(lt_net *net, int tok, const char *part, int x, int cout, int k, int stride, int depthwise,
                lt_err *err)
{
    conv_cfg c = {.s = {.Cout = cout, .kh = k, .kw = k, .stride = stride, .pad = k / 2, .groups = 1},
                  .depthwise = depthwise};
    return lt_net_add_layer(net, &lt_kind_conv, tok, part, &x, 1, &c, sizeof c, err);
}

/* "<prefix>conv", "<prefix>bn", "<prefix>lif" */
lt_status lt_add_conv_bn_lif(lt_net *net, int tok, const char *prefix, int *x, int cout, int k, int stride,
                             int depthwise, lt_err *err)
{
    char part[3][32];
    snprintf(part[0], sizeof part[0], "%sconv", prefix);
    snprintf(part[1], sizeof part[1], "%sbn", prefix);
    snprintf(part[2], sizeof part[2], "%slif", prefix);
    int c = lt_add_conv(net, tok, part[0], *x, cout, k, stride, depthwise, err);
    int bn = c < 0 ? -1 : lt_add_bn(net, tok, part[1], lt_net_out_of(net, c), 1.0f, err);
    int lif = bn < 0 ? -1 : lt_add_lif(net, tok, part[2], lt_net_out_of(net, bn), err);
    if (lif < 0)
        return err->status ? err->status : LT_ERR_SHAPE;
    lt_bn_set_neuron(net, bn, lif);
    *x = lt_net_out_of(net, lif);
    return LT_OK;
}

/* ---- kCn: conv n x n, k filters, stride 1, pad n/2, BN, LIF ---- */

/* leading decimal digits of s[0..len) */
static size_t digits(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && isdigit((unsigned char)s[i]))
        i++;
    return i;
}

/* A positive decimal number of at most 6 digits. */
int lt_token_number(const char *s, size_t len, int *out)
{
    if (len == 0 || len > 6 || digits(s, len) != len)
        return 0;
    int v = 0;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (s[i] - '0');
    if (v <= 0)
        return 0;
    *out = v;
    return 1;
}

static int conv_tok_parse(lt_token *t, const char *s, size_t len, size_t pos, lt_err *err)
{
    size_t i = digits(s, len);
    if (i == 0 || i == len || s[i] != 'C')
        return 0;
    if (!lt_token_number(s, i, &t->n)) {
        lt_err_set(err, LT_ERR_PARSE, "model string: token '%.*s' at position %zu: channel count must be 1 to "
                   "999999", (int)len, s, pos);
        return -1;
    }
    if (!lt_token_number(s + i + 1, len - i - 1, &t->k) || t->k > 31) {
        lt_err_set(err, LT_ERR_PARSE, "model string: token '%.*s' at position %zu: expected a kernel size 1..31 "
                   "after 'C' (e.g. 32C3)", (int)len, s, pos);
        return -1;
    }
    t->stride = 1;
    return 1;
}

static int conv_tok_format(const lt_token *t, char *buf, size_t len) { return snprintf(buf, len, "%dC%d", t->n, t->k); }

static lt_status conv_tok_build(lt_net *net, const lt_token *t, int i, int *x, lt_err *err)
{
    return lt_add_conv_bn_lif(net, i, "", x, t->n, t->k, 1, 0, err);
}

const lt_block_kind lt_block_conv = {
    .syntax = "kCn (e.g. 32C3)", .parse = conv_tok_parse, .format = conv_tok_format, .spikes = 1,
    .build = conv_tok_build,
};

/* ---- kDW: depthwise 3x3 + BN + LIF, pointwise 1x1 to k + BN + LIF ---- */

static int dw_tok_parse(lt_token *t, const char *s, size_t len, size_t pos, lt_err *err)
{
    size_t i = digits(s, len);
    if (i == 0 || len - i != 2 || s[i] != 'D' || s[i + 1] != 'W')
        return 0;
    if (!lt_token_number(s, i, &t->n)) {
        lt_err_set(err, LT_ERR_PARSE, "model string: token '%.*s' at position %zu: channel count must be 1 to "
                   "999999", (int)len, s, pos);
        return -1;
    }
    t->k = 3, t->stride = 1;
    return 1;
}

static int dw_tok_format(const lt_token *t, char *buf, size_t len) { return snprintf(buf, len, "%dDW", t->n); }

static lt_status dw_tok_build(lt_net *net, const lt_token *t, int i, int *x, lt_err *err)
{
    lt_status st = lt_add_conv_bn_lif(net, i, "dw.", x, 0, 3, 1, 1, err);
    return st ? st : lt_add_conv_bn_lif(net, i, "pw.", x, t->n, 1, 1, 0, err);
}

const lt_block_kind lt_block_dw = {
    .syntax = "kDW (e.g. 64DW)", .parse = dw_tok_parse, .format = dw_tok_format, .spikes = 1,
    .build = dw_tok_build,
};
