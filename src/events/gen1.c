/* gen1.c -- the Prophesee automotive Gen1 dataset as distributed
 * (METHOD.md §9): `_bbox.npy` box files in either dtype, the folder layout
 * ROOT/{train,val,test}/<name>_td.dat + <name>_bbox.npy, and the streaming
 * walk that turns one recording into detection samples (T equal-time
 * frames of the window before each box timestamp, plus its boxes), written
 * into a detection frame cache in parallel over recordings.
 *
 * Box files are small and read whole; event files (tens of millions of
 * events a minute) are read once, front to back, keeping only the events of
 * one window.  Every input is hostile: the box dtype must be one of the two
 * Gen1 layouts exactly, and every bad box or event is named by file and
 * record index.  Not here: decoding DAT (dat.c), the cache layout
 * (cache.c), the synthetic recordings (gen1_synth.c). */
#include "ltsnn/detect.h"
#include "ltsnn/npy.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define BOX_BLOCK 4096      /* box rows decoded at a time */
#define EVENT_CHUNK 65536   /* events read at a time */
#define MAX_SIDE 65536

static const char *const class_names[LT_GEN1_CLASSES] = {"car", "pedestrian"};
static const char *const split_names[LT_GEN1_SPLITS] = {"train", "val", "test"};

const char *lt_gen1_class_name(int k) { return k >= 0 && k < LT_GEN1_CLASSES ? class_names[k] : NULL; }
const char *lt_gen1_split_name(int s) { return s >= 0 && s < LT_GEN1_SPLITS ? split_names[s] : NULL; }

/* ---- box files ---- */

typedef struct field_spec {
    const char *name;
    char kind;
    uint32_t size;
} field_spec;

/* The two dtypes, in the order lt_gen1_boxes keeps its arrays:
 * t, x, y, w, h, class, track, score. */
static const field_spec v1_fields[8] = {{"ts", 'u', 8},      {"x", 'f', 4},        {"y", 'f', 4},
                                        {"w", 'f', 4},       {"h", 'f', 4},        {"class_id", 'u', 1},
                                        {"track_id", 'u', 4}, {"confidence", 'f', 4}};
static const field_spec v2_fields[8] = {{"t", 'i', 8},       {"x", 'f', 4},        {"y", 'f', 4},
                                        {"w", 'f', 4},       {"h", 'f', 4},        {"class_id", 'u', 4},
                                        {"track_id", 'u', 4}, {"class_confidence", 'f', 4}};
#define V1_DESCR                                                                                                   \
    "[('ts', '<u8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', '|u1'), "                \
    "('confidence', '<f4'), ('track_id', '<u4')]"
#define V2_DESCR                                                                                                   \
    "[('t', '<i8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', '<u4'), "                 \
    "('track_id', '<u4'), ('class_confidence', '<f4'), ('', '|V4')]"
#define V1_SIZE 33
#define V2_SIZE 40

/* Field indices of spec in a, or 0 if the dtype is not exactly spec. */
static int match_layout(const lt_npy *a, const field_spec *spec, int idx[8])
{
    if (!a->structured || a->nfields != 8)
        return 0;
    for (int k = 0; k < 8; k++) {
        idx[k] = lt_npy_field_index(a, spec[k].name);
        if (idx[k] < 0 || a->fields[idx[k]].kind != spec[k].kind || a->fields[idx[k]].size != spec[k].size)
            return 0;
    }
    return 1;
}

lt_status lt_gen1_boxes_alloc(lt_gen1_boxes *b, size_t n, lt_err *err)
{
    memset(b, 0, sizeof *b);
    size_t m = n ? n : 1;
    if (m > SIZE_MAX / 40)
        return lt_err_set(err, LT_ERR_NOMEM, "%zu boxes overflow", n);
    /* one block: t first (8-byte aligned), then the 4-byte arrays */
    uint8_t *blk = calloc(m, 8 + 7 * 4);
    if (!blk)
        return lt_err_set(err, LT_ERR_NOMEM, "cannot allocate %zu boxes", n);
    b->t = (int64_t *)blk;
    float *f = (float *)(blk + 8 * m);
    b->x = f, b->y = f + m, b->w = f + 2 * m, b->h = f + 3 * m, b->score = f + 6 * m;
    b->cls = (uint32_t *)(f + 4 * m);
    b->track = (uint32_t *)(f + 5 * m);
    b->n = n;
    b->layout = LT_GEN1_V2;
    return LT_OK;
}

void lt_gen1_boxes_free(lt_gen1_boxes *b)
{
    free(b->t);
    memset(b, 0, sizeof *b);
}

lt_status lt_gen1_boxes_read(lt_gen1_boxes *b, const char *path, lt_err *err)
{
    memset(b, 0, sizeof *b);
    lt_npy a;
    lt_status st = lt_npy_open(&a, path, err);
    if (st)
        return st;
    int idx[8];
    lt_gen1_layout layout = match_layout(&a, v1_fields, idx) ? LT_GEN1_V1
                            : match_layout(&a, v2_fields, idx) ? LT_GEN1_V2
                                                               : (lt_gen1_layout)0;
    if (!layout || a.ndim != 1) {
        char desc[512];
        lt_npy_describe(&a, desc, sizeof desc);
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: not a Gen1 box array: %s; expected a 1-D array of dtype v1 %s or "
                        "v2 %s (field order and byte order free)", path, desc, V1_DESCR, V2_DESCR);
        goto close;
    }
    if ((st = lt_gen1_boxes_alloc(b, (size_t)a.rows, err)))
        goto close;
    b->layout = layout;
    uint8_t *raw = malloc(BOX_BLOCK * (size_t)a.itemsize);
    int64_t *iv = malloc(BOX_BLOCK * sizeof *iv);
    double *dv = malloc(BOX_BLOCK * sizeof *dv);
    if (!raw || !iv || !dv) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: cannot allocate read buffers", path);
        goto free_buffers;
    }
    float *const fl[5] = {NULL, b->x, b->y, b->w, b->h};
    for (uint64_t r0 = 0; r0 < a.rows; r0 += BOX_BLOCK) {
        size_t m = (size_t)(a.rows - r0 < BOX_BLOCK ? a.rows - r0 : BOX_BLOCK);
        if ((st = lt_npy_read_raw(&a, r0, m, raw, err)))
            goto free_buffers;
        /* t, class, track: exact integers (a v1 ts beyond int64 is refused by row) */
        if ((st = lt_npy_convert_i64(&a, idx[0], raw, m, iv, r0, err)))
            goto free_buffers;
        memcpy(b->t + r0, iv, m * sizeof *iv);
        for (int k = 5; k <= 6; k++) {
            if ((st = lt_npy_convert_i64(&a, idx[k], raw, m, iv, r0, err)))
                goto free_buffers;
            uint32_t *dst = k == 5 ? b->cls : b->track;
            for (size_t i = 0; i < m; i++)
                dst[r0 + i] = (uint32_t)iv[i]; /* u1 / u4 fields: always in range */
        }
        for (int k = 1; k <= 4; k++) {
            if ((st = lt_npy_convert_f64(&a, idx[k], raw, m, dv, r0, err)))
                goto free_buffers;
            for (size_t i = 0; i < m; i++)
                fl[k][r0 + i] = (float)dv[i]; /* f4 fields: exact */
        }
        if ((st = lt_npy_convert_f64(&a, idx[7], raw, m, dv, r0, err)))
            goto free_buffers;
        for (size_t i = 0; i < m; i++)
            b->score[r0 + i] = (float)dv[i];
    }
free_buffers:
    free(raw), free(iv), free(dv);
    if (st)
        lt_gen1_boxes_free(b);
close:
    lt_npy_close(&a);
    return st;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_f32(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_le(p, u, 4);
}

lt_status lt_gen1_boxes_write(const char *path, const lt_gen1_boxes *b, lt_gen1_layout layout, lt_err *err)
{
    const size_t rec = layout == LT_GEN1_V1 ? V1_SIZE : V2_SIZE;
    if (layout != LT_GEN1_V1 && layout != LT_GEN1_V2)
        return lt_err_set(err, LT_ERR_ARG, "%s: box layout %d, expected 1 or 2", path, (int)layout);
    uint8_t *buf = calloc(b->n ? b->n : 1, rec);
    if (!buf)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: cannot allocate %zu boxes", path, b->n);
    for (size_t i = 0; i < b->n; i++) {
        uint8_t *p = buf + i * rec;
        if (layout == LT_GEN1_V1) {
            if (b->t[i] < 0 || b->cls[i] > 255) {
                free(buf);
                return lt_err_set(err, LT_ERR_ARG, "%s: box %zu (t %lld, class %u) does not fit the v1 dtype (ts u8, "
                                  "class_id u1)", path, i, (long long)b->t[i], b->cls[i]);
            }
            put_le(p, (uint64_t)b->t[i], 8);
            put_f32(p + 8, b->x[i]), put_f32(p + 12, b->y[i]), put_f32(p + 16, b->w[i]), put_f32(p + 20, b->h[i]);
            p[24] = (uint8_t)b->cls[i];
            put_f32(p + 25, b->score[i]);
            put_le(p + 29, b->track[i], 4);
        } else {
            put_le(p, (uint64_t)b->t[i], 8);
            put_f32(p + 8, b->x[i]), put_f32(p + 12, b->y[i]), put_f32(p + 16, b->w[i]), put_f32(p + 20, b->h[i]);
            put_le(p + 24, b->cls[i], 4);
            put_le(p + 28, b->track[i], 4);
            put_f32(p + 32, b->score[i]);
        }
    }
    uint64_t shape = b->n;
    lt_status st = lt_npy_write(path, layout == LT_GEN1_V1 ? V1_DESCR : V2_DESCR, 1, &shape, buf, b->n * rec, err);
    free(buf);
    return st;
}

lt_status lt_gen1_boxes_check(const lt_gen1_boxes *b, const char *path, int sensor_w, int sensor_h, int classes,
                              lt_err *err)
{
    for (size_t i = 0; i < b->n; i++) {
        const float x = b->x[i], y = b->y[i], w = b->w[i], h = b->h[i];
        if (b->t[i] < 0)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: box %zu: time stamp %lld is negative", path, i,
                              (long long)b->t[i]);
        if (i > 0 && b->t[i] < b->t[i - 1])
            return lt_err_set(err, LT_ERR_FORMAT, "%s: box %zu: time stamp %lld comes after box %zu's %lld (box time "
                              "stamps must not decrease)", path, i, (long long)b->t[i], i - 1, (long long)b->t[i - 1]);
        if (!isfinite(x) || !isfinite(y) || !isfinite(w) || !isfinite(h))
            return lt_err_set(err, LT_ERR_FORMAT, "%s: box %zu: x %g y %g w %g h %g is not finite", path, i, (double)x,
                              (double)y, (double)w, (double)h);
        if (w < 0 || h < 0)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: box %zu: negative size %g x %g", path, i, (double)w, (double)h);
        if (b->cls[i] >= (uint32_t)classes)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: box %zu: class_id %u out of range (expected 0..%d)", path, i,
                              b->cls[i], classes - 1);
        /* a box with area that lies wholly outside the sensor is corrupt;
         * one partly outside is cut to it (lt_gen1_targets) */
        if (w > 0 && h > 0 &&
            ((double)x + w <= 0 || (double)y + h <= 0 || x >= (float)sensor_w || y >= (float)sensor_h))
            return lt_err_set(err, LT_ERR_FORMAT, "%s: box %zu: (x %g, y %g, w %g, h %g) lies outside the %dx%d sensor",
                              path, i, (double)x, (double)y, (double)w, (double)h, sensor_w, sensor_h);
    }
    return LT_OK;
}

size_t lt_gen1_targets(lt_box *out, const lt_gen1_boxes *b, size_t i0, size_t i1, int sensor_w, int sensor_h)
{
    size_t n = 0;
    for (size_t k = i0; k < i1; k++) {
        double x0 = fmax(b->x[k], 0), y0 = fmax(b->y[k], 0);
        double x1 = fmin((double)b->x[k] + b->w[k], sensor_w), y1 = fmin((double)b->y[k] + b->h[k], sensor_h);
        if (!(x1 > x0) || !(y1 > y0))
            continue; /* empty once cut to the sensor */
        int later = 0;
        for (size_t j = k + 1; j < i1 && !later; j++)
            later = b->track[j] == b->track[k] && fmin((double)b->x[j] + b->w[j], sensor_w) > fmax(b->x[j], 0) &&
                    fmin((double)b->y[j] + b->h[j], sensor_h) > fmax(b->y[j], 0);
        if (later)
            continue; /* the last non-empty box of a track_id is kept */
        out[n++] = (lt_box){(float)((x0 + x1) / 2 / sensor_w), (float)((y0 + y1) / 2 / sensor_h),
                            (float)((x1 - x0) / sensor_w), (float)((y1 - y0) / sensor_h), (int32_t)b->cls[k]};
    }
    return n;
}

/* ---- the folder layout ---- */

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls > lx && !strcmp(s + ls - lx, suffix);
}

static int cmp_rec(const void *a, const void *b)
{
    return strverscmp(((const lt_gen1_rec *)a)->name, ((const lt_gen1_rec *)b)->name);
}

static char *join(const char *dir, const char *name, const char *suffix)
{
    size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s", dir, name, suffix);
    return p;
}

/* Finds (or adds) the recording called name[0..len) in the split. */
static lt_gen1_rec *rec_for(lt_gen1_ds *ds, int s, size_t *cap, const char *name, size_t len)
{
    for (size_t i = 0; i < ds->n[s]; i++)
        if (strlen(ds->rec[s][i].name) == len && !strncmp(ds->rec[s][i].name, name, len))
            return &ds->rec[s][i];
    if (ds->n[s] == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        lt_gen1_rec *r = realloc(ds->rec[s], c * sizeof *r);
        if (!r)
            return NULL;
        ds->rec[s] = r;
        *cap = c;
    }
    lt_gen1_rec *r = &ds->rec[s][ds->n[s]];
    memset(r, 0, sizeof *r);
    if (!(r->name = strndup(name, len)))
        return NULL;
    ds->n[s]++;
    return r;
}

static lt_status scan_split(lt_gen1_ds *ds, int s, const char *dir, lt_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return lt_err_set(err, LT_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    size_t cap = 0;
    lt_status st = LT_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        int td = ends_with(n, "_td.dat"), bb = ends_with(n, "_bbox.npy");
        if (n[0] == '.' || (!td && !bb))
            continue;
        size_t len = strlen(n) - strlen(td ? "_td.dat" : "_bbox.npy");
        lt_gen1_rec *r = rec_for(ds, s, &cap, n, len);
        char *path = r ? join(dir, n, "") : NULL;
        if (!path) {
            st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory listing the folder", dir);
            break;
        }
        if (td)
            r->td = path;
        else
            r->bbox = path;
    }
    closedir(d);
    if (!st && ds->n[s])
        qsort(ds->rec[s], ds->n[s], sizeof *ds->rec[s], cmp_rec);
    return st;
}

lt_status lt_gen1_scan(lt_gen1_ds *ds, const char *root, lt_err *err)
{
    memset(ds, 0, sizeof *ds);
    int found = 0;
    for (int s = 0; s < LT_GEN1_SPLITS; s++) {
        char *dir = join(root, split_names[s], "");
        if (!dir)
            return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", root);
        struct stat sb;
        lt_status st = LT_OK;
        if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            found++;
            st = scan_split(ds, s, dir, err);
        }
        free(dir);
        if (st) {
            lt_gen1_ds_free(ds);
            return st;
        }
    }
    if (!found)
        return lt_err_set(err, LT_ERR_IO, "%s: no train, val or test folder (expected ROOT/{train,val,test}/"
                          "<name>_td.dat and <name>_bbox.npy, Gen1's layout)", root);
    return LT_OK;
}

void lt_gen1_ds_free(lt_gen1_ds *ds)
{
    for (int s = 0; s < LT_GEN1_SPLITS; s++) {
        for (size_t i = 0; i < ds->n[s]; i++) {
            free(ds->rec[s][i].name);
            free(ds->rec[s][i].td);
            free(ds->rec[s][i].bbox);
        }
        free(ds->rec[s]);
    }
    memset(ds, 0, sizeof *ds);
}

/* ---- one recording to samples ---- */

void lt_gen1_opts_default(lt_gen1_opts *o)
{
    memset(o, 0, sizeof *o);
    o->T = 5;
    o->window_us = 100000;
    o->sensor_w = LT_GEN1_SENSOR_W;
    o->sensor_h = LT_GEN1_SENSOR_H;
    o->classes = LT_GEN1_CLASSES;
    o->value = LT_BINVAL_BINARY;
}

static lt_status check_opts(const lt_gen1_opts *o, lt_err *err)
{
    if (o->T < 1 || o->T > 4096)
        return lt_err_set(err, LT_ERR_ARG, "gen1: T = %d, expected 1..4096", o->T);
    if (o->window_us < 1)
        return lt_err_set(err, LT_ERR_ARG, "gen1: window %lld us, expected at least 1", (long long)o->window_us);
    if (o->sensor_w < 1 || o->sensor_h < 1 || o->sensor_w > MAX_SIDE || o->sensor_h > MAX_SIDE)
        return lt_err_set(err, LT_ERR_ARG, "gen1: sensor %dx%d, expected 1..%d a side", o->sensor_w, o->sensor_h,
                          MAX_SIDE);
    if (o->H < 0 || o->W < 0 || o->H > MAX_SIDE || o->W > MAX_SIDE)
        return lt_err_set(err, LT_ERR_ARG, "gen1: frame size %dx%d (HxW) out of range", o->H, o->W);
    if (o->classes < 1 || o->classes > LT_MAP_MAX_CLASSES)
        return lt_err_set(err, LT_ERR_ARG, "gen1: %d classes, expected 1..%d", o->classes, LT_MAP_MAX_CLASSES);
    if (o->value != LT_BINVAL_BINARY && o->value != LT_BINVAL_COUNT)
        return lt_err_set(err, LT_ERR_ARG, "gen1: frame values %d, expected binary or count", (int)o->value);
    return LT_OK;
}

static int frame_h(const lt_gen1_opts *o) { return o->H ? o->H : o->sensor_h; }
static int frame_w(const lt_gen1_opts *o) { return o->W ? o->W : o->sensor_w; }

/* The events of the current window: arrays [head, n) of ev are live. */
typedef struct window {
    lt_events ev;
    size_t head;
    uint64_t seen;      /* events read from the file so far (the next one's record index) */
    int64_t last_t;
    int eof;
} window;

/* Reads until the newest event is at or after `until` (or the file ends),
 * checking order and sensor bounds; drops events before `drop`. */
static lt_status fill(window *w, lt_reader *r, int64_t until, int64_t drop, const char *path, int sw, int sh,
                      lt_err *err)
{
    while (w->head < w->ev.n && w->ev.t[w->head] < drop)
        w->head++;
    while (!w->eof && (w->ev.n == w->head || w->ev.t[w->ev.n - 1] < until)) {
        if (w->head > 0 && w->head * 2 >= w->ev.n) { /* reuse the front of the arrays */
            size_t live = w->ev.n - w->head;
            memmove(w->ev.t, w->ev.t + w->head, live * sizeof *w->ev.t);
            memmove(w->ev.x, w->ev.x + w->head, live * sizeof *w->ev.x);
            memmove(w->ev.y, w->ev.y + w->head, live * sizeof *w->ev.y);
            memmove(w->ev.p, w->ev.p + w->head, live * sizeof *w->ev.p);
            w->ev.n = live, w->head = 0;
        }
        size_t from = w->ev.n, got = 0;
        lt_status st = lt_reader_next(r, &w->ev, EVENT_CHUNK, &got, err);
        if (st == LT_ERR_EOF) {
            w->eof = 1;
            break;
        }
        if (st)
            return st;
        for (size_t j = from; j < w->ev.n; j++, w->seen++) {
            if (w->ev.t[j] < w->last_t)
                return lt_err_set(err, LT_ERR_FORMAT, "%s: event %llu: t %lld us comes before the previous event's "
                                  "%lld (events must be in time order)", path, (unsigned long long)w->seen,
                                  (long long)w->ev.t[j], (long long)w->last_t);
            if (w->ev.x[j] >= sw || w->ev.y[j] >= sh)
                return lt_err_set(err, LT_ERR_FORMAT, "%s: event %llu: x %u y %u lies outside the %dx%d sensor", path,
                                  (unsigned long long)w->seen, (unsigned)w->ev.x[j], (unsigned)w->ev.y[j], sw, sh);
            w->last_t = w->ev.t[j];
        }
        while (w->head < w->ev.n && w->ev.t[w->head] < drop)
            w->head++;
    }
    return LT_OK;
}

/* Events of [t0, t0 + span) in the window to frames [T, 2, H, W] (METHOD.md
 * §6 with t_0 = t_l - window and span = window); returns how many. */
static size_t bin_window(uint8_t *frames, const window *w, int64_t t0, int64_t span, const int32_t *xmap,
                         const int32_t *ymap, const lt_gen1_opts *o)
{
    const int H = frame_h(o), W = frame_w(o);
    const size_t plane = (size_t)H * (size_t)W;
    memset(frames, 0, (size_t)o->T * 2 * plane);
    size_t n = 0;
    for (size_t j = w->head; j < w->ev.n && w->ev.t[j] < t0 + span; j++) {
        if (w->ev.t[j] < t0)
            continue;
        uint64_t bin = (uint64_t)(w->ev.t[j] - t0) * (uint64_t)o->T / (uint64_t)span;
        uint8_t *px = &frames[(bin * 2 + (w->ev.p[j] ? 1 : 0)) * plane + (size_t)ymap[w->ev.y[j]] * (size_t)W +
                              (size_t)xmap[w->ev.x[j]]];
        if (o->value == LT_BINVAL_BINARY)
            *px = 1;
        else if (*px < 255)
            (*px)++;
        n++;
    }
    return n;
}

/* The walk over one recording's events: samples at the unique time stamps
 * of b (period_us 0; b has boxes) or at t_l = window + k * period up to the
 * last event (b, if not NULL, gives each its boxes stamped t_l). */
static lt_status walk(const char *td_path, const lt_gen1_boxes *b, int64_t period_us, const lt_gen1_opts *o,
                      lt_gen1_sample_fn fn, void *ctx, lt_err *err)
{
    const int sw = o->sensor_w, sh = o->sensor_h, H = frame_h(o), W = frame_w(o);
    lt_reader_opts ro = {.format = LT_EVF_DAT};
    lt_reader *r;
    lt_status st = lt_reader_open(&r, td_path, &ro, err);
    if (st)
        return st;
    int hw, hh;
    lt_reader_sensor(r, &hw, &hh);
    if (hw && (hw != sw || hh != sh)) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: the header names a %dx%d sensor, expected %dx%d", td_path, hw, hh,
                        sw, sh);
        goto close_reader;
    }
    window w;
    memset(&w, 0, sizeof w);
    w.last_t = INT64_MIN;
    const size_t frame_n = (size_t)o->T * 2 * (size_t)H * (size_t)W, nb = b ? b->n : 0;
    uint8_t *frames = lt_alloc(frame_n);
    lt_box *targets = malloc((nb ? nb : 1) * sizeof *targets);
    int32_t *map = malloc(((size_t)sw + (size_t)sh) * sizeof *map);
    if (!frames || !targets || !map) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: cannot allocate %zu bytes of frames", td_path, frame_n);
        goto free_all;
    }
    /* x' = floor(x * W / sensor_w) (METHOD.md §6), as a table */
    for (int x = 0; x < sw; x++)
        map[x] = (int32_t)((int64_t)x * W / sw);
    for (int y = 0; y < sh; y++)
        map[sw + y] = (int32_t)((int64_t)y * H / sh);
    size_t i = 0; /* the first box not before the current t_l */
    for (int64_t tl = o->window_us;;) {
        if (!period_us) { /* the next unique box time stamp at or after the window */
            while (i < nb && b->t[i] < o->window_us)
                i++;
            if (i >= nb)
                break;
            tl = b->t[i];
        }
        if ((st = fill(&w, r, tl, tl - o->window_us, td_path, sw, sh, err)))
            goto free_all;
        if (period_us && w.eof && (w.seen == 0 || tl - o->window_us > w.last_t))
            break; /* the window starts after the last event */
        while (i < nb && b->t[i] < tl)
            i++;
        size_t j = i;
        while (j < nb && b->t[j] == tl)
            j++;
        lt_gen1_sample s;
        s.t = tl;
        s.events = bin_window(frames, &w, tl - o->window_us, o->window_us, map, map + sw, o);
        s.frames = frames;
        s.boxes = targets;
        s.n_boxes = j > i ? lt_gen1_targets(targets, b, i, j, sw, sh) : 0;
        if ((st = fn(ctx, &s, err)))
            goto free_all;
        i = j;
        if (period_us) {
            if (tl > INT64_MAX - period_us)
                break;
            tl += period_us;
        }
    }
    if (w.seen == 0 && (st = fill(&w, r, INT64_MAX, INT64_MIN, td_path, sw, sh, err)) == LT_OK && w.seen == 0)
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: no events (an empty recording)", td_path);
free_all:
    lt_free(frames);
    free(targets);
    free(map);
    lt_events_free(&w.ev);
close_reader:
    lt_reader_close(r);
    return st;
}

/* The box file of a recording, read and checked. */
static lt_status read_boxes(lt_gen1_boxes *b, const char *bbox_path, const lt_gen1_opts *o, lt_err *err)
{
    lt_status st = lt_gen1_boxes_read(b, bbox_path, err);
    if (!st && (st = lt_gen1_boxes_check(b, bbox_path, o->sensor_w, o->sensor_h, o->classes, err)))
        lt_gen1_boxes_free(b);
    return st;
}

lt_status lt_gen1_recording(const char *td_path, const char *bbox_path, const lt_gen1_opts *o, lt_gen1_sample_fn fn,
                            void *ctx, lt_err *err)
{
    lt_status st = check_opts(o, err);
    if (st)
        return st;
    if (!td_path || !bbox_path)
        return lt_err_set(err, LT_ERR_IO, "%s: %s", td_path ? td_path : bbox_path,
                          td_path ? "has no _bbox.npy box file beside it" : "has no _td.dat recording beside it");
    lt_gen1_boxes b;
    if ((st = read_boxes(&b, bbox_path, o, err)))
        return st;
    if (b.n == 0)
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: no boxes (an empty recording)", bbox_path);
    else
        st = walk(td_path, &b, 0, o, fn, ctx, err);
    lt_gen1_boxes_free(&b);
    return st;
}

lt_status lt_gen1_recording_every(const char *td_path, const char *bbox_path, int64_t period_us, const lt_gen1_opts *o,
                                  lt_gen1_sample_fn fn, void *ctx, lt_err *err)
{
    lt_status st = check_opts(o, err);
    if (st)
        return st;
    if (period_us < 0 || (!period_us && !bbox_path))
        return lt_err_set(err, LT_ERR_ARG, "%s: samples every %lld us%s", td_path, (long long)period_us,
                          period_us ? ": expected a positive period" : " need a box file for their time stamps");
    lt_gen1_boxes b;
    memset(&b, 0, sizeof b);
    if (bbox_path && (st = read_boxes(&b, bbox_path, o, err)))
        return st;
    st = walk(td_path, bbox_path ? &b : NULL, period_us, o, fn, ctx, err);
    lt_gen1_boxes_free(&b);
    return st;
}

/* ---- a split into a cache ---- */

lt_status lt_gen1_writer_open(lt_cache_writer **w, const char *path, const char *name, const lt_gen1_opts *o,
                              const char *split, lt_err *err)
{
    lt_status st = check_opts(o, err);
    if (st)
        return st;
    lt_dataset shape;
    memset(&shape, 0, sizeof shape);
    shape.Ts = o->T, shape.C = 2, shape.H = frame_h(o), shape.W = frame_w(o);
    shape.classes = o->classes;
    shape.bits = o->value == LT_BINVAL_BINARY ? 1 : 8;
    shape.scale = 1.0f;
    shape.task = LT_TASK_DETECT;
    shape.sensor_w = o->sensor_w, shape.sensor_h = o->sensor_h;
    snprintf(shape.name, sizeof shape.name, "%s", name ? name : "gen1");
    snprintf(shape.opts, sizeof shape.opts, "split=%s T=%d window_us=%lld size=%dx%d sensor=%dx%d value=%s", split,
             o->T, (long long)o->window_us, shape.H, shape.W, o->sensor_w, o->sensor_h,
             o->value == LT_BINVAL_BINARY ? "binary" : "count");
    char *names[LT_GEN1_CLASSES] = {(char *)class_names[0], (char *)class_names[1]};
    if (o->classes == LT_GEN1_CLASSES)
        shape.class_names = names;
    return lt_cache_writer_open(w, path, &shape, err);
}

/* One recording's samples, packed, held until they are appended in order. */
typedef struct rec_out {
    uint8_t *data;      /* [n][sample_bytes] */
    lt_box *boxes;      /* [nb] */
    size_t *nbox;       /* [n] */
    int64_t *t;         /* [n] */
    size_t n, cap, nb, cap_b;
    size_t sample_bytes, frame_n;
    int bits;
    lt_status st;
    lt_err err;
} rec_out;

static void rec_out_clear(rec_out *ro)
{
    free(ro->data), free(ro->boxes), free(ro->nbox), free(ro->t);
    ro->data = NULL, ro->boxes = NULL, ro->nbox = NULL, ro->t = NULL;
    ro->n = ro->cap = ro->nb = ro->cap_b = 0;
}

static lt_status collect(void *ctx, const lt_gen1_sample *s, lt_err *err)
{
    rec_out *ro = ctx;
    if (ro->n == ro->cap) {
        size_t c = ro->cap ? 2 * ro->cap : 64;
        uint8_t *d = realloc(ro->data, c * ro->sample_bytes);
        if (d)
            ro->data = d;
        size_t *nb = realloc(ro->nbox, c * sizeof *nb);
        if (nb)
            ro->nbox = nb;
        int64_t *t = realloc(ro->t, c * sizeof *t);
        if (t)
            ro->t = t;
        if (!d || !nb || !t)
            return lt_err_set(err, LT_ERR_NOMEM, "out of memory holding %zu samples", c);
        ro->cap = c;
    }
    if (ro->nb + s->n_boxes > ro->cap_b) {
        size_t c = ro->cap_b ? 2 * ro->cap_b : 256;
        while (c < ro->nb + s->n_boxes)
            c *= 2;
        lt_box *bx = realloc(ro->boxes, c * sizeof *bx);
        if (!bx)
            return lt_err_set(err, LT_ERR_NOMEM, "out of memory holding %zu boxes", c);
        ro->boxes = bx, ro->cap_b = c;
    }
    uint8_t *dst = ro->data + ro->n * ro->sample_bytes;
    if (ro->bits == 1)
        lt_frames_pack(dst, s->frames, ro->frame_n);
    else
        memcpy(dst, s->frames, ro->frame_n);
    if (s->n_boxes)
        memcpy(ro->boxes + ro->nb, s->boxes, s->n_boxes * sizeof *s->boxes);
    ro->nb += s->n_boxes;
    ro->nbox[ro->n] = s->n_boxes;
    ro->t[ro->n] = s->t;
    ro->n++;
    return LT_OK;
}

static int pick_threads(int t) { return t > 0 ? t : lt_get_threads(); }

lt_status lt_gen1_convert(lt_cache_writer *w, const lt_gen1_ds *ds, int split, const lt_gen1_opts *o,
                          size_t *skipped, size_t *samples, lt_err *err)
{
    lt_status st = check_opts(o, err);
    if (st)
        return st;
    if (split < 0 || split >= LT_GEN1_SPLITS)
        return lt_err_set(err, LT_ERR_ARG, "gen1: split %d, expected 0..2", split);
    const size_t n = ds->n[split];
    const lt_gen1_rec *recs = ds->rec[split];
    const int nt = pick_threads(o->threads);
    const size_t chunk = (size_t)nt * 2;
    rec_out *outs = calloc(chunk, sizeof *outs);
    if (!outs)
        return lt_err_set(err, LT_ERR_NOMEM, "cannot allocate conversion buffers");
    const int bits = o->value == LT_BINVAL_BINARY ? 1 : 8;
    const size_t frame_n = (size_t)o->T * 2 * (size_t)frame_h(o) * (size_t)frame_w(o);
    for (size_t k = 0; k < chunk; k++) {
        outs[k].bits = bits, outs[k].frame_n = frame_n;
        outs[k].sample_bytes = lt_dataset_sample_bytes(o->T, 2, frame_h(o), frame_w(o), bits);
    }
    size_t skip = 0, total = 0;
    for (size_t base = 0; base < n; base += chunk) {
        const int m = (int)(n - base < chunk ? n - base : chunk);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (int k = 0; k < m; k++) {
            const lt_gen1_rec *rc = &recs[base + (size_t)k];
            outs[k].st = lt_gen1_recording(rc->td, rc->bbox, o, collect, &outs[k], &outs[k].err);
        }
        /* appended in recording order, whichever thread made them */
        for (int k = 0; k < m && !st; k++) {
            const lt_gen1_rec *rc = &recs[base + (size_t)k];
            rec_out *ro = &outs[k];
            if (ro->st) {
                if (!o->skip_bad) {
                    if (err)
                        *err = ro->err;
                    st = ro->st;
                    break;
                }
                skip++;
                if (o->on_skip)
                    o->on_skip(o->ctx, rc->td ? rc->td : rc->bbox, &ro->err);
                continue;
            }
            char name[1024];
            snprintf(name, sizeof name, "%s/%s", split_names[split], rc->name);
            uint32_t ri;
            if ((st = lt_cache_writer_add_rec(w, name, &ri, err)))
                break;
            size_t b0 = 0;
            for (size_t i = 0; i < ro->n && !st; i++) {
                st = lt_cache_writer_add_det(w, ro->data + i * ro->sample_bytes, ro->boxes + b0, ro->nbox[i], ri,
                                             ro->t[i], err);
                b0 += ro->nbox[i];
            }
            total += ro->n;
        }
        for (int k = 0; k < m; k++)
            rec_out_clear(&outs[k]);
        if (st)
            break;
        if (o->progress)
            o->progress(o->ctx, base + (size_t)m, n);
    }
    free(outs);
    if (skipped)
        *skipped = skip;
    if (samples)
        *samples = total;
    return st;
}

/* ---- statistics of a split's box files ---- */

lt_status lt_gen1_stats_compute(lt_gen1_stats *s, const lt_gen1_ds *ds, int split, const lt_gen1_opts *o,
                                lt_err *err)
{
    memset(s, 0, sizeof *s);
    lt_status st = check_opts(o, err);
    if (st)
        return st;
    for (size_t i = 0; i < ds->n[split]; i++) {
        const lt_gen1_rec *rc = &ds->rec[split][i];
        lt_err why;
        lt_gen1_boxes b;
        if (!rc->td || !rc->bbox) {
            lt_err_set(&why, LT_ERR_IO, "%s: has no %s beside it", rc->td ? rc->td : rc->bbox,
                       rc->td ? "_bbox.npy box file" : "_td.dat recording");
        } else if (!lt_gen1_boxes_read(&b, rc->bbox, &why)) {
            if (!lt_gen1_boxes_check(&b, rc->bbox, o->sensor_w, o->sensor_h, o->classes, &why)) {
                s->recs++;
                for (size_t k = 0; k < b.n; k++) {
                    if (b.cls[k] < LT_GEN1_CLASSES)
                        s->boxes[b.cls[k]]++;
                    s->timestamps += k == 0 || b.t[k] != b.t[k - 1];
                }
                s->span_s += b.n ? (double)b.t[b.n - 1] * 1e-6 : 0;
                struct stat sb;
                if (stat(rc->td, &sb) == 0)
                    s->dat_bytes += (uint64_t)sb.st_size;
                lt_gen1_boxes_free(&b);
                if (o->progress)
                    o->progress(o->ctx, i + 1, ds->n[split]);
                continue;
            }
            lt_gen1_boxes_free(&b);
        }
        s->bad++;
        if (o->on_skip)
            o->on_skip(o->ctx, rc->bbox ? rc->bbox : rc->td, &why);
    }
    return LT_OK;
}
