/* ltsnn/dist.h -- data-parallel training over MPI (METHOD.md §11).
 *
 * `mpirun -np N ltsnn train ...` starts N processes (ranks); each opens a
 * group with lt_dist_init and hands it to lt_train (lt_train_config.dist),
 * which splits every global batch into N contiguous slices, adds the
 * gradients up with one allreduce of the gradient block per step, reduces
 * the metrics and evaluation, and lets rank 0 alone write files.
 *
 * A group exists in every build: without MPI (this libltsnn built without
 * mpicc) or when no MPI launcher started the process it is a group of one,
 * and training is exactly the one-process training.  A process that a
 * launcher started as one of several in a build without MPI is refused
 * (lt_dist_init fails) rather than training the same job N times. */
#ifndef LTSNN_DIST_H
#define LTSNN_DIST_H

#include "ltsnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lt_dist lt_dist;

/* 1 when this libltsnn was built with MPI. */
int lt_dist_built(void);
/* How many processes an MPI launcher (mpirun, mpiexec, srun) says this one
 * belongs to, read from the environment (1: not started by a launcher);
 * *rank (may be NULL) gets this process's rank (0 without a launcher). */
int lt_dist_launched(int *rank);
/* Opens the group: starts MPI when a launcher started this process as one
 * of several (else a group of one, no MPI).  Fails (LT_ERR_UNSUPPORTED)
 * when launched as one of several by a build without MPI. */
lt_status lt_dist_init(lt_dist **d, lt_err *err);
/* Closes the group (MPI_Finalize); NULL is fine. */
void lt_dist_free(lt_dist *d);
int lt_dist_rank(const lt_dist *d);
int lt_dist_size(const lt_dist *d);
/* The ranks running on this process's node (sharing its cores and memory). */
int lt_dist_node_ranks(const lt_dist *d);
/* Collective: every rank passes its own status (and message in err); every
 * rank returns the status of the lowest rank that failed, with its message
 * (prefixed "rank R of N: " when R is not 0), or LT_OK when none failed.
 * So one rank's error stops every rank with its message. */
lt_status lt_dist_agree(lt_dist *d, lt_status st, lt_err *err);

#ifdef __cplusplus
}
#endif
#endif
