/* ltsnn_rt.h -- the integer spiking-net runtime: runs an .ltq model
 * (written by `ltsnn export`, docs/formats.md "Integer models") one time
 * step at a time, event-driven, with integers only.
 *
 * What it is for: classifying event streams on anything C99 compiles for,
 * from a server to a microcontroller.  It needs no libltsnn, no libc
 * beyond <stddef.h> and <stdint.h> (no malloc, no stdio, no libm, no
 * float), and allocates nothing: the caller gives it the model bytes
 * (which it reads in place, e.g. from flash, and which must stay valid)
 * and one arena (RAM) whose size lt_rt_arena_size computes.  It never
 * aborts: every problem is a return code (LT_RT_E*).  Not for: training,
 * float models, or batching (one sample per instance; run one instance per
 * thread for several).
 *
 * Use:
 *     size_t need;
 *     lt_rt_info info;
 *     if (lt_rt_arena_size(model, len, &need, &info)) ... info.err_offset
 *     lt_rt *rt;
 *     lt_rt_init(&rt, arena, need, model, len, &info);
 *     lt_rt_reset(rt);                      (a new sample)
 *     for each time step: lt_rt_step(rt, frame);   (or lt_rt_step_events)
 *     lt_rt_predict(rt)                     (argmax of the summed logits)
 *
 * Integer semantics (METHOD.md §10): a conv or linear op adds the 4- or
 * 8-bit weight rows of its active inputs into int32 sums (acc); a neuron
 * op keeps an int32 fixed-point membrane per neuron, per channel
 *     x = acc0 * 2^F + (acc1 * M) / 2^(30 - F) + B      (floor)
 *     U = floor(m / 2^k) + x                            (lam = 2^-k; k = 31: lam 0)
 *     s = U >= TH   (or U <= TH for a channel whose BN scale is negative)
 *     m = s ? 0 : U                                     (hard reset)
 * and the last op turns its acc into int64 logits L = A * acc + Bk (real
 * logits L / 2^G).  Every value's range is checked at load from the
 * model's weights and parameters, so no sum can overflow. */
#ifndef LTSNN_RT_H
#define LTSNN_RT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LT_RT_VERSION 1          /* the .ltq format version this runtime reads */
#define LT_RT_MAX_TENSORS 128    /* limits of this runtime (the load refuses more) */
#define LT_RT_MAX_OPS 128

enum lt_rt_status {
    LT_RT_OK = 0,
    LT_RT_ETRUNC,    /* the model is shorter than its header says, or a record runs past its end */
    LT_RT_EMAGIC,    /* not an .ltq model */
    LT_RT_EVERSION,  /* a newer .ltq version than this runtime reads */
    LT_RT_ECRC,      /* checksum mismatch: the model is corrupt */
    LT_RT_ESIZE,     /* a size or count is out of range or overflows */
    LT_RT_EOP,       /* an op type this runtime does not know */
    LT_RT_EGRAPH,    /* ops and tensors do not fit together (ids, shapes, kinds) */
    LT_RT_ERANGE,    /* a parameter would let an integer sum overflow */
    LT_RT_EARENA,    /* the arena is smaller than lt_rt_arena_size says */
    LT_RT_EINPUT,    /* an input value above the model's input maximum, or an event index out of range */
    LT_RT_ESTEPS     /* more steps since the last reset than the logit sums can hold */
};

/* What a load found: on success the model's shape, on failure where and what. */
typedef struct lt_rt_info {
    uint32_t in_c, in_h, in_w;   /* one input frame [C, H, W] */
    uint32_t in_max;             /* largest input value (1: binary event frames, 255: 8-bit images) */
    uint32_t classes;            /* logits per step */
    uint32_t T;                  /* time steps the model was trained with (the runtime runs any number) */
    int32_t logit_shift;         /* G: real logit = L / 2^G */
    uint32_t n_ops, n_tensors;
    size_t arena_bytes;          /* RAM the runtime needs (lt_rt_arena_size) */
    size_t persistent_bytes;     /* of which membranes, logit sums, per-channel parameters and state */
    size_t flash_bytes;          /* the model itself (read in place) */
    uint32_t max_steps;          /* steps one sample may take before the logit sums could overflow */
    size_t err_offset;           /* failure: byte offset of the offending field */
    const char *err_what;        /* failure: what is wrong there (a static string) */
} lt_rt_info;

typedef struct lt_rt lt_rt; /* lives inside the caller's arena */

/* Validates the model (magic, version, checksum, every record, ranges) and
 * computes the arena it needs.  Uses about 3 KB of stack (a table of the
 * model's tensors). */
int lt_rt_arena_size(const void *model, size_t len, size_t *bytes, lt_rt_info *info);
/* Validates again and lays the runtime out in arena (any alignment; at
 * least lt_rt_arena_size bytes).  *rt points into the arena.  The model
 * bytes must outlive the runtime. */
int lt_rt_init(lt_rt **rt, void *arena, size_t arena_len, const void *model, size_t len, lt_rt_info *info);

/* A new sample: membranes, logit sums and operation counts to zero. */
void lt_rt_reset(lt_rt *rt);
/* One time step.  frame[C*H*W] in C, H, W order, each value <= in_max
 * (else LT_RT_EINPUT and nothing changes). */
int lt_rt_step(lt_rt *rt, const uint8_t *frame);
/* One time step of a binary model from events: idx[n] are C*H*W flat
 * indices (c*H + y)*W + x of the ones (repeats allowed). */
int lt_rt_step_events(lt_rt *rt, const uint32_t *idx, size_t n);

/* This step's logits [classes] and their sums since the reset (int64;
 * real value / 2^logit_shift). */
const int64_t *lt_rt_logits(const lt_rt *rt);
const int64_t *lt_rt_logit_sums(const lt_rt *rt);
/* argmax of the sums (the first of equal maxima), METHOD.md §4's prediction. */
uint32_t lt_rt_predict(const lt_rt *rt);
uint32_t lt_rt_steps(const lt_rt *rt); /* steps since the reset */

/* Introspection: ops in execution order. */
enum lt_rt_op_type {
    LT_RT_OP_CONV = 1,    /* event-driven convolution: spikes (or counts) -> int32 sums */
    LT_RT_OP_LINEAR = 2,  /* event-driven fully connected layer */
    LT_RT_OP_LIF = 3,     /* fixed-point LIF neurons with folded BN -> spikes */
    LT_RT_OP_SUMPOOL = 4, /* 2x2 average pooling as a sum of counts (stride 2, floor) */
    LT_RT_OP_MAXPOOL = 5, /* 2x2 max pooling */
    LT_RT_OP_GAP = 6,     /* global average pooling as a sum of counts */
    LT_RT_OP_LOGITS = 7   /* the last linear layer's sums -> int64 logits */
};
typedef struct lt_rt_op_info {
    int type;                 /* lt_rt_op_type */
    const char *name;         /* the float layer it came from, e.g. "blocks.3.lif" (points into the model) */
    uint32_t name_len;
    uint32_t c, h, w;         /* output shape (HWC storage) */
    uint64_t dense_macs;      /* CONV, LINEAR: multiply-adds a dense layer would do per step */
    uint64_t updates;         /* CONV, LINEAR: weight additions done since the reset (active inputs x fan-out) */
    uint64_t active_in;       /* CONV, LINEAR: nonzero inputs seen since the reset */
    uint64_t spikes;          /* LIF: spikes since the reset */
    int input_is_model_input; /* reads the model's input frame */
    uint32_t in0, in1, out;   /* tensor ids (0: the input frame; 0xFFFFFFFF: none) */
} lt_rt_op_info;
int lt_rt_op(const lt_rt *rt, uint32_t i, lt_rt_op_info *info);
/* LIF op i's spikes, [h][w][c] bytes 0/1, valid inside a tap call for op i
 * (below); NULL for other ops. */
const uint8_t *lt_rt_spikes(const lt_rt *rt, uint32_t i);

/* Calls tap(ctx, rt, i) after op i of every step: the moment
 * lt_rt_spikes(rt, i) holds op i's output (later ops may reuse its
 * memory).  NULL removes it. */
void lt_rt_set_tap(lt_rt *rt, void (*tap)(void *ctx, const lt_rt *rt, uint32_t op), void *ctx);

/* A short English description of a status code. */
const char *lt_rt_strerror(int status);

/* Development: 1 runs the plain oracle kernels (dense gather convolutions
 * and linear layers, the neurons' general loop) the event-driven and
 * vectorised ones are tested against; 0 (default) the fast ones.  The
 * results are the same integers either way. */
void lt_rt_set_dense(lt_rt *rt, int dense);

#ifdef __cplusplus
}
#endif
#endif
