/* dist_allreduce.c -- the time of one allreduce of n floats over the ranks
 * of an mpirun, through ltsnn's dist module (src/dist/), for the sizes
 * bench/scaling.sh feeds docs/scaling.md's model: a latency and a
 * bandwidth fitted to the small and large messages, and the gradient
 * blocks of VGG-9 and ResNet-19 as one blocking allreduce and as the
 * buckets lt_train posts (4 MB).
 *
 *   mpirun -np N dist_allreduce [REPS]
 *
 * Rank 0 prints one JSON line per size: floats, bytes, the median and the
 * minimum seconds over REPS (default 20) after 2 untimed ones.  The ranks
 * meet at a zero-byte-ish allreduce before each timed one, so a rank's wait
 * for a late partner is not counted. */
#include <stdio.h>
#include <stdlib.h>

#include "dist/dist.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* bucket 0: one lt_dist_sum_f32; else the bucketed exchange over layers of `layer` floats */
static void run(lt_dist *d, float *buf, size_t n, size_t bucket, size_t layer, int reps, const char *what)
{
    double *t = malloc((size_t)reps * sizeof *t), sync[1];
    for (int r = -2; r < reps; r++) {
        sync[0] = 0;
        lt_dist_sum_f64(d, sync, 1, LT_DIST_OTHER); /* line the ranks up */
        double t0 = lt_time_s();
        if (!bucket) {
            lt_dist_sum_f32(d, buf, n, LT_DIST_GRAD);
        } else {
            lt_dist_grads_begin(d, buf, n, bucket);
            for (size_t lo = n; lo > 0;) {
                lo = lo > layer ? lo - layer : 0;
                lt_dist_grads_ready(d, lo);
            }
            lt_dist_grads_end(d);
        }
        if (r >= 0)
            t[r] = lt_time_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    if (lt_dist_rank(d) == 0)
        printf("{\"what\": \"%s\", \"ranks\": %d, \"floats\": %zu, \"bytes\": %zu, \"bucket_bytes\": %zu, "
               "\"median_s\": %.9f, \"min_s\": %.9f}\n", what, lt_dist_size(d), n, n * sizeof(float),
               bucket * sizeof(float), t[reps / 2], t[0]);
    fflush(stdout);
    free(t);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 20;
    lt_err err = {0};
    lt_dist *d = NULL;
    if (reps < 1 || lt_dist_init(&d, &err)) {
        fprintf(stderr, "dist_allreduce: %s\n", reps < 1 ? "REPS must be >= 1" : err.msg);
        return 1;
    }
    if (lt_dist_size(d) < 2) {
        fprintf(stderr, "dist_allreduce: run it under mpirun -np N (N >= 2)\n");
        lt_dist_free(d);
        return 1;
    }
    /* gradient blocks: ltsnn info vgg9 / resnet19 */
    const size_t vgg9 = 7069588, resnet19 = 12698012;
    float *buf = calloc(resnet19, sizeof *buf);
    if (!buf) {
        lt_dist_free(d);
        return 1;
    }
    for (size_t n = 1; n <= resnet19; n *= 8)
        run(d, buf, n, 0, 0, reps, "sweep");
    run(d, buf, vgg9, 0, 0, reps, "vgg9 block");
    run(d, buf, resnet19, 0, 0, reps, "resnet19 block");
    /* as lt_train posts them: 4 MB buckets, layers of ~0.5M floats finishing one after another */
    run(d, buf, vgg9, (size_t)1 << 20, (size_t)1 << 19, reps, "vgg9 block, 4 MB buckets");
    run(d, buf, resnet19, (size_t)1 << 20, (size_t)1 << 19, reps, "resnet19 block, 4 MB buckets");
    free(buf);
    lt_dist_free(d);
    return 0;
}
