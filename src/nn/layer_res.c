/* layer_res.c -- the residual basic block, Rk / Rks2 (METHOD.md §3), and the
 * layer kind it adds: the sum of two tensors.
 *
 * Rk at token i, input X with c channels:
 *     conv1 (3x3, k, stride s) - bn1 - lif1 - conv2 (3x3, k) - bn2 --+
 *     shortcut: X itself when c == k and s == 1, else 1x1 conv (k, stride s) - BN
 *     sum (bn2 + shortcut) -> lif (the block's output spikes)
 * Rks2 has s = 2: H and W become ceil(H/2), ceil(W/2).  Under tdBN (METHOD
 * §8) bn2 and short.bn scale by V of the block's own LIF times 1/sqrt(2).
 * Checkpoint names: blocks.{i}.conv1.weight, .bn1.*, .lif1.vth,
 * .conv2.weight, .bn2.*, .short.conv.weight, .short.bn.* (conv shortcut
 * only), .lif.vth.
 *
 * The block's input is read twice (conv1 and the shortcut): the net adds
 * the two gradients (net.c).  The sum may be written over bn2's output, and
 * the LIF's u over the sum, so the block keeps no more than a chain. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/net.h"
#include "quant/quant.h"

static lt_status sum_plan(lt_layer *l, const lt_net_config *cfg, lt_err *err)
{
    const int *a = l->in_shape[0], *b = l->in_shape[1];
    if (a[0] != b[0] || a[1] != b[1] || a[2] != b[2])
        return lt_err_set(err, LT_ERR_SHAPE, "cannot add a %dx%dx%d tensor to a %dx%dx%d one", a[0], a[1], a[2],
                          b[0], b[1], b[2]);
    l->out_c = a[0], l->out_h = a[1], l->out_w = a[2];
    return LT_OK;
}

static void sum_init(lt_layer *l, const lt_net_config *cfg, lt_rng *rng) { (void)l; }

/* y = a + b elementwise; y may be a (the net writes the sum over bn2's output) */
static void sum_forward(lt_layer *l, float *y, const float *const *x, int T, int b, int train)
{
    const float *xa = x[0], *xb = x[1];
    long n = (long)((size_t)T * b * l->in_size), i;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (i = 0; i < n; i++)
        y[i] = xa[i] + xb[i];
}

/* d(a + b) = dy for both; dx[0] may be dy itself (written in place) */
static void sum_backward(lt_layer *l, float *const *dx, const float *dy, const float *const *x, int T, int b)
{
    size_t n = (size_t)T * b * l->in_size;
    for (int k = 0; k < 2; k++)
        if (dx[k] && dx[k] != dy)
            memcpy(dx[k], dy, n * sizeof(float));
}

/* METHOD.md §10: the two branches meet in the neuron after the sum */
static lt_status sum_qexport(lt_layer *l, struct lt_qx *qx, lt_err *err) { return lt_qx_add(qx, l, err); }

static const lt_layer_kind lt_kind_add = {
    .name = "add", .flags = LT_KF_OUT_OVER_X | LT_KF_DX_OVER_DY, .plan = sum_plan, .init = sum_init,
    .forward = sum_forward, .backward = sum_backward, .qexport = sum_qexport,
};

static int lt_add_sum(lt_net *net, int tok, const char *part, int a, int b, lt_err *err)
{
    int in[2] = {a, b};
    return lt_net_add_layer(net, &lt_kind_add, tok, part, in, 2, NULL, 0, err);
}

/* ---- Rk, Rks2 ---- */

static int res_parse(lt_token *t, const char *s, size_t len, size_t pos, lt_err *err)
{
    if (len < 2 || s[0] != 'R' || !isdigit((unsigned char)s[1]))
        return 0;
    size_t i = 1;
    while (i < len && isdigit((unsigned char)s[i]))
        i++;
    int ok = lt_token_number(s + 1, i - 1, &t->n);
    t->stride = 1;
    if (i + 2 == len && s[i] == 's' && s[i + 1] == '2')
        t->stride = 2;
    else if (i != len)
        ok = 0;
    if (!ok) {
        lt_err_set(err, LT_ERR_PARSE, "model string: token '%.*s' at position %zu: expected R then a channel count "
                   "1 to 999999, optionally s2 for stride 2 (e.g. R128, R256s2)", (int)len, s, pos);
        return -1;
    }
    t->k = 3;
    return 1;
}

static int res_format(const lt_token *t, char *buf, size_t len)
{
    return snprintf(buf, len, "R%d%s", t->n, t->stride == 2 ? "s2" : "");
}

#define BUILD(expr)                        \
    do {                                   \
        if ((expr) < 0)                    \
            return err->status;            \
    } while (0)

static lt_status res_build(lt_net *net, const lt_token *t, int i, int *x, lt_err *err)
{
    const lt_tensor *in = lt_net_tensor(net, *x);
    const int X = *x, k = t->n, s = t->stride;
    if (s == 2 && (in->h < 2 || in->w < 2))
        return lt_err_set(err, LT_ERR_SHAPE, "model token %d 'R%ds2' at position %d: stride 2 needs at least a 2x2 "
                          "input, has %dx%d", i + 1, k, t->pos, in->h, in->w);
    const float a2 = (float)(1.0 / sqrt(2.0)); /* METHOD §8: bn2 and short.bn */
    int c1, b1, l1, c2, b2, sc = -1, sb = -1, sum, lif;
    BUILD(c1 = lt_add_conv(net, i, "conv1", X, k, 3, s, 0, err));
    BUILD(b1 = lt_add_bn(net, i, "bn1", lt_net_out_of(net, c1), 1.0f, err));
    BUILD(l1 = lt_add_lif(net, i, "lif1", lt_net_out_of(net, b1), err));
    BUILD(c2 = lt_add_conv(net, i, "conv2", lt_net_out_of(net, l1), k, 3, 1, 0, err));
    BUILD(b2 = lt_add_bn(net, i, "bn2", lt_net_out_of(net, c2), a2, err));
    int shortcut = X;
    if (lt_net_tensor(net, X)->c != k || s != 1) {
        BUILD(sc = lt_add_conv(net, i, "short.conv", X, k, 1, s, 0, err));
        BUILD(sb = lt_add_bn(net, i, "short.bn", lt_net_out_of(net, sc), a2, err));
        shortcut = lt_net_out_of(net, sb);
    }
    BUILD(sum = lt_add_sum(net, i, "sum", lt_net_out_of(net, b2), shortcut, err));
    BUILD(lif = lt_add_lif(net, i, "lif", lt_net_out_of(net, sum), err));
    lt_bn_set_neuron(net, b1, l1);
    lt_bn_set_neuron(net, b2, lif);
    if (sb >= 0)
        lt_bn_set_neuron(net, sb, lif);
    *x = lt_net_out_of(net, lif);
    return LT_OK;
}

const lt_block_kind lt_block_res = {
    .syntax = "Rk or Rks2 (e.g. R128, R256s2)", .parse = res_parse, .format = res_format, .spikes = 1,
    .build = res_build,
};
