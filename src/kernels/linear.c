/* linear.c -- fully connected layer with bias: y[N,out] = x[N,in] w[out,in]^T + b.
 *
 * The fast version is three OpenBLAS sgemm calls (forward, dx, dw); OpenBLAS
 * never splits a GEMM's inner dimension across threads, so the sums are
 * deterministic for a fixed thread count.  db is summed over frames in
 * order, in double.  The _ref versions are plain loops with double
 * accumulators, the oracle.  Not here: flattening (an NCHW frame is already
 * a contiguous row of C*H*W values in C, H, W order, METHOD.md §3). */
#include "kernels/kernels.h"

#include <cblas.h>
#include <string.h>

void lt_linear_forward_ref(float *y, const float *x, const float *w, const float *b, int N, int in, int out)
{
    for (int n = 0; n < N; n++)
        for (int o = 0; o < out; o++) {
            double acc = b ? b[o] : 0.0;
            for (int i = 0; i < in; i++)
                acc += (double)x[(size_t)n * in + i] * w[(size_t)o * in + i];
            y[(size_t)n * out + o] = (float)acc;
        }
}

void lt_linear_backward_ref(float *dx, float *dw, float *db, const float *dy, const float *x,
                            const float *w, int N, int in, int out)
{
    if (dx)
        for (int n = 0; n < N; n++)
            for (int i = 0; i < in; i++) {
                double acc = 0.0;
                for (int o = 0; o < out; o++)
                    acc += (double)dy[(size_t)n * out + o] * w[(size_t)o * in + i];
                dx[(size_t)n * in + i] = (float)acc;
            }
    for (int o = 0; o < out; o++) {
        for (int i = 0; i < in; i++) {
            double acc = 0.0;
            for (int n = 0; n < N; n++)
                acc += (double)dy[(size_t)n * out + o] * x[(size_t)n * in + i];
            dw[(size_t)o * in + i] += (float)acc;
        }
        if (db) {
            double acc = 0.0;
            for (int n = 0; n < N; n++)
                acc += dy[(size_t)n * out + o];
            db[o] += (float)acc;
        }
    }
}

void lt_linear_forward(float *y, const float *x, const float *w, const float *b, int N, int in, int out)
{
    /* Seed every row with the bias, then let sgemm add x w^T (beta = 1). */
    for (int n = 0; n < N; n++) {
        float *yr = y + (size_t)n * out;
        if (b)
            memcpy(yr, b, sizeof(float) * (size_t)out);
        else
            memset(yr, 0, sizeof(float) * (size_t)out);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, out, in, 1.0f, x, in, w, in, 1.0f, y, out);
}

void lt_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                        int N, int in, int out)
{
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, in, out, 1.0f, dy, out, w, in, 0.0f,
                    dx, in);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, N, 1.0f, dy, out, x, in, 1.0f, dw, in);
    if (!db)
        return;
    #pragma omp parallel for schedule(static)
    for (int o = 0; o < out; o++) {
        double acc = 0.0;
        for (int n = 0; n < N; n++)
            acc += dy[(size_t)n * out + o];
        db[o] += (float)acc;
    }
}
