/* dist.c -- the process group of data-parallel training (ltsnn/dist.h,
 * dist/dist.h) on MPI: the only file that includes mpi.h.
 *
 * Built with LT_HAVE_MPI (the Makefile defines it when it finds mpicc) it
 * starts MPI when a launcher started this process as one of several;
 * otherwise, and in a build without MPI, the group has one process and
 * every collective is the identity.
 *
 * Two communicators: the gradient buckets (non-blocking allreduces that run
 * while backward goes on) have their own, so the blocking collectives of
 * sync BN and of the training loop never queue behind them.  MPI's reduction
 * of floats depends on its algorithm, which depends only on the message
 * size and the process count: for a fixed N the sums are the same from run
 * to run, and the same on every rank (lt_train checks that each epoch).
 * Not here: what is reduced (src/train/parallel.c). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"

#ifdef LT_HAVE_MPI
#include <mpi.h>
#endif

#define LT_DIST_MAX_REQ 256
/* MPI counts are int: longer buffers go in pieces of this many elements */
#define LT_DIST_PIECE ((size_t)1 << 30)

struct lt_dist {
    int rank, size;
    int local;              /* ranks on this node */
    lt_dist_stats st;
    /* the gradient block of the current step */
    float *g;
    size_t gn, hi, bucket; /* g[hi, gn) is posted */
#ifdef LT_HAVE_MPI
    MPI_Comm comm, gcomm;
    int nreq;
    MPI_Request req[LT_DIST_MAX_REQ];
    int *displs;            /* [size] gather offsets (rank 0) */
    uint64_t *all;          /* [size] one value from each rank */
#endif
};

int lt_dist_built(void)
{
#ifdef LT_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

/* a positive integer from the environment, or 0 */
static int env_int(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    char *end;
    long x = strtol(v, &end, 10);
    return *end || x < 0 || x > INT_MAX ? 0 : (int)x;
}

int lt_dist_launched(int *rank)
{
    /* Open MPI's mpirun; MPICH's hydra and srun --mpi=pmi2; MVAPICH; srun --mpi=pmix */
    static const char *const sizes[][2] = {{"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"},
                                           {"PMI_SIZE", "PMI_RANK"},
                                           {"MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK"}};
    int n = 0, r = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && n == 0; i++)
        if ((n = env_int(sizes[i][0])) > 0)
            r = env_int(sizes[i][1]);
    if (n == 0 && getenv("PMIX_RANK") && (n = env_int("SLURM_STEP_NUM_TASKS")) > 0)
        r = env_int("PMIX_RANK");
    if (rank)
        *rank = n > 1 ? r : 0;
    return n > 1 ? n : 1;
}

lt_status lt_dist_init(lt_dist **out, lt_err *err)
{
    *out = NULL;
    int rank, n = lt_dist_launched(&rank);
#ifndef LT_HAVE_MPI
    if (n > 1)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "started as process %d of %d by an MPI launcher (mpirun, srun), "
                          "but this ltsnn was built without MPI, so each process would train the same job alone. "
                          "Install libopenmpi-dev and openmpi-bin (scripts/install-deps.sh) and rebuild (make "
                          "prints \"MPI support on\"), or run one process", rank, n);
#endif
    lt_dist *d = calloc(1, sizeof *d);
    if (!d)
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory");
    d->size = d->local = 1;
#ifdef LT_HAVE_MPI
    if (n > 1) {
        int provided, r, s;
        /* only the main thread calls MPI (the kernels' OpenMP threads never do) */
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
            free(d);
            return lt_err_set(err, LT_ERR_IO, "MPI_Init failed (process %d of %d)", rank, n);
        }
        MPI_Comm_dup(MPI_COMM_WORLD, &d->comm);
        MPI_Comm_dup(MPI_COMM_WORLD, &d->gcomm);
        MPI_Comm_rank(d->comm, &r);
        MPI_Comm_size(d->comm, &s);
        d->rank = r, d->size = s;
        MPI_Comm node;
        MPI_Comm_split_type(d->comm, MPI_COMM_TYPE_SHARED, r, MPI_INFO_NULL, &node);
        MPI_Comm_size(node, &d->local);
        MPI_Comm_free(&node);
        d->displs = malloc((size_t)s * sizeof *d->displs);
        d->all = malloc((size_t)s * sizeof *d->all);
        if (!d->displs || !d->all) {
            lt_dist_free(d);
            return lt_err_set(err, LT_ERR_NOMEM, "out of memory");
        }
    }
#endif
    *out = d;
    return LT_OK;
}

void lt_dist_free(lt_dist *d)
{
    if (!d)
        return;
#ifdef LT_HAVE_MPI
    if (d->size > 1) {
        MPI_Comm_free(&d->gcomm);
        MPI_Comm_free(&d->comm);
        MPI_Finalize();
    }
    free(d->displs);
    free(d->all);
#endif
    free(d);
}

int lt_dist_rank(const lt_dist *d) { return d ? d->rank : 0; }
int lt_dist_size(const lt_dist *d) { return d ? d->size : 1; }

int lt_dist_node_ranks(const lt_dist *d) { return d ? d->local : 1; }

void lt_dist_get_stats(const lt_dist *d, lt_dist_stats *s)
{
    if (d)
        *s = d->st;
    else
        memset(s, 0, sizeof *s);
}

#ifdef LT_HAVE_MPI
static void account(lt_dist *d, lt_dist_cat cat, double t0, double bytes)
{
    d->st.seconds[cat] += lt_time_s() - t0;
    d->st.bytes[cat] += bytes;
    d->st.calls[cat]++;
}

static void allreduce(lt_dist *d, MPI_Comm comm, void *buf, size_t n, MPI_Datatype type, size_t elem,
                      lt_dist_cat cat)
{
    double t0 = lt_time_s();
    for (size_t o = 0; o < n; o += LT_DIST_PIECE) {
        size_t k = n - o < LT_DIST_PIECE ? n - o : LT_DIST_PIECE;
        MPI_Allreduce(MPI_IN_PLACE, (char *)buf + o * elem, (int)k, type, MPI_SUM, comm);
    }
    account(d, cat, t0, (double)n * (double)elem);
}
#endif

void lt_dist_sum_f64(lt_dist *d, double *buf, size_t n, lt_dist_cat cat)
{
#ifdef LT_HAVE_MPI
    if (d && d->size > 1)
        allreduce(d, d->comm, buf, n, MPI_DOUBLE, sizeof(double), cat);
#endif
}

void lt_dist_sum_f32(lt_dist *d, float *buf, size_t n, lt_dist_cat cat)
{
#ifdef LT_HAVE_MPI
    if (d && d->size > 1)
        allreduce(d, d->comm, buf, n, MPI_FLOAT, sizeof(float), cat);
#endif
}

void lt_dist_bcast(lt_dist *d, void *buf, size_t bytes, int root)
{
#ifdef LT_HAVE_MPI
    if (d && d->size > 1) {
        double t0 = lt_time_s();
        for (size_t o = 0; o < bytes; o += LT_DIST_PIECE) {
            size_t k = bytes - o < LT_DIST_PIECE ? bytes - o : LT_DIST_PIECE;
            MPI_Bcast((char *)buf + o, (int)k, MPI_BYTE, root, d->comm);
        }
        account(d, LT_DIST_OTHER, t0, (double)bytes);
    }
#endif
}

int lt_dist_or(lt_dist *d, int bits)
{
#ifdef LT_HAVE_MPI
    if (d && d->size > 1) {
        int outv = 0;
        double t0 = lt_time_s();
        MPI_Allreduce(&bits, &outv, 1, MPI_INT, MPI_BOR, d->comm);
        account(d, LT_DIST_OTHER, t0, sizeof(int));
        return outv;
    }
#endif
    return bits;
}

void lt_dist_gather_f32(lt_dist *d, float *out, const float *in, const int *counts)
{
    if (!d || d->size == 1) {
        if (out != in)
            memmove(out, in, (size_t)counts[0] * sizeof(float));
        return;
    }
#ifdef LT_HAVE_MPI
    double t0 = lt_time_s();
    for (int r = 0, o = 0; r < d->size; r++)
        d->displs[r] = o, o += counts[r];
    MPI_Gatherv(in, counts[d->rank], MPI_FLOAT, out, counts, d->displs, MPI_FLOAT, 0, d->comm);
    account(d, LT_DIST_OTHER, t0, (double)counts[d->rank] * sizeof(float));
#endif
}

int lt_dist_first_differing(lt_dist *d, uint64_t v, uint64_t *theirs, uint64_t *rank0)
{
    *theirs = *rank0 = v;
#ifdef LT_HAVE_MPI
    if (d && d->size > 1) {
        uint64_t *all = d->all;
        double t0 = lt_time_s();
        MPI_Allgather(&v, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, d->comm);
        account(d, LT_DIST_OTHER, t0, sizeof v);
        int bad = -1;
        for (int r = 1; r < d->size && bad < 0; r++)
            if (all[r] != all[0])
                bad = r;
        if (bad >= 0)
            *theirs = all[bad], *rank0 = all[0];
        return bad;
    }
#endif
    return -1;
}

lt_status lt_dist_agree(lt_dist *d, lt_status st, lt_err *err)
{
#ifdef LT_HAVE_MPI
    if (d && d->size > 1) {
        int mine = st ? d->rank : d->size, first;
        double t0 = lt_time_s();
        MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, d->comm);
        if (first == d->size) {
            account(d, LT_DIST_OTHER, t0, sizeof(int));
            return LT_OK;
        }
        /* the first failing rank's status and message, on every rank */
        struct {
            int status;
            char msg[sizeof err->msg];
        } m;
        memset(&m, 0, sizeof m);
        if (d->rank == first) {
            m.status = (int)st;
            snprintf(m.msg, sizeof m.msg, "%s", err->msg);
        }
        MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, d->comm);
        account(d, LT_DIST_OTHER, t0, sizeof(int) + sizeof m);
        m.msg[sizeof m.msg - 1] = 0;
        if (first)
            return lt_err_set(err, (lt_status)m.status, "rank %d of %d: %s", first, d->size, m.msg);
        return lt_err_set(err, (lt_status)m.status, "%s", m.msg);
    }
#endif
    (void)d;
    return st;
}

/* ---- the gradient block ---- */

void lt_dist_grads_begin(lt_dist *d, float *g, size_t n, size_t bucket)
{
    if (!d)
        return;
    d->g = g;
    d->gn = d->hi = n;
    d->bucket = bucket;
#ifdef LT_HAVE_MPI
    d->nreq = 0;
#endif
}

#ifdef LT_HAVE_MPI
/* posts g[lo, hi) as non-blocking allreduces (int-sized pieces) */
static void post(lt_dist *d, size_t lo, size_t hi)
{
    for (size_t o = lo; o < hi; o += LT_DIST_PIECE) {
        size_t k = hi - o < LT_DIST_PIECE ? hi - o : LT_DIST_PIECE;
        MPI_Iallreduce(MPI_IN_PLACE, d->g + o, (int)k, MPI_FLOAT, MPI_SUM, d->gcomm, &d->req[d->nreq++]);
    }
}
#endif

void lt_dist_grads_ready(lt_dist *d, size_t lo)
{
#ifdef LT_HAVE_MPI
    if (!d || d->size == 1 || !d->bucket || (!d->nreq && d->hi - lo < d->bucket))
        return;
    double t0 = lt_time_s();
    size_t pieces = (d->hi - lo + LT_DIST_PIECE - 1) / LT_DIST_PIECE;
    if (d->hi - lo >= d->bucket && d->nreq + (int)pieces < LT_DIST_MAX_REQ) {
        post(d, lo, d->hi);
        d->st.bytes[LT_DIST_GRAD] += (double)(d->hi - lo) * sizeof(float);
        d->hi = lo;
    } else {
        /* MPI moves a non-blocking collective on only inside MPI calls */
        int done;
        MPI_Testall(d->nreq, d->req, &done, MPI_STATUSES_IGNORE);
    }
    d->st.seconds[LT_DIST_GRAD] += lt_time_s() - t0;
#else
    (void)d;
    (void)lo;
#endif
}

void lt_dist_grads_end(lt_dist *d)
{
#ifdef LT_HAVE_MPI
    if (!d || d->size == 1)
        return;
    double t0 = lt_time_s();
    if (!d->bucket) {
        allreduce(d, d->gcomm, d->g, d->gn, MPI_FLOAT, sizeof(float), LT_DIST_GRAD);
        return;
    }
    if (d->hi > 0) {
        if (d->nreq + (int)((d->hi + LT_DIST_PIECE - 1) / LT_DIST_PIECE) > LT_DIST_MAX_REQ) {
            MPI_Waitall(d->nreq, d->req, MPI_STATUSES_IGNORE);
            d->nreq = 0;
        }
        post(d, 0, d->hi);
        d->st.bytes[LT_DIST_GRAD] += (double)d->hi * sizeof(float);
        d->hi = 0;
    }
    MPI_Waitall(d->nreq, d->req, MPI_STATUSES_IGNORE);
    d->nreq = 0;
    d->st.seconds[LT_DIST_GRAD] += lt_time_s() - t0;
    d->st.calls[LT_DIST_GRAD]++;
#else
    (void)d;
#endif
}
