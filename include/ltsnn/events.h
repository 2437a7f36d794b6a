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

lt_status lt_events_reserve(lt_events *e, size_t cap, lt_err *err);
lt_status lt_events_push(lt_events *e, int64_t t, int x, int y, int p, lt_err *err);
void lt_events_free(lt_events *e);

typedef enum lt_ev_format {
    LT_EVF_AUTO = 0,   /* from the header, then the extension */
    LT_EVF_AEDAT2,     /* jAER AEDAT 2.0 */
    LT_EVF_ATIS_BIN,   /* 40-bit N-MNIST / N-Caltech101 .bin */
    LT_EVF_DAT,        /* Prophesee DAT (N-Cars, Gen1) */
    LT_EVF_NPY         /* NumPy structured array with t, x, y, p fields */
} lt_ev_format;

typedef enum lt_aedat_layout {
    LT_AEDAT_LAYOUT_AUTO = 0, /* from the header's camera name (DVS128 or DAVIS) */
    LT_AEDAT_LAYOUT_DVS128,
    LT_AEDAT_LAYOUT_DAVIS
} lt_aedat_layout;

typedef struct lt_reader_opts {
    lt_ev_format format;
    lt_aedat_layout aedat_layout;
    int cifar10dvs_fix;   /* AEDAT DVS128: flip x (127 - x) and invert p, as CIFAR10-DVS readers do */
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

#ifdef __cplusplus
}
#endif
#endif
