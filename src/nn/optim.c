/* optim.c -- Adam and SGD with momentum over the net's one parameter block
 * (METHOD.md §5), with an optional cosine schedule, a separate learning
 * rate for thresholds (the paper's Table 8), and for the thresholds alone
 * weight decay and plain SGD (issue 18's rows).  Frozen thresholds (mode
 * "fixed") have no gradient and are never touched; held parameters (BN's
 * gamma and beta under --bn-affine off) have one but are never touched
 * either: no step, no weight decay, no moment update. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"
#include "nn/optim.h"

void lt_optim_config_default(lt_optim_config *c)
{
    memset(c, 0, sizeof *c);
    c->kind = LT_OPT_ADAM;
    c->lr = 1e-3f;
    c->lr_vth = -1.0f;
    c->beta1 = 0.9f;
    c->beta2 = 0.999f;
    c->eps = 1e-8f;
    c->momentum = 0.9f;
}

lt_status lt_optim_create(lt_optim **out, lt_net *net, const lt_optim_config *c, lt_err *err)
{
    *out = NULL;
    if (!net->grads)
        return lt_err_set(err, LT_ERR_ARG, "optimiser needs a network planned for training");
    if (!(c->lr >= 0) || c->beta1 < 0 || c->beta1 >= 1 || c->beta2 < 0 || c->beta2 >= 1 || !(c->eps > 0))
        return lt_err_set(err, LT_ERR_ARG, "optimiser: lr must be >= 0, betas in [0, 1), eps > 0");
    lt_optim *o = calloc(1, sizeof *o);
    if (!o)
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory");
    o->cfg = *c;
    o->net = net;
    o->n = net->n_params;
    o->m = lt_calloc(o->n * sizeof(float));
    o->v = c->kind == LT_OPT_ADAM ? lt_calloc(o->n * sizeof(float)) : NULL;
    if (!o->m || (c->kind == LT_OPT_ADAM && !o->v)) {
        size_t mb = (o->n * sizeof(float) * (c->kind == LT_OPT_ADAM ? 2 : 1)) >> 20;
        lt_optim_free(o);
        return lt_err_set(err, LT_ERR_NOMEM, "cannot allocate the optimiser state (%zu MB)", mb);
    }
    *out = o;
    return LT_OK;
}

void lt_optim_free(lt_optim *o)
{
    if (!o)
        return;
    lt_free(o->m);
    lt_free(o->v);
    free(o);
}

/* cosine schedule: lr_t = lr * (1 + cos(pi * t / total)) / 2 */
static float schedule(const lt_optim *o)
{
    if (!o->cfg.cosine || o->cfg.total_steps <= 0)
        return 1.0f;
    double t = (double)o->step / (double)o->cfg.total_steps;
    if (t > 1)
        t = 1;
    return (float)(0.5 * (1.0 + cos(3.14159265358979323846 * t)));
}

float lt_optim_lr(const lt_optim *o) { return o->cfg.lr * schedule(o); }
long lt_optim_step_count(const lt_optim *o) { return o->step; }

/* A threshold stepped by plain SGD: p -= lr * (g + wd * p).  Adam's
 * normalised step moves a scalar whose gradient keeps one sign by about lr
 * at every step however weak the gradient (issue 18); this step is
 * proportional to it. */
static void update_sgd_plain(const lt_named *nm, float lr, float wd)
{
    for (size_t i = 0; i < nm->numel; i++)
        nm->data[i] -= lr * (nm->grad[i] + wd * nm->data[i]);
}

/* One tensor's update.  Adam as PyTorch computes it:
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps)
 * SGD: buf = mom*buf + g; p -= lr*buf.  Weight decay adds wd*p to g (L2). */
static void update(lt_optim *o, const lt_named *nm, float lr, float wd)
{
    const lt_optim_config *c = &o->cfg;
    size_t off = (size_t)(nm->data - o->net->params);
    float *p = nm->data, *g = nm->grad, *m = o->m + off;
    size_t n = nm->numel;
    if (c->kind == LT_OPT_ADAM) {
        float *v = o->v + off;
        double t = (double)o->step;
        float bc1 = (float)(1.0 - pow(c->beta1, t)), bc2s = (float)sqrt(1.0 - pow(c->beta2, t));
        float step = lr / bc1, b1 = c->beta1, b2 = c->beta2, eps = c->eps;
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] + wd * p[i];
            m[i] = b1 * m[i] + (1 - b1) * gi;
            v[i] = b2 * v[i] + (1 - b2) * gi * gi;
            p[i] -= step * m[i] / (sqrtf(v[i]) / bc2s + eps);
        }
    } else {
        float mom = c->momentum;
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] + wd * p[i];
            m[i] = mom * m[i] + gi;
            p[i] -= lr * m[i];
        }
    }
}

void lt_optim_step(lt_optim *o)
{
    float s = schedule(o); /* from the updates done before this one */
    o->step++;
    float lr = o->cfg.lr * s;
    float lr_vth = (o->cfg.lr_vth >= 0 ? o->cfg.lr_vth : o->cfg.lr) * s;
    for (int i = 0; i < o->net->n_named; i++) {
        const lt_named *nm = &o->net->named[i];
        if (!nm->grad || nm->held)
            continue; /* BN buffers, frozen thresholds, held BN affine */
        /* weight decay on conv/linear weights (not BN, biases), and on thresholds only when asked */
        int is_weight = nm->ndim >= 2;
        if (nm->is_vth && o->cfg.vth_sgd)
            update_sgd_plain(nm, lr_vth, o->cfg.wd_vth);
        else
            update(o, nm, nm->is_vth ? lr_vth : lr, nm->is_vth ? o->cfg.wd_vth : is_weight ? o->cfg.weight_decay : 0.0f);
    }
}
