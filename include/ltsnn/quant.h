/* ltsnn/quant.h -- integer models (METHOD.md §7, §10): export a net trained
 * with --wbits 4 or 8 to an .ltq file (docs/formats.md "Integer models"),
 * evaluate one on a dataset through the integer runtime
 * (runtime/ltsnn_rt.h) against the float net it came from, and count a
 * net's operations and energy on data.
 *
 * An .ltq model is not bit-identical to the float forward (METHOD.md
 * §10): BN is folded into integer offsets and thresholds, membranes are
 * fixed point and FC weights are rounded to 8 bits; lt_qmodel_evaluate
 * measures how often its spikes and predictions agree. */
#ifndef LTSNN_QUANT_H
#define LTSNN_QUANT_H

#include "ltsnn/data.h"
#include "ltsnn/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- export ---- */
typedef struct lt_export_opts {
    int in_max;          /* largest stored input value: 1 (binary event frames) or up to 255 */
    float in_scale;      /* the float net sees stored value v as v * in_scale (1, or 1/255 for 8-bit images) */
    const char *source;  /* recorded in the model's metadata (e.g. the checkpoint's path); may be NULL */
    const char *data;    /* the data it was trained on (metadata; ltsnn eval's default --data); may be NULL */
} lt_export_opts;

/* The .ltq image of a net whose convolutions were trained with wbits 4 or
 * 8 (its eval-mode forward: BN running statistics).  *buf is malloc'd
 * (free it).  A net the integer form cannot represent is refused with the
 * layer and the reason (a float32 conv, DSR or soft-reset neurons, a leak
 * that is not 1/2^k, more than 128 tensors ...). */
lt_status lt_net_export(const lt_net *net, const lt_export_opts *o, uint8_t **buf, size_t *len, lt_err *err);
lt_status lt_net_export_file(const lt_net *net, const lt_export_opts *o, const char *path, lt_err *err);
/* The byte size of that file and the RAM (arena) the runtime needs to run
 * it; also for a planned-only net (ltsnn info). */
lt_status lt_net_export_size(const lt_net *net, const lt_export_opts *o, size_t *file_bytes, size_t *arena_bytes,
                             lt_err *err);

/* ---- integer models ---- */
typedef struct lt_qmodel lt_qmodel;

/* 1 if the file starts with the .ltq magic */
int lt_qmodel_sniff(const char *path);
/* Reads and validates an .ltq file; errors name the file, the byte offset
 * and what is wrong there. */
lt_status lt_qmodel_load(lt_qmodel **m, const char *path, lt_err *err);
/* The same from memory (the bytes are copied); what names it in messages. */
lt_status lt_qmodel_open(lt_qmodel **m, const uint8_t *buf, size_t len, const char *what, lt_err *err);
void lt_qmodel_free(lt_qmodel *m);

typedef struct lt_qmodel_info {
    int in_c, in_h, in_w, in_max;
    float in_scale;          /* from the metadata (1 when absent) */
    int classes, T;          /* T: the time steps it was trained with */
    int n_ops, n_lif;
    size_t file_bytes;       /* flash: the model read in place */
    size_t arena_bytes;      /* RAM: lt_rt_arena_size */
    size_t persistent_bytes; /* of the arena: membranes, per-channel parameters, state */
    char model[1024];        /* the model string (metadata), "" when absent */
    char data[256];          /* the data it was trained on (metadata), "" when absent */
} lt_qmodel_info;
void lt_qmodel_get_info(const lt_qmodel *m, lt_qmodel_info *info);

/* ---- energy (METHOD.md §10: E = 4.6 pJ * MACs + 0.9 pJ * SOPs) ---- */
#define LT_PJ_PER_MAC 4.6
#define LT_PJ_PER_SOP 0.9

typedef struct lt_energy_row {
    char name[80];           /* a weighted layer ("blocks.2.conv") or a neuron ("blocks.2.lif") */
    char kind[16];           /* "conv", "linear" or "lif" */
    int analog;              /* weighted: fed analog values (a static image): MACs, else SOPs */
    double macs, sops;       /* per sample, over all time steps */
    double rate;             /* neuron: fraction of ones among its outputs */
} lt_energy_row;

typedef struct lt_energy {
    int n;
    lt_energy_row *row;
    double macs, sops, pj;   /* per sample: totals and the energy estimate in pJ */
    size_t samples;
    int T;
} lt_energy;
void lt_energy_free(lt_energy *e);

/* Runs net (eval mode, BN running statistics) over the whole dataset and
 * counts per layer: MACs of layers fed analog values (the dense count of
 * METHOD.md §3, every step), SOPs of layers fed spikes (nonzero inputs x
 * the outputs each reaches, measured), neurons' firing rates.  The input
 * counts as analog when the dataset stores 8-bit values (images, count
 * frames).  net is not changed (the work is done on a copy). */
lt_status lt_net_energy(const lt_net *net, const lt_dataset *d, lt_energy *e, lt_err *err);

/* ---- evaluating an integer model ---- */
typedef struct lt_qlayer_agree {
    char name[80];           /* the neuron layer, "blocks.2.lif" */
    uint64_t total;          /* spikes compared (neurons x steps x samples) */
    uint64_t agree;          /* equal in the integer and the float model */
    uint64_t ones_int, ones_float;
} lt_qlayer_agree;

typedef struct lt_qeval {
    size_t samples;
    int T, classes;
    double acc;              /* percent */
    int64_t *confusion;      /* [classes * classes], row = true class */
    int32_t *pred;           /* [samples] the integer model's predictions */
    int64_t *logit_sums;     /* [samples * classes] its int64 logits summed over the steps (real: / 2^logit_shift) */
    int logit_shift;
    int compared;            /* 1: a float net was given; then: */
    double acc_float;        /* its accuracy on the same data */
    size_t pred_agree;       /* samples both predict alike */
    int n_layers;
    lt_qlayer_agree *layer;  /* per neuron, in order */
    uint64_t spikes_total, spikes_agree;
    lt_energy energy;        /* of the integer model, counted by the runtime */
    double seconds;          /* wall time of the integer inference */
} lt_qeval;

/* Runs m on every sample of d for T steps (0: the model's T), and, when
 * ref is given (the float net the model came from, any batch size), ref
 * too: spike agreement per neuron layer and prediction agreement.  The
 * stored input values go to the runtime as they are; they must fit the
 * model (in_max, in_scale), else the error says which sample. */
lt_status lt_qmodel_evaluate(const lt_qmodel *m, const lt_dataset *d, const lt_net *ref, int T, lt_qeval *r,
                             lt_err *err);
void lt_qeval_free(lt_qeval *r);

#ifdef __cplusplus
}
#endif
#endif
