/* dist.h -- private: the collectives data-parallel training uses
 * (ltsnn/dist.h has the group itself).  Plain arrays only: this module
 * knows nothing of nets or datasets (src/train/parallel.c joins them).
 * On a group of one every call is the identity and costs nothing. */
#ifndef LT_DIST_DIST_H
#define LT_DIST_DIST_H

#include "ltsnn/dist.h"

/* What a collective is for, for the accounting (lt_dist_stats). */
typedef enum lt_dist_cat {
    LT_DIST_GRAD = 0,  /* the gradient block */
    LT_DIST_BN,        /* sync BN's sums, inside forward and backward */
    LT_DIST_OTHER,     /* metrics, evaluation, checks, decisions */
    LT_DIST_CATS
} lt_dist_cat;

/* Time this process spent inside collectives (waiting included, so the part
 * of the exchange that compute did not hide) and the bytes it contributed,
 * per category, since the group opened. */
typedef struct lt_dist_stats {
    double seconds[LT_DIST_CATS];
    double bytes[LT_DIST_CATS];
    long calls[LT_DIST_CATS];
} lt_dist_stats;
void lt_dist_get_stats(const lt_dist *d, lt_dist_stats *s);

/* buf[n] replaced by its sum over the ranks, the same on every rank. */
void lt_dist_sum_f64(lt_dist *d, double *buf, size_t n, lt_dist_cat cat);
void lt_dist_sum_f32(lt_dist *d, float *buf, size_t n, lt_dist_cat cat);
/* buf[bytes] of rank root on every rank */
void lt_dist_bcast(lt_dist *d, void *buf, size_t bytes, int root);
/* the bitwise OR of every rank's bits, on every rank (flags that all must act on) */
int lt_dist_or(lt_dist *d, int bits);
/* Rank 0 gets every rank's in[counts[rank]] one after the other in rank
 * order into out (other ranks' out is not touched; counts is the same
 * array on every rank). */
void lt_dist_gather_f32(lt_dist *d, float *out, const float *in, const int *counts);
/* The lowest rank whose v differs from rank 0's, or -1 when all agree (the
 * same answer on every rank); *theirs and *rank0 get the two values. */
int lt_dist_first_differing(lt_dist *d, uint64_t v, uint64_t *theirs, uint64_t *rank0);

/* The gradient block g[n], summed over the ranks once per step.  begin
 * before backward; ready(lo) as each layer's backward ends, g[lo, n) being
 * final: once at least `bucket` floats past the last posted boundary are
 * final they are posted as one non-blocking allreduce (the exchange runs
 * while backward goes on; bucket 0: nothing is posted early); end posts the
 * rest and waits for all.  The buckets depend on the layers' offsets and
 * bucket only, so every rank posts the same ones. */
void lt_dist_grads_begin(lt_dist *d, float *g, size_t n, size_t bucket);
void lt_dist_grads_ready(lt_dist *d, size_t lo);
void lt_dist_grads_end(lt_dist *d);

#endif
