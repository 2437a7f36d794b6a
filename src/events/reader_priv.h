/* reader_priv.h -- private: the reader object shared by reader.c (open,
 * format detection, the block loop) and the per-format decoders
 * (aedat.c, atis.c, dat.c; npy is in reader.c).
 *
 * Every format here is a header followed by fixed-size records.  A format's
 * open function parses the header and sets the record size, the data range
 * and a decode function; reader.c then loads the data in blocks of about
 * LT_EVR_BLOCK bytes (whole records only) and the decode function turns k
 * records of the block into events with a tight loop writing the SoA arrays
 * directly.  Nothing ever holds more than one block of the file. */
#ifndef LT_EVENTS_READER_PRIV_H
#define LT_EVENTS_READER_PRIV_H

#include "io/rsrc.h"
#include "ltsnn/events.h"
#include "ltsnn/npy.h"

#define LT_EVR_BLOCK (1u << 20)

/* Decode k records starting at r->buf + r->bpos into out (capacity for
 * out->n + k is reserved), advance r->bpos by k * r->rec, append the events
 * and add their number to *produced. */
typedef lt_status (*lt_evr_decode_fn)(lt_reader *r, lt_events *out, size_t k, size_t *produced, lt_err *err);

struct lt_reader {
    lt_rsrc src;
    const char *name;          /* = src.name */
    lt_reader_opts opts;
    int forced;                /* opts.format named the format (not detected) */
    lt_reader_info info;
    uint64_t skipped;

    /* records: [data_off, data_end), rec bytes each, loaded block by block */
    size_t rec;
    uint64_t data_off, data_end;
    uint64_t next_off;         /* file offset of the first byte not yet loaded */
    uint8_t *buf;
    size_t bufcap;             /* bytes allocated for buf */
    size_t blen, bpos;         /* bytes loaded in buf, bytes consumed */
    uint64_t buf_off;          /* file offset of buf[0] */
    lt_evr_decode_fn decode;

    lt_status failed;          /* sticky error */
    char failmsg[sizeof(((lt_err *)0)->msg)];

    /* 32-bit timestamp unwrapping (AEDAT, DAT): t = hi + ts, hi += 2^32 when
     * ts drops by more than 2^31 below the previous record's ts. */
    uint64_t ts_hi;
    uint32_t ts_last;
    int ts_started;

    int64_t atis_off;          /* ATIS: 2^13 per y == 240 marker so far */

    /* npy */
    lt_npy npy;
    int f_t, f_x, f_y, f_p;
    int64_t *tmp;              /* one field of a block */

    const void *mem;           /* memory source (lt_reader_open_mem), borrowed */
    size_t mem_len;
};

/* Byte offset in the file of record i of the current call's block. */
static inline uint64_t lt_evr_off(const lt_reader *r, size_t i) { return r->buf_off + r->bpos + (uint64_t)i * r->rec; }

static inline uint32_t lt_evr_be32(const uint8_t *q)
{
    uint32_t v;
    memcpy(&v, q, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return v;
#else
    return __builtin_bswap32(v);
#endif
}

static inline uint32_t lt_evr_le32(const uint8_t *q)
{
    uint32_t v;
    memcpy(&v, q, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap32(v);
#else
    return v;
#endif
}

/* Per-format open: parse the header at the start of r->src, fill r->info and
 * set rec, data_off, data_end (whole file past the header) and decode. */
lt_status lt_evr_open_aedat(lt_reader *r, lt_err *err);
lt_status lt_evr_open_atis(lt_reader *r, lt_err *err);
lt_status lt_evr_open_dat(lt_reader *r, lt_err *err);

/* Header lines ('#' for AEDAT, '%' for DAT) are read through this (with
 * r->buf as a cache, before the data blocks use it): it returns the line
 * starting at off (without its end of line, at most
 * cap - 1 bytes kept, the rest skipped), sets *next to the offset after the
 * '\n' (or the file size), *complete to 0 when the file ends inside the line,
 * and *binary to 1 when the line holds a control byte other than tab and CR. */
lt_status lt_evr_peek(lt_reader *r, uint64_t off, uint8_t *byte, lt_err *err); /* off < size */
lt_status lt_evr_read_line(lt_reader *r, uint64_t off, char *line, size_t cap, uint64_t *next, int *complete,
                           int *binary, lt_err *err);

#endif
