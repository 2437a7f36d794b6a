/* test_quant.c -- SAWB quantisation-aware training (METHOD.md §7):
 * src/quant/sawb.c and the conv layer's use of it.
 *
 * Checks:
 *  - alpha, scale and the codes by hand: the formula, the max|w| fallback,
 *    round half to even at exact ties, the clamp to +-n, 8 bits, an
 *    all-zero tensor;
 *  - every fast kernel against its plain oracle, bit for bit (sizes below
 *    and above the chunk and the threading threshold), and lt_sawb_codes
 *    against the forward;
 *  - the straight-through backward: dL/dw = dL/dw_q where |w| <= alpha,
 *    else 0, accumulated (+=);
 *  - a net with every conv kind (plain, depthwise, pointwise, both residual
 *    convs, a shortcut conv) under wbits 4: its forward (train and eval)
 *    equals the float net whose conv weights are w_q, bit for bit; every
 *    non-conv gradient is that net's; every conv gradient is that net's
 *    masked to |w| <= alpha, with weights on both sides of the mask; FC
 *    weights are not quantised;
 *  - metadata: a checkpoint keeps the float32 latent w and wbits "4";
 *    lt_ckpt_config reads it back; wbits 3 and wbits on a net without
 *    convs are refused with the reason. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ltsnn.h"
#include "nn/net.h"
#include "quant/quant.h"

static void by_hand(void)
{
    /* 64 weights evenly spread over (-1, 1) and one at 2: the statistics by
     * hand in double, then METHOD.md §7's formula (alpha about 1.28: only the
     * outlier is clipped) */
    enum { NW = 65 };
    float w[NW];
    for (int i = 0; i < 64; i++)
        w[i] = (float)((i - 31.5) / 32.0);
    w[64] = 2.0f;
    double m = 0, mean = 0, q = 0;
    for (int i = 0; i < NW; i++)
        m += fabs((double)w[i]) / NW, mean += (double)w[i] / NW;
    for (int i = 0; i < NW; i++)
        q += ((double)w[i] - mean) * ((double)w[i] - mean);
    double want = sqrt(q / (NW - 1)) / 0.077 - (1.013 / 0.077) * m;
    CHECK(want > 1.0 && want < 2.0, "fixture: alpha %g between 1 and 2", want);
    CHECK_CLOSE(lt_sawb_alpha_ref(w, NW, 4), want, 1e-12, "alpha 4 bits");
    CHECK_CLOSE(lt_sawb_alpha(w, NW, 4), want, 1e-12, "alpha 4 bits (fast)");
    double want8 = sqrt(q / (NW - 1)) / 0.027 - (1.114 / 0.027) * m;
    CHECK_CLOSE(lt_sawb_alpha_ref(w, NW, 8), want8, 1e-12, "alpha 8 bits");
    float wq[NW], a;
    lt_sawb_forward_ref(wq, &a, w, NW, 4);
    float scale = (float)(7.0 / want);
    CHECK(a == (float)want, "alpha out %g", a);
    int clipped = 0;
    for (int i = 0; i < NW; i++) {
        float c = fabsf(w[i]) > a ? copysignf(a, w[i]) : w[i];
        float code = rintf(c * scale);
        clipped += fabsf(w[i]) > a;
        CHECK(wq[i] == code / scale, "w %g -> %g, want %g", w[i], wq[i], code / scale);
        if (fabsf(w[i]) > a)
            CHECK(wq[i] == 7.0f / scale, "|w| %g > alpha %g clamps to the top code", w[i], a);
    }
    CHECK(clipped == 1, "one weight clipped (%d)", clipped);

    /* equal weights: std 0, the formula is negative -> alpha = max|w| */
    const float e[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    CHECK(lt_sawb_alpha_ref(e, 4, 4) == 0.5, "fallback to max|w|: %g", lt_sawb_alpha_ref(e, 4, 4));
    lt_sawb_forward(wq, &a, e, 4, 4);
    CHECK(wq[0] == 0.5f && wq[3] == 0.5f, "max code is alpha itself: %g %g", wq[0], wq[3]);

    /* exact ties round half to even: twenty ones keep the formula negative,
     * so alpha = max|w| = 1 and scale = 7: 0.5/7 -> 0.5 -> 0; 1.5/7 -> 2;
     * -2.5/7 -> -2 */
    float t[23];
    for (int i = 0; i < 20; i++)
        t[i] = 1.0f;
    t[20] = 0.5f / 7.0f, t[21] = 1.5f / 7.0f, t[22] = -2.5f / 7.0f;
    double at = lt_sawb_alpha_ref(t, 23, 4);
    int8_t codes[23];
    float sc;
    lt_sawb_codes(codes, &sc, t, 23, 4);
    if (at == 1.0 && sc == 7.0f && t[20] * 7.0f == 0.5f && t[21] * 7.0f == 1.5f && t[22] * 7.0f == -2.5f)
        CHECK(codes[20] == 0 && codes[21] == 2 && codes[22] == -2, "half to even: %d %d %d", codes[20], codes[21],
              codes[22]);
    else
        CHECK(0, "tie fixture not exact: alpha %g scale %g products %g %g %g", at, sc, t[20] * 7.0f, t[21] * 7.0f,
              t[22] * 7.0f);

    /* all zero: alpha 0, w_q = 0, every weight passes the gradient */
    float z[5] = {0}, zq[5] = {1, 1, 1, 1, 1}, dz[5] = {0}, g[5] = {1, 2, 3, 4, 5};
    lt_sawb_forward(zq, &a, z, 5, 4);
    CHECK(a == 0 && zq[0] == 0 && zq[4] == 0, "all-zero tensor: alpha %g wq %g", a, zq[0]);
    lt_sawb_backward(dz, g, z, a, 5);
    CHECK(dz[0] == 1 && dz[4] == 5, "all-zero tensor passes the gradient");
    CHECK(lt_sawb_bits_ok(4) && lt_sawb_bits_ok(8) && !lt_sawb_bits_ok(3) && !lt_sawb_bits_ok(32), "widths");
}

static void fast_vs_ref(void)
{
    const size_t sizes[] = {1, 2, 7, 4095, 4096, 4097, 70000, 300001};
    lt_rng rng;
    lt_rng_seed(&rng, 3);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        float *w = malloc(n * sizeof *w), *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        float *d1 = malloc(n * sizeof *d1), *d2 = malloc(n * sizeof *d2), *g = malloc(n * sizeof *g);
        int8_t *q = malloc(n);
        if (!w || !a || !b || !d1 || !d2 || !g || !q) {
            CHECK(0, "out of memory");
            return;
        }
        for (size_t i = 0; i < n; i++) {
            w[i] = (float)lt_rng_normal(&rng) * 0.05f + (i % 3 == 0 ? 0.01f : 0.0f);
            g[i] = (float)lt_rng_normal(&rng);
            d1[i] = d2[i] = (float)(i % 5) - 2.0f;
        }
        for (int bits = 4; bits <= 8; bits += 4) {
            float aa, ab, sc;
            lt_sawb_forward(a, &aa, w, n, bits);
            lt_sawb_forward_ref(b, &ab, w, n, bits);
            CHECK(aa == ab && !memcmp(a, b, n * sizeof *a), "n %zu bits %d: fast forward differs from the oracle", n,
                  bits);
            lt_sawb_codes(q, &sc, w, n, bits);
            size_t bad = 0;
            for (size_t i = 0; i < n; i++)
                bad += (float)q[i] / sc != a[i] || abs(q[i]) > lt_sawb_levels(bits);
            CHECK(bad == 0, "n %zu bits %d: %zu codes disagree with the forward", n, bits, bad);
            lt_sawb_backward(d1, g, w, aa, n);
            lt_sawb_backward_ref(d2, g, w, aa, n);
            CHECK(!memcmp(d1, d2, n * sizeof *d1), "n %zu bits %d: fast backward differs", n, bits);
        }
        /* the mask by hand on the last state */
        float al;
        lt_sawb_forward(a, &al, w, n, 4);
        for (size_t i = 0; i < n; i++)
            d1[i] = 1.0f;
        lt_sawb_backward(d1, g, w, al, n);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++)
            bad += d1[i] != (fabsf(w[i]) <= al ? 1.0f + g[i] : 1.0f);
        CHECK(bad == 0, "n %zu: %zu masked gradients wrong", n, bad);
        free(w), free(a), free(b), free(d1), free(d2), free(g), free(q);
    }
}

/* ---- a net with every conv kind ---- */
#define QMODEL "4C3-6DW-R6-R8s2-AP2-FC7-FC5"
enum { T = 3, B = 2, C = 2, H = 10, K = 5 };

static lt_net *make(int wbits, int train)
{
    lt_err err = {0};
    lt_net_config nc = {.model = QMODEL, .in_c = C, .in_h = H, .in_w = H, .T = T, .B = B, .train = train,
                        .wbits = wbits};
    lt_neuron_default(&nc.neuron);
    lt_net *n = NULL;
    CHECK(!lt_net_create(&n, &nc, &err), "create wbits %d: %s", wbits, err.msg);
    if (n) {
        lt_net_init(n, 5);
        for (int i = 0; i < lt_net_n_named(n); i++) {
            const lt_named *t = lt_net_named(n, i);
            if (t->is_vth)
                t->data[0] = 0.3f;
            if (strstr(t->name, "bn") && strstr(t->name, ".bias"))
                for (size_t j = 0; j < t->numel; j++)
                    t->data[j] = 0.2f;
        }
    }
    return n;
}

/* conv.weight, conv1.weight, conv2.weight, dw.conv.weight, short.conv.weight ... (BN and FC names hold no "conv") */
static int is_conv_weight(const char *name) { return strstr(name, "conv") && strstr(name, ".weight"); }

static void ste_net(void)
{
    lt_net *q = make(4, 1), *f = make(0, 1);
    lt_head *hq = NULL, *hf = NULL;
    lt_err err = {0};
    if (!q || !f || lt_head_classify(&hq, q, 0.45f, 1, &err) || lt_head_classify(&hf, f, 0.45f, 1, &err)) {
        CHECK(0, "setup: %s", err.msg);
        goto done;
    }
    /* f's conv weights = q's w_q; everything else equal */
    int n_conv = 0;
    size_t clipped = 0, passed = 0;
    for (int i = 0; i < lt_net_n_named(q); i++) {
        const lt_named *a = lt_net_named(q, i), *b = lt_net_named(f, i);
        if (is_conv_weight(a->name)) {
            float al;
            lt_sawb_forward_ref(b->data, &al, a->data, a->numel, 4);
            for (size_t j = 0; j < a->numel; j++)
                fabsf(a->data[j]) <= al ? passed++ : clipped++;
            n_conv++;
        } else {
            memcpy(b->data, a->data, a->numel * sizeof(float));
        }
    }
    CHECK(n_conv == 8, "conv weights found: %d (4C3; dw, pw; R6 two; R8s2 two and its shortcut)", n_conv);
    CHECK(clipped > 0 && passed > clipped, "mask exercised: %zu clipped, %zu passed", clipped, passed);
    float x[T * B * C * H * H], dO[T * B * K];
    int32_t y[B] = {1, 3};
    lt_rng rng;
    lt_rng_seed(&rng, 9);
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = lt_rng_uniform(&rng) < 0.4 ? 1.0f : 0.0f;
    lt_targets tg = {.b = B, .labels = y};
    const float *Oq = lt_net_forward(q, x, B, 1);
    double lq = lt_head_loss(hq, dO, Oq, &tg, NULL);
    lt_net_zero_grad(q);
    lt_net_backward(q, dO);
    const float *Of = lt_net_forward(f, x, B, 1);
    double lf = lt_head_loss(hf, dO, Of, &tg, NULL);
    lt_net_zero_grad(f);
    lt_net_backward(f, dO);
    CHECK(lq == lf, "loss %.9g (wbits 4) vs %.9g (float net on w_q)", lq, lf);
    int nonzero = 0;
    for (int i = 0; i < lt_net_n_named(q); i++) {
        const lt_named *a = lt_net_named(q, i), *b = lt_net_named(f, i);
        if (!a->grad)
            continue;
        size_t bad = 0;
        if (is_conv_weight(a->name)) {
            float al;
            float *tmp = malloc(a->numel * sizeof *tmp);
            lt_sawb_forward_ref(tmp, &al, a->data, a->numel, 4);
            for (size_t j = 0; j < a->numel; j++) {
                float want = fabsf(a->data[j]) <= al ? b->grad[j] : 0.0f;
                bad += a->grad[j] != want;
                nonzero += a->grad[j] != 0;
            }
            free(tmp);
        } else {
            bad = (size_t)memcmp(a->grad, b->grad, a->numel * sizeof(float)) != 0;
        }
        CHECK(bad == 0, "%s: %zu gradients differ from the straight-through rule", a->name, bad);
    }
    CHECK(nonzero > 50, "conv gradients are not all zero (%d)", nonzero);
    /* evaluation quantises too */
    Oq = lt_net_forward(q, x, B, 0);
    float keep[T * B * K];
    memcpy(keep, Oq, sizeof keep);
    Of = lt_net_forward(f, x, B, 0);
    CHECK(!memcmp(keep, Of, sizeof keep), "eval-mode logits equal the float net on w_q");
    /* the latent weights are kept as they were (not overwritten by w_q) */
    const lt_named *w0 = lt_net_find(q, "blocks.0.conv.weight"), *f0 = lt_net_find(f, "blocks.0.conv.weight");
    CHECK(w0 && f0 && memcmp(w0->data, f0->data, w0->numel * sizeof(float)), "latent w differs from w_q");

    /* checkpoint: latent w in float32, wbits "4" */
    char path[] = "/tmp/ltsnn_test_quant_XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0)
        close(fd);
    CHECK(fd >= 0 && !lt_net_save(q, path, NULL, NULL, &err), "save: %s", err.msg);
    lt_st_file sf;
    if (!lt_st_read(&sf, path, &err)) {
        const char *v = lt_st_meta(&sf, "wbits");
        CHECK(v && !strcmp(v, "4"), "metadata wbits '%s'", v ? v : "(absent)");
        const lt_st_tensor *t = lt_st_find(&sf, "blocks.0.conv.weight");
        CHECK(t && t->dtype == LT_F32 && !memcmp(t->data, w0->data, w0->numel * sizeof(float)),
              "the checkpoint holds the latent float32 weights");
        lt_st_free(&sf);
    } else {
        CHECK(0, "read back: %s", err.msg);
    }
    lt_net_config cc = {0};
    lt_neuron_default(&cc.neuron);
    char mb[256];
    CHECK(!lt_ckpt_config(&cc, mb, sizeof mb, path, &err) && cc.wbits == 4, "lt_ckpt_config wbits %d: %s", cc.wbits,
          err.msg);
    unlink(path);
done:
    lt_head_free(hq);
    lt_head_free(hf);
    lt_net_free(q);
    lt_net_free(f);
}

static void refusals(void)
{
    lt_err err = {0};
    lt_net *n = NULL;
    lt_net_config nc = {.model = "4C3-FC5", .in_c = 2, .in_h = 8, .in_w = 8, .T = 2, .B = 1, .wbits = 3};
    lt_neuron_default(&nc.neuron);
    CHECK(lt_net_create(&n, &nc, &err) != LT_OK && strstr(err.msg, "wbits 3") && strstr(err.msg, "4 and 8"),
          "wbits 3: %s", err.msg);
    lt_net_free(n);
    n = NULL;
    nc.model = "FC20-FC5", nc.wbits = 4;
    CHECK(lt_net_create(&n, &nc, &err) != LT_OK && strstr(err.msg, "no convolution"), "no conv: %s", err.msg);
    lt_net_free(n);
    n = NULL;
    nc.wbits = 32;
    CHECK(lt_net_create(&n, &nc, &err) == LT_OK, "wbits 32 is float32: %s", err.msg);
    lt_net_free(n);
    lt_net_config c2 = {0};
    int known = 0;
    CHECK(lt_net_config_option_set(&c2, "wbits", "5", &known, &err) != LT_OK && strstr(err.msg, "wbits"),
          "metadata wbits 5 refused: %s", err.msg);
    CHECK(lt_net_config_option_set(&c2, "wbits", "8", &known, &err) == LT_OK && known && c2.wbits == 8, "wbits 8");
    lt_kv kv[LT_NET_OPTIONS];
    int m = lt_net_config_options(&c2, kv);
    int wb = -1;
    for (int i = 0; i < m; i++)
        wb = strcmp(kv[i].key, "wbits") ? wb : i;
    CHECK(m == LT_NET_OPTIONS && wb >= 0 && !strcmp(kv[wb].val, "8"), "options list: wbits at %d of %d", wb, m);
}

int main(void)
{
    check_begin("test_quant");
    by_hand();
    fast_vs_ref();
    ste_net();
    refusals();
    return check_done();
}
