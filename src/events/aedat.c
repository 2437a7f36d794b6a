/* aedat.c -- jAER AEDAT 2.0 decoder (header parsing and the two address
 * layouts).  Not for AEDAT 1.0 (16-bit addresses), 3.x or 4.0 (other
 * record layouts): those are refused by version.
 *
 * A file is '#' text lines (any length; they can run to hundreds of KB or
 * stop mid-header), then big-endian records of u32 address, u32 timestamp
 * (microseconds).  The layout comes from the camera the header names:
 *   DVS128: p = bit 0, x = bits 1-7, y = bits 8-14; bit 15 = external
 *           (special) event, skipped; bits 16-31 must be 0.
 *   DAVIS:  y = bits 22-30, x = bits 12-21, p = bit 11; bit 31 (APS / IMU
 *           samples) or bit 10 (special events) set -> skipped.
 * When the header names no known camera, addresses are read as DVS128 and
 * the first one that does not fit (a bit above 15 set) is refused rather
 * than misread.  Timestamps unwrap across 32-bit overflows (reader_priv.h).
 * The CIFAR10-DVS option mirrors x (127 - x) and inverts p on DVS128 data
 * (docs/events.md).  Also the AEDAT 2.0 encoder (DVS128 or DAVIS). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "events/reader_priv.h"

/* Chip names in jAER's "# AEChip:" class names (or hardware lines) and the
 * sensor each implies. */
typedef struct chip_size {
    const char *key;
    int w, h;
} chip_size;

static const chip_size chip_sizes[] = {
    {"DAVIS240", 240, 180}, {"DAVIS346", 346, 260}, {"DAVIS640", 640, 480}, {"DAVIS208", 208, 192},
    {"DAVIS128", 128, 128}, {"DVS128", 128, 128},   {"TMPDIFF128", 128, 128},
};

/* The class name (after the last '.') upper-cased. */
static void chip_key(char *out, size_t cap, const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *s = dot ? dot + 1 : name;
    size_t k = 0;
    for (; *s && k + 1 < cap; s++)
        out[k++] = (char)toupper((unsigned char)*s);
    out[k] = 0;
}

static lt_aedat_layout layout_of(const char *name, int *w, int *h)
{
    char key[128];
    chip_key(key, sizeof key, name);
    *w = *h = 0;
    lt_aedat_layout l = LT_AEDAT_LAYOUT_AUTO;
    if (strstr(key, "DAVIS"))
        l = LT_AEDAT_LAYOUT_DAVIS;
    else if (strstr(key, "DVS128") || strstr(key, "TMPDIFF128"))
        l = LT_AEDAT_LAYOUT_DVS128;
    for (size_t i = 0; l != LT_AEDAT_LAYOUT_AUTO && i < sizeof chip_sizes / sizeof chip_sizes[0]; i++)
        if (strstr(key, chip_sizes[i].key)) {
            *w = chip_sizes[i].w, *h = chip_sizes[i].h;
            break;
        }
    return l;
}

/* "# AEChip: x" -> "x" (spaces trimmed) when line names key; else NULL. */
static const char *header_value(char *line, const char *key)
{
    char *s = line + 1; /* past '#' */
    while (*s == ' ')
        s++;
    size_t n = strlen(key);
    if (strncmp(s, key, n))
        return NULL;
    s += n;
    while (*s == ' ' || *s == ':')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = 0;
    return s;
}

/* ---- decoders ---- */
static inline void ts_start(lt_reader *r, const uint8_t *b, size_t k)
{
    if (!r->ts_started && k) {
        r->ts_last = lt_evr_be32(b + 4);
        r->ts_started = 1;
    }
}

static lt_status decode_dvs128(lt_reader *r, lt_events *out, size_t k, size_t room, size_t *produced, lt_err *err)
{
    const uint8_t *b = r->buf + r->bpos;
    ts_start(r, b, k);
    int64_t *T = out->t;
    uint16_t *X = out->x, *Y = out->y;
    uint8_t *P = out->p;
    size_t n = out->n;
    uint64_t hi = r->ts_hi, special = 0;
    uint32_t last = r->ts_last;
    const uint32_t xflip = r->opts.cifar10dvs_fix ? 127 : 0, pflip = r->opts.cifar10dvs_fix ? 1 : 0;
    for (size_t i = 0; i < k; i++) {
        uint32_t a = lt_evr_be32(b + 8 * i), ts = lt_evr_be32(b + 8 * i + 4);
        if (ts < last && last - ts > 0x80000000u)
            hi += (uint64_t)1 << 32;
        last = ts;
        if (a & 0xffff0000u) {
            if (r->info.layout == LT_AEDAT_LAYOUT_AUTO)
                return lt_err_set(err, LT_ERR_FORMAT,
                                  "%s: byte %llu: address 0x%08x does not fit the DVS128 layout (bits above 15 set) and the "
                                  "header names no known camera; give the layout (dvs128 or davis) if you know it",
                                  r->name, (unsigned long long)lt_evr_off(r, i), a);
            return lt_err_set(err, LT_ERR_FORMAT,
                              "%s: byte %llu: address 0x%08x is not a DVS128 address (expected bits 16-31 zero)", r->name,
                              (unsigned long long)lt_evr_off(r, i), a);
        }
        if (a & 0x8000u) {
            special++;
            continue;
        }
        T[n] = (int64_t)(hi + ts);
        X[n] = (uint16_t)(((a >> 1) & 0x7f) ^ xflip); /* 127 - x for x in 0..127 */
        Y[n] = (uint16_t)((a >> 8) & 0x7f);
        P[n] = (uint8_t)((a & 1) ^ pflip);
        n++;
    }
    *produced += n - out->n;
    out->n = n;
    r->ts_hi = hi, r->ts_last = last;
    r->skip[1] += special;
    r->bpos += k * 8;
    return LT_OK;
}

static lt_status decode_davis(lt_reader *r, lt_events *out, size_t k, size_t room, size_t *produced, lt_err *err)
{
    const uint8_t *b = r->buf + r->bpos;
    ts_start(r, b, k);
    int64_t *T = out->t;
    uint16_t *X = out->x, *Y = out->y;
    uint8_t *P = out->p;
    size_t n = out->n;
    uint64_t hi = r->ts_hi, imu = 0, special = 0;
    uint32_t last = r->ts_last;
    /* unknown sensor: the field widths bound x and y */
    const uint32_t w = r->info.width ? (uint32_t)r->info.width : 1024, h = r->info.height ? (uint32_t)r->info.height : 512;
    for (size_t i = 0; i < k; i++) {
        uint32_t a = lt_evr_be32(b + 8 * i), ts = lt_evr_be32(b + 8 * i + 4);
        if (ts < last && last - ts > 0x80000000u)
            hi += (uint64_t)1 << 32;
        last = ts;
        if (a & 0x80000400u) { /* bit 31: APS/IMU sample, bit 10: special event */
            imu += a >> 31;
            special += !(a >> 31);
            continue;
        }
        uint32_t x = (a >> 12) & 0x3ff, y = (a >> 22) & 0x1ff;
        if (x >= w || y >= h)
            return lt_err_set(err, LT_ERR_FORMAT,
                              "%s: byte %llu: DAVIS address 0x%08x decodes to x %u, y %u, outside the %s sensor %ux%u",
                              r->name, (unsigned long long)lt_evr_off(r, i), a, x, y, r->info.camera, w, h);
        T[n] = (int64_t)(hi + ts);
        X[n] = (uint16_t)x;
        Y[n] = (uint16_t)y;
        P[n] = (uint8_t)((a >> 11) & 1);
        n++;
    }
    *produced += n - out->n;
    out->n = n;
    r->ts_hi = hi, r->ts_last = last;
    r->skip[0] += imu;
    r->skip[1] += special;
    r->bpos += k * 8;
    return LT_OK;
}

/* ---- header ---- */
static lt_status open_aedat(lt_reader *r, lt_err *err)
{
    char line[512], chip[96] = "", hw[96] = "", source[96] = "";
    uint64_t off = 0;
    int nlines = 0, version_line = 0;
    lt_status st;
    while (off < r->src.size) {
        uint8_t c;
        if ((st = lt_evr_peek(r, off, &c, err)))
            return st;
        if (c != '#')
            break;
        uint64_t next;
        int complete, binary;
        if ((st = lt_evr_read_line(r, off, line, sizeof line, &next, &complete, &binary, err)))
            return st;
        /* A '#' that starts a line holding control bytes is a record whose
         * address begins with 0x23 (DAVIS y 140-143), not header text: DVS
         * addresses end in a 0x00 byte.  The record escapes that test only
         * when its byte 1 or 2 is '\n'; such a "line" is at most 3 bytes and
         * would leave the data a non-multiple of 8 bytes, so take it as data
         * when reading it as data fits 8-byte records exactly. */
        if (binary)
            break;
        if (complete && next - off <= 3 && (r->src.size - off) % 8 == 0 && (r->src.size - next) % 8 != 0) {
            uint8_t after = 0;
            if (next < r->src.size && (st = lt_evr_peek(r, next, &after, err)))
                return st;
            if (after != '#')
                break;
        }
        if (nlines == 0 && !strncmp(line, "#!AER-DAT", 9)) {
            const char *v = line + 9;
            if (v[0] != '2' || (v[1] != '.' && v[1] != 0))
                return lt_err_set(err, LT_ERR_UNSUPPORTED,
                                  "%s: byte 0: AEDAT version '%s': only 2.0 is read (1.0, 3.x and 4.0 lay records out differently)",
                                  r->name, v);
            version_line = 1;
        }
        const char *v;
        if ((v = header_value(line, "AEChip")) && !chip[0])
            snprintf(chip, sizeof chip, "%.*s", (int)sizeof chip - 1, v);
        else if ((v = header_value(line, "HardwareInterface")) && !hw[0])
            snprintf(hw, sizeof hw, "%.*s", (int)sizeof hw - 1, v);
        else if ((v = header_value(line, "Source")) && !source[0])
            snprintf(source, sizeof source, "%.*s", (int)sizeof source - 1, v);
        nlines++;
        off = next;
        if (!complete)
            break;
    }
    if (!version_line && !r->forced)
        return lt_err_set(err, LT_ERR_FORMAT,
                          "%s: byte 0: expected the line '#!AER-DAT2.0' (give the format explicitly to read it as AEDAT 2.0)",
                          r->name);
    r->data_off = off;
    r->data_end = r->src.size;
    r->rec = 8;
    r->info.version = 2;
    r->info.header_only = nlines > 0 && off == r->src.size;

    /* Layout: the chip line, else the hardware line, else a Source line;
     * two lines naming different layouts leave it undetermined. */
    int w = 0, h = 0, wk, hk;
    lt_aedat_layout hdr = LT_AEDAT_LAYOUT_AUTO;
    const char *names[3] = {chip, hw, source};
    for (int i = 0; i < 3; i++) {
        if (!names[i][0])
            continue;
        lt_aedat_layout l = layout_of(names[i], &wk, &hk);
        if (l == LT_AEDAT_LAYOUT_AUTO)
            continue;
        if (hdr == LT_AEDAT_LAYOUT_AUTO) {
            hdr = l, w = wk, h = hk;
            snprintf(r->info.camera, sizeof r->info.camera, "%s", names[i]);
        } else if (l != hdr) {
            hdr = LT_AEDAT_LAYOUT_AUTO, w = h = 0;
            break;
        } else if (!w) {
            w = wk, h = hk;
        }
    }
    if (!r->info.camera[0])
        snprintf(r->info.camera, sizeof r->info.camera, "%s", chip[0] ? chip : hw[0] ? hw : source);
    lt_aedat_layout layout = r->opts.aedat_layout != LT_AEDAT_LAYOUT_AUTO ? r->opts.aedat_layout : hdr;
    if (layout != hdr)
        w = h = 0; /* forced against the header: its sensor size does not apply */
    if (layout != LT_AEDAT_LAYOUT_DAVIS)
        w = h = 128; /* DVS128 addresses span 128 x 128 */
    r->info.layout = layout;
    r->info.width = w, r->info.height = h;
    snprintf(r->info.detail, sizeof r->info.detail, "layout %s%s", lt_aedat_layout_name(layout),
             layout == LT_AEDAT_LAYOUT_AUTO ? " (no known camera in the header: read as DVS128, checked)" : "");
    if (layout == LT_AEDAT_LAYOUT_DAVIS && r->opts.cifar10dvs_fix)
        return lt_err_set(err, LT_ERR_ARG, "%s: the CIFAR10-DVS fix applies to DVS128 addresses, not the DAVIS layout",
                          r->name);
    r->decode = layout == LT_AEDAT_LAYOUT_DAVIS ? decode_davis : decode_dvs128;
    lt_evr_skip_kind(r, 0, "IMU/APS words");
    lt_evr_skip_kind(r, 1, "special words");
    return LT_OK;
}

/* "#!AER-DAT" of any version but 4.x (AEDAT 4.0 is its own format; 1.0 and
 * 3.x are refused by open with their version). */
static int detect_aedat2(const uint8_t *head, size_t n)
{
    return n >= 9 && !memcmp(head, "#!AER-DAT", 9) && !(n >= 10 && head[9] == '4');
}

/* ---- writer ---- */
typedef struct davis_chip {
    int w, h;
    const char *chip;
} davis_chip;

static const davis_chip davis_chips[] = {
    {240, 180, "eu.seebetter.ini.chips.davis.DAVIS240C"}, {346, 260, "eu.seebetter.ini.chips.davis.Davis346B"},
    {640, 480, "eu.seebetter.ini.chips.davis.Davis640"},  {208, 192, "eu.seebetter.ini.chips.davis.Davis208"},
    {128, 128, "eu.seebetter.ini.chips.davis.DAVIS128"},
};

static lt_status w_open_aedat(lt_writer *w, lt_err *err)
{
    if (w->layout == LT_AEDAT_LAYOUT_DVS128 && (w->w > 128 || w->h > 128))
        return lt_err_set(err, LT_ERR_ARG, "%s: sensor %dx%d does not fit DVS128 addresses (128x128)", w->af.path,
                          w->w, w->h);
    if (w->layout == LT_AEDAT_LAYOUT_DAVIS && (w->w > 1024 || w->h > 512))
        return lt_err_set(err, LT_ERR_ARG, "%s: sensor %dx%d does not fit DAVIS addresses (1024x512)", w->af.path,
                          w->w, w->h);
    char line[256];
    const char *chip = "ch.unizh.ini.jaer.chip.retina.DVS128";
    if (w->layout == LT_AEDAT_LAYOUT_DAVIS) {
        chip = "eu.seebetter.ini.chips.davis.DAVIS"; /* a DAVIS of unknown size */
        for (size_t i = 0; i < sizeof davis_chips / sizeof davis_chips[0]; i++)
            if (davis_chips[i].w == w->w && davis_chips[i].h == w->h)
                chip = davis_chips[i].chip;
    }
    snprintf(line, sizeof line, "# AEChip: %s\r\n", chip);
    lt_status st = lt_evw_put_text(w, "#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n"
                                      "# Data format is int32 address, int32 timestamp (8 bytes total), repeated for "
                                      "each event\r\n# Timestamps tick is 1 us\r\n# created by ltsnn\r\n", err);
    return st ? st : lt_evw_put_text(w, line, err);
}

static inline void st_be32(uint8_t *q, uint32_t v)
{
    q[0] = (uint8_t)(v >> 24), q[1] = (uint8_t)(v >> 16), q[2] = (uint8_t)(v >> 8), q[3] = (uint8_t)v;
}

static lt_status w_event_aedat(lt_writer *w, const lt_events *ev, size_t i, lt_err *err)
{
    uint8_t rec[8];
    uint32_t x = ev->x[i], y = ev->y[i], p = ev->p[i], ts, a;
    int bw = w->w ? w->w : 1 << 30, bh = w->h ? w->h : 1 << 30;
    if (w->layout == LT_AEDAT_LAYOUT_DAVIS) {
        if (x >= 1024 || y >= 512 || (int)x >= bw || (int)y >= bh)
            return lt_evw_bad(w, i, ev, "outside the DAVIS sensor (x < 1024, y < 512 and inside the given size)", err);
        a = y << 22 | x << 12 | p << 11;
    } else {
        if (x >= 128 || y >= 128 || (int)x >= bw || (int)y >= bh)
            return lt_evw_bad(w, i, ev, "outside the DVS128 sensor (x, y < 128)", err);
        a = y << 8 | x << 1 | p;
    }
    if (!lt_evw_wrap_ok(w, ev->t[i], &ts))
        return lt_evw_bad(w, i, ev, "t cannot be stored as a 32-bit AEDAT timestamp that the reader unwraps back", err);
    st_be32(rec, a);
    st_be32(rec + 4, ts);
    return lt_evw_put(w, rec, 8, err);
}

const lt_evr_format lt_evr_fmt_aedat2 = {
    .id = LT_EVF_AEDAT2,
    .name = "aedat2",
    .aliases = {"aedat"},
    .exts = {".aedat"},
    .describe = "jAER AEDAT 2.0 (DVS128 or DAVIS addresses)",
    .detect = detect_aedat2,
    .open = open_aedat,
    .w_open = w_open_aedat,
    .w_event = w_event_aedat,
};
