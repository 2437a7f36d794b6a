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

#ifdef __cplusplus
}
#endif
#endif
