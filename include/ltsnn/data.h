/* ltsnn/data.h -- a dataset split as the trainer sees it.
 *
 * Every source (a prepared frame cache on disk, the built-in demo data,
 * Fashion-MNIST) ends up as an lt_dataset: n samples of Ts stored frames
 * [Ts, C, H, W], each element 1 bit (binary event frames, bit-packed) or 8 bits
 * (count frames, analog images), plus one label per sample.  The trainer only
 * calls lt_dataset_get to unpack samples into a float batch. */
#ifndef LTSNN_DATA_H
#define LTSNN_DATA_H

#include "ltsnn/core.h"
#include "ltsnn/events.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lt_dataset {
    size_t n;            /* samples */
    int Ts;              /* stored frames per sample; 1 = static image fed at every step */
    int C, H, W;         /* frame shape */
    int classes;
    int bits;            /* 1 (bit-packed 0/1) or 8 (uint8) */
    float scale;         /* float value = stored value * scale (1 for bits and counts, 1/255 for images) */
    size_t sample_bytes; /* bytes per sample: bits==1: ceil(Ts*C*H*W/8); bits==8: Ts*C*H*W */
    const uint8_t *data; /* [n][sample_bytes], bit i of a sample is byte i/8, bit (i%8) (LSB first) */
    const int32_t *labels; /* [n] */
    char name[64];       /* "demo", "cifar10-dvs", "fashion-mnist", ... */
    char **class_names;  /* [classes] or NULL */
    char opts[256];      /* how it was made (binning options), free text for logs */
    /* ownership, private to the implementation */
    void *mem_owned;     /* heap block to free, or NULL */
    void *map_base;      /* mmap'd region, or NULL */
    size_t map_len;
} lt_dataset;

/* Write sample i into slot b of a time-major batch x[T, B, C, H, W] (floats).
 * Ts == T copies frame by frame; Ts == 1 repeats the frame at every step;
 * any other Ts is a programming error (checked by lt_dataset_check_T). */
void lt_dataset_get(const lt_dataset *d, size_t i, float *x, int T, int B, int b);
lt_status lt_dataset_check_T(const lt_dataset *d, int T, lt_err *err);
void lt_dataset_free(lt_dataset *d);

/* ---- frame cache: one file per split ----
 * Layout is documented in docs/formats.md.  Writes are atomic (temp + rename). */
lt_status lt_cache_write(const char *path, const lt_dataset *d, lt_err *err);
lt_status lt_cache_open(lt_dataset *d, const char *path, lt_err *err); /* mmap, checksum verified */

/* ---- events to frames (METHOD.md §6) ---- */
typedef enum lt_bin_mode { LT_BIN_TIME = 0, LT_BIN_COUNT } lt_bin_mode;
typedef enum lt_bin_value { LT_BINVAL_BINARY = 0, LT_BINVAL_COUNT } lt_bin_value;
typedef enum lt_bin_space { LT_BINSP_SCALE = 0, LT_BINSP_CROP } lt_bin_space;

typedef struct lt_bin_opts {
    int T;                 /* time bins */
    int H, W;              /* target frame size */
    int in_h, in_w;        /* sensor size (coordinates scale from this) */
    lt_bin_mode mode;
    lt_bin_value value;
    lt_bin_space space;    /* scale: x' = floor(x*W/in_w); crop: centre crop of W x H */
    int64_t window_us;     /* > 0: keep only events with t < t_0 + window_us */
} lt_bin_opts;

/* frames[T, 2, H, W] bytes (channel 0 = OFF (p == 0), channel 1 = ON), overwritten.
 * Binary frames hold 0/1; count frames hold the event count saturated at 255. */
lt_status lt_bin_events(uint8_t *frames, const lt_events *ev, const lt_bin_opts *o, lt_err *err);

#ifdef __cplusplus
}
#endif
#endif
