/* reader_priv.h -- private: the format descriptor, the reader and writer
 * objects shared by reader.c (open, detection, the call loop), writers.c
 * (the writer shell) and the one file per format (aedat.c, aedat4.c,
 * atis.c, dat.c, evt.c, npyev.c).
 *
 * A format is one descriptor row (formats.c lists the rows): its names and
 * extensions, a detector over the file's first bytes, an open function, and
 * optionally an encoder.  open parses the header and chooses how events
 * come out:
 *   - records: set rec, data_off, data_end and a decode function; reader.c
 *     loads whole records in blocks of about LT_EVR_BLOCK bytes and calls
 *     decode with them (lt_evr_next_records).  A decoder that turns one
 *     record into several events (EVT 3.0 vectors) may stop inside a record
 *     and resume there on the next call (pending > 0).
 *   - anything else: set next to a function of its own (AEDAT 4.0 packets).
 * Either way a next call appends at most `room` events, and nothing ever
 * holds more than one block of the file (or one AEDAT 4.0 packet). */
#ifndef LT_EVENTS_READER_PRIV_H
#define LT_EVENTS_READER_PRIV_H

#include <stdio.h>

#include "io/rsrc.h"
#include "ltsnn/events.h"
#include "ltsnn/io.h"
#include "ltsnn/npy.h"

#define LT_EVR_BLOCK (1u << 20)
#define LT_EVR_HEAD (1u << 16) /* bytes the detectors see */

typedef struct lt_evr_format lt_evr_format;

/* Decode from the block (r->buf + r->bpos, k whole records left in it) into
 * out, whose capacity is reserved for `room` more events: append at most
 * room events, advance r->bpos over the records consumed and add the events
 * to *produced.  Formats with one event per record at most get k <= room. */
typedef lt_status (*lt_evr_decode_fn)(lt_reader *r, lt_events *out, size_t k, size_t room, size_t *produced,
                                      lt_err *err);
/* Append at most room events (capacity not reserved); set r->eof when the
 * file has no more. */
typedef lt_status (*lt_evr_next_fn)(lt_reader *r, lt_events *out, size_t room, size_t *produced, lt_err *err);

#define LT_EVR_SKIP_KINDS LT_READER_SKIP_KINDS

struct lt_reader {
    lt_rsrc src;
    const char *name;          /* = src.name */
    lt_reader_opts opts;
    int forced;                /* opts.format named the format (not detected) */
    const lt_evr_format *fmt;
    lt_reader_info info;
    const char *skip_what[LT_EVR_SKIP_KINDS]; /* what each skip counter counts (NULL: unused) */
    uint64_t skip[LT_EVR_SKIP_KINDS];

    lt_evr_next_fn next;
    int eof;

    /* records: [data_off, data_end), rec bytes each, loaded block by block */
    size_t rec;
    size_t per_rec;            /* most events one record gives (1; EVT 3.0: 12) */
    size_t pending;            /* events of a partly emitted record still to come */
    uint64_t data_off, data_end;
    uint64_t next_off;         /* file offset of the first byte not yet loaded */
    uint8_t *buf;
    size_t bufcap;             /* bytes allocated for buf */
    size_t blen, bpos;         /* bytes loaded in buf, bytes consumed */
    uint64_t buf_off;          /* file offset of buf[0] */
    lt_evr_decode_fn decode;

    lt_status failed;          /* sticky error */
    char failmsg[sizeof(((lt_err *)0)->msg)];

    /* 32-bit timestamp unwrapping (AEDAT 2.0, DAT): t = hi + ts, hi += 2^32
     * when ts drops by more than 2^31 below the previous record's ts. */
    uint64_t ts_hi;
    uint32_t ts_last;
    int ts_started;

    int64_t atis_off;          /* ATIS: 2^13 per y == 240 marker so far */
    int dat_bare;              /* DAT without a header: checked harder (dat.c) */

    /* EVT 2.0 / 3.0 decoder state (evt.c) */
    struct {
        int have_high, have_y, have_low, have_base;
        uint64_t wraps;        /* wrap count times the time range */
        uint32_t high, low;    /* last TIME_HIGH and TIME_LOW values */
        uint32_t y, base_x, pol;
        uint32_t vec_mask;     /* VECT_12/VECT_8 bits not yet emitted */
        uint32_t vec_x;        /* x of bit 0 of vec_mask */
        uint32_t w, h;         /* bounds for x, y */
    } evt;

    /* AEDAT 4.0 (aedat4.c) */
    struct lt_aedat4 *a4;

    /* npy (npyev.c) */
    lt_npy npy;
    int f_t, f_x, f_y, f_p;
    int64_t *tmp;              /* one field of a block */

    const void *mem;           /* memory source (lt_reader_open_mem), borrowed */
    size_t mem_len;
};

/* ---- writers ---- */
struct lt_writer {
    lt_afile af;
    const lt_evr_format *fmt;
    lt_writer_opts o;
    lt_aedat_layout layout;    /* AEDAT 2.0: DVS128 or DAVIS */
    int w, h;
    uint64_t count;
    uint8_t *buf;
    size_t blen;
    /* the reader's 32-bit unwrapping, replayed (AEDAT 2.0, DAT) */
    int started;
    uint64_t hi;
    uint32_t last;
    int64_t atis_off;
    size_t npy_hdr_len;
    uint64_t evt_high;         /* EVT 2.0: last TIME_HIGH written (t >> 6, unwrapped), UINT64_MAX = none */
    struct lt_aedat4_w *a4;    /* AEDAT 4.0 writer state */
};

/* A format: one row.  exts end with NULL; detect and the writer may be NULL. */
struct lt_evr_format {
    lt_ev_format id;
    const char *name;              /* what lt_ev_format_name prints */
    const char *aliases[4];        /* other names lt_ev_format_parse takes */
    const char *exts[4];           /* ".aedat": chosen by extension when no header decides */
    const char *describe;          /* one line for --help and messages */
    int empty_ok;                  /* a 0-byte file is a valid recording with no events (else refused) */
    int (*detect)(const uint8_t *head, size_t n); /* the first min(size, LT_EVR_HEAD) bytes are this format's */
    lt_status (*open)(lt_reader *r, lt_err *err);
    void (*close)(lt_reader *r);   /* frees format state; may be NULL */
    /* writer: check options and write the header; encode one event (p is
     * checked); finish (may put more bytes; the shell flushes after it);
     * free format state (also on abort) */
    lt_status (*w_open)(lt_writer *w, lt_err *err);
    lt_status (*w_event)(lt_writer *w, const lt_events *ev, size_t i, lt_err *err);
    lt_status (*w_close)(lt_writer *w, lt_err *err);
    void (*w_free)(lt_writer *w);
};

extern const lt_evr_format lt_evr_fmt_aedat2, lt_evr_fmt_aedat4, lt_evr_fmt_atis, lt_evr_fmt_dat, lt_evr_fmt_npy,
    lt_evr_fmt_evt2, lt_evr_fmt_evt3;

/* formats.c: the table, in detection order (a header is tested against
 * every row's detect; the first match wins). */
const lt_evr_format *lt_evr_format_at(size_t i); /* NULL past the end */
const lt_evr_format *lt_evr_format_of(lt_ev_format id);

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

static inline uint16_t lt_evr_le16(const uint8_t *q) { return (uint16_t)(q[0] | q[1] << 8); }
static inline uint64_t lt_evr_le64(const uint8_t *q) { return (uint64_t)lt_evr_le32(q) | (uint64_t)lt_evr_le32(q + 4) << 32; }

static inline void lt_evw_le(uint8_t *q, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        q[i] = (uint8_t)(v >> (8 * i));
}

/* The record loop (reader.c): r->next for formats that set rec and decode. */
lt_status lt_evr_next_records(lt_reader *r, lt_events *out, size_t room, size_t *produced, lt_err *err);

/* Name a skip counter (k < LT_EVR_SKIP_KINDS). */
static inline void lt_evr_skip_kind(lt_reader *r, int k, const char *what) { r->skip_what[k] = what; }

/* Header lines ('#' for AEDAT, '%' for DAT and EVT) are read through this
 * (with r->buf as a cache, before the data blocks use it): it returns the
 * line starting at off (without its end of line, at most cap - 1 bytes kept,
 * the rest skipped), sets *next to the offset after the '\n' (or the file
 * size), *complete to 0 when the file ends inside the line, and *binary to 1
 * when the line holds a control byte other than tab and CR. */
lt_status lt_evr_peek(lt_reader *r, uint64_t off, uint8_t *byte, lt_err *err); /* off < size */
lt_status lt_evr_read_line(lt_reader *r, uint64_t off, char *line, size_t cap, uint64_t *next, int *complete,
                           int *binary, lt_err *err);

/* A Prophesee header line ('%' then a space or end of line) at off (dat.c):
 * *found = 0 when there is none (the header has ended), else the line as
 * lt_evr_read_line gives it. */
lt_status lt_evr_percent_line(lt_reader *r, uint64_t off, char *line, size_t cap, uint64_t *next, int *complete,
                              int *found, lt_err *err);
/* Prophesee '% ' header lines (dat.c): which EVT version the lines in head
 * name ("% evt 2.0", "% evt 3.0", "% format EVT2...", "% format EVT3...":
 * 2 or 3; another "% evt" or "% format EVT" line: 1); 0 when none does (a
 * DAT header, or no header). */
int lt_evr_prophesee_evt(const uint8_t *head, size_t n);

/* Writer helpers (writers.c). */
lt_status lt_evw_put(lt_writer *w, const void *data, size_t n, lt_err *err);
lt_status lt_evw_put_text(lt_writer *w, const char *s, lt_err *err);
lt_status lt_evw_flush(lt_writer *w, lt_err *err); /* the block to the file */
/* The AEDAT 2.0 / DAT reader's 32-bit rule replayed: 1 if t unwraps back. */
int lt_evw_wrap_ok(lt_writer *w, int64_t t, uint32_t *ts_out);
/* LT_ERR_ARG naming event i (of this write call) and why. */
lt_status lt_evw_bad(lt_writer *w, size_t i, const lt_events *ev, const char *why, lt_err *err);

#endif
