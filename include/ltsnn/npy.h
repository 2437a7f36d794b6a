/* ltsnn/npy.h -- NumPy .npy files (format versions 1.0, 2.0 and 3.0).
 *
 * Reading: the header dict {'descr', 'fortran_order', 'shape'} is parsed
 * strictly (exactly those three keys, Python literal syntax, no pickles).
 * An array is seen as `rows` x `cols` elements, rows = shape[0] (1 for a 0-d
 * array) and cols = the product of shape[1:].  An element is a record of
 * named fields (a structured dtype: any field order, packed or with padding,
 * either byte order) or a single number (a plain dtype, seen as one field
 * named "").  Fields convert to int64 or double by rows, in bounded memory.
 * The file is hostile: the data section must hold exactly rows*cols*itemsize
 * bytes, and every size is checked for overflow.
 *
 * Writing: lt_npy_write stores an array whose descr the caller gives as
 * the Python literal numpy would write ("'<f4'", "[('t', '<i8'), ...]"). */
#ifndef LTSNN_NPY_H
#define LTSNN_NPY_H

#include "ltsnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LT_NPY_MAXDIM 32
#define LT_NPY_MAXNAME 64

typedef struct lt_npy_field {
    char name[LT_NPY_MAXNAME]; /* "" for a plain array's one field */
    char kind;                 /* 'b' bool, 'i' signed, 'u' unsigned, 'f' float (readable);
                                  'S' bytes, 'V' void (described, not convertible) */
    int big_endian;
    uint32_t size;             /* bytes */
    uint64_t offset;           /* bytes from the start of the element */
} lt_npy_field;

typedef struct lt_npy {
    int major, minor;          /* format version */
    int fortran_order;
    int ndim;
    uint64_t shape[LT_NPY_MAXDIM];
    uint64_t rows, cols;       /* see above */
    uint64_t itemsize;         /* bytes per element (record), padding included */
    int structured;            /* descr was a list of fields */
    int nfields;               /* named fields; padding ('' void entries) is not listed */
    lt_npy_field *fields;
    uint64_t data_offset;      /* first byte of the data */
    void *priv_;               /* the byte source, private */
} lt_npy;

lt_status lt_npy_open(lt_npy *a, const char *path, lt_err *err);
/* Same on a memory block (borrowed until close); name is used in messages. */
lt_status lt_npy_open_mem(lt_npy *a, const void *data, size_t len, const char *name, lt_err *err);
void lt_npy_close(lt_npy *a); /* safe on a zeroed struct and twice */

/* Index of the field called name, or -1. */
int lt_npy_field_index(const lt_npy *a, const char *name);
/* numpy's spelling of a field's type, e.g. "<i8", "|u1", ">f4". */
void lt_npy_field_type(const lt_npy_field *f, char out[8]);
/* One line: "structured (t <i8 @0, x <i2 @8, ...), 13 bytes/element, shape (4407,)". */
void lt_npy_describe(const lt_npy *a, char *out, size_t cap);

/* Values of field `field` for rows [row0, row0 + nrows): nrows * cols values,
 * row-major whatever the file's order.  Integers convert to double exactly up
 * to 2^53.  For int64, floats must be finite and integral and every value in
 * range; anything else is LT_ERR_FORMAT naming the row and field (never a
 * silently truncated value). */
lt_status lt_npy_read_i64(const lt_npy *a, int field, uint64_t row0, uint64_t nrows, int64_t *dst, lt_err *err);
lt_status lt_npy_read_f64(const lt_npy *a, int field, uint64_t row0, uint64_t nrows, double *dst, lt_err *err);

/* Lower level, for readers that decode several fields of one block: the raw
 * bytes of rows [row0, row0 + nrows) (nrows * cols * itemsize bytes; C order
 * only, or any order when cols == 1), then one field of n elements from such
 * a block.  first_row only labels error messages. */
lt_status lt_npy_read_raw(const lt_npy *a, uint64_t row0, uint64_t nrows, void *raw, lt_err *err);
lt_status lt_npy_convert_i64(const lt_npy *a, int field, const void *raw, size_t n, int64_t *dst,
                             uint64_t first_row, lt_err *err);
lt_status lt_npy_convert_f64(const lt_npy *a, int field, const void *raw, size_t n, double *dst,
                             uint64_t first_row, lt_err *err);

/* Write an array atomically.  descr is the Python literal of the dtype
 * ("'<f4'" or "[('ts', '<u8'), ('x', '<f4'), ('', '|V4')]"); it is parsed
 * back to check that data holds exactly prod(shape) * itemsize bytes.
 * Version 1.0 unless the header needs 2.0. */
lt_status lt_npy_write(const char *path, const char *descr, int ndim, const uint64_t *shape, const void *data,
                       size_t nbytes, lt_err *err);

/* The preamble numpy writes before the data (magic, version, header length,
 * the dict padded with spaces and a newline): *out (malloc'd, *len bytes)
 * ends on a 64-byte boundary, or is exactly pad_to bytes when pad_to > 0 (so
 * that a streaming writer can rewrite the shape in place at the end).
 * descr is not checked here. */
lt_status lt_npy_header(char **out, size_t *len, const char *descr, int ndim, const uint64_t *shape, size_t pad_to,
                        lt_err *err);

/* Itemsize of a descr literal (0 and an error if it does not parse). */
lt_status lt_npy_descr_itemsize(const char *descr, uint64_t *itemsize, lt_err *err);

#ifdef __cplusplus
}
#endif
#endif
