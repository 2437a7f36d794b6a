/* test_dist_net.c -- the arithmetic of data-parallel training, without MPI
 * (METHOD.md §11; src/train/parallel.c's slices and scaling, the sync-BN
 * halves in layer_bn.c and kernels/bn.c, the gradient hook in net.c).  N
 * "ranks" are threads, each with its own copy of a net, joined by an
 * in-process lt_net_comm whose sum adds the ranks' buffers in rank order.
 *
 * Checks:
 *  - the BN kernels split at their sums: on a whole batch, sums then finish
 *    are lt_bn_forward_train / lt_bn_stats_train / lt_bn_backward bit for
 *    bit; on a batch cut into parts whose sums are added, they match the
 *    whole batch's oracle (the _ref kernels) to float rounding;
 *  - sync BN with dL/dO scaled by b_r / b: each rank's logits are its rows
 *    of the one-process logits, the ranks' gradients add up to the
 *    one-process gradient, and the BN running statistics are the
 *    one-process ones; N = 2 and 3 (uneven slices of a batch of 7), in the
 *    fused plan, the plain plan (keep_all) and a residual net under tdBN;
 *  - without sync BN a rank computes what a net given its slice alone does;
 *  - the gradient hook: called after each layer's backward, its bound never
 *    rises and ends at 0, and what it declares final is final. */
#include <pthread.h>
#include <string.h>

#include "check.h"
#include "kernels/kernels.h"
#include "ltsnn.h"
#include "nn/net.h"
#include "train/parallel.h"

enum { T = 3, BATCH = 7, CIN = 2, HW_IN = 8, MAXR = 4 };

/* worst |a - b| over n, relative to the largest |b| */
static double rel_err(const float *a, const float *b, size_t n)
{
    double worst = 0, top = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        worst = d > worst || isnan(d) ? d : worst;
        top = fabs(b[i]) > top ? fabs(b[i]) : top;
    }
    return worst / top;
}

/* ---- BN kernels split at their sums ---- */

static void bn_split(void)
{
    enum { N = 6, C = 3, HW = 5 };
    lt_rng rng;
    lt_rng_seed(&rng, 3);
    float x[N * C * HW], dy[N * C * HW], gamma[C], beta[C];
    for (int i = 0; i < N * C * HW; i++)
        x[i] = lt_rng_uniformf(&rng, -1, 3), dy[i] = lt_rng_uniformf(&rng, -1, 1);
    for (int c = 0; c < C; c++)
        gamma[c] = lt_rng_uniformf(&rng, 0.5f, 1.5f), beta[c] = lt_rng_uniformf(&rng, -0.5f, 0.5f);
    /* whole batch: the same floats as the fused kernels */
    float y0[N * C * HW], y1[N * C * HW], m0[C], s0[C], m1[C], s1[C], sc0[C], sc1[C];
    float rm0[C] = {0.1f, 0.2f, 0.3f}, rv0[C] = {1, 1, 1}, rm1[C], rv1[C];
    memcpy(rm1, rm0, sizeof rm0), memcpy(rv1, rv0, sizeof rv0);
    double sum[C], sq[C];
    lt_bn_forward_train(y0, m0, s0, rm0, rv0, x, gamma, beta, N, C, HW, 1e-5f, 0.1f);
    lt_bn_sums(sum, sq, x, N, C, HW);
    lt_bn_stats_from_sums(m1, s1, sc1, rm1, rv1, sum, sq, (double)N * HW, gamma, C, 1e-5f, 0.1f);
    lt_bn_apply(y1, x, m1, sc1, beta, N, C, HW);
    CHECK(!memcmp(y0, y1, sizeof y0) && !memcmp(m0, m1, sizeof m0) && !memcmp(s0, s1, sizeof s0) &&
          !memcmp(rm0, rm1, sizeof rm0) && !memcmp(rv0, rv1, sizeof rv0), "sums + finish differ from the forward");
    float m2[C], s2[C];
    lt_bn_stats_train(m2, s2, sc0, NULL, NULL, x, gamma, N, C, HW, 1e-5f, 0.1f);
    CHECK(!memcmp(sc0, sc1, sizeof sc0), "scale differs from lt_bn_stats_train");
    float dx0[N * C * HW], dx1[N * C * HW], dg0[C] = {0}, db0[C] = {0}, dg1[C] = {0}, db1[C] = {0};
    double sd[C], sdx[C];
    lt_bn_backward(dx0, dg0, db0, dy, x, m0, s0, gamma, N, C, HW);
    lt_bn_backward_sums(sd, sdx, dy, x, m0, N, C, HW);
    lt_bn_backward_from_sums(dx1, dg1, db1, dy, x, m0, s0, gamma, sd, sdx, (double)N * HW, N, C, HW);
    CHECK(!memcmp(dx0, dx1, sizeof dx0) && !memcmp(dg0, dg1, sizeof dg0) && !memcmp(db0, db1, sizeof db0),
          "backward sums + finish differ from lt_bn_backward");

    /* parts of 2, 1 and 3 frames (frames are the outer index): sums added,
     * against the oracle on the whole batch */
    const int cut[4] = {0, 2, 3, 6};
    float yr[N * C * HW], mr[C], sr[C], rmr[C] = {0.1f, 0.2f, 0.3f}, rvr[C] = {1, 1, 1};
    float rmp[C] = {0.1f, 0.2f, 0.3f}, rvp[C] = {1, 1, 1}, mp[C], sp[C], scp[C], yp[N * C * HW];
    lt_bn_forward_train_ref(yr, mr, sr, rmr, rvr, x, gamma, beta, N, C, HW, 1e-5f, 0.1f);
    double tsum[C] = {0}, tsq[C] = {0};
    for (int p = 0; p < 3; p++) {
        lt_bn_sums(sum, sq, x + (size_t)cut[p] * C * HW, cut[p + 1] - cut[p], C, HW);
        for (int c = 0; c < C; c++)
            tsum[c] += sum[c], tsq[c] += sq[c];
    }
    lt_bn_stats_from_sums(mp, sp, scp, rmp, rvp, tsum, tsq, (double)N * HW, gamma, C, 1e-5f, 0.1f);
    for (int p = 0; p < 3; p++) {
        size_t o = (size_t)cut[p] * C * HW;
        lt_bn_apply(yp + o, x + o, mp, scp, beta, cut[p + 1] - cut[p], C, HW);
    }
    CHECK(rel_err(yp, yr, N * C * HW) < 1e-6 && rel_err(mp, mr, C) < 1e-6 && rel_err(sp, sr, C) < 1e-6 &&
          rel_err(rmp, rmr, C) < 1e-6 && rel_err(rvp, rvr, C) < 1e-6, "parts' forward: y %.2g mean %.2g run_var %.2g",
          rel_err(yp, yr, N * C * HW), rel_err(mp, mr, C), rel_err(rvp, rvr, C));
    float dxr[N * C * HW], dgr[C] = {0}, dbr[C] = {0}, dxp[N * C * HW], dgp[C] = {0}, dbp[C] = {0};
    lt_bn_backward_ref(dxr, dgr, dbr, dy, x, mr, sr, gamma, N, C, HW);
    double tsd[C] = {0}, tsdx[C] = {0};
    for (int p = 0; p < 3; p++) {
        size_t o = (size_t)cut[p] * C * HW;
        lt_bn_backward_sums(sd, sdx, dy + o, x + o, mp, cut[p + 1] - cut[p], C, HW);
        for (int c = 0; c < C; c++)
            tsd[c] += sd[c], tsdx[c] += sdx[c];
    }
    for (int p = 0; p < 3; p++) {
        size_t o = (size_t)cut[p] * C * HW;
        /* the shared sums enter dgamma and dbeta once (the root's part) */
        lt_bn_backward_from_sums(dxp + o, p ? NULL : dgp, p ? NULL : dbp, dy + o, x + o, mp, sp, gamma, tsd, tsdx,
                                 (double)N * HW, cut[p + 1] - cut[p], C, HW);
    }
    CHECK(rel_err(dxp, dxr, N * C * HW) < 1e-5 && rel_err(dgp, dgr, C) < 1e-6 && rel_err(dbp, dbr, C) < 1e-6,
          "parts' backward: dx %.2g dgamma %.2g dbeta %.2g", rel_err(dxp, dxr, N * C * HW), rel_err(dgp, dgr, C),
          rel_err(dbp, dbr, C));
}

/* ---- ranks as threads ---- */

typedef struct group {
    int n;
    pthread_barrier_t bar;
    double *slot[MAXR];
} group;

typedef struct rank {
    group *g;
    int r;
    lt_net *net;
    lt_head *head;
    lt_net_comm comm;
    const float *x;      /* the whole batch [T, BATCH, ...] */
    const int32_t *y;
    int lo, br;
    float *O, *grads, *buffers; /* copies after the step */
} rank;

/* every rank gets the sum in rank order (the same floats on each) */
static void group_sum(void *ctx, double *buf, size_t n)
{
    rank *me = ctx;
    group *g = me->g;
    double *tmp = calloc(n, sizeof *tmp);
    g->slot[me->r] = buf;
    pthread_barrier_wait(&g->bar);
    for (int q = 0; q < g->n; q++)
        for (size_t i = 0; i < n; i++)
            tmp[i] += g->slot[q][i];
    pthread_barrier_wait(&g->bar); /* everyone has read every buffer */
    memcpy(buf, tmp, n * sizeof *tmp);
    free(tmp);
}

static size_t frame_size(void) { return (size_t)CIN * HW_IN * HW_IN; }

/* one training step on this rank's slice, as lt_train runs it */
static void *rank_step(void *arg)
{
    rank *k = arg;
    const int K = lt_net_classes(k->net);
    size_t fs = frame_size();
    float *xs = malloc((size_t)T * k->br * fs * sizeof(float)), *dO = malloc((size_t)T * k->br * K * sizeof(float));
    for (int t = 0; t < T; t++)
        memcpy(xs + (size_t)t * k->br * fs, k->x + ((size_t)t * BATCH + k->lo) * fs, (size_t)k->br * fs * 4);
    const float *O = lt_net_forward(k->net, xs, k->br, 1);
    memcpy(k->O, O, (size_t)T * k->br * K * sizeof(float));
    lt_targets tg = {.b = k->br, .labels = k->y + k->lo};
    lt_head_loss(k->head, dO, O, &tg, NULL);
    lt_par p = {.size = k->g ? k->g->n : 1, .T = T, .K = K};
    lt_par_scale_grad(&p, dO, k->br, BATCH);
    lt_net_zero_grad(k->net);
    lt_net_backward(k->net, dO);
    memcpy(k->grads, k->net->grads, k->net->n_params * sizeof(float));
    memcpy(k->buffers, k->net->buffers, k->net->n_buffers * sizeof(float));
    free(xs);
    free(dO);
    return NULL;
}

static lt_net *make(const char *model, int keep_all, int bn)
{
    lt_err err = {0};
    lt_net_config nc = {.model = model, .in_c = CIN, .in_h = HW_IN, .in_w = HW_IN, .T = T, .B = BATCH, .train = 1,
                        .keep_all = keep_all, .bn = bn};
    lt_neuron_default(&nc.neuron);
    lt_net *n = NULL;
    CHECK(!lt_net_create(&n, &nc, &err), "create %s: %s", model, err.msg);
    if (!n)
        return NULL;
    lt_net_init(n, 5);
    /* thresholds low enough that every layer fires; BN shifted off zero */
    for (int i = 0; i < lt_net_n_named(n); i++) {
        const lt_named *t = lt_net_named(n, i);
        if (t->is_vth)
            t->data[0] = 0.3f + 0.05f * (float)(i % 4);
        if (strstr(t->name, "bn") && strstr(t->name, ".bias"))
            for (size_t j = 0; j < t->numel; j++)
                t->data[j] = 0.1f * (float)((j % 3) + 1);
    }
    return n;
}

/* the one-process step against N ranks' */
static void ranks_vs_one(const char *model, int keep_all, int bn, int N, int sync, const float *x, const int32_t *y)
{
    lt_err err = {0};
    lt_net *ref = make(model, keep_all, bn), *nets[MAXR] = {0};
    lt_head *href = NULL, *heads[MAXR] = {0};
    rank one = {0}, rk[MAXR];
    group g = {.n = N};
    pthread_barrier_init(&g.bar, NULL, (unsigned)N);
    int ok = ref && !lt_head_classify(&href, ref, 0.45f, 1, &err);
    for (int r = 0; r < N && ok; r++)
        ok = (nets[r] = make(model, keep_all, bn)) && !lt_head_classify(&heads[r], nets[r], 0.45f, 1, &err);
    if (!ok) {
        CHECK(0, "%s: nets: %s", model, err.msg);
        goto done;
    }
    const int K = lt_net_classes(ref);
    size_t np = ref->n_params, nb = ref->n_buffers;
    one = (rank){.net = ref, .head = href, .x = x, .y = y, .lo = 0, .br = BATCH,
                 .O = malloc((size_t)T * BATCH * K * 4), .grads = malloc(np * 4), .buffers = malloc(nb * 4 + 4)};
    rank_step(&one);
    pthread_t th[MAXR];
    for (int r = 0; r < N; r++) {
        rk[r] = (rank){.g = &g, .r = r, .net = nets[r], .head = heads[r], .x = x, .y = y,
                       .grads = malloc(np * 4), .buffers = malloc(nb * 4 + 4)};
        lt_par p = {.size = N, .rank = r};
        rk[r].br = lt_par_slice(&p, BATCH, &rk[r].lo);
        rk[r].O = malloc((size_t)T * rk[r].br * K * 4);
        rk[r].comm = (lt_net_comm){.ctx = &rk[r], .sum = group_sum, .sync_bn = sync, .root = r == 0};
        lt_net_set_comm(nets[r], &rk[r].comm);
    }
    for (int r = 0; r < N; r++)
        pthread_create(&th[r], NULL, rank_step, &rk[r]);
    for (int r = 0; r < N; r++)
        pthread_join(th[r], NULL);
    CHECK(rk[0].lo == 0 && rk[N - 1].lo + rk[N - 1].br == BATCH, "slices cover the batch");

    const char *what = keep_all ? "plain plan" : "fused plan";
    if (sync) {
        /* logits: each rank's rows of the whole batch's */
        double eo = 0;
        for (int r = 0; r < N; r++)
            for (int t = 0; t < T; t++) {
                double e = rel_err(rk[r].O + (size_t)t * rk[r].br * K, one.O + ((size_t)t * BATCH + rk[r].lo) * K,
                                   (size_t)rk[r].br * K);
                eo = e > eo ? e : eo;
            }
        float *gsum = calloc(np, sizeof(float));
        for (size_t i = 0; i < np; i++) {
            double s = 0;
            for (int r = 0; r < N; r++)
                s += rk[r].grads[i];
            gsum[i] = (float)s;
        }
        double eg = rel_err(gsum, one.grads, np), eb = 0;
        for (int r = 0; r < N; r++) {
            double e = rel_err(rk[r].buffers, one.buffers, nb);
            eb = e > eb ? e : eb;
        }
        /* float rounding of the same sums taken in another order */
        CHECK(eo < 1e-5 && eg < 1e-5 && eb < 1e-6, "%s %s N=%d: logits %.2g, gradient sum %.2g, running stats %.2g",
              model, what, N, eo, eg, eb);
        printf("%s %s, %d ranks, sync BN: logits within %.2g, summed gradients within %.2g, BN statistics within "
               "%.2g of one process\n", model, what, N, eo, eg, eb);
        free(gsum);
    } else {
        /* per-rank BN: a rank is a net given its slice alone */
        for (int r = 0; r < N; r++) {
            lt_net *solo = make(model, keep_all, bn);
            lt_head *hs = NULL;
            if (!solo || lt_head_classify(&hs, solo, 0.45f, 1, &err)) {
                CHECK(0, "solo net");
                lt_net_free(solo);
                continue;
            }
            rank s = {.net = solo, .head = hs, .x = x, .y = y, .lo = rk[r].lo, .br = rk[r].br,
                      .O = malloc((size_t)T * rk[r].br * K * 4), .grads = malloc(np * 4), .buffers = malloc(nb * 4 + 4)};
            rank_step(&s);
            CHECK(!memcmp(s.O, rk[r].O, (size_t)T * rk[r].br * K * 4) &&
                  !memcmp(s.buffers, rk[r].buffers, nb * 4), "%s N=%d rank %d without sync BN differs from its slice "
                  "alone", model, N, r);
            free(s.O), free(s.grads), free(s.buffers);
            lt_head_free(hs);
            lt_net_free(solo);
        }
    }
    free(one.O), free(one.grads), free(one.buffers);
    for (int r = 0; r < N; r++)
        free(rk[r].O), free(rk[r].grads), free(rk[r].buffers);
done:
    pthread_barrier_destroy(&g.bar);
    lt_head_free(href);
    lt_net_free(ref);
    for (int r = 0; r < N; r++) {
        lt_head_free(heads[r]);
        lt_net_free(nets[r]);
    }
}

/* ---- the gradient hook ---- */

typedef struct hook {
    lt_net *net;
    int calls;
    size_t lo[64];
    float *snap[64];
} hook;

static void hook_ready(void *ctx, size_t lo)
{
    hook *h = ctx;
    if (h->calls >= 64)
        return;
    h->lo[h->calls] = lo;
    h->snap[h->calls] = malloc(h->net->n_params * sizeof(float));
    memcpy(h->snap[h->calls], h->net->grads, h->net->n_params * sizeof(float));
    h->calls++;
}

static void grads_hook(const char *model, int bn, const float *x, const int32_t *y)
{
    lt_err err = {0};
    lt_net *n = make(model, 0, bn);
    lt_head *h = NULL;
    if (!n || lt_head_classify(&h, n, 0.45f, 1, &err)) {
        CHECK(0, "hook net: %s", err.msg);
        lt_net_free(n);
        return;
    }
    hook hk = {.net = n};
    lt_net_comm c = {.ctx = &hk, .grads_ready = hook_ready};
    lt_net_set_comm(n, &c);
    const int K = lt_net_classes(n);
    rank one = {.net = n, .head = h, .x = x, .y = y, .lo = 0, .br = BATCH, .O = malloc((size_t)T * BATCH * K * 4),
                .grads = malloc(n->n_params * 4), .buffers = malloc(n->n_buffers * 4 + 4)};
    rank_step(&one);
    CHECK(hk.calls == n->n_layers, "%s: %d calls for %d layers", model, hk.calls, n->n_layers);
    int rising = 0, early = 0;
    for (int i = 0; i < hk.calls; i++) {
        rising += i && hk.lo[i] > hk.lo[i - 1];
        early += memcmp(hk.snap[i] + hk.lo[i], one.grads + hk.lo[i], (n->n_params - hk.lo[i]) * 4) != 0;
        free(hk.snap[i]);
    }
    CHECK(!rising && hk.calls && hk.lo[hk.calls - 1] == 0, "%s: the final bound rises or ends above 0", model);
    CHECK(!early, "%s: %d calls declared gradients final that changed later", model, early);
    free(one.O), free(one.grads), free(one.buffers);
    lt_head_free(h);
    lt_net_free(n);
}

int main(void)
{
    check_begin("test_dist_net");
    lt_set_threads(1);
    bn_split();
    lt_rng rng;
    lt_rng_seed(&rng, 9);
    size_t nx = (size_t)T * BATCH * frame_size();
    float *x = malloc(nx * sizeof(float));
    int32_t y[BATCH];
    for (size_t i = 0; i < nx; i++)
        x[i] = lt_rng_uniformf(&rng, 0, 1) < 0.3f ? 1.0f : 0.0f;
    for (int j = 0; j < BATCH; j++)
        y[j] = (int32_t)lt_rng_below(&rng, 5);
    const char *chain = "4C3-AP2-8C3-FC5", *res = "4C3-R4-R8s2-FC5";
    for (int N = 2; N <= 3; N++) {
        ranks_vs_one(chain, 0, LT_BN_STANDARD, N, 1, x, y);
        ranks_vs_one(chain, 1, LT_BN_STANDARD, N, 1, x, y);
        ranks_vs_one(res, 0, LT_BN_TD, N, 1, x, y);
        ranks_vs_one(chain, 0, LT_BN_STANDARD, N, 0, x, y);
    }
    grads_hook(chain, LT_BN_STANDARD, x, y);
    grads_hook(res, LT_BN_TD, x, y);
    free(x);
    return check_done();
}
