/* idx.c -- IDX files (the MNIST / Fashion-MNIST format), plain or gzipped.
 *
 * The file is hostile: the header's dimensions are checked for overflow,
 * against the file's size when it is not compressed, and while reading when
 * it is (memory grows with what actually arrives, so a header claiming
 * terabytes costs nothing).  Only unsigned-byte data is read; ltsnn has no
 * use for the other IDX types.  Not a writer. */
#include "ltsnn/io.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define IDX_CHUNK ((size_t)1 << 20)

static const char *type_name(int t)
{
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    }
    return NULL;
}

/* Reads up to n bytes into dst; *got says how many arrived.  Returns 0 at
 * the end of the data or when n arrived, -1 on a stream error (a corrupt or
 * cut-short gzip stream), with zlib's message in *zmsg. */
static int read_some(gzFile g, uint8_t *dst, size_t n, size_t *got, const char **zmsg)
{
    *got = 0;
    while (*got < n) {
        size_t want = n - *got < IDX_CHUNK ? n - *got : IDX_CHUNK;
        int r = gzread(g, dst + *got, (unsigned)want);
        int code = 0;
        const char *m = gzerror(g, &code);
        if (r > 0)
            *got += (size_t)r;
        /* zlib reports a stream cut short as a short read plus Z_BUF_ERROR */
        if (r < 0 || (code != Z_OK && code != Z_STREAM_END)) {
            *zmsg = m;
            return -1;
        }
        if (r == 0)
            break;
    }
    return 0;
}

void lt_idx_free(lt_idx *a)
{
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* The error for a read of `want` bytes at byte off that gave `got` (rc from read_some). */
static lt_status short_read(lt_err *err, const char *path, gzFile g, size_t off, size_t got, size_t want, int rc,
                            const char *zmsg, const char *what)
{
    if (rc < 0)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %zu (compressed byte %ld) in %s: %s", path, off + got,
                          (long)gzoffset(g), what, zmsg ? zmsg : "read error");
    return lt_err_set(err, LT_ERR_FORMAT, "%s: truncated at byte %zu in %s (%zu more bytes expected)", path, off + got,
                      what, want - got);
}

lt_status lt_idx_read(lt_idx *a, const char *path, size_t max_items, lt_err *err)
{
    memset(a, 0, sizeof *a);
    lt_status st = LT_OK;
    const char *zmsg = NULL;
    size_t got = 0;
    int rc;
    errno = 0;
    gzFile g = gzopen(path, "rb");
    if (!g)
        return lt_err_set(err, LT_ERR_IO, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    gzbuffer(g, 1 << 16);

    uint8_t hdr[4 + 4 * LT_IDX_MAXDIM];
    rc = read_some(g, hdr, 4, &got, &zmsg);
    if (rc || got != 4) {
        st = short_read(err, path, g, 0, got, 4, rc, zmsg, "the 4-byte magic number");
        goto fail;
    }
    if (hdr[0] != 0 || hdr[1] != 0) {
        st = lt_err_set(err, LT_ERR_FORMAT,
                        "%s: byte 0: magic %02x %02x %02x %02x: expected 00 00 TYPE NDIM (not an IDX file)", path,
                        hdr[0], hdr[1], hdr[2], hdr[3]);
        goto fail;
    }
    int type = hdr[2], ndim = hdr[3];
    if (type != 0x08) {
        const char *tn = type_name(type);
        st = tn ? lt_err_set(err, LT_ERR_UNSUPPORTED,
                             "%s: byte 2: data type 0x%02X (%s): only unsigned byte (0x08) is supported", path, type,
                             tn)
                : lt_err_set(err, LT_ERR_FORMAT, "%s: byte 2: data type 0x%02X is not an IDX type", path, type);
        goto fail;
    }
    if (ndim < 1 || ndim > LT_IDX_MAXDIM) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: byte 3: %d dimensions: expected 1..%d", path, ndim, LT_IDX_MAXDIM);
        goto fail;
    }
    size_t hdr_len = 4 + 4 * (size_t)ndim;
    rc = read_some(g, hdr + 4, hdr_len - 4, &got, &zmsg);
    if (rc || got != hdr_len - 4) {
        st = short_read(err, path, g, 4, got, hdr_len - 4, rc, zmsg, "the dimensions");
        goto fail;
    }
    size_t numel_file = 1, row = 1;
    a->ndim = ndim;
    for (int k = 0; k < ndim; k++) {
        const uint8_t *p = hdr + 4 + 4 * k;
        a->dims[k] = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | (size_t)p[3];
        if (!lt_mul_ok(numel_file, a->dims[k], &numel_file) || numel_file > SIZE_MAX - hdr_len) {
            st = lt_err_set(err, LT_ERR_FORMAT, "%s: byte %zu: the dimensions' product overflows", path,
                            (size_t)(4 + 4 * k));
            goto fail;
        }
        if (k > 0)
            row *= a->dims[k]; /* bounded by numel_file, so no overflow */
    }
    size_t need = hdr_len + numel_file;
    a->items_in_file = a->dims[0];
    int partial = max_items > 0 && max_items < a->dims[0];
    if (partial)
        a->dims[0] = max_items;
    a->numel = a->dims[0] * row;

    if (gzdirect(g)) {
        /* a plain file: its size must fit the header before anything is allocated */
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            size_t size = (size_t)sb.st_size;
            if (size < need) {
                st = lt_err_set(err, LT_ERR_FORMAT,
                                "%s: truncated at byte %zu: the header's dimensions need %zu data bytes (up to "
                                "byte %zu)",
                                path, size, numel_file, need);
                goto fail;
            }
            if (size > need && !partial) {
                st = lt_err_set(err, LT_ERR_FORMAT, "%s: %zu trailing bytes after the data, which ends at byte %zu",
                                path, size - need, need);
                goto fail;
            }
        }
    }

    /* grow with what arrives: a hostile header cannot make us allocate much
     * more than the stream actually holds */
    size_t cap = a->numel < IDX_CHUNK ? a->numel : IDX_CHUNK, have = 0;
    a->data = malloc(cap ? cap : 1);
    if (!a->data) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    while (have < a->numel) {
        if (have == cap) {
            size_t ncap = cap > a->numel / 2 ? a->numel : 2 * cap;
            uint8_t *nd = realloc(a->data, ncap);
            if (!nd) {
                st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory for %zu bytes", path, ncap);
                goto fail;
            }
            a->data = nd;
            cap = ncap;
        }
        rc = read_some(g, a->data + have, cap - have, &got, &zmsg);
        if (rc || got < cap - have) {
            st = rc ? short_read(err, path, g, hdr_len + have, got, cap - have, rc, zmsg, "the data")
                    : lt_err_set(err, LT_ERR_FORMAT,
                                 "%s: truncated at byte %zu: the header's dimensions need %zu data bytes (up to "
                                 "byte %zu)",
                                 path, hdr_len + have + got, numel_file, need);
            goto fail;
        }
        have += got;
    }
    if (!partial) {
        /* reading on to the end also makes zlib check the gzip trailer */
        uint8_t extra;
        rc = read_some(g, &extra, 1, &got, &zmsg);
        if (rc) {
            st = short_read(err, path, g, hdr_len + have, 0, 0, rc, zmsg, "the end of the stream");
            goto fail;
        }
        if (got > 0) {
            st = lt_err_set(err, LT_ERR_FORMAT, "%s: trailing bytes after the data, which ends at byte %zu", path,
                            need);
            goto fail;
        }
    }
    gzclose(g);
    return LT_OK;

fail:
    gzclose(g);
    lt_idx_free(a);
    return st;
}
