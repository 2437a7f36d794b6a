/* net.c -- plan, allocate and run a network built from a model string.
 *
 * Planning (lt_net_create): tokens -> layers -> each layer's output shape,
 * parameter slots and saved tensors -> one block each for parameters,
 * gradients, BN buffers, activations, activation gradients and kernel
 * scratch.  Forward and backward then only walk the layer array.
 *
 * Activation memory: a layer's output is kept only when the next layer's
 * backward reads its input (conv, BN, linear, max-pool do; LIF and
 * average-pool do not).  Other outputs live in two ping-pong scratch buffers,
 * each as large as the largest output placed in it.  A BN followed by a LIF
 * is fused (except under keep_all): the BN only takes its statistics, and the
 * LIF reads the BN's input (the conv output, kept anyway for BN's backward)
 * and applies the BN affine as it goes (lt_lif_forward_bn), so the BN output
 * never exists.  Under training that LIF keeps neither u nor spikes: its
 * backward rebuilds u chunk by chunk (lt_lif_backward_bn) into its spike
 * buffer, dead by then, and the spikes the next layer's backward reads are
 * made again from the conv output just before that backward.  A
 * conv-BN-LIF block thus keeps one tensor.
 * Gradients: backward writes each layer's dx into one of two buffers, the one
 * its dy is not in, except that a fused LIF writes dx over its dy (its u
 * rebuilt into its dead spike buffer) and a fused BN writes dx over its own
 * input, the kept conv output, which nothing reads after BN's backward; the
 * conv below reads its dy from there; a layer after an average pooling of
 * a fused LIF writes its dx into that LIF's spike buffer (borrows).  So
 * backward consumes the forward's
 * saved tensors (run forward again before another backward), and between
 * two BNs the gradients need one buffer where they used to need two
 * (plan_grads sizes each buffer by what is placed in it).
 * Other LIF layers keep u and rebuild their spikes from it (regen); in an
 * inference net they write u over their input. */
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

static lt_layer *append(lt_net *net, const lt_layer_kind *kind, int tok, const char *fmt, const char *part)
{
    lt_layer *l = &net->layers[net->n_layers++];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->tok = tok;
    l->lif_index = -1;
    snprintf(l->name, sizeof l->name, fmt, tok, part);
    return l;
}

static void set_lif(lt_layer *l, const lt_neuron *n)
{
    lt_lif_opts *o = &l->k.lif;
    lt_lif_opts_default(o);
    o->lam = n->lam;
    o->g = n->g;
    o->alpha = n->alpha;
    o->mode = (lt_vth_mode)n->mode;
    o->window = (lt_window)n->window;
    o->soft_reset = n->soft_reset;
    o->detach_reset = n->detach_reset;
}

static void set_conv(lt_layer *l, int cout, int k, int groups_dw)
{
    l->k.conv = (lt_conv_shape){.Cout = cout, .kh = k, .kw = k, .stride = 1, .pad = k / 2, .groups = 1};
    if (groups_dw)
        l->k.conv.groups = -1; /* resolved to Cin at planning */
}

/* tokens -> layer list (not yet planned) */
static void build_layers(lt_net *net)
{
    const lt_model_spec *sp = &net->spec;
    const lt_neuron *nr = &net->cfg.neuron;
    for (int i = 0; i < sp->n_tok; i++) {
        const lt_token *t = &sp->tok[i];
        lt_layer *l;
        switch (t->kind) {
        case LT_TOK_CONV:
            set_conv(append(net, &lt_kind_conv, i, "blocks.%d.%s", "conv"), t->n, t->k, 0);
            append(net, &lt_kind_bn, i, "blocks.%d.%s", "bn");
            set_lif(append(net, &lt_kind_lif, i, "blocks.%d.%s", "lif"), nr);
            break;
        case LT_TOK_DW:
            set_conv(append(net, &lt_kind_conv, i, "blocks.%d.%s", "dw.conv"), 0, 3, 1);
            append(net, &lt_kind_bn, i, "blocks.%d.%s", "dw.bn");
            set_lif(append(net, &lt_kind_lif, i, "blocks.%d.%s", "dw.lif"), nr);
            set_conv(append(net, &lt_kind_conv, i, "blocks.%d.%s", "pw.conv"), t->n, 1, 0);
            append(net, &lt_kind_bn, i, "blocks.%d.%s", "pw.bn");
            set_lif(append(net, &lt_kind_lif, i, "blocks.%d.%s", "pw.lif"), nr);
            break;
        case LT_TOK_AP2:
        case LT_TOK_MP2:
            l = append(net, &lt_kind_pool, i, "blocks.%d.%s", "pool");
            l->k.pool_max = t->kind == LT_TOK_MP2;
            break;
        case LT_TOK_FC:
            l = append(net, &lt_kind_linear, i, "blocks.%d.%s", "fc");
            l->out_c = t->n;
            if (i + 1 < sp->n_tok)
                set_lif(append(net, &lt_kind_lif, i, "blocks.%d.%s", "lif"), nr);
            break;
        }
    }
}

static int count_layers(const lt_model_spec *sp)
{
    int n = 0;
    for (int i = 0; i < sp->n_tok; i++) {
        switch (sp->tok[i].kind) {
        case LT_TOK_CONV: n += 3; break;
        case LT_TOK_DW: n += 6; break;
        case LT_TOK_AP2:
        case LT_TOK_MP2: n += 1; break;
        case LT_TOK_FC: n += i + 1 < sp->n_tok ? 2 : 1; break;
        }
    }
    return n;
}

/* shapes; refuses a model that does not fit its input */
static lt_status plan_shapes(lt_net *net, lt_err *err)
{
    int c = net->cfg.in_c, h = net->cfg.in_h, w = net->cfg.in_w, n_lif = 0;
    for (int i = 0; i < net->n_layers; i++) {
        lt_layer *l = &net->layers[i];
        l->in_c = c, l->in_h = h, l->in_w = w;
        l->in_size = (size_t)c * (size_t)h * (size_t)w;
        l->is_first = i == 0;
        if (l->kind == &lt_kind_conv) {
            if (l->k.conv.groups == -1) /* depthwise */
                l->k.conv.groups = c, l->k.conv.Cout = c;
            lt_conv_shape s = l->k.conv;
            s.N = 1, s.Cin = c, s.H = h, s.W = w;
            if (!lt_conv_shape_fill(&s))
                return lt_err_set(err, LT_ERR_SHAPE, "model token %d (%s): a %dx%d convolution does not fit its "
                                  "%dx%dx%d input", l->tok + 1, l->name, s.kh, s.kw, c, h, w);
        }
        if (l->kind == &lt_kind_pool && (h < 2 || w < 2))
            return lt_err_set(err, LT_ERR_SHAPE, "model token %d (%s): 2x2 pooling needs at least 2x2 input, has "
                              "%dx%d", l->tok + 1, l->name, h, w);
        if (l->kind == &lt_kind_lif)
            l->lif_index = n_lif++;
        l->kind->plan(l, &net->cfg);
        c = l->out_c, h = l->out_h, w = l->out_w;
        l->out_size = (size_t)c * (size_t)h * (size_t)w;
        /* kernels index a frame with int; every T*B*size product must stay far from overflow */
        if (l->out_size > LT_MAX_FRAME || l->out_size * (size_t)net->cfg.T * (size_t)net->cfg.B > LT_MAX_ACT)
            return lt_err_set(err, LT_ERR_SHAPE, "model token %d (%s): output %dx%dx%d x T=%d x batch %d is too "
                              "large", l->tok + 1, l->name, c, h, w, net->cfg.T, net->cfg.B);
    }
    return LT_OK;
}

/* The layer whose output layer i reads: i-1, or i-2 past a fused BN (which
 * has no output); -1 for the network input. */
static int source_of(const lt_net *net, int i)
{
    int j = i - 1;
    if (j >= 0 && net->layers[j].fused)
        j--;
    return j;
}

/* The tensor layer i reads (the network input for the first layer). */
static const float *input_of(const lt_net *net, int i)
{
    int src = source_of(net, i);
    return src < 0 ? net->last_x : net->layers[src].out;
}

#define LT_KEPT 2
#define LT_NOWHERE (-1)

/* Where layer i's output lives: LT_KEPT (its own block: the logits, or an
 * input some backward reads and cannot rebuild), ping-pong 0 or 1 (the one
 * its input is not in), or LT_NOWHERE (a fused BN).  Depends only on
 * earlier layers, so planning and binding agree. */
static int placement(const lt_net *net, int i)
{
    const lt_layer *l = &net->layers[i];
    if (l->fused)
        return LT_NOWHERE;
    if (i == net->n_layers - 1 ||
        (net->cfg.train && net->layers[i + 1].needs_input && !l->regen && !l->bn))
        return LT_KEPT;
    int src = source_of(net, i);
    return src >= 0 && placement(net, src) == 0 ? 1 : 0;
}

#define LT_DX_BORROW (-2) /* l->dbuf: dx into the spike buffer of layers[i-2] (borrows) */

/* Layer i reads an average pooling of a fused LIF's spikes: its dx (the
 * pooling's dy) can go into that LIF's spike buffer, which is free then
 * (average pooling's backward does not read the spikes, nobody rebuilds
 * them) and which the LIF's own backward next uses for u, after the
 * pooling has read its dy from it.  The buffer is 4x larger than needed. */
static int borrows(const lt_net *net, int i)
{
    if (i < 2)
        return 0;
    const lt_layer *p = &net->layers[i - 1], *f = &net->layers[i - 2];
    return p->kind == &lt_kind_pool && !p->needs_input && f->bn && f->out_size >= net->layers[i].in_size;
}

/* Gradient plan, one stretch of layers from i down: layer j's dx goes to
 * the buffer its dy is not in; a fused LIF writes dx over its dy; a fused
 * BN writes dx over its own input (the kept conv output, dead once BN's
 * backward has read it), which ends the stretch: the layer below it finds
 * its dy outside the buffers and may start on either; so does a layer
 * that borrows.  par picks that first buffer.  Grows size[] (floats); with
 * apply, sets each l->dbuf.
 * Returns where the next stretch starts, with *loc where its dy lives. */
static int grad_stretch(lt_net *net, size_t TB, int i, int *loc, int par, size_t size[2], int apply)
{
    int at = *loc; /* -1: dy outside the buffers (dO, or a kept tensor) */
    for (; i >= 1; i--) {
        lt_layer *l = &net->layers[i];
        size_t need = TB * l->in_size;
        int k = at >= 0 ? !at : par;
        if (borrows(net, i)) {
            at = -1, i--;
            if (apply)
                l->dbuf = LT_DX_BORROW;
            break;
        }
        if (l->fused) {
            k = -1, at = -1, i--;
            if (apply)
                l->dbuf = k;
            break;
        }
        if (l->bn && at >= 0)
            k = at; /* in place */
        if (need > size[k])
            size[k] = need;
        if (apply)
            l->dbuf = l->bn && at >= 0 ? -1 : k;
        at = k;
    }
    *loc = at;
    return i;
}

/* Every layer's l->dbuf and the two gradient buffers' sizes: per stretch,
 * the starting buffer that adds less memory, so the large gradients of a
 * stretch share one buffer where they can. */
static void plan_grads(lt_net *net, size_t TB, size_t size[2])
{
    int i = net->n_layers - 1, loc = -1;
    size[0] = size[1] = 0;
    net->layers[0].dbuf = -1;
    while (i >= 1) {
        size_t s0[2] = {size[0], size[1]}, s1[2] = {size[0], size[1]};
        int l0 = loc, l1 = loc;
        grad_stretch(net, TB, i, &l0, 0, s0, 0);
        grad_stretch(net, TB, i, &l1, 1, s1, 0);
        i = grad_stretch(net, TB, i, &loc, s1[0] + s1[1] < s0[0] + s0[1], size, 1);
    }
}

static lt_status alloc_block(float **p, size_t n, const char *what, lt_err *err)
{
    size_t bytes;
    if (!n)
        n = 1; /* an empty block (a net with no second gradient buffer) still gets a pointer */
    if (!lt_mul_ok(n, sizeof(float), &bytes) || !(*p = lt_calloc(bytes)))
        return lt_err_set(err, LT_ERR_NOMEM, "cannot allocate %zu MB for the network's %s",
                          (n * sizeof(float)) >> 20, what);
    return LT_OK;
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
    lt_net *net = calloc(1, sizeof *net);
    if (!net)
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory");
    net->cfg = *cfg;
    lt_status st = lt_model_parse(&net->spec, cfg->model, cfg->classes, err);
    if (st)
        goto fail;
    lt_model_format(&net->spec, net->model, sizeof net->model);
    net->cfg.model = net->model;
    net->K = net->spec.tok[net->spec.n_tok - 1].n;
    net->cfg.classes = net->K;

    net->layers = calloc((size_t)count_layers(&net->spec), sizeof *net->layers);
    if (!net->layers) {
        st = lt_err_set(err, LT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    build_layers(net);
    if ((st = plan_shapes(net, err)))
        goto fail;

    /* sizes of every block */
    const size_t TB = (size_t)cfg->T * (size_t)cfg->B;
    size_t n_named = 0, max_u = 0, pp_size[2] = {0, 0};
    int train = cfg->train;
    const int plan = !net->cfg.keep_all;
    for (int i = 0; i < net->n_layers; i++) {
        lt_layer *l = &net->layers[i];
        l->fused = plan && l->kind == &lt_kind_bn && i + 1 < net->n_layers &&
                   net->layers[i + 1].kind == &lt_kind_lif;
        l->bn = i > 0 && net->layers[i - 1].fused ? &net->layers[i - 1] : NULL;
        l->regen = plan && train && i < net->n_layers - 1 && net->layers[i + 1].needs_input &&
                   l->kind == &lt_kind_lif && !l->bn;
    }
    for (int i = 0; i < net->n_layers; i++) {
        lt_layer *l = &net->layers[i];
        for (int j = 0; j < l->n_slot; j++) {
            lt_pslot *s = &l->slot[j];
            if (s->buffer)
                s->off = net->n_buffers, net->n_buffers += s->numel;
            else
                s->off = net->n_params, net->n_params += s->numel;
            n_named++;
        }
        if (l->work_floats > net->n_work)
            net->n_work = l->work_floats;
        int pp = placement(net, i);
        if (pp == LT_KEPT)
            net->n_acts += TB * l->out_size;
        else if (pp >= 0 && TB * l->out_size > pp_size[pp])
            pp_size[pp] = TB * l->out_size;
        for (int j = 0; j < LT_MAX_SAVED; j++) {
            net->n_acts += l->saved_fixed[j];
            if (!l->saved_per_frame[j] || l->bn)
                continue; /* none, or a fused LIF's u (not kept) */
            if (train)
                net->n_acts += TB * l->saved_per_frame[j];
            else if (!(i > 0 && plan) && l->saved_per_frame[j] > max_u)
                max_u = l->saved_per_frame[j]; /* else u overwrites its input (bound below) */
        }
    }
    net->n_acts += pp_size[0] + pp_size[1] + TB * max_u;
    if (train)
        plan_grads(net, TB, net->n_dbuf);

    if ((st = alloc_block(&net->params, net->n_params, "parameters", err)) ||
        (st = alloc_block(&net->buffers, net->n_buffers, "BN statistics", err)) ||
        (st = alloc_block(&net->acts, net->n_acts, "activations", err)) ||
        (st = alloc_block(&net->work, net->n_work, "kernel scratch", err)))
        goto fail;
    if (train && ((st = alloc_block(&net->grads, net->n_params, "gradients", err)) ||
                  (st = alloc_block(&net->dbuf[0], net->n_dbuf[0], "activation gradients", err)) ||
                  (st = alloc_block(&net->dbuf[1], net->n_dbuf[1], "activation gradients", err))))
        goto fail;

    /* bind */
    net->named = calloc(n_named ? n_named : 1, sizeof *net->named);
    if (!net->named) {
        st = lt_err_set(err, LT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    float *a = net->acts;
    float *pingpong[2] = {a, a + pp_size[0]};
    float *u_scratch = a + pp_size[0] + pp_size[1];
    a += pp_size[0] + pp_size[1] + TB * max_u;
    for (int i = 0; i < net->n_layers; i++) {
        lt_layer *l = &net->layers[i];
        int pp = placement(net, i);
        if (pp == LT_KEPT) {
            l->out = a;
            a += TB * l->out_size;
        } else {
            l->out = pp >= 0 ? pingpong[pp] : NULL;
        }
        for (int j = 0; j < LT_MAX_SAVED; j++) {
            if (l->saved_fixed[j]) {
                l->saved[j] = a;
                a += l->saved_fixed[j];
            } else if (!l->saved_per_frame[j] || l->bn) {
                l->saved[j] = NULL;
            } else if (train) {
                l->saved[j] = a;
                a += TB * l->saved_per_frame[j];
            } else if (i > 0 && !net->cfg.keep_all) {
                /* u replaces the input it is made from (a ping-pong buffer
                 * nothing reads again), element by element: lt_lif_forward
                 * allows u == x (test_fast_lif) */
                l->saved[j] = net->layers[i - 1].out;
            } else {
                l->saved[j] = u_scratch;
            }
        }
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
            nm->is_vth = !strcmp(s->suffix, "vth");
            nm->is_buffer = s->buffer;
        }
    }
    assert((size_t)(a - net->acts) == net->n_acts);
    lt_net_init(net, 0);
    *out = net;
    return LT_OK;
fail:
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
    lt_free(net->acts);
    lt_free(net->dbuf[0]);
    lt_free(net->dbuf[1]);
    lt_free(net->work);
    free(net->named);
    for (int i = 0; net->layers && i < net->n_layers; i++)
        if (net->layers[i].kind->release)
            net->layers[i].kind->release(&net->layers[i]);
    free(net->layers);
    free(net);
}

void lt_net_init(lt_net *net, uint64_t seed)
{
    lt_rng rng;
    lt_rng_seed(&rng, seed);
    for (int i = 0; i < net->n_layers; i++)
        net->layers[i].kind->init(&net->layers[i], &net->cfg, &rng);
}

const float *lt_net_forward(lt_net *net, const float *x, int b, int train)
{
    assert(b >= 1 && b <= net->cfg.B);
    assert(!train || net->cfg.train);
    const int T = net->cfg.T;
    net->last_x = x;
    net->last_b = b;
    net->last_train = train;
    for (int i = 0; i < net->n_layers; i++) {
        lt_layer *l = &net->layers[i];
        l->kind->forward(l, l->out, input_of(net, i), T, b, train);
    }
    return net->layers[net->n_layers - 1].out;
}

void lt_net_zero_grad(lt_net *net)
{
    if (net->grads)
        memset(net->grads, 0, net->n_params * sizeof(float));
}

void lt_net_backward(lt_net *net, const float *dO)
{
    assert(net->cfg.train && net->last_train);
    const int T = net->cfg.T, b = net->last_b;
    const float *dy = dO;
    for (int i = net->n_layers - 1; i >= 0; i--) {
        lt_layer *l = &net->layers[i];
        int src = source_of(net, i);
        const float *x = input_of(net, i);
        /* where dx goes (plan_grads): a buffer, a fused LIF's dead spike
         * buffer (borrows), over x (fused BN: its input is a kept tensor read
         * by nobody after), or over dy (fused LIF) */
        float *dx = i == 0                     ? NULL
                    : l->dbuf >= 0             ? net->dbuf[l->dbuf]
                    : l->dbuf == LT_DX_BORROW ? net->layers[i - 2].out
                    : l->fused                 ? (float *)x
                                               : (float *)dy;
        /* the input this backward reads, if it was not kept: LIF spikes
         * again, from u or from the conv output under a fused BN */
        if (src >= 0 && l->needs_input && net->layers[src].regen)
            lt_lif_layer_regen(&net->layers[src], T, b);
        if (src >= 0 && l->needs_input && net->layers[src].bn)
            lt_lif_layer_respike(&net->layers[src], input_of(net, src), T, b);
        l->kind->backward(l, dx, dy, x, T, b);
        dy = dx;
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
    return l ? l->p[0][0] : 0.0f;
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
        if (net->layers[i].lif_index >= 0)
            s += net->layers[i].p[0][0], n++;
    return n ? (float)(s / n) : 0.0f;
}

int lt_net_n_layers(const lt_net *net) { return net->n_layers; }

void lt_net_layer_info(const lt_net *net, int i, lt_layer_info *info)
{
    const lt_layer *l = &net->layers[i];
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", l->name);
    const char *kind = l->kind->name;
    if (l->kind == &lt_kind_pool)
        kind = l->k.pool_max ? "maxpool" : "avgpool";
    if (l->kind == &lt_kind_linear)
        kind = "linear";
    snprintf(info->kind, sizeof info->kind, "%s", kind);
    info->c = l->out_c, info->h = l->out_h, info->w = l->out_w;
    for (int j = 0; j < l->n_slot; j++)
        if (!l->slot[j].buffer)
            info->params += l->slot[j].numel;
    /* METHOD.md §3 MAC counting: conv Cout*Cin/groups*kh*kw*Ho*Wo, linear in*out */
    if (l->kind == &lt_kind_conv)
        info->macs = l->slot[0].numel * (size_t)l->out_h * (size_t)l->out_w;
    else if (l->kind == &lt_kind_linear)
        info->macs = l->slot[0].numel;
}

size_t lt_net_params(const lt_net *net) { return net->n_params; }

size_t lt_net_macs(const lt_net *net)
{
    size_t m = 0;
    lt_layer_info info;
    for (int i = 0; i < net->n_layers; i++) {
        lt_net_layer_info(net, i, &info);
        m += info.macs;
    }
    return m;
}

size_t lt_net_weight_count(const lt_net *net)
{
    size_t n = 0;
    for (int i = 0; i < net->n_layers; i++) {
        const lt_layer *l = &net->layers[i];
        if (l->kind == &lt_kind_conv || l->kind == &lt_kind_linear)
            n += l->slot[0].numel;
    }
    return n;
}

void lt_net_memory_use(const lt_net *net, lt_net_memory *m)
{
    const size_t f = sizeof(float);
    int train = net->cfg.train;
    m->params = net->n_params * f;
    m->grads = train ? net->n_params * f : 0;
    m->buffers = net->n_buffers * f;
    m->acts = net->n_acts * f;
    m->grad_bufs = train ? (net->n_dbuf[0] + net->n_dbuf[1]) * f : 0;
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
