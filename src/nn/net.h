/* net.h -- the network's private layout: layers, the kind table, memory blocks.
 *
 * Letters: T time steps, B planned batch, b actual batch (b <= B), N = T*b
 * frames, C H W a frame's channels/height/width, M = b*C*H*W neurons per step.
 * Every activation is time-major [T, b, C, H, W]; stateless layers see it as
 * [N, C, H, W], LIF layers as [T, M].
 *
 * A layer kind is a row in lt_layer_kinds (one file each: conv.c, bn.c,
 * lif.c, pool.c, linear.c).  Creating a net is: parse the model string,
 * append layers, let each plan its output shape and the memory it needs,
 * allocate each block once, then bind pointers.  Nothing is allocated in
 * forward or backward. */
#ifndef LT_NN_NET_H
#define LT_NN_NET_H

#include "kernels/kernels.h"
#include "ltsnn/nn.h"

typedef struct lt_layer lt_layer;

/* A parameter or buffer a layer owns: a slice of the net's params (or
 * buffers) block, with its checkpoint name suffix and shape. */
typedef struct lt_pslot {
    const char *suffix;     /* "weight", "bias", "vth", "running_mean" ... */
    int ndim;
    int64_t shape[4];
    size_t numel;
    size_t off;             /* into params (or buffers) */
    int buffer;             /* 1: BN running stat (no gradient) */
    int frozen;             /* 1: never updated (fixed threshold) */
} lt_pslot;

#define LT_MAX_SLOTS 4
#define LT_MAX_SAVED 3

typedef struct lt_layer_kind {
    const char *name;
    /* Given l->in_* fill l->out_*, l->slot[], l->saved_per_frame[] / saved_fixed[],
     * l->work_floats, l->needs_input (backward reads its input). */
    void (*plan)(lt_layer *l, const lt_net_config *cfg);
    void (*init)(lt_layer *l, const lt_net_config *cfg, lt_rng *rng);
    /* x: input [N, in], y: output [N, out]. */
    void (*forward)(lt_layer *l, float *y, const float *x, int T, int b, int train);
    /* dx may be NULL (first layer); x is the forward input, valid only when
     * l->needs_input.  Parameter gradients accumulate. */
    void (*backward)(lt_layer *l, float *dx, const float *dy, const float *x, int T, int b);
    /* frees what plan made besides the net's blocks (l->impl); may be NULL */
    void (*release)(lt_layer *l);
} lt_layer_kind;

struct lt_layer {
    const lt_layer_kind *kind;
    char name[64];          /* checkpoint prefix, "blocks.3.dw.conv" */
    int tok;                /* index of the model-string token it came from */
    int in_c, in_h, in_w;   /* per frame */
    int out_c, out_h, out_w;
    size_t in_size, out_size; /* per frame: c*h*w */

    int n_slot;
    lt_pslot slot[LT_MAX_SLOTS];
    float *p[LT_MAX_SLOTS]; /* bound: parameter (or buffer) data */
    float *g[LT_MAX_SLOTS]; /* bound: gradient, NULL for buffers / frozen */

    /* saved tensors for backward, each saved_per_frame[i] floats per frame
     * (times T*B) plus saved_fixed[i] floats */
    size_t saved_per_frame[LT_MAX_SAVED], saved_fixed[LT_MAX_SAVED];
    float *saved[LT_MAX_SAVED];
    size_t work_floats;     /* scratch (shared by all layers) */
    float *work;
    void *impl;             /* kind-owned plan made at planning (conv: oneDNN primitives), or NULL */
    int needs_input;        /* backward reads x: the previous output must be kept */
    int regen;              /* LIF whose output the next backward reads: rebuilt from u then, not kept */
    int fused;              /* BN whose output is never made: the LIF after it applies it on the fly */
    lt_layer *bn;           /* LIF after a fused BN: reads the BN's input through bn->k.aff, keeps no u
                             * (backward rebuilds it) and no spikes (rebuilt for the next backward) */
    int is_first;           /* no dx needed */
    int dbuf;               /* backward writes dx into net->dbuf[dbuf]; -1: in place (a fused LIF over
                             * its dy, a fused BN over its own input) or no dx */

    /* bound activations */
    float *out;             /* [T, B, out] */
    double stat;            /* LIF: fraction of spikes in the last forward */
    int lif_index;          /* LIF: index among LIF layers, else -1 */

    /* kind-specific configuration, set when the layer is appended */
    union {
        lt_conv_shape conv; /* conv: geometry (N filled at run time) */
        lt_lif_opts lif;    /* lif: neuron options */
        int pool_max;       /* pool: 1 max, 0 average */
        lt_bn_affine aff;   /* bn: the affine of the last forward (batch or running statistics) */
    } k;
};

struct lt_net {
    lt_net_config cfg;
    char model[4096];       /* the expanded model string */
    lt_model_spec spec;
    int K;                  /* classes = last FC's outputs */

    int n_layers;
    lt_layer *layers;

    /* one block each */
    float *params, *grads;  /* [n_params] */
    float *buffers;         /* [n_buffers] BN running statistics */
    float *acts;            /* every kept output and saved tensor */
    float *dbuf[2];         /* activation gradients, each sized by what plan_grads places in it */
    float *work;            /* kernels' scratch */
    size_t n_params, n_buffers, n_acts, n_work, n_dbuf[2];

    /* named tensors (checkpoint view) */
    int n_named;
    lt_named *named;

    const float *last_x;    /* the input of the last forward (backward of layer 0 reads it) */
    int last_b, last_train;
};

extern const lt_layer_kind lt_kind_conv, lt_kind_bn, lt_kind_lif, lt_kind_pool, lt_kind_linear;

/* shared by the layer files */
void lt_init_uniform(float *w, size_t n, float bound, lt_rng *rng);
/* LIF: rebuild l->out (the spikes of the last forward) from the saved u */
void lt_lif_layer_regen(lt_layer *l, int T, int b);
/* LIF after a fused BN: its spikes of the last forward again into l->out, from x (the BN's input) */
void lt_lif_layer_respike(lt_layer *l, const float *x, int T, int b);

#endif
