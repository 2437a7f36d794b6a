/* ltsnn/head.h -- heads: what turns a net's output into a loss, its
 * gradient and metrics.
 *
 * A net ends in a tensor O[T, b, K] (time-major: K values per sample per
 * step).  A head reads O and the batch's targets and gives the loss, dL/dO
 * for lt_net_backward, and running metrics; in evaluation it collects
 * predictions and gives the split's results.  The classification head
 * (METHOD.md §4: TET cross-entropy plus the MSE pull towards Omega) is
 * built in; other heads (detection) implement lt_head_kind the same way.
 *
 * One training step with the public API (examples/train_loop.c):
 *
 *     const float *O = lt_net_forward(net, x, b, 1);
 *     lt_head_loss(head, dO, O, &targets, &stats);
 *     lt_net_zero_grad(net);
 *     lt_net_backward(net, dO);
 *     lt_optim_step(opt);
 */
#ifndef LTSNN_HEAD_H
#define LTSNN_HEAD_H

#include "ltsnn/data.h"
#include "ltsnn/io.h"
#include "ltsnn/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a batch of b samples should produce. */
typedef struct lt_targets {
    int b;
    const int32_t *labels;       /* [b] class of each sample (classification) */
    const struct lt_box *boxes;  /* detection: the batch's boxes, sample by sample, or NULL */
    const uint32_t *box_start;   /* [b + 1]: sample j owns boxes[box_start[j] .. box_start[j + 1]) */
    const uint64_t *ids;         /* [b] dataset indices (evaluation bookkeeping), or NULL */
    const lt_dataset *data;      /* what ids index (a detector's evaluation reads each image's recording,
                                  * time and sensor size there), or NULL */
} lt_targets;

#define LT_HEAD_MAX_PARTS 6
#define LT_HEAD_MAX_METRICS 6
#define LT_HEAD_MAX_RESULTS 8

/* Running sums over the samples of the batches a loss call has seen: the
 * means are sum / seen.  Zero the struct to start. */
typedef struct lt_head_stats {
    size_t seen;
    double loss;
    double part[LT_HEAD_MAX_PARTS];     /* the loss's parts (named by the kind) */
    double metric[LT_HEAD_MAX_METRICS]; /* training metrics (named by the kind) */
} lt_head_stats;

/* An evaluation's results: value[0] is the primary one (what "best" means). */
typedef struct lt_eval_result {
    int n;
    const char *name[LT_HEAD_MAX_RESULTS];  /* "acc", "map", "ap50" ... */
    double value[LT_HEAD_MAX_RESULTS];
    const int64_t *confusion;               /* classification: K x K (row true, column predicted), or NULL */
    int K;
} lt_eval_result;

typedef struct lt_head lt_head;

typedef struct lt_head_kind {
    const char *name;                              /* "classify", "detect" */
    int n_parts;
    const char *part[LT_HEAD_MAX_PARTS];           /* "ce", "mse" / "coord", "obj", "noobj", "cls" */
    int n_metrics;
    const char *metric[LT_HEAD_MAX_METRICS];       /* "acc" (percent) / "iou", "recall" */
    /* One batch: dO[T, b, K] overwritten with dL/dO (NULL: loss only); s
     * gets the batch's sums added (may be NULL).  Returns the batch's loss. */
    double (*loss)(lt_head *h, float *dO, const float *O, const lt_targets *y, lt_head_stats *s);
    void (*eval_reset)(lt_head *h);
    lt_status (*eval_add)(lt_head *h, const float *O, const lt_targets *y, lt_err *err);
    /* The results of the samples added since eval_reset (after a reset: the
     * names, values 0).  May fail (a detector's mAP allocates). */
    lt_status (*eval_result)(lt_head *h, lt_eval_result *r, lt_err *err);
    /* Whether the head can train on / evaluate a dataset (its task, its
     * classes against the head's layout); the error says why not. */
    lt_status (*check_data)(const lt_head *h, const lt_dataset *d, const char *what, lt_err *err);
    /* metadata the head adds to checkpoints (NULL-terminated key/value pairs, owned by the head), may be NULL */
    const char *const *(*meta)(const lt_head *h);
    /* a training epoch begins (the trainer calls it before the first batch); may be NULL */
    void (*epoch_start)(lt_head *h);
    /* a run resumed inside an epoch: the head takes up its state within the epoch from the
     * checkpoint's metadata (what meta wrote there), after epoch_start; may be NULL */
    void (*resume)(lt_head *h, const lt_st_file *ckpt);
    void (*free)(lt_head *h);
} lt_head_kind;

/* Every head starts with this; kinds embed it as their first member. */
struct lt_head {
    const lt_head_kind *kind;
    const lt_net *net;
    int T, K;
};

/* The classification head (METHOD.md §4): beta weights CE against the MSE
 * term; tet = 1 applies CE at every step (default), 0 to the time-averaged
 * logits.  Omega is the net's mean threshold at each call, a constant. */
lt_status lt_head_classify(lt_head **h, const lt_net *net, float beta, int tet, lt_err *err);

/* The authors' released code (METHOD.md §4's note, issue 18's recipe): Omega
 * of each batch is the mean threshold measured at the previous batch of the
 * same epoch (the first batch of an epoch uses its own), not the current one. */
void lt_head_classify_omega_previous(lt_head *h, int on);

double lt_head_loss(lt_head *h, float *dO, const float *O, const lt_targets *y, lt_head_stats *s);
void lt_head_epoch_start(lt_head *h);
void lt_head_resume(lt_head *h, const lt_st_file *ckpt);
void lt_head_eval_reset(lt_head *h);
lt_status lt_head_eval_add(lt_head *h, const float *O, const lt_targets *y, lt_err *err);
lt_status lt_head_eval_result(lt_head *h, lt_eval_result *r, lt_err *err);
/* "what" names the data in the message ("training", "test") */
lt_status lt_head_check_data(const lt_head *h, const lt_dataset *d, const char *what, lt_err *err);
void lt_head_free(lt_head *h);

#ifdef __cplusplus
}
#endif
#endif
