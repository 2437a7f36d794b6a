/* npyev.c -- NumPy .npy event files: a 1-D structured array with fields t
 * (or ts, timestamp), x, y, p (or polarity) of any numeric type, read
 * through the generic .npy module (src/io/npy.c) block by block; and the
 * .npy event writer ([t <i8, x <u2, y <u2, p |u1], shape fixed at close).
 * Not for other .npy content (lt_npy_* directly). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/reader_priv.h"

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

static lt_status npy_decode(lt_reader *r, lt_events *out, size_t k, size_t room, size_t *produced, lt_err *err)
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


static int detect_npy(const uint8_t *head, size_t n) { return n >= 6 && !memcmp(head, "\x93NUMPY", 6); }

/* ---- writer ---- */
#define NPY_EVENT_DESCR "[('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', '|u1')]"

static lt_status w_open_npy(lt_writer *w, lt_err *err)
{
    /* room for any count: the shape is rewritten in place at close */
    char *h;
    size_t len;
    uint64_t big = UINT64_MAX;
    lt_status st;
    if ((st = lt_npy_header(&h, &len, NPY_EVENT_DESCR, 1, &big, 0, err)))
        return st;
    free(h);
    uint64_t zero = 0;
    if ((st = lt_npy_header(&h, &len, NPY_EVENT_DESCR, 1, &zero, len, err)))
        return st;
    w->npy_hdr_len = len;
    st = lt_evw_put(w, h, len, err);
    free(h);
    return st;
}

static lt_status w_event_npy(lt_writer *w, const lt_events *ev, size_t i, lt_err *err)
{
    uint8_t rec[13];
    lt_evw_le(rec, (uint64_t)ev->t[i], 8);
    lt_evw_le(rec + 8, ev->x[i], 2);
    lt_evw_le(rec + 10, ev->y[i], 2);
    rec[12] = ev->p[i];
    return lt_evw_put(w, rec, 13, err);
}

static lt_status w_close_npy(lt_writer *w, lt_err *err)
{
    char *h;
    size_t len;
    lt_status st = lt_evw_flush(w, err);
    if (!st)
        st = lt_npy_header(&h, &len, NPY_EVENT_DESCR, 1, &w->count, w->npy_hdr_len, err);
    if (st)
        return st;
    if (fseek(w->af.f, 0, SEEK_SET) != 0 || fwrite(h, 1, len, w->af.f) != len || fseek(w->af.f, 0, SEEK_END))
        st = lt_err_set(err, LT_ERR_IO, "%s: rewriting the npy header failed", w->af.path);
    free(h);
    return st;
}

const lt_evr_format lt_evr_fmt_npy = {
    .id = LT_EVF_NPY,
    .name = "npy",
    .exts = {".npy"},
    .describe = "NumPy structured array with t, x, y, p fields",
    .detect = detect_npy,
    .open = open_npy,
    .w_open = w_open_npy,
    .w_event = w_event_npy,
    .w_close = w_close_npy,
};
