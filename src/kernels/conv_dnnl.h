/* conv_dnnl.h -- convolutions (ordinary, grouped, depthwise) through oneDNN.
 *
 * The same maths as lt_conv2d_forward / lt_conv2d_backward (kernels.h),
 * which stay the oracle and the fallback.  A plan is made once for a
 * geometry: oneDNN primitives for chunks of F frames, with the blocked
 * layouts oneDNN prefers; the caller's NCHW tensors are reordered into them
 * inside a scratch block the caller passes (sized by lt_dnnl_conv_work_floats),
 * so nothing is allocated while running.  Frames past the last whole chunk
 * go through the BLAS kernel.  Why chunks: blocked copies of F frames stay a
 * few MB, where copies of a whole [T*B, C, H, W] activation would add
 * hundreds of MB to the process. */
#ifndef LT_KERNELS_CONV_DNNL_H
#define LT_KERNELS_CONV_DNNL_H

#include "kernels/kernels.h"

typedef struct lt_dnnl_conv lt_dnnl_conv;

/* Plans geometry s (s->N is ignored: any frame count runs) for inference
 * (train 0) or training (1, also backward).  NULL when oneDNN is absent or
 * refuses the shape; callers then use lt_conv2d_*. */
lt_dnnl_conv *lt_dnnl_conv_create(const lt_conv_shape *s, int train);
void lt_dnnl_conv_free(lt_dnnl_conv *c);
/* Scratch floats forward and backward need (includes the BLAS fallback's). */
size_t lt_dnnl_conv_work_floats(const lt_dnnl_conv *c);
/* Frames per oneDNN call. */
int lt_dnnl_conv_chunk(const lt_dnnl_conv *c);
/* Implementation oneDNN chose for the forward (for logs), e.g. "brg:avx512_core". */
const char *lt_dnnl_conv_impl(const lt_dnnl_conv *c);

/* As lt_conv2d_forward / lt_conv2d_backward, with s->N frames. */
void lt_dnnl_conv_forward(lt_dnnl_conv *c, float *y, const float *x, const float *w, const lt_conv_shape *s,
                          float *work);
void lt_dnnl_conv_backward(lt_dnnl_conv *c, float *dx, float *dw, const float *dy, const float *x, const float *w,
                           const lt_conv_shape *s, float *work);

#endif
