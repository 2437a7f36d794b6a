/* test_graph.c -- nets that are graphs (src/nn/net.c, plan.c, layer_res.c,
 * layer_gap.c, tdBN in layer_bn.c).
 *
 * Checks:
 *  - the lifetime packer (lt_plan_pack) on hand cases and on random ones:
 *    groups live at the same time never share memory, members of a group
 *    share an offset, disjoint lifetimes reuse memory, results repeat;
 *  - residual models (identity and 1x1-conv shortcuts, stride 2, GAP) in
 *    every plan against the plain plan (keep_all: nothing fused, rebuilt or
 *    in place): the same logits, loss and every gradient bit for bit, in
 *    training and inference, with standard BN and tdBN, in two threshold
 *    modes; forward + backward twice gives the same bytes; a smaller batch;
 *  - tdBN exactly as METHOD.md §8: a tdBN net equals a standard-BN net whose
 *    gamma is gamma * alpha * V (same logits, the same gradients except
 *    dL/dgamma_td = alpha * V * dL/dgamma_std), alpha 1/sqrt(2) in a block's
 *    second half and shortcut;
 *  - finite differences of the whole residual net's loss for the parameters
 *    no spike stands behind (the last FC), and of the GAP kernels;
 *  - shapes, names and refusals of residual blocks (stride 2 on 1x1, R0, GAP
 *    first, a mis-shaped residual tensor in a checkpoint). */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "kernels/kernels.h"
#include "ltsnn.h"
#include "nn/net.h"

/* ---- the packer ---- */

static int overlaps(const lt_value *a, const lt_value *b)
{
    return a->first <= b->last && b->first <= a->last && a->off < b->off + b->size && b->off < a->off + a->size;
}

static void packer(void)
{
    /* three values live one after another reuse one place; one living across all needs its own */
    lt_value v[4] = {{.size = 100, .first = 0, .last = 1}, {.size = 100, .first = 2, .last = 3},
                     {.size = 50, .first = 4, .last = 5}, {.size = 30, .first = 0, .last = 5}};
    for (int i = 0; i < 4; i++)
        v[i].group = i;
    size_t total = lt_plan_pack(v, 4);
    CHECK(v[0].off == v[1].off && v[1].off == v[2].off, "disjoint lifetimes share: %zu %zu %zu", v[0].off, v[1].off,
          v[2].off);
    CHECK(total == 112 + 32, "total %zu (100 and 30 rounded up to 16-float multiples)", total);
    CHECK(v[3].off >= 112 || v[3].off + 32 <= v[0].off, "the long-lived value sits apart: %zu", v[3].off);

    /* a group (in place) shares its offset; its union lifetime blocks others */
    lt_value g[3] = {{.size = 64, .first = 0, .last = 2, .group = 0}, {.size = 64, .first = 2, .last = 4, .group = 0},
                     {.size = 64, .first = 3, .last = 3, .group = 2}};
    lt_plan_pack(g, 3);
    CHECK(g[0].off == g[1].off, "group members at one offset");
    CHECK(g[2].off != g[1].off, "a value live inside the group's union lifetime is placed apart");

    /* random: no two values live at the same step overlap in memory; repeatable */
    lt_rng rng;
    lt_rng_seed(&rng, 7);
    int bad = 0, diff = 0;
    for (int trial = 0; trial < 200; trial++) {
        enum { N = 40 };
        lt_value a[N], b[N];
        size_t sum = 0;
        for (int i = 0; i < N; i++) {
            int f = (int)lt_rng_below(&rng, 60), len = (int)lt_rng_below(&rng, 20);
            a[i] = (lt_value){.size = 1 + lt_rng_below(&rng, 1000), .first = f, .last = f + len, .group = i};
            /* a fifth join the group of an earlier value that ends where they begin */
            for (int j = 0; j < i && lt_rng_below(&rng, 5) == 0; j++)
                if (a[j].group == j && a[j].last == f) {
                    a[i].group = j;
                    break;
                }
            sum += (a[i].size + 15) / 16 * 16;
        }
        memcpy(b, a, sizeof a);
        size_t ta = lt_plan_pack(a, N), tb = lt_plan_pack(b, N);
        diff += ta != tb || memcmp(a, b, sizeof a) != 0;
        bad += ta > sum;
        for (int i = 0; i < N; i++) {
            bad += a[i].off % 16 != 0 || a[i].off + a[i].size > ta;
            for (int j = i + 1; j < N; j++) {
                int gi = a[i].group, gj = a[j].group;
                if (gi == gj)
                    bad += a[i].off != a[j].off;
                else
                    bad += overlaps(&a[i], &a[j]);
            }
        }
    }
    CHECK(bad == 0, "%d violations in random plans", bad);
    CHECK(diff == 0, "%d random plans differ between two runs", diff);
}

/* ---- residual nets ---- */

#define RES_MODEL "4C3-R4-R8s2-R8-GAP-FC6-FC5"
enum { T = 3, B = 3, C = 2, H = 9, K = 5 };

static lt_net *make(const char *model, int train, int keep_all, int bn, lt_vth_mode mode)
{
    lt_err err = {0};
    lt_net_config nc = {.model = model, .in_c = C, .in_h = H, .in_w = H, .T = T, .B = B, .train = train,
                        .keep_all = keep_all, .bn = bn};
    lt_neuron_default(&nc.neuron);
    nc.neuron.mode = mode;
    lt_net *n = NULL;
    CHECK(!lt_net_create(&n, &nc, &err), "create %s: %s", model, err.msg);
    if (n) {
        lt_net_init(n, 11);
        /* thresholds low enough that every layer fires; BN shifted off zero */
        for (int i = 0; i < lt_net_n_named(n); i++) {
            const lt_named *t = lt_net_named(n, i);
            if (t->is_vth)
                t->data[0] = 0.4f + 0.05f * (float)(i % 5);
            if (!strcmp(t->name, "blocks.5.lif.vth"))
                t->data[0] = 0.05f; /* the hidden FC's LIF reads averages of a few spikes */
            if (!strcmp(t->name, "blocks.5.fc.bias"))
                for (size_t j = 0; j < t->numel; j++)
                    t->data[j] = 0.3f;
            if (strstr(t->name, "bn") && strstr(t->name, ".bias"))
                for (size_t j = 0; j < t->numel; j++)
                    t->data[j] = 0.1f * (float)((j % 3) + 1);
        }
    }
    return n;
}

static double step(lt_net *n, lt_head *h, const float *x, const int32_t *y, int b, float *dO)
{
    const float *O = lt_net_forward(n, x, b, 1);
    lt_targets tg = {.b = b, .labels = y};
    double l = lt_head_loss(h, dO, O, &tg, NULL);
    lt_net_zero_grad(n);
    lt_net_backward(n, dO);
    return l;
}

static void against_plain(const float *x, const int32_t *y, int bn, lt_vth_mode mode)
{
    lt_err err = {0};
    lt_net *tr = make(RES_MODEL, 1, 0, bn, mode), *pl = make(RES_MODEL, 1, 1, bn, mode);
    lt_net *in = make(RES_MODEL, 0, 0, bn, mode), *pin = make(RES_MODEL, 0, 1, bn, mode);
    lt_head *h1 = NULL, *h2 = NULL;
    if (!tr || !pl || !in || !pin || lt_head_classify(&h1, tr, 0.45f, 1, &err) ||
        lt_head_classify(&h2, pl, 0.45f, 1, &err)) {
        CHECK(0, "setup: %s", err.msg);
        goto done;
    }
    size_t no = (size_t)T * B * K;
    float o1[T * B * K], o2[T * B * K], d1[T * B * K], d2[T * B * K];
    /* inference: planned vs plain, and vs the training net in eval mode */
    memcpy(o1, lt_net_forward(in, x, B, 0), no * sizeof(float));
    memcpy(o2, lt_net_forward(pin, x, B, 0), no * sizeof(float));
    CHECK(!memcmp(o1, o2, sizeof o1), "bn %d mode %d: inference logits differ from the plain plan", bn, mode);
    memcpy(o2, lt_net_forward(tr, x, B, 0), no * sizeof(float));
    CHECK(!memcmp(o1, o2, sizeof o1), "bn %d mode %d: eval logits differ between inference and training nets", bn,
          mode);
    int fired = 0;
    for (int k = 0; k < lt_net_n_lif(in); k++)
        fired += lt_net_rate(in, k) > 0.0;
    CHECK(fired == lt_net_n_lif(in), "only %d of %d LIF layers fired", fired, lt_net_n_lif(in));
    for (int k = 0; fired < lt_net_n_lif(in) && k < lt_net_n_lif(in); k++)
        fprintf(stderr, "  LIF %d rate %g\n", k, lt_net_rate(in, k));

    double l1 = step(tr, h1, x, y, B, d1), l2 = step(pl, h2, x, y, B, d2);
    CHECK(l1 == l2 && !memcmp(d1, d2, sizeof d1), "bn %d mode %d: loss %.9g vs plain %.9g", bn, mode, l1, l2);
    double gabs = 0;
    for (int q = 0; q < lt_net_n_named(tr); q++) {
        const lt_named *a = lt_net_named(tr, q), *b = lt_net_named(pl, q);
        CHECK(!strcmp(a->name, b->name), "tensor order");
        if (!a->grad)
            continue;
        CHECK(b->grad && !memcmp(a->grad, b->grad, a->numel * sizeof(float)),
              "bn %d mode %d: %s: gradient differs from the plain plan", bn, mode, a->name);
        for (size_t j = 0; j < a->numel; j++)
            gabs += fabs(a->grad[j]);
    }
    CHECK(gabs > 0, "all gradients zero");

    /* forward + backward again: the same bytes (backward used up the saved tensors) */
    float *g1 = malloc(lt_net_params(tr) * sizeof(float));
    size_t at = 0;
    for (int q = 0; q < lt_net_n_named(tr); q++)
        if (lt_net_named(tr, q)->grad)
            memcpy(g1 + at, lt_net_named(tr, q)->grad, lt_net_named(tr, q)->numel * sizeof(float)),
                at += lt_net_named(tr, q)->numel;
    step(tr, h1, x, y, B, d1);
    at = 0;
    int same = 1;
    for (int q = 0; q < lt_net_n_named(tr); q++) {
        const lt_named *a = lt_net_named(tr, q);
        if (a->grad)
            same &= !memcmp(g1 + at, a->grad, a->numel * sizeof(float)), at += a->numel;
    }
    CHECK(same, "bn %d mode %d: a second forward + backward changed the gradients", bn, mode);
    free(g1);

    /* a batch smaller than planned: x for b = 2 is time-major [T, 2, ...] */
    size_t frame = (size_t)C * H * H;
    float *x2 = malloc((size_t)T * 2 * frame * sizeof(float));
    for (int t = 0; t < T; t++)
        memcpy(x2 + (size_t)t * 2 * frame, x + (size_t)t * B * frame, 2 * frame * sizeof(float));
    double l3 = step(tr, h1, x2, y, 2, d1), l4 = step(pl, h2, x2, y, 2, d2);
    CHECK(l3 == l4 && isfinite(l3), "b < B: %.9g vs %.9g", l3, l4);
    free(x2);
done:
    lt_head_free(h1);
    lt_head_free(h2);
    lt_net_free(tr);
    lt_net_free(pl);
    lt_net_free(in);
    lt_net_free(pin);
}

/* METHOD.md §8 */
static void tdbn_semantics(const float *x, const int32_t *y)
{
    lt_err err = {0};
    lt_net *td = make(RES_MODEL, 1, 1, LT_BN_TD, LT_MODE_SGP), *st = make(RES_MODEL, 1, 1, LT_BN_STANDARD, LT_MODE_SGP);
    lt_head *h1 = NULL, *h2 = NULL;
    if (!td || !st || lt_head_classify(&h1, td, 0.45f, 1, &err) || lt_head_classify(&h2, st, 0.45f, 1, &err)) {
        CHECK(0, "setup: %s", err.msg);
        goto done;
    }
    /* the standard net's gamma = gamma * alpha * V of the LIF each BN feeds */
    const float a2 = (float)(1.0 / sqrt(2.0));
    for (int q = 0; q < lt_net_n_named(st); q++) {
        const lt_named *s = lt_net_named(st, q);
        if (!strstr(s->name, "bn") || !strstr(s->name, ".weight"))
            continue;
        char lif[80];
        int blk;
        sscanf(s->name, "blocks.%d", &blk);
        int second = strstr(s->name, ".bn2.") || strstr(s->name, ".short.bn.");
        if (strstr(s->name, ".bn1."))
            snprintf(lif, sizeof lif, "blocks.%d.lif1.vth", blk);
        else
            snprintf(lif, sizeof lif, "blocks.%d.lif.vth", blk);
        const lt_named *v = lt_net_find(st, lif);
        CHECK(v != NULL, "%s feeds %s", s->name, lif);
        if (!v)
            continue;
        float k = (second ? a2 : 1.0f) * v->data[0];
        for (size_t j = 0; j < s->numel; j++)
            s->data[j] *= k;
    }
    size_t no = (size_t)T * B * K;
    float o1[T * B * K], o2[T * B * K];
    memcpy(o1, lt_net_forward(td, x, B, 0), no * sizeof(float));
    memcpy(o2, lt_net_forward(st, x, B, 0), no * sizeof(float));
    CHECK(!memcmp(o1, o2, sizeof o1), "tdBN eval logits differ from standard BN with gamma * alpha * V");
    float d1[T * B * K], d2[T * B * K];
    double l1 = step(td, h1, x, y, B, d1), l2 = step(st, h2, x, y, B, d2);
    CHECK(l1 == l2, "tdBN loss %.9g vs %.9g", l1, l2);
    for (int q = 0; q < lt_net_n_named(td); q++) {
        const lt_named *a = lt_net_named(td, q), *b = lt_net_find(st, a->name);
        if (!a->grad || !b)
            continue;
        int gamma = strstr(a->name, "bn") && strstr(a->name, ".weight");
        if (!gamma) {
            CHECK(!memcmp(a->grad, b->grad, a->numel * sizeof(float)), "tdBN: %s gradient differs", a->name);
            continue;
        }
        /* dL/dgamma_td = alpha V dL/dgamma' and the standard net's gamma is gamma' */
        const lt_named *s = b;
        int blk;
        sscanf(a->name, "blocks.%d", &blk);
        int second = strstr(a->name, ".bn2.") || strstr(a->name, ".short.bn.");
        char lif[80];
        snprintf(lif, sizeof lif, strstr(a->name, ".bn1.") ? "blocks.%d.lif1.vth" : "blocks.%d.lif.vth", blk);
        float k = (second ? a2 : 1.0f) * lt_net_find(td, lif)->data[0];
        double worst = 0;
        for (size_t j = 0; j < a->numel; j++) {
            double e = fabs(a->grad[j] - k * s->grad[j]) / fmax(1e-6, fabs(a->grad[j]));
            worst = e > worst ? e : worst;
        }
        CHECK(worst < 1e-5, "tdBN: %s gradient is not alpha*V times standard's (rel err %g)", a->name, worst);
    }
done:
    lt_head_free(h1);
    lt_head_free(h2);
    lt_net_free(td);
    lt_net_free(st);
}

/* central differences of the loss, in eval-free train mode, for the last FC */
static void finite_differences(const float *x, const int32_t *y)
{
    lt_err err = {0};
    lt_net *n = make(RES_MODEL, 1, 0, LT_BN_STANDARD, LT_MODE_SGP);
    lt_head *h = NULL;
    if (!n || lt_head_classify(&h, n, 0.45f, 1, &err)) {
        CHECK(0, "setup: %s", err.msg);
        goto done;
    }
    float dO[T * B * K];
    step(n, h, x, y, B, dO);
    const char *names[2] = {"blocks.6.fc.weight", "blocks.6.fc.bias"};
    for (int q = 0; q < 2; q++) {
        const lt_named *p = lt_net_find(n, names[q]);
        CHECK(p != NULL, "%s exists", names[q]);
        if (!p)
            continue;
        float *g = malloc(p->numel * sizeof(float));
        memcpy(g, p->grad, p->numel * sizeof(float));
        int worst_j = 0;
        double worst = 0;
        for (size_t j = 0; j < p->numel; j += 3) {
            float keep = p->data[j], eps = 1e-2f;
            lt_targets tg = {.b = B, .labels = y};
            p->data[j] = keep + eps;
            double lp = lt_head_loss(h, NULL, lt_net_forward(n, x, B, 1), &tg, NULL);
            p->data[j] = keep - eps;
            double lm = lt_head_loss(h, NULL, lt_net_forward(n, x, B, 1), &tg, NULL);
            p->data[j] = keep;
            double fd = (lp - lm) / (2.0 * eps), e = fabs(fd - g[j]) / fmax(1e-3, fabs(fd));
            if (e > worst)
                worst = e, worst_j = (int)j;
        }
        CHECK(worst < 2e-2, "%s: finite differences vs backward, worst rel err %g at %d", names[q], worst, worst_j);
        free(g);
    }
    /* GAP and the sum: gradients of sum(w * y) */
    float xs[2 * 3 * 4], yg[2 * 3], w[2 * 3], dx[2 * 3 * 4];
    lt_rng rng;
    lt_rng_seed(&rng, 3);
    for (int i = 0; i < 24; i++)
        xs[i] = lt_rng_uniformf(&rng, -1, 1);
    for (int i = 0; i < 6; i++)
        w[i] = lt_rng_uniformf(&rng, -1, 1);
    lt_gap_backward(dx, w, 2, 3, 4);
    double worst = 0;
    for (int i = 0; i < 24; i++) {
        float keep = xs[i];
        double s[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            xs[i] = keep + (sgn ? -1e-2f : 1e-2f);
            lt_gap_forward(yg, xs, 2, 3, 4);
            s[sgn] = 0;
            for (int k = 0; k < 6; k++)
                s[sgn] += (double)w[k] * yg[k];
        }
        xs[i] = keep;
        double fd = (s[0] - s[1]) / 2e-2;
        worst = fmax(worst, fabs(fd - dx[i]));
    }
    CHECK(worst < 1e-5, "GAP backward vs finite differences: %g", worst);
done:
    lt_head_free(h);
    lt_net_free(n);
}

static void shapes_and_refusals(void)
{
    lt_err err = {0};
    lt_net_config nc = {.model = "resnet19", .in_c = 3, .in_h = 32, .in_w = 32, .T = 1, .B = 1, .plan_only = 1,
                        .bn = LT_BN_TD};
    lt_neuron_default(&nc.neuron);
    lt_net *n = NULL;
    CHECK(!lt_net_create(&n, &nc, &err), "resnet19: %s", err.msg);
    if (n) {
        /* hand count (METHOD.md §3's string): conv weights 12,556,160 + FC 131,328 + 2,570, BN 2x its channels,
         * 18 thresholds */
        CHECK(lt_net_params(n) == 12698012, "resnet19 parameters %zu", lt_net_params(n));
        CHECK(lt_net_n_lif(n) == 18, "resnet19 LIF layers %d", lt_net_n_lif(n));
        CHECK(lt_net_find(n, "blocks.4.short.conv.weight") && !lt_net_find(n, "blocks.5.short.conv.weight") &&
              !lt_net_find(n, "blocks.1.short.conv.weight"), "conv shortcuts only where channels or stride change");
        const lt_named *w = lt_net_find(n, "blocks.7.short.conv.weight");
        CHECK(w && w->shape[0] == 512 && w->shape[1] == 256 && w->shape[2] == 1, "R512s2 shortcut [512,256,1,1]");
        CHECK(lt_net_find(n, "blocks.10.fc.weight")->shape[1] == 512, "GAP gives 512x1x1 to FC256");
        lt_net_memory m;
        lt_net_memory_use(n, &m);
        CHECK(m.arena > 0 && m.params == 12698012 * 4, "planned only: memory reported");
        lt_net_free(n);
    }
    /* odd sizes: stride 2 gives ceil(H/2) */
    nc = (lt_net_config){.model = "4C3-R4s2-R4s2-GAP-FC3", .in_c = 1, .in_h = 7, .in_w = 5, .T = 1, .B = 1};
    lt_neuron_default(&nc.neuron);
    n = NULL;
    CHECK(!lt_net_create(&n, &nc, &err), "odd: %s", err.msg);
    if (n) {
        lt_layer_info li;
        int found = 0;
        for (int i = 0; i < lt_net_n_layers(n); i++) {
            lt_net_layer_info(n, i, &li);
            if (!strcmp(li.name, "blocks.2.lif"))
                found = li.h == 2 && li.w == 2;
        }
        CHECK(found, "7x5 -> 4x3 -> 2x2");
        lt_net_free(n);
    }
    struct { const char *model; int h; const char *needle; } bad[] = {
        {"4C3-R4s2-R4s2-FC3", 1, "stride 2 needs at least a 2x2 input"},
        {"4C3-R0-FC3", 4, "'R0' at position 5"},
        {"GAP-FC3", 4, "'GAP' at position 1"},
        {"4C3-R4x-FC3", 4, "'R4x' at position 5"},
        {"4C3-FC3-R4-FC3", 4, "only FC tokens may follow"},
        {"4C3-R999999-R999999-FC3", 4, "too large"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nc = (lt_net_config){.model = bad[i].model, .in_c = 1, .in_h = bad[i].h, .in_w = bad[i].h, .T = 4, .B = 64,
                             .plan_only = 1};
        lt_neuron_default(&nc.neuron);
        err = (lt_err){0};
        n = NULL;
        CHECK(lt_net_create(&n, &nc, &err) != LT_OK, "%s accepted", bad[i].model);
        CHECK(strstr(err.msg, bad[i].needle) != NULL, "%s: message '%s' lacks '%s'", bad[i].model, err.msg,
              bad[i].needle);
        lt_net_free(n);
    }
    /* a checkpoint whose residual tensor is mis-shaped names it */
    nc = (lt_net_config){.model = "4C3-R8s2-GAP-FC3", .in_c = 1, .in_h = 8, .in_w = 8, .T = 1, .B = 1};
    lt_neuron_default(&nc.neuron);
    lt_net *a = NULL, *b = NULL;
    CHECK(!lt_net_create(&a, &nc, &err), "%s", err.msg);
    nc.model = "4C3-R8s2-GAP-FC3";
    nc.in_c = 1;
    char path[] = "/tmp/test_graph_XXXXXX";
    int fd = mkstemp(path);
    if (a && fd >= 0) {
        close(fd);
        CHECK(!lt_net_save(a, path, NULL, NULL, &err), "%s", err.msg);
        nc.model = "4C3-R16s2-GAP-FC3";
        CHECK(!lt_net_create(&b, &nc, &err), "%s", err.msg);
        err = (lt_err){0};
        CHECK(b && lt_net_load(b, path, &err) != LT_OK && strstr(err.msg, "blocks.1.conv1.weight"),
              "mis-shaped residual tensor named: %s", err.msg);
        unlink(path);
    }
    lt_net_free(a);
    lt_net_free(b);
}

int main(void)
{
    check_begin("test_graph");
    lt_set_threads(2);
    packer();
    lt_rng rng;
    lt_rng_seed(&rng, 5);
    size_t nx = (size_t)T * B * C * H * H;
    float *x = malloc(nx * sizeof(float));
    int32_t y[B] = {0, 3, 4};
    for (size_t i = 0; i < nx; i++)
        x[i] = lt_rng_uniform(&rng) < 0.4 ? 1.0f : 0.0f;
    for (int bn = 0; bn < 2; bn++) {
        against_plain(x, y, bn, LT_MODE_SGP);
        against_plain(x, y, bn, LT_MODE_FIXED);
    }
    tdbn_semantics(x, y);
    finite_differences(x, y);
    shapes_and_refusals();
    free(x);
    return check_done();
}
