/* layer_bn.c -- BatchNorm2d on the [T*B, C, H, W] view (METHOD.md §3):
 * batch statistics over T*B*H*W in training, running statistics in eval;
 * and its threshold-dependent form (tdBN, METHOD.md §8), which scales the
 * normalised value by alpha * V, V the threshold of the LIF it feeds.
 *
 * tdBN is BN with an effective gamma' = gamma * alpha * V (V read
 * through l->linked, the LIF): the forward
 * uses gamma', and since V is a constant to BN's backward, dL/dgamma =
 * alpha * V * dL/dgamma'.  Standard BN passes gamma itself (not gamma * 1),
 * so its floats are exactly those of before tdBN existed.
 *
 * When only a LIF reads its output the net fuses it (l->fused): forward
 * then only makes the statistics and the affine, which the LIF applies as
 * it reads x (lt_lif_forward_bn), and the output never exists. */
#include "nn/net.h"
#include "quant/quant.h"

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

typedef struct bn_cfg {
    float td_alpha;         /* tdBN's alpha (1, or 1/sqrt(2) in a residual block's second half and shortcut) */
    lt_bn_affine aff;       /* the affine of the last forward (batch or running statistics) */
} bn_cfg;

static lt_status bn_plan(lt_layer *l, const lt_net_config *cfg, lt_err *err)
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
    /* [2C]: scale [C] of the affine a fused LIF applies; under tdBN also gamma' [C]
     * in forward and the gradient of gamma' [C] in backward */
    l->saved_fixed[2] = (size_t)C * (cfg->bn == LT_BN_TD ? 2 : 1);
    return LT_OK;
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

/* tdBN's factor alpha * V (METHOD §8), 1 for standard BN */
static float td_factor(const lt_layer *l)
{
    return l->linked ? LT_CFG(l, bn_cfg)->td_alpha * l->linked->p[0][0] : 1.0f;
}

/* gamma' of this forward: gamma itself for standard BN */
static const float *gamma_eff(lt_layer *l)
{
    if (!l->linked)
        return l->p[0];
    float k = td_factor(l), *ge = l->saved[2] + l->in_c;
    for (int i = 0; i < l->in_c; i++)
        ge[i] = l->p[0][i] * k;
    return ge;
}

static void bn_forward(lt_layer *l, float *y, const float *const *xs, int T, int b, int train)
{
    int N = T * b, C = l->in_c, HW = l->in_h * l->in_w;
    const float *x = xs[0], *g = gamma_eff(l);
    if (train && y)
        lt_bn_forward_train(y, l->saved[0], l->saved[1], l->p[2], l->p[3], x, g, l->p[1], N, C, HW, BN_EPS,
                            BN_MOMENTUM);
    else if (train)
        lt_bn_stats_train(l->saved[0], l->saved[1], l->saved[2], l->p[2], l->p[3], x, g, N, C, HW, BN_EPS,
                          BN_MOMENTUM);
    else if (y)
        lt_bn_forward_eval(y, x, g, l->p[1], l->p[2], l->p[3], N, C, HW, BN_EPS);
    else
        lt_bn_eval_scale(l->saved[2], g, l->p[3], C, BN_EPS);
    LT_CFG(l, bn_cfg)->aff = (lt_bn_affine){.mean = train ? l->saved[0] : l->p[2], .scale = l->saved[2],
                                            .beta = l->p[1], .C = C, .HW = HW};
}

static void bn_backward(lt_layer *l, float *const *dx, const float *dy, const float *const *x, int T, int b)
{
    int N = T * b, C = l->in_c, HW = l->in_h * l->in_w;
    if (!l->linked) {
        lt_bn_backward(dx[0], l->g[0], l->g[1], dy, x[0], l->saved[0], l->saved[1], l->p[0], N, C, HW);
        return;
    }
    /* tdBN: the kernel's dgamma is for gamma' = alpha*V*gamma; gamma' of the
     * forward is rebuilt (V has not moved since) over the scale, dead now */
    float k = td_factor(l), *ge = l->saved[2], *dge = l->saved[2] + C;
    for (int i = 0; i < C; i++)
        ge[i] = l->p[0][i] * k, dge[i] = 0.0f;
    lt_bn_backward(dx[0], dge, l->g[1], dy, x[0], l->saved[0], l->saved[1], ge, N, C, HW);
    for (int i = 0; i < C; i++)
        l->g[0][i] += k * dge[i];
}

const lt_bn_affine *lt_bn_layer_affine(const lt_layer *bn) { return &LT_CFG(bn, bn_cfg)->aff; }

/* METHOD.md §10: the eval-mode affine folds into the neuron (tdBN's gamma' included) */
static lt_status bn_qexport(lt_layer *l, struct lt_qx *qx, lt_err *err)
{
    return lt_qx_bn(qx, l, l->p[0] ? gamma_eff(l) : NULL, l->p[1], l->p[2], l->p[3], BN_EPS, err);
}

static const lt_layer_kind lt_kind_bn = {
    .name = "bn", .flags = LT_KF_NEEDS_INPUT | LT_KF_OUT_OVER_X | LT_KF_DX_OVER_X | LT_KF_AFFINE, .plan = bn_plan,
    .init = bn_init, .forward = bn_forward, .backward = bn_backward, .qexport = bn_qexport,
};

int lt_add_bn(lt_net *net, int tok, const char *part, int x, float td_alpha, lt_err *err)
{
    bn_cfg c = {.td_alpha = td_alpha};
    return lt_net_add_layer(net, &lt_kind_bn, tok, part, &x, 1, &c, sizeof c, err);
}

void lt_bn_set_neuron(lt_net *net, int bn, int lif)
{
    if (net->cfg.bn == LT_BN_TD)
        lt_net_layer(net, bn)->link = lif;
}
