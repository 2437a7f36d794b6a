/* atis.c -- ATIS 40-bit .bin decoder (N-MNIST, N-Caltech101 from the ATIS
 * sensor, Orchard et al. 2015).  No header; 5 bytes an event:
 *   byte 0 x, byte 1 y, byte 2 bit 7 polarity, byte 2 bits 0-6 and bytes
 *   3, 4 a 23-bit timestamp (big-endian, microseconds).
 * An event with y == 240 marks a timestamp overflow: it is dropped and 2^13
 * is added to every later timestamp.  y above 240 cannot come from the
 * 240-row sensor and is refused.  A file whose size is not a multiple of 5
 * is refused at open (reader.c) with the offset of the partial record.
 * Not for other .bin layouts. */
#include "events/reader_priv.h"

static lt_status decode_atis(lt_reader *r, lt_events *out, size_t k, size_t *produced, lt_err *err)
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
    r->skipped += markers;
    r->bpos += k * 5;
    return LT_OK;
}

lt_status lt_evr_open_atis(lt_reader *r, lt_err *err)
{
    (void)err;
    r->rec = 5;
    r->data_off = 0;
    r->data_end = r->src.size;
    r->decode = decode_atis;
    return LT_OK;
}
