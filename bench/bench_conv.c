/* bench_conv.c -- one convolution layer, oneDNN path vs the im2col + OpenBLAS
 * path, forward and backward (dx and dw), on binary 15% input.
 *   bench_conv N Cin H W Cout k [reps]
 * Prints ms per call and GFLOP/s (2*MACs per pass) for each, plus the
 * implementation oneDNN picked.  Build (from the repo root, after make):
 *   cc -std=c11 -O2 -fopenmp -D_GNU_SOURCE -Iinclude -Isrc -o build/bench_conv bench/bench_conv.c \
 *      build/libltsnn.a -ldnnl -lopenblas -lcjson -lz -lm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/conv_dnnl.h"
#include "ltsnn/core.h"

static double best(double a, double b) { return a < b ? a : b; }

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: bench_conv N Cin H W Cout k [reps]\n");
        return 2;
    }
    lt_conv_shape s = {atoi(argv[1]), atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]),
                       atoi(argv[6]), atoi(argv[6]), 1, atoi(argv[6]) / 2, 1, 0, 0};
    int reps = argc > 7 ? atoi(argv[7]) : 5;
    if (!lt_conv_shape_fill(&s) || reps < 1) {
        fprintf(stderr, "bench_conv: bad shape\n");
        return 2;
    }
    lt_rng rng;
    lt_rng_seed(&rng, 1);
    size_t nx = (size_t)s.N * s.Cin * s.H * s.W, ny = (size_t)s.N * s.Cout * s.Ho * s.Wo;
    size_t nw = (size_t)s.Cout * s.Cin * s.kh * s.kw;
    float *x = lt_alloc(nx * 4), *w = lt_alloc(nw * 4), *y = lt_alloc(ny * 4), *dy = lt_alloc(ny * 4);
    float *dx = lt_alloc(nx * 4), *dw = lt_alloc(nw * 4);
    for (size_t i = 0; i < nx; i++)
        x[i] = lt_rng_uniform(&rng) < 0.15 ? 1.0f : 0.0f;
    for (size_t i = 0; i < nw; i++)
        w[i] = lt_rng_uniformf(&rng, -0.1f, 0.1f);
    for (size_t i = 0; i < ny; i++)
        dy[i] = lt_rng_uniformf(&rng, -1, 1);
    lt_dnnl_conv *c = lt_dnnl_conv_create(&s, 1);
    size_t nwork = lt_conv2d_work_floats(&s);
    if (c && lt_dnnl_conv_work_floats(c) > nwork)
        nwork = lt_dnnl_conv_work_floats(c);
    float *work = lt_alloc(nwork * 4 + 64);
    double gf = 2e-9 * (double)nw * s.Ho * s.Wo * s.N;
    double tf[2] = {1e9, 1e9}, tb[2] = {1e9, 1e9};
    for (int r = 0; r < reps; r++)
        for (int k = 0; k < 2; k++) {
            if (k == 1 && !c)
                continue;
            double t0 = lt_time_s();
            if (k)
                lt_dnnl_conv_forward(c, y, x, w, &s, work);
            else
                lt_conv2d_forward(y, x, w, &s, work);
            double t1 = lt_time_s();
            if (k)
                lt_dnnl_conv_backward(c, dx, dw, dy, x, w, &s, work);
            else
                lt_conv2d_backward(dx, dw, dy, x, w, &s, work);
            double t2 = lt_time_s();
            tf[k] = best(tf[k], t1 - t0);
            tb[k] = best(tb[k], t2 - t1);
        }
    printf("conv N%d %dx%dx%d -> %d k%d: blas fwd %.1f ms (%.0f GFLOP/s) bwd %.1f ms (%.0f); "
           "onednn[%s, chunk %d] fwd %.1f ms (%.0f) bwd %.1f ms (%.0f)\n",
           s.N, s.Cin, s.H, s.W, s.Cout, s.kh, 1e3 * tf[0], gf / tf[0], 1e3 * tb[0], 2 * gf / tb[0],
           lt_dnnl_conv_impl(c), lt_dnnl_conv_chunk(c), 1e3 * tf[1], gf / tf[1], 1e3 * tb[1], 2 * gf / tb[1]);
    lt_dnnl_conv_free(c);
    lt_free(x), lt_free(w), lt_free(y), lt_free(dy), lt_free(dx), lt_free(dw), lt_free(work);
    return 0;
}
