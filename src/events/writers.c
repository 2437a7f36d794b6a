/* writers.c -- encoders for each event format the readers decode (AEDAT 2.0
 * DVS128 and DAVIS, ATIS .bin, Prophesee DAT, structured .npy).
 *
 * They exist for round-trip tests and for building synthetic dataset
 * folders, so each one refuses an event its reader would not give back
 * exactly (events.h lists the rules); in particular the timestamp checks
 * replay the reader's own unwrapping.  Events are encoded into a 1 MiB
 * block and written through lt_afile (temp file + rename), so a file
 * appears only when complete.  Not a converter between formats' metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ltsnn/events.h"
#include "ltsnn/io.h"
#include "ltsnn/npy.h"

#define WBLOCK (1u << 20)
#define NPY_EVENT_DESCR "[('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', '|u1')]"
#define ATIS_MAX_MARKERS_STEP (1u << 20) /* overflow markers one time step may need (2.4 h) */

struct lt_writer {
    lt_afile af;
    lt_ev_format fmt;
    lt_aedat_layout layout;
    int w, h;
    uint64_t count;
    uint8_t *buf;
    size_t blen;
    /* the reader's 32-bit unwrapping, replayed (AEDAT, DAT) */
    int started;
    uint64_t hi;
    uint32_t last;
    int64_t atis_off;
    size_t npy_hdr_len;
};

typedef struct davis_chip {
    int w, h;
    const char *chip;
} davis_chip;

static const davis_chip davis_chips[] = {
    {240, 180, "eu.seebetter.ini.chips.davis.DAVIS240C"}, {346, 260, "eu.seebetter.ini.chips.davis.Davis346B"},
    {640, 480, "eu.seebetter.ini.chips.davis.Davis640"},  {208, 192, "eu.seebetter.ini.chips.davis.Davis208"},
    {128, 128, "eu.seebetter.ini.chips.davis.DAVIS128"},
};

static lt_status flush(lt_writer *w, lt_err *err)
{
    if (w->blen && fwrite(w->buf, 1, w->blen, w->af.f) != w->blen)
        return lt_err_set(err, LT_ERR_IO, "%s: write failed", w->af.path);
    w->blen = 0;
    return LT_OK;
}

static lt_status put(lt_writer *w, const void *data, size_t n, lt_err *err)
{
    if (w->blen + n > WBLOCK) {
        lt_status st = flush(w, err);
        if (st)
            return st;
    }
    memcpy(w->buf + w->blen, data, n);
    w->blen += n;
    return LT_OK;
}

static lt_status put_text(lt_writer *w, const char *s, lt_err *err) { return put(w, s, strlen(s), err); }

static lt_status write_header(lt_writer *w, lt_err *err)
{
    char line[256];
    lt_status st = LT_OK;
    switch (w->fmt) {
    case LT_EVF_AEDAT2: {
        const char *chip = "ch.unizh.ini.jaer.chip.retina.DVS128";
        if (w->layout == LT_AEDAT_LAYOUT_DAVIS) {
            chip = "eu.seebetter.ini.chips.davis.DAVIS"; /* a DAVIS of unknown size */
            for (size_t i = 0; i < sizeof davis_chips / sizeof davis_chips[0]; i++)
                if (davis_chips[i].w == w->w && davis_chips[i].h == w->h)
                    chip = davis_chips[i].chip;
        }
        snprintf(line, sizeof line, "# AEChip: %s\r\n", chip);
        if ((st = put_text(w, "#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n"
                              "# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event\r\n"
                              "# Timestamps tick is 1 us\r\n# created by ltsnn\r\n", err)))
            return st;
        return put_text(w, line, err);
    }
    case LT_EVF_DAT: {
        if ((st = put_text(w, "% Data file containing Event2D events.\n% Version 2\n", err)))
            return st;
        if (w->w > 0) {
            snprintf(line, sizeof line, "%% Width %d\n%% Height %d\n", w->w, w->h);
            if ((st = put_text(w, line, err)))
                return st;
        }
        const uint8_t type_size[2] = {0x00, 8};
        return put(w, type_size, 2, err);
    }
    case LT_EVF_NPY: {
        /* room for any count: the shape is rewritten in place at close */
        char *h;
        size_t len;
        uint64_t big = UINT64_MAX;
        if ((st = lt_npy_header(&h, &len, NPY_EVENT_DESCR, 1, &big, 0, err)))
            return st;
        free(h);
        uint64_t zero = 0;
        if ((st = lt_npy_header(&h, &len, NPY_EVENT_DESCR, 1, &zero, len, err)))
            return st;
        w->npy_hdr_len = len;
        st = put(w, h, len, err);
        free(h);
        return st;
    }
    default:
        return LT_OK;
    }
}

static lt_ev_format format_from_ext(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (!dot)
        return LT_EVF_AUTO;
    if (!strcasecmp(dot, ".aedat"))
        return LT_EVF_AEDAT2;
    if (!strcasecmp(dot, ".bin"))
        return LT_EVF_ATIS_BIN;
    if (!strcasecmp(dot, ".dat"))
        return LT_EVF_DAT;
    if (!strcasecmp(dot, ".npy"))
        return LT_EVF_NPY;
    return LT_EVF_AUTO;
}

lt_status lt_writer_open(lt_writer **out, const char *path, const lt_writer_opts *o, lt_err *err)
{
    *out = NULL;
    lt_writer_opts def = {0};
    if (!o)
        o = &def;
    lt_ev_format fmt = o->format == LT_EVF_AUTO ? format_from_ext(path) : o->format;
    if (fmt == LT_EVF_AUTO || (unsigned)fmt > LT_EVF_NPY)
        return lt_err_set(err, LT_ERR_ARG, "%s: cannot tell which event format to write (give one, or end the name in "
                          ".aedat, .bin, .dat or .npy)", path);
    if (o->width < 0 || o->height < 0 || (o->width == 0) != (o->height == 0) || o->width > 16384 || o->height > 16384)
        return lt_err_set(err, LT_ERR_ARG, "%s: sensor size %dx%d: expected both 1..16384 or both 0", path, o->width,
                          o->height);
    if ((unsigned)o->aedat_layout > LT_AEDAT_LAYOUT_DAVIS)
        return lt_err_set(err, LT_ERR_ARG, "%s: unknown AEDAT layout %d", path, (int)o->aedat_layout);
    lt_aedat_layout layout = o->aedat_layout == LT_AEDAT_LAYOUT_DAVIS ? LT_AEDAT_LAYOUT_DAVIS : LT_AEDAT_LAYOUT_DVS128;
    if (fmt == LT_EVF_AEDAT2 && layout == LT_AEDAT_LAYOUT_DVS128 && (o->width > 128 || o->height > 128))
        return lt_err_set(err, LT_ERR_ARG, "%s: sensor %dx%d does not fit DVS128 addresses (128x128)", path, o->width,
                          o->height);
    if (fmt == LT_EVF_AEDAT2 && layout == LT_AEDAT_LAYOUT_DAVIS && (o->width > 1024 || o->height > 512))
        return lt_err_set(err, LT_ERR_ARG, "%s: sensor %dx%d does not fit DAVIS addresses (1024x512)", path, o->width,
                          o->height);
    lt_writer *w = calloc(1, sizeof *w);
    if (!w)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", path);
    w->fmt = fmt, w->layout = layout, w->w = o->width, w->h = o->height;
    w->buf = malloc(WBLOCK);
    lt_status st;
    if (!w->buf) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", path);
        goto free_writer;
    }
    if ((st = lt_afile_open(&w->af, path, err)))
        goto free_writer;
    if ((st = write_header(w, err))) {
        lt_afile_abort(&w->af);
        goto free_writer;
    }
    *out = w;
    return LT_OK;
free_writer:
    free(w->buf);
    free(w);
    return st;
}

/* The reader's rule: t = hi + ts, hi += 2^32 when ts drops by more than 2^31. */
static int wrap_ok(lt_writer *w, int64_t t, uint32_t *ts_out)
{
    if (t < 0)
        return 0;
    uint32_t ts = (uint32_t)t;
    if (!w->started) {
        w->started = 1;
        w->last = ts;
    }
    uint64_t hi = w->hi;
    if (ts < w->last && w->last - ts > 0x80000000u)
        hi += (uint64_t)1 << 32;
    if ((uint64_t)t != hi + ts)
        return 0;
    w->hi = hi, w->last = ts;
    *ts_out = ts;
    return 1;
}

static lt_status bad(lt_writer *w, size_t i, const lt_events *ev, const char *why, lt_err *err)
{
    return lt_err_set(err, LT_ERR_ARG, "%s: event %llu (t %lld, x %u, y %u, p %u): %s", w->af.path,
                      (unsigned long long)(w->count + i), (long long)ev->t[i], ev->x[i], ev->y[i], ev->p[i], why);
}

static inline void st_be32(uint8_t *q, uint32_t v)
{
    q[0] = (uint8_t)(v >> 24), q[1] = (uint8_t)(v >> 16), q[2] = (uint8_t)(v >> 8), q[3] = (uint8_t)v;
}

static inline void st_le(uint8_t *q, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        q[i] = (uint8_t)(v >> (8 * i));
}

static lt_status write_one(lt_writer *w, const lt_events *ev, size_t i, lt_err *err)
{
    uint8_t rec[16];
    uint32_t x = ev->x[i], y = ev->y[i], p = ev->p[i], ts;
    int64_t t = ev->t[i];
    if (p > 1)
        return bad(w, i, ev, "p must be 0 or 1", err);
    int bw = w->w ? w->w : 1 << 30, bh = w->h ? w->h : 1 << 30;
    switch (w->fmt) {
    case LT_EVF_AEDAT2: {
        uint32_t a;
        if (w->layout == LT_AEDAT_LAYOUT_DAVIS) {
            if (x >= 1024 || y >= 512 || (int)x >= bw || (int)y >= bh)
                return bad(w, i, ev, "outside the DAVIS sensor (x < 1024, y < 512 and inside the given size)", err);
            a = y << 22 | x << 12 | p << 11;
        } else {
            if (x >= 128 || y >= 128 || (int)x >= bw || (int)y >= bh)
                return bad(w, i, ev, "outside the DVS128 sensor (x, y < 128)", err);
            a = y << 8 | x << 1 | p;
        }
        if (!wrap_ok(w, t, &ts))
            return bad(w, i, ev, "t cannot be stored as a 32-bit AEDAT timestamp that the reader unwraps back", err);
        st_be32(rec, a);
        st_be32(rec + 4, ts);
        return put(w, rec, 8, err);
    }
    case LT_EVF_DAT:
        if (x >= 1u << 14 || y >= 1u << 14 || (int)x >= bw || (int)y >= bh)
            return bad(w, i, ev, "outside the DAT sensor (x, y < 2^14 and inside the given size)", err);
        if (!wrap_ok(w, t, &ts))
            return bad(w, i, ev, "t cannot be stored as a 32-bit DAT timestamp that the reader unwraps back", err);
        st_le(rec, ts, 4);
        st_le(rec + 4, p << 28 | y << 14 | x, 4);
        return put(w, rec, 8, err);
    case LT_EVF_ATIS_BIN: {
        if (x >= 256 || y >= 240 || (int)x >= bw || (int)y >= bh)
            return bad(w, i, ev, "outside the ATIS range (x < 256, y < 240)", err);
        if (t < w->atis_off)
            return bad(w, i, ev, "t is below the time of the last overflow marker (ATIS time only moves forward by 2^13)", err);
        int64_t raw = t - w->atis_off;
        if (raw >= (int64_t)1 << 23) {
            int64_t m = (raw - ((1 << 23) - 1) + 8191) / 8192;
            if (m > ATIS_MAX_MARKERS_STEP)
                return bad(w, i, ev, "the step in t needs more than 2^20 overflow markers", err);
            const uint8_t marker[5] = {0, 240, 0, 0, 0};
            for (int64_t k = 0; k < m; k++) {
                lt_status st = put(w, marker, 5, err);
                if (st)
                    return st;
            }
            w->atis_off += m * 8192;
            raw -= m * 8192;
        }
        rec[0] = (uint8_t)x, rec[1] = (uint8_t)y;
        rec[2] = (uint8_t)(p << 7 | (uint32_t)(raw >> 16));
        rec[3] = (uint8_t)(raw >> 8), rec[4] = (uint8_t)raw;
        return put(w, rec, 5, err);
    }
    case LT_EVF_NPY:
        st_le(rec, (uint64_t)t, 8);
        st_le(rec + 8, x, 2);
        st_le(rec + 10, y, 2);
        rec[12] = (uint8_t)p;
        return put(w, rec, 13, err);
    default:
        return lt_err_set(err, LT_ERR_ARG, "%s: no format", w->af.path);
    }
}

lt_status lt_writer_write(lt_writer *w, const lt_events *ev, lt_err *err)
{
    for (size_t i = 0; i < ev->n; i++) {
        lt_status st = write_one(w, ev, i, err);
        if (st)
            return st;
    }
    w->count += ev->n;
    return LT_OK;
}

uint64_t lt_writer_count(const lt_writer *w) { return w->count; }

void lt_writer_abort(lt_writer *w)
{
    if (!w)
        return;
    lt_afile_abort(&w->af);
    free(w->buf);
    free(w);
}

lt_status lt_writer_close(lt_writer *w, lt_err *err)
{
    lt_status st = flush(w, err);
    if (!st && w->fmt == LT_EVF_NPY) {
        char *h;
        size_t len;
        if (!(st = lt_npy_header(&h, &len, NPY_EVENT_DESCR, 1, &w->count, w->npy_hdr_len, err))) {
            if (fseek(w->af.f, 0, SEEK_SET) != 0 || fwrite(h, 1, len, w->af.f) != len || fseek(w->af.f, 0, SEEK_END))
                st = lt_err_set(err, LT_ERR_IO, "%s: rewriting the npy header failed", w->af.path);
            free(h);
        }
    }
    if (st) {
        lt_writer_abort(w);
        return st;
    }
    st = lt_afile_commit(&w->af, err);
    free(w->buf);
    free(w);
    return st;
}

lt_status lt_events_write_file(const char *path, const lt_events *ev, const lt_writer_opts *o, lt_err *err)
{
    lt_writer *w;
    lt_status st = lt_writer_open(&w, path, o, err);
    if (st)
        return st;
    if ((st = lt_writer_write(w, ev, err))) {
        lt_writer_abort(w);
        return st;
    }
    return lt_writer_close(w, err);
}
