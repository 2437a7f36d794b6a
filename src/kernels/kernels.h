/* kernels.h -- pure array functions: conv, batch norm, pooling, linear, LIF, loss.
 *
 * Conventions (STYLE.md):
 *  - argument order: outputs, then what backward will need, then inputs,
 *    parameters, dimensions;
 *  - images are NCHW float32, N = T*B frames of the time-major [T,B,C,H,W]
 *    activations; the LIF kernels see [T, M] with M = B*C*H*W;
 *  - backward ACCUMULATES into parameter gradients (+=) and OVERWRITES the
 *    input gradient dx (dx may be NULL when the caller does not need it);
 *  - every op has a plain loop version named *_ref: the oracle the fast one
 *    is tested against.  The fast versions may use OpenMP and BLAS but must be
 *    deterministic for a fixed thread count (fixed partition, fixed-order
 *    reductions).
 * Letters: N frames, C channels, H W height width, T time steps, M neurons per
 * step, K classes, B batch. */
#ifndef LT_KERNELS_H
#define LT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "ltsnn/nn.h"

/* ---------------- 2-D convolution (no bias) ---------------- */
typedef struct lt_conv_shape {
    int N;          /* frames */
    int Cin, H, W;  /* input */
    int Cout;       /* output channels */
    int kh, kw;     /* kernel */
    int stride, pad;
    int groups;     /* Cin and Cout divisible by groups; groups == Cin is depthwise */
    int Ho, Wo;     /* (H + 2*pad - kh)/stride + 1, likewise W; filled by lt_conv_shape_fill */
} lt_conv_shape;

/* Computes Ho and Wo; returns 0 when the geometry is invalid. */
int lt_conv_shape_fill(lt_conv_shape *s);
/* Floats of scratch memory the fast kernels need (planned once by the net). */
size_t lt_conv2d_work_floats(const lt_conv_shape *s);

/* y[N,Cout,Ho,Wo] = conv(x[N,Cin,H,W], w[Cout,Cin/groups,kh,kw]) */
void lt_conv2d_forward(float *y, const float *x, const float *w, const lt_conv_shape *s, float *work);
void lt_conv2d_forward_ref(float *y, const float *x, const float *w, const lt_conv_shape *s);
/* dx[N,Cin,H,W] = conv^T(dy) (overwritten; skipped if NULL);  dw += sum over N of dy (x) x */
void lt_conv2d_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                        const lt_conv_shape *s, float *work);
void lt_conv2d_backward_ref(float *dx, float *dw, const float *dy, const float *x, const float *w,
                            const lt_conv_shape *s);

/* ---------------- BatchNorm2d (METHOD.md §3) ---------------- */
/* Train mode: per channel c, statistics over N*HW with the biased variance;
 * y = gamma*(x-mean)*invstd + beta.  Saves mean[C], invstd[C] for backward;
 * updates run_mean/run_var with momentum (run_var takes the UNBIASED variance,
 * as PyTorch does). */
void lt_bn_forward_train(float *y, float *mean, float *invstd, float *run_mean, float *run_var,
                         const float *x, const float *gamma, const float *beta,
                         int N, int C, int HW, float eps, float momentum);
void lt_bn_forward_train_ref(float *y, float *mean, float *invstd, float *run_mean, float *run_var,
                             const float *x, const float *gamma, const float *beta,
                             int N, int C, int HW, float eps, float momentum);
/* Eval mode: uses run_mean/run_var. */
void lt_bn_forward_eval(float *y, const float *x, const float *gamma, const float *beta,
                        const float *run_mean, const float *run_var, int N, int C, int HW, float eps);
/* For consumers that apply BN on the fly (lt_lif_forward_bn): train-mode
 * statistics exactly as lt_bn_forward_train makes them (mean, invstd, running
 * stats) plus scale[C], without writing y; y would be
 * (x - mean[c])*scale[c] + beta[c]. */
void lt_bn_stats_train(float *mean, float *invstd, float *scale, float *run_mean, float *run_var, const float *x,
                       const float *gamma, int N, int C, int HW, float eps, float momentum);
/* Eval mode's scale[C] = gamma/sqrt(run_var + eps); y = (x - run_mean)*scale + beta. */
void lt_bn_eval_scale(float *scale, const float *gamma, const float *run_var, int C, float eps);
/* dx overwritten; dgamma, dbeta accumulate.  dx may be x (dx written over
 * the input, which the statistics pass has read by then), not dy. */
void lt_bn_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                    const float *mean, const float *invstd, const float *gamma, int N, int C, int HW);
void lt_bn_backward_ref(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                        const float *mean, const float *invstd, const float *gamma, int N, int C, int HW);
/* Sync BN (METHOD.md §11): the train-mode forward and the backward split
 * at their per-channel sums, so processes holding parts of one batch add
 * the sums up between the halves.  On one process each pair gives exactly
 * lt_bn_forward_train (stats) / lt_bn_backward; their oracle is the _ref
 * pair on the whole batch.
 * sum[C], sq[C] = sum x, sum x^2 over this part's N*HW values per channel
 * (double, overwritten). */
void lt_bn_sums(double *sum, double *sq, const float *x, int N, int C, int HW);
/* mean, invstd, running stats and scale[C] = gamma*invstd from the sums over
 * M values (every process's), as lt_bn_stats_train makes them from its own. */
void lt_bn_stats_from_sums(float *mean, float *invstd, float *scale, float *run_mean, float *run_var,
                           const double *sum, const double *sq, double M, const float *gamma, int C, float eps,
                           float momentum);
/* y = (x - mean[c])*scale[c] + beta[c] (the expression of the fast forward) */
void lt_bn_apply(float *y, const float *x, const float *mean, const float *scale, const float *beta, int N, int C,
                 int HW);
/* sd[C], sdx[C] = sum dy, sum dy*(x - mean) over this part (double, overwritten) */
void lt_bn_backward_sums(double *sd, double *sdx, const float *dy, const float *x, const float *mean, int N, int C,
                         int HW);
/* From the sums over M values (every process's): dbeta += sd, dgamma +=
 * sdx*invstd (each NULL: not accumulated, another process adds the shared
 * sums), and dx of this part (overwritten; NULL: skipped; may be x). */
void lt_bn_backward_from_sums(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                              const float *mean, const float *invstd, const float *gamma, const double *sd,
                              const double *sdx, double M, int N, int C, int HW);

/* ---------------- 2x2 pooling, stride 2, floor on odd sizes ---------------- */
/* y[N,C,H/2,W/2] */
void lt_avgpool2_forward(float *y, const float *x, int N, int C, int H, int W);
void lt_avgpool2_backward(float *dx, const float *dy, int N, int C, int H, int W);
void lt_maxpool2_forward(float *y, const float *x, int N, int C, int H, int W);
/* Ties go to the first maximum in row-major order of the 2x2 window (as PyTorch). */
void lt_maxpool2_backward(float *dx, const float *dy, const float *x, int N, int C, int H, int W);

/* Global average pooling over each H*W plane: y[N,C] (GAP, METHOD.md §3); dx[N,C,HW] = dy / HW. */
void lt_gap_forward(float *y, const float *x, int N, int C, int HW);
void lt_gap_backward(float *dx, const float *dy, int N, int C, int HW);

/* ---------------- linear with bias ---------------- */
/* y[N,out] = x[N,in] w[out,in]^T + b[out] */
void lt_linear_forward(float *y, const float *x, const float *w, const float *b, int N, int in, int out);
void lt_linear_forward_ref(float *y, const float *x, const float *w, const float *b, int N, int in, int out);
/* dx[N,in] overwritten (skipped if NULL); dw[out,in] += dy^T x; db += sum_n dy */
void lt_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                        int N, int in, int out);
void lt_linear_backward_ref(float *dx, float *dw, float *db, const float *dy, const float *x,
                            const float *w, int N, int in, int out);

/* ---------------- LIF neuron, multi-step (METHOD.md §1, §2) ---------------- */
/* lt_vth_mode and lt_window are public (ltsnn/nn.h): the neuron options a user sets. */
typedef struct lt_lif_opts {
    float lam;          /* leak factor, default 0.5 */
    float g;            /* surrogate width, default 1 */
    float alpha;        /* DSR only, default 0.3 */
    lt_vth_mode mode;   /* default SGP */
    lt_window window;   /* default sigmoid */
    int soft_reset;     /* 0: hard reset to 0 (default); 1: subtract V */
    int detach_reset;   /* 1: no gradient through s_{t-1} in the reset term */
} lt_lif_opts;

void lt_lif_opts_default(lt_lif_opts *o);

/* Forward over T steps of M neurons, time-major.
 * s[T,M] output spikes (0/1; V or 0 under DSR), u[T,M] membrane before reset
 * (all backward needs: s is recomputed from u), x[T,M] input current. */
void lt_lif_forward(float *s, float *u, const float *x, float vth, const lt_lif_opts *o, int T, size_t M);
void lt_lif_forward_ref(float *s, float *u, const float *x, float vth, const lt_lif_opts *o, int T, size_t M);
/* Backward through time.  dx[T,M] overwritten; *dvth += dL/dV (skipped when
 * dvth is NULL or mode is FIXED); ds[T,M] is the gradient arriving from the
 * next layer. */
void lt_lif_backward(float *dx, float *dvth, const float *ds, const float *u, float vth,
                     const lt_lif_opts *o, int T, size_t M);
void lt_lif_backward_ref(float *dx, float *dvth, const float *ds, const float *u, float vth,
                         const lt_lif_opts *o, int T, size_t M);
/* BatchNorm folded into the LIF input (METHOD.md §3 then §1): the LIF reads
 * x = BN's input (the conv output) and uses (x - mean[c])*scale[c] + beta[c]
 * as its current, c = (j / HW) % C for neuron j of a step, the very float
 * expression BN writes.  So the BN output, and under training also u, never
 * exist as tensors. */
typedef struct lt_bn_affine {
    const float *mean, *scale, *beta; /* [C] each */
    int C, HW;
} lt_bn_affine;
/* lt_lif_forward on the BN output, bit for bit; u may be NULL (not stored). */
void lt_lif_forward_bn(float *s, float *u, const float *x, const lt_bn_affine *bn, float vth, const lt_lif_opts *o,
                       int T, size_t M);
/* lt_lif_backward on the u the forward made, bit for bit (dx and *dvth): u
 * is rebuilt chunk by chunk from x into uwork [T, M] (scratch; may be dx
 * when dx is not ds).  dx may be ds (the gradient written over itself). */
void lt_lif_backward_bn(float *dx, float *dvth, const float *ds, const float *x, const lt_bn_affine *bn, float vth,
                        const lt_lif_opts *o, int T, size_t M, float *uwork);
/* Surrogate pieces for one z = u - V (tests, plots): ds/du and ds/dV. */
void lt_lif_surrogate(float *dsdu, float *dsdv, float u, float vth, const lt_lif_opts *o);
float lt_window_eval(lt_window w, float z);
/* w[k] = window(ur[k] - thr) for a row, as the fast backward computes it
 * (sigmoid and arctan vectorised, within 1e-7 of lt_window_eval). */
void lt_window_row(float *w, const float *ur, float thr, lt_window win, size_t n);

/* ---------------- loss (METHOD.md §4) ---------------- */
typedef struct lt_loss_parts {
    double loss, ce, mse; /* total and its two parts (means as in METHOD §4) */
} lt_loss_parts;

/* O[T,B,K] logits, y[B] labels.  TET: L = beta*mean_t CE(O_t,y) + (1-beta)*mean_t MSE(O_t, omega).
 * tet == 0: plain CE on the time-averaged logits (plus the same MSE term).
 * dO[T,B,K] overwritten with dL/dO (skipped if NULL). */
lt_loss_parts lt_loss_forward_backward(float *dO, const float *O, const int32_t *y, float omega, float beta,
                                       int tet, int T, int B, int K);
/* pred[B] = argmax_k mean_t O[t,b,k] */
void lt_predict(int32_t *pred, const float *O, int T, int B, int K);

#endif
