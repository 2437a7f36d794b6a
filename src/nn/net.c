/* net.c -- build, plan, allocate and run a network graph (net.h).
 *
 * Building: each token's block appends layers through lt_net_add_layer,
 * which plans the layer's shape at once and makes its output tensor, so a
 * block sees the shapes it builds on.  A layer may read several tensors and
 * a tensor may be read by several layers (a residual block's input feeds
 * its first conv and its shortcut).
 *
 * Fusion: an AFFINE layer (BN) whose output only a NEURON (LIF) reads is
 * fused into it (except under keep_all): BN only takes its statistics, the
 * LIF applies the affine to BN's input as it reads it, and BN's output
 * never exists (the tensor is virtual).  In training such a LIF keeps
 * neither u nor spikes: its backward rebuilds u chunk by chunk into a
 * scratch value from the conv output (kept anyway for BN's backward).
 *
 * The memory plan works from lifetimes.  Every tensor value (forward
 * output, its rebuilt copy for backward, its gradient, a layer's saved
 * tensors and scratch, the temporaries of accumulated gradients) gets the
 * steps it is live in: forward of layer i is step i, the head step L,
 * backward of layer i is step 2L - i.  A tensor that some backward reads
 * lives until that backward, unless its producer is a neuron, which
 * rebuilds its spikes just before the first backward that reads them
 * (from u, or from the conv output under a fused BN).  Where a kernel may
 * work in place (the kind's flags) and the value it reads dies at that
 * step, the two share storage.  plan.c then packs everything into one
 * arena.  Gradients: the last consumer of a tensor (the first to run
 * backward) writes its gradient; every other consumer writes a temporary
 * that is added to it.  So backward uses up the forward's saved tensors
 * (gradients are written over them): run forward again before another
 * backward. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/net.h"

/* Size limits: a frame's values and the frame count fit an int (kernels use
 * int dimensions), and one activation tensor stays below 2^40 floats, so the
 * sums of block sizes cannot overflow size_t. */
#define LT_MAX_FRAME ((size_t)1 << 30)
#define LT_MAX_FRAMES ((size_t)1 << 24)
#define LT_MAX_ACT ((size_t)1 << 40)

void lt_init_uniform(float *w, size_t n, float bound, lt_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        w[i] = lt_rng_uniformf(rng, -bound, bound);
}

/* ---- building ---- */

static int add_tensor(lt_net *net, int c, int h, int w, int producer)
{
    if (net->n_tensors == net->cap_tensors) {
        int cap = net->cap_tensors ? 2 * net->cap_tensors : 32;
        lt_tensor *t = realloc(net->tensors, (size_t)cap * sizeof *t);
        if (!t)
            return -1;
        net->tensors = t, net->cap_tensors = cap;
    }
    lt_tensor *t = &net->tensors[net->n_tensors];
    memset(t, 0, sizeof *t);
    t->c = c, t->h = h, t->w = w;
    t->size = (size_t)c * (size_t)h * (size_t)w;
    t->producer = producer;
    t->grad_writer = -1;
    return net->n_tensors++;
}

/* "token 5 'R256s2' at position 23" */
static void token_where(const lt_net *net, int tok, char *buf, size_t len)
{
    char text[64] = "";
    const lt_token *t = &net->spec.tok[tok];
    lt_block_kinds[t->kind]->format(t, text, sizeof text);
    snprintf(buf, len, "model token %d '%s' at position %d", tok + 1, text, t->pos);
}

int lt_net_add_layer(lt_net *net, const lt_layer_kind *kind, int tok, const char *part, const int *in, int n_in,
                     const void *cfg, size_t cfg_len, lt_err *err)
{
    assert(n_in >= 1 && n_in <= LT_MAX_IN && cfg_len <= LT_LAYER_CFG);
    if (net->n_layers == net->cap_layers) {
        int cap = net->cap_layers ? 2 * net->cap_layers : 32;
        lt_layer *ls = realloc(net->layers, (size_t)cap * sizeof *ls);
        if (!ls) {
            lt_err_set(err, LT_ERR_NOMEM, "out of memory");
            return -1;
        }
        net->layers = ls, net->cap_layers = cap;
    }
    int idx = net->n_layers;
    lt_layer *l = &net->layers[idx];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->tok = tok;
    l->lif_index = -1;
    l->link = -1;
    snprintf(l->name, sizeof l->name, "blocks.%d.%s", tok, part);
    if (cfg_len)
        memcpy(l->cfg, cfg, cfg_len);
    l->n_in = n_in;
    for (int k = 0; k < n_in; k++) {
        const lt_tensor *x = &net->tensors[in[k]];
        assert(in[k] >= 0 && in[k] < net->n_tensors && x->n_cons < (int)(sizeof x->cons / sizeof x->cons[0]));
        l->in[k] = in[k];
        l->in_shape[k][0] = x->c, l->in_shape[k][1] = x->h, l->in_shape[k][2] = x->w;
    }
    l->in_c = l->in_shape[0][0], l->in_h = l->in_shape[0][1], l->in_w = l->in_shape[0][2];
    l->in_size = (size_t)l->in_c * (size_t)l->in_h * (size_t)l->in_w;
    char where[128];
    lt_status st = kind->plan(l, &net->cfg, err);
    if (st) {
        token_where(net, tok, where, sizeof where);
        lt_err_prefix(err, "%s (%s): ", where, l->name);
        return -1;
    }
    l->out_size = (size_t)l->out_c * (size_t)l->out_h * (size_t)l->out_w;
    /* kernels index a frame with int; every T*B*size product must stay far from overflow */
    if (l->out_size == 0 || l->out_size > LT_MAX_FRAME ||
        l->out_size * (size_t)net->cfg.T * (size_t)net->cfg.B > LT_MAX_ACT) {
        token_where(net, tok, where, sizeof where);
        lt_err_set(err, LT_ERR_SHAPE, "%s (%s): output %dx%dx%d x T=%d x batch %d is too large", where, l->name,
                   l->out_c, l->out_h, l->out_w, net->cfg.T, net->cfg.B);
        return -1;
    }
    if (kind->flags & LT_KF_NEURON) {
        int n = 0;
        for (int i = 0; i < idx; i++)
            n += net->layers[i].lif_index >= 0;
        l->lif_index = n;
    }
    int out = add_tensor(net, l->out_c, l->out_h, l->out_w, idx);
    if (out < 0) {
        lt_err_set(err, LT_ERR_NOMEM, "out of memory");
        return -1;
    }
    l = &net->layers[idx];
    l->out = out;
    for (int k = 0; k < n_in; k++) {
        lt_tensor *x = &net->tensors[in[k]];
        x->cons[x->n_cons++] = idx;
    }
    net->n_layers++;
    return idx;
}

/* An AFFINE layer read by one NEURON only: fused (see the file comment). */
static void fuse(lt_net *net)
{
    if (net->cfg.keep_all)
        return;
    for (int i = 0; i < net->n_layers; i++) {
        lt_layer *l = &net->layers[i];
        lt_tensor *t = &net->tensors[l->out];
        if (!(l->kind->flags & LT_KF_AFFINE) || t->n_cons != 1 || l->out == net->output)
            continue;
        lt_layer *n = &net->layers[t->cons[0]];
        if (!(n->kind->flags & LT_KF_NEURON))
            continue;
        l->fused = 1;
        t->virt = 1;
        n->affine = l;
    }
}

/* The tensor a layer physically reads for input k: a virtual tensor is
 * read through its fused affine's input. */
static int phys_in(const lt_net *net, const lt_layer *l, int k)
{
    const lt_tensor *t = &net->tensors[l->in[k]];
    return t->virt ? net->layers[t->producer].in[0] : l->in[k];
}

/* Backward reads this layer's input k (a fused neuron rebuilds u from it). */
static int reads_x_back(const lt_layer *l) { return (l->kind->flags & LT_KF_NEEDS_INPUT) || l->affine; }

/* ---- the memory plan ---- */

typedef struct plan {
    lt_value *v;
    int n, cap;
    int L;
    int *fwd, *reg, *grad;      /* per tensor: value index or -1 */
    int (*saved)[LT_MAX_SAVED]; /* per layer */
    int *bscr;
    int (*tmp)[LT_MAX_IN];
} plan;

static int val(plan *p, size_t size, int first, int last)
{
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 64;
        lt_value *v = realloc(p->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        p->v = v, p->cap = cap;
    }
    p->v[p->n] = (lt_value){.size = size, .first = first, .last = last, .group = p->n};
    return p->n++;
}

static int root(const plan *p, int i)
{
    while (p->v[i].group != i)
        i = p->v[i].group;
    return i;
}

static int group_last(const plan *p, int r)
{
    int last = -1;
    for (int i = 0; i < p->n; i++)
        if (root(p, i) == r && p->v[i].last > last)
            last = p->v[i].last;
    return last;
}

/* b joins a's storage when a's group is dead after `step` (its last use)
 * and b is born there, no larger; returns 1 if joined. */
static int join(plan *p, int a, int b, int step)
{
    if (a < 0 || b < 0)
        return 0;
    int ra = root(p, a), rb = root(p, b);
    if (ra == rb || group_last(p, ra) != step || p->v[b].first != step || p->v[b].size > p->v[ra].size ||
        group_last(p, rb) < step)
        return 0;
    for (int i = 0; i < p->n; i++)
        if (root(p, i) == rb && i != rb && p->v[i].first < step)
            return 0; /* b's group began earlier: it would overlap a */
    p->v[rb].group = ra;
    return 1;
}

static void plan_free(plan *p)
{
    free(p->v);
    free(p->fwd);
    free(p->reg);
    free(p->grad);
    free(p->saved);
    free(p->bscr);
    free(p->tmp);
}

/* Makes the values, joins the in-place pairs, packs.  Sets net->n_arena. */
static lt_status plan_memory(lt_net *net, plan *p, lt_err *err)
{
    const int L = net->n_layers, train = net->cfg.train, keep_all = net->cfg.keep_all;
    const size_t TB = (size_t)net->cfg.T * (size_t)net->cfg.B;
    const int nt = net->n_tensors;
    memset(p, 0, sizeof *p);
    p->L = L;
    p->fwd = malloc((size_t)nt * sizeof(int));
    p->reg = malloc((size_t)nt * sizeof(int));
    p->grad = malloc((size_t)nt * sizeof(int));
    p->saved = malloc((size_t)L * sizeof *p->saved);
    p->bscr = malloc((size_t)L * sizeof(int));
    p->tmp = malloc((size_t)L * sizeof *p->tmp);
    if (!p->fwd || !p->reg || !p->grad || !p->saved || !p->bscr || !p->tmp)
        goto nomem;
#define FWD(i) (i)
#define BWD(i) (2 * L - (i))
    /* physical readers of each tensor: first and last forward reader, first
     * and last backward reader (backward runs from the last layer down) */
    for (int t = 0; t < nt; t++) {
        lt_tensor *x = &net->tensors[t];
        p->fwd[t] = p->reg[t] = p->grad[t] = -1;
        x->regen = 0;
        x->grad_writer = x->n_cons ? x->cons[x->n_cons - 1] : -1;
        if (t == 0 || x->virt)
            continue; /* the network input is the caller's; a virtual tensor has no forward value */
        int last_f = FWD(x->producer), lo_b = -1, hi_b = -1; /* lowest / highest layer reading it backward */
        for (int i = 0; i < L; i++) {
            const lt_layer *l = &net->layers[i];
            for (int k = 0; k < l->n_in; k++) {
                if (phys_in(net, l, k) != t)
                    continue;
                if (FWD(i) > last_f)
                    last_f = FWD(i);
                if (train && reads_x_back(l)) {
                    if (lo_b < 0 || i < lo_b)
                        lo_b = i;
                    if (i > hi_b)
                        hi_b = i;
                }
            }
        }
        if (t == net->output && last_f < L)
            last_f = L; /* the head reads it */
        const lt_layer *pr = &net->layers[x->producer];
        x->regen = !keep_all && lo_b >= 0 && pr->kind->regen;
        int last = last_f;
        if (keep_all && train)
            last = 2 * L;
        else if (lo_b >= 0 && !x->regen)
            last = BWD(lo_b);
        if ((p->fwd[t] = val(p, TB * x->size, FWD(x->producer), last)) < 0)
            goto nomem;
        if (x->regen && (p->reg[t] = val(p, TB * x->size, BWD(hi_b), BWD(lo_b))) < 0)
            goto nomem;
    }
    for (int i = 0; i < L; i++) {
        lt_layer *l = &net->layers[i];
        for (int j = 0; j < LT_MAX_SAVED; j++) {
            p->saved[i][j] = -1;
            /* a fused neuron rebuilds its u (saved[0]) instead of keeping it */
            int skip = !l->saved_per_frame[j] || ((l->kind->flags & LT_KF_NEURON) && j == 0 && l->affine);
            if (train && !skip && (p->saved[i][j] = val(p, TB * l->saved_per_frame[j], FWD(i), BWD(i))) < 0)
                goto nomem;
        }
        p->bscr[i] = -1;
        if (train && l->affine && l->bscratch_per_frame &&
            (p->bscr[i] = val(p, TB * l->bscratch_per_frame, BWD(i), BWD(i))) < 0)
            goto nomem;
    }
    if (train) {
        for (int t = 1; t < nt; t++) {
            lt_tensor *x = &net->tensors[t];
            if (t == net->output || !x->n_cons)
                continue; /* the head's dO is the caller's */
            if ((p->grad[t] = val(p, TB * x->size, BWD(x->grad_writer), BWD(x->producer))) < 0)
                goto nomem;
        }
        for (int i = 0; i < L; i++) {
            const lt_layer *l = &net->layers[i];
            for (int k = 0; k < LT_MAX_IN; k++) {
                p->tmp[i][k] = -1;
                if (k >= l->n_in || l->in[k] == 0 || net->tensors[l->in[k]].grad_writer == i)
                    continue;
                if ((p->tmp[i][k] = val(p, TB * net->tensors[l->in[k]].size, BWD(i), BWD(i))) < 0)
                    goto nomem;
            }
        }
    }
    /* in place, where the kind allows it and what it reads dies there */
    if (!keep_all) {
        for (int i = 0; i < L; i++) {
            const lt_layer *l = &net->layers[i];
            int x0 = phys_in(net, l, 0), xv = x0 > 0 ? p->fwd[x0] : -1;
            if (train && (l->kind->flags & LT_KF_SAVED_OVER_X) && join(p, xv, p->saved[i][0], FWD(i)))
                continue;
            if ((l->kind->flags & LT_KF_OUT_OVER_X) && !l->fused)
                join(p, xv, p->fwd[l->out], FWD(i));
        }
        for (int i = L - 1; train && i >= 0; i--) {
            const lt_layer *l = &net->layers[i];
            int in0 = l->in[0];
            if (in0 == 0 || net->tensors[in0].grad_writer != i)
                continue;
            int dxv = p->grad[in0];
            if ((l->kind->flags & LT_KF_DX_OVER_DY) && join(p, p->grad[l->out], dxv, BWD(i)))
                continue;
            int x0 = phys_in(net, l, 0);
            if ((l->kind->flags & LT_KF_DX_OVER_X) && x0 > 0)
                join(p, p->reg[x0] >= 0 ? p->reg[x0] : p->fwd[x0], dxv, BWD(i));
        }
    }
#undef FWD
#undef BWD
    net->n_arena = p->n ? lt_plan_pack(p->v, p->n) : 0;
    if (p->n && !net->n_arena)
        goto nomem;
    return LT_OK;
nomem:
    return lt_err_set(err, LT_ERR_NOMEM, "out of memory while planning the network");
}

/* ---- create ---- */

static lt_status alloc_block(float **p, size_t n, int zero, const char *what, lt_err *err)
{
    size_t bytes;
    if (!n)
        n = 1; /* an empty block still gets a pointer */
    if (!lt_mul_ok(n, sizeof(float), &bytes) || !(*p = zero ? lt_calloc(bytes) : lt_alloc_big(bytes)))
        return lt_err_set(err, LT_ERR_NOMEM, "cannot allocate %zu MB for the network's %s",
                          (n * sizeof(float)) >> 20, what);
    return LT_OK;
}

static lt_status build(lt_net *net, lt_err *err)
{
    const lt_net_config *c = &net->cfg;
    if (add_tensor(net, c->in_c, c->in_h, c->in_w, -1) != 0)
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory");
    int x = 0;
    for (int i = 0; i < net->spec.n_tok; i++) {
        const lt_token *t = &net->spec.tok[i];
        lt_status st = lt_block_kinds[t->kind]->build(net, t, i, &x, err);
        if (st)
            return st;
    }
    net->output = x;
    net->K = (int)net->tensors[x].size;
    /* METHOD.md §7 quantises convolutions only: wbits on a net without one would change nothing */
    int quant = 0;
    for (int i = 0; i < net->n_layers; i++)
        quant |= (net->layers[i].kind->flags & LT_KF_QUANT) != 0;
    if (c->wbits && c->wbits != 32 && !quant)
        return lt_err_set(err, LT_ERR_ARG, "wbits %d: model %s has no convolution; SAWB quantises conv weights only "
                          "(METHOD.md §7, FC weights stay float32), so this would train a float32 model", c->wbits,
                          net->model);
    for (int i = 0; i < net->n_layers; i++)
        net->layers[i].linked = net->layers[i].link >= 0 ? &net->layers[net->layers[i].link] : NULL;
    return LT_OK;
}

/* parameter slots into the params / buffers blocks; named tensors */
static void count_params(lt_net *net)
{
    for (int i = 0; i < net->n_layers; i++) {
        lt_layer *l = &net->layers[i];
        for (int j = 0; j < l->n_slot; j++) {
            lt_pslot *s = &l->slot[j];
            if (s->buffer)
                s->off = net->n_buffers, net->n_buffers += s->numel;
            else
                s->off = net->n_params, net->n_params += s->numel;
            net->n_named++;
        }
        if (l->work_floats > net->n_work)
            net->n_work = l->work_floats;
        for (int j = 0; j < LT_MAX_SAVED; j++)
            net->n_fixed += l->saved_fixed[j];
    }
}

static void bind(lt_net *net, const plan *p)
{
    const int train = net->cfg.train;
    float *A = net->arena, *fixed = net->arena + net->n_arena;
    for (int t = 0; t < net->n_tensors; t++) {
        lt_tensor *x = &net->tensors[t];
        x->data = p->fwd[t] >= 0 ? A + p->v[p->fwd[t]].off : NULL;
        x->rdata = p->reg[t] >= 0 ? A + p->v[p->reg[t]].off : x->data;
        x->grad = p->grad[t] >= 0 ? A + p->v[p->grad[t]].off : NULL;
    }
    for (int i = 0; i < net->n_layers; i++) {
        lt_layer *l = &net->layers[i];
        for (int j = 0; j < LT_MAX_SAVED; j++) {
            if (l->saved_fixed[j]) {
                l->saved[j] = fixed;
                fixed += l->saved_fixed[j];
            } else {
                l->saved[j] = p->saved[i][j] >= 0 ? A + p->v[p->saved[i][j]].off : NULL;
            }
        }
        l->bscratch = p->bscr[i] >= 0 ? A + p->v[p->bscr[i]].off : NULL;
        for (int k = 0; k < LT_MAX_IN; k++)
            l->dtmp[k] = train && p->tmp[i][k] >= 0 ? A + p->v[p->tmp[i][k]].off : NULL;
        l->work = net->work;
        for (int j = 0; j < l->n_slot; j++) {
            lt_pslot *s = &l->slot[j];
            l->p[j] = (s->buffer ? net->buffers : net->params) + s->off;
            l->g[j] = (s->buffer || s->frozen || !train) ? NULL : net->grads + s->off;
            lt_named *nm = &net->named[net->n_named++];
            snprintf(nm->name, sizeof nm->name, "%s.%s", l->name, s->suffix);
            nm->data = l->p[j];
            nm->grad = l->g[j];
            nm->ndim = s->ndim;
            memcpy(nm->shape, s->shape, sizeof nm->shape);
            nm->numel = s->numel;
            nm->is_vth = s->vth;
            nm->is_buffer = s->buffer;
            nm->held = s->held;
        }
    }
    assert(fixed == net->arena + net->n_arena + net->n_fixed);
}

lt_status lt_net_create(lt_net **out, const lt_net_config *cfg, lt_err *err)
{
    *out = NULL;
    if (cfg->T < 1 || cfg->B < 1 || cfg->in_c < 1 || cfg->in_h < 1 || cfg->in_w < 1)
        return lt_err_set(err, LT_ERR_ARG, "network needs T >= 1, batch >= 1 and an input shape CxHxW (got T=%d "
                          "B=%d input %dx%dx%d)", cfg->T, cfg->B, cfg->in_c, cfg->in_h, cfg->in_w);
    size_t in_size = (size_t)cfg->in_c * (size_t)cfg->in_h * (size_t)cfg->in_w;
    if ((size_t)cfg->T * (size_t)cfg->B > LT_MAX_FRAMES || in_size > LT_MAX_FRAME ||
        in_size * (size_t)cfg->T * (size_t)cfg->B > LT_MAX_ACT)
        return lt_err_set(err, LT_ERR_ARG, "input %dx%dx%d with T=%d and batch %d is too large (at most %d frames "
                          "of %d values)", cfg->in_c, cfg->in_h, cfg->in_w, cfg->T, cfg->B, (int)LT_MAX_FRAMES,
                          (int)LT_MAX_FRAME);
    if (cfg->bn != LT_BN_STANDARD && cfg->bn != LT_BN_TD)
        return lt_err_set(err, LT_ERR_ARG, "network: bn must be standard or td");
    if (cfg->wbits != 0 && cfg->wbits != 32 && cfg->wbits != 4 && cfg->wbits != 8)
        return lt_err_set(err, LT_ERR_ARG, "network: wbits %d: SAWB is pinned for 4 and 8 bits (METHOD.md §7); 32 "
                          "means float32", cfg->wbits);
    lt_net *net = calloc(1, sizeof *net);
    if (!net)
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory");
    net->cfg = *cfg;
    plan p = {0};
    lt_status st = lt_model_parse(&net->spec, cfg->model, cfg->classes, err);
    if (st)
        goto fail;
    lt_model_format(&net->spec, net->model, sizeof net->model);
    net->cfg.model = net->model;
    if ((st = build(net, err)))
        goto fail;
    net->cfg.classes = net->K;
    fuse(net);
    count_params(net);
    if ((st = plan_memory(net, &p, err)))
        goto fail;
    if (cfg->max_memory) {
        lt_net_memory m;
        lt_net_memory_use(net, &m);
        size_t need = m.params + m.grads + m.buffers + m.arena + m.work;
        if (need > cfg->max_memory) {
            st = lt_err_set(err, LT_ERR_NOMEM, "model %s at T=%d, batch %d needs %.1f MiB for %s (activations %.1f, "
                            "parameters and gradients %.1f, scratch %.1f), more than the %.1f MiB allowed (the "
                            "memory available, or --max-memory)", net->model, cfg->T, cfg->B,
                            need / 1048576.0, cfg->train ? "training" : "inference", m.arena / 1048576.0,
                            (m.params + m.grads + m.buffers) / 1048576.0, m.work / 1048576.0,
                            cfg->max_memory / 1048576.0);
            goto fail;
        }
    }
    if (!cfg->plan_only) {
        /* parameters are all written by lt_net_init and the arena by the
         * layers before anyone reads it: only gradients start at zero */
        if ((st = alloc_block(&net->params, net->n_params, 0, "parameters", err)) ||
            (st = alloc_block(&net->buffers, net->n_buffers, 0, "BN statistics", err)) ||
            (st = alloc_block(&net->arena, net->n_arena + net->n_fixed, 0, "activations", err)) ||
            (st = alloc_block(&net->work, net->n_work, 0, "kernel scratch", err)))
            goto fail;
        if (cfg->train && (st = alloc_block(&net->grads, net->n_params, 1, "gradients", err)))
            goto fail;
    }
    int n_named = net->n_named;
    net->n_named = 0;
    if (!(net->named = calloc(n_named ? (size_t)n_named : 1, sizeof *net->named))) {
        st = lt_err_set(err, LT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!cfg->plan_only) {
        bind(net, &p);
        lt_net_init(net, 0);
    } else {
        /* names and shapes only (a planned net has no data) */
        for (int i = 0; i < net->n_layers; i++)
            for (int j = 0; j < net->layers[i].n_slot; j++) {
                const lt_pslot *s = &net->layers[i].slot[j];
                lt_named *nm = &net->named[net->n_named++];
                snprintf(nm->name, sizeof nm->name, "%s.%s", net->layers[i].name, s->suffix);
                nm->ndim = s->ndim;
                memcpy(nm->shape, s->shape, sizeof nm->shape);
                nm->numel = s->numel;
                nm->is_vth = s->vth;
                nm->is_buffer = s->buffer;
            nm->held = s->held;
            }
    }
    /* what is live at the turn from forward to backward (memory reports) */
    net->n_kept = 0;
    for (int i = 0; i < p.n; i++)
        if (p.v[i].first <= net->n_layers && p.v[i].last > net->n_layers)
            net->n_kept += p.v[i].size;
    plan_free(&p);
    *out = net;
    return LT_OK;
fail:
    plan_free(&p);
    lt_net_free(net);
    return st;
}

void lt_net_free(lt_net *net)
{
    if (!net)
        return;
    lt_free(net->params);
    lt_free(net->grads);
    lt_free(net->buffers);
    lt_free(net->arena);
    lt_free(net->work);
    free(net->named);
    for (int i = 0; net->layers && i < net->n_layers; i++)
        if (net->layers[i].kind->release)
            net->layers[i].kind->release(&net->layers[i]);
    free(net->layers);
    free(net->tensors);
    free(net);
}

void lt_net_init(lt_net *net, uint64_t seed)
{
    assert(!net->cfg.plan_only);
    lt_rng rng;
    lt_rng_seed(&rng, seed);
    for (int i = 0; i < net->n_layers; i++)
        net->layers[i].kind->init(&net->layers[i], &net->cfg, &rng);
}

/* ---- running ---- */

static const float *x_of(const lt_net *net, const lt_layer *l, int k, const float *x, int back)
{
    int t = phys_in(net, l, k);
    if (t == 0)
        return x;
    return back ? net->tensors[t].rdata : net->tensors[t].data;
}

const float *lt_net_forward(lt_net *net, const float *x, int b, int train)
{
    assert(!net->cfg.plan_only && b >= 1 && b <= net->cfg.B);
    assert(!train || net->cfg.train);
    const int T = net->cfg.T;
    net->last_x = x;
    net->last_b = b;
    net->last_train = train;
    for (int i = 0; i < net->n_layers; i++) {
        lt_layer *l = &net->layers[i];
        const float *xs[LT_MAX_IN];
        for (int k = 0; k < l->n_in; k++)
            xs[k] = x_of(net, l, k, x, 0);
        l->kind->forward(l, l->fused ? NULL : net->tensors[l->out].data, xs, T, b, train);
    }
    return net->tensors[net->output].data;
}

void lt_net_zero_grad(lt_net *net)
{
    if (net->grads)
        memset(net->grads, 0, net->n_params * sizeof(float));
}

static void add_into(float *restrict y, const float *restrict a, size_t n)
{
    long i;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (i = 0; i < (long)n; i++)
        y[i] += a[i];
}

void lt_net_set_comm(lt_net *net, const lt_net_comm *c)
{
    net->comm = c;
    for (int i = 0; i < net->n_layers; i++)
        net->layers[i].comm = c;
}

void lt_net_backward(lt_net *net, const float *dO)
{
    assert(net->cfg.train && net->last_train);
    const int T = net->cfg.T, b = net->last_b;
    size_t lo = net->n_params; /* the gradients from here on are final */
    for (int t = 0; t < net->n_tensors; t++)
        net->tensors[t].regen_done = 0;
    for (int i = net->n_layers - 1; i >= 0; i--) {
        lt_layer *l = &net->layers[i];
        const float *dy = l->out == net->output ? dO : net->tensors[l->out].grad;
        const float *xs[LT_MAX_IN];
        float *dx[LT_MAX_IN];
        for (int k = 0; k < l->n_in; k++) {
            int t = phys_in(net, l, k);
            lt_tensor *x = &net->tensors[t];
            /* spikes that were not kept: rebuilt before the first backward that reads them */
            if (x->regen && !x->regen_done && reads_x_back(l)) {
                lt_layer *pr = &net->layers[x->producer];
                pr->kind->regen(pr, x->rdata, x_of(net, pr, 0, net->last_x, 0), T, b);
                x->regen_done = 1;
            }
            xs[k] = x_of(net, l, k, net->last_x, 1);
            int lt = l->in[k];
            dx[k] = lt == 0 ? NULL : net->tensors[lt].grad_writer == i ? net->tensors[lt].grad : l->dtmp[k];
        }
        l->kind->backward(l, dx, dy, xs, T, b);
        for (int k = 0; k < l->n_in; k++)
            if (l->in[k] != 0 && net->tensors[l->in[k]].grad_writer != i)
                add_into(net->tensors[l->in[k]].grad, l->dtmp[k], (size_t)T * b * net->tensors[l->in[k]].size);
        /* data-parallel: this layer's parameter gradients are final, so is
         * every later layer's (METHOD.md §11: the exchange overlaps backward) */
        for (int j = 0; j < l->n_slot; j++)
            if (!l->slot[j].buffer && l->slot[j].off < lo)
                lo = l->slot[j].off;
        if (net->comm && net->comm->grads_ready)
            net->comm->grads_ready(net->comm->ctx, lo);
    }
}

/* ---- queries ---- */
int lt_net_n_lif(const lt_net *net)
{
    int n = 0;
    for (int i = 0; i < net->n_layers; i++)
        n += net->layers[i].lif_index >= 0;
    return n;
}

static const lt_layer *lif_layer(const lt_net *net, int k)
{
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].lif_index == k)
            return &net->layers[i];
    return NULL;
}

float lt_net_vth(const lt_net *net, int k)
{
    const lt_layer *l = lif_layer(net, k);
    return l && l->p[0] ? l->p[0][0] : 0.0f;
}

double lt_net_rate(const lt_net *net, int k)
{
    const lt_layer *l = lif_layer(net, k);
    return l ? l->stat : 0.0;
}

/* METHOD.md §4: Omega = mean over LIF layers of V (the caller treats it as a constant). */
float lt_net_omega(const lt_net *net)
{
    double s = 0;
    int n = 0;
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].lif_index >= 0 && net->layers[i].p[0])
            s += net->layers[i].p[0][0], n++;
    return n ? (float)(s / n) : 0.0f;
}

int lt_net_n_layers(const lt_net *net) { return net->n_layers; }

void lt_net_layer_info(const lt_net *net, int i, lt_layer_info *info)
{
    const lt_layer *l = &net->layers[i];
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", l->name);
    snprintf(info->kind, sizeof info->kind, "%s", l->kind->name);
    info->c = l->out_c, info->h = l->out_h, info->w = l->out_w;
    for (int j = 0; j < l->n_slot; j++)
        if (!l->slot[j].buffer)
            info->params += l->slot[j].numel;
    info->macs = l->kind->macs ? l->kind->macs(l) : 0;
}

size_t lt_net_params(const lt_net *net) { return net->n_params; }

size_t lt_net_macs(const lt_net *net)
{
    size_t m = 0;
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].kind->macs)
            m += net->layers[i].kind->macs(&net->layers[i]);
    return m;
}

size_t lt_net_weight_count(const lt_net *net)
{
    size_t n = 0;
    for (int i = 0; i < net->n_layers; i++)
        for (int j = 0; j < net->layers[i].n_slot; j++)
            if (net->layers[i].slot[j].weight)
                n += net->layers[i].slot[j].numel;
    return n;
}

void lt_net_memory_use(const lt_net *net, lt_net_memory *m)
{
    const size_t f = sizeof(float);
    m->params = net->n_params * f;
    m->grads = net->cfg.train ? net->n_params * f : 0;
    m->buffers = net->n_buffers * f;
    m->arena = (net->n_arena + net->n_fixed) * f;
    m->kept = net->n_kept * f;
    m->work = net->n_work * f;
}

void lt_net_expanded_model(const lt_net *net, char *buf, size_t len) { snprintf(buf, len, "%s", net->model); }
const lt_net_config *lt_net_cfg(const lt_net *net) { return &net->cfg; }
int lt_net_classes(const lt_net *net) { return net->K; }
int lt_net_n_named(const lt_net *net) { return net->n_named; }
const lt_named *lt_net_named(const lt_net *net, int i) { return &net->named[i]; }

const lt_named *lt_net_find(const lt_net *net, const char *name)
{
    for (int i = 0; i < net->n_named; i++)
        if (!strcmp(net->named[i].name, name))
            return &net->named[i];
    return NULL;
}
