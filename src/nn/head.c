/* head.c -- heads (ltsnn/head.h): the dispatch, and the classification head
 * of METHOD.md §4 around the loss kernel (kernels/loss.c).
 *
 * Classification: L = beta * mean_t CE(O_t, y) + (1 - beta) * mean_t
 * MSE(O_t, Omega), Omega the net's mean threshold, a constant; prediction
 * argmax_k mean_t O_t[k].  Training metric: accuracy (percent); evaluation:
 * accuracy and the confusion matrix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "ltsnn/head.h"

typedef struct classify {
    lt_head h;
    float beta;
    int tet;
    int omega_prev;         /* Omega from the previous batch of the epoch (the authors' code) */
    int have_prev;
    float prev;             /* the mean threshold the previous batch saw */
    char prev_str[32];      /* prev for the checkpoint ("none" before the epoch's first batch) */
    const char *meta[5];
    int32_t *pred;          /* [B] */
    int64_t *confusion;     /* [K, K] */
    size_t correct, seen;
} classify;

static double cls_loss(lt_head *h, float *dO, const float *O, const lt_targets *y, lt_head_stats *s)
{
    classify *c = (classify *)h;
    int b = y->b;
    float now = lt_net_omega(h->net), omega = now;
    if (c->omega_prev) {
        if (c->have_prev)
            omega = c->prev;
        c->prev = now, c->have_prev = 1;
        snprintf(c->prev_str, sizeof c->prev_str, "%.9g", (double)now);
    }
    lt_loss_parts lp = lt_loss_forward_backward(dO, O, y->labels, omega, c->beta, c->tet, h->T, b, h->K);
    if (s) {
        lt_predict(c->pred, O, h->T, b, h->K);
        size_t correct = 0;
        for (int j = 0; j < b; j++)
            correct += c->pred[j] == y->labels[j];
        s->seen += (size_t)b;
        s->loss += lp.loss * b;
        s->part[0] += lp.ce * b;
        s->part[1] += lp.mse * b;
        s->metric[0] += 100.0 * (double)correct;
    }
    return lp.loss;
}

static void cls_epoch_start(lt_head *h)
{
    classify *c = (classify *)h;
    c->have_prev = 0;
    snprintf(c->prev_str, sizeof c->prev_str, "none");
}

/* Omega from the previous batch is a setting a run records, with the value the next batch will use, so
 * that a run resumed inside an epoch continues bit for bit; the default adds nothing */
static const char *const *cls_meta(const lt_head *h)
{
    const classify *c = (const classify *)h;
    return c->omega_prev ? c->meta : NULL;
}

static void cls_resume(lt_head *h, const lt_st_file *ckpt)
{
    classify *c = (classify *)h;
    const char *v = c->omega_prev ? lt_st_meta(ckpt, "omega_prev") : NULL;
    char *end;
    float f = v ? strtof(v, &end) : 0.0f;
    if (v && end != v && !*end) { /* else (absent, "none"): the epoch's first batch uses its own */
        c->prev = f, c->have_prev = 1;
        snprintf(c->prev_str, sizeof c->prev_str, "%s", v);
    }
}

void lt_head_classify_omega_previous(lt_head *h, int on)
{
    if (h->kind->loss == cls_loss)
        ((classify *)h)->omega_prev = on;
}

static void cls_eval_reset(lt_head *h)
{
    classify *c = (classify *)h;
    c->correct = c->seen = 0;
    memset(c->confusion, 0, (size_t)h->K * (size_t)h->K * sizeof(int64_t));
}

static lt_status cls_eval_add(lt_head *h, const float *O, const lt_targets *y, lt_err *err)
{
    classify *c = (classify *)h;
    lt_predict(c->pred, O, h->T, y->b, h->K);
    for (int j = 0; j < y->b; j++) {
        int32_t t = y->labels[j];
        if (t < 0 || t >= h->K)
            return lt_err_set(err, LT_ERR_SHAPE, "label %d of sample %d is not a class of this %d-class model", t, j,
                              h->K);
        c->correct += c->pred[j] == t;
        c->confusion[(size_t)t * (size_t)h->K + (size_t)c->pred[j]]++;
    }
    c->seen += (size_t)y->b;
    return LT_OK;
}

static lt_status cls_eval_result(lt_head *h, lt_eval_result *r, lt_err *err)
{
    classify *c = (classify *)h;
    memset(r, 0, sizeof *r);
    r->n = 1;
    r->name[0] = "acc";
    r->value[0] = c->seen ? 100.0 * (double)c->correct / (double)c->seen : 0.0;
    r->confusion = c->confusion;
    r->K = h->K;
    return LT_OK;
}

static lt_status cls_check_data(const lt_head *h, const lt_dataset *d, const char *what, lt_err *err)
{
    if (d->task != LT_TASK_CLASSIFY)
        return lt_err_set(err, LT_ERR_ARG, "%s data '%s' is a detection dataset (boxes, not labels): the "
                          "classification head cannot use it (train a detector: the detection head, ltsnn train "
                          "--model yolov2)", what, d->name);
    if (d->classes > h->K)
        return lt_err_set(err, LT_ERR_SHAPE, "%s data has %d classes but the model has %d outputs", what, d->classes,
                          h->K);
    return LT_OK;
}

static void cls_free(lt_head *h)
{
    classify *c = (classify *)h;
    lt_free(c->pred);
    lt_free(c->confusion);
    free(c);
}

static const lt_head_kind classify_kind = {
    .name = "classify", .n_parts = 2, .part = {"ce", "mse"}, .n_metrics = 1, .metric = {"acc"},
    .loss = cls_loss, .eval_reset = cls_eval_reset, .eval_add = cls_eval_add, .eval_result = cls_eval_result,
    .check_data = cls_check_data, .epoch_start = cls_epoch_start, .resume = cls_resume, .meta = cls_meta,
    .free = cls_free,
};

lt_status lt_head_classify(lt_head **out, const lt_net *net, float beta, int tet, lt_err *err)
{
    *out = NULL;
    if (!(beta >= 0.0f && beta <= 1.0f))
        return lt_err_set(err, LT_ERR_ARG, "classification head: beta must be in [0, 1], not %g", beta);
    const lt_net_config *nc = lt_net_cfg(net);
    classify *c = calloc(1, sizeof *c);
    if (!c)
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory");
    c->h = (lt_head){.kind = &classify_kind, .net = net, .T = nc->T, .K = lt_net_classes(net)};
    c->beta = beta;
    c->tet = tet;
    snprintf(c->prev_str, sizeof c->prev_str, "none");
    c->meta[0] = "omega_from", c->meta[1] = "previous_batch", c->meta[2] = "omega_prev", c->meta[3] = c->prev_str;
    c->pred = lt_alloc((size_t)nc->B * sizeof(int32_t));
    c->confusion = lt_calloc((size_t)c->h.K * (size_t)c->h.K * sizeof(int64_t));
    if (!c->pred || !c->confusion) {
        cls_free(&c->h);
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory for a %d-class confusion matrix", c->h.K);
    }
    *out = &c->h;
    return LT_OK;
}

/* ---- dispatch ---- */

double lt_head_loss(lt_head *h, float *dO, const float *O, const lt_targets *y, lt_head_stats *s)
{
    return h->kind->loss(h, dO, O, y, s);
}

void lt_head_eval_reset(lt_head *h) { h->kind->eval_reset(h); }

void lt_head_resume(lt_head *h, const lt_st_file *ckpt)
{
    if (h->kind->resume)
        h->kind->resume(h, ckpt);
}

void lt_head_epoch_start(lt_head *h)
{
    if (h->kind->epoch_start)
        h->kind->epoch_start(h);
}

lt_status lt_head_eval_add(lt_head *h, const float *O, const lt_targets *y, lt_err *err)
{
    return h->kind->eval_add(h, O, y, err);
}

lt_status lt_head_eval_result(lt_head *h, lt_eval_result *r, lt_err *err) { return h->kind->eval_result(h, r, err); }

lt_status lt_head_check_data(const lt_head *h, const lt_dataset *d, const char *what, lt_err *err)
{
    return h->kind->check_data(h, d, what, err);
}

void lt_head_free(lt_head *h)
{
    if (h)
        h->kind->free(h);
}
