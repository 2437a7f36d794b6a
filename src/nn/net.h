/* net.h -- private: a network as a graph of layers and the tensors between
 * them, the layer-kind and block-kind descriptors, the memory plan.
 *
 * Letters: T time steps, B planned batch, b actual batch (b <= B), N = T*b
 * frames, C H W a frame's channels/height/width, M = b*C*H*W neurons per
 * step.  Every activation is time-major [T, b, C, H, W]; stateless layers
 * see it as [N, C, H, W], LIF layers as [T, M].
 *
 * Two descriptor tables make the vocabulary, one row per kind, one file per
 * kind (layer_*.c):
 *  - a BLOCK kind (lt_block_kind) is a token of the model string: its
 *    syntax, how it prints, the context it needs, and how it expands into
 *    layers (build).  The table is lt_block_kinds[] in blocks.c.
 *  - a LAYER kind (lt_layer_kind) is what runs: shape planning, parameter
 *    slots (names, shapes), initialisation, forward, backward, which
 *    buffers it may share (flags), and, for neurons, how to rebuild its
 *    output from what it saved.  Blocks reference layer kinds directly.
 * Nothing outside the kind files looks at which kind a layer is: the
 * planner and the executor read the descriptor's sizes and flags.
 *
 * Creating a net: parse the model string (model.c, through the block
 * table), build the graph (each block appends layers; a layer's shape is
 * planned as it is appended, so a block sees its input's shape), fuse
 * BN into the LIF that reads it, plan the memory by lifetimes (plan.c),
 * allocate each block once, bind pointers.  Nothing is allocated in
 * forward or backward. */
#ifndef LT_NN_NET_H
#define LT_NN_NET_H

#include "kernels/kernels.h"
#include "ltsnn/nn.h"

typedef struct lt_layer lt_layer;
typedef struct lt_net_build lt_net_build;
struct lt_qx; /* an integer export in progress (src/quant/export.c) */

/* A parameter or buffer a layer owns: a slice of the net's params (or
 * buffers) block, with its checkpoint name and shape. */
typedef struct lt_pslot {
    char suffix[24];        /* "weight", "vth", "running_mean"; appended to the layer's name */
    int ndim;
    int64_t shape[4];
    size_t numel;
    size_t off;             /* into params (or buffers) */
    int buffer;             /* 1: BN running statistic (no gradient) */
    int frozen;             /* 1: never updated (fixed threshold): no gradient */
    int held;               /* 1: has a gradient, but the optimiser leaves it (BN affine, bn_fixed_affine) */
    int weight;             /* 1: a conv or linear weight (METHOD §3 size rule, weight decay) */
    int vth;                /* 1: a threshold (Omega, the threshold learning rate) */
} lt_pslot;

#define LT_MAX_SLOTS 4
#define LT_MAX_SAVED 3
#define LT_MAX_IN 2

/* Layer-kind flags: what the memory planner may share.  "x dies here"
 * means nothing reads that tensor after this step, backward included. */
enum {
    LT_KF_NEEDS_INPUT = 1 << 0,  /* backward reads its input x (else x may die after forward) */
    LT_KF_OUT_OVER_X = 1 << 1,   /* forward may write y over x[0] when x[0] dies here */
    LT_KF_SAVED_OVER_X = 1 << 2, /* forward may write saved[0] over x[0] when x[0] dies here */
    LT_KF_DX_OVER_DY = 1 << 3,   /* backward may write dx[0] over dy */
    LT_KF_DX_OVER_X = 1 << 4,    /* backward may write dx[0] over x[0] (read before written) */
    LT_KF_NEURON = 1 << 5,       /* a spiking neuron: one threshold (slot 0), a firing rate, Omega */
    LT_KF_AFFINE = 1 << 6,       /* makes a per-channel affine a NEURON may apply on the fly (BN) */
    LT_KF_QUANT = 1 << 7,        /* quantises its weights under wbits 4 / 8 (METHOD.md §7: every conv) */
};

typedef struct lt_layer_kind {
    const char *name;       /* "conv", "bn", "lif", "avgpool", "maxpool", "linear", "add", "gap" */
    unsigned flags;         /* LT_KF_* */
    /* Given l->in_* (x[0]'s shape) fill l->out_*, l->slot[], l->saved_*,
     * l->bscratch_per_frame, l->work_floats; may refuse the shape. */
    lt_status (*plan)(lt_layer *l, const lt_net_config *cfg, lt_err *err);
    void (*init)(lt_layer *l, const lt_net_config *cfg, lt_rng *rng);
    /* x[k]: inputs [N, in], y: output [N, out] (NULL for an affine fused into the neuron after it). */
    void (*forward)(lt_layer *l, float *y, const float *const *x, int T, int b, int train);
    /* dx[k] may be NULL (no gradient wanted); x[k] valid when NEEDS_INPUT.
     * dx is overwritten; parameter gradients accumulate. */
    void (*backward)(lt_layer *l, float *const *dx, const float *dy, const float *const *x, int T, int b);
    /* NEURON only: the output of the last forward again into y, bit for
     * bit, from what the layer kept (its u, or its fused affine's input x). */
    void (*regen)(lt_layer *l, float *y, const float *x, int T, int b);
    /* MACs per time step per sample (METHOD §3 counting), NULL: none */
    size_t (*macs)(const lt_layer *l);
    /* Synaptic operations of one forward on its input x [T*b frames]: for
     * every nonzero input value, the outputs it reaches (METHOD.md §10's
     * SOPs), NULL: a layer without weights */
    double (*sops)(const lt_layer *l, const float *x, int T, int b);
    /* Integer export (METHOD.md §10): turns the layer into the integer ops
     * of an .ltq model through src/quant/export.c's lt_qx_* calls; NULL:
     * the kind has no integer form (export refuses the net, naming it) */
    lt_status (*qexport)(lt_layer *l, struct lt_qx *qx, lt_err *err);
    void (*release)(lt_layer *l); /* frees what plan made besides the net's blocks; may be NULL */
} lt_layer_kind;

/* A tensor between layers: produced by one layer (or the net input),
 * read by any number.  Values per frame: c*h*w; the tensor is [T*B, c, h, w]. */
typedef struct lt_tensor {
    int c, h, w;
    size_t size;            /* c*h*w */
    int producer;           /* layer index, -1: the network input */
    int n_cons;
    int cons[8];            /* consumer layers, in execution order */
    int virt;               /* never materialised: a BN output its neuron applies on the fly */
    int regen;              /* kept for backward by rebuilding it there (its producer regenerates) */
    int regen_done;         /* rebuilt in the current backward */
    /* bound by the plan */
    float *data;            /* forward value */
    float *rdata;           /* the rebuilt value backward reads (regen), else = data */
    float *grad;            /* dL/d(tensor), NULL without one */
    int grad_writer;        /* the consumer whose backward writes grad first (the last one in execution order) */
} lt_tensor;

/* The processes training one net together (data-parallel, METHOD.md §11;
 * src/train sets it from src/dist), as the net sees them.  NULL on the net
 * and its layers: one process, and nothing below changes. */
typedef struct lt_net_comm {
    void *ctx;
    /* buf[n] replaced by its sum over every process, the same on each */
    void (*sum)(void *ctx, double *buf, size_t n);
    /* called after each layer's backward: net->grads[lo, n_params) is final
     * on this process (layers own consecutive slices of the block, in
     * layer order), so its exchange may start; NULL: not wanted */
    void (*grads_ready)(void *ctx, size_t lo);
    int sync_bn;            /* BN sums its batch statistics and backward sums across processes */
    int root;               /* this process adds sums every process shares into the parameter gradients */
} lt_net_comm;

#define LT_LAYER_CFG 160

struct lt_layer {
    const lt_layer_kind *kind;
    char name[64];          /* checkpoint prefix, "blocks.3.dw.conv" */
    int tok;                /* index of the model-string token it came from */
    int n_in;
    int in[LT_MAX_IN];      /* input tensors */
    int out;                /* output tensor */
    int in_shape[LT_MAX_IN][3]; /* each input's c, h, w per frame */
    int in_c, in_h, in_w;   /* x[0] per frame */
    int out_c, out_h, out_w;
    size_t in_size, out_size; /* per frame: c*h*w */

    int n_slot;
    lt_pslot slot[LT_MAX_SLOTS];
    float *p[LT_MAX_SLOTS]; /* bound: parameter (or buffer) data */
    float *g[LT_MAX_SLOTS]; /* bound: gradient, NULL for buffers / frozen / inference */

    /* tensors kept for backward (training only), saved_per_frame[i] floats
     * per frame (times T*B) plus saved_fixed[i] floats */
    size_t saved_per_frame[LT_MAX_SAVED], saved_fixed[LT_MAX_SAVED];
    float *saved[LT_MAX_SAVED];
    size_t bscratch_per_frame; /* backward-only scratch per frame (a fused neuron rebuilds u there) */
    float *bscratch;
    float *dtmp[LT_MAX_IN]; /* where dx[k] goes when another consumer wrote that gradient first (then added) */
    size_t work_floats;     /* kernels' scratch (one block shared by all layers) */
    float *work;
    void *impl;             /* kind-owned plan made at planning (conv: oneDNN primitives), or NULL */

    int link;               /* a layer whose parameters this one reads (tdBN: the LIF whose V scales it), -1 */
    lt_layer *linked;       /* = &layers[link], bound once the net is built */
    lt_layer *affine;       /* NEURON: the fused AFFINE layer whose output it applies on the fly, or NULL */
    int fused;              /* AFFINE: fused into the neuron after it (computes statistics only) */
    double stat;            /* NEURON: fraction of non-zero outputs in the last forward */
    int lif_index;          /* NEURON: index among neurons, else -1 */
    const lt_net_comm *comm; /* the net's (lt_net_set_comm), NULL: one process */

    /* kind-owned configuration (each kind casts it to its own struct) */
    _Alignas(16) unsigned char cfg[LT_LAYER_CFG];
};

/* The kind's configuration inside l->cfg. */
#define LT_CFG(l, type) ((type *)(void *)(l)->cfg)

struct lt_net {
    lt_net_config cfg;
    char model[4096];       /* the expanded model string */
    lt_model_spec spec;
    int K;                  /* values per time step of the output (classes, or a detection grid) */

    int n_layers, cap_layers;
    lt_layer *layers;
    int n_tensors, cap_tensors;
    lt_tensor *tensors;     /* tensor 0 is the network input */
    int output;             /* the tensor the head reads */

    /* one block each */
    float *params, *grads;  /* [n_params] */
    float *buffers;         /* [n_buffers] BN running statistics */
    float *arena;           /* activations, saved tensors, activation gradients, scratch: planned by lifetimes */
    float *work;            /* kernels' scratch */
    size_t n_params, n_buffers, n_arena, n_work, n_fixed;

    int n_named;
    lt_named *named;        /* the checkpoint view */

    const float *last_x;    /* the input of the last forward (the first layers' backward reads it) */
    int last_b, last_train;
    size_t n_kept;          /* floats live at the turn from forward to backward (reports) */
    const lt_net_comm *comm; /* NULL: one process */
};

/* Attach (or, with NULL, detach) the processes that train this net
 * together; c must outlive the attachment. */
void lt_net_set_comm(lt_net *net, const lt_net_comm *c);

/* ---- the block table (blocks.c) ---- */
typedef struct lt_block_kind {
    const char *syntax;     /* for messages: "kCn (e.g. 32C3)" */
    /* 1: the token s[0..len) is this kind (t filled), 0: not this kind, -1:
     * this kind but malformed (err set, naming the token and pos) */
    int (*parse)(lt_token *t, const char *s, size_t len, size_t pos, lt_err *err);
    int (*format)(const lt_token *t, char *buf, size_t len); /* snprintf-like */
    /* the block flattens its input (FC): only flattening blocks may follow */
    int flattens;
    /* the block ends in spiking feature maps (kCn, kDW, Rk): what GAP averages */
    int spikes;
    /* context rules on the tokens before it (GAP needs a conv before it), may be NULL */
    lt_status (*check)(const lt_model_spec *sp, int i, lt_err *err);
    /* appends its layers, reading tensor *x and leaving its output in *x */
    lt_status (*build)(lt_net *net, const lt_token *t, int i, int *x, lt_err *err);
} lt_block_kind;

extern const lt_block_kind *const lt_block_kinds[];
extern const int lt_n_block_kinds;

/* ---- building (net.c), for the block files ---- */
/* Appends a layer of kind reading tensors in[0..n_in), named
 * "blocks.<tok>.<part>", plans it (its cfg must be set by the caller
 * first: pass it as cfg/cfg_len) and makes its output tensor.  Returns the
 * layer's index (>= 0) or -1 with err set. */
int lt_net_add_layer(lt_net *net, const lt_layer_kind *kind, int tok, const char *part, const int *in, int n_in,
                     const void *cfg, size_t cfg_len, lt_err *err);
static inline lt_layer *lt_net_layer(lt_net *net, int i) { return &net->layers[i]; }
static inline int lt_net_out_of(const lt_net *net, int i) { return net->layers[i].out; }
static inline const lt_tensor *lt_net_tensor(const lt_net *net, int t) { return &net->tensors[t]; }

/* Constructors of the layer kinds other blocks build with (each in its
 * layer_*.c; a kind only its own block uses keeps its constructor static). */
/* A positive decimal number of at most 6 digits (token parsers). */
int lt_token_number(const char *s, size_t len, int *out);
int lt_add_conv(lt_net *net, int tok, const char *part, int x, int cout, int k, int stride, int depthwise,
                lt_err *err);
/* BN, then the LIF it feeds, which tdBN (METHOD §8) reads V from; feeds: that LIF's layer index, set later
 * with lt_bn_set_neuron when the LIF comes after other layers (a residual sum) */
int lt_add_bn(lt_net *net, int tok, const char *part, int x, float td_alpha, lt_err *err);
void lt_bn_set_neuron(lt_net *net, int bn, int lif);
int lt_add_lif(lt_net *net, int tok, const char *part, int x, lt_err *err);
int lt_add_pool(lt_net *net, int tok, const char *part, int x, int max, lt_err *err);
int lt_add_linear(lt_net *net, int tok, const char *part, int x, int out, lt_err *err);
/* conv + BN + LIF on tensor *x (kCn, and the halves of kDW); tensor *x becomes the spikes */
lt_status lt_add_conv_bn_lif(lt_net *net, int tok, const char *prefix, int *x, int cout, int k, int stride,
                             int depthwise, lt_err *err);

/* the AFFINE layer's per-channel affine of its last forward, for the neuron it is fused into */
const lt_bn_affine *lt_bn_layer_affine(const lt_layer *bn);

/* shared by the layer files */
void lt_init_uniform(float *w, size_t n, float bound, lt_rng *rng);

/* ---- the memory plan (plan.c): values with lifetimes packed into one arena ---- */
typedef struct lt_value {
    size_t size;            /* floats */
    int first, last;        /* steps of the timeline it is live in (inclusive) */
    int group;              /* values sharing storage (in place): the group's representative */
    size_t off;             /* floats into the arena (the group's) */
} lt_value;

/* Packs the groups (value[i].group == i) by size, largest first, each at the
 * lowest offset clear of every placed group whose lifetime overlaps; the
 * members of a group take its offset.  Returns the arena size in floats.
 * Deterministic. */
size_t lt_plan_pack(lt_value *v, int n);

#endif
