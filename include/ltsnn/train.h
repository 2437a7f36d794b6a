/* ltsnn/train.h -- the training and evaluation loops.
 *
 * lt_train runs epochs of shuffled mini-batches (a head's loss, by default
 * the classification loss of METHOD.md §4; §5 optimiser) over an lt_dataset, evaluates on the test split after each
 * epoch, and keeps a run directory: log.jsonl (one JSON object per epoch),
 * config.json, last.safetensors (weights + optimiser state + RNG, what
 * --resume reads) and best.safetensors (best test accuracy).  It reports
 * progress through a callback and never prints.  Given a group of several
 * processes (ltsnn/dist.h) it trains data-parallel: the same results as one
 * process with the same global batch up to float summation order (with
 * sync_bn), rank 0 alone writing the run directory. */
#ifndef LTSNN_TRAIN_H
#define LTSNN_TRAIN_H

#include "ltsnn/data.h"
#include "ltsnn/dist.h"
#include "ltsnn/head.h"
#include "ltsnn/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lt_train_config {
    int epochs;            /* 10 */
    int batch;             /* 16 (the net must be planned for at least this) */
    uint64_t seed;         /* shuffling (initialisation is the caller's lt_net_init) */
    float beta;            /* 0.45: weight of CE against the MSE term (METHOD.md §4) */
    int tet;               /* 1: TET per-step CE (default); 0: CE on time-averaged logits */
    lt_optim_config optim;
    const char *out_dir;   /* run directory (created if missing); NULL: no files */
    const char *resume;    /* a last.safetensors to continue from, or NULL */
    double max_seconds;    /* > 0: stop (after evaluating) once training time passes this */
    const char *data_name; /* recorded in config.json and checkpoints */
    int eval_batch;        /* 0: same as batch */
    lt_head *head;         /* the loss and metrics; NULL: the classification head with beta and tet */
    /* When *stop becomes non-zero (a signal handler sets it), the current
     * batch finishes, last.safetensors is written and lt_train returns
     * LT_ERR_INTERRUPTED; NULL: never.  (Data-parallel: *stop on any rank
     * stops every rank after the same batch.) */
    volatile const int *stop;
    int on_nan;            /* LT_ON_NAN_STOP (default): a non-finite loss or gradient stops training with an
                            * error naming the epoch and batch, writing nothing; LT_ON_NAN_SKIP: drop the batch
                            * (no step; BN statistics restored), counted in the log */
    const char *data_opts; /* how the data was loaded (limit, seed, T of generated data): resume refuses a change */
    /* data-parallel training (ltsnn/dist.h, METHOD.md §11); a group of one or NULL: one process */
    lt_dist *dist;         /* every rank calls lt_train with the same arguments */
    int sync_bn;           /* BN statistics over the whole global batch, not each rank's slice */
    double bucket_mb;      /* 4: gradients exchanged in buckets of this many MB while backward runs; 0: one
                            * allreduce after it */
} lt_train_config;

enum { LT_ON_NAN_STOP = 0, LT_ON_NAN_SKIP = 1 };

void lt_train_config_default(lt_train_config *c);

typedef struct lt_progress {
    int epoch, epochs;     /* 1-based epoch */
    long batch, batches;   /* 1-based batch within the epoch */
    double loss, acc;      /* running means over the epoch so far (acc in percent) */
    double samples_per_s, eta_s, elapsed_s;
    int phase;             /* 0 training batch, 1 evaluating, 2 epoch done */
    /* phase 2 only */
    double train_loss, train_acc, test_acc, epoch_s;
    int best;              /* this epoch set a new best test accuracy */
    /* the head's own view: its kind (part and metric names), the epoch's
     * sums so far (phases 0 and 2), the evaluation (phase 2) */
    const lt_head_kind *head;
    const lt_head_stats *stats;
    const lt_eval_result *eval;
    const char *warning;   /* phase 2: NULL, or what looks wrong (parameters that got no gradient all epoch) */
} lt_progress;

typedef void (*lt_progress_fn)(void *ctx, const lt_progress *p);

/* The net must have been created with train = 1 and B >= c->batch, its
 * input shape and T matching the data (checked).  test may be NULL. */
lt_status lt_train(lt_net *net, const lt_dataset *train, const lt_dataset *test, const lt_train_config *c,
                   lt_progress_fn progress, void *ctx, lt_err *err);

/* Evaluates a whole dataset in eval mode through a head: r gets the head's
 * results (accuracy and confusion for classification). */
lt_status lt_evaluate_head(lt_net *net, lt_head *head, const lt_dataset *d, lt_eval_result *r, lt_err *err);
/* Accuracy (percent) and, if confusion != NULL, the K x K confusion matrix
 * (row = true class, column = prediction) over a whole dataset, eval mode. */
lt_status lt_evaluate(lt_net *net, const lt_dataset *d, double *acc, int64_t *confusion, lt_err *err);

/* Checks that a dataset fits a net (shape, classes, T). */
lt_status lt_check_data(const lt_net *net, const lt_dataset *d, const char *what, lt_err *err);

/* ---- where training data comes from ----
 * spec: "demo" (the built-in synthetic event data), "fashion-mnist" (static
 * images), "n-fashion-mnist" (simulated saccade events), or a frame cache
 * written by `ltsnn data prepare` (see docs/formats.md for its file names;
 * *test is the split o->split names, by default a detection cache's val).
 * T is used by generated sources; caches carry their own.  test->n == 0 when
 * the source has no test split. */
typedef struct lt_source_opts {
    int T;             /* frames for generated event data (demo, n-fashion-mnist) */
    size_t limit;      /* > 0: at most this many training samples (test: limit/5) */
    uint64_t seed;     /* generator seed */
    const char *split; /* a cache's split loaded as *test ("test", "val"; NULL: val for a detection cache that has
                        * one, else test) */
} lt_source_opts;

lt_status lt_source_load(const char *spec, const lt_source_opts *o, lt_dataset *train, lt_dataset *test,
                         lt_err *err);

#ifdef __cplusplus
}
#endif
#endif
