/* atis.c -- ATIS 40-bit .bin decoder (N-MNIST, N-Caltech101 from the ATIS
 * sensor, Orchard et al. 2015).  No header; 5 bytes an event:
 *   byte 0 x, byte 1 y, byte 2 bit 7 polarity, byte 2 bits 0-6 and bytes
 *   3, 4 a 23-bit timestamp (big-endian, microseconds).
 * An event with y == 240 marks a timestamp overflow: it is dropped and 2^13
 * is added to every later timestamp.  y above 240 cannot come from the
 * 240-row sensor and is refused.  A file whose size is not a multiple of 5
 * is refused at open (reader.c) with the offset of the partial record.
 * Not for other .bin layouts.  Also the ATIS encoder. */
#include "events/reader_priv.h"

static lt_status decode_atis(lt_reader *r, lt_events *out, size_t k, size_t room, size_t *produced, lt_err *err)
{
    const uint8_t *b = r->buf + r->bpos;
    int64_t *T = out->t;
    uint16_t *X = out->x, *Y = out->y;
    uint8_t *P = out->p;
    size_t n = out->n;
    int64_t off = r->atis_off;
    uint64_t markers = 0;
    for (size_t i = 0; i < k; i++) {
        const uint8_t *q = b + 5 * i;
        uint32_t y = q[1];
        if (y >= 240) {
            if (y > 240)
                return lt_err_set(err, LT_ERR_FORMAT,
                                  "%s: byte %llu: y = %u (expected below 240, or 240 for an overflow marker)", r->name,
                                  (unsigned long long)lt_evr_off(r, i), y);
            off += 1 << 13;
            markers++;
            continue;
        }
        T[n] = off + (int64_t)((uint32_t)(q[2] & 0x7f) << 16 | (uint32_t)q[3] << 8 | q[4]);
        X[n] = q[0];
        Y[n] = (uint16_t)y;
        P[n] = q[2] >> 7;
        n++;
    }
    *produced += n - out->n;
    out->n = n;
    r->atis_off = off;
    r->skip[0] += markers;
    r->bpos += k * 5;
    return LT_OK;
}

static lt_status open_atis(lt_reader *r, lt_err *err)
{
    (void)err;
    r->rec = 5;
    r->data_off = 0;
    r->data_end = r->src.size;
    r->decode = decode_atis;
    lt_evr_skip_kind(r, 0, "y = 240 overflow markers");
    return LT_OK;
}

/* ---- writer: y == 240 overflow markers inserted as t grows past 2^23 ---- */
#define ATIS_MAX_MARKERS_STEP (1u << 20) /* overflow markers one time step may need (2.4 h) */

static lt_status w_event_atis(lt_writer *w, const lt_events *ev, size_t i, lt_err *err)
{
    uint32_t x = ev->x[i], y = ev->y[i], p = ev->p[i];
    int64_t t = ev->t[i];
    int bw = w->w ? w->w : 1 << 30, bh = w->h ? w->h : 1 << 30;
    if (x >= 256 || y >= 240 || (int)x >= bw || (int)y >= bh)
        return lt_evw_bad(w, i, ev, "outside the ATIS range (x < 256, y < 240)", err);
    if (t < w->atis_off)
        return lt_evw_bad(w, i, ev, "t is below the time of the last overflow marker (ATIS time only moves forward by 2^13)",
                          err);
    int64_t raw = t - w->atis_off;
    if (raw >= (int64_t)1 << 23) {
        int64_t m = (raw - ((1 << 23) - 1) + 8191) / 8192;
        if (m > ATIS_MAX_MARKERS_STEP)
            return lt_evw_bad(w, i, ev, "the step in t needs more than 2^20 overflow markers", err);
        const uint8_t marker[5] = {0, 240, 0, 0, 0};
        for (int64_t k = 0; k < m; k++) {
            lt_status st = lt_evw_put(w, marker, 5, err);
            if (st)
                return st;
        }
        w->atis_off += m * 8192;
        raw -= m * 8192;
    }
    const uint8_t rec[5] = {(uint8_t)x, (uint8_t)y, (uint8_t)(p << 7 | (uint32_t)(raw >> 16)), (uint8_t)(raw >> 8),
                            (uint8_t)raw};
    return lt_evw_put(w, rec, 5, err);
}

const lt_evr_format lt_evr_fmt_atis = {
    .id = LT_EVF_ATIS_BIN,
    .name = "atis-bin",
    .aliases = {"atis", "bin"},
    .exts = {".bin"},
    .describe = "ATIS 40-bit .bin (N-MNIST, N-Caltech101), no header",
    .empty_ok = 1,
    .open = open_atis,
    .w_event = w_event_atis,
};
