/* ltsnn/events.h -- event-camera recordings in, frames out.
 *
 * Readers stream (t, x, y, p) from the paper's file formats in bounded
 * memory; the binner turns one sample's events into T frames [T, 2, H, W]
 * (METHOD.md §6); the frame cache stores a prepared dataset split. */
#ifndef LTSNN_EVENTS_H
#define LTSNN_EVENTS_H

#include "ltsnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One event.  t in microseconds after the format's own overflow rules. */
typedef struct lt_event {
    int64_t t;
    uint16_t x, y;
    uint8_t p;
} lt_event;

/* Structure-of-arrays chunk, the unit readers fill and binners consume. */
typedef struct lt_events {
    int64_t *t;
    uint16_t *x, *y;
    uint8_t *p;
    size_t n, cap;
} lt_events;

/* Capacity at least cap; n is kept.  Growth is at least geometric, so a
 * reserve of n + k before each append stays linear overall. */
lt_status lt_events_reserve(lt_events *e, size_t cap, lt_err *err);
/* Append one event, doubling the capacity when full.  x, y must fit
 * uint16 and p be 0 or 1 (else LT_ERR_ARG). */
lt_status lt_events_push(lt_events *e, int64_t t, int x, int y, int p, lt_err *err);
void lt_events_clear(lt_events *e); /* n = 0, memory kept */
void lt_events_free(lt_events *e);  /* frees the arrays and zeroes *e */

typedef enum lt_ev_format {
    LT_EVF_AUTO = 0,   /* from the header, then the extension */
    LT_EVF_AEDAT2,     /* jAER AEDAT 2.0 */
    LT_EVF_ATIS_BIN,   /* 40-bit N-MNIST / N-Caltech101 .bin */
    LT_EVF_DAT,        /* Prophesee DAT (N-Cars, Gen1) */
    LT_EVF_NPY,        /* NumPy structured array with t, x, y, p fields */
    LT_EVF_AEDAT4,     /* iniVation DV AEDAT 4.0 (FlatBuffers packets, LZ4 / Zstd) */
    LT_EVF_EVT2,       /* Prophesee Metavision EVT 2.0 .raw */
    LT_EVF_EVT3        /* Prophesee Metavision EVT 3.0 .raw */
} lt_ev_format;
#define LT_EVF_COUNT 8 /* one past the last format */

typedef enum lt_aedat_layout {
    LT_AEDAT_LAYOUT_AUTO = 0, /* from the header's camera name (DVS128 or DAVIS) */
    LT_AEDAT_LAYOUT_DVS128,
    LT_AEDAT_LAYOUT_DAVIS
} lt_aedat_layout;

typedef struct lt_reader_opts {
    lt_ev_format format;
    lt_aedat_layout aedat_layout;
    int cifar10dvs_fix;   /* AEDAT DVS128: flip x (127 - x) and invert p, as CIFAR10-DVS readers do */
    int aedat4_stream;    /* AEDAT 4.0: 1 + the id of the EVTS stream to read; 0 = the first one */
} lt_reader_opts;

typedef struct lt_reader lt_reader; /* opaque */

lt_status lt_reader_open(lt_reader **r, const char *path, const lt_reader_opts *opts, lt_err *err);
/* Append up to `max` events to out (reserving as needed).  Returns LT_OK with
 * *got > 0, LT_ERR_EOF when the file is exhausted (*got == 0), or an error. */
lt_status lt_reader_next(lt_reader *r, lt_events *out, size_t max, size_t *got, lt_err *err);
void lt_reader_close(lt_reader *r);
lt_ev_format lt_reader_format(const lt_reader *r);
const char *lt_ev_format_name(lt_ev_format f);
/* Sensor size when the format or header tells it, else 0. */
void lt_reader_sensor(const lt_reader *r, int *width, int *height);
/* Read a whole file into out (appending). */
lt_status lt_events_read_file(lt_events *out, const char *path, const lt_reader_opts *opts, lt_err *err);

/* ---- reader details (docs/events.md) ----
 * Errors: a truncated, corrupt or wrong-format file is LT_ERR_FORMAT with the
 * file name, the byte offset and what was expected; an error inside a
 * lt_reader_next call discards that call's events (out->n is restored) and
 * every later call returns the same error. */

/* Like lt_reader_open on a memory block (borrowed until close): the same
 * decoders, for fuzzing and tests.  name is used for messages and for the
 * extension-based format guess. */
lt_status lt_reader_open_mem(lt_reader **r, const void *data, size_t len, const char *name,
                             const lt_reader_opts *opts, lt_err *err);

typedef struct lt_reader_info {
    lt_ev_format format;
    int width, height;          /* sensor size when known, else 0 */
    lt_aedat_layout layout;     /* AEDAT: the layout in use; AUTO = not named by the header, read as
                                   DVS128 and refused at the first address that does not fit it */
    int version;                /* AEDAT: 2 (2.0); DAT: "% Version" (0 if absent); npy: major version */
    int header_only;            /* the file ends inside its header: no events (not an error) */
    uint64_t header_bytes;      /* bytes before the first record */
    uint64_t records;           /* records in the data section: events + skipped + overflow markers
                                   (EVT: 16/32-bit words; AEDAT 4.0: 0, packets are counted as read) */
    char camera[96];            /* AEDAT "# AEChip:" (else "# HardwareInterface:"), DAT's first comment line,
                                   EVT's plugin/sensor line, AEDAT 4.0's event stream source */
    char detail[128];           /* format specifics: AEDAT 4.0 compression and streams, EVT's "% format" */
} lt_reader_info;
void lt_reader_get_info(const lt_reader *r, lt_reader_info *info);
/* Records read so far that are not events: AEDAT IMU/APS (bit 31) and
 * special (DAVIS bit 10, DVS128 bit 15) words, ATIS y == 240 overflow markers,
 * EVT EXT_TRIGGER / OTHERS / CONTINUED words, AEDAT 4.0 packets of other
 * streams.  The sum of lt_reader_get_skips's counts. */
uint64_t lt_reader_skipped(const lt_reader *r);
#define LT_READER_SKIP_KINDS 4
typedef struct lt_reader_skips {
    int n;                                    /* kinds this format counts */
    const char *what[LT_READER_SKIP_KINDS];   /* "IMU/APS words", "EXT_TRIGGER words", ... */
    uint64_t count[LT_READER_SKIP_KINDS];
} lt_reader_skips;
void lt_reader_get_skips(const lt_reader *r, lt_reader_skips *s);

/* AEDAT 4.0 streams, from the header's XML description (other formats: none). */
typedef struct lt_reader_stream {
    int id;
    char type[8];               /* typeIdentifier: "EVTS", "FRME", "IMUS", "TRIG", ... */
    char name[32];              /* originalOutputName: "events", "frames", ... */
    char source[48];            /* the camera: "DAVIS346_00000104" */
    int width, height;          /* sizeX, sizeY when given, else 0 */
    int read;                   /* 1: this stream is decoded as the events; 0: skipped */
    uint64_t packets, bytes;    /* packets met so far and their bytes in the file */
} lt_reader_stream;
int lt_reader_stream_count(const lt_reader *r);
void lt_reader_stream_get(const lt_reader *r, int i, lt_reader_stream *s);

/* "aedat", "atis", "bin", "dat", "npy", "aedat4", "evt2", "evt3", "auto" (and the names
 * lt_ev_format_name prints). */
lt_status lt_ev_format_parse(lt_ev_format *f, const char *name, lt_err *err);
/* The format the extension of path names (".aedat4" -> AEDAT4), else LT_EVF_AUTO. */
lt_ev_format lt_ev_format_from_ext(const char *path);
/* Every format's names, extensions and whether it is written, for help texts:
 * "aedat2 (.aedat; read, written), ...". */
void lt_ev_format_list(char *buf, size_t cap);
/* 1 if ltsnn writes the format. */
int lt_ev_format_writable(lt_ev_format f);
/* "dvs128", "davis", "auto". */
lt_status lt_aedat_layout_parse(lt_aedat_layout *l, const char *name, lt_err *err);
const char *lt_aedat_layout_name(lt_aedat_layout l);

/* ---- writers: each format's encoder, for round trips and synthetic dataset folders ----
 * Events are refused (LT_ERR_ARG, naming the event index) when the format
 * cannot store them so that its reader gives them back exactly:
 *   AEDAT2: t >= 0, first t < 2^32, and t must unwrap back under the reader's
 *           rule: a step of 2^31 us or more across a multiple of 2^32, or any
 *           step back across one, is refused; DVS128 x, y < 128; DAVIS x < 1024,
 *           y < 512 (and inside width x height when given).  The header names a
 *           jAER chip: DVS128, or the DAVIS model whose size is width x height.
 *   ATIS bin: x < 256, y < 240, t >= 0 and never below the t of the last
 *           overflow marker; y == 240 overflow markers are inserted as needed.
 *   DAT:  x, y < 2^14, t >= 0 and the same wrap rule; "% Width"/"% Height"
 *         are written when given.
 *   npy:  structured [('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', '|u1')].
 *   EVT 2.0: x, y < 2048, t >= 0, and t may not go back across a 64 us
 *         step (TIME_HIGH only moves forward; its wrap at 2^34 us is written
 *         as the reader unwraps it); "% format EVT2;width=..;height=.." given a size.
 *   AEDAT 4.0: x, y < 32768, any t; one EVTS stream, packets of up to 4096
 *         events, compressed as aedat4_compression says.
 * p must be 0 or 1 everywhere.  Files appear atomically at close. */
typedef enum lt_aedat4_compression {
    LT_AEDAT4_NONE = 0, LT_AEDAT4_LZ4, LT_AEDAT4_LZ4_HIGH, LT_AEDAT4_ZSTD, LT_AEDAT4_ZSTD_HIGH
} lt_aedat4_compression;
typedef struct lt_writer_opts {
    lt_ev_format format;          /* AUTO: from the path's extension (.aedat .bin .dat .npy .raw .aedat4) */
    lt_aedat_layout aedat_layout; /* AEDAT2: DVS128 (also for AUTO) or DAVIS */
    int width, height;            /* sensor size for the header; 0 = unknown */
    lt_aedat4_compression aedat4_compression; /* AEDAT 4.0 packets (default none) */
} lt_writer_opts;

typedef struct lt_writer lt_writer; /* opaque */
lt_status lt_writer_open(lt_writer **w, const char *path, const lt_writer_opts *o, lt_err *err);
/* Append every event of ev (in order). */
lt_status lt_writer_write(lt_writer *w, const lt_events *ev, lt_err *err);
/* Finish, commit the file and free w (also on failure, which leaves no file). */
lt_status lt_writer_close(lt_writer *w, lt_err *err);
void lt_writer_abort(lt_writer *w); /* free w, leave no file; NULL is fine */
uint64_t lt_writer_count(const lt_writer *w); /* events written so far */
/* open + write + close. */
lt_status lt_events_write_file(const char *path, const lt_events *ev, const lt_writer_opts *o, lt_err *err);

#ifdef __cplusplus
}
#endif
#endif
