/* reader.c -- opening an event recording: format detection, the block loop
 * every format shares, and the NumPy (.npy) event decoder.
 *
 * Detection looks at the first bytes ('#!AER-DAT', '\x93NUMPY', '% '), then
 * at the extension (.bin -> ATIS, .aedat, .dat, .npy); opts.format overrides
 * both.  The per-format header parsers and record decoders are in aedat.c,
 * atis.c and dat.c.  Not for writing (writers.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* ---- npy events: a structured array with t, x, y, p fields ---- */
static int npy_pick(const lt_npy *a, const char *const *names, int n, int *idx, const char **dup)
{
    *idx = -1;
    for (int i = 0; i < n; i++) {
        int k = lt_npy_field_index(a, names[i]);
        if (k < 0)
            continue;
        if (*idx >= 0) {
            *dup = names[i];
            return 0;
        }
        *idx = k;
    }
    return 1;
}

static lt_status npy_decode(lt_reader *r, lt_events *out, size_t k, size_t *produced, lt_err *err)
{
    const uint8_t *raw = r->buf + r->bpos;
    uint64_t row0 = (lt_evr_off(r, 0) - r->data_off) / r->rec;
    size_t n0 = out->n;
    lt_status st = lt_npy_convert_i64(&r->npy, r->f_t, raw, k, out->t + n0, row0, err);
    if (st)
        return st;
    const int fields[3] = {r->f_x, r->f_y, r->f_p};
    for (int f = 0; f < 3; f++) {
        if ((st = lt_npy_convert_i64(&r->npy, fields[f], raw, k, r->tmp, row0, err)))
            return st;
        const int64_t *v = r->tmp;
        if (f < 2) {
            uint16_t *dst = (f == 0 ? out->x : out->y) + n0;
            for (size_t i = 0; i < k; i++) {
                if (v[i] < 0 || v[i] > 65535)
                    return lt_err_set(err, LT_ERR_FORMAT, "%s: row %llu (byte %llu): %s = %lld, expected 0..65535", r->name,
                                      (unsigned long long)(row0 + i), (unsigned long long)lt_evr_off(r, i),
                                      r->npy.fields[fields[f]].name, (long long)v[i]);
                dst[i] = (uint16_t)v[i];
            }
        } else {
            uint8_t *dst = out->p + n0;
            for (size_t i = 0; i < k; i++) {
                /* -1/+1 polarity (some converters write it) is OFF/ON */
                if (v[i] < -1 || v[i] > 1)
                    return lt_err_set(err, LT_ERR_FORMAT, "%s: row %llu (byte %llu): %s = %lld, expected 0 or 1 (or -1 for OFF)",
                                      r->name, (unsigned long long)(row0 + i), (unsigned long long)lt_evr_off(r, i),
                                      r->npy.fields[fields[f]].name, (long long)v[i]);
                dst[i] = v[i] == 1;
            }
        }
    }
    out->n += k;
    *produced += k;
    r->bpos += k * r->rec;
    return LT_OK;
}

static lt_status open_npy(lt_reader *r, lt_err *err)
{
    lt_status st = r->mem ? lt_npy_open_mem(&r->npy, r->mem, r->mem_len, r->name, err)
                          : lt_npy_open(&r->npy, r->name, err);
    if (st)
        return st;
    const lt_npy *a = &r->npy;
    char desc[512];
    lt_npy_describe(a, desc, sizeof desc);
    if (!a->structured || a->ndim != 1)
        return lt_err_set(err, LT_ERR_FORMAT,
                          "%s: npy %s: expected a 1-D structured array with fields t (or ts, timestamp), x, y, p (or polarity)",
                          r->name, desc);
    static const char *const tn[] = {"t", "ts", "timestamp"}, *const xn[] = {"x"}, *const yn[] = {"y"},
                             *const pn[] = {"p", "polarity"};
    const char *dup = NULL;
    if (!npy_pick(a, tn, 3, &r->f_t, &dup) || !npy_pick(a, pn, 2, &r->f_p, &dup))
        return lt_err_set(err, LT_ERR_FORMAT, "%s: npy %s: two fields could be the %s field (ambiguous)", r->name, desc,
                          dup[0] == 'p' ? "polarity" : "timestamp");
    npy_pick(a, xn, 1, &r->f_x, &dup);
    npy_pick(a, yn, 1, &r->f_y, &dup);
    const char *missing = r->f_t < 0 ? "t (or ts, timestamp)" : r->f_x < 0 ? "x" : r->f_y < 0 ? "y"
                        : r->f_p < 0 ? "p (or polarity)" : NULL;
    if (missing)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: npy %s: no field %s", r->name, desc, missing);
    const int f4[4] = {r->f_t, r->f_x, r->f_y, r->f_p};
    for (int i = 0; i < 4; i++) {
        char kd = a->fields[f4[i]].kind;
        if (kd != 'b' && kd != 'i' && kd != 'u' && kd != 'f')
            return lt_err_set(err, LT_ERR_FORMAT, "%s: npy field '%s' is not numeric", r->name, a->fields[f4[i]].name);
    }
    if (a->itemsize > 65536)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: npy records of %llu bytes (at most 65536 for events)", r->name,
                          (unsigned long long)a->itemsize);
    r->rec = (size_t)a->itemsize;
    r->data_off = a->data_offset;
    r->data_end = r->src.size;
    r->tmp = malloc((LT_EVR_BLOCK / r->rec + 1) * sizeof *r->tmp);
    if (!r->tmp)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", r->name);
    r->info.version = a->major;
    r->decode = npy_decode;
    return LT_OK;
}

/* ---- detection ---- */
static const char *extension(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash : name, '.');
    return dot ? dot : "";
}

static lt_status detect(lt_reader *r, lt_ev_format *fmt, lt_err *err)
{
    uint8_t head[16] = {0};
    size_t n = r->src.size < sizeof head ? (size_t)r->src.size : sizeof head;
    lt_status st = lt_rsrc_read(&r->src, 0, head, n, err);
    if (st)
        return st;
    if (n >= 9 && !memcmp(head, "#!AER-DAT", 9))
        *fmt = LT_EVF_AEDAT2;
    else if (n >= 6 && !memcmp(head, "\x93NUMPY", 6))
        *fmt = LT_EVF_NPY;
    else if (n >= 2 && head[0] == '%' && head[1] == ' ')
        *fmt = LT_EVF_DAT;
    else {
        const char *ext = extension(r->name);
        if (!strcasecmp(ext, ".bin"))
            *fmt = LT_EVF_ATIS_BIN;
        else if (!strcasecmp(ext, ".aedat"))
            *fmt = LT_EVF_AEDAT2;
        else if (!strcasecmp(ext, ".dat"))
            *fmt = LT_EVF_DAT;
        else if (!strcasecmp(ext, ".npy"))
            *fmt = LT_EVF_NPY;
        else
            return lt_err_set(err, LT_ERR_FORMAT,
                              "%s: byte 0: cannot tell the event format: no '#!AER-DAT', '%% ' or '\\x93NUMPY' header and "
                              "the extension '%s' is not .bin/.aedat/.dat/.npy (give the format explicitly)",
                              r->name, ext);
    }
    return LT_OK;
}

static lt_status open_common(lt_reader *r, const lt_reader_opts *opts, lt_err *err)
{
    lt_status st;
    r->name = r->src.name;
    if (opts)
        r->opts = *opts;
    if ((unsigned)r->opts.format > LT_EVF_NPY)
        return lt_err_set(err, LT_ERR_ARG, "%s: unknown reader format %d", r->name, (int)r->opts.format);
    if ((unsigned)r->opts.aedat_layout > LT_AEDAT_LAYOUT_DAVIS)
        return lt_err_set(err, LT_ERR_ARG, "%s: unknown AEDAT layout %d", r->name, (int)r->opts.aedat_layout);
    lt_ev_format fmt = r->opts.format;
    r->forced = fmt != LT_EVF_AUTO;
    if (!r->forced && (st = detect(r, &fmt, err)))
        return st;
    if (r->opts.cifar10dvs_fix && fmt != LT_EVF_AEDAT2)
        return lt_err_set(err, LT_ERR_ARG, "%s: the CIFAR10-DVS fix applies to AEDAT (DVS128) files, not %s", r->name,
                          lt_ev_format_name(fmt));
    r->info.format = fmt;
    r->bufcap = r->src.size < LT_EVR_BLOCK ? (size_t)r->src.size + 1 : LT_EVR_BLOCK;
    r->buf = malloc(r->bufcap);
    if (!r->buf)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", r->name);
    switch (fmt) {
    case LT_EVF_AEDAT2: st = lt_evr_open_aedat(r, err); break;
    case LT_EVF_ATIS_BIN: st = lt_evr_open_atis(r, err); break;
    case LT_EVF_DAT: st = lt_evr_open_dat(r, err); break;
    case LT_EVF_NPY: st = open_npy(r, err); break;
    default: st = lt_err_set(err, LT_ERR_ARG, "%s: no format", r->name); break;
    }
    if (st)
        return st;
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
    while (*got < max) {
        if (r->bpos == r->blen) {
            if (r->next_off >= r->data_end)
                break;
            if ((st = load_block(r, err)))
                goto fail;
        }
        size_t k = (r->blen - r->bpos) / r->rec;
        if (k > max - *got)
            k = max - *got;
        if ((st = lt_events_reserve(out, out->n + k, err)))
            goto fail;
        if ((st = r->decode(r, out, k, got, err)))
            goto fail;
    }
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

uint64_t lt_reader_skipped(const lt_reader *r) { return r->skipped; }

lt_status lt_events_read_file(lt_events *out, const char *path, const lt_reader_opts *opts, lt_err *err)
{
    lt_reader *r;
    lt_status st = lt_reader_open(&r, path, opts, err);
    if (st)
        return st;
    size_t n0 = out->n, got;
    /* Reserve what the record count promises (at most: skipped words shrink it). */
    if (r->info.records < SIZE_MAX / 16 && (st = lt_events_reserve(out, n0 + (size_t)r->info.records, err)))
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
