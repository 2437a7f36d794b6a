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
 * it reads x (lt_lif_forward_bn), and the output never exists.
 *
 * Sync BN (METHOD.md §11, l->comm->sync_bn): each process holds a part of
 * the batch; the statistics' sums (and in backward the sums of dy and
 * dy*(x - mean)) are added up across processes (l->comm->sum) between the
 * kernels' two halves, so every process normalises with the whole batch's
 * statistics.  The shared sums enter gamma's and beta's gradients on one
 * process only (comm->root): the gradient exchange adds the processes'
 * gradients up. */
#include "nn/net.h"
#include "quant/quant.h"

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

typedef struct bn_cfg {
    float td_alpha;         /* tdBN's alpha (1, or 1/sqrt(2) in a residual block's second half and shortcut) */
    lt_bn_affine aff;       /* the affine of the last forward (batch or running statistics) */
    double M;               /* values the last training forward's statistics ran over (every process's) */
} bn_cfg;

static lt_status bn_plan(lt_layer *l, const lt_net_config *cfg, lt_err *err)
{
    int C = l->in_c;
    l->out_c = C, l->out_h = l->in_h, l->out_w = l->in_w;
    l->n_slot = 4;
    /* --bn-affine off: gamma and beta stay at 1 and 0 (the optimiser holds them) */
    l->slot[0] = (lt_pslot){.suffix = "weight", .ndim = 1, .shape = {C}, .numel = (size_t)C,
                            .held = cfg->bn_fixed_affine};
    l->slot[1] = (lt_pslot){.suffix = "bias", .ndim = 1, .shape = {C}, .numel = (size_t)C,
                            .held = cfg->bn_fixed_affine};
    l->slot[2] = (lt_pslot){.suffix = "running_mean", .ndim = 1, .shape = {C}, .numel = (size_t)C, .buffer = 1};
    l->slot[3] = (lt_pslot){.suffix = "running_var", .ndim = 1, .shape = {C}, .numel = (size_t)C, .buffer = 1};
    l->saved_fixed[0] = (size_t)C; /* mean   [C] */
    l->saved_fixed[1] = (size_t)C; /* invstd [C] */
    /* [2C]: scale [C] of the affine a fused LIF applies; under tdBN also gamma' [C]
     * in forward and the gradient of gamma' [C] in backward */
    l->saved_fixed[2] = (size_t)C * (cfg->bn == LT_BN_TD ? 2 : 1);
    l->work_floats = 2 * (2 * (size_t)C + 1); /* sync BN: 2C + 1 doubles of sums to add up across processes */
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

/* Training statistics from every process's part of the batch: sums here,
 * added up across processes, then finished (and y written when not fused). */
static void bn_forward_sync(lt_layer *l, float *y, const float *x, const float *g, int N, int C, int HW)
{
    double *sum = (double *)(void *)l->work, *sq = sum + C;
    lt_bn_sums(sum, sq, x, N, C, HW);
    sum[2 * C] = (double)N * HW;
    l->comm->sum(l->comm->ctx, sum, 2 * (size_t)C + 1);
    LT_CFG(l, bn_cfg)->M = sum[2 * C];
    lt_bn_stats_from_sums(l->saved[0], l->saved[1], l->saved[2], l->p[2], l->p[3], sum, sq, sum[2 * C], g, C, BN_EPS,
                          BN_MOMENTUM);
    if (y)
        lt_bn_apply(y, x, l->saved[0], l->saved[2], l->p[1], N, C, HW);
}

static void bn_forward(lt_layer *l, float *y, const float *const *xs, int T, int b, int train)
{
    int N = T * b, C = l->in_c, HW = l->in_h * l->in_w;
    const float *x = xs[0], *g = gamma_eff(l);
    if (train && l->comm && l->comm->sync_bn)
        bn_forward_sync(l, y, x, g, N, C, HW);
    else if (train && y)
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

/* lt_bn_backward, or under sync BN its two halves around the sum across
 * processes (the shared sums go into dgamma, dbeta on the root only). */
static void bn_backward_any(lt_layer *l, float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                            const float *gamma, int N, int C, int HW)
{
    const lt_net_comm *cm = l->comm;
    if (!cm || !cm->sync_bn) {
        lt_bn_backward(dx, dgamma, dbeta, dy, x, l->saved[0], l->saved[1], gamma, N, C, HW);
        return;
    }
    double *sd = (double *)(void *)l->work, *sdx = sd + C;
    lt_bn_backward_sums(sd, sdx, dy, x, l->saved[0], N, C, HW);
    cm->sum(cm->ctx, sd, 2 * (size_t)C);
    lt_bn_backward_from_sums(dx, cm->root ? dgamma : NULL, cm->root ? dbeta : NULL, dy, x, l->saved[0], l->saved[1],
                             gamma, sd, sdx, LT_CFG(l, bn_cfg)->M, N, C, HW);
}

static void bn_backward(lt_layer *l, float *const *dx, const float *dy, const float *const *x, int T, int b)
{
    int N = T * b, C = l->in_c, HW = l->in_h * l->in_w;
    if (!l->linked) {
        bn_backward_any(l, dx[0], l->g[0], l->g[1], dy, x[0], l->p[0], N, C, HW);
        return;
    }
    /* tdBN: the kernel's dgamma is for gamma' = alpha*V*gamma; gamma' of the
     * forward is rebuilt (V has not moved since) over the scale, dead now */
    float k = td_factor(l), *ge = l->saved[2], *dge = l->saved[2] + C;
    for (int i = 0; i < C; i++)
        ge[i] = l->p[0][i] * k, dge[i] = 0.0f;
    bn_backward_any(l, dx[0], dge, l->g[1], dy, x[0], ge, N, C, HW);
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
