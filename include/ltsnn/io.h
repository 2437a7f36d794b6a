/* ltsnn/io.h -- files: atomic writes, safetensors checkpoints, IDX images.
 *
 * safetensors: 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then the
 * raw little-endian tensor bytes.  Readers treat the file as hostile. */
#ifndef LTSNN_IO_H
#define LTSNN_IO_H

#include <stdio.h>

#include "ltsnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- atomic file writes: write to "<path>.tmp.<pid>", fflush+fsync, rename ---- */
typedef struct lt_afile {
    FILE *f;
    char *tmp_path;
    char *path;
} lt_afile;

lt_status lt_afile_open(lt_afile *a, const char *path, lt_err *err);
/* Flush, fsync, close and rename over path.  On failure the temp file is removed. */
lt_status lt_afile_commit(lt_afile *a, lt_err *err);
/* Close and remove the temp file; path is untouched. Safe to call twice,
 * and a no-op after lt_afile_commit (so a cleanup label may always call it). */
void lt_afile_abort(lt_afile *a);
/* Removes the temporary file of every lt_afile still open in this process
 * (async-signal-safe): for a signal handler about to _exit, so an
 * interrupted write leaves neither a half file nor its temporary behind. */
void lt_afile_unlink_all(void);
/* Atomically replace path with n bytes of data (lt_afile in one call). */
lt_status lt_write_file(const char *path, const void *data, size_t n, lt_err *err);
/* Read a whole regular file into a malloc'd buffer (free with free()); one
 * NUL byte follows the *len bytes so text parsers can use it as a string.
 * Refuses files longer than max_len bytes (0: no limit). */
lt_status lt_read_file(const char *path, void **buf, size_t *len, size_t max_len, lt_err *err);

/* ---- safetensors ---- */
typedef enum lt_dtype {
    LT_F32 = 0, LT_F64, LT_F16, LT_BF16,
    LT_I8, LT_I16, LT_I32, LT_I64,
    LT_U8, LT_U16, LT_U32, LT_U64,
    LT_BOOL
} lt_dtype;

size_t lt_dtype_size(lt_dtype t);
const char *lt_dtype_name(lt_dtype t);          /* "F32", ... */

#define LT_ST_MAXDIM 8

typedef struct lt_st_tensor {
    char *name;
    lt_dtype dtype;
    int ndim;
    int64_t shape[LT_ST_MAXDIM];
    size_t numel;
    size_t nbytes;
    const void *data;   /* points into the file's buffer; may be unaligned */
} lt_st_tensor;

typedef struct lt_st_file {
    size_t n;
    lt_st_tensor *t;     /* in file order */
    size_t n_meta;
    char **meta_key, **meta_val;
    void *buf;           /* the whole file */
    size_t buf_len;
    char *path;          /* for messages */
} lt_st_file;

/* Reads and validates the whole file: header length within the file (and
 * at most 100 MB), UTF-8 JSON object with nothing but spaces after it, each
 * dtype known, shapes of at most LT_ST_MAXDIM non-negative integers whose
 * byte size does not overflow, shape * dtype size == offsets span, offsets
 * inside the data section, non-empty tensors non-overlapping, names unique,
 * metadata values strings.  Each refusal (LT_ERR_FORMAT) names the file, the
 * tensor and the bytes at fault. */
lt_status lt_st_read(lt_st_file *f, const char *path, lt_err *err);
/* The same checks on a file already in memory; takes ownership of buf (a
 * malloc'd block, freed by lt_st_free or on failure).  path is for messages. */
lt_status lt_st_parse(lt_st_file *f, void *buf, size_t len, const char *path, lt_err *err);
const lt_st_tensor *lt_st_find(const lt_st_file *f, const char *name);
const char *lt_st_meta(const lt_st_file *f, const char *key);
/* Copy a tensor into float32 (converting F64/F16/BF16/ints) after checking
 * its element count equals `numel`. Names the tensor in the error. */
lt_status lt_st_get_f32(const lt_st_file *f, const char *name, float *dst, size_t numel, lt_err *err);
/* The same, but the tensor's shape must equal shape[0..ndim) exactly. */
lt_status lt_st_get_f32_shaped(const lt_st_file *f, const char *name, float *dst, int ndim,
                               const int64_t *shape, lt_err *err);
void lt_st_free(lt_st_file *f);

typedef struct lt_st_writer lt_st_writer;
lt_st_writer *lt_stw_new(void);
/* data is borrowed: it must stay valid until lt_stw_write. */
lt_status lt_stw_add(lt_st_writer *w, const char *name, lt_dtype dt, int ndim, const int64_t *shape,
                     const void *data, lt_err *err);
lt_status lt_stw_meta(lt_st_writer *w, const char *key, const char *val, lt_err *err);
lt_status lt_stw_write(lt_st_writer *w, const char *path, lt_err *err); /* atomic */
void lt_stw_free(lt_st_writer *w);

/* ---- IDX files (LeCun's MNIST format), plain or gzip-compressed ----
 * Magic 0x00 0x00 TYPE NDIM, then NDIM big-endian uint32 dimensions, then
 * the data.  Only unsigned bytes (TYPE 0x08) are accepted; other types are
 * refused by name.  Sizes are checked for overflow, a short file or stream
 * is an error naming the file and the byte offset, and so are trailing
 * bytes. */
#define LT_IDX_MAXDIM 4
typedef struct lt_idx {
    int ndim;
    size_t dims[LT_IDX_MAXDIM];
    size_t numel;    /* product of dims (after max_items) */
    size_t items_in_file; /* dims[0] as the header gives it */
    uint8_t *data;   /* [numel], malloc'd */
} lt_idx;

/* max_items > 0: read only the first max_items entries along dims[0] (dims[0]
 * is then reduced and trailing data is not checked). */
lt_status lt_idx_read(lt_idx *a, const char *path, size_t max_items, lt_err *err);
void lt_idx_free(lt_idx *a);

/* ---- SVG line charts (src/io/svg.c) ----
 * A figure made of panels, each with axes, "nice" ticks, labels, a legend
 * and any number of line series (one <polyline> each, so a series is one
 * element whatever its gaps).  Files are written atomically (lt_afile).  It
 * knows nothing about training. */
typedef struct lt_plot_series {
    const char *label;    /* legend text; NULL or "": not in the legend */
    const double *x, *y;  /* n points; a point with a non-finite x or y is left out */
    size_t n;
    int right_axis;       /* 1: drawn against the panel's right y axis */
    int dashed;
    int color;            /* palette index (10 colours, cycled); -1: the series' index */
} lt_plot_series;

typedef struct lt_plot_panel {
    const char *title, *xlabel, *ylabel;
    const char *y2label;  /* the right axis, drawn only when a series uses it */
    const lt_plot_series *series;
    size_t n_series;
    /* Axis limits: used as given when lo < hi, otherwise taken from the data
     * and widened to the nearest ticks. */
    double x_lo, x_hi, y_lo, y_hi, y2_lo, y2_hi;
} lt_plot_panel;

typedef struct lt_plot_figure {
    const char *title;    /* NULL: none */
    int width, height;    /* pixels; 0: 520 per column, 380 per row */
    int cols;             /* panels per row; 0: all in one row */
    const lt_plot_panel *panels;
    size_t n_panels;
} lt_plot_figure;

/* Writes the figure as a standalone SVG document (starts "<svg", ends
 * "</svg>\n"), atomically. */
lt_status lt_svg_write(const char *path, const lt_plot_figure *fig, lt_err *err);

#ifdef __cplusplus
}
#endif
#endif
