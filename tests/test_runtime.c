/* test_runtime.c -- the integer runtime (runtime/ltsnn_rt.c) and the
 * export that feeds it (src/quant/export.c, qmodel.c), METHOD.md §10.
 *
 * Checks:
 *  - a model built byte by byte here, run by hand: conv sums of 4-bit
 *    codes, the fixed-point LIF (shift, offset, threshold, a negative
 *    channel, floor division of a negative membrane, hard reset), the
 *    linear op's rows, int64 logits, their sums and the prediction;
 *  - hostile files: every truncation, every single-byte corruption (a
 *    status, never a crash), a newer version, an unknown op, sizes that
 *    overflow, a parameter that would overflow a sum, a too-small arena,
 *    input values above the model's maximum, events out of range, the step
 *    limit of the logit sums;
 *  - exported nets of every layer kind (plain, depthwise, pointwise,
 *    residual with identity and conv shortcuts, stride 2, AP2 and MP2 on
 *    spikes, AP2 on the input, GAP, a hidden FC; binary and 8-bit input;
 *    4 and 8 bits; BN with negative gamma and tdBN): the event-driven
 *    kernels equal the dense oracle bit for bit (logits and every spike),
 *    the spikes and predictions agree with the float forward, the sizes a
 *    planned-only net reports equal the real export, and the runtime's
 *    SOP counts equal the float net's (lt_net_energy) where spikes agree. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "ltsnn.h"
#include "ltsnn_rt.h"

/* ---------------- a model by hand ---------------- */

typedef struct bytes {
    uint8_t b[1024];
    size_t n;
} bytes;

static void p32(bytes *B, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        B->b[B->n++] = (uint8_t)(v >> (8 * i));
}

static void op_hdr(bytes *B, uint32_t type, uint32_t in0, uint32_t in1, uint32_t out, uint32_t pb)
{
    p32(B, type), p32(B, in0), p32(B, in1), p32(B, out), p32(B, 1), p32(B, pb);
    B->b[B->n++] = 'x', B->b[B->n++] = 0, B->b[B->n++] = 0, B->b[B->n++] = 0; /* name "x", padded */
}

static void seal(bytes *B)
{
    uint32_t n = (uint32_t)B->n, c;
    for (int i = 0; i < 4; i++)
        B->b[8 + i] = (uint8_t)(n >> (8 * i));
    c = (uint32_t)crc32(0L, B->b + 16, n - 16);
    for (int i = 0; i < 4; i++)
        B->b[12 + i] = (uint8_t)(c >> (8 * i));
}

/* input 1x1x2 (binary) -> conv 1x1 to 2 channels, codes {3, -3} -> LIF ->
 * linear to 3 -> logits */
static void hand_model(bytes *B)
{
    memset(B, 0, sizeof *B);
    memcpy(B->b, "LTQM", 4);
    B->n = 4;
    p32(B, 1), p32(B, 0), p32(B, 0);    /* version, size and CRC (seal) */
    p32(B, 4), p32(B, 4);                /* tensors, ops */
    p32(B, 1), p32(B, 1), p32(B, 2);    /* input 1x1x2 */
    p32(B, 1), p32(B, 3), p32(B, 3);    /* in_max 1, 3 classes, T 3 */
    p32(B, 0), p32(B, 0), p32(B, 0);    /* logit shift, no metadata, reserved */
    p32(B, 0), p32(B, 1), p32(B, 1), p32(B, 2); /* t0 input */
    p32(B, 2), p32(B, 2), p32(B, 1), p32(B, 2); /* t1 conv sums */
    p32(B, 0), p32(B, 2), p32(B, 1), p32(B, 2); /* t2 spikes */
    p32(B, 2), p32(B, 3), p32(B, 1), p32(B, 1); /* t3 linear sums */
    op_hdr(B, LT_RT_OP_CONV, 0, 0xFFFFFFFFu, 1, 28);
    p32(B, 1), p32(B, 1), p32(B, 1), p32(B, 0), p32(B, 0), p32(B, 4); /* 1x1, stride 1, pad 0, not dw, 4 bits */
    p32(B, 0xD3);                        /* codes 3 (low nibble), -3 (high) */
    op_hdr(B, LT_RT_OP_LIF, 1, 0xFFFFFFFFu, 2, 48);
    p32(B, 1), p32(B, 1);                /* lam 1/2, one input */
    p32(B, 2), p32(B, 0), p32(B, 1), p32(B, 13), p32(B, 0);                  /* ch 0: F 2, B 1, U >= 13 */
    p32(B, 0), p32(B, 1), p32(B, 0), p32(B, (uint32_t)-5), p32(B, 0);        /* ch 1: F 0, NEG, U <= -5 */
    op_hdr(B, LT_RT_OP_LINEAR, 2, 0xFFFFFFFFu, 3, 16);
    p32(B, 8);
    const int8_t w[12] = {1, 0, 2, 0, 1, -1, 3, 0, 0, 0, -4, 1}; /* rows: inputs [h][w][c]; columns: outputs */
    for (int i = 0; i < 12; i++)
        B->b[B->n++] = (uint8_t)w[i];
    op_hdr(B, LT_RT_OP_LOGITS, 3, 0xFFFFFFFFu, 0xFFFFFFFFu, 36);
    p32(B, 1), p32(B, 2), p32(B, (uint32_t)-1);           /* A */
    p32(B, 0), p32(B, 0), p32(B, 5), p32(B, 0), p32(B, 10), p32(B, 0); /* B (int64) */
    seal(B);
}

typedef struct spy {
    uint8_t s[8][4];
    int step;
} spy;

static void spy_tap(void *ctx, const lt_rt *rt, uint32_t op)
{
    spy *y = ctx;
    const uint8_t *s = lt_rt_spikes(rt, op);
    if (s && y->step < 8)
        memcpy(y->s[y->step], s, 4);
}

static void by_hand(void)
{
    bytes B;
    hand_model(&B);
    size_t need;
    lt_rt_info info;
    int st = lt_rt_arena_size(B.b, B.n, &need, &info);
    CHECK(st == LT_RT_OK, "hand model refused: %s at %zu (%s)", lt_rt_strerror(st), info.err_offset, info.err_what);
    if (st)
        return;
    CHECK(info.classes == 3 && info.in_max == 1 && info.n_ops == 4, "info");
    static unsigned char arena[8192];
    lt_rt *rt;
    CHECK(need <= sizeof arena && lt_rt_init(&rt, arena + 3, sizeof arena - 3, B.b, B.n, NULL) == LT_RT_OK,
          "init at an odd address (need %zu)", need);
    spy y = {0};
    lt_rt_set_tap(rt, spy_tap, &y);
    /* frames [c][h][w] = x at positions p0, p1 */
    const uint8_t f[3][2] = {{1, 0}, {1, 1}, {0, 1}};
    /* by hand, per position (p0, p1):
     * ch 0: U = floor(m/2) + 12x + 1, spike at U >= 13:  p0: 13 s, 13 s, 1;   p1: 1, 0+13 s, 13 s
     * ch 1: U = floor(m/2) - 3x, spike at U <= -5:       p0: -3, -2-3=-5 s, 0; p1: 0, -3, -2-3=-5 s
     *       (floor(-3/2) = -2: truncation would give -4 and no spike)
     * spikes [h][w][c] per step: {1,0,0,0}, {1,1,1,0}, {0,0,1,1}
     * linear rows of the active inputs: {1,0,2}; {1,0,2}+{0,1,-1}+{3,0,0} = {4,1,1}; {3,0,0}+{0,-4,1} = {3,-4,1}
     * logits A*acc + B, A {1,2,-1}, B {0,5,10}: {1,5,8}, {4,7,9}, {3,-3,9}; sums {8,9,26} */
    const uint8_t want_s[3][4] = {{1, 0, 0, 0}, {1, 1, 1, 0}, {0, 0, 1, 1}};
    const int64_t want_l[3][3] = {{1, 5, 8}, {4, 7, 9}, {3, -3, 9}};
    for (int t = 0; t < 3; t++) {
        y.step = t;
        CHECK(lt_rt_step(rt, f[t]) == LT_RT_OK, "step %d", t);
        CHECK(!memcmp(y.s[t], want_s[t], 4), "step %d spikes %d%d%d%d", t, y.s[t][0], y.s[t][1], y.s[t][2],
              y.s[t][3]);
        const int64_t *L = lt_rt_logits(rt);
        CHECK(L[0] == want_l[t][0] && L[1] == want_l[t][1] && L[2] == want_l[t][2], "step %d logits %lld %lld %lld",
              t, (long long)L[0], (long long)L[1], (long long)L[2]);
    }
    const int64_t *S = lt_rt_logit_sums(rt);
    CHECK(S[0] == 8 && S[1] == 9 && S[2] == 26 && lt_rt_predict(rt) == 2 && lt_rt_steps(rt) == 3, "sums");
    lt_rt_op_info oi;
    CHECK(!lt_rt_op(rt, 0, &oi) && oi.active_in == 4 && oi.updates == 8 && oi.dense_macs == 4,
          "conv counts: %llu active inputs, %llu additions", (unsigned long long)oi.active_in,
          (unsigned long long)oi.updates);
    CHECK(!lt_rt_op(rt, 1, &oi) && oi.spikes == 6, "LIF spike count %llu", (unsigned long long)oi.spikes);
    /* events after a reset: indices 0 and 1 (c*H + y)*W + x are p0 and p1, a
     * repeat changes nothing; fresh membranes: ch 0 fires at both, ch 1 at
     * neither: spikes {1,0,1,0}, linear {1,0,2}+{3,0,0}, logits {4,5,8} */
    lt_rt_reset(rt);
    const uint32_t ev[3] = {0, 1, 0};
    const uint8_t want_e[4] = {1, 0, 1, 0};
    y.step = 0;
    CHECK(lt_rt_step_events(rt, ev, 3) == LT_RT_OK && !memcmp(y.s[0], want_e, 4), "events step spikes");
    CHECK(lt_rt_logits(rt)[0] == 4 && lt_rt_logits(rt)[1] == 5 && lt_rt_logits(rt)[2] == 8, "events step logits");
    /* bad input: nothing changes */
    const uint8_t big[2] = {2, 0};
    CHECK(lt_rt_step(rt, big) == LT_RT_EINPUT && lt_rt_steps(rt) == 1, "value 2 > in_max 1 refused");
    const uint32_t far = 2;
    CHECK(lt_rt_step_events(rt, &far, 1) == LT_RT_EINPUT, "event index 2 of 2 refused");
    CHECK(lt_rt_init(&rt, arena, need - 1, B.b, B.n, NULL) == LT_RT_EARENA, "arena one byte short");
}

/* rewrites a field and the checksum */
static int load_with(const bytes *B, size_t at, uint32_t v, lt_rt_info *info)
{
    bytes C = *B;
    for (int i = 0; i < 4; i++)
        C.b[at + i] = (uint8_t)(v >> (8 * i));
    seal(&C);
    size_t need;
    return lt_rt_arena_size(C.b, C.n, &need, info);
}

/* a channel whose BN factor is 0 (flags ZERO): its input is the constant
 * B whatever the sums; ch 1 with B 3, TH 5 and lam 1/2 sees U = 3, 1+3 = 4,
 * 2+3 = 5: a spike at the third step at both positions, for any input */
static void zero_channel(void)
{
    bytes B;
    hand_model(&B);
    const size_t ch1 = 60 + 4 * 16 + 56 + 28 + 8 + 20;
    const uint32_t v[5] = {0, 4, 3, 5, 0};
    for (int f = 0; f < 5; f++)
        for (int i = 0; i < 4; i++)
            B.b[ch1 + 4 * (size_t)f + (size_t)i] = (uint8_t)(v[f] >> (8 * i));
    seal(&B);
    static unsigned char arena[8192];
    lt_rt *rt;
    int st = lt_rt_init(&rt, arena, sizeof arena, B.b, B.n, NULL);
    CHECK(st == LT_RT_OK, "ZERO channel model: %s", lt_rt_strerror(st));
    if (st)
        return;
    spy y = {0};
    lt_rt_set_tap(rt, spy_tap, &y);
    const uint8_t f[3][2] = {{1, 1}, {0, 0}, {1, 0}};
    int got = 0;
    for (int t = 0; t < 3; t++) {
        y.step = t;
        lt_rt_step(rt, f[t]);
        got |= (y.s[t][1] | y.s[t][3] << 1) << (2 * t);
    }
    CHECK(got == (3 << 4), "ZERO channel spikes only at step 3, both positions (pattern %x)", got);
}

static void hostile(void)
{
    bytes B;
    hand_model(&B);
    size_t need;
    lt_rt_info info;
    int bad = 0;
    for (size_t n = 0; n < B.n; n++)
        bad += lt_rt_arena_size(B.b, n, &need, &info) == LT_RT_OK;
    CHECK(bad == 0, "%d truncations accepted", bad);
    CHECK(lt_rt_arena_size(B.b, B.n - 1, &need, &info) == LT_RT_ETRUNC, "one byte short: ETRUNC");
    int flips = 0, accepted = 0;
    for (size_t i = 0; i < B.n; i++)
        for (int bit = 0; bit < 8; bit += 3) {
            bytes C = B;
            C.b[i] ^= (uint8_t)(1u << bit);
            int st = lt_rt_arena_size(C.b, C.n, &need, &info);
            flips++;
            accepted += st == LT_RT_OK;
        }
    /* bytes 8..11 (the size, its high bits) cannot all be caught: a larger
     * size is truncation, so every flip is refused */
    CHECK(accepted == 0, "%d of %d bit flips accepted", accepted, flips);
    bytes C = B;
    C.b[4] = 2;
    CHECK(lt_rt_arena_size(C.b, C.n, &need, &info) == LT_RT_EVERSION && info.err_offset == 4, "version 2");
    C = B;
    C.b[100] ^= 1;
    CHECK(lt_rt_arena_size(C.b, C.n, &need, &info) == LT_RT_ECRC && info.err_offset == 12, "checksum");
    const size_t t0 = 60, op0 = 60 + 4 * 16;
    CHECK(load_with(&B, op0, 9, &info) == LT_RT_EOP && info.err_offset == op0, "unknown op 9");
    CHECK(load_with(&B, t0 + 4, 0x10000u, &info) == LT_RT_ESIZE, "tensor of 65536 channels");
    CHECK(load_with(&B, t0 + 16 + 8, 40000, &info) == LT_RT_EGRAPH && info.err_offset == op0 + 28,
          "a conv output of the wrong shape: %s at %zu", info.err_what, info.err_offset);
    CHECK(load_with(&B, 16, 0xFFFFFFFFu, &info) == LT_RT_ESIZE, "2^32 - 1 tensors");
    CHECK(load_with(&B, 20, 200, &info) == LT_RT_ESIZE, "200 ops");
    /* the LIF's first channel: shift 25 is out of range; offset 2^29 plus the sums (8 * 2^2) exceeds 2^29 */
    const size_t lif = op0 + 28 + 28, ch0 = lif + 28 + 8;
    CHECK(load_with(&B, ch0, 25, &info) == LT_RT_ERANGE && info.err_offset == ch0, "shift 25: %s", info.err_what);
    CHECK(load_with(&B, ch0 + 8, 0x20000000u, &info) == LT_RT_ERANGE, "offset 2^29 overflows");
    CHECK(load_with(&B, ch0 + 8, 0x20000000u - 33, &info) == LT_RT_OK, "offset 2^29 - 33 fits exactly");
    CHECK(load_with(&B, ch0 + 4, 8, &info) == LT_RT_ERANGE, "unknown neuron flag");
    CHECK(load_with(&B, op0 + 12, 0, &info) == LT_RT_EGRAPH, "an op writing the input");
    CHECK(load_with(&B, op0 + 4, 3, &info) == LT_RT_EGRAPH, "an op reading a tensor not made yet");
    CHECK(load_with(&B, lif + 4, 2, &info) == LT_RT_EGRAPH, "a neuron reading its own output");
    CHECK(load_with(&B, 36, 0, &info) == LT_RT_ESIZE, "input maximum 0");
    /* logits A = 2^30 on sums up to 4 x 128 = 2^9: a step adds up to 2^39, so the sums hold 2^(62-39) steps */
    CHECK(load_with(&B, B.n - 36, 1u << 30, &info) == LT_RT_OK && info.max_steps == (1u << 23), "max steps %u",
          info.max_steps);
    CHECK(lt_rt_strerror(LT_RT_ECRC)[0] && lt_rt_strerror(99)[0], "messages");
}

/* ---------------- exported nets ---------------- */

typedef struct ecase {
    const char *model;
    int c, h, w, wbits, bn;
    int u8;          /* 8-bit input values x 1/255; else binary */
} ecase;

static const ecase cases[] = {
    {"6C3-AP2-8C3-AP2-FC5", 2, 10, 10, 4, LT_BN_STANDARD, 0},
    {"AP2-6C3-MP2-8C3-FC12-FC5", 2, 12, 12, 4, LT_BN_STANDARD, 0},
    {"6C3-6DW-AP2-8DW-FC5", 1, 9, 9, 8, LT_BN_STANDARD, 1},
    {"6C3-R6-R8s2-GAP-FC5", 2, 9, 9, 4, LT_BN_STANDARD, 0},
    {"6C3-R6-R8s2-GAP-FC5", 2, 9, 9, 8, LT_BN_TD, 0},
    {"6C5-AP2-8C1-AP2-FC10-FC5", 1, 11, 13, 4, LT_BN_STANDARD, 1},
};

enum { ET = 5, EB = 8, NS = 48 };

static lt_net *make(const ecase *e, int plan_only)
{
    lt_err err = {0};
    lt_net_config nc = {.model = e->model, .in_c = e->c, .in_h = e->h, .in_w = e->w, .T = ET, .B = EB,
                        .wbits = e->wbits, .bn = e->bn, .plan_only = plan_only};
    lt_neuron_default(&nc.neuron);
    lt_net *n = NULL;
    CHECK(!lt_net_create(&n, &nc, &err), "%s: %s", e->model, err.msg);
    if (!n || plan_only)
        return n;
    lt_net_init(n, 21);
    lt_rng r;
    lt_rng_seed(&r, 4);
    /* trained-looking BN statistics; a fifth of the gammas negative (the
     * flipped comparison); thresholds that make every layer fire */
    for (int i = 0; i < lt_net_n_named(n); i++) {
        const lt_named *t = lt_net_named(n, i);
        for (size_t j = 0; j < t->numel; j++) {
            if (strstr(t->name, "running_mean"))
                t->data[j] = (float)(0.3 * lt_rng_normal(&r));
            else if (strstr(t->name, "running_var"))
                t->data[j] = (float)(0.05 + 0.3 * lt_rng_uniform(&r));
            else if (strstr(t->name, "bn") && strstr(t->name, "weight"))
                t->data[j] = (float)((lt_rng_uniform(&r) < 0.2 ? -1 : 1) * (0.5 + lt_rng_uniform(&r)));
            else if (strstr(t->name, "bn") && strstr(t->name, "bias"))
                t->data[j] = (float)(0.3 * lt_rng_normal(&r));
        }
        if (t->is_vth)
            t->data[0] = (float)(0.6 + 0.4 * lt_rng_uniform(&r));
    }
    return n;
}

static lt_status make_data(lt_dataset *d, const ecase *e, uint64_t seed, lt_err *err)
{
    lt_status st = lt_dataset_alloc(d, NS, e->u8 ? 1 : ET, e->c, e->h, e->w, 5, e->u8 ? 8 : 1,
                                    e->u8 ? 1.0f / 255.0f : 1.0f, err);
    if (st)
        return st;
    lt_rng r;
    lt_rng_seed(&r, seed);
    size_t n = (size_t)d->Ts * e->c * e->h * e->w;
    uint8_t *tmp = malloc(n);
    for (size_t s = 0; s < NS && tmp; s++) {
        for (size_t k = 0; k < n; k++)
            tmp[k] = e->u8 ? (lt_rng_uniform(&r) < 0.3 ? 0 : (uint8_t)lt_rng_below(&r, 256))
                           : (uint8_t)(lt_rng_uniform(&r) < 0.3);
        if (e->u8)
            memcpy((uint8_t *)d->data + s * d->sample_bytes, tmp, n);
        else
            lt_frames_pack((uint8_t *)d->data + s * d->sample_bytes, tmp, n);
        ((int32_t *)d->labels)[s] = (int32_t)lt_rng_below(&r, 5);
    }
    free(tmp);
    return LT_OK;
}

/* spikes of every LIF op at every step, for comparing two runtimes */
typedef struct rec {
    uint8_t *buf;
    size_t n, cap;
} rec;

static void rec_tap(void *ctx, const lt_rt *rt, uint32_t op)
{
    rec *r = ctx;
    const uint8_t *s = lt_rt_spikes(rt, op);
    if (!s)
        return;
    lt_rt_op_info oi;
    lt_rt_op(rt, op, &oi);
    size_t m = (size_t)oi.c * oi.h * oi.w;
    if (r->n + m <= r->cap)
        memcpy(r->buf + r->n, s, m);
    r->n += m;
}

static void event_vs_dense(const uint8_t *model, size_t len, const lt_dataset *d, const char *name)
{
    size_t need;
    lt_rt_info info;
    if (lt_rt_arena_size(model, len, &need, &info))
        return;
    void *a1 = malloc(need), *a2 = malloc(need);
    lt_rt *r1, *r2;
    if (!a1 || !a2 || lt_rt_init(&r1, a1, need, model, len, NULL) || lt_rt_init(&r2, a2, need, model, len, NULL)) {
        CHECK(0, "%s: runtimes", name);
        free(a1), free(a2);
        return;
    }
    lt_rt_set_dense(r2, 1);
    rec s1 = {.cap = 1 << 22}, s2 = {.cap = 1 << 22};
    s1.buf = malloc(s1.cap), s2.buf = malloc(s2.cap);
    lt_rt_set_tap(r1, rec_tap, &s1);
    lt_rt_set_tap(r2, rec_tap, &s2);
    size_t frame = (size_t)d->C * d->H * d->W, diff = 0, ones = 0;
    uint8_t *f = malloc(frame);
    for (size_t s = 0; s < 12 && f && s1.buf && s2.buf; s++) {
        lt_rt_reset(r1), lt_rt_reset(r2);
        for (int t = 0; t < ET; t++) {
            size_t at = (size_t)(d->Ts == 1 ? 0 : t) * frame;
            for (size_t k = 0; k < frame; k++)
                f[k] = d->bits == 8 ? d->data[s * d->sample_bytes + at + k]
                                    : (uint8_t)(d->data[s * d->sample_bytes + (at + k) / 8] >> ((at + k) % 8) & 1);
            lt_rt_step(r1, f), lt_rt_step(r2, f);
            diff += memcmp(lt_rt_logits(r1), lt_rt_logits(r2), info.classes * sizeof(int64_t)) != 0;
        }
    }
    CHECK(s1.n == s2.n && s1.n <= s1.cap && !memcmp(s1.buf, s2.buf, s1.n), "%s: spikes differ between the "
          "event-driven and dense kernels", name);
    for (size_t k = 0; k < s1.n && k < s1.cap; k++)
        ones += s1.buf[k];
    CHECK(diff == 0, "%s: %zu steps' logits differ between event-driven and dense kernels", name, diff);
    CHECK(ones > s1.n / 50, "%s: the nets fire (%zu of %zu)", name, ones, s1.n);
    free(f), free(s1.buf), free(s2.buf), free(a1), free(a2);
}

static void exported(void)
{
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const ecase *e = &cases[k];
        char name[160];
        snprintf(name, sizeof name, "%s (%dx%dx%d, %d bits, %s BN, %s input)", e->model, e->c, e->h, e->w, e->wbits,
                 e->bn == LT_BN_TD ? "td" : "standard", e->u8 ? "8-bit" : "binary");
        lt_err err = {0};
        lt_net *net = make(e, 0), *plan = make(e, 1);
        lt_dataset d = {0};
        uint8_t *buf = NULL;
        size_t len = 0, fb = 0, ab = 0;
        lt_qmodel *m = NULL;
        lt_qeval r = {0};
        lt_energy en = {0};
        lt_export_opts eo = {.in_max = e->u8 ? 255 : 1, .in_scale = e->u8 ? 1.0f / 255.0f : 1.0f};
        if (!net || !plan || make_data(&d, e, 100 + k, &err)) {
            CHECK(0, "%s: setup %s", name, err.msg);
            goto next;
        }
        if (lt_net_export(net, &eo, &buf, &len, &err) || lt_qmodel_open(&m, buf, len, name, &err)) {
            CHECK(0, "%s: export: %s", name, err.msg);
            goto next;
        }
        CHECK(!lt_net_export_size(plan, &eo, &fb, &ab, &err) && fb == len, "%s: planned size %zu, exported %zu (%s)",
              name, fb, len, err.msg);
        lt_qmodel_info qi;
        lt_qmodel_get_info(m, &qi);
        CHECK(ab == qi.arena_bytes, "%s: planned arena %zu, loaded %zu", name, ab, qi.arena_bytes);
        event_vs_dense(buf, len, &d, name);
        if (lt_qmodel_evaluate(m, &d, net, ET, &r, &err)) {
            CHECK(0, "%s: evaluate: %s", name, err.msg);
            goto next;
        }
        double sa = 100.0 * (double)r.spikes_agree / (double)r.spikes_total;
        double pa = 100.0 * (double)r.pred_agree / (double)r.samples;
        printf("%s: spikes agree %.4f%% of %llu, predictions %zu of %zu, accuracy %.1f%% (float %.1f%%)\n", name, sa,
               (unsigned long long)r.spikes_total, r.pred_agree, r.samples, r.acc, r.acc_float);
        CHECK(sa >= 99.5, "%s: spike agreement %.4f%%", name, sa);
        CHECK(pa >= 90.0, "%s: prediction agreement %.1f%%", name, pa);
        /* SOPs: the runtime counts additions; the float net counts nonzero inputs x reach.  Equal where the
         * spikes agree exactly; else within the disagreement */
        if (!lt_net_energy(net, &d, &en, &err) && en.n == r.energy.n) {
            for (int i = 0; i < en.n; i++) {
                const lt_energy_row *a = &en.row[i], *b = &r.energy.row[i];
                CHECK(!strcmp(a->name, b->name) && a->analog == b->analog, "%s: energy rows %s / %s", name, a->name,
                      b->name);
                CHECK(fabs(a->macs - b->macs) <= 1e-9 * (a->macs + 1), "%s %s: MACs %g vs %g", name, a->name,
                      a->macs, b->macs);
                /* a spike that differs changes at most its fan-out (< 1024 here) of SOPs */
                double tol = 1e-9 * (a->sops + 1) + (double)(r.spikes_total - r.spikes_agree) * 1024.0 / NS;
                CHECK(fabs(a->sops - b->sops) <= tol, "%s %s: SOPs %g (float) vs %g (integer)", name, a->name,
                      a->sops, b->sops);
            }
        } else {
            CHECK(0, "%s: energy rows: %s (%d vs %d)", name, err.msg, en.n, r.energy.n);
        }
    next:
        lt_energy_free(&en);
        lt_qeval_free(&r);
        lt_qmodel_free(m);
        free(buf);
        lt_dataset_free(&d);
        lt_net_free(net);
        lt_net_free(plan);
    }
}

int main(void)
{
    check_begin("test_runtime");
    lt_set_threads(2);
    by_hand();
    zero_channel();
    hostile();
    exported();
    return check_done();
}
