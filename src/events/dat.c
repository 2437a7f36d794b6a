/* dat.c -- Prophesee DAT decoder (N-Cars, Gen1 automotive; "% Version 2").
 *
 * A file is "% " comment lines (their keys Width, Height, geometry WxH and
 * Version are read when present), then one byte event type and one byte
 * event size, then little-endian 8-byte records:
 *   u32 timestamp (microseconds), u32 with x bits 0-13, y bits 14-27,
 *   polarity bit 28 (bits 29-31 unused).
 * Only 2-D change-detection events (type 0x00 TD or 0x0C CD) of size 8 are
 * read.  A file without comment lines has no type/size bytes either (as
 * Prophesee's own loader assumes for old files) and is only opened when the
 * .dat extension or the caller chose the format; nothing then says it is a
 * DAT file, so its records are checked harder: inside the largest
 * Prophesee sensor (1280x720), polarity bits 29-31 clear, and time never
 * running backwards except across a 32-bit wrap (random bytes named .dat
 * are refused, not decoded).  Timestamps unwrap across 32-bit overflows
 * (reader_priv.h).  A '%' header naming EVT 2.0/3.0 is not DAT (evt.c).
 * Also the DAT encoder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/reader_priv.h"

#define BARE_W 1280 /* the largest Prophesee sensor (IMX636): bounds a DAT file without a header */
#define BARE_H 720

/* A DAT file without a header: the record at i is refused when nothing
 * that DAT can hold explains it (dat.c's header comment). */
static lt_status bare_check(const lt_reader *r, size_t i, uint32_t a, uint32_t ts, uint32_t last, lt_err *err)
{
    uint32_t x = a & 0x3fff, y = (a >> 14) & 0x3fff;
    if (x >= BARE_W || y >= BARE_H)
        return lt_err_set(err, LT_ERR_FORMAT,
                          "%s: byte %llu: record %llu decodes to x %u, y %u, outside any Prophesee sensor (%dx%d) and the "
                          "file has no header; not a DAT recording (give a '%% Width/Height' header or check the format)",
                          r->name, (unsigned long long)lt_evr_off(r, i),
                          (unsigned long long)((lt_evr_off(r, i) - r->data_off) / 8), x, y, BARE_W, BARE_H);
    if (a >> 29)
        return lt_err_set(err, LT_ERR_FORMAT,
                          "%s: byte %llu: record %llu has bits 29-31 set (0x%08x; a DAT polarity is 0 or 1) and the file "
                          "has no header; not a DAT recording",
                          r->name, (unsigned long long)lt_evr_off(r, i),
                          (unsigned long long)((lt_evr_off(r, i) - r->data_off) / 8), a);
    if (ts < last && last - ts <= 0x80000000u)
        return lt_err_set(err, LT_ERR_FORMAT,
                          "%s: byte %llu: record %llu has t %u, %u us before the previous record's, which is not a 32-bit "
                          "wrap (expected time to run forward) and the file has no header; not a DAT recording",
                          r->name, (unsigned long long)lt_evr_off(r, i),
                          (unsigned long long)((lt_evr_off(r, i) - r->data_off) / 8), ts, last - ts);
    return LT_OK;
}

static lt_status decode_dat(lt_reader *r, lt_events *out, size_t k, size_t room, size_t *produced, lt_err *err)
{
    const uint8_t *b = r->buf + r->bpos;
    if (!r->ts_started && k) {
        r->ts_last = lt_evr_le32(b);
        r->ts_started = 1;
    }
    int64_t *T = out->t;
    uint16_t *X = out->x, *Y = out->y;
    uint8_t *P = out->p;
    size_t n = out->n;
    uint64_t hi = r->ts_hi;
    uint32_t last = r->ts_last;
    const uint32_t w = r->info.width ? (uint32_t)r->info.width : 1u << 14;
    const uint32_t h = r->info.height ? (uint32_t)r->info.height : 1u << 14;
    for (size_t i = 0; i < k; i++) {
        uint32_t ts = lt_evr_le32(b + 8 * i), a = lt_evr_le32(b + 8 * i + 4);
        if (r->dat_bare) {
            lt_status st = bare_check(r, i, a, ts, last, err);
            if (st)
                return st;
        }
        if (ts < last && last - ts > 0x80000000u)
            hi += (uint64_t)1 << 32;
        last = ts;
        uint32_t x = a & 0x3fff, y = (a >> 14) & 0x3fff;
        if (x >= w || y >= h)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: event at x %u, y %u is outside the %ux%u sensor the header gives",
                              r->name, (unsigned long long)lt_evr_off(r, i), x, y, w, h);
        T[n] = (int64_t)(hi + ts);
        X[n] = (uint16_t)x;
        Y[n] = (uint16_t)y;
        P[n] = (uint8_t)((a >> 28) & 1);
        n++;
    }
    *produced += k;
    out->n = n;
    r->ts_hi = hi, r->ts_last = last;
    r->bpos += k * 8;
    return LT_OK;
}

/* A positive decimal below 2^16 at s (after spaces); 0 if none. */
static int small_int(const char *s, const char **end)
{
    while (*s == ' ' || *s == '\t')
        s++;
    long v = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9' && v < 65536)
        v = v * 10 + (*p++ - '0');
    if (end)
        *end = p;
    return p == s || v >= 65536 ? 0 : (int)v;
}

static void parse_comment(lt_reader *r, const char *line, int first)
{
    const char *s = line + 1; /* past '%' */
    while (*s == ' ')
        s++;
    const char *end;
    if (!strncmp(s, "Width", 5))
        r->info.width = small_int(s + 5, NULL);
    else if (!strncmp(s, "Height", 6))
        r->info.height = small_int(s + 6, NULL);
    else if (!strncmp(s, "Version", 7))
        r->info.version = small_int(s + 7, NULL);
    else if (!strncmp(s, "geometry", 8)) {
        int w = small_int(s + 8, &end);
        if (w && *end == 'x') {
            int h = small_int(end + 1, NULL);
            if (h)
                r->info.width = w, r->info.height = h;
        }
    } else if (first)
        snprintf(r->info.camera, sizeof r->info.camera, "%.*s", (int)sizeof r->info.camera - 1, s);
}

lt_status lt_evr_percent_line(lt_reader *r, uint64_t off, char *line, size_t cap, uint64_t *next, int *complete,
                              int *found, lt_err *err)
{
    uint8_t c, c2 = '\n';
    int binary;
    lt_status st;
    *found = 0;
    if (off >= r->src.size)
        return LT_OK;
    if ((st = lt_evr_peek(r, off, &c, err)))
        return st;
    if (off + 1 < r->src.size && (st = lt_evr_peek(r, off + 1, &c2, err)))
        return st;
    if (c != '%' || (c2 != ' ' && c2 != '\n' && c2 != '\r'))
        return LT_OK;
    *found = 1;
    return lt_evr_read_line(r, off, line, cap, next, complete, &binary, err);
}

static lt_status open_dat(lt_reader *r, lt_err *err)
{
    char line[256];
    uint64_t off = 0;
    int nlines = 0;
    lt_status st;
    for (;;) {
        uint64_t next;
        int complete, found;
        if ((st = lt_evr_percent_line(r, off, line, sizeof line, &next, &complete, &found, err)))
            return st;
        if (!found)
            break;
        parse_comment(r, line, nlines == 0);
        nlines++;
        off = next;
        if (!complete)
            break;
    }
    if ((r->info.width == 0) != (r->info.height == 0))
        r->info.width = r->info.height = 0; /* half a size is no size */
    r->rec = 8;
    r->data_end = r->src.size;
    r->decode = decode_dat;
    if (nlines == 0) { /* reached by the .dat extension or the caller's choice */
        r->data_off = 0;
        r->dat_bare = 1;
        return LT_OK;
    }
    if (off == r->src.size) {
        r->info.header_only = 1;
        r->data_off = off;
        return LT_OK;
    }
    if (r->src.size - off < 2)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: file ends after the header; expected the event type and size bytes",
                          r->name, (unsigned long long)off);
    uint8_t ts[2];
    if ((st = lt_rsrc_read(&r->src, off, ts, 2, err)))
        return st;
    if (ts[0] != 0x00 && ts[0] != 0x0c)
        return lt_err_set(err, LT_ERR_UNSUPPORTED,
                          "%s: byte %llu: event type 0x%02x (expected 0x00 TD or 0x0c CD 2-D events)", r->name,
                          (unsigned long long)off, ts[0]);
    if (ts[1] != 8)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: event size %u (expected 8)", r->name,
                          (unsigned long long)off + 1, ts[1]);
    r->data_off = off + 2;
    return LT_OK;
}

/* ---- '% ' headers: DAT or EVT ---- */
/* 2 or 3 for a header naming EVT 2.0 or 3.0, 1 for one naming another EVT
 * version or encoding (refused by evt.c, never read as DAT), else 0. */
int lt_evr_prophesee_evt(const uint8_t *head, size_t n)
{
    size_t i = 0;
    while (i + 1 < n && head[i] == '%' && (head[i + 1] == ' ' || head[i + 1] == '\n' || head[i + 1] == '\r')) {
        const uint8_t *nl = memchr(head + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (head + i)) : n - i;
        char line[64];
        size_t m = len < sizeof line - 1 ? len : sizeof line - 1;
        memcpy(line, head + i, m);
        line[m] = 0;
        if (!strncmp(line, "% evt 3.0", 9) || !strncmp(line, "% format EVT3", 13))
            return 3;
        if (!strncmp(line, "% evt 2.0", 9) || !strncmp(line, "% format EVT2;", 14) ||
            (!strncmp(line, "% format EVT2", 13) && (line[13] == 0 || line[13] == '\r')))
            return 2;
        if (!strncmp(line, "% evt ", 6) || !strncmp(line, "% format EVT", 12))
            return 1;
        if (!nl)
            break;
        i += len + 1;
    }
    return 0;
}

static int detect_dat(const uint8_t *head, size_t n)
{
    return n >= 2 && head[0] == '%' && head[1] == ' ' && !lt_evr_prophesee_evt(head, n);
}

/* ---- writer ---- */
static lt_status w_open_dat(lt_writer *w, lt_err *err)
{
    char line[96];
    lt_status st = lt_evw_put_text(w, "% Data file containing Event2D events.\n% Version 2\n", err);
    if (!st && w->w > 0) {
        snprintf(line, sizeof line, "%% Width %d\n%% Height %d\n", w->w, w->h);
        st = lt_evw_put_text(w, line, err);
    }
    const uint8_t type_size[2] = {0x00, 8};
    return st ? st : lt_evw_put(w, type_size, 2, err);
}

static lt_status w_event_dat(lt_writer *w, const lt_events *ev, size_t i, lt_err *err)
{
    uint8_t rec[8];
    uint32_t x = ev->x[i], y = ev->y[i], p = ev->p[i], ts;
    int bw = w->w ? w->w : 1 << 30, bh = w->h ? w->h : 1 << 30;
    if (x >= 1u << 14 || y >= 1u << 14 || (int)x >= bw || (int)y >= bh)
        return lt_evw_bad(w, i, ev, "outside the DAT sensor (x, y < 2^14 and inside the given size)", err);
    if (!lt_evw_wrap_ok(w, ev->t[i], &ts))
        return lt_evw_bad(w, i, ev, "t cannot be stored as a 32-bit DAT timestamp that the reader unwraps back", err);
    lt_evw_le(rec, ts, 4);
    lt_evw_le(rec + 4, p << 28 | y << 14 | x, 4);
    return lt_evw_put(w, rec, 8, err);
}

const lt_evr_format lt_evr_fmt_dat = {
    .id = LT_EVF_DAT,
    .name = "dat",
    .exts = {".dat"},
    .describe = "Prophesee DAT (N-Cars, Gen1), 2-D CD events",
    .detect = detect_dat,
    .open = open_dat,
    .w_open = w_open_dat,
    .w_event = w_event_dat,
};
