/* writers.c -- the writer shell every format's encoder runs in: choosing
 * the format (option, else extension), the 1 MiB output block, the atomic
 * file (lt_afile: temp file, fsync, rename, so a file appears only when
 * complete), the event count, and helpers the encoders share (the 32-bit
 * unwrapping rule replayed, the "event i cannot be stored" message).  The
 * encoders are in each format's file (events.h lists their rules): each
 * refuses an event its reader would not give back exactly.  Not a
 * converter of formats' metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/reader_priv.h"

#define WBLOCK (1u << 20)

lt_status lt_evw_flush(lt_writer *w, lt_err *err)
{
    if (w->blen && fwrite(w->buf, 1, w->blen, w->af.f) != w->blen)
        return lt_err_set(err, LT_ERR_IO, "%s: write failed", w->af.path);
    w->blen = 0;
    return LT_OK;
}

lt_status lt_evw_put(lt_writer *w, const void *data, size_t n, lt_err *err)
{
    if (w->blen + n > WBLOCK) {
        lt_status st = lt_evw_flush(w, err);
        if (st)
            return st;
        if (n > WBLOCK) { /* a large piece (an AEDAT 4.0 packet) goes straight out */
            if (fwrite(data, 1, n, w->af.f) != n)
                return lt_err_set(err, LT_ERR_IO, "%s: write failed", w->af.path);
            return LT_OK;
        }
    }
    memcpy(w->buf + w->blen, data, n);
    w->blen += n;
    return LT_OK;
}

lt_status lt_evw_put_text(lt_writer *w, const char *s, lt_err *err) { return lt_evw_put(w, s, strlen(s), err); }

/* The reader's rule: t = hi + ts, hi += 2^32 when ts drops by more than 2^31. */
int lt_evw_wrap_ok(lt_writer *w, int64_t t, uint32_t *ts_out)
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

lt_status lt_evw_bad(lt_writer *w, size_t i, const lt_events *ev, const char *why, lt_err *err)
{
    return lt_err_set(err, LT_ERR_ARG, "%s: event %llu (t %lld, x %u, y %u, p %u): %s", w->af.path,
                      (unsigned long long)(w->count + i), (long long)ev->t[i], ev->x[i], ev->y[i], ev->p[i], why);
}

static void writer_free(lt_writer *w)
{
    if (w->fmt && w->fmt->w_free)
        w->fmt->w_free(w);
    free(w->buf);
    free(w);
}

lt_status lt_writer_open(lt_writer **out, const char *path, const lt_writer_opts *o, lt_err *err)
{
    *out = NULL;
    lt_writer_opts def = {0};
    if (!o)
        o = &def;
    lt_ev_format id = o->format == LT_EVF_AUTO ? lt_ev_format_from_ext(path) : o->format;
    const lt_evr_format *f = lt_evr_format_of(id);
    if (!f || !f->w_event) {
        char list[512];
        lt_ev_format_list(list, sizeof list);
        if (f)
            return lt_err_set(err, LT_ERR_ARG, "%s: ltsnn reads %s but does not write it (formats: %s)", path, f->name,
                              list);
        return lt_err_set(err, LT_ERR_ARG, "%s: cannot tell which event format to write (give one, or end the name "
                          "in one of the extensions of the formats written: %s)", path, list);
    }
    if (o->width < 0 || o->height < 0 || (o->width == 0) != (o->height == 0) || o->width > 16384 || o->height > 16384)
        return lt_err_set(err, LT_ERR_ARG, "%s: sensor size %dx%d: expected both 1..16384 or both 0", path, o->width,
                          o->height);
    if ((unsigned)o->aedat_layout > LT_AEDAT_LAYOUT_DAVIS)
        return lt_err_set(err, LT_ERR_ARG, "%s: unknown AEDAT layout %d", path, (int)o->aedat_layout);
    if ((unsigned)o->aedat4_compression > LT_AEDAT4_ZSTD_HIGH)
        return lt_err_set(err, LT_ERR_ARG, "%s: unknown AEDAT 4.0 compression %d", path, (int)o->aedat4_compression);
    lt_writer *w = calloc(1, sizeof *w);
    if (!w)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", path);
    w->fmt = f, w->o = *o, w->w = o->width, w->h = o->height;
    w->o.format = id;
    w->layout = o->aedat_layout == LT_AEDAT_LAYOUT_DAVIS ? LT_AEDAT_LAYOUT_DAVIS : LT_AEDAT_LAYOUT_DVS128;
    w->evt_high = UINT64_MAX;
    w->buf = malloc(WBLOCK);
    lt_status st;
    if (!w->buf) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", path);
        goto free_writer;
    }
    /* the format's own option checks run before any file is made */
    if ((st = lt_afile_open(&w->af, path, err)))
        goto free_writer;
    if (f->w_open && (st = f->w_open(w, err))) {
        lt_afile_abort(&w->af);
        goto free_writer;
    }
    *out = w;
    return LT_OK;
free_writer:
    writer_free(w);
    return st;
}

lt_status lt_writer_write(lt_writer *w, const lt_events *ev, lt_err *err)
{
    for (size_t i = 0; i < ev->n; i++) {
        if (ev->p[i] > 1)
            return lt_evw_bad(w, i, ev, "p must be 0 or 1", err);
        lt_status st = w->fmt->w_event(w, ev, i, err);
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
    writer_free(w);
}

lt_status lt_writer_close(lt_writer *w, lt_err *err)
{
    lt_status st = LT_OK;
    if (w->fmt->w_close)
        st = w->fmt->w_close(w, err); /* may still put bytes (a last packet) before the flush */
    if (!st)
        st = lt_evw_flush(w, err);
    if (st) {
        lt_writer_abort(w);
        return st;
    }
    st = lt_afile_commit(&w->af, err);
    writer_free(w);
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
