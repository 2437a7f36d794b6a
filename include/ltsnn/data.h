/* ltsnn/data.h -- a dataset split as the trainer sees it.
 *
 * Every source (a prepared frame cache on disk, the built-in demo data,
 * Fashion-MNIST) ends up as an lt_dataset: n samples of Ts stored frames
 * [Ts, C, H, W], each element 1 bit (binary event frames, bit-packed) or 8 bits
 * (count frames, analog images), plus one label per sample, or for detection
 * (task LT_TASK_DETECT, METHOD.md §9) each sample's boxes.  The trainer only
 * calls lt_dataset_get to unpack samples into a float batch. */
#ifndef LTSNN_DATA_H
#define LTSNN_DATA_H

#include "ltsnn/core.h"
#include "ltsnn/events.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a dataset's targets are: one label per sample, or boxes (METHOD.md §9). */
typedef enum lt_task { LT_TASK_CLASSIFY = 0, LT_TASK_DETECT = 1 } lt_task;

/* One ground-truth box of a detection sample, as fractions of the image, so
 * it does not depend on the frame size the events were binned to. */
typedef struct lt_box {
    float cx, cy, w, h;  /* centre and size, fractions of the image width / height; w, h > 0 */
    int32_t cls;         /* class index, 0 .. classes - 1 */
} lt_box;

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
    char **class_names;  /* [classes] or NULL; the array and each string malloc'd, freed by lt_dataset_free */
    char opts[256];      /* how it was made (binning options), free text for logs */
    lt_task task;        /* LT_TASK_CLASSIFY: labels are the targets; LT_TASK_DETECT: boxes (labels all 0) */
    /* detection only (NULL / 0 otherwise): a sample's boxes and where it comes from */
    const uint64_t *box_start; /* [n + 1]: sample i owns boxes[box_start[i] .. box_start[i + 1]) */
    const lt_box *boxes;       /* [box_start[n]] */
    const uint32_t *sample_rec; /* [n] its recording, an index into rec_names */
    const int64_t *sample_t;   /* [n] its box timestamp t_l, microseconds into the recording */
    size_t n_recs;
    char **rec_names;          /* [n_recs] recording names ("train/NAME"), malloc'd like class_names */
    int sensor_w, sensor_h;    /* the sensor the boxes were cut to: pixels = fraction * sensor size */
    /* ownership, private to the implementation */
    void *det_owned;     /* heap block holding box_start, boxes, sample_rec, sample_t, or NULL */
    void *mem_owned;     /* heap block to free (lt_free), or NULL */
    void *map_base;      /* mmap'd region, or NULL */
    size_t map_len;
} lt_dataset;

/* Write sample i into slot b of a time-major batch x[T, B, C, H, W] (floats).
 * Ts == T copies frame by frame; Ts == 1 repeats the frame at every step;
 * any other Ts is a programming error (checked by lt_dataset_check_T). */
void lt_dataset_get(const lt_dataset *d, size_t i, float *x, int T, int B, int b);
lt_status lt_dataset_check_T(const lt_dataset *d, int T, lt_err *err);
/* Releases data/labels (mem_owned or map_base) and class_names, then zeroes *d.
 * Safe on a zeroed struct and twice in a row. */
void lt_dataset_free(lt_dataset *d);

/* Bytes one sample of this shape takes (the sample_bytes rule above); 0 on
 * overflow or a non-positive dimension or bits not 1/8. */
size_t lt_dataset_sample_bytes(int Ts, int C, int H, int W, int bits);
/* An in-memory dataset: zeroed data [n][sample_bytes] and labels [n] in one
 * lt_alloc block (mem_owned); name, opts, class_names left empty. */
lt_status lt_dataset_alloc(lt_dataset *d, size_t n, int Ts, int C, int H, int W, int classes, int bits,
                           float scale, lt_err *err);
/* Copy `classes` names into d->class_names (replacing any). */
lt_status lt_dataset_set_class_names(lt_dataset *d, const char *const *names, lt_err *err);
/* Pack n bytes (0 -> bit 0, anything else -> bit 1) into ceil(n/8) bytes,
 * bit i = byte i/8, bit i%8 (LSB first), the unused high bits of the last byte 0. */
void lt_frames_pack(uint8_t *bits, const uint8_t *frames, size_t n);

/* ---- frame cache: one file per split ----
 * Layout is documented in docs/formats.md.  Writes are atomic (temp + rename).
 * Files are written as version 2 (task, and boxes for detection); version 1
 * files (classification) open as before. */
lt_status lt_cache_write(const char *path, const lt_dataset *d, lt_err *err);
lt_status lt_cache_open(lt_dataset *d, const char *path, lt_err *err); /* mmap, checksum verified */

/* Streaming writer, for splits too large to hold in memory: the header
 * fields (Ts, C, H, W, classes, bits, scale, name, opts, class_names) come
 * from `shape` (its n, data and labels are ignored); samples of
 * shape->sample_bytes bytes are appended one by one; nothing appears at
 * path until commit (abort or a failed commit leaves no file behind). */
typedef struct lt_cache_writer lt_cache_writer;
lt_status lt_cache_writer_open(lt_cache_writer **w, const char *path, const lt_dataset *shape, lt_err *err);
lt_status lt_cache_writer_add(lt_cache_writer *w, const uint8_t *sample, int32_t label, lt_err *err);
/* Detection caches (shape->task == LT_TASK_DETECT; sensor_w, sensor_h from
 * shape): name each recording once (*index gets its number, from 0), then add
 * samples with their boxes (copied; each checked: finite, 0 < w, h <= 1,
 * centre in [0, 1], class in range), the recording index and t_l.  Label 0. */
lt_status lt_cache_writer_add_rec(lt_cache_writer *w, const char *name, uint32_t *index, lt_err *err);
lt_status lt_cache_writer_add_det(lt_cache_writer *w, const uint8_t *sample, const lt_box *boxes, size_t n_boxes,
                                  uint32_t rec, int64_t t_us, lt_err *err);
size_t lt_cache_writer_count(const lt_cache_writer *w);
lt_status lt_cache_writer_commit(lt_cache_writer *w, lt_err *err); /* frees w, even on failure */
void lt_cache_writer_abort(lt_cache_writer *w);                    /* frees w; NULL is fine */

/* The file names `ltsnn data prepare --out PREFIX` writes: "PREFIX-train.ltc",
 * "PREFIX-test.ltc", "PREFIX-all.ltc" (split = "train", "test", "all"). */
#define LT_CACHE_EXT ".ltc"
lt_status lt_cache_split_path(char *out, size_t cap, const char *prefix, const char *split, lt_err *err);
/* What a trainer calls for `--data DATA`: if DATA is an existing regular file
 * it is opened as is; otherwise "DATA-<split>.ltc" (a trailing ".ltc" on DATA
 * is dropped first).  The error names every path tried. */
lt_status lt_cache_open_split(lt_dataset *d, const char *data, const char *split, lt_err *err);

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

/* frames[T, 2, H, W] bytes (channel 0 = OFF (p == 0), channel 1 = ON (any
 * p != 0)), overwritten.  Binary frames hold 0/1; count frames hold the event
 * count saturated at 255.  t_0 and t_{N-1} are the smallest and largest t,
 * so unsorted input bins by time as sorted input would; equal-count binning
 * uses the events' order in the list.  The window is applied first, and the
 * bins then span the kept events only.  Crop: the W x H window centred on the
 * sensor (x' = x - (in_w - W)/2, events outside dropped; a target larger
 * than the sensor pads).  An event with x >= in_w or y >= in_h is an error
 * naming its index (nothing is binned then). */
lt_status lt_bin_events(uint8_t *frames, const lt_events *ev, const lt_bin_opts *o, lt_err *err);

/* ---- dataset folder layouts (METHOD.md §6, docs/formats.md) ----
 * A scan lists a dataset folder's files with labels and splits them into
 * train and test; a conversion reads, bins and packs each file into a cache
 * writer, in parallel over files, with results independent of the thread
 * count. */
typedef enum lt_ds_kind {
    LT_DS_CIFAR10DVS = 0, /* ROOT/<class>/NAME.aedat, 10 classes, DVS128 128x128 */
    LT_DS_NMNIST,         /* ROOT/{Train,Test}/<digit>/NAME.bin, 34x34 */
    LT_DS_NCALTECH101,    /* ROOT/<class>/NAME.bin, classes in sorted name order, 240x180 */
    LT_DS_NCARS,          /* ROOT/{train,test}/{background,cars}/NAME.dat, 120x100, background 0, cars 1 */
    LT_DS_FOLDERS         /* ROOT/<class>/NAME.* in any recording format read (by extension), classes in sorted
                           * name order, the sensor from each file's header (in_w = in_h = 0) */
} lt_ds_kind;
#define LT_DS_KINDS 5

const char *lt_ds_kind_name(lt_ds_kind k); /* "cifar10-dvs", "n-mnist", "n-caltech101", "n-cars", "folders" */
lt_status lt_ds_kind_parse(lt_ds_kind *k, const char *name, lt_err *err);
/* Guess the layout of a folder from its subfolders. */
lt_status lt_ds_detect(lt_ds_kind *k, const char *root, lt_err *err);

/* How datasets without an official split (CIFAR10-DVS, N-Caltech101) are split. */
typedef enum lt_ds_split_rule {
    LT_SPLIT_RANDOM = 0, /* per class: files in name order, a seeded draw of test_percent */
    LT_SPLIT_FIRST       /* per class: the first first_n files in name order are test */
} lt_ds_split_rule;

typedef struct lt_ds_scan_opts {
    lt_ds_split_rule rule;
    int test_percent;   /* 0 = the dataset's default: 10 (CIFAR10-DVS), 20 (N-Caltech101) */
    int first_n;        /* LT_SPLIT_FIRST (default 100) */
    uint64_t seed;      /* LT_SPLIT_RANDOM (default 42) */
} lt_ds_scan_opts;
void lt_ds_scan_opts_default(lt_ds_scan_opts *o);

typedef struct lt_ds_files {
    size_t n;
    char **paths;       /* [n] */
    int32_t *labels;    /* [n] */
} lt_ds_files;

typedef struct lt_ds {
    lt_ds_kind kind;
    int classes;
    char **class_names;      /* [classes] */
    int in_w, in_h;          /* sensor size the layout fixes */
    lt_reader_opts reader;   /* format (and AEDAT layout) the layout implies */
    lt_ds_scan_opts split;   /* as resolved (test_percent filled in) */
    lt_ds_files train, test; /* each ordered by label, then file name */
} lt_ds;

lt_status lt_ds_scan(lt_ds *ds, lt_ds_kind kind, const char *root, const lt_ds_scan_opts *o, lt_err *err);
void lt_ds_free(lt_ds *ds);

typedef struct lt_ds_prep_opts {
    lt_bin_opts bin;   /* T, H, W, mode, value, space, window_us; in_w/in_h: 0 = the dataset's
                        * sensor, -1 = per sample (largest x + 1, largest y + 1) */
    int cifar10dvs_fix;
    int skip_bad;      /* a file that fails to read or bin is skipped (on_skip) instead of fatal */
    int threads;       /* 0 = lt_get_threads() */
    /* Called on the calling thread only, in file order. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void (*on_skip)(void *ctx, const char *path, const lt_err *why);
    void *ctx;
} lt_ds_prep_opts;
void lt_ds_prep_opts_default(lt_ds_prep_opts *o);

/* Opens a cache writer whose header describes `ds` binned with `o`
 * (name = the kind's name, opts = the options as text, with split_name). */
lt_status lt_ds_writer_open(lt_cache_writer **w, const char *path, const lt_ds *ds, const lt_ds_prep_opts *o,
                            const char *split_name, lt_err *err);
/* Reads, bins and appends files f in order; *skipped counts skipped files. */
lt_status lt_ds_convert(lt_cache_writer *w, const lt_ds *ds, const lt_ds_files *f, const lt_ds_prep_opts *o,
                        size_t *skipped, lt_err *err);

/* Event statistics of a file list (ltsnn data info ROOT). */
typedef struct lt_ds_stats {
    size_t files, bad;                  /* files read, files that failed (reported via on_skip) */
    size_t events_min, events_max;
    double events_mean;
    int64_t dur_min, dur_max;           /* last t - first t, microseconds */
    double dur_mean;
    int x_max, y_max;                   /* largest coordinates seen (-1 when no events) */
} lt_ds_stats;
/* max_files > 0: only the first max_files files of each class. */
lt_status lt_ds_stats_compute(lt_ds_stats *s, const lt_ds *ds, const lt_ds_files *f, size_t max_files,
                              const lt_ds_prep_opts *o, lt_err *err);

#ifdef __cplusplus
}
#endif
#endif
