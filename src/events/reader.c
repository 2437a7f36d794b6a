/* reader.c -- opening an event recording: format detection from the
 * table's detectors (then the extension; opts.format overrides both), the
 * call loop every format shares, the record loop of the fixed-record
 * formats, and the header-line helpers.  The formats themselves are one
 * file each (formats.c lists them).  Not for writing (writers.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/reader_priv.h"

/* ---- header lines, served from r->buf ---- */
static lt_status cache_at(lt_reader *r, uint64_t pos, lt_err *err)
{
    if (pos >= r->buf_off && pos < r->buf_off + r->blen)
        return LT_OK;
    uint64_t left = r->src.size - pos;
    size_t n = left < r->bufcap ? (size_t)left : r->bufcap;
    lt_status st = lt_rsrc_read(&r->src, pos, r->buf, n, err);
    if (st)
        return st;
    r->buf_off = pos, r->blen = n;
    return LT_OK;
}

lt_status lt_evr_peek(lt_reader *r, uint64_t off, uint8_t *byte, lt_err *err)
{
    lt_status st = cache_at(r, off, err);
    if (!st)
        *byte = r->buf[off - r->buf_off];
    return st;
}

lt_status lt_evr_read_line(lt_reader *r, uint64_t off, char *line, size_t cap, uint64_t *next, int *complete,
                           int *binary, lt_err *err)
{
    size_t kept = 0;
    *complete = 0, *binary = 0;
    uint64_t pos = off;
    while (pos < r->src.size) {
        lt_status st = cache_at(r, pos, err);
        if (st)
            return st;
        const uint8_t *b = r->buf + (pos - r->buf_off);
        size_t avail = (size_t)(r->buf_off + r->blen - pos);
        const uint8_t *nl = memchr(b, '\n', avail);
        size_t upto = nl ? (size_t)(nl - b) : avail;
        for (size_t i = 0; i < upto; i++) {
            uint8_t c = b[i];
            if (c < 0x20 && c != '\t' && c != '\r')
                *binary = 1;
            if (kept + 1 < cap)
                line[kept++] = (char)c;
        }
        pos += upto;
        if (nl) {
            pos++;
            *complete = 1;
            break;
        }
    }
    while (kept && line[kept - 1] == '\r')
        kept--;
    if (cap)
        line[kept] = 0;
    *next = pos;
    return LT_OK;
}

/* ---- detection ---- */
static lt_status detect(lt_reader *r, const lt_evr_format **fmt, lt_err *err)
{
    size_t n = r->src.size < LT_EVR_HEAD ? (size_t)r->src.size : LT_EVR_HEAD;
    uint8_t *head = malloc(n ? n : 1);
    if (!head)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", r->name);
    lt_status st = lt_rsrc_read(&r->src, 0, head, n, err);
    *fmt = NULL;
    for (size_t i = 0; !st && lt_evr_format_at(i); i++) {
        const lt_evr_format *f = lt_evr_format_at(i);
        if (f->detect && f->detect(head, n)) {
            *fmt = f;
            break;
        }
    }
    free(head);
    if (st || *fmt)
        return st;
    lt_ev_format by_ext = lt_ev_format_from_ext(r->name);
    if (by_ext != LT_EVF_AUTO) {
        *fmt = lt_evr_format_of(by_ext);
        return LT_OK;
    }
    char list[512];
    lt_ev_format_list(list, sizeof list);
    const char *slash = strrchr(r->name, '/');
    const char *dot = strrchr(slash ? slash : r->name, '.');
    return lt_err_set(err, LT_ERR_FORMAT,
                      "%s: byte 0: cannot tell the event format: no known header ('#!AER-DAT', '%% ' lines, "
                      "'\\x93NUMPY') and the extension '%s' names none of %s (give the format explicitly)",
                      r->name, dot ? dot : "", list);
}

static lt_status open_common(lt_reader *r, const lt_reader_opts *opts, lt_err *err)
{
    lt_status st;
    r->name = r->src.name;
    if (opts)
        r->opts = *opts;
    if (r->opts.format != LT_EVF_AUTO && !lt_evr_format_of(r->opts.format))
        return lt_err_set(err, LT_ERR_ARG, "%s: unknown reader format %d", r->name, (int)r->opts.format);
    if ((unsigned)r->opts.aedat_layout > LT_AEDAT_LAYOUT_DAVIS)
        return lt_err_set(err, LT_ERR_ARG, "%s: unknown AEDAT layout %d", r->name, (int)r->opts.aedat_layout);
    if (r->opts.aedat4_stream < 0)
        return lt_err_set(err, LT_ERR_ARG, "%s: AEDAT 4.0 stream %d: expected 1 + a stream id, or 0", r->name,
                          r->opts.aedat4_stream);
    r->forced = r->opts.format != LT_EVF_AUTO;
    r->bufcap = r->src.size < LT_EVR_BLOCK ? (size_t)r->src.size + 1 : LT_EVR_BLOCK;
    r->buf = malloc(r->bufcap);
    if (!r->buf)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", r->name);
    const lt_evr_format *f = r->forced ? lt_evr_format_of(r->opts.format) : NULL;
    if (!f && (st = detect(r, &f, err)))
        return st;
    r->fmt = f;
    if (r->opts.cifar10dvs_fix && f->id != LT_EVF_AEDAT2)
        return lt_err_set(err, LT_ERR_ARG, "%s: the CIFAR10-DVS fix applies to AEDAT (DVS128) files, not %s", r->name,
                          f->name);
    if (r->opts.aedat4_stream && f->id != LT_EVF_AEDAT4)
        return lt_err_set(err, LT_ERR_ARG, "%s: a stream choice applies to AEDAT 4.0 files, not %s", r->name, f->name);
    r->info.format = f->id;
    if (r->src.size == 0 && !f->empty_ok)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte 0: the file is empty; a %s file holds at least a header", r->name,
                          f->name);
    r->per_rec = 1;
    if ((st = f->open(r, err)))
        return st;
    if (r->next) /* the format reads its own way (AEDAT 4.0) */
        return LT_OK;
    uint64_t span = r->data_end - r->data_off;
    if (span % r->rec)
        return lt_err_set(err, LT_ERR_FORMAT,
                          "%s: byte %llu: trailing partial record of %llu bytes (the data after the %llu-byte header is "
                          "%llu bytes, expected a multiple of %zu)",
                          r->name, (unsigned long long)(r->data_end - span % r->rec), (unsigned long long)(span % r->rec),
                          (unsigned long long)r->data_off, (unsigned long long)span, r->rec);
    r->info.header_bytes = r->data_off;
    r->info.records = span / r->rec;
    r->next_off = r->data_off;
    r->blen = r->bpos = 0;
    r->buf_off = r->data_off;
    r->next = lt_evr_next_records;
    if (r->rec > r->bufcap) { /* a record larger than a small file cannot hold data; stay safe anyway */
        uint8_t *nb = realloc(r->buf, r->rec);
        if (!nb)
            return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", r->name);
        r->buf = nb, r->bufcap = r->rec;
    }
    return LT_OK;
}

lt_status lt_reader_open(lt_reader **out, const char *path, const lt_reader_opts *opts, lt_err *err)
{
    *out = NULL;
    lt_reader *r = calloc(1, sizeof *r);
    if (!r)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", path);
    lt_status st = lt_rsrc_open(&r->src, path, err);
    if (!st)
        st = open_common(r, opts, err);
    if (st) {
        lt_reader_close(r);
        return st;
    }
    *out = r;
    return LT_OK;
}

lt_status lt_reader_open_mem(lt_reader **out, const void *data, size_t len, const char *name,
                             const lt_reader_opts *opts, lt_err *err)
{
    *out = NULL;
    lt_reader *r = calloc(1, sizeof *r);
    if (!r)
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory");
    r->mem = data, r->mem_len = len;
    lt_status st = lt_rsrc_open_mem(&r->src, data, len, name, err);
    if (!st)
        st = open_common(r, opts, err);
    if (st) {
        lt_reader_close(r);
        return st;
    }
    *out = r;
    return LT_OK;
}

/* Load the next block of whole records into r->buf. */
static lt_status load_block(lt_reader *r, lt_err *err)
{
    uint64_t left = r->data_end - r->next_off;
    size_t per = LT_EVR_BLOCK / r->rec;
    if (per == 0)
        per = 1;
    uint64_t want = (uint64_t)per * r->rec;
    size_t n = (size_t)(left < want ? left : want);
    lt_status st = lt_rsrc_read(&r->src, r->next_off, r->buf, n, err);
    if (st)
        return st;
    r->buf_off = r->next_off;
    r->next_off += n;
    r->blen = n, r->bpos = 0;
    return LT_OK;
}

lt_status lt_evr_next_records(lt_reader *r, lt_events *out, size_t room, size_t *produced, lt_err *err)
{
    lt_status st;
    if (r->bpos == r->blen && !r->pending) {
        if (r->next_off >= r->data_end) {
            r->eof = 1;
            return LT_OK;
        }
        if ((st = load_block(r, err)))
            return st;
    }
    size_t k = (r->blen - r->bpos) / r->rec;
    size_t want;
    if (r->per_rec == 1) {
        if (k > room)
            k = room;
        want = k;
    } else {
        want = k > (SIZE_MAX - r->pending) / r->per_rec ? SIZE_MAX : k * r->per_rec + r->pending;
        if (want > room)
            want = room;
    }
    if ((st = lt_events_reserve(out, out->n + want, err)))
        return st;
    return r->decode(r, out, k, want, produced, err);
}

lt_status lt_reader_next(lt_reader *r, lt_events *out, size_t max, size_t *got, lt_err *err)
{
    *got = 0;
    if (r->failed) {
        lt_err_set(err, r->failed, "%s", r->failmsg);
        return r->failed;
    }
    if (max == 0)
        return lt_err_set(err, LT_ERR_ARG, "%s: lt_reader_next with max = 0", r->name);
    size_t n0 = out->n;
    lt_status st = LT_OK;
    while (*got < max && !r->eof)
        if ((st = r->next(r, out, max - *got, got, err)))
            goto fail;
    if (*got == 0)
        return lt_err_set(err, LT_ERR_EOF, "%s: end of events", r->name);
    return LT_OK;
fail:
    out->n = n0;
    *got = 0;
    r->failed = st;
    if (err)
        memcpy(r->failmsg, err->msg, sizeof r->failmsg);
    else
        snprintf(r->failmsg, sizeof r->failmsg, "%s: %s", r->name, lt_status_str(st));
    return st;
}

void lt_reader_close(lt_reader *r)
{
    if (!r)
        return;
    if (r->fmt && r->fmt->close)
        r->fmt->close(r);
    lt_npy_close(&r->npy);
    lt_rsrc_close(&r->src);
    free(r->buf);
    free(r->tmp);
    free(r);
}

lt_ev_format lt_reader_format(const lt_reader *r) { return r->info.format; }

void lt_reader_sensor(const lt_reader *r, int *width, int *height)
{
    *width = r->info.width;
    *height = r->info.height;
}

void lt_reader_get_info(const lt_reader *r, lt_reader_info *info) { *info = r->info; }

uint64_t lt_reader_skipped(const lt_reader *r)
{
    uint64_t n = 0;
    for (int k = 0; k < LT_EVR_SKIP_KINDS; k++)
        n += r->skip[k];
    return n;
}

void lt_reader_get_skips(const lt_reader *r, lt_reader_skips *s)
{
    memset(s, 0, sizeof *s);
    for (int k = 0; k < LT_EVR_SKIP_KINDS; k++)
        if (r->skip_what[k]) {
            s->what[s->n] = r->skip_what[k];
            s->count[s->n++] = r->skip[k];
        }
}

lt_status lt_events_read_file(lt_events *out, const char *path, const lt_reader_opts *opts, lt_err *err)
{
    lt_reader *r;
    lt_status st = lt_reader_open(&r, path, opts, err);
    if (st)
        return st;
    size_t n0 = out->n, got;
    /* Reserve what the record count promises (at most, for one-event records: skipped words shrink it). */
    if (r->per_rec == 1 && r->info.records < SIZE_MAX / 16 &&
        (st = lt_events_reserve(out, n0 + (size_t)r->info.records, err)))
        goto close_reader;
    while ((st = lt_reader_next(r, out, (size_t)1 << 20, &got, err)) == LT_OK)
        ;
    if (st == LT_ERR_EOF)
        st = LT_OK;
    else
        out->n = n0;
close_reader:
    lt_reader_close(r);
    return st;
}
