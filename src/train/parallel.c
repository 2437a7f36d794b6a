/* parallel.c -- lt_train's side of data-parallel training (parallel.h,
 * METHOD.md §11): slices of each batch, the scaling of dL/dO, the net's
 * hooks (sync BN's sums, the gradient exchange during backward), the
 * checks that the ranks start alike and stay alike, the reduction of
 * metrics, and evaluation sharded over the ranks.
 *
 * Not here: MPI itself (src/dist/), the loop (train.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nn/optim.h"
#include "train/parallel.h"

/* ---- the net's hooks ---- */

static void comm_sum(void *ctx, double *buf, size_t n) { lt_dist_sum_f64(ctx, buf, n, LT_DIST_BN); }
static void comm_ready(void *ctx, size_t lo) { lt_dist_grads_ready(ctx, lo); }

static int slice_of(int b, int size, int rank, int *lo)
{
    int q = b / size, r = b % size;
    *lo = rank * q + (rank < r ? rank : r);
    return q + (rank < r);
}

lt_status lt_par_open(lt_par *p, lt_dist *d, lt_net *net, const lt_train_config *c, size_t n_train, lt_err *err)
{
    memset(p, 0, sizeof *p);
    p->d = d;
    p->net = net;
    p->rank = lt_dist_rank(d);
    p->size = lt_dist_size(d);
    if (p->size == 1)
        return LT_OK;
    const lt_net_config *nc = lt_net_cfg(net);
    p->T = nc->T, p->B = nc->B, p->K = lt_net_classes(net);
    if (c->batch < 1)
        return lt_err_set(err, LT_ERR_ARG, "batch %d: must be at least 1", c->batch);
    int N = p->size, last = (int)(n_train % (size_t)c->batch);
    if (c->batch < N)
        return lt_err_set(err, LT_ERR_ARG, "--batch %d is smaller than the %d ranks: each rank takes a slice of every "
                          "batch and needs at least one sample", c->batch, N);
    if (last && last < N)
        return lt_err_set(err, LT_ERR_ARG, "the %zu training samples end in a batch of %d, fewer than the %d ranks "
                          "(each needs a sample of every batch): choose a --batch (or --limit) that leaves a last "
                          "batch of 0 or at least %d samples", n_train, last, N, N);
    if (!(c->bucket_mb >= 0 && c->bucket_mb <= 1e6))
        return lt_err_set(err, LT_ERR_ARG, "gradient bucket of %g MB: must be 0 to 1e6", c->bucket_mb);
    p->bucket = (size_t)(c->bucket_mb * 1048576.0 / sizeof(float));
    p->comm = (lt_net_comm){.ctx = d, .sum = comm_sum, .grads_ready = comm_ready, .sync_bn = c->sync_bn,
                            .root = p->rank == 0};
    lt_net_set_comm(net, &p->comm);
    size_t tbk = (size_t)p->T * p->B * p->K, frame = (size_t)nc->in_c * nc->in_h * nc->in_w;
    p->counts = malloc((size_t)N * sizeof *p->counts);
    p->x = lt_alloc((size_t)p->T * p->B * frame * sizeof(float));
    p->recv = lt_alloc(tbk * sizeof(float));
    p->O = lt_alloc(tbk * sizeof(float));
    if (!p->counts || !p->x || !p->recv || !p->O)
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory for the evaluation buffers");
    return LT_OK;
}

void lt_par_close(lt_par *p)
{
    if (p->net && p->size > 1)
        lt_net_set_comm(p->net, NULL);
    free(p->counts);
    lt_free(p->x);
    lt_free(p->recv);
    lt_free(p->O);
    memset(p, 0, sizeof *p);
}

int lt_par_slice(const lt_par *p, int b, int *lo) { return slice_of(b, p->size, p->rank, lo); }

void lt_par_scale_grad(const lt_par *p, float *dO, int br, int b)
{
    if (p->size == 1 || br == b)
        return;
    /* the head normalised by br; the loss is a mean over all b.  For an even
     * split with N a power of two this is exact: dO is then bit for bit the
     * one-process rows of these samples. */
    const float k = (float)((double)br / (double)b);
    size_t n = (size_t)p->T * (size_t)br * (size_t)p->K;
    for (size_t i = 0; i < n; i++)
        dO[i] *= k;
}

void lt_par_grads_begin(lt_par *p)
{
    if (p->size > 1)
        lt_dist_grads_begin(p->d, p->net->grads, p->net->n_params, p->bucket);
}

void lt_par_grads_end(lt_par *p)
{
    if (p->size > 1)
        lt_dist_grads_end(p->d);
}

lt_status lt_par_agree(lt_par *p, lt_status st, lt_err *err) { return lt_dist_agree(p->d, st, err); }
int lt_par_or(lt_par *p, int bits) { return lt_dist_or(p->d, bits); }

/* ---- checks ---- */

static uLong crc_bytes(uLong crc, const void *b, size_t n) { return crc32_z(crc, (const Bytef *)b, n); }

static uint64_t crc_dataset(const lt_dataset *d)
{
    uLong c = crc32_z(0L, Z_NULL, 0);
    if (!d || !d->n)
        return c;
    int shape[6] = {d->Ts, d->C, d->H, d->W, d->classes, d->bits};
    c = crc_bytes(c, &d->n, sizeof d->n);
    c = crc_bytes(c, shape, sizeof shape);
    c = crc_bytes(c, d->data, d->n * d->sample_bytes);
    if (d->task == LT_TASK_DETECT) {
        c = crc_bytes(c, d->box_start, (d->n + 1) * sizeof *d->box_start);
        c = crc_bytes(c, d->boxes, d->box_start[d->n] * sizeof *d->boxes);
    }
    return crc_bytes(c, d->labels, d->n * sizeof *d->labels);
}

/* params and BN statistics */
static uint64_t crc_weights(const lt_net *net)
{
    uLong c = crc_bytes(crc32_z(0L, Z_NULL, 0), net->params, net->n_params * sizeof(float));
    return crc_bytes(c, net->buffers, net->n_buffers * sizeof(float));
}

/* One value, the same on every rank, else an error naming the first rank that differs. */
static lt_status check_same(lt_par *p, uint64_t v, const char *what, const char *fix, lt_err *err)
{
    uint64_t theirs, r0;
    int r = lt_dist_first_differing(p->d, v, &theirs, &r0);
    if (r < 0)
        return LT_OK;
    return lt_err_set(err, LT_ERR_ARG, "rank %d of %d has other %s than rank 0 (checksum %08llx, rank 0 %08llx): %s",
                      r, p->size, what, (unsigned long long)theirs, (unsigned long long)r0, fix);
}

lt_status lt_par_check_start(lt_par *p, const char *settings, const lt_dataset *train, const lt_dataset *test,
                             const lt_optim *opt, const void *state, size_t state_len, lt_err *err)
{
    if (p->size == 1)
        return LT_OK;
    lt_status st;
    uLong s = crc_bytes(crc32_z(0L, Z_NULL, 0), settings, strlen(settings));
    if ((st = check_same(p, s, "settings", "start every rank with the same flags", err)) ||
        (st = check_same(p, crc_dataset(train), "training data", "every rank must read the same --data", err)) ||
        (st = check_same(p, crc_dataset(test), "test data", "every rank must read the same --data", err)))
        return st;
    uLong w = (uLong)crc_weights(p->net);
    w = crc_bytes(w, opt->m, opt->n * sizeof(float));
    if (opt->v)
        w = crc_bytes(w, opt->v, opt->n * sizeof(float));
    w = crc_bytes(w, &opt->step, sizeof opt->step);
    w = crc_bytes(w, state, state_len);
    return check_same(p, w, "starting weights or run state",
                      "every rank must start from the same --seed, or --resume the same checkpoint", err);
}

lt_status lt_par_end_epoch(lt_par *p, lt_head_stats *s, double *rate, int n_lif, int sync_bn, int epoch,
                           lt_err *err)
{
    if (p->size == 1)
        return LT_OK;
    /* the sums: seen, loss, parts, metrics, then the rates */
    enum { NS = 2 + LT_HEAD_MAX_PARTS + LT_HEAD_MAX_METRICS };
    double buf[NS];
    buf[0] = (double)s->seen, buf[1] = s->loss;
    memcpy(buf + 2, s->part, sizeof s->part);
    memcpy(buf + 2 + LT_HEAD_MAX_PARTS, s->metric, sizeof s->metric);
    lt_dist_sum_f64(p->d, buf, NS, LT_DIST_OTHER);
    s->seen = (size_t)buf[0], s->loss = buf[1];
    memcpy(s->part, buf + 2, sizeof s->part);
    memcpy(s->metric, buf + 2 + LT_HEAD_MAX_PARTS, sizeof s->metric);
    lt_dist_sum_f64(p->d, rate, (size_t)n_lif, LT_DIST_OTHER);
    /* per-rank BN moved each rank's running statistics its own way: the
     * evaluation and the checkpoint take their mean (sync BN moved them
     * alike: left as they are) */
    lt_net *net = p->net;
    if (!sync_bn && net->n_buffers) {
        lt_dist_sum_f32(p->d, net->buffers, net->n_buffers, LT_DIST_OTHER);
        const float k = 1.0f / (float)p->size;
        for (size_t i = 0; i < net->n_buffers; i++)
            net->buffers[i] *= k;
    }
    char what[64];
    snprintf(what, sizeof what, "weights after epoch %d", epoch);
    return check_same(p, crc_weights(net), what,
                      "the MPI library's allreduce gave the ranks different sums (rerun with another MPI "
                      "transport, or report it)", err);
}

/* ---- evaluation ---- */

lt_status lt_par_evaluate(lt_par *p, lt_head *head, const lt_dataset *d, lt_eval_result *r, lt_err *err)
{
    if (p->size == 1)
        return lt_evaluate_head(p->net, head, d, r, err);
    const int T = p->T, K = p->K, N = p->size;
    /* rank 0 alone scores (it holds the gathered outputs): its targets */
    lt_batch_targets tg = {0};
    uint32_t *idx = NULL;
    lt_status st = LT_OK;
    memset(r, 0, sizeof *r);
    if (p->rank == 0) {
        idx = lt_alloc((size_t)p->B * sizeof *idx);
        if (!(st = lt_batch_targets_alloc(&tg, p->B, d, NULL, err)) && !idx)
            st = lt_err_set(err, LT_ERR_NOMEM, "out of memory for an evaluation batch");
        if (!st)
            st = lt_head_check_data(head, d, "evaluation", err);
    }
    lt_head_eval_reset(head);
    for (size_t i = 0; i < d->n; i += (size_t)p->B) {
        int b = (int)(d->n - i < (size_t)p->B ? d->n - i : (size_t)p->B), lo;
        int br = lt_par_slice(p, b, &lo);
        for (int q = 0, qlo; q < N; q++)
            p->counts[q] = T * slice_of(b, N, q, &qlo) * K;
        const float *O = p->recv; /* nothing to send: any pointer */
        if (br > 0) {
            for (int j = 0; j < br; j++)
                lt_dataset_get(d, i + (size_t)lo + (size_t)j, p->x, T, br, j);
            O = lt_net_forward(p->net, p->x, br, 0);
        }
        lt_dist_gather_f32(p->d, p->recv, O, p->counts);
        if (p->rank || st)
            continue;
        /* rank q's [T, bq, K] rows are samples qlo.. of each step's [b, K] */
        const float *src = p->recv;
        for (int q = 0, qlo; q < N; q++) {
            int bq = slice_of(b, N, q, &qlo);
            for (int t = 0; t < T; t++, src += (size_t)bq * K)
                memcpy(p->O + ((size_t)t * b + qlo) * K, src, (size_t)bq * K * sizeof(float));
        }
        for (int j = 0; j < b; j++)
            idx[j] = (uint32_t)(i + (size_t)j);
        lt_targets y;
        lt_batch_targets_fill(&tg, &y, d, idx, b);
        st = lt_head_eval_add(head, p->O, &y, err);
    }
    if (!st)
        st = lt_head_eval_result(head, r, err);
    lt_batch_targets_free(&tg);
    lt_free(idx);
    double v[LT_HEAD_MAX_RESULTS + 1];
    v[0] = r->n;
    memcpy(v + 1, r->value, sizeof r->value);
    lt_dist_bcast(p->d, v, sizeof v, 0);
    r->n = (int)v[0];
    memcpy(r->value, v + 1, sizeof r->value);
    return st;
}

/* ---- accounting ---- */

void lt_par_mark(lt_par *p) { lt_dist_get_stats(p->d, &p->mark); }

void lt_par_log_fields(const lt_par *p, char *buf, size_t len, long steps, int sync_bn)
{
    buf[0] = 0;
    if (p->size == 1)
        return;
    lt_dist_stats now;
    lt_dist_get_stats(p->d, &now);
    double g = now.seconds[LT_DIST_GRAD] - p->mark.seconds[LT_DIST_GRAD];
    double bn = now.seconds[LT_DIST_BN] - p->mark.seconds[LT_DIST_BN];
    double gb = now.bytes[LT_DIST_GRAD] - p->mark.bytes[LT_DIST_GRAD];
    double bb = now.bytes[LT_DIST_BN] - p->mark.bytes[LT_DIST_BN];
    double s = steps > 0 ? (double)steps : 1.0;
    snprintf(buf, len, ", \"ranks\": %d, \"sync_bn\": %s, \"bucket_mb\": %.6g, \"comm_grad_seconds\": %.6f, "
             "\"comm_bn_seconds\": %.6f, \"grad_bytes_per_step\": %.0f, \"bn_bytes_per_step\": %.0f",
             p->size, sync_bn ? "true" : "false", (double)p->bucket * sizeof(float) / 1048576.0, g, bn, gb / s,
             bb / s);
}
