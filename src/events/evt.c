/* evt.c -- Prophesee Metavision .raw files: EVT 2.0 (32-bit words) and
 * EVT 3.0 (16-bit vectorised words), little-endian, after a '% ' text
 * header ("% evt 2.0" / "% evt 3.0", "% format EVT3;width=..;height=..",
 * "% geometry WxH", ended by "% end" or the first line without '%').  Two
 * rows, one header parser; also the EVT 2.0 encoder.  Not for EVT 2.1, EVT
 * 4.0 or event-frame .raw files (refused by the header).
 *
 * EVT 2.0 (word type in bits 31-28):
 *   0x0 CD_OFF / 0x1 CD_ON: t bits 5-0 in 27-22, x in 21-11, y in 10-0
 *   0x8 TIME_HIGH: t bits 33-6 in 27-0
 *   0xA EXT_TRIGGER, 0xE OTHERS, 0xF CONTINUED: skipped and counted
 *   t = W + 64 * TIME_HIGH + lsb; W grows by 2^34 when a TIME_HIGH drops
 *   by more than half its range (2^27) below the previous one.
 * EVT 3.0 (type in bits 15-12):
 *   0x0 ADDR_Y (y in 10-0), 0x2 ADDR_X (p in 11, x in 10-0: one event),
 *   0x3 VECT_BASE_X (p in 11, x in 10-0), 0x4 VECT_12 / 0x5 VECT_8 (one
 *   event at base_x + i per set bit i, then base_x += 12 / 8),
 *   0x6 TIME_LOW (t bits 11-0), 0x8 TIME_HIGH (t bits 23-12),
 *   0xA EXT_TRIGGER, 0xE OTHERS, 0x7 CONTINUED_4, 0xF CONTINUED_12: skipped.
 *   The time rule (docs/events.md "EVT 3.0 time"): each of TIME_HIGH and
 *   TIME_LOW replaces its own 12 bits of the time base and nothing else;
 *   t = W + 4096 * TIME_HIGH + TIME_LOW, W growing by 2^24 when a TIME_HIGH
 *   drops by more than 2048 below the previous one.  A TIME_LOW smaller
 *   than the last one is not a carry.
 * Other word types are reserved by the specification and refused.  Events
 * before the first TIME_HIGH (or, in EVT 3.0, before their row or vector
 * base) have no defined time or place: they are skipped and counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/reader_priv.h"

/* Sensors of the plugins a header may name without giving a size. */
static const struct {
    const char *key;
    int w, h;
} plugin_sizes[] = {
    {"imx636", 1280, 720}, {"gen41", 1280, 720}, {"gen4", 1280, 720}, {"imx8", 320, 320}, {"genx320", 320, 320},
    {"gen31", 640, 480},   {"gen3", 640, 480},
};

/* "name=value" inside "% format EVT3;height=720;width=1280". */
static int format_param(const char *s, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = strchr(s, ';'); p; p = strchr(p + 1, ';'))
        if (!strncmp(p + 1, key, n) && p[1 + n] == '=') {
            long v = strtol(p + 2 + n, NULL, 10);
            return v > 0 && v <= 65536 ? (int)v : 0;
        }
    return 0;
}

/* Parse the header: set data_off, version (2 or 3, 0 if none), sensor, camera, detail. */
static lt_status parse_header(lt_reader *r, int *version, lt_err *err)
{
    char line[256];
    uint64_t off = 0;
    lt_status st;
    int fw = 0, fh = 0, gw = 0, gh = 0;
    char plugin[96] = "";
    *version = 0;
    for (;;) {
        uint64_t next;
        int complete, found;
        if ((st = lt_evr_percent_line(r, off, line, sizeof line, &next, &complete, &found, err)))
            return st;
        if (!found)
            break;
        if (!complete)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: the file ends inside its '%%' header line", r->name,
                              (unsigned long long)off);
        off = next;
        const char *s = line + 1;
        while (*s == ' ')
            s++;
        if (!strcmp(s, "end"))
            break;
        if (!strncmp(s, "evt ", 4)) {
            const char *v = s + 4;
            if (!strcmp(v, "2.0"))
                *version = 2;
            else if (!strcmp(v, "3.0"))
                *version = 3;
            else
                return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: header line '%s': EVT %s is not read (EVT 2.0 and 3.0 are)",
                                  r->name, line, v);
        } else if (!strncmp(s, "format ", 7)) {
            const char *v = s + 7;
            if (!strncmp(v, "EVT3", 4) && (v[4] == 0 || v[4] == ';'))
                *version = 3;
            else if (!strncmp(v, "EVT2", 4) && (v[4] == 0 || v[4] == ';'))
                *version = 2;
            else
                return lt_err_set(err, LT_ERR_UNSUPPORTED,
                                  "%s: header line '%s': only the EVT2 and EVT3 encodings are read", r->name, line);
            fw = format_param(v, "width"), fh = format_param(v, "height");
            snprintf(r->info.detail, sizeof r->info.detail, "format %.*s", (int)sizeof r->info.detail - 8, v);
        } else if (!strncmp(s, "geometry ", 9)) {
            if (sscanf(s + 9, "%dx%d", &gw, &gh) != 2)
                gw = gh = 0;
        } else if (!strncmp(s, "plugin_name ", 12) && !plugin[0]) {
            snprintf(plugin, sizeof plugin, "%.*s", (int)sizeof plugin - 1, s + 12);
        } else if ((!strncmp(s, "camera_integrator_name ", 23) || !strncmp(s, "integrator_name ", 16)) &&
                   !r->info.camera[0]) {
            snprintf(r->info.camera, sizeof r->info.camera, "%.*s", (int)sizeof r->info.camera - 1, strchr(s, ' ') + 1);
        }
    }
    int w = fw > 0 && fh > 0 ? fw : gw, h = fw > 0 && fh > 0 ? fh : gh;
    for (size_t i = 0; w <= 0 && plugin[0] && i < sizeof plugin_sizes / sizeof plugin_sizes[0]; i++)
        if (strstr(plugin, plugin_sizes[i].key))
            w = plugin_sizes[i].w, h = plugin_sizes[i].h;
    if (w <= 0 || h <= 0 || w > 2048 || h > 2048)
        w = h = 0;
    r->info.width = w, r->info.height = h;
    if (plugin[0]) {
        size_t n = strlen(r->info.camera);
        snprintf(r->info.camera + n, sizeof r->info.camera - n, "%s%s", n ? ", " : "", plugin);
    }
    r->data_off = off;
    r->data_end = r->src.size;
    r->info.header_only = off > 0 && off == r->src.size;
    r->evt.w = w ? (uint32_t)w : 2048;
    r->evt.h = h ? (uint32_t)h : 2048;
    return LT_OK;
}

static lt_status open_evt(lt_reader *r, int want, lt_err *err)
{
    int version;
    lt_status st = parse_header(r, &version, err);
    if (st)
        return st;
    if (version && version != want)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte 0: the header says EVT %d.0, not EVT %d.0", r->name, version,
                          want);
    if (!version && !r->forced)
        return lt_err_set(err, LT_ERR_FORMAT,
                          "%s: byte 0: expected a '%% evt %d.0' (or '%% format EVT%d') header line; give the format "
                          "explicitly to read a file without one",
                          r->name, want, want);
    r->info.version = want;
    r->rec = want == 2 ? 4 : 2;
    lt_evr_skip_kind(r, 0, "EXT_TRIGGER words");
    lt_evr_skip_kind(r, 1, "OTHERS words");
    lt_evr_skip_kind(r, 2, "CONTINUED words");
    lt_evr_skip_kind(r, 3, want == 2 ? "CD words before the first TIME_HIGH"
                                     : "events before the first TIME_HIGH, row or vector base");
    return LT_OK;
}

static lt_status outside(const lt_reader *r, uint64_t off, uint32_t x, uint32_t y, lt_err *err)
{
    return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: event at x %u, y %u is outside the %ux%u sensor%s", r->name,
                      (unsigned long long)off, x, y, r->evt.w, r->evt.h,
                      r->info.width ? " the header gives" : " (EVT addresses are 11 bits)");
}

static lt_status reserved(const lt_reader *r, uint64_t off, unsigned type, unsigned word, int version, lt_err *err)
{
    return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: word 0x%0*x has type 0x%x, which EVT %d.0 reserves "
                      "(expected an event, time, trigger or OTHERS word)",
                      r->name, (unsigned long long)off, version == 2 ? 8 : 4, word, type, version);
}

/* ---- EVT 2.0 ---- */
static lt_status decode_evt2(lt_reader *r, lt_events *out, size_t k, size_t room, size_t *produced, lt_err *err)
{
    const uint8_t *b = r->buf + r->bpos;
    int64_t *T = out->t;
    uint16_t *X = out->x, *Y = out->y;
    uint8_t *P = out->p;
    size_t n = out->n;
    uint64_t wraps = r->evt.wraps, base = wraps + ((uint64_t)r->evt.high << 6);
    uint32_t high = r->evt.high;
    int have = r->evt.have_high;
    const uint32_t W = r->evt.w, H = r->evt.h;
    lt_status st = LT_OK;
    size_t i;
    for (i = 0; i < k; i++) {
        uint32_t w = lt_evr_le32(b + 4 * i), type = w >> 28;
        if (type <= 1) {
            if (!have) {
                r->skip[3]++;
                continue;
            }
            uint32_t x = (w >> 11) & 0x7ff, y = w & 0x7ff;
            if (x >= W || y >= H) {
                st = outside(r, lt_evr_off(r, i), x, y, err);
                break;
            }
            T[n] = (int64_t)(base + ((w >> 22) & 63));
            X[n] = (uint16_t)x;
            Y[n] = (uint16_t)y;
            P[n] = (uint8_t)type;
            n++;
        } else if (type == 0x8) {
            uint32_t v = w & 0x0fffffff;
            if (have && v < high && high - v > (1u << 27))
                wraps += (uint64_t)1 << 34;
            high = v, have = 1;
            base = wraps + ((uint64_t)v << 6);
        } else if (type == 0xA) {
            r->skip[0]++;
        } else if (type == 0xE) {
            r->skip[1]++;
        } else if (type == 0xF) {
            r->skip[2]++;
        } else {
            st = reserved(r, lt_evr_off(r, i), type, w, 2, err);
            break;
        }
    }
    if (st)
        return st;
    *produced += n - out->n;
    out->n = n;
    r->evt.wraps = wraps, r->evt.high = high, r->evt.have_high = have;
    r->bpos += k * 4;
    return LT_OK;
}

static lt_status open_evt2(lt_reader *r, lt_err *err)
{
    lt_status st = open_evt(r, 2, err);
    r->decode = decode_evt2;
    return st;
}

/* ---- EVT 3.0 ---- */

/* Emit the set bits of the pending vector (r->evt.vec_mask at vec_x) while room lasts. */
static inline size_t emit_vector(lt_reader *r, lt_events *out, size_t n, size_t limit, int64_t t, uint64_t off,
                                 lt_status *st, lt_err *err)
{
    uint32_t m = r->evt.vec_mask;
    while (m && n < limit) {
        uint32_t bit = (uint32_t)__builtin_ctz(m);
        uint32_t x = r->evt.vec_x + bit;
        if (x >= r->evt.w || r->evt.y >= r->evt.h) {
            *st = outside(r, off, x, r->evt.y, err);
            return n;
        }
        out->t[n] = t;
        out->x[n] = (uint16_t)x;
        out->y[n] = (uint16_t)r->evt.y;
        out->p[n] = (uint8_t)r->evt.pol;
        n++;
        m &= m - 1;
    }
    r->evt.vec_mask = m;
    r->pending = (size_t)__builtin_popcount(m);
    return n;
}

static lt_status decode_evt3(lt_reader *r, lt_events *out, size_t k, size_t room, size_t *produced, lt_err *err)
{
    const uint8_t *b = r->buf + r->bpos;
    const size_t n0 = out->n, limit = n0 + room;
    size_t n = n0, i = 0;
    lt_status st = LT_OK;
    uint64_t wraps = r->evt.wraps;
    int64_t t = (int64_t)(wraps + ((uint64_t)r->evt.high << 12) + r->evt.low);
    if (r->evt.vec_mask) /* a vector left half-emitted by the last call (its word is consumed) */
        n = emit_vector(r, out, n, limit, t, lt_evr_off(r, 0) - 2, &st, err);
    for (; !st && i < k && n < limit; i++) {
        uint32_t w = lt_evr_le16(b + 2 * i), type = w >> 12, v = w & 0xfff;
        switch (type) {
        case 0x0: /* ADDR_Y */
            r->evt.y = v & 0x7ff, r->evt.have_y = 1;
            break;
        case 0x2: { /* ADDR_X: one event */
            uint32_t x = v & 0x7ff;
            if (!r->evt.have_high || !r->evt.have_y) {
                r->skip[3]++;
                break;
            }
            if (x >= r->evt.w || r->evt.y >= r->evt.h) {
                st = outside(r, lt_evr_off(r, i), x, r->evt.y, err);
                break;
            }
            out->t[n] = t;
            out->x[n] = (uint16_t)x;
            out->y[n] = (uint16_t)r->evt.y;
            out->p[n] = (uint8_t)(v >> 11);
            n++;
            break;
        }
        case 0x3: /* VECT_BASE_X */
            r->evt.base_x = v & 0x7ff, r->evt.pol = v >> 11, r->evt.have_base = 1;
            break;
        case 0x4: /* VECT_12 */
        case 0x5: { /* VECT_8 */
            uint32_t width = type == 0x4 ? 12 : 8, m = type == 0x4 ? v : v & 0xff;
            if (!r->evt.have_high || !r->evt.have_y || !r->evt.have_base) {
                r->skip[3] += (uint64_t)__builtin_popcount(m);
            } else if (m) {
                r->evt.vec_mask = m, r->evt.vec_x = r->evt.base_x;
                n = emit_vector(r, out, n, limit, t, lt_evr_off(r, i), &st, err);
            }
            if (r->evt.base_x < 0x10000) /* past any sensor already; never wraps back into one */
                r->evt.base_x += width;
            break;
        }
        case 0x6: /* TIME_LOW: its own 12 bits only */
            r->evt.low = v;
            t = (int64_t)(wraps + ((uint64_t)r->evt.high << 12) + v);
            break;
        case 0x8: /* TIME_HIGH: its own 12 bits only; a large drop is the 24-bit wrap */
            if (r->evt.have_high && v < r->evt.high && r->evt.high - v > 2048)
                wraps += (uint64_t)1 << 24;
            r->evt.high = v, r->evt.have_high = 1;
            t = (int64_t)(wraps + ((uint64_t)v << 12) + r->evt.low);
            break;
        case 0xA:
            r->skip[0]++;
            break;
        case 0xE:
            r->skip[1]++;
            break;
        case 0x7:
        case 0xF:
            r->skip[2]++;
            break;
        default:
            st = reserved(r, lt_evr_off(r, i), type, w, 3, err);
            break;
        }
    }
    if (st)
        return st;
    r->evt.wraps = wraps;
    *produced += n - n0;
    out->n = n;
    r->bpos += i * 2;
    return LT_OK;
}

static lt_status open_evt3(lt_reader *r, lt_err *err)
{
    lt_status st = open_evt(r, 3, err);
    r->decode = decode_evt3;
    r->per_rec = 12;
    return st;
}

/* EVT 2.0, and other EVT versions too: its header parser names and refuses them */
static int detect_evt2(const uint8_t *head, size_t n)
{
    int v = lt_evr_prophesee_evt(head, n);
    return v == 2 || v == 1;
}
static int detect_evt3(const uint8_t *head, size_t n) { return lt_evr_prophesee_evt(head, n) == 3; }

/* ---- EVT 2.0 writer ---- */
static lt_status w_open_evt2(lt_writer *w, lt_err *err)
{
    if (w->w > 2048 || w->h > 2048)
        return lt_err_set(err, LT_ERR_ARG, "%s: sensor %dx%d does not fit EVT 2.0 addresses (2048x2048)", w->af.path,
                          w->w, w->h);
    char h[160];
    if (w->w)
        snprintf(h, sizeof h, "%% evt 2.0\n%% format EVT2;height=%d;width=%d\n%% geometry %dx%d\n%% end\n", w->h, w->w,
                 w->w, w->h);
    else
        snprintf(h, sizeof h, "%% evt 2.0\n%% format EVT2\n%% end\n");
    return lt_evw_put_text(w, h, err);
}

static lt_status put_word(lt_writer *w, uint32_t v, lt_err *err)
{
    uint8_t q[4];
    lt_evw_le(q, v, 4);
    return lt_evw_put(w, q, 4, err);
}

static lt_status w_event_evt2(lt_writer *w, const lt_events *ev, size_t i, lt_err *err)
{
    uint32_t x = ev->x[i], y = ev->y[i];
    int64_t t = ev->t[i];
    int bw = w->w ? w->w : 2048, bh = w->h ? w->h : 2048;
    if ((int)x >= bw || (int)y >= bh)
        return lt_evw_bad(w, i, ev, "outside the EVT 2.0 sensor (x, y < 2048 and inside the given size)", err);
    if (t < 0)
        return lt_evw_bad(w, i, ev, "t < 0 cannot be stored in EVT 2.0", err);
    uint64_t th = (uint64_t)t >> 6;
    lt_status st;
    if (w->evt_high == UINT64_MAX) { /* the reader starts unwrapping at TIME_HIGH 0 */
        w->evt_high = 0;
        if ((st = put_word(w, 0x8u << 28, err)))
            return st;
    }
    if (th < w->evt_high)
        return lt_evw_bad(w, i, ev, "t goes back across a 64 us step; EVT 2.0's TIME_HIGH only moves forward", err);
    /* steps of half the TIME_HIGH range or more would read back as wraps: bridge them */
    while (th - w->evt_high >= ((uint64_t)1 << 27)) {
        w->evt_high += (uint64_t)1 << 26;
        if ((st = put_word(w, 0x8u << 28 | (uint32_t)(w->evt_high & 0x0fffffff), err)))
            return st;
    }
    if (th != w->evt_high) {
        w->evt_high = th;
        if ((st = put_word(w, 0x8u << 28 | (uint32_t)(th & 0x0fffffff), err)))
            return st;
    }
    return put_word(w, (uint32_t)ev->p[i] << 28 | (uint32_t)(t & 63) << 22 | x << 11 | y, err);
}

const lt_evr_format lt_evr_fmt_evt2 = {
    .id = LT_EVF_EVT2,
    .name = "evt2",
    .aliases = {"evt2.0", "raw"},
    .exts = {".raw"},
    .describe = "Prophesee Metavision EVT 2.0 .raw",
    .detect = detect_evt2,
    .open = open_evt2,
    .w_open = w_open_evt2,
    .w_event = w_event_evt2,
};

const lt_evr_format lt_evr_fmt_evt3 = {
    .id = LT_EVF_EVT3,
    .name = "evt3",
    .aliases = {"evt3.0"},
    .describe = "Prophesee Metavision EVT 3.0 .raw",
    .detect = detect_evt3,
    .open = open_evt3,
};
