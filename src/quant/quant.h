/* quant.h -- private: low-precision weights (SAWB, METHOD.md §7) and the
 * integer export of a trained net (METHOD.md §10, docs/formats.md "Integer
 * models").
 *
 * Kernels follow kernels.h's conventions: outputs first, then inputs,
 * parameters, dimensions; every fast kernel has a plain *_ref beside it,
 * the oracle tests compare it with.  Letters: n weights of one tensor. */
#ifndef LT_QUANT_H
#define LT_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "nn/net.h"

/* ---------------- SAWB (METHOD.md §7) ---------------- */
/* The bit widths SAWB is pinned for (4 and 8); 0 / 32 mean full precision. */
int lt_sawb_bits_ok(int bits);
/* Largest code of a width: n = 2^(bits-1) - 1 (7 for 4 bits). */
int lt_sawb_levels(int bits);

/* The clipping level of a weight tensor: m = mean |w|, s = std(w)
 * (unbiased, both in double), alpha = s/z1 - (z2/z1)*m, or max |w| when
 * that is not > 0.  Returned in double; the forward uses (float)alpha for
 * the clamp and the mask and scale = (float)(n / alpha). */
double lt_sawb_alpha(const float *w, size_t n, int bits);
double lt_sawb_alpha_ref(const float *w, size_t n, int bits);

/* wq[n] = q / scale with q = clamp(round_half_even(clamp(w, -alpha, alpha)
 * * scale), -n, n); *alpha_out = (float)alpha (the mask's bound).  An
 * all-zero tensor (alpha 0) gives wq = 0.  wq may not alias w. */
void lt_sawb_forward(float *wq, float *alpha_out, const float *w, size_t n, int bits);
void lt_sawb_forward_ref(float *wq, float *alpha_out, const float *w, size_t n, int bits);

/* The straight-through backward: dw[i] += dwq[i] where |w[i]| <= alpha,
 * nothing elsewhere (alpha gets no gradient). */
void lt_sawb_backward(float *dw, const float *dwq, const float *w, float alpha, size_t n);
void lt_sawb_backward_ref(float *dw, const float *dwq, const float *w, float alpha, size_t n);

/* The integer codes the forward uses: q[n] in [-levels, levels] and
 * *scale (w_q = q / scale); the same q as lt_sawb_forward, bit for bit. */
void lt_sawb_codes(int8_t *q, float *scale, const float *w, size_t n, int bits);

/* ---------------- integer export (export.c, METHOD.md §10) ----------------
 * lt_net_export (ltsnn/quant.h) walks the layers in order and calls each
 * kind's qexport, which hands its parameters to one of these.  The
 * exporter keeps, for every float tensor, its value as integers: per
 * channel c, sum over terms i of a_i[c] * int_i + b[c], with int_i one of
 * the model's integer tensors; conv and linear make new terms, BN and the
 * residual sum transform them, and a neuron turns them into a fixed-point
 * LIF op.  In a planned-only net the parameter pointers are NULL and only
 * the sizes are made (ltsnn info). */
struct lt_qx;
typedef struct lt_qx lt_qx;
lt_status lt_qx_conv(lt_qx *qx, const lt_layer *l, const lt_conv_shape *s, int wbits, const float *w, lt_err *err);
lt_status lt_qx_bn(lt_qx *qx, const lt_layer *l, const float *gamma, const float *beta, const float *run_mean,
                   const float *run_var, float eps, lt_err *err);
lt_status lt_qx_lif(lt_qx *qx, const lt_layer *l, float vth, const lt_lif_opts *o, lt_err *err);
lt_status lt_qx_pool(lt_qx *qx, const lt_layer *l, int max, lt_err *err);
lt_status lt_qx_gap(lt_qx *qx, const lt_layer *l, lt_err *err);
lt_status lt_qx_add(lt_qx *qx, const lt_layer *l, lt_err *err);
lt_status lt_qx_linear(lt_qx *qx, const lt_layer *l, const float *w, const float *bias, lt_err *err);

/* ---------------- evaluation helpers (energy.c) ---------------- */
/* A copy of net with T steps and batch B, planned with every tensor kept
 * (keep_all, training plan: nothing reused), its parameters and BN
 * statistics copied: after an eval-mode forward every layer's input and
 * every neuron's spikes can be read. */
lt_status lt_q_twin(lt_net **twin, const lt_net *net, int T, int B, lt_err *err);
/* e->macs, sops, pj from its rows */
struct lt_energy;
void lt_energy_total(struct lt_energy *e);

#endif
