/* ltsnn_rt.c -- the integer spiking-net runtime (ltsnn_rt.h): loads an .ltq
 * model from memory (docs/formats.md "Integer models") and runs it one
 * time step at a time, event-driven, in integers.
 *
 * C99 with <stddef.h> and <stdint.h> only: no libc call (not even memset),
 * no float, no allocation, no implementation-defined shifts of negative
 * numbers; it builds with -m32 -ffreestanding (tests/test_runtime.sh checks
 * that the object has no undefined symbols).  Hostile model files are
 * expected: every field is checked before use, sizes in 64-bit arithmetic,
 * and the value range of every integer sum is bounded at load from the
 * weights and parameters (METHOD.md §10), so a model that loads cannot
 * overflow at run time.
 *
 * Layout in the arena: the lt_rt state, the tensor and op tables, the
 * persistent part (per-channel neuron parameters, membranes, logit
 * coefficients and sums), then the per-step tensors, placed first-fit by
 * their lifetimes within a step (a buffer is reused once the last op
 * reading it has run).  Activations are stored [H][W][C] (channel fastest):
 * an active input's weight row over output channels is contiguous.
 *
 * Two kernels per weighted op: the event-driven one (the default: for each
 * nonzero input, add its weight row to the sums it reaches, so the cost
 * grows with the number of spikes) and the dense gather one (*_ref, the
 * plain oracle, lt_rt_set_dense); the neuron likewise has a vectorised loop
 * for its common case and the general loop, which the oracle mode uses for
 * every channel.  They give the same integers. */
#include "ltsnn_rt.h"

#define ALIGN 8u
#define HDR_BYTES 60u
#define NONE 0xFFFFFFFFu
#define TENSOR_BYTES 16u
#define OP_HDR_BYTES 24u
#define LIF_CH_WORDS 5u

enum { K_ACT8 = 0, K_ACT16 = 1, K_ACC32 = 2 };
enum { LIF_NEG = 1, LIF_SWAP = 2, LIF_ZERO = 4 };

typedef struct rt_tensor {
    uint32_t kind;          /* K_ACT8, K_ACT16, K_ACC32 */
    uint32_t c, h, w, n;    /* n = c*h*w values, stored [h][w][c] */
    uint32_t bound;         /* largest |value| */
    void *data;
} rt_tensor;

typedef struct rt_op {
    uint32_t type, in0, in1, out;
    const uint8_t *name;
    uint32_t name_len;
    /* CONV */
    uint32_t kh, kw, stride, pad, depthwise, wbits, row_bytes;
    const uint8_t *w;       /* weight rows, in the model */
    /* LIF */
    uint32_t lam_shift, n_in;
    int32_t *ch;            /* [8][C]: F, flags, B, TH, M, then for the fast loop 2^F (0 where F < 0 or
                             * ZERO), the threshold as U >= TH' and the flip (1 for NEG: TH' = TH + 1) */
    int fast;               /* one int32 input, every channel F >= 0: the vectorisable loop */
    int32_t *mem;           /* [h*w*c] membrane after reset */
    /* LOGITS */
    int32_t *A;             /* [K] */
    int64_t *B;             /* [K] */
    /* counts since the reset */
    uint64_t updates, active, spikes;
} rt_op;

struct lt_rt {
    uint32_t n_tensors, n_ops, classes, in_max, max_steps, steps;
    int dense;
    rt_tensor *t;
    rt_op *o;
    int64_t *logits, *sums;   /* [classes] */
    lt_rt_info info;
    uint32_t in_c, in_h, in_w;
    void (*tap)(void *, const lt_rt *, uint32_t);
    void *tap_ctx;
};

/* ---------------- little helpers ---------------- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int32_t rds32(const uint8_t *p)
{
    uint32_t u = rd32(p);
    return u & 0x80000000u ? -(int32_t)(~u) - 1 : (int32_t)u;
}

static int64_t rds64(const uint8_t *p)
{
    uint64_t u = (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
    return u & 0x8000000000000000u ? -(int64_t)(~u) - 1 : (int64_t)u;
}

/* floor(x / 2^k) without shifting a negative number (implementation-defined in C) */
static int32_t shr32(int32_t x, uint32_t k) { return x >= 0 ? x >> k : ~(~x >> k); }
static int64_t shr64(int64_t x, uint32_t k) { return x >= 0 ? x >> k : ~(~x >> k); }

/* x * 2^f for f >= 0 (in range: checked at load), floor(x / 2^-f) for f < 0 */
static int32_t shf(int32_t x, int32_t f) { return f >= 0 ? x * ((int32_t)1 << f) : shr32(x, (uint32_t)-f); }

/* a 4-bit two's-complement code from the low / high nibble */
static int32_t lo4(uint32_t b) { return (int32_t)(b & 15u) - (int32_t)((b & 8u) << 1); }
static int32_t hi4(uint32_t b) { return (int32_t)((b >> 4) & 15u) - (int32_t)((b & 0x80u) >> 3); }
static int32_t s8(uint32_t b) { return (int32_t)(b & 255u) - (int32_t)((b & 0x80u) << 1); }

/* code j of a weight row of n codes: 8-bit, one a byte; 4-bit, byte i
 * holds code i (low nibble) and code i + ceil(n/2) (high nibble), so that
 * each half of a row is a contiguous run (add_row vectorises) */
static int32_t wcode(const uint8_t *row, uint32_t j, uint32_t n, uint32_t wbits)
{
    const uint32_t h = (n + 1) / 2;
    return wbits == 8 ? s8(row[j]) : j < h ? lo4(row[j]) : hi4(row[j - h]);
}

static uint64_t pad4(uint64_t n) { return (n + 3u) & ~(uint64_t)3u; }
static uint64_t pad8(uint64_t n) { return (n + 7u) & ~(uint64_t)7u; }

static void zero_bytes(void *p, size_t n)
{
    uint8_t *b = (uint8_t *)p;
    size_t i;
    for (i = 0; i < n; i++)
        b[i] = 0;
}

/* CRC-32 (IEEE 802.3, as zlib's crc32), four bits at a time */
static uint32_t crc32_le(const uint8_t *p, size_t n)
{
    static const uint32_t tab[16] = {
        0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
        0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu, 0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        c = (c >> 4) ^ tab[c & 15u];
        c = (c >> 4) ^ tab[c & 15u];
    }
    return c ^ 0xFFFFFFFFu;
}

/* ---------------- loading: validate and lay out ---------------- */

/* What the load keeps per tensor while it checks (on the stack). */
typedef struct plan_t {
    uint16_t c, h, w;       /* shape (each side <= 65535) */
    uint8_t kind;
    int16_t first, last;    /* op producing it / last op reading it (-2: not produced) */
    uint32_t bound;         /* largest |value| */
    uint32_t off8;          /* offset into the per-step region, in 8-byte units */
} plan_t;

static uint32_t pt_n(const plan_t *t) { return (uint32_t)t->c * t->h * t->w; }

typedef struct loader {
    const uint8_t *m;
    size_t len;
    lt_rt_info *info;
    plan_t pt[LT_RT_MAX_TENSORS];
    uint32_t n_tensors, n_ops, classes;
    uint64_t persistent;    /* bytes of per-channel parameters, membranes, logit coefficients */
    int32_t max_p_log2;     /* logits: log2 of the largest per-step |L| */
} loader;

static int fail(loader *L, int st, size_t off, const char *what)
{
    L->info->err_offset = off;
    L->info->err_what = what;
    return st;
}

static int need(loader *L, size_t off, uint64_t n, const char *what)
{
    return (uint64_t)off + n > (uint64_t)L->len ? fail(L, LT_RT_ETRUNC, off, what) : LT_RT_OK;
}

static uint32_t kind_bytes(uint32_t kind) { return kind == K_ACT8 ? 1u : kind == K_ACT16 ? 2u : 4u; }
static uint32_t kind_max(uint32_t kind) { return kind == K_ACT8 ? 255u : kind == K_ACT16 ? 65535u : 0x7FFFFFFFu; }

static int header(loader *L)
{
    const uint8_t *m = L->m;
    lt_rt_info *in = L->info;
    if (L->len < 4 || m[0] != 'L' || m[1] != 'T' || m[2] != 'Q' || m[3] != 'M')
        return fail(L, LT_RT_EMAGIC, 0, "magic is not LTQM");
    if (L->len < HDR_BYTES)
        return fail(L, LT_RT_ETRUNC, L->len, "the 60-byte header is cut short");
    uint32_t ver = rd32(m + 4);
    if (ver != LT_RT_VERSION)
        return fail(L, ver > LT_RT_VERSION ? LT_RT_EVERSION : LT_RT_EMAGIC, 4,
                    ver > LT_RT_VERSION ? "a newer .ltq version than this runtime reads" : "version 0 is not a version");
    uint32_t fb = rd32(m + 8);
    if (fb < HDR_BYTES)
        return fail(L, LT_RT_ESIZE, 8, "file size smaller than the header");
    if ((uint64_t)fb > (uint64_t)L->len)
        return fail(L, LT_RT_ETRUNC, L->len, "the model is shorter than the file size in its header");
    L->len = fb; /* bytes past the model (padding in flash) are not part of it */
    if (crc32_le(m + 16, fb - 16u) != rd32(m + 12))
        return fail(L, LT_RT_ECRC, 12, "checksum mismatch: the model is corrupt");
    L->n_tensors = rd32(m + 16);
    L->n_ops = rd32(m + 20);
    in->in_c = rd32(m + 24), in->in_h = rd32(m + 28), in->in_w = rd32(m + 32);
    in->in_max = rd32(m + 36);
    in->classes = L->classes = rd32(m + 40);
    in->T = rd32(m + 44);
    in->logit_shift = rds32(m + 48);
    if (L->n_tensors < 2 || L->n_tensors > LT_RT_MAX_TENSORS)
        return fail(L, LT_RT_ESIZE, 16, "tensor count outside 2..128 (LT_RT_MAX_TENSORS)");
    if (L->n_ops < 1 || L->n_ops > LT_RT_MAX_OPS)
        return fail(L, LT_RT_ESIZE, 20, "op count outside 1..128 (LT_RT_MAX_OPS)");
    if (in->in_max < 1 || in->in_max > 255)
        return fail(L, LT_RT_ESIZE, 36, "input maximum outside 1..255");
    if (in->classes < 1 || in->classes > 65535)
        return fail(L, LT_RT_ESIZE, 40, "class count outside 1..65535");
    if (in->logit_shift < -62 || in->logit_shift > 62)
        return fail(L, LT_RT_ESIZE, 48, "logit shift outside -62..62");
    if (rd32(m + 56) != 0)
        return fail(L, LT_RT_ESIZE, 56, "reserved header field is not 0");
    in->n_ops = L->n_ops, in->n_tensors = L->n_tensors;
    in->flash_bytes = fb;
    return LT_RT_OK;
}

static int tensors(loader *L, size_t *pos)
{
    uint64_t meta = rd32(L->m + 52);
    size_t p = HDR_BYTES;
    if (need(L, p, pad4(meta), "metadata text runs past the end"))
        return LT_RT_ETRUNC;
    p += (size_t)pad4(meta);
    if (need(L, p, (uint64_t)L->n_tensors * TENSOR_BYTES, "tensor table runs past the end"))
        return LT_RT_ETRUNC;
    uint32_t i;
    for (i = 0; i < L->n_tensors; i++, p += TENSOR_BYTES) {
        plan_t *t = &L->pt[i];
        uint32_t kind = rd32(L->m + p), c = rd32(L->m + p + 4), h = rd32(L->m + p + 8), w = rd32(L->m + p + 12);
        if (kind > K_ACC32)
            return fail(L, LT_RT_EGRAPH, p, "tensor kind is not 0 (8-bit), 1 (16-bit) or 2 (int32 sums)");
        if (c < 1 || h < 1 || w < 1 || c > 65535 || h > 65535 || w > 65535 ||
            (uint64_t)c * h * w > ((uint64_t)1 << 24))
            return fail(L, LT_RT_ESIZE, p + 4, "tensor shape outside 1..65535 per side or 2^24 values");
        t->kind = (uint8_t)kind, t->c = (uint16_t)c, t->h = (uint16_t)h, t->w = (uint16_t)w;
        t->bound = 0;
        t->first = t->last = -2; /* not produced yet */
        t->off8 = 0;
    }
    plan_t *t0 = &L->pt[0];
    if (t0->kind != K_ACT8 || t0->c != L->info->in_c || t0->h != L->info->in_h || t0->w != L->info->in_w)
        return fail(L, LT_RT_EGRAPH, p - (size_t)L->n_tensors * TENSOR_BYTES,
                    "tensor 0 is not the 8-bit input of the header's shape");
    t0->first = t0->last = -1;
    t0->bound = L->info->in_max;
    *pos = p;
    return LT_RT_OK;
}

/* an input of op `op` at byte `at`: produced earlier, of the kinds allowed (a bit per kind) */
static int use(loader *L, uint32_t id, int32_t op, unsigned kinds, size_t at, plan_t **out)
{
    if (id >= L->n_tensors || L->pt[id].first == -2)
        return fail(L, LT_RT_EGRAPH, at, "an op reads a tensor no earlier op produced");
    if (!(kinds >> L->pt[id].kind & 1u))
        return fail(L, LT_RT_EGRAPH, at, "an op reads a tensor of the wrong kind");
    L->pt[id].last = (int16_t)op;
    *out = &L->pt[id];
    return LT_RT_OK;
}

static int produce(loader *L, uint32_t id, int32_t op, unsigned kinds, size_t at, plan_t **out)
{
    if (id == 0 || id >= L->n_tensors || L->pt[id].first != -2)
        return fail(L, LT_RT_EGRAPH, at, "an op writes the input, an unknown tensor, or one already written");
    if (!(kinds >> L->pt[id].kind & 1u))
        return fail(L, LT_RT_EGRAPH, at, "an op writes a tensor of the wrong kind");
    L->pt[id].first = L->pt[id].last = (int16_t)op;
    *out = &L->pt[id];
    return LT_RT_OK;
}

#define ACT ((1u << K_ACT8) | (1u << K_ACT16))
#define ACC (1u << K_ACC32)
#define ANY (ACT | ACC)
#define LIM30 ((uint64_t)1 << 30)

/* an activation's bound must fit its storage */
static int fits(loader *L, plan_t *t, uint64_t bound, size_t at)
{
    if (bound > kind_max(t->kind))
        return fail(L, LT_RT_ERANGE, at, "values can exceed the tensor's 8 or 16 bits");
    t->bound = (uint32_t)bound;
    return LT_RT_OK;
}

static int check_conv(loader *L, const uint8_t *p, uint32_t pbytes, size_t at, plan_t *x, plan_t *y, rt_op *o)
{
    if (pbytes < 24)
        return fail(L, LT_RT_ESIZE, at, "conv parameters shorter than 24 bytes");
    uint32_t kh = rd32(p), kw = rd32(p + 4), st = rd32(p + 8), pad = rd32(p + 12), dw = rd32(p + 16);
    uint32_t wb = rd32(p + 20);
    if (kh < 1 || kh > 31 || kw < 1 || kw > 31 || st < 1 || st > 16 || pad >= kh || pad >= kw || dw > 1)
        return fail(L, LT_RT_ESIZE, at, "conv geometry outside kernel 1..31, stride 1..16, pad < kernel");
    if (wb != 4 && wb != 8)
        return fail(L, LT_RT_ESIZE, at + 20, "conv weight bits are not 4 or 8");
    uint64_t rows = dw ? (uint64_t)kh * kw : (uint64_t)x->c * kh * kw, rlen = y->c;
    uint32_t hp = (uint32_t)x->h + 2u * pad, wp = (uint32_t)x->w + 2u * pad; /* < 2^17 */
    if (hp < kh || wp < kw || y->h != (hp - kh) / st + 1 || y->w != (wp - kw) / st + 1 || (dw && y->c != x->c))
        return fail(L, LT_RT_EGRAPH, at, "conv output shape does not follow from its input and geometry");
    uint64_t rb = wb == 4 ? (rlen + 1) / 2 : rlen;
    if (pbytes != 24 + pad4(rows * rb))
        return fail(L, LT_RT_ESIZE, at, "conv parameter size does not match its shape");
    uint64_t fan = (dw ? 1u : (uint64_t)x->c) * kh * kw;
    uint64_t bound = (uint64_t)x->bound * fan * (wb == 4 ? 8u : 128u);
    if (bound > LIM30)
        return fail(L, LT_RT_ERANGE, at, "conv sums could exceed 2^30");
    y->bound = (uint32_t)bound;
    if (o)
        o->kh = kh, o->kw = kw, o->stride = st, o->pad = pad, o->depthwise = dw, o->wbits = wb,
        o->row_bytes = (uint32_t)rb, o->w = p + 24;
    return LT_RT_OK;
}

static int check_linear(loader *L, const uint8_t *p, uint32_t pbytes, size_t at, plan_t *x, plan_t *y, rt_op *o)
{
    if (pbytes < 4 || rd32(p) != 8)
        return fail(L, LT_RT_ESIZE, at, "linear weight bits are not 8");
    if (y->h != 1 || y->w != 1 || pbytes != 4 + pad4((uint64_t)pt_n(x) * y->c))
        return fail(L, LT_RT_ESIZE, at, "linear parameter size or output shape does not match");
    uint64_t bound = (uint64_t)x->bound * pt_n(x) * 128u;
    if (bound > LIM30)
        return fail(L, LT_RT_ERANGE, at, "linear sums could exceed 2^30");
    y->bound = (uint32_t)bound;
    if (o)
        o->wbits = 8, o->row_bytes = y->c, o->w = p + 4;
    return LT_RT_OK;
}

/* METHOD.md §10's neuron: every channel's input range must keep |x| <= 2^29 */
static int check_lif(loader *L, const uint8_t *p, uint32_t pbytes, size_t at, uint32_t nin, plan_t *a, plan_t *b,
                     plan_t *y, rt_op *o)
{
    if (pbytes < 8)
        return fail(L, LT_RT_ESIZE, at, "neuron parameters shorter than 8 bytes");
    uint32_t k = rd32(p), n_in = rd32(p + 4);
    if (k < 1 || k > 31)
        return fail(L, LT_RT_ESIZE, at, "leak shift outside 1..31");
    if (n_in != nin)
        return fail(L, LT_RT_EGRAPH, at + 4, "neuron input count differs from the op's inputs");
    if (a->c != y->c || a->h != y->h || a->w != y->w || (b && (b->c != y->c || b->h != y->h || b->w != y->w)))
        return fail(L, LT_RT_EGRAPH, at, "neuron inputs and output differ in shape");
    if (pbytes != 8 + (uint64_t)y->c * LIF_CH_WORDS * 4u)
        return fail(L, LT_RT_ESIZE, at, "neuron parameter size is not 8 + 20 per channel");
    uint32_t c;
    for (c = 0; c < y->c; c++) {
        const uint8_t *q = p + 8 + (size_t)c * LIF_CH_WORDS * 4u;
        size_t qa = at + 8 + (size_t)c * LIF_CH_WORDS * 4u;
        int32_t F = rds32(q), M = rds32(q + 16);
        uint32_t fl = rd32(q + 4);
        int64_t B = rds32(q + 8);
        if (F < -31 || F > 24 || fl > 7 || M < -(1 << 30) || M > (1 << 30) || (n_in == 1 && (M || (fl & LIF_SWAP))) ||
            rds32(q + 12) == 0x7FFFFFFF)
            return fail(L, LT_RT_ERANGE, qa, "neuron channel: shift outside -31..24, unknown flags, |M| > 2^30 or TH = 2^31 - 1");
        uint64_t x = (uint64_t)(B < 0 ? -B : B);
        if (!(fl & LIF_ZERO)) {
            const plan_t *pp = (fl & LIF_SWAP) ? b : a, *po = (fl & LIF_SWAP) ? a : b;
            uint64_t bp = pp->bound;
            x += F >= 0 ? bp << F : (bp >> (uint32_t)-F) + 1u;
            if (po)
                x += (((uint64_t)po->bound * (uint64_t)(M < 0 ? -(int64_t)M : M)) >> (30 - F)) + 1u;
        }
        if (x > ((uint64_t)1 << 29))
            return fail(L, LT_RT_ERANGE, qa, "neuron channel: the membrane could exceed 2^30");
    }
    y->bound = 1;
    L->persistent += pad8((uint64_t)y->c * (LIF_CH_WORDS + 3) * 4u) + pad8((uint64_t)pt_n(y) * 4u);
    if (o)
        o->lam_shift = k, o->n_in = n_in;
    return LT_RT_OK;
}

static int check_logits(loader *L, const uint8_t *p, uint32_t pbytes, size_t at, plan_t *x)
{
    uint32_t K = L->classes, k;
    if (x->c != K || x->h != 1 || x->w != 1)
        return fail(L, LT_RT_EGRAPH, at, "logits read a tensor that is not [classes, 1, 1]");
    if (pbytes != 12u * K)
        return fail(L, LT_RT_ESIZE, at, "logit parameter size is not 12 per class");
    uint64_t worst = 1;
    for (k = 0; k < K; k++) {
        int64_t A = rds32(p + 4u * k), B = rds64(p + 4u * K + 8u * k);
        if (B < -((int64_t)1 << 46) || B > ((int64_t)1 << 46))
            return fail(L, LT_RT_ERANGE, at + 4u * K + 8u * k, "logit offset beyond 2^46");
        uint64_t v = (uint64_t)(A < 0 ? -A : A) * x->bound + (uint64_t)(B < 0 ? -B : B);
        if (v > ((uint64_t)1 << 46))
            return fail(L, LT_RT_ERANGE, at + 4u * k, "a logit could exceed 2^46 per step");
        worst = v > worst ? v : worst;
    }
    int32_t lg = 0;
    while (lg < 62 && ((uint64_t)1 << lg) < worst)
        lg++;
    L->max_p_log2 = lg;
    L->persistent += pad8(4u * (uint64_t)K) + 8u * (uint64_t)K;
    return LT_RT_OK;
}

/* One op record at *pos; o (when laying out) gets its fields. */
static int check_op(loader *L, int32_t i, size_t *pos, rt_op *o)
{
    size_t at = *pos;
    if (need(L, at, OP_HDR_BYTES, "op record runs past the end"))
        return LT_RT_ETRUNC;
    const uint8_t *h = L->m + at;
    uint32_t type = rd32(h), in0 = rd32(h + 4), in1 = rd32(h + 8), out = rd32(h + 12), nb = rd32(h + 16);
    uint32_t pb = rd32(h + 20);
    if (type < LT_RT_OP_CONV || type > LT_RT_OP_LOGITS)
        return fail(L, LT_RT_EOP, at, "an op type this runtime does not know");
    if (nb > 4096)
        return fail(L, LT_RT_ESIZE, at + 16, "op name longer than 4096 bytes");
    if (need(L, at + OP_HDR_BYTES, pad4(nb) + (uint64_t)pb, "op name or parameters run past the end"))
        return LT_RT_ETRUNC;
    if (pb % 4)
        return fail(L, LT_RT_ESIZE, at + 20, "op parameter size is not a multiple of 4");
    const uint8_t *p = h + OP_HDR_BYTES + pad4(nb);
    size_t pa = at + OP_HDR_BYTES + (size_t)pad4(nb);
    *pos = pa + pb;
    if (o) {
        o->type = type, o->in0 = in0, o->in1 = in1, o->out = out;
        o->name = h + OP_HDR_BYTES, o->name_len = nb;
    }
    plan_t *x = NULL, *x1 = NULL, *y = NULL;
    int st;
    int last = i + 1 == (int32_t)L->n_ops;
    if ((type == LT_RT_OP_LOGITS) != last)
        return fail(L, LT_RT_EGRAPH, at, "the logits op must be the last op, and only the last");
    if (type != LT_RT_OP_LIF && in1 != NONE)
        return fail(L, LT_RT_EGRAPH, at + 8, "only a neuron op has a second input");
    switch (type) {
    case LT_RT_OP_CONV:
        if ((st = use(L, in0, i, ACT, at + 4, &x)) || (st = produce(L, out, i, ACC, at + 12, &y)))
            return st;
        return check_conv(L, p, pb, pa, x, y, o);
    case LT_RT_OP_LINEAR:
        if ((st = use(L, in0, i, ACT, at + 4, &x)) || (st = produce(L, out, i, ACC, at + 12, &y)))
            return st;
        return check_linear(L, p, pb, pa, x, y, o);
    case LT_RT_OP_LIF:
        if ((st = use(L, in0, i, ANY, at + 4, &x)) || (in1 != NONE && (st = use(L, in1, i, ANY, at + 8, &x1))) ||
            (st = produce(L, out, i, 1u << K_ACT8, at + 12, &y)))
            return st;
        return check_lif(L, p, pb, pa, in1 != NONE ? 2u : 1u, x, x1, y, o);
    case LT_RT_OP_SUMPOOL:
    case LT_RT_OP_MAXPOOL:
    case LT_RT_OP_GAP:
        if ((st = use(L, in0, i, ACT, at + 4, &x)) || (st = produce(L, out, i, ACT, at + 12, &y)))
            return st;
        if (pb)
            return fail(L, LT_RT_ESIZE, at + 20, "a pooling op has no parameters");
        if (type == LT_RT_OP_GAP ? (y->c != x->c || y->h != 1 || y->w != 1)
                                 : (x->h < 2 || x->w < 2 || y->c != x->c || y->h != x->h / 2 || y->w != x->w / 2))
            return fail(L, LT_RT_EGRAPH, at, "pooling output shape does not follow from its input");
        return fits(L, y, type == LT_RT_OP_MAXPOOL ? x->bound
                          : type == LT_RT_OP_SUMPOOL ? 4u * (uint64_t)x->bound
                                                     : (uint64_t)x->h * x->w * x->bound, at + 12);
    default: /* LT_RT_OP_LOGITS */
        if (out != NONE)
            return fail(L, LT_RT_EGRAPH, at + 12, "the logits op writes no tensor");
        if ((st = use(L, in0, i, ACC, at + 4, &x)))
            return st;
        return check_logits(L, p, pb, pa, x);
    }
}

static uint64_t pt_bytes(const plan_t *t)
{
    return t->first == -2 ? 0 : pad8((uint64_t)pt_n(t) * kind_bytes(t->kind));
}

/* First-fit by lifetime: each tensor, in the order ops make them, at the
 * lowest offset clear of every placed tensor live at the same time
 * (candidates: 0 and the end of each of those). */
static uint64_t place(loader *L)
{
    uint64_t top = 0;
    uint32_t i, j, k;
    for (i = 0; i < L->n_tensors; i++) {
        plan_t *t = &L->pt[i];
        uint64_t tb = pt_bytes(t), best = (uint64_t)-1;
        if (!tb)
            continue;
        for (j = 0; j <= i; j++) {
            const plan_t *c = &L->pt[j];
            if (j < i && (!pt_bytes(c) || c->first > t->last || t->first > c->last))
                continue;
            uint64_t cand = j == i ? 0 : 8u * (uint64_t)c->off8 + pt_bytes(c);
            int clash = 0;
            for (k = 0; k < i && !clash; k++) {
                const plan_t *u = &L->pt[k];
                uint64_t uo = 8u * (uint64_t)u->off8, ub = pt_bytes(u);
                clash = ub && u->first <= t->last && t->first <= u->last && cand < uo + ub && uo < cand + tb;
            }
            if (!clash && cand < best)
                best = cand;
        }
        t->off8 = (uint32_t)(best / 8u);
        if (best + tb > top)
            top = best + tb;
    }
    return top;
}

/* the fixed part of the arena: state, tables */
static uint64_t state_bytes(uint32_t nt, uint32_t no, uint32_t K)
{
    return pad8(sizeof(lt_rt)) + pad8((uint64_t)nt * sizeof(rt_tensor)) + pad8((uint64_t)no * sizeof(rt_op)) +
           2u * 8u * (uint64_t)K;
}

/* Everything but writing: header, tensors, ops, ranges, the plan. */
static int load(loader *L, rt_op *ops, uint64_t *total, uint64_t *per_step)
{
    size_t pos;
    int st;
    int32_t i;
    if ((st = header(L)) || (st = tensors(L, &pos)))
        return st;
    L->persistent = 0;
    for (i = 0; i < (int32_t)L->n_ops; i++)
        if ((st = check_op(L, i, &pos, ops ? &ops[i] : NULL)))
            return st;
    if (pos != L->len)
        return fail(L, LT_RT_ESIZE, pos, "bytes after the last op");
    L->pt[0].last = L->pt[0].last < 0 ? 0 : L->pt[0].last;
    L->pt[0].first = 0;
    *per_step = place(L);
    *total = state_bytes(L->n_tensors, L->n_ops, L->classes) + L->persistent + *per_step + ALIGN;
    if (*total > (uint64_t)((size_t)-1) / 2)
        return fail(L, LT_RT_ESIZE, 0, "the arena would not fit this machine's address space");
    L->info->arena_bytes = (size_t)*total;
    L->info->persistent_bytes = (size_t)(*total - *per_step);
    L->info->max_steps = 62 - L->max_p_log2 >= 31 ? 0x7FFFFFFFu : (uint32_t)1 << (62 - L->max_p_log2);
    return LT_RT_OK;
}

static void info_clear(lt_rt_info *info)
{
    zero_bytes(info, sizeof *info);
    info->err_what = "";
}

/* the first pass of both entry points: every check and the sizes, nothing written */
static int begin(loader *L, lt_rt_info *info, const void *model, size_t len, uint64_t *total, uint64_t *per_step)
{
    info_clear(info);
    L->m = (const uint8_t *)model, L->len = model ? len : 0, L->info = info;
    return load(L, NULL, total, per_step);
}

int lt_rt_arena_size(const void *model, size_t len, size_t *bytes, lt_rt_info *info)
{
    lt_rt_info local;
    loader L;
    uint64_t total, per_step;
    int st = begin(&L, info ? info : &local, model, len, &total, &per_step);
    if (!st)
        *bytes = (size_t)total;
    return st;
}

int lt_rt_init(lt_rt **out, void *arena, size_t arena_len, const void *model, size_t len, lt_rt_info *info)
{
    lt_rt_info local;
    loader L;
    uint64_t total, per_step;
    if (!info)
        info = &local;
    *out = 0;
    int st = begin(&L, info, model, len, &total, &per_step);
    if (st)
        return st;
    if (!arena || arena_len < total)
        return fail(&L, LT_RT_EARENA, 0, "the arena is smaller than lt_rt_arena_size says");
    uint8_t *a = (uint8_t *)arena;
    a += (ALIGN - (uintptr_t)a % ALIGN) % ALIGN;
    zero_bytes(a, (size_t)(total - ALIGN));
    lt_rt *rt = (lt_rt *)(void *)a;
    uint8_t *p = a + pad8(sizeof(lt_rt));
    rt->t = (rt_tensor *)(void *)p;
    p += pad8((uint64_t)L.n_tensors * sizeof(rt_tensor));
    rt->o = (rt_op *)(void *)p;
    p += pad8((uint64_t)L.n_ops * sizeof(rt_op));
    rt->logits = (int64_t *)(void *)p;
    rt->sums = rt->logits + L.classes;
    p += 16u * (size_t)L.classes;
    /* the second pass fills the op table (same model, same results) */
    if ((st = load(&L, rt->o, &total, &per_step)))
        return st;
    rt->n_tensors = L.n_tensors, rt->n_ops = L.n_ops, rt->classes = L.classes, rt->in_max = info->in_max;
    rt->in_c = info->in_c, rt->in_h = info->in_h, rt->in_w = info->in_w;
    rt->max_steps = info->max_steps;
    uint32_t i, c;
    for (i = 0; i < L.n_ops; i++) {
        rt_op *o = &rt->o[i];
        const uint8_t *h = o->name + pad4(o->name_len); /* the parameters follow the padded name */
        if (o->type == LT_RT_OP_LIF) {
            uint32_t C = L.pt[o->out].c, n = pt_n(&L.pt[o->out]);
            /* the file's [C][5] as arrays of C, and the fast loop's forms: U <= TH is not U >= TH + 1 */
            o->ch = (int32_t *)(void *)p;
            o->fast = o->n_in == 1 && L.pt[o->in0].kind == K_ACC32;
            for (c = 0; c < C; c++) {
                uint32_t f;
                for (f = 0; f < LIF_CH_WORDS; f++)
                    o->ch[f * C + c] = rds32(h + 8 + 4u * (c * LIF_CH_WORDS + f));
                const int32_t F = o->ch[c], fl = o->ch[C + c];
                o->ch[5 * C + c] = (fl & LIF_ZERO) || F < 0 ? 0 : (int32_t)1 << F;
                o->ch[6 * C + c] = o->ch[3 * C + c] + ((fl & LIF_NEG) ? 1 : 0); /* |TH| <= 2^31 - 2: checked */
                o->ch[7 * C + c] = (fl & LIF_NEG) ? 1 : 0;
                o->fast &= F >= 0 || (fl & LIF_ZERO);
            }
            p += pad8((uint64_t)C * (LIF_CH_WORDS + 3) * 4u);
            o->mem = (int32_t *)(void *)p;
            p += pad8((uint64_t)n * 4u);
        } else if (o->type == LT_RT_OP_LOGITS) {
            uint32_t K = L.classes;
            o->A = (int32_t *)(void *)p;
            p += pad8(4u * (uint64_t)K);
            o->B = (int64_t *)(void *)p;
            p += 8u * (size_t)K;
            for (c = 0; c < K; c++)
                o->A[c] = rds32(h + 4u * c), o->B[c] = rds64(h + 4u * K + 8u * c);
        }
    }
    for (i = 0; i < L.n_tensors; i++) {
        rt_tensor *t = &rt->t[i];
        const plan_t *q = &L.pt[i];
        t->kind = q->kind, t->c = q->c, t->h = q->h, t->w = q->w, t->n = pt_n(q), t->bound = q->bound;
        t->data = pt_bytes(q) ? (void *)(p + 8u * (size_t)q->off8) : 0;
    }
    rt->info = *info;
    *out = rt;
    lt_rt_reset(rt);
    return LT_RT_OK;
}

void lt_rt_reset(lt_rt *rt)
{
    uint32_t i, k;
    for (i = 0; i < rt->n_ops; i++) {
        rt_op *o = &rt->o[i];
        if (o->mem)
            zero_bytes(o->mem, (size_t)rt->t[o->out].n * 4u);
        o->updates = o->active = o->spikes = 0;
    }
    for (k = 0; k < rt->classes; k++)
        rt->logits[k] = rt->sums[k] = 0;
    rt->steps = 0;
}

void lt_rt_set_dense(lt_rt *rt, int dense) { rt->dense = dense != 0; }

void lt_rt_set_tap(lt_rt *rt, void (*tap)(void *ctx, const lt_rt *rt, uint32_t op), void *ctx)
{
    rt->tap = tap, rt->tap_ctx = ctx;
}

/* ---------------- kernels ---------------- */

static uint32_t act_get(const rt_tensor *t, uint32_t i)
{
    return t->kind == K_ACT8 ? ((const uint8_t *)t->data)[i] : ((const uint16_t *)t->data)[i];
}

static int32_t val_get(const rt_tensor *t, uint32_t i)
{
    return t->kind == K_ACC32 ? ((const int32_t *)t->data)[i] : (int32_t)act_get(t, i);
}

/* acc[j] += v * code j of a row of n codes (wcode's layout); a spike
 * (v = 1) only adds */
static void add_row(int32_t *restrict acc, const uint8_t *restrict row, uint32_t n, uint32_t wbits, int32_t v)
{
    uint32_t j;
    if (wbits == 8) {
        if (v == 1)
            for (j = 0; j < n; j++)
                acc[j] += s8(row[j]);
        else
            for (j = 0; j < n; j++)
                acc[j] += v * s8(row[j]);
        return;
    }
    const uint32_t h = (n + 1) / 2, h2 = n - h; /* the high nibbles of the last byte are unused when n is odd */
    int32_t *restrict hi = acc + h;
    if (v == 1) {
        for (j = 0; j < h; j++)
            acc[j] += lo4(row[j]);
        for (j = 0; j < h2; j++)
            hi[j] += hi4(row[j]);
    } else {
        for (j = 0; j < h; j++)
            acc[j] += v * lo4(row[j]);
        for (j = 0; j < h2; j++)
            hi[j] += v * hi4(row[j]);
    }
}

/* the output coordinate an input coordinate reaches through kernel offset
 * k, or -1: o*stride - pad + k = i */
static int32_t reach(uint32_t i, uint32_t k, uint32_t pad, uint32_t stride, uint32_t n_out)
{
    int32_t d = (int32_t)i + (int32_t)pad - (int32_t)k;
    if (d < 0 || (stride > 1 && (uint32_t)d % stride))
        return -1;
    uint32_t o = stride > 1 ? (uint32_t)d / stride : (uint32_t)d;
    return o < n_out ? (int32_t)o : -1;
}

/* The kernel offsets k (and output coordinates o) through which input
 * coordinate i reaches the output along one axis; returns how many. */
static uint32_t reaches(uint32_t *ks, uint32_t *os, uint32_t i, uint32_t kn, uint32_t pad, uint32_t stride,
                        uint32_t n_out)
{
    uint32_t k, n = 0;
    for (k = 0; k < kn; k++) {
        int32_t o = reach(i, k, pad, stride, n_out);
        if (o >= 0)
            ks[n] = k, os[n++] = (uint32_t)o;
    }
    return n;
}

/* nonzero if any of 16 bytes is (one vector compare where the compiler can) */
static uint32_t any16(const uint8_t *p)
{
    uint32_t j, a = 0;
    for (j = 0; j < 16; j++)
        a |= p[j];
    return a;
}

/* Event-driven convolution: every nonzero input adds its weight rows (one
 * per kernel offset that reaches the output) to the sums it reaches.  The
 * input is scanned for nonzero values; only those cost more than a byte
 * compare. */
static void conv_event(rt_op *o, const rt_tensor *x, rt_tensor *y)
{
    int32_t *restrict acc = (int32_t *)y->data;
    const uint32_t C = x->c, W = x->w, Co = y->c, Wo = y->w, Ho = y->h, rb = o->row_bytes, n_in = x->n;
    const uint32_t kh = o->kh, kw = o->kw, pad = o->pad, st = o->stride, wb = o->wbits, dw = o->depthwise;
    const uint8_t *in8 = x->kind == K_ACT8 ? (const uint8_t *)x->data : 0;
    const uint8_t *w = o->w;
    uint32_t kys[32], oys[32], kxs[32], oxs[32];
    uint32_t i, a, b, n_out = y->n;
    uint64_t active = 0, updates = 0;
    for (i = 0; i < n_out; i++)
        acc[i] = 0;
    for (i = 0; i < n_in; i++) {
        int32_t v;
        if (in8) {
            while (i + 16 <= n_in && !any16(in8 + i))
                i += 16;
            while (i < n_in && !in8[i])
                i++;
            if (i == n_in)
                break;
            v = in8[i];
        } else if (!(v = (int32_t)act_get(x, i))) {
            continue;
        }
        const uint32_t c = i % C, pos = i / C, yy = pos / W, xx = pos % W;
        const uint32_t ny = reaches(kys, oys, yy, kh, pad, st, Ho), nx = reaches(kxs, oxs, xx, kw, pad, st, Wo);
        active++;
        for (a = 0; a < ny; a++)
            for (b = 0; b < nx; b++) {
                int32_t *sum = acc + (oys[a] * Wo + oxs[b]) * Co;
                const uint32_t k = kys[a] * kw + kxs[b];
                if (dw)
                    sum[c] += v * wcode(w + (size_t)k * rb, c, Co, wb);
                else
                    add_row(sum, w + ((size_t)c * kh * kw + k) * rb, Co, wb, v);
            }
        updates += (uint64_t)ny * nx * (dw ? 1u : Co);
    }
    o->active += active;
    o->updates += updates;
}

/* The oracle: each output sums its receptive field (gather). */
static void conv_ref(const rt_op *o, const rt_tensor *x, rt_tensor *y)
{
    int32_t *acc = (int32_t *)y->data;
    const uint32_t C = x->c, Co = y->c;
    uint32_t oy, ox, co, c, ky, kx;
    for (oy = 0; oy < y->h; oy++)
        for (ox = 0; ox < y->w; ox++)
            for (co = 0; co < Co; co++) {
                int32_t s = 0;
                for (ky = 0; ky < o->kh; ky++)
                    for (kx = 0; kx < o->kw; kx++) {
                        int32_t iy = (int32_t)(oy * o->stride + ky) - (int32_t)o->pad;
                        int32_t ix = (int32_t)(ox * o->stride + kx) - (int32_t)o->pad;
                        if (iy < 0 || ix < 0 || (uint32_t)iy >= x->h || (uint32_t)ix >= x->w)
                            continue;
                        uint32_t base = ((uint32_t)iy * x->w + (uint32_t)ix) * C;
                        if (o->depthwise) {
                            s += (int32_t)act_get(x, base + co) *
                                 wcode(o->w + (size_t)(ky * o->kw + kx) * o->row_bytes, co, Co, o->wbits);
                            continue;
                        }
                        for (c = 0; c < C; c++)
                            s += (int32_t)act_get(x, base + c) *
                                 wcode(o->w + (size_t)((c * o->kh + ky) * o->kw + kx) * o->row_bytes, co, Co, o->wbits);
                    }
                acc[(oy * y->w + ox) * Co + co] = s;
            }
}

static void linear_event(rt_op *o, const rt_tensor *x, rt_tensor *y)
{
    int32_t *acc = (int32_t *)y->data;
    uint32_t i;
    for (i = 0; i < y->n; i++)
        acc[i] = 0;
    for (i = 0; i < x->n; i++) {
        int32_t v = (int32_t)act_get(x, i);
        if (!v)
            continue;
        o->active++;
        add_row(acc, o->w + (size_t)i * o->row_bytes, y->n, 8, v);
        o->updates += y->n;
    }
}

static void linear_ref(const rt_op *o, const rt_tensor *x, rt_tensor *y)
{
    int32_t *acc = (int32_t *)y->data;
    uint32_t i, j;
    for (j = 0; j < y->n; j++) {
        int32_t s = 0;
        for (i = 0; i < x->n; i++)
            s += (int32_t)act_get(x, i) * s8(o->w[(size_t)i * o->row_bytes + j]);
        acc[j] = s;
    }
}

/* one position's C channels of the common case: one int32 input, F >= 0
 * (branch-free, so it vectorises); returns the spikes */
static uint32_t lif_row(uint8_t *restrict s, int32_t *restrict mem, const int32_t *restrict a0,
                        const int32_t *restrict B, const int32_t *restrict MUL, const int32_t *restrict TH1,
                        const int32_t *restrict FLIP, uint32_t C, uint32_t k)
{
    uint32_t c, spikes = 0;
    for (c = 0; c < C; c++) {
        int32_t u = (k >= 31 ? 0 : shr32(mem[c], k)) + B[c] + a0[c] * MUL[c];
        int32_t sp = (u >= TH1[c]) ^ FLIP[c]; /* U >= TH, or U <= TH, which is not U >= TH + 1 */
        s[c] = (uint8_t)sp;
        mem[c] = u & (sp - 1);
        spikes += (uint32_t)sp;
    }
    return spikes;
}

/* METHOD.md §10's neuron (see the header) on [h][w][c] values, so the
 * channel runs fastest.  The common case, one int32 input and every
 * channel's F >= 0, is a branch-free loop the compiler vectorises; the
 * general one handles a second input, F < 0 and swapped units, and every
 * case in the oracle mode (ref). */
static void lif(rt_op *o, const rt_tensor *x0, const rt_tensor *x1, rt_tensor *y, int ref)
{
    uint8_t *restrict s = (uint8_t *)y->data;
    int32_t *restrict mem = o->mem;
    const uint32_t C = y->c, HW = y->h * y->w, k = o->lam_shift;
    const int32_t *F = o->ch, *FL = o->ch + C, *B = o->ch + 2 * C, *TH = o->ch + 3 * C, *M = o->ch + 4 * C;
    const int32_t *MUL = o->ch + 5 * C, *TH1 = o->ch + 6 * C, *FLIP = o->ch + 7 * C;
    uint32_t n, c, i = 0, spikes = 0;
    if (o->fast && !ref) {
        for (n = 0; n < HW; n++, i += C)
            spikes += lif_row(s + i, mem + i, (const int32_t *)x0->data + i, B, MUL, TH1, FLIP, C, k);
        o->spikes += spikes;
        return;
    }
    for (n = 0; n < HW; n++)
        for (c = 0; c < C; c++, i++) {
            int32_t x = B[c];
            if (!(FL[c] & LIF_ZERO)) {
                const rt_tensor *xp = (FL[c] & LIF_SWAP) ? x1 : x0, *xo = (FL[c] & LIF_SWAP) ? x0 : x1;
                x += shf(val_get(xp, i), F[c]);
                if (xo)
                    x += (int32_t)shr64((int64_t)val_get(xo, i) * M[c], (uint32_t)(30 - F[c]));
            }
            int32_t u = (k >= 31 ? 0 : shr32(mem[i], k)) + x;
            uint32_t sp = (FL[c] & LIF_NEG) ? u <= TH[c] : u >= TH[c];
            s[i] = (uint8_t)sp;
            mem[i] = sp ? 0 : u;
            spikes += sp;
        }
    o->spikes += spikes;
}

static void pool(const rt_op *o, const rt_tensor *x, rt_tensor *y)
{
    const uint32_t C = x->c;
    uint32_t oy, ox, c;
    for (oy = 0; oy < y->h; oy++)
        for (ox = 0; ox < y->w; ox++)
            for (c = 0; c < C; c++) {
                uint32_t a = act_get(x, ((2 * oy) * x->w + 2 * ox) * C + c);
                uint32_t b = act_get(x, ((2 * oy) * x->w + 2 * ox + 1) * C + c);
                uint32_t d = act_get(x, ((2 * oy + 1) * x->w + 2 * ox) * C + c);
                uint32_t e = act_get(x, ((2 * oy + 1) * x->w + 2 * ox + 1) * C + c);
                uint32_t v;
                if (o->type == LT_RT_OP_SUMPOOL) {
                    v = a + b + d + e;
                } else {
                    v = a > b ? a : b;
                    v = d > v ? d : v;
                    v = e > v ? e : v;
                }
                uint32_t j = (oy * y->w + ox) * C + c;
                if (y->kind == K_ACT8)
                    ((uint8_t *)y->data)[j] = (uint8_t)v;
                else
                    ((uint16_t *)y->data)[j] = (uint16_t)v;
            }
}

static void gap(const rt_tensor *x, rt_tensor *y)
{
    uint32_t c, i;
    for (c = 0; c < x->c; c++) {
        uint32_t v = 0;
        for (i = 0; i < x->h * x->w; i++)
            v += act_get(x, i * x->c + c);
        if (y->kind == K_ACT8)
            ((uint8_t *)y->data)[c] = (uint8_t)v;
        else
            ((uint16_t *)y->data)[c] = (uint16_t)v;
    }
}

static void logits(lt_rt *rt, const rt_op *o, const rt_tensor *x)
{
    const int32_t *acc = (const int32_t *)x->data;
    uint32_t k;
    for (k = 0; k < rt->classes; k++) {
        rt->logits[k] = (int64_t)o->A[k] * acc[k] + o->B[k];
        rt->sums[k] += rt->logits[k];
    }
}

/* ---------------- running ---------------- */

static int run(lt_rt *rt)
{
    uint32_t i;
    for (i = 0; i < rt->n_ops; i++) {
        rt_op *o = &rt->o[i];
        const rt_tensor *x = &rt->t[o->in0];
        rt_tensor *y = o->out == NONE ? 0 : &rt->t[o->out];
        switch (o->type) {
        case LT_RT_OP_CONV:
            rt->dense ? conv_ref(o, x, y) : conv_event(o, x, y);
            break;
        case LT_RT_OP_LINEAR:
            rt->dense ? linear_ref(o, x, y) : linear_event(o, x, y);
            break;
        case LT_RT_OP_LIF:
            lif(o, x, o->in1 == NONE ? 0 : &rt->t[o->in1], y, rt->dense);
            break;
        case LT_RT_OP_SUMPOOL:
        case LT_RT_OP_MAXPOOL:
            pool(o, x, y);
            break;
        case LT_RT_OP_GAP:
            gap(x, y);
            break;
        default:
            logits(rt, o, x);
            break;
        }
        if (rt->tap)
            rt->tap(rt->tap_ctx, rt, i);
    }
    rt->steps++;
    return LT_RT_OK;
}

int lt_rt_step(lt_rt *rt, const uint8_t *frame)
{
    const uint32_t C = rt->in_c, HW = rt->in_h * rt->in_w;
    uint8_t *in = (uint8_t *)rt->t[0].data;
    uint32_t i, c;
    for (i = 0; i < C * HW; i++)
        if (frame[i] > rt->in_max)
            return LT_RT_EINPUT;
    if (rt->steps >= rt->max_steps)
        return LT_RT_ESTEPS;
    /* [C][H][W] in, [H][W][C] inside */
    for (c = 0; c < C; c++)
        for (i = 0; i < HW; i++)
            in[i * C + c] = frame[c * HW + i];
    return run(rt);
}

int lt_rt_step_events(lt_rt *rt, const uint32_t *idx, size_t n)
{
    const uint32_t C = rt->in_c, HW = rt->in_h * rt->in_w;
    uint8_t *in = (uint8_t *)rt->t[0].data;
    size_t i;
    for (i = 0; i < n; i++)
        if (idx[i] >= C * HW)
            return LT_RT_EINPUT;
    if (rt->steps >= rt->max_steps)
        return LT_RT_ESTEPS;
    for (i = 0; i < (size_t)C * HW; i++)
        in[i] = 0;
    for (i = 0; i < n; i++)
        in[(idx[i] % HW) * C + idx[i] / HW] = 1;
    return run(rt);
}

const int64_t *lt_rt_logits(const lt_rt *rt) { return rt->logits; }
const int64_t *lt_rt_logit_sums(const lt_rt *rt) { return rt->sums; }
uint32_t lt_rt_steps(const lt_rt *rt) { return rt->steps; }

uint32_t lt_rt_predict(const lt_rt *rt)
{
    uint32_t k, best = 0;
    for (k = 1; k < rt->classes; k++)
        if (rt->sums[k] > rt->sums[best])
            best = k;
    return best;
}

int lt_rt_op(const lt_rt *rt, uint32_t i, lt_rt_op_info *info)
{
    if (i >= rt->n_ops)
        return LT_RT_EGRAPH;
    const rt_op *o = &rt->o[i];
    zero_bytes(info, sizeof *info);
    info->type = (int)o->type;
    info->name = (const char *)o->name;
    info->name_len = o->name_len;
    if (o->out != NONE) {
        const rt_tensor *y = &rt->t[o->out];
        info->c = y->c, info->h = y->h, info->w = y->w;
        const rt_tensor *x = &rt->t[o->in0];
        if (o->type == LT_RT_OP_CONV)
            info->dense_macs = (uint64_t)y->n * (o->depthwise ? 1u : x->c) * o->kh * o->kw;
        else if (o->type == LT_RT_OP_LINEAR)
            info->dense_macs = (uint64_t)x->n * y->n;
    } else {
        info->c = rt->classes, info->h = info->w = 1;
    }
    info->updates = o->updates, info->active_in = o->active, info->spikes = o->spikes;
    info->input_is_model_input = o->in0 == 0;
    info->in0 = o->in0, info->in1 = o->in1, info->out = o->out;
    return LT_RT_OK;
}

const uint8_t *lt_rt_spikes(const lt_rt *rt, uint32_t i)
{
    return i < rt->n_ops && rt->o[i].type == LT_RT_OP_LIF ? (const uint8_t *)rt->t[rt->o[i].out].data : 0;
}

const char *lt_rt_strerror(int status)
{
    switch (status) {
    case LT_RT_OK: return "ok";
    case LT_RT_ETRUNC: return "the model is truncated";
    case LT_RT_EMAGIC: return "not an .ltq model";
    case LT_RT_EVERSION: return "a newer .ltq version than this runtime reads";
    case LT_RT_ECRC: return "checksum mismatch (the model is corrupt)";
    case LT_RT_ESIZE: return "a size or count is out of range";
    case LT_RT_EOP: return "an op type this runtime does not know";
    case LT_RT_EGRAPH: return "ops and tensors do not fit together";
    case LT_RT_ERANGE: return "a parameter would let an integer sum overflow";
    case LT_RT_EARENA: return "the arena is too small";
    case LT_RT_EINPUT: return "an input value or event index is out of range";
    case LT_RT_ESTEPS: return "too many steps since the last reset";
    default: return "unknown status";
    }
}
