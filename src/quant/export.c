/* export.c -- a trained net to an integer .ltq model (METHOD.md §10;
 * docs/formats.md "Integer models"; runtime/ltsnn_rt.h runs it).
 *
 * The layers are walked in execution order and each kind's qexport hands
 * its parameters to one lt_qx_* call.  For every float tensor the exporter
 * keeps its value in terms of integer tensors (a "view"): per channel c,
 *     value = sum_i a_i[c] * int_i + b[c]
 * with at most two terms.  The network input is one term (a = the input
 * scale); a conv makes an int32 sum of 4/8-bit codes times input values,
 * a = a_in / scale_w; BN maps a -> a * s, b -> (b - mean) * s + beta with
 * s its eval-mode scale; a residual sum adds two views; pooling sums
 * counts (a / 4, a / HW); a neuron becomes a fixed-point LIF op whose
 * per-channel parameters follow from its view, and its spikes are a new
 * one-term view (a = 1).  The last linear layer's view becomes int64
 * logits.  What is not here: running the model (the runtime), reading it
 * back (qmodel.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ltsnn/io.h"
#include "ltsnn/quant.h"
#include "ltsnn_rt.h"
#include "quant/quant.h"

enum { QK_ACT8 = 0, QK_ACT16 = 1, QK_ACC32 = 2 };
enum { QF_NEG = 1, QF_SWAP = 2, QF_ZERO = 4 };
#define QX_NONE 0xFFFFFFFFu
#define TWO29 536870912.0
#define LIM_TH 1073741825.0 /* |U| <= 2^30: thresholds beyond +-(2^30 + 1) decide nothing more */

typedef struct qview {
    int n;                  /* terms; 0: not made (yet) */
    int id[2];              /* integer tensors */
    double *a[2];           /* [C] per-channel factor of each term */
    double *b;              /* [C] offset */
    int C;
} qview;

typedef struct qtensor {
    uint32_t kind, c, h, w;
    uint64_t bound;         /* largest |value| (the runtime's own bound rule) */
} qtensor;

typedef struct qop {
    uint32_t type, in0, in1, out;
    char name[80];
    uint8_t *par;
    size_t pb;
} qop;

struct lt_qx {
    const lt_net *net;
    int sizes_only;
    lt_export_opts opt;
    qtensor t[LT_RT_MAX_TENSORS];
    int nt;
    qop o[LT_RT_MAX_OPS];
    int no;
    qview *v;               /* [net->n_tensors] */
    int32_t G;              /* logit shift */
    int logits_done;
};

/* ---------------- building blocks ---------------- */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void put64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    put32(p, (uint32_t)u);
    put32(p + 4, (uint32_t)(u >> 32));
}

static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

static lt_status qx_oom(lt_err *err) { return lt_err_set(err, LT_ERR_NOMEM, "out of memory while exporting"); }

static int add_tensor(lt_qx *qx, uint32_t kind, uint32_t c, uint32_t h, uint32_t w, uint64_t bound, const lt_layer *l,
                      lt_err *err)
{
    if (qx->nt >= LT_RT_MAX_TENSORS) {
        lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: the integer model would need more than %d tensors (the runtime's "
                   "limit, LT_RT_MAX_TENSORS)", l->name, LT_RT_MAX_TENSORS);
        return -1;
    }
    qx->t[qx->nt] = (qtensor){.kind = kind, .c = c, .h = h, .w = w, .bound = bound};
    return qx->nt++;
}

static lt_status add_op(lt_qx *qx, uint32_t type, int in0, int in1, int out, const char *name, size_t pb,
                        uint8_t **par, lt_err *err)
{
    if (qx->no >= LT_RT_MAX_OPS)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: the integer model would need more than %d ops (the runtime's "
                          "limit, LT_RT_MAX_OPS)", name, LT_RT_MAX_OPS);
    qop *o = &qx->o[qx->no];
    memset(o, 0, sizeof *o);
    o->type = type;
    o->in0 = (uint32_t)in0, o->in1 = in1 < 0 ? QX_NONE : (uint32_t)in1, o->out = out < 0 ? QX_NONE : (uint32_t)out;
    snprintf(o->name, sizeof o->name, "%s", name);
    o->pb = pb;
    if (pb && !(o->par = calloc(1, pb)))
        return qx_oom(err);
    *par = o->par;
    qx->no++;
    return LT_OK;
}

static void view_free(qview *v)
{
    free(v->a[0]);
    free(v->a[1]);
    free(v->b);
    memset(v, 0, sizeof *v);
}

static lt_status view_make(qview *v, int n, int C, lt_err *err)
{
    view_free(v);
    v->n = n, v->C = C;
    for (int i = 0; i < n; i++)
        if (!(v->a[i] = calloc((size_t)C, sizeof(double))))
            return qx_oom(err);
    if (!(v->b = calloc((size_t)C, sizeof(double))))
        return qx_oom(err);
    return LT_OK;
}

/* a view of one integer tensor with a uniform factor and no offset */
static lt_status view_plain(qview *v, int id, int C, double a, lt_err *err)
{
    lt_status st = view_make(v, 1, C, err);
    if (st)
        return st;
    v->id[0] = id;
    for (int c = 0; c < C; c++)
        v->a[0][c] = a;
    return LT_OK;
}

static const qview *in_view(const lt_qx *qx, const lt_layer *l, int k) { return &qx->v[l->in[k]]; }
static qview *out_view(lt_qx *qx, const lt_layer *l) { return &qx->v[l->out]; }
static const lt_tensor *ftensor(const lt_qx *qx, int t) { return &qx->net->tensors[t]; }

/* A view a pooling or weighted op can read directly: one term on an
 * activation (spikes, counts, the input), no offset; *a gets its factor
 * when it is the same for every channel (0 otherwise), which `uniform`
 * demands (a conv sums over channels, pooling compares or adds them). */
static lt_status plain_act(const lt_qx *qx, const lt_layer *l, const qview *v, int uniform, double *a, lt_err *err)
{
    if (v->n != 1 || qx->t[v->id[0]].kind == QK_ACC32)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: reads a value that is not spikes or counts of spikes (a "
                          "conv or BN output); the integer form has no op for that", l->name);
    *a = v->a[0][0];
    for (int c = 0; c < v->C; c++) {
        if (v->b[c] != 0)
            return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: its input has an offset; the integer form has no op "
                              "for that", l->name);
        if (v->a[0][c] != *a)
            *a = 0;
    }
    if (uniform && !(*a > 0))
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: its input channels are scaled differently", l->name);
    return LT_OK;
}

static uint32_t act_kind(uint64_t bound) { return bound <= 255 ? QK_ACT8 : QK_ACT16; }

/* ---------------- the layer kinds' calls ---------------- */

/* METHOD.md §7/§10: 4/8-bit codes q (w_q = q / scale), rows over output
 * channels: [Cin][kh][kw][Cout] (depthwise [kh][kw][C]); 4-bit rows of n
 * codes in ceil(n/2) bytes, byte i holding code i in its low nibble and
 * code i + ceil(n/2) in its high one (the runtime adds each half as one
 * contiguous run). */
lt_status lt_qx_conv(lt_qx *qx, const lt_layer *l, const lt_conv_shape *s, int wbits, const float *w, lt_err *err)
{
    if (!wbits)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: a float32 convolution; integer export needs a model trained "
                          "with --wbits 4 or 8 (METHOD.md §7, §10)", l->name);
    const qview *x = in_view(qx, l, 0);
    double a_in = 0;
    lt_status st = plain_act(qx, l, x, 1, &a_in, err);
    if (st)
        return st;
    const int dw = s->groups > 1;
    if (dw && s->groups != s->Cin)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: grouped convolutions other than depthwise", l->name);
    const uint32_t Cin = (uint32_t)s->Cin, Co = (uint32_t)s->Cout, kh = (uint32_t)s->kh, kw = (uint32_t)s->kw;
    const size_t rows = dw ? (size_t)kh * kw : (size_t)Cin * kh * kw, rb = wbits == 4 ? (Co + 1) / 2 : Co;
    uint64_t bound = qx->t[x->id[0]].bound * (dw ? 1u : Cin) * kh * kw * (wbits == 4 ? 8u : 128u);
    if (bound > ((uint64_t)1 << 30))
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: its int32 sums could exceed 2^30 (fan-in %u, input values up "
                          "to %llu)", l->name, (dw ? 1u : Cin) * kh * kw, (unsigned long long)qx->t[x->id[0]].bound);
    int y = add_tensor(qx, QK_ACC32, Co, (uint32_t)s->Ho, (uint32_t)s->Wo, bound, l, err);
    uint8_t *p;
    if (y < 0 || (st = add_op(qx, LT_RT_OP_CONV, x->id[0], -1, y, l->name, 24 + pad4(rows * rb), &p, err)))
        return y < 0 ? err->status : st;
    put32(p, kh), put32(p + 4, kw), put32(p + 8, (uint32_t)s->stride), put32(p + 12, (uint32_t)s->pad);
    put32(p + 16, (uint32_t)dw), put32(p + 20, (uint32_t)wbits);
    if ((st = view_make(out_view(qx, l), 1, (int)Co, err)))
        return st;
    qview *v = out_view(qx, l);
    v->id[0] = y;
    if (qx->sizes_only)
        return LT_OK;
    size_t n = l->slot[0].numel;
    int8_t *q = malloc(n);
    if (!q)
        return qx_oom(err);
    float scale;
    lt_sawb_codes(q, &scale, w, n, wbits);
    uint8_t *wr = p + 24;
    for (uint32_t co = 0; co < Co; co++)
        for (uint32_t ci = 0; ci < (dw ? 1u : Cin); ci++)
            for (uint32_t ky = 0; ky < kh; ky++)
                for (uint32_t kx = 0; kx < kw; kx++) {
                    int code = q[((co * (dw ? 1u : Cin) + ci) * kh + ky) * kw + kx];
                    size_t row = dw ? (size_t)ky * kw + kx : ((size_t)ci * kh + ky) * kw + kx;
                    uint8_t *b = wr + row * rb;
                    const uint32_t h = (Co + 1) / 2;
                    if (wbits == 8)
                        b[co] = (uint8_t)code;
                    else
                        b[co % h] |= (uint8_t)(((unsigned)code & 15u) << (co < h ? 0 : 4));
                }
    free(q);
    /* an all-zero weight tensor has no scale: its sums are 0 whatever the factor */
    for (uint32_t c = 0; c < Co; c++)
        v->a[0][c] = scale > 0 ? a_in / (double)scale : 0.0;
    return LT_OK;
}

/* BN in eval mode (METHOD.md §3): y = (x - mean) * s + beta, s =
 * gamma / sqrt(var + eps) rounded to float as lt_bn_eval_scale makes it. */
lt_status lt_qx_bn(lt_qx *qx, const lt_layer *l, const float *gamma, const float *beta, const float *run_mean,
                   const float *run_var, float eps, lt_err *err)
{
    const qview *x = in_view(qx, l, 0);
    qview *y = out_view(qx, l);
    const int C = x->C;
    lt_status st = view_make(y, x->n, C, err);
    if (st)
        return st;
    for (int i = 0; i < x->n; i++)
        y->id[i] = x->id[i];
    if (qx->sizes_only)
        return LT_OK;
    float *s = malloc((size_t)C * sizeof *s);
    if (!s)
        return qx_oom(err);
    lt_bn_eval_scale(s, gamma, run_var, C, eps);
    for (int c = 0; c < C; c++) {
        for (int i = 0; i < x->n; i++)
            y->a[i][c] = x->a[i][c] * s[c];
        y->b[c] = (x->b[c] - run_mean[c]) * s[c] + beta[c];
    }
    free(s);
    return LT_OK;
}

lt_status lt_qx_add(lt_qx *qx, const lt_layer *l, lt_err *err)
{
    const qview *p = in_view(qx, l, 0), *q = in_view(qx, l, 1);
    if (p->n + q->n > 2 || p->C != q->C)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: a sum of more than two integer terms", l->name);
    qview *y = out_view(qx, l);
    lt_status st = view_make(y, p->n + q->n, p->C, err);
    if (st)
        return st;
    for (int i = 0; i < y->n; i++) {
        const qview *src = i < p->n ? p : q;
        int k = i < p->n ? i : i - p->n;
        y->id[i] = src->id[k];
        memcpy(y->a[i], src->a[k], (size_t)y->C * sizeof(double));
    }
    for (int c = 0; c < y->C; c++)
        y->b[c] = p->b[c] + q->b[c];
    return LT_OK;
}

/* The runtime's own bound on |x| of a neuron channel (ltsnn_rt.c
 * check_lif), which it refuses above 2^29. */
static double lif_bound(int F, double bp, double bo, double M, double B)
{
    double x = fabs(B) + (F >= 0 ? ldexp(bp, F) : floor(ldexp(bp, F)) + 1);
    if (bo > 0)
        x += floor(ldexp(bo * fabs(M), F - 30)) + 1;
    return x;
}

/* METHOD.md §10: the neuron in fixed point.  With one term, divide the
 * membrane by a (the channel's factor): U = u / a counts weight steps, in
 * units of 2^-F, so the input is acc * 2^F + B with no multiplier, and u >=
 * V becomes U >= V/a for a > 0, U <= V/a for a < 0.  With two terms the
 * larger |a| is the unit and the other term enters through M = a_o / a_u
 * * 2^30.  F is the most fractional bits (up to 24) that keep |x| <= 2^29,
 * so |U| <= 2^30 with lam <= 1/2.  A channel whose factors are 0 (or so
 * small that no shift fits) has a constant input b: unit 1, ZERO. */
lt_status lt_qx_lif(lt_qx *qx, const lt_layer *l, float vth, const lt_lif_opts *o, lt_err *err)
{
    if (o->mode == LT_MODE_DSR)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: DSR neurons emit V, not binary spikes; the integer form "
                          "needs binary spikes", l->name);
    if (o->soft_reset)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: soft reset; the integer form resets to 0 (hard reset)",
                          l->name);
    int k = 31;
    if (o->lam != 0) {
        int e;
        double f = frexp(o->lam, &e); /* lam = f * 2^e, f in [0.5, 1) */
        k = 1 - e;
        if (f != 0.5 || k < 1 || k > 30)
            return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: leak lam = %g is not 1/2^k (k = 1..30) or 0; the integer "
                              "membrane leaks by a shift", l->name, (double)o->lam);
    }
    const qview *x = in_view(qx, l, 0);
    if (x->n < 1 || x->n > 2)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: its input is not one or two integer terms", l->name);
    const lt_tensor *ft = ftensor(qx, l->out);
    const uint32_t C = (uint32_t)ft->c;
    lt_status st;
    int y = add_tensor(qx, QK_ACT8, C, (uint32_t)ft->h, (uint32_t)ft->w, 1, l, err);
    uint8_t *p;
    if (y < 0 || (st = add_op(qx, LT_RT_OP_LIF, x->id[0], x->n == 2 ? x->id[1] : -1, y, l->name,
                              8 + 20 * (size_t)C, &p, err)))
        return y < 0 ? err->status : st;
    put32(p, (uint32_t)k), put32(p + 4, (uint32_t)x->n);
    if ((st = view_plain(out_view(qx, l), y, (int)C, 1.0, err)) || qx->sizes_only)
        return st;
    const double V = vth;
    const double bnd[2] = {(double)qx->t[x->id[0]].bound, x->n == 2 ? (double)qx->t[x->id[1]].bound : 0.0};
    for (uint32_t c = 0; c < C; c++) {
        double a0 = x->a[0][c], a1 = x->n == 2 ? x->a[1][c] : 0.0, b = x->b[c];
        int swap = x->n == 2 && fabs(a1) > fabs(a0);
        double au = swap ? a1 : a0, ao = swap ? a0 : a1, bp = bnd[swap], bo = x->n == 2 ? bnd[!swap] : 0.0;
        int32_t flags = 0, F = 24;
        double M = 0, B = 0;
        if (au != 0) {
            M = x->n == 2 ? nearbyint(ao / au * 1073741824.0) : 0;
            for (; F >= -31; F--) {
                B = nearbyint(ldexp(b / au, F));
                if (fabs(B) <= TWO29 && lif_bound(F, bp, bo, M, B) <= TWO29)
                    break;
            }
        }
        if (au == 0 || F < -31) {
            /* the sums do not matter (next to b, at float precision): constant input */
            au = 1, M = 0, flags = QF_ZERO;
            for (F = 24; F > -31 && fabs(nearbyint(ldexp(b, F))) > TWO29; F--)
                ;
            B = nearbyint(ldexp(b, F));
            if (fabs(B) > TWO29)
                return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: channel %u's offset %g is out of any fixed-point "
                                  "range", l->name, c, b);
        }
        if (au < 0)
            flags |= QF_NEG;
        if (swap && !(flags & QF_ZERO))
            flags |= QF_SWAP;
        /* u >= V  <=>  U >= V/a (a > 0): the least integer at or above; U <= V/a (a < 0): the greatest below */
        double t = ldexp(V / au, F);
        t = t > LIM_TH ? LIM_TH : t < -LIM_TH ? -LIM_TH : t;
        double TH = au < 0 ? floor(t) : ceil(t);
        uint8_t *q = p + 8 + 20 * (size_t)c;
        put32(q, (uint32_t)F), put32(q + 4, (uint32_t)flags), put32(q + 8, (uint32_t)(int32_t)B);
        put32(q + 12, (uint32_t)(int32_t)TH), put32(q + 16, (uint32_t)(int32_t)M);
    }
    return LT_OK;
}

/* A pooling op of type on the layer's input: its values are summed over
 * `over` positions (1 for max pooling: the largest is kept), so the factor
 * is divided by that and the counts grow by it. */
static lt_status pool_op(lt_qx *qx, const lt_layer *l, uint32_t type, uint64_t over, lt_err *err)
{
    const qview *x = in_view(qx, l, 0);
    double a = 0;
    lt_status st = plain_act(qx, l, x, 1, &a, err);
    if (st)
        return st;
    const uint64_t bound = qx->t[x->id[0]].bound * over;
    if (bound > 65535)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: pooling %llu positions: the counts could exceed 16 bits",
                          l->name, (unsigned long long)over);
    const lt_tensor *ft = ftensor(qx, l->out);
    int y = add_tensor(qx, act_kind(bound), (uint32_t)ft->c, (uint32_t)ft->h, (uint32_t)ft->w, bound, l, err);
    uint8_t *p;
    if (y < 0 || (st = add_op(qx, type, x->id[0], -1, y, l->name, 0, &p, err)))
        return y < 0 ? err->status : st;
    return view_plain(out_view(qx, l), y, ft->c, a / (double)over, err);
}

/* 2x2 average pooling sums counts, max pooling keeps them (a positive
 * factor keeps the order) */
lt_status lt_qx_pool(lt_qx *qx, const lt_layer *l, int max, lt_err *err)
{
    return pool_op(qx, l, max ? LT_RT_OP_MAXPOOL : LT_RT_OP_SUMPOOL, max ? 1 : 4, err);
}

lt_status lt_qx_gap(lt_qx *qx, const lt_layer *l, lt_err *err)
{
    return pool_op(qx, l, LT_RT_OP_GAP, (uint64_t)l->in_h * (uint64_t)l->in_w, err);
}

/* The logits O = a * acc + b as int64 L = A * acc + Bk with real value
 * L / 2^G: G as large as keeps |A| < 2^31 and every |L| <= 2^45 (the
 * runtime refuses above 2^46). */
static lt_status logits_op(lt_qx *qx, const lt_layer *l, const qview *v, int acc, lt_err *err)
{
    const int K = v->C;
    uint8_t *p;
    lt_status st = add_op(qx, LT_RT_OP_LOGITS, acc, -1, -1, l->name, 12 * (size_t)K, &p, err);
    if (st || qx->sizes_only)
        return st;
    const double bound = (double)qx->t[acc].bound;
    int G = 62;
    for (int k = 0; k < K; k++) {
        while (G > -62 && (fabs(ldexp(v->a[0][k], G)) >= 2147483647.0 ||
                           fabs(ldexp(v->a[0][k], G)) * bound + fabs(ldexp(v->b[k], G)) > 35184372088832.0))
            G--;
    }
    qx->G = G;
    for (int k = 0; k < K; k++) {
        put32(p + 4 * (size_t)k, (uint32_t)(int32_t)nearbyint(ldexp(v->a[0][k], G)));
        put64(p + 4 * (size_t)K + 8 * (size_t)k, (int64_t)nearbyint(ldexp(v->b[k], G)));
    }
    return LT_OK;
}

/* FC weights stay float32 in training (METHOD.md §7); here they become
 * 8-bit per output row: w'[o][j] = w[o][j] * a_j (the input's factor),
 * q = round(w' / s_o), s_o = max_j |w'[o][j]| / 127.  Rows of the .ltq go
 * by input in the runtime's [h][w][c] order (the float net flattens C, H,
 * W).  The last one (the net's output) becomes the logits. */
lt_status lt_qx_linear(lt_qx *qx, const lt_layer *l, const float *w, const float *bias, lt_err *err)
{
    /* fc_spikes 0 (--recipe authors): a hidden FC's output reaches the next FC as a float */
    int from = qx->net->tensors[l->in[0]].producer;
    if (from >= 0 && !strcmp(qx->net->layers[from].kind->name, "linear"))
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: reads the analog output of %s (a hidden FC without spikes: "
                          "the net was made with fc_spikes 0, as --recipe authors does); the integer form has no op "
                          "for that", l->name, qx->net->layers[from].name);
    const qview *x = in_view(qx, l, 0);
    double a_uniform = 0;
    lt_status st = plain_act(qx, l, x, 0, &a_uniform, err);
    if (st)
        return st;
    const uint32_t n_in = (uint32_t)l->in_size, n_out = (uint32_t)l->out_c;
    const uint32_t C = (uint32_t)l->in_c, HW = (uint32_t)(l->in_h * l->in_w);
    uint64_t bound = qx->t[x->id[0]].bound * (uint64_t)n_in * 128u;
    if (bound > ((uint64_t)1 << 30))
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: its int32 sums could exceed 2^30 (%u inputs)", l->name, n_in);
    int y = add_tensor(qx, QK_ACC32, n_out, 1, 1, bound, l, err);
    uint8_t *p;
    if (y < 0 || (st = add_op(qx, LT_RT_OP_LINEAR, x->id[0], -1, y, l->name, 4 + pad4((size_t)n_in * n_out), &p,
                              err)))
        return y < 0 ? err->status : st;
    put32(p, 8);
    qview tmp = {0};
    qview *v = l->out == qx->net->output ? &tmp : out_view(qx, l);
    if ((st = view_make(v, 1, (int)n_out, err)))
        goto done;
    v->id[0] = y;
    if (!qx->sizes_only) {
        for (uint32_t o = 0; o < n_out; o++) {
            double mx = 0;
            for (uint32_t j = 0; j < n_in; j++)
                mx = fmax(mx, fabs((double)w[(size_t)o * n_in + j] * x->a[0][j / HW]));
            double s = mx / 127.0;
            for (uint32_t j = 0; j < n_in; j++) {
                /* float index j = c*HW + i  ->  runtime row i*C + c */
                uint32_t c = j / HW, i = j % HW;
                double q = s > 0 ? nearbyint((double)w[(size_t)o * n_in + j] * x->a[0][c] / s) : 0;
                p[4 + ((size_t)i * C + c) * n_out + o] = (uint8_t)(int8_t)q;
            }
            v->a[0][o] = s;
            v->b[o] = bias[o];
        }
    }
    if (l->out == qx->net->output)
        st = logits_op(qx, l, v, y, err);
done:
    view_free(&tmp);
    return st;
}

/* ---------------- the whole net ---------------- */

static void qx_free(lt_qx *qx)
{
    if (!qx)
        return;
    for (int i = 0; i < qx->no; i++)
        free(qx->o[i].par);
    for (int t = 0; qx->v && t < qx->net->n_tensors; t++)
        view_free(&qx->v[t]);
    free(qx->v);
    free(qx);
}

static lt_status qx_run(lt_qx **out, const lt_net *net, const lt_export_opts *o, lt_err *err)
{
    *out = NULL;
    if (o->in_max < 1 || o->in_max > 255 || !(o->in_scale > 0))
        return lt_err_set(err, LT_ERR_ARG, "export: input maximum must be 1..255 and the input scale positive (got "
                          "%d, %g)", o->in_max, (double)o->in_scale);
    lt_qx *qx = calloc(1, sizeof *qx);
    if (!qx || !(qx->v = calloc((size_t)net->n_tensors, sizeof *qx->v))) {
        free(qx);
        return qx_oom(err);
    }
    qx->net = net;
    qx->sizes_only = net->cfg.plan_only;
    qx->opt = *o;
    lt_status st = LT_OK;
    const lt_net_config *c = &net->cfg;
    int in = add_tensor(qx, QK_ACT8, (uint32_t)c->in_c, (uint32_t)c->in_h, (uint32_t)c->in_w, (uint64_t)o->in_max,
                        net->n_layers ? &net->layers[0] : NULL, err);
    if (in < 0 || (st = view_plain(&qx->v[0], in, c->in_c, (double)o->in_scale, err)))
        goto fail;
    for (int i = 0; i < net->n_layers && !st; i++) {
        lt_layer *l = &net->layers[i];
        if (!l->kind->qexport) {
            st = lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: a %s layer has no integer form", l->name, l->kind->name);
            break;
        }
        st = l->kind->qexport(l, qx, err);
    }
    if (!st && (qx->no == 0 || qx->o[qx->no - 1].type != LT_RT_OP_LOGITS))
        st = lt_err_set(err, LT_ERR_UNSUPPORTED, "the net does not end in a linear layer (the logits)");
    if (st)
        goto fail;
    *out = qx;
    return LT_OK;
fail:
    if (!err->msg[0])
        lt_err_set(err, st, "export failed");
    lt_err_prefix(err, "export: ");
    qx_free(qx);
    return st;
}

/* docs/formats.md "Integer models": header, metadata, tensor table, ops */
static lt_status qx_write(const lt_qx *qx, uint8_t **buf, size_t *len, lt_err *err)
{
    const lt_net *net = qx->net;
    char meta[4500];
    snprintf(meta, sizeof meta, "format=ltq-1\nmodel=%s\nwbits=%d\nfc_bits=8\ninput_scale=%.9g\ndata=%.255s\n"
             "source=%.1024s\n", net->model, net->cfg.wbits, (double)qx->opt.in_scale,
             qx->opt.data ? qx->opt.data : "", qx->opt.source ? qx->opt.source : "");
    size_t ml = strlen(meta), n = 60 + pad4(ml) + 16 * (size_t)qx->nt;
    for (int i = 0; i < qx->no; i++)
        n += 24 + pad4(strlen(qx->o[i].name)) + qx->o[i].pb;
    if (n > 0xFFFFFFF0u)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "export: the model would be %zu bytes, over the 4 GB an .ltq "
                          "file can hold", n);
    *len = n;
    if (!buf)
        return LT_OK;
    uint8_t *b = calloc(1, n);
    if (!b)
        return qx_oom(err);
    memcpy(b, "LTQM", 4);
    put32(b + 4, LT_RT_VERSION), put32(b + 8, (uint32_t)n);
    put32(b + 16, (uint32_t)qx->nt), put32(b + 20, (uint32_t)qx->no);
    put32(b + 24, (uint32_t)net->cfg.in_c), put32(b + 28, (uint32_t)net->cfg.in_h), put32(b + 32, (uint32_t)net->cfg.in_w);
    put32(b + 36, (uint32_t)qx->opt.in_max), put32(b + 40, (uint32_t)net->K), put32(b + 44, (uint32_t)net->cfg.T);
    put32(b + 48, (uint32_t)qx->G), put32(b + 52, (uint32_t)ml);
    size_t p = 60;
    memcpy(b + p, meta, ml);
    p += pad4(ml);
    for (int i = 0; i < qx->nt; i++, p += 16)
        put32(b + p, qx->t[i].kind), put32(b + p + 4, qx->t[i].c), put32(b + p + 8, qx->t[i].h),
            put32(b + p + 12, qx->t[i].w);
    for (int i = 0; i < qx->no; i++) {
        const qop *o = &qx->o[i];
        size_t nl = strlen(o->name);
        put32(b + p, o->type), put32(b + p + 4, o->in0), put32(b + p + 8, o->in1), put32(b + p + 12, o->out);
        put32(b + p + 16, (uint32_t)nl), put32(b + p + 20, (uint32_t)o->pb);
        memcpy(b + p + 24, o->name, nl);
        p += 24 + pad4(nl);
        if (o->pb)
            memcpy(b + p, o->par, o->pb);
        p += o->pb;
    }
    put32(b + 12, (uint32_t)crc32_z(0L, b + 16, n - 16));
    *buf = b;
    return LT_OK;
}

lt_status lt_net_export(const lt_net *net, const lt_export_opts *o, uint8_t **buf, size_t *len, lt_err *err)
{
    *buf = NULL, *len = 0;
    if (net->cfg.plan_only)
        return lt_err_set(err, LT_ERR_ARG, "export: the net is planned only (it has no weights)");
    lt_qx *qx;
    lt_status st = qx_run(&qx, net, o, err);
    if (st)
        return st;
    st = qx_write(qx, buf, len, err);
    qx_free(qx);
    if (st)
        return st;
    /* what ltsnn writes, its runtime must read: checked here, not found later on a device */
    lt_rt_info info;
    size_t need;
    int rs = lt_rt_arena_size(*buf, *len, &need, &info);
    if (rs) {
        free(*buf);
        *buf = NULL;
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "export: the runtime refuses the model it was given: %s at byte "
                          "%zu (%s)", lt_rt_strerror(rs), info.err_offset, info.err_what);
    }
    return LT_OK;
}

lt_status lt_net_export_file(const lt_net *net, const lt_export_opts *o, const char *path, lt_err *err)
{
    uint8_t *buf;
    size_t len;
    lt_status st = lt_net_export(net, o, &buf, &len, err);
    if (st)
        return st;
    st = lt_write_file(path, buf, len, err);
    free(buf);
    return st;
}

lt_status lt_net_export_size(const lt_net *net, const lt_export_opts *o, size_t *file_bytes, size_t *arena_bytes,
                             lt_err *err)
{
    lt_qx *qx;
    lt_status st = qx_run(&qx, net, o, err);
    if (st)
        return st;
    st = qx_write(qx, NULL, file_bytes, err);
    if (!st && arena_bytes) {
        /* the sizes the runtime plans depend on shapes only: plan them on a zero-parameter image */
        uint8_t *b = NULL;
        size_t n;
        lt_rt_info info;
        st = qx_write(qx, &b, &n, err);
        int rs = st ? 0 : lt_rt_arena_size(b, n, arena_bytes, &info);
        if (rs)
            st = lt_err_set(err, LT_ERR_UNSUPPORTED, "export: the runtime refuses the model's shape: %s (%s)",
                            lt_rt_strerror(rs), info.err_what);
        free(b);
    }
    qx_free(qx);
    return st;
}
