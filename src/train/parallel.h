/* parallel.h -- private: lt_train's side of data-parallel training
 * (METHOD.md §11): what a rank does with the group of ltsnn/dist.h.
 *
 * Every global batch of b samples (in the order one process would use) is
 * split into contiguous slices, rank r taking the r-th: floor(b/N) samples,
 * one more for the first b mod N ranks.  Each rank runs forward, the head
 * and backward on its slice with dL/dO scaled by b_r / b, so that the
 * gradients summed over the ranks are the gradient of the head's loss over
 * the whole batch (a head's loss is a mean over its batch's samples).  On
 * a group of one every call below is the one-process behaviour. */
#ifndef LT_TRAIN_PARALLEL_H
#define LT_TRAIN_PARALLEL_H

#include "dist/dist.h"
#include "ltsnn/train.h"
#include "nn/net.h"

typedef struct lt_par {
    lt_dist *d;             /* NULL: one process */
    int rank, size;
    lt_net *net;
    lt_net_comm comm;       /* what the net's layers call (sums, the gradient hook) */
    size_t bucket;          /* floats per gradient bucket, 0: one allreduce after backward */
    int T, B, K;
    int *counts;            /* [size] floats each rank sends in an evaluation gather */
    float *x;               /* [T, B, C, H, W] an evaluation slice */
    float *recv, *O;        /* [T, B, K] rank 0: gathered slices, and the batch's logits in order */
    lt_dist_stats mark;     /* the group's counters when lt_par_mark was called */
} lt_par;

/* Attaches the group to the net and checks that every rank gets samples
 * from every batch of n_train; may fail on one rank only (the caller then
 * agrees on the status).  p->d is set even on failure. */
lt_status lt_par_open(lt_par *p, lt_dist *d, lt_net *net, const lt_train_config *c, size_t n_train, lt_err *err);
void lt_par_close(lt_par *p);

/* This rank's slice of a batch of b samples: *lo and the count returned. */
int lt_par_slice(const lt_par *p, int b, int *lo);
/* dO[T, br, K] of this rank's slice scaled to the loss over the whole batch of b */
void lt_par_scale_grad(const lt_par *p, float *dO, int br, int b);
/* around lt_net_backward: the gradient exchange, overlapping backward */
void lt_par_grads_begin(lt_par *p);
void lt_par_grads_end(lt_par *p);

/* Collective: every rank passes its status, every rank gets the first failing rank's. */
lt_status lt_par_agree(lt_par *p, lt_status st, lt_err *err);
/* Collective: the OR of every rank's bits (a decision every rank must take alike). */
int lt_par_or(lt_par *p, int bits);
/* Collective, before the first step: the same settings, data, weights,
 * optimiser and run state on every rank, else an error naming the rank
 * that differs and what. */
lt_status lt_par_check_start(lt_par *p, const char *settings, const lt_dataset *train, const lt_dataset *test,
                             const lt_optim *opt, const void *state, size_t state_len, lt_err *err);
/* Collective, at an epoch's end: the epoch's head sums and firing-rate sums
 * (rate[n_lif]) added up over the ranks; without sync BN the ranks' running
 * statistics averaged; then the weights checked to be the same on every
 * rank. */
lt_status lt_par_end_epoch(lt_par *p, lt_head_stats *s, double *rate, int n_lif, int sync_bn, int epoch,
                           lt_err *err);
/* Collective: evaluates d in eval mode, each rank its slice of every batch,
 * the logits gathered to rank 0, whose head sees the batches as one process
 * would; r on every rank (the values rank 0 got).  Only rank 0 can fail. */
lt_status lt_par_evaluate(lt_par *p, lt_head *head, const lt_dataset *d, lt_eval_result *r, lt_err *err);

/* A batch's targets (train.c): labels, dataset indices and, for a
 * detection dataset, the samples' boxes one after another (lt_targets in
 * ltsnn/head.h), for batches of up to B samples of dataset a or b. */
typedef struct lt_batch_targets {
    int32_t *labels;    /* [B] */
    uint64_t *ids;      /* [B] dataset indices */
    size_t *idx;        /* [B] the same, for lt_det_batch_boxes */
    uint32_t *start;    /* [B + 1] */
    lt_box *boxes;      /* [box_cap]: B x the most boxes a sample of a or b holds */
    size_t box_cap;
} lt_batch_targets;
lt_status lt_batch_targets_alloc(lt_batch_targets *t, int B, const lt_dataset *a, const lt_dataset *b, lt_err *err);
void lt_batch_targets_free(lt_batch_targets *t); /* safe on a zeroed struct */
/* The targets of samples idx[0..b) of d into *y (pointing into t). */
void lt_batch_targets_fill(lt_batch_targets *t, lt_targets *y, const lt_dataset *d, const uint32_t *idx, int b);

/* Start counting the communication of a stretch of training. */
void lt_par_mark(lt_par *p);
/* log.jsonl's fields for the stretch since lt_par_mark (", \"ranks\": 2,
 * ..."), empty for one process */
void lt_par_log_fields(const lt_par *p, char *buf, size_t len, long steps, int sync_bn);

#endif
