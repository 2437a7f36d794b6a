/* conv_dnnl.c -- ordinary convolutions through oneDNN's C API (Debian's
 * libdnnl 2.6), planned once, run on caller-owned scratch.
 *
 * Why: im2col + OpenBLAS sgemm reaches ~60 GFLOP/s on this net's 3x3
 * convolutions on 2 cores; oneDNN's direct JIT kernels on blocked layouts
 * reach ~200 (../shared/bench/README.md).  Every primitive is made for a
 * chunk of F frames with "any" layouts, so oneDNN picks its fastest blocked
 * one; a "port" reorders between the caller's NCHW / OIHW arrays and that
 * layout inside `work`.  Parameter gradients come out per chunk and are added
 * into dw in chunk order, so for a fixed thread count the result is
 * deterministic.  Frames past the last whole chunk run through
 * lt_conv2d_forward / lt_conv2d_backward, which (with the _ref kernels) stay
 * the oracle tests/test_fast_conv.c compares against.
 * Grouped and depthwise convolutions go through the same code with 5-D
 * grouped weights. */
#include "kernels/conv_dnnl.h"

#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Floats of the larger of a chunk's input and output (F*C*H*W): 4 MB, enough
 * work per primitive call that call overhead is lost in the noise, small
 * enough that the blocked copies of a chunk add little to the process. */
#ifndef LT_DNNL_CHUNK_FLOATS
#define LT_DNNL_CHUNK_FLOATS (1 << 20)
#endif

/* One tensor between the caller's plain layout and a primitive's layout. */
typedef struct port {
    dnnl_memory_t user, prim; /* prim == user when the layouts agree */
    dnnl_primitive_t reorder; /* NULL when they agree */
    size_t off;               /* prim's buffer in work, in floats */
} port;

typedef struct op {
    dnnl_primitive_t prim;
    dnnl_memory_t scratch; /* NULL: none needed */
    size_t scratch_off;
} op;

struct lt_dnnl_conv {
    dnnl_engine_t eng;
    dnnl_stream_t st;
    lt_conv_shape s; /* s.N = F */
    int train, share_dy;
    size_t work, dwtmp_off;
    char impl[64];
    op fwd, bwd_d, bwd_w;
    port f_x, f_w, f_y;         /* forward */
    port d_dy, d_w, d_dx;       /* backward data */
    port w_x, w_dy, w_dw;       /* backward weights */
};

static size_t floats_of(const dnnl_memory_desc_t *md)
{
    /* rounded up to 16 floats: every buffer starts 64-byte aligned */
    size_t n = (dnnl_memory_desc_get_size(md) + sizeof(float) - 1) / sizeof(float);
    return (n + 15) & ~(size_t)15;
}

/* input: reorder user -> prim before use; else prim -> user after. */
static int port_init(port *p, lt_dnnl_conv *c, const dnnl_memory_desc_t *user_md,
                     const dnnl_memory_desc_t *prim_md, int input, size_t *off)
{
    if (dnnl_memory_create(&p->user, user_md, c->eng, DNNL_MEMORY_NONE) != dnnl_success)
        return 0;
    if (dnnl_memory_desc_equal(user_md, prim_md)) {
        p->prim = p->user;
        return 1;
    }
    if (dnnl_memory_create(&p->prim, prim_md, c->eng, DNNL_MEMORY_NONE) != dnnl_success)
        return 0;
    dnnl_primitive_desc_t rpd;
    if (dnnl_reorder_primitive_desc_create(&rpd, input ? user_md : prim_md, c->eng, input ? prim_md : user_md,
                                           c->eng, NULL) != dnnl_success)
        return 0;
    dnnl_status_t r = dnnl_primitive_create(&p->reorder, rpd);
    dnnl_primitive_desc_destroy(rpd);
    if (r != dnnl_success)
        return 0;
    p->off = *off;
    *off += floats_of(prim_md);
    return 1;
}

static void port_free(port *p)
{
    if (p->prim && p->prim != p->user)
        dnnl_memory_destroy(p->prim);
    if (p->user)
        dnnl_memory_destroy(p->user);
    if (p->reorder)
        dnnl_primitive_destroy(p->reorder);
}

static void reorder(lt_dnnl_conv *c, dnnl_primitive_t r, dnnl_memory_t from, dnnl_memory_t to)
{
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    dnnl_primitive_execute(r, c->st, 2, a);
}

/* Binds the caller's array (and the prim buffer); an input is reordered now. */
static dnnl_memory_t port_bind(lt_dnnl_conv *c, port *p, const float *user, float *work, int input)
{
    dnnl_memory_set_data_handle(p->user, (void *)user);
    if (!p->reorder)
        return p->user;
    dnnl_memory_set_data_handle(p->prim, work + p->off);
    if (input)
        reorder(c, p->reorder, p->user, p->prim);
    return p->prim;
}

static void port_flush(lt_dnnl_conv *c, port *p)
{
    if (p->reorder)
        reorder(c, p->reorder, p->prim, p->user);
}

static int op_init(op *o, lt_dnnl_conv *c, dnnl_primitive_desc_t pd, size_t *off)
{
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (smd && dnnl_memory_desc_get_size(smd) > 0) {
        if (dnnl_memory_create(&o->scratch, smd, c->eng, DNNL_MEMORY_NONE) != dnnl_success)
            return 0;
        o->scratch_off = *off;
        *off += floats_of(smd);
    }
    return dnnl_primitive_create(&o->prim, pd) == dnnl_success;
}

static void op_free(op *o)
{
    if (o->prim)
        dnnl_primitive_destroy(o->prim);
    if (o->scratch)
        dnnl_memory_destroy(o->scratch);
}

static void op_run(lt_dnnl_conv *c, op *o, dnnl_exec_arg_t *a, int n, float *work)
{
    if (o->scratch) {
        dnnl_memory_set_data_handle(o->scratch, work + o->scratch_off);
        a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, o->scratch};
    }
    dnnl_primitive_execute(o->prim, c->st, n, a);
}

void lt_dnnl_conv_free(lt_dnnl_conv *c)
{
    if (!c)
        return;
    op_free(&c->fwd);
    op_free(&c->bwd_d);
    op_free(&c->bwd_w);
    port *ports[] = {&c->f_x, &c->f_w, &c->f_y, &c->d_dy, &c->d_w, &c->d_dx, &c->w_x, &c->w_dy, &c->w_dw};
    for (size_t i = 0; i < sizeof ports / sizeof *ports; i++)
        port_free(ports[i]);
    if (c->st)
        dnnl_stream_destroy(c->st);
    if (c->eng)
        dnnl_engine_destroy(c->eng);
    free(c);
}

static const dnnl_memory_desc_t *q(dnnl_primitive_desc_t pd, dnnl_query_t what)
{
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

lt_dnnl_conv *lt_dnnl_conv_create(const lt_conv_shape *shape, int train)
{
    lt_conv_shape s = *shape;
    if (s.N < 1 || !lt_conv_shape_fill(&s))
        return NULL;
    /* the largest divisor of the planned frame count within the budget, so
     * that a full batch has no leftover frames for the slow path */
    const size_t per = (size_t)(s.Cin > s.Cout ? s.Cin : s.Cout) * (size_t)(s.Ho * s.Wo > s.H * s.W ? s.Ho * s.Wo
                                                                                                 : s.H * s.W);
    int F = (int)(LT_DNNL_CHUNK_FLOATS / per);
    if (F < 1)
        F = 1;
    if (F > shape->N)
        F = shape->N;
    while (shape->N % F)
        F--;
    s.N = F;
    /* oneDNN's right padding makes its output size ours (floor division) */
    const int64_t prh = (int64_t)(s.Ho - 1) * s.stride + s.kh - s.H - s.pad;
    const int64_t prw = (int64_t)(s.Wo - 1) * s.stride + s.kw - s.W - s.pad;
    if (prh < 0 || prw < 0)
        return NULL;
    lt_dnnl_conv *c = calloc(1, sizeof *c);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t fpd = NULL, dpd = NULL, wpd = NULL;
    if (!c)
        return NULL;
    c->s = s;
    c->train = train;
    if (dnnl_engine_create(&c->eng, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&c->st, c->eng, dnnl_stream_default_flags) != dnnl_success ||
        dnnl_primitive_attr_create(&attr) != dnnl_success ||
        dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) != dnnl_success)
        goto fail;

    /* grouped weights [G, Cout/G, Cin/G, kh, kw]: the same bytes as OIHW [Cout, Cin/G, kh, kw] */
    const int G = s.groups, wn = G > 1 ? 5 : 4;
    dnnl_dims_t xd = {s.N, s.Cin, s.H, s.W}, yd = {s.N, s.Cout, s.Ho, s.Wo};
    dnnl_dims_t wd = {s.Cout, s.Cin, s.kh, s.kw}, wgd = {G, s.Cout / G, s.Cin / G, s.kh, s.kw};
    dnnl_dims_t strides = {s.stride, s.stride}, pl = {s.pad, s.pad}, pr = {prh, prw};
    dnnl_memory_desc_t xu, wu, yu, xa, wa, ya;
    if (dnnl_memory_desc_init_by_tag(&xu, 4, xd, dnnl_f32, dnnl_nchw) ||
        dnnl_memory_desc_init_by_tag(&wu, wn, G > 1 ? wgd : wd, dnnl_f32, G > 1 ? dnnl_goihw : dnnl_oihw) ||
        dnnl_memory_desc_init_by_tag(&yu, 4, yd, dnnl_f32, dnnl_nchw) ||
        dnnl_memory_desc_init_by_tag(&xa, 4, xd, dnnl_f32, dnnl_format_tag_any) ||
        dnnl_memory_desc_init_by_tag(&wa, wn, G > 1 ? wgd : wd, dnnl_f32, dnnl_format_tag_any) ||
        dnnl_memory_desc_init_by_tag(&ya, 4, yd, dnnl_f32, dnnl_format_tag_any))
        goto fail;

    dnnl_convolution_desc_t cd;
    if (dnnl_convolution_forward_desc_init(&cd, train ? dnnl_forward_training : dnnl_forward_inference,
                                           dnnl_convolution_direct, &xa, &wa, NULL, &ya, strides, pl, pr) ||
        dnnl_primitive_desc_create(&fpd, &cd, attr, c->eng, NULL))
        goto fail;
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(fpd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl)
        snprintf(c->impl, sizeof c->impl, "%s", impl);
    size_t off = 0;
    if (!port_init(&c->f_x, c, &xu, q(fpd, dnnl_query_src_md), 1, &off) ||
        !port_init(&c->f_w, c, &wu, q(fpd, dnnl_query_weights_md), 1, &off) ||
        !port_init(&c->f_y, c, &yu, q(fpd, dnnl_query_dst_md), 0, &off) || !op_init(&c->fwd, c, fpd, &off))
        goto fail;
    size_t work_fwd = off;

    size_t work_bwd = 0;
    if (train) {
        if (dnnl_convolution_backward_data_desc_init(&cd, dnnl_convolution_direct, &xa, &wa, &ya, strides, pl, pr) ||
            dnnl_primitive_desc_create(&dpd, &cd, attr, c->eng, fpd) ||
            dnnl_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &xa, &wa, NULL, &ya, strides,
                                                        pl, pr) ||
            dnnl_primitive_desc_create(&wpd, &cd, attr, c->eng, fpd))
            goto fail;
        off = 0;
        c->dwtmp_off = off;
        off += floats_of(&wu);
        if (!port_init(&c->d_dy, c, &yu, q(dpd, dnnl_query_diff_dst_md), 1, &off) ||
            !port_init(&c->d_w, c, &wu, q(dpd, dnnl_query_weights_md), 1, &off) ||
            !port_init(&c->d_dx, c, &xu, q(dpd, dnnl_query_diff_src_md), 0, &off) ||
            !op_init(&c->bwd_d, c, dpd, &off))
            goto fail;
        /* dy in the same layout for both: reorder it once per chunk */
        c->share_dy = dnnl_memory_desc_equal(q(dpd, dnnl_query_diff_dst_md), q(wpd, dnnl_query_diff_dst_md));
        if (!port_init(&c->w_x, c, &xu, q(wpd, dnnl_query_src_md), 1, &off) ||
            !port_init(&c->w_dy, c, &yu, q(wpd, dnnl_query_diff_dst_md), 1, &off) ||
            !port_init(&c->w_dw, c, &wu, q(wpd, dnnl_query_diff_weights_md), 0, &off) ||
            !op_init(&c->bwd_w, c, wpd, &off))
            goto fail;
        work_bwd = off;
    }
    /* the BLAS kernel runs the leftover frames (fewer than F) in the same work */
    size_t work_blas = lt_conv2d_work_floats(&s);
    c->work = work_fwd > work_bwd ? work_fwd : work_bwd;
    if (work_blas > c->work)
        c->work = work_blas;
    dnnl_primitive_desc_destroy(fpd);
    if (dpd)
        dnnl_primitive_desc_destroy(dpd);
    if (wpd)
        dnnl_primitive_desc_destroy(wpd);
    dnnl_primitive_attr_destroy(attr);
    return c;
fail:
    if (fpd)
        dnnl_primitive_desc_destroy(fpd);
    if (dpd)
        dnnl_primitive_desc_destroy(dpd);
    if (wpd)
        dnnl_primitive_desc_destroy(wpd);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    lt_dnnl_conv_free(c);
    return NULL;
}

size_t lt_dnnl_conv_work_floats(const lt_dnnl_conv *c) { return c ? c->work : 0; }
int lt_dnnl_conv_chunk(const lt_dnnl_conv *c) { return c ? c->s.N : 0; }
const char *lt_dnnl_conv_impl(const lt_dnnl_conv *c) { return c ? c->impl : ""; }

void lt_dnnl_conv_forward(lt_dnnl_conv *c, float *y, const float *x, const float *w, const lt_conv_shape *s,
                          float *work)
{
    const int F = c->s.N;
    const size_t xs = (size_t)s->Cin * s->H * s->W, ys = (size_t)s->Cout * s->Ho * s->Wo;
    int n0 = 0;
    if (s->N >= F) {
        dnnl_memory_t wm = port_bind(c, &c->f_w, w, work, 1);
        for (; n0 + F <= s->N; n0 += F) {
            dnnl_exec_arg_t a[4] = {{DNNL_ARG_SRC, port_bind(c, &c->f_x, x + (size_t)n0 * xs, work, 1)},
                                    {DNNL_ARG_WEIGHTS, wm},
                                    {DNNL_ARG_DST, port_bind(c, &c->f_y, y + (size_t)n0 * ys, work, 0)}};
            op_run(c, &c->fwd, a, 3, work);
            port_flush(c, &c->f_y);
        }
        dnnl_stream_wait(c->st);
    }
    if (n0 < s->N) {
        lt_conv_shape r = *s;
        r.N = s->N - n0;
        lt_conv2d_forward(y + (size_t)n0 * ys, x + (size_t)n0 * xs, w, &r, work);
    }
}

void lt_dnnl_conv_backward(lt_dnnl_conv *c, float *dx, float *dw, const float *dy, const float *x, const float *w,
                           const lt_conv_shape *s, float *work)
{
    const int F = c->s.N;
    const size_t xs = (size_t)s->Cin * s->H * s->W, ys = (size_t)s->Cout * s->Ho * s->Wo;
    const size_t nw = (size_t)s->Cout * (s->Cin / s->groups) * s->kh * s->kw;
    const float *dwtmp = work + c->dwtmp_off;
    int n0 = 0;
    if (s->N >= F) {
        dnnl_memory_t wm = dx ? port_bind(c, &c->d_w, w, work, 1) : NULL;
        for (; n0 + F <= s->N; n0 += F) {
            const float *dyc = dy + (size_t)n0 * ys;
            dnnl_memory_t dym = NULL;
            if (dx) {
                dym = port_bind(c, &c->d_dy, dyc, work, 1);
                dnnl_exec_arg_t a[4] = {{DNNL_ARG_DIFF_DST, dym},
                                        {DNNL_ARG_WEIGHTS, wm},
                                        {DNNL_ARG_DIFF_SRC, port_bind(c, &c->d_dx, dx + (size_t)n0 * xs, work, 0)}};
                op_run(c, &c->bwd_d, a, 3, work);
                port_flush(c, &c->d_dx);
            }
            if (!dym || !c->share_dy)
                dym = port_bind(c, &c->w_dy, dyc, work, 1);
            dnnl_exec_arg_t a[4] = {{DNNL_ARG_SRC, port_bind(c, &c->w_x, x + (size_t)n0 * xs, work, 1)},
                                    {DNNL_ARG_DIFF_DST, dym},
                                    {DNNL_ARG_DIFF_WEIGHTS, port_bind(c, &c->w_dw, dwtmp, work, 0)}};
            op_run(c, &c->bwd_w, a, 3, work);
            port_flush(c, &c->w_dw);
            dnnl_stream_wait(c->st);
            for (size_t i = 0; i < nw; i++)
                dw[i] += dwtmp[i];
        }
    }
    if (n0 < s->N) {
        lt_conv_shape r = *s;
        r.N = s->N - n0;
        lt_conv2d_backward(dx ? dx + (size_t)n0 * xs : NULL, dw, dy + (size_t)n0 * ys, x + (size_t)n0 * xs, w, &r,
                           work);
    }
}
