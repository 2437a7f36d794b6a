/* ltsnn/nn.h -- networks: model strings, planning, forward/backward, loss, optimisers.
 *
 * A network is planned from a model string (the paper's Table 3 notation,
 * METHOD.md §3) and an input shape, then allocated once: parameters,
 * gradients, optimiser state and activations each live in one block.
 * Activations are time-major [T, B, C, H, W]. */
#ifndef LTSNN_NN_H
#define LTSNN_NN_H

#include "ltsnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- model strings ---- */
/* A token's kind is the row of the block table (src/nn/blocks.c) that
 * parsed it.  The first rows are fixed, so code may test for them by name;
 * later rows (Rk / Rks2 residual blocks, GAP) are found with
 * lt_token_kind_name. */
typedef enum lt_tok_kind { LT_TOK_CONV = 0, LT_TOK_DW, LT_TOK_AP2, LT_TOK_MP2, LT_TOK_FC } lt_tok_kind;

typedef struct lt_token {
    int kind;    /* row of the block table (lt_tok_kind for the first rows) */
    int n;       /* filters / outputs (kCn, kDW, FCn, Rk) */
    int k;       /* kernel size (kCn) */
    int stride;  /* 1, or 2 (Rks2) */
    int pos;     /* 1-based character position in the expanded string (messages) */
} lt_token;

#define LT_MAX_TOKENS 128

typedef struct lt_model_spec {
    int n_tok;
    lt_token tok[LT_MAX_TOKENS];
} lt_model_spec;

/* The syntax of a token kind, "kCn", "Rk" ... ("?" for an unknown kind). */
const char *lt_token_kind_name(int kind);

/* Expands a preset name (vgg7, vgg9, vgg11, mobilenet-light / mobilenet_light,
 * yolov2, resnet19, small, fmnist, fmnist-res) or parses a dash-separated string.  classes > 0 replaces the last FC
 * of a preset; for an explicit string it must equal the last FC (else an
 * error).  Errors name the token, its 1-based character position and what was
 * expected. */
lt_status lt_model_parse(lt_model_spec *spec, const char *model, int classes, lt_err *err);
/* Prints the spec back in canonical form ("32C3-64DW-AP2-FC10"). */
void lt_model_format(const lt_model_spec *spec, char *buf, size_t len);
const char *lt_model_preset(const char *name); /* expanded string or NULL */
/* The input a preset was made for (resnet19 3x32x32, fmnist 1x28x28, the
 * VGGs 2x48x48 ...); 0 if name is not a preset. */
int lt_model_preset_input(const char *name, int *c, int *h, int *w);

/* ---- neuron options (METHOD.md §1-2) ---- */
typedef enum lt_vth_mode {
    LT_MODE_FIXED = 0,  /* fixed threshold (V is not learned) */
    LT_MODE_STSG,       /* straight-through, Eq. 6 */
    LT_MODE_SGP,        /* separate gradient path, Eqs. 8-11 (default) */
    LT_MODE_PENALTY_ALL,/* "GPW for all", Table 2 */
    LT_MODE_SGP_STSG,   /* what the authors' released code computes */
    LT_MODE_DSR         /* the DSR baseline, Eq. 7 (spikes are V, not 1) */
} lt_vth_mode;

typedef enum lt_window {
    LT_WIN_SIGMOID = 0,
    LT_WIN_ARCTAN,
    LT_WIN_TRIANGLE,
    LT_WIN_PIECEWISE
} lt_window;

typedef struct lt_neuron {
    float lam;          /* 0.5 */
    float g;            /* 1 */
    float alpha;        /* DSR 0.3 */
    lt_vth_mode mode;   /* LT_MODE_SGP */
    lt_window window;   /* LT_WIN_SIGMOID */
    int soft_reset;
    int detach_reset;
    float vth_init;     /* 1.0 */
} lt_neuron;

void lt_neuron_default(lt_neuron *n);
lt_status lt_neuron_set_mode(lt_neuron *n, const char *name, lt_err *err);
lt_status lt_neuron_set_window(lt_neuron *n, const char *name, lt_err *err);
const char *lt_mode_name(int mode);
const char *lt_window_name(int window);
/* The network options a run is defined by (the neuron's, BN's kind and the
 * weight precision), as key/value strings: mode, window, lam, g, alpha,
 * reset, detach_reset, bn, wbits, then the net-shape options vth_init,
 * bn_affine, fc_spikes, first_vth_fixed (issue 18).  Checkpoint metadata
 * writes the whole list (lt_net_config_options, below lt_net_config) and
 * lt_net_config_option_set reads one back; config.json and the resume check
 * write the first eight (lt_net_options: the neuron and bn part) and those of
 * the rest that differ from their defaults (lt_net_config_option_is_default),
 * so a run with the defaults records exactly what it recorded before them. */
#define LT_NET_OPTIONS 13
typedef struct lt_kv {
    const char *key;
    char val[32];
} lt_kv;
int lt_net_options(const lt_neuron *n, int bn, lt_kv kv[LT_NET_OPTIONS]);
/* Sets one option (neuron or bn) from its string; an unknown key is not an error (returns LT_OK, *known = 0). */
lt_status lt_net_option_set(lt_neuron *n, int *bn, const char *key, const char *val, int *known, lt_err *err);
/* 1 if kv (an entry of lt_net_config_options after the first eight) holds that option's default */
int lt_net_config_option_is_default(const lt_kv *kv);

/* ---- the network ---- */
typedef struct lt_net lt_net; /* opaque; see src/nn/net.h */

enum { LT_BN_STANDARD = 0, LT_BN_TD = 1 };

typedef struct lt_net_config {
    const char *model;   /* preset name or string */
    int in_c, in_h, in_w;
    int classes;         /* 0: from the string */
    int T;               /* time steps */
    int B;               /* max batch (activations are planned for it) */
    lt_neuron neuron;
    int bn;              /* LT_BN_STANDARD (0) or LT_BN_TD: threshold-dependent BN (METHOD.md §8) */
    int wbits;           /* 0 or 32: float32 weights; 4 or 8: SAWB fake quantisation of every conv weight
                          * at every forward (METHOD.md §7; FC weights stay float32) */
    int bn_fixed_affine; /* 1: BN without learned affine (--bn-affine off): gamma and beta stay at 1 and 0 (the
                          * optimiser holds them; their gradients are still computed) */
    int fc_analog;       /* 1: hidden FC blocks (every FCn but the last) are linear only, without a LIF (the
                          * authors' released code, METHOD.md §4's note); 0: they spike (METHOD.md §3) */
    int first_vth_fixed; /* 1: the first LIF layer is a fixed-threshold neuron (mode fixed, V never updated)
                          * whatever neuron.mode says (the authors' released code) */
    int train;           /* 1: plan gradients and optimiser state too */
    int plan_only;       /* 1: plan shapes, counts and memory, allocate no block (ltsnn info) */
    size_t max_memory;   /* > 0: refuse (LT_ERR_NOMEM, before allocating) a net whose blocks need more bytes */
    int keep_all;        /* tests: no BN+LIF fusion, every output, spike and membrane tensor kept, no
                          * rebuild, nothing in place: the oracle the memory plan is checked against */
} lt_net_config;

/* The options list (above) of a config, wbits included; setting one back
 * (an unknown key: LT_OK, *known = 0; a bad wbits value is an error). */
int lt_net_config_options(const lt_net_config *c, lt_kv kv[LT_NET_OPTIONS]);
lt_status lt_net_config_option_set(lt_net_config *c, const char *key, const char *val, int *known, lt_err *err);

lt_status lt_net_create(lt_net **net, const lt_net_config *cfg, lt_err *err);
void lt_net_free(lt_net *net);

/* PyTorch-default initialisation (METHOD.md §3), deterministic for a seed. */
void lt_net_init(lt_net *net, uint64_t seed);

/* x[T, b, C, H, W] time-major, b <= B.  train: BN batch statistics and
 * running-stat updates; else running statistics.  Returns logits [T, b, K]
 * (owned by the net, valid until the next forward). */
const float *lt_net_forward(lt_net *net, const float *x, int b, int train);
void lt_net_zero_grad(lt_net *net);
/* dO[T, b, K] for the last forward (which must have been in train mode).
 * Backward uses up what that forward saved (gradients are written over saved
 * activations): run forward again before another backward. */
void lt_net_backward(lt_net *net, const float *dO);

/* Thresholds, one per LIF layer, and their mean (Omega of METHOD.md §4). */
int lt_net_n_lif(const lt_net *net);
float lt_net_vth(const lt_net *net, int i);
float lt_net_omega(const lt_net *net);
/* Fraction of ones among the spikes of LIF layer i in the last forward. */
double lt_net_rate(const lt_net *net, int i);

/* Sizes and counts (METHOD.md §3 counting rules). */
typedef struct lt_layer_info {
    char name[64];       /* checkpoint prefix, e.g. "blocks.3.dw.conv" */
    char kind[16];       /* "conv", "bn", "lif", "avgpool", "maxpool", "linear" */
    int c, h, w;         /* output shape per frame */
    size_t params;       /* learned parameters (BN gamma+beta, thresholds included) */
    size_t macs;         /* per time step, per sample */
} lt_layer_info;

int lt_net_n_layers(const lt_net *net);
void lt_net_layer_info(const lt_net *net, int i, lt_layer_info *info);
size_t lt_net_params(const lt_net *net);          /* learned, thresholds included */
size_t lt_net_macs(const lt_net *net);            /* per time step, per sample */
size_t lt_net_weight_count(const lt_net *net);    /* conv + linear weights (4-bit size rule) */
/* Bytes of each block the net allocates (or, planned only, would
 * allocate); nothing else is allocated later (an optimiser adds its own
 * state, Adam 2 x params). */
typedef struct lt_net_memory {
    size_t params, grads, buffers; /* parameters, their gradients, BN running statistics */
    size_t arena;                  /* activations, saved tensors, activation gradients and neuron scratch:
                                    * one block, planned from the tensors' lifetimes */
    size_t kept;                   /* of the arena: what forward keeps for backward (live at the turn) */
    size_t work;                   /* kernels' scratch */
} lt_net_memory;
void lt_net_memory_use(const lt_net *net, lt_net_memory *m);
void lt_net_expanded_model(const lt_net *net, char *buf, size_t len);
const lt_net_config *lt_net_cfg(const lt_net *net);
/* Values per time step of the net's output: the class count of a
 * classifier, Sh*Sw*(5A+C) of a detector. */
int lt_net_classes(const lt_net *net);

/* ---- named tensors: the checkpoint view (docs/checkpoints.md) ----
 * Every learned parameter and BN buffer under its PyTorch-style name. */
typedef struct lt_named {
    char name[80];
    float *data;         /* into the net's blocks */
    float *grad;         /* NULL for buffers (BN running stats) and fixed thresholds */
    int ndim;
    int64_t shape[4];
    size_t numel;
    int is_vth;          /* a threshold (written with shape [1]) */
    int is_buffer;       /* running mean / var */
    int held;            /* has a gradient but the optimiser leaves it (BN affine under bn_fixed_affine) */
} lt_named;

int lt_net_n_named(const lt_net *net);
const lt_named *lt_net_named(const lt_net *net, int i);
const lt_named *lt_net_find(const lt_net *net, const char *name);

/* ---- checkpoints (safetensors) ---- */
/* Writes every named tensor plus __metadata__ (model, input, classes, neuron
 * options).  extra_meta: NULL-terminated key/value pairs, may be NULL.
 * with_optim: also the optimiser state under "optim.". Atomic. */
struct lt_optim;
lt_status lt_net_save(const lt_net *net, const char *path, const char *const *extra_meta,
                      const struct lt_optim *opt, lt_err *err);
/* The weights alone as a PyTorch state_dict (docs/checkpoints.md "PyTorch"):
 * the same names, thresholds [1], and after each BN's running_var its
 * num_batches_tracked (I64, shape [], = batches_tracked: the training steps
 * taken); no optimiser state, no run state.  Atomic. */
lt_status lt_net_save_torch(const lt_net *net, const char *path, int64_t batches_tracked, lt_err *err);
/* Loads weights by name (every named tensor must be present, shapes must
 * agree); "optim." tensors are skipped.  A threshold of shape [] or [1]. */
lt_status lt_net_load(lt_net *net, const char *path, lt_err *err);
/* Reads the metadata a net needs (model, input, classes, neuron options) from
 * a checkpoint into cfg (strings copied into model_buf).  Fields not present
 * keep their values.  Then checks, on a planned-only net (nothing
 * allocated), that the file holds every tensor that model needs with its
 * shape, so a file whose metadata names a huge model it does not hold is
 * refused before anything is built. */
lt_status lt_ckpt_config(lt_net_config *cfg, char *model_buf, size_t model_len, const char *path, lt_err *err);

/* ---- optimisers over the net's one parameter block (METHOD.md §5) ---- */
typedef enum lt_optim_kind { LT_OPT_ADAM = 0, LT_OPT_SGD } lt_optim_kind;

typedef struct lt_optim_config {
    lt_optim_kind kind;
    float lr;            /* 1e-3 */
    float lr_vth;        /* < 0: same as lr (Table 8 uses a separate one) */
    float beta1, beta2, eps; /* Adam 0.9, 0.999, 1e-8 */
    float momentum;      /* SGD 0.9 */
    float weight_decay;  /* 0; applied to conv/linear weights only */
    float wd_vth;        /* 0; weight decay on the thresholds alone (an anchor for V, issue 18) */
    int vth_sgd;         /* 1: thresholds step by plain SGD (p -= lr_vth * g) while the rest keep kind */
    int cosine;          /* 1: cosine schedule from lr to 0 over total_steps */
    long total_steps;
} lt_optim_config;

typedef struct lt_optim lt_optim;
void lt_optim_config_default(lt_optim_config *c);
lt_status lt_optim_create(lt_optim **o, lt_net *net, const lt_optim_config *c, lt_err *err);
void lt_optim_free(lt_optim *o);
float lt_optim_lr(const lt_optim *o);    /* current (scheduled) lr */
long lt_optim_step_count(const lt_optim *o);
void lt_optim_step(lt_optim *o);
lt_status lt_optim_load(lt_optim *o, const char *path, lt_err *err); /* the "optim." tensors */

#ifdef __cplusplus
}
#endif
#endif
