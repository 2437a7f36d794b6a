/* cache.c -- the frame cache (one file per dataset split) and lt_dataset.
 *
 * A prepared split is converted once and then mmap'd by every training run:
 * header, sample bytes (bit-packed binary frames or uint8 frames), labels,
 * for detection datasets a box section (version 2), CRC-32 trailer;
 * docs/formats.md gives the byte layout.  Version 1 files (classification
 * only) still open; new files are version 2.  The file is
 * hostile on open: every size is checked against the file's length and
 * the checksum before a pointer into it is handed out.  Also here: the
 * lt_dataset helpers and lt_dataset_get, which unpacks samples into the
 * float batch a net reads.  Not here: how frames are made (binner.c,
 * datasets.c). */
#include "ltsnn/data.h"
#include "ltsnn/io.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- byte layout (docs/formats.md, "Frame cache") ---- */
static const char CACHE_MAGIC[8] = {'L', 'T', 'S', 'N', 'N', 'F', 'R', 'M'};
#define CACHE_VERSION 2u
enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 8,
    OFF_BITS = 12,
    OFF_N = 16,
    OFF_TS = 24,
    OFF_C = 28,
    OFF_H = 32,
    OFF_W = 36,
    OFF_CLASSES = 40,
    OFF_SCALE = 44,
    OFF_SAMPLE_BYTES = 48,
    OFF_DATA = 56,
    OFF_LABELS = 64,
    OFF_FILE_SIZE = 72,
    OFF_NAME = 80,
    NAME_LEN = 64,
    OFF_OPTS_LEN = 144,
    OFF_NAMES_LEN = 148,
    HDR_FIXED_V1 = 152,
    /* version 2 adds the task and the detection section's place and sizes */
    OFF_TASK = 152,
    OFF_SENSOR_W = 156,
    OFF_SENSOR_H = 160,
    OFF_N_RECS = 164,
    OFF_N_BOXES = 168,
    OFF_DET = 176,
    OFF_RECS_LEN = 184,
    OFF_RESERVED = 188,
    HDR_FIXED = 192,
    BOX_BYTES = 20, /* f32 cx, cy, w, h, u32 class */
    TRAILER = 4,
    ALIGN = 64
};

/* Limits that keep every product below 2^63 and reject absurd headers early. */
#define MAX_TS (1 << 20)
#define MAX_SIDE 65536
#define MAX_CLASSES (1 << 20)
#define MAX_NAMES_LEN (16u << 20)
#define MAX_RECS_LEN (1u << 30)

static size_t align_up(size_t v) { return (v + (ALIGN - 1)) & ~(size_t)(ALIGN - 1); }
static size_t align8(size_t v) { return (v + 7) & ~(size_t)7; }

/* Bytes of a detection section: box_start [n+1] u64, sample_t [n] i64,
 * sample_rec [n] u32 padded to 8, boxes, recording names. */
static size_t det_bytes(size_t n, size_t n_boxes, size_t recs_len)
{
    return 8 * (n + 1) + 8 * n + align8(4 * n) + BOX_BYTES * n_boxes + recs_len;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const uint8_t *p) { return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32; }

static int host_is_le(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* zlib's crc32 takes a uInt length; crc32_z a size_t one. */
static uLong crc_bytes(uLong crc, const void *p, size_t n) { return crc32_z(crc, (const Bytef *)p, n); }

/* ---- lt_dataset helpers ---- */

size_t lt_dataset_sample_bytes(int Ts, int C, int H, int W, int bits)
{
    if (Ts < 1 || C < 1 || H < 1 || W < 1 || (bits != 1 && bits != 8))
        return 0;
    size_t n = (size_t)Ts;
    if (!lt_mul_ok(n, (size_t)C, &n) || !lt_mul_ok(n, (size_t)H, &n) || !lt_mul_ok(n, (size_t)W, &n))
        return 0;
    return bits == 1 ? n / 8 + (n % 8 != 0) : n;
}

static void free_names(char **names, size_t count)
{
    if (!names)
        return;
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

void lt_dataset_free(lt_dataset *d)
{
    if (!d)
        return;
    free_names(d->class_names, (size_t)d->classes);
    free_names(d->rec_names, d->n_recs);
    free(d->det_owned);
    lt_free(d->mem_owned);
    if (d->map_base)
        munmap(d->map_base, d->map_len);
    memset(d, 0, sizeof *d);
}

lt_status lt_dataset_alloc(lt_dataset *d, size_t n, int Ts, int C, int H, int W, int classes, int bits,
                           float scale, lt_err *err)
{
    memset(d, 0, sizeof *d);
    size_t sb = lt_dataset_sample_bytes(Ts, C, H, W, bits);
    if (!sb || classes < 1 || !(scale > 0) || !isfinite(scale))
        return lt_err_set(err, LT_ERR_ARG,
                          "dataset shape Ts=%d C=%d H=%d W=%d classes=%d bits=%d scale=%g: expected positive "
                          "sizes, bits 1 or 8, a positive scale",
                          Ts, C, H, W, classes, bits, (double)scale);
    size_t data_bytes, label_bytes, total;
    if (!lt_mul_ok(n, sb, &data_bytes) || !lt_mul_ok(n, sizeof(int32_t), &label_bytes) ||
        (total = align_up(data_bytes) + label_bytes) < data_bytes)
        return lt_err_set(err, LT_ERR_NOMEM, "dataset of %zu samples x %zu bytes overflows size_t", n, sb);
    uint8_t *mem = lt_calloc(total);
    if (!mem)
        return lt_err_set(err, LT_ERR_NOMEM, "cannot allocate %zu bytes for %zu samples", total, n);
    d->n = n;
    d->Ts = Ts, d->C = C, d->H = H, d->W = W;
    d->classes = classes;
    d->bits = bits;
    d->scale = scale;
    d->sample_bytes = sb;
    d->mem_owned = mem;
    d->data = mem;
    d->labels = (const int32_t *)(mem + align_up(data_bytes));
    return LT_OK;
}

lt_status lt_dataset_set_class_names(lt_dataset *d, const char *const *names, lt_err *err)
{
    free_names(d->class_names, (size_t)d->classes);
    d->class_names = NULL;
    if (!names || d->classes < 1)
        return LT_OK;
    char **c = calloc((size_t)d->classes, sizeof *c);
    if (!c)
        return lt_err_set(err, LT_ERR_NOMEM, "cannot allocate %d class names", d->classes);
    for (int i = 0; i < d->classes; i++) {
        c[i] = strdup(names[i] ? names[i] : "");
        if (!c[i]) {
            free_names(c, (size_t)i);
            return lt_err_set(err, LT_ERR_NOMEM, "cannot allocate class name %d", i);
        }
    }
    d->class_names = c;
    return LT_OK;
}

void lt_frames_pack(uint8_t *bits, const uint8_t *frames, size_t n)
{
    size_t full = n / 8;
    for (size_t i = 0; i < full; i++) {
        const uint8_t *f = frames + 8 * i;
        bits[i] = (uint8_t)((f[0] != 0) | (f[1] != 0) << 1 | (f[2] != 0) << 2 | (f[3] != 0) << 3 |
                            (f[4] != 0) << 4 | (f[5] != 0) << 5 | (f[6] != 0) << 6 | (f[7] != 0) << 7);
    }
    if (n % 8) {
        uint8_t b = 0;
        for (size_t k = 0; k < n % 8; k++)
            b |= (uint8_t)((frames[8 * full + k] != 0) << k);
        bits[full] = b;
    }
}

/* ---- unpacking into a batch ---- */

/* bit_lut[b][k] = bit k of b as a float: one 32-byte copy per packed byte. */
#define LT_B8(b) {(float)((b) & 1), (float)((b) >> 1 & 1), (float)((b) >> 2 & 1), (float)((b) >> 3 & 1), \
                  (float)((b) >> 4 & 1), (float)((b) >> 5 & 1), (float)((b) >> 6 & 1), (float)((b) >> 7 & 1)}
#define LT_B16(b) LT_B8(b), LT_B8(b + 1), LT_B8(b + 2), LT_B8(b + 3), LT_B8(b + 4), LT_B8(b + 5), \
                  LT_B8(b + 6), LT_B8(b + 7), LT_B8(b + 8), LT_B8(b + 9), LT_B8(b + 10), LT_B8(b + 11), \
                  LT_B8(b + 12), LT_B8(b + 13), LT_B8(b + 14), LT_B8(b + 15)
#define LT_B64(b) LT_B16(b), LT_B16(b + 16), LT_B16(b + 32), LT_B16(b + 48)
static const float bit_lut[256][8] = {LT_B64(0), LT_B64(64), LT_B64(128), LT_B64(192)};

/* dst[0..nbits) = bits bit0 .. bit0+nbits of src (LSB-first) times scale. */
static void unpack_bits(float *dst, const uint8_t *src, size_t bit0, size_t nbits, float scale)
{
    const uint8_t *p = src + bit0 / 8;
    unsigned sh = (unsigned)(bit0 % 8);
    size_t i = 0;
    if (sh) {
        for (; i < nbits && sh < 8; i++, sh++)
            dst[i] = (float)((*p >> sh) & 1);
        p++;
    }
    for (; i + 8 <= nbits; i += 8, p++)
        memcpy(dst + i, bit_lut[*p], sizeof bit_lut[0]);
    for (unsigned k = 0; i < nbits; i++, k++)
        dst[i] = (float)((*p >> k) & 1);
    if (scale != 1.0f)
        for (size_t j = 0; j < nbits; j++)
            dst[j] *= scale;
}

static void unpack_u8(float *dst, const uint8_t *src, size_t n, float scale)
{
    for (size_t j = 0; j < n; j++)
        dst[j] = (float)src[j] * scale;
}

lt_status lt_dataset_check_T(const lt_dataset *d, int T, lt_err *err)
{
    if (T < 1 || !(d->Ts == T || d->Ts == 1))
        return lt_err_set(err, LT_ERR_SHAPE,
                          "dataset '%s' stores %d frame(s) per sample but the run uses T = %d time steps "
                          "(expected T == %d, or a dataset with 1 frame fed at every step)",
                          d->name, d->Ts, T, d->Ts);
    return LT_OK;
}

void lt_dataset_get(const lt_dataset *d, size_t i, float *x, int T, int B, int b)
{
    assert(i < d->n && b >= 0 && b < B && T >= 1);
    assert(d->Ts == T || d->Ts == 1);
    const size_t frame = (size_t)d->C * (size_t)d->H * (size_t)d->W;
    const uint8_t *s = d->data + i * d->sample_bytes;
    const int stored = d->Ts;
    for (int t = 0; t < stored; t++) {
        float *dst = x + ((size_t)t * (size_t)B + (size_t)b) * frame;
        if (d->bits == 1)
            unpack_bits(dst, s, (size_t)t * frame, frame, d->scale);
        else
            unpack_u8(dst, s + (size_t)t * frame, frame, d->scale);
    }
    /* Ts == 1: a static image, fed unchanged at every step (METHOD.md §6). */
    for (int t = stored; t < T; t++)
        memcpy(x + ((size_t)t * (size_t)B + (size_t)b) * frame, x + (size_t)b * frame, frame * sizeof(float));
}

/* ---- writing ---- */

/* A growable array of fixed-size items, for what the writer keeps in memory
 * until commit (labels; boxes and per-sample box data of a detection cache). */
typedef struct growbuf {
    uint8_t *p;
    size_t n, cap; /* items */
} growbuf;

static int grow_push(growbuf *g, const void *item, size_t size)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 1024;
        uint8_t *q = cap > SIZE_MAX / size ? NULL : realloc(g->p, cap * size);
        if (!q)
            return 0;
        g->p = q;
        g->cap = cap;
    }
    memcpy(g->p + g->n * size, item, size);
    g->n++;
    return 1;
}

struct lt_cache_writer {
    lt_afile af;
    uint8_t *hdr;         /* [data_offset] bytes before the samples */
    size_t data_offset;
    size_t sample_bytes;
    int classes;
    lt_task task;
    size_t n;
    growbuf labels;       /* int32 [n] */
    /* detection: boxes [n_boxes], box_count u64 [n], t i64 [n], rec u32 [n], recording names */
    growbuf boxes, box_count, sample_t, sample_rec;
    char *recs;           /* the names, each NUL-terminated, recs_len bytes */
    size_t recs_len, recs_cap, n_recs;
    uLong crc_body;       /* CRC-32 of everything from data_offset on */
    uint64_t body_len;
};

static lt_status check_shape(const lt_dataset *s, const char *path, size_t *opts_len, size_t *names_len,
                             lt_err *err)
{
    if (s->bits != 1 && s->bits != 8)
        return lt_err_set(err, LT_ERR_ARG, "%s: bits = %d, expected 1 or 8", path, s->bits);
    if (s->Ts < 1 || s->Ts > MAX_TS || s->C < 1 || s->C > MAX_SIDE || s->H < 1 || s->H > MAX_SIDE || s->W < 1 ||
        s->W > MAX_SIDE)
        return lt_err_set(err, LT_ERR_ARG, "%s: frame shape Ts=%d C=%d H=%d W=%d out of range", path, s->Ts,
                          s->C, s->H, s->W);
    if (s->classes < 1 || s->classes > MAX_CLASSES)
        return lt_err_set(err, LT_ERR_ARG, "%s: %d classes, expected 1..%d", path, s->classes, MAX_CLASSES);
    if (!(s->scale > 0) || !isfinite(s->scale))
        return lt_err_set(err, LT_ERR_ARG, "%s: scale %g, expected a positive number", path, (double)s->scale);
    if (s->task != LT_TASK_CLASSIFY && s->task != LT_TASK_DETECT)
        return lt_err_set(err, LT_ERR_ARG, "%s: task %d, expected classify (0) or detect (1)", path, (int)s->task);
    if (s->task == LT_TASK_DETECT &&
        (s->sensor_w < 1 || s->sensor_w > MAX_SIDE || s->sensor_h < 1 || s->sensor_h > MAX_SIDE))
        return lt_err_set(err, LT_ERR_ARG, "%s: detection cache with sensor %dx%d, expected 1..%d each", path,
                          s->sensor_w, s->sensor_h, MAX_SIDE);
    size_t sb = lt_dataset_sample_bytes(s->Ts, s->C, s->H, s->W, s->bits);
    if (!sb)
        return lt_err_set(err, LT_ERR_ARG, "%s: sample size overflows", path);
    if (strnlen(s->name, sizeof s->name) >= NAME_LEN)
        return lt_err_set(err, LT_ERR_ARG, "%s: dataset name longer than %d bytes", path, NAME_LEN - 1);
    *opts_len = strnlen(s->opts, sizeof s->opts);
    if (*opts_len >= sizeof s->opts)
        return lt_err_set(err, LT_ERR_ARG, "%s: options text not terminated within %zu bytes", path,
                          sizeof s->opts);
    *names_len = 0;
    if (s->class_names) {
        for (int c = 0; c < s->classes; c++) {
            *names_len += strlen(s->class_names[c]) + 1;
            if (*names_len > MAX_NAMES_LEN)
                return lt_err_set(err, LT_ERR_ARG, "%s: class names longer than %u bytes", path, MAX_NAMES_LEN);
        }
    }
    return LT_OK;
}

lt_status lt_cache_writer_open(lt_cache_writer **out, const char *path, const lt_dataset *s, lt_err *err)
{
    *out = NULL;
    size_t opts_len = 0, names_len = 0;
    lt_status st = check_shape(s, path, &opts_len, &names_len, err);
    if (st)
        return st;
    lt_cache_writer *w = calloc(1, sizeof *w);
    if (!w)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: cannot allocate the cache writer", path);
    w->sample_bytes = lt_dataset_sample_bytes(s->Ts, s->C, s->H, s->W, s->bits);
    w->classes = s->classes;
    w->task = s->task;
    w->data_offset = align_up(HDR_FIXED + opts_len + names_len);
    w->hdr = calloc(1, w->data_offset);
    if (!w->hdr) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: cannot allocate the header", path);
        goto free_writer;
    }
    uint8_t *h = w->hdr;
    memcpy(h + OFF_MAGIC, CACHE_MAGIC, sizeof CACHE_MAGIC);
    put_u32(h + OFF_VERSION, CACHE_VERSION);
    put_u32(h + OFF_BITS, (uint32_t)s->bits);
    put_u32(h + OFF_TS, (uint32_t)s->Ts);
    put_u32(h + OFF_C, (uint32_t)s->C);
    put_u32(h + OFF_H, (uint32_t)s->H);
    put_u32(h + OFF_W, (uint32_t)s->W);
    put_u32(h + OFF_CLASSES, (uint32_t)s->classes);
    uint32_t scale_bits;
    memcpy(&scale_bits, &s->scale, 4);
    put_u32(h + OFF_SCALE, scale_bits);
    put_u64(h + OFF_SAMPLE_BYTES, w->sample_bytes);
    put_u64(h + OFF_DATA, w->data_offset);
    memcpy(h + OFF_NAME, s->name, strnlen(s->name, NAME_LEN - 1));
    put_u32(h + OFF_OPTS_LEN, (uint32_t)opts_len);
    put_u32(h + OFF_NAMES_LEN, (uint32_t)names_len);
    put_u32(h + OFF_TASK, (uint32_t)s->task);
    if (s->task == LT_TASK_DETECT) {
        put_u32(h + OFF_SENSOR_W, (uint32_t)s->sensor_w);
        put_u32(h + OFF_SENSOR_H, (uint32_t)s->sensor_h);
    }
    memcpy(h + HDR_FIXED, s->opts, opts_len);
    uint8_t *q = h + HDR_FIXED + opts_len;
    for (int c = 0; s->class_names && c < s->classes; c++) {
        size_t l = strlen(s->class_names[c]);
        memcpy(q, s->class_names[c], l);
        q += l + 1; /* the NUL is already there (calloc) */
    }
    w->crc_body = crc32_z(0L, Z_NULL, 0);
    st = lt_afile_open(&w->af, path, err);
    if (st)
        goto free_writer;
    /* A placeholder header: n, the offsets and the size are only known at commit. */
    if (fwrite(w->hdr, 1, w->data_offset, w->af.f) != w->data_offset) {
        st = lt_err_set(err, LT_ERR_IO, "%s: cannot write the header: %s", path, strerror(errno));
        lt_afile_abort(&w->af);
        goto free_writer;
    }
    *out = w;
    return LT_OK;

free_writer:
    free(w->hdr);
    free(w);
    return st;
}

size_t lt_cache_writer_count(const lt_cache_writer *w) { return w->n; }

static lt_status write_body(lt_cache_writer *w, const void *p, size_t n, lt_err *err)
{
    if (n && fwrite(p, 1, n, w->af.f) != n)
        return lt_err_set(err, LT_ERR_IO, "%s: write failed at byte %llu: %s", w->af.path,
                          (unsigned long long)(w->data_offset + w->body_len), strerror(errno));
    w->crc_body = crc_bytes(w->crc_body, p, n);
    w->body_len += n;
    return LT_OK;
}

static lt_status add_sample(lt_cache_writer *w, const uint8_t *sample, int32_t label, lt_err *err)
{
    if (!grow_push(&w->labels, &label, sizeof label))
        return lt_err_set(err, LT_ERR_NOMEM, "%s: cannot grow the label list past %zu", w->af.path, w->n);
    lt_status st = write_body(w, sample, w->sample_bytes, err);
    if (st) {
        w->labels.n--;
        return st;
    }
    w->n++;
    return LT_OK;
}

lt_status lt_cache_writer_add(lt_cache_writer *w, const uint8_t *sample, int32_t label, lt_err *err)
{
    if (w->task != LT_TASK_CLASSIFY)
        return lt_err_set(err, LT_ERR_ARG, "%s: a detection cache takes samples with boxes (lt_cache_writer_add_det)",
                          w->af.path);
    if (label < 0 || label >= w->classes)
        return lt_err_set(err, LT_ERR_ARG, "%s: sample %zu: label %d, expected 0..%d", w->af.path, w->n,
                          (int)label, w->classes - 1);
    return add_sample(w, sample, label, err);
}

lt_status lt_cache_writer_add_rec(lt_cache_writer *w, const char *name, uint32_t *index, lt_err *err)
{
    size_t l = strlen(name) + 1;
    if (w->task != LT_TASK_DETECT)
        return lt_err_set(err, LT_ERR_ARG, "%s: recordings belong to detection caches", w->af.path);
    if (w->n_recs >= UINT32_MAX || l > MAX_RECS_LEN - w->recs_len)
        return lt_err_set(err, LT_ERR_ARG, "%s: more recording names than a cache holds (%zu, %zu bytes)",
                          w->af.path, w->n_recs, w->recs_len);
    if (w->recs_len + l > w->recs_cap) {
        size_t cap = w->recs_cap ? 2 * w->recs_cap : 4096;
        while (cap < w->recs_len + l)
            cap *= 2;
        char *r = realloc(w->recs, cap);
        if (!r)
            return lt_err_set(err, LT_ERR_NOMEM, "%s: cannot grow the recording names", w->af.path);
        w->recs = r;
        w->recs_cap = cap;
    }
    memcpy(w->recs + w->recs_len, name, l);
    w->recs_len += l;
    *index = (uint32_t)w->n_recs++;
    return LT_OK;
}

lt_status lt_cache_writer_add_det(lt_cache_writer *w, const uint8_t *sample, const lt_box *boxes, size_t n_boxes,
                                  uint32_t rec, int64_t t_us, lt_err *err)
{
    if (w->task != LT_TASK_DETECT)
        return lt_err_set(err, LT_ERR_ARG, "%s: boxes belong to detection caches (lt_cache_writer_add)", w->af.path);
    if (rec >= w->n_recs)
        return lt_err_set(err, LT_ERR_ARG, "%s: sample %zu: recording %u, but %zu are named", w->af.path, w->n,
                          rec, w->n_recs);
    for (size_t k = 0; k < n_boxes; k++) {
        const lt_box *b = &boxes[k];
        /* a box is cut to the image: its centre lies inside, its sides are (0, 1] */
        if (!(b->w > 0 && b->w <= 1 && b->h > 0 && b->h <= 1 && b->cx >= 0 && b->cx <= 1 && b->cy >= 0 &&
              b->cy <= 1) || b->cls < 0 || b->cls >= w->classes)
            return lt_err_set(err, LT_ERR_ARG, "%s: sample %zu box %zu: class %d centre (%g, %g) size %g x %g, "
                              "expected a class in 0..%d and a box inside the image (fractions)", w->af.path, w->n,
                              k, (int)b->cls, (double)b->cx, (double)b->cy, (double)b->w, (double)b->h,
                              w->classes - 1);
    }
    uint64_t nb = n_boxes;
    size_t had = w->boxes.n;
    for (size_t k = 0; k < n_boxes; k++)
        if (!grow_push(&w->boxes, &boxes[k], sizeof boxes[k]))
            goto nomem;
    if (!grow_push(&w->box_count, &nb, sizeof nb))
        goto nomem;
    if (!grow_push(&w->sample_t, &t_us, sizeof t_us)) {
        w->box_count.n--;
        goto nomem;
    }
    if (!grow_push(&w->sample_rec, &rec, sizeof rec)) {
        w->box_count.n--, w->sample_t.n--;
        goto nomem;
    }
    lt_status st = add_sample(w, sample, 0, err);
    if (st) {
        w->box_count.n--, w->sample_t.n--, w->sample_rec.n--;
        w->boxes.n = had;
    }
    return st;
nomem:
    w->boxes.n = had;
    return lt_err_set(err, LT_ERR_NOMEM, "%s: cannot grow the box lists past %zu boxes", w->af.path, had);
}

void lt_cache_writer_abort(lt_cache_writer *w)
{
    if (!w)
        return;
    lt_afile_abort(&w->af);
    free(w->hdr);
    free(w->labels.p);
    free(w->boxes.p);
    free(w->box_count.p);
    free(w->sample_t.p);
    free(w->sample_rec.p);
    free(w->recs);
    free(w);
}

/* The detection section (docs/formats.md), little-endian, after the labels. */
static lt_status write_det(lt_cache_writer *w, lt_err *err)
{
    lt_status st;
    uint8_t le[BOX_BYTES];
    uint64_t start = 0;
    put_u64(le, 0);
    if ((st = write_body(w, le, 8, err)))
        return st;
    for (size_t i = 0; i < w->n; i++) {
        uint64_t c;
        memcpy(&c, w->box_count.p + 8 * i, 8);
        start += c;
        put_u64(le, start);
        if ((st = write_body(w, le, 8, err)))
            return st;
    }
    for (size_t i = 0; i < w->n; i++) {
        int64_t t;
        memcpy(&t, w->sample_t.p + 8 * i, 8);
        put_u64(le, (uint64_t)t);
        if ((st = write_body(w, le, 8, err)))
            return st;
    }
    for (size_t i = 0; i < w->n; i++) {
        uint32_t r;
        memcpy(&r, w->sample_rec.p + 4 * i, 4);
        put_u32(le, r);
        if ((st = write_body(w, le, 4, err)))
            return st;
    }
    static const uint8_t zeros[8];
    if ((st = write_body(w, zeros, align8(4 * w->n) - 4 * w->n, err)))
        return st;
    for (size_t k = 0; k < w->boxes.n; k++) {
        lt_box b;
        memcpy(&b, w->boxes.p + k * sizeof b, sizeof b);
        const float f[4] = {b.cx, b.cy, b.w, b.h};
        for (int j = 0; j < 4; j++) {
            uint32_t u;
            memcpy(&u, &f[j], 4);
            put_u32(le + 4 * j, u);
        }
        put_u32(le + 16, (uint32_t)b.cls);
        if ((st = write_body(w, le, BOX_BYTES, err)))
            return st;
    }
    return write_body(w, w->recs, w->recs_len, err);
}

lt_status lt_cache_writer_commit(lt_cache_writer *w, lt_err *err)
{
    lt_status st;
    static const uint8_t zeros[ALIGN];
    size_t data_end = w->data_offset + (size_t)w->body_len;
    size_t labels_offset = align_up(data_end);
    if ((st = write_body(w, zeros, labels_offset - data_end, err)))
        goto abort;
    for (size_t i = 0; i < w->n; i++) {
        int32_t y;
        uint8_t le[4];
        memcpy(&y, w->labels.p + 4 * i, 4);
        put_u32(le, (uint32_t)y);
        if ((st = write_body(w, le, 4, err)))
            goto abort;
    }
    size_t file_size = labels_offset + 4 * w->n + TRAILER;
    if (w->task == LT_TASK_DETECT) {
        size_t det_offset = align_up(labels_offset + 4 * w->n);
        if ((st = write_body(w, zeros, det_offset - (labels_offset + 4 * w->n), err)) || (st = write_det(w, err)))
            goto abort;
        file_size = det_offset + det_bytes(w->n, w->boxes.n, w->recs_len) + TRAILER;
        put_u64(w->hdr + OFF_DET, det_offset);
        put_u64(w->hdr + OFF_N_BOXES, w->boxes.n);
        put_u32(w->hdr + OFF_N_RECS, (uint32_t)w->n_recs);
        put_u32(w->hdr + OFF_RECS_LEN, (uint32_t)w->recs_len);
    }
    put_u64(w->hdr + OFF_N, w->n);
    put_u64(w->hdr + OFF_LABELS, labels_offset);
    put_u64(w->hdr + OFF_FILE_SIZE, file_size);
    /* CRC of header + body without a second pass over the samples. */
    uLong crc = crc_bytes(crc32_z(0L, Z_NULL, 0), w->hdr, w->data_offset);
    crc = crc32_combine(crc, w->crc_body, (z_off_t)w->body_len);
    uint8_t tail[TRAILER];
    put_u32(tail, (uint32_t)crc);
    if (fwrite(tail, 1, TRAILER, w->af.f) != TRAILER || fseek(w->af.f, 0, SEEK_SET) != 0 ||
        fwrite(w->hdr, 1, w->data_offset, w->af.f) != w->data_offset) {
        st = lt_err_set(err, LT_ERR_IO, "%s: cannot finish the file: %s", w->af.path, strerror(errno));
        goto abort;
    }
    st = lt_afile_commit(&w->af, err);
abort:
    lt_cache_writer_abort(w);
    return st;
}

lt_status lt_cache_write(const char *path, const lt_dataset *d, lt_err *err)
{
    size_t sb = lt_dataset_sample_bytes(d->Ts, d->C, d->H, d->W, d->bits);
    if (!sb || sb != d->sample_bytes)
        return lt_err_set(err, LT_ERR_SHAPE, "%s: dataset sample_bytes %zu, its shape needs %zu", path,
                          d->sample_bytes, sb);
    lt_cache_writer *w;
    lt_status st = lt_cache_writer_open(&w, path, d, err);
    if (st)
        return st;
    uint32_t r;
    for (size_t k = 0; k < d->n_recs && d->task == LT_TASK_DETECT && !st; k++)
        st = lt_cache_writer_add_rec(w, d->rec_names[k], &r, err);
    for (size_t i = 0; i < d->n && !st; i++) {
        const uint8_t *s = d->data + i * sb;
        if (d->task == LT_TASK_DETECT)
            st = lt_cache_writer_add_det(w, s, d->boxes + d->box_start[i], d->box_start[i + 1] - d->box_start[i],
                                         d->sample_rec[i], d->sample_t[i], err);
        else
            st = lt_cache_writer_add(w, s, d->labels[i], err);
    }
    if (st) {
        lt_cache_writer_abort(w);
        return st;
    }
    return lt_cache_writer_commit(w, err);
}

/* ---- reading ---- */

static lt_status bad(lt_err *err, const char *path, size_t off, const char *what, unsigned long long got)
{
    return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %zu: %s (found %llu); not a valid ltsnn frame cache", path,
                      off, what, got);
}

/* The version-2 fields between the version-1 header and the options text. */
typedef struct det_hdr {
    uint32_t task, sensor_w, sensor_h, n_recs, recs_len;
    uint64_t n_boxes, det_offset;
} det_hdr;

static lt_status parse_v2_fields(det_hdr *h, const uint8_t *m, const char *path, lt_err *err)
{
    h->task = get_u32(m + OFF_TASK);
    h->sensor_w = get_u32(m + OFF_SENSOR_W), h->sensor_h = get_u32(m + OFF_SENSOR_H);
    h->n_recs = get_u32(m + OFF_N_RECS), h->recs_len = get_u32(m + OFF_RECS_LEN);
    h->n_boxes = get_u64(m + OFF_N_BOXES), h->det_offset = get_u64(m + OFF_DET);
    if (h->task != LT_TASK_CLASSIFY && h->task != LT_TASK_DETECT)
        return bad(err, path, OFF_TASK, "expected task 0 (classify) or 1 (detect)", h->task);
    if (get_u32(m + OFF_RESERVED))
        return bad(err, path, OFF_RESERVED, "expected 0 in the reserved field", get_u32(m + OFF_RESERVED));
    if (h->task == LT_TASK_CLASSIFY) {
        /* a classification file has no detection section: all of its fields are 0 */
        if (h->sensor_w || h->sensor_h || h->n_recs || h->recs_len || h->n_boxes || h->det_offset)
            return bad(err, path, OFF_SENSOR_W, "expected bytes 156..191 all 0 in a classification cache",
                       (unsigned long long)(h->sensor_w | h->sensor_h | h->n_recs | h->recs_len | h->n_boxes |
                                            h->det_offset));
        return LT_OK;
    }
    if (h->sensor_w < 1 || h->sensor_w > MAX_SIDE)
        return bad(err, path, OFF_SENSOR_W, "expected a sensor width 1..65536", h->sensor_w);
    if (h->sensor_h < 1 || h->sensor_h > MAX_SIDE)
        return bad(err, path, OFF_SENSOR_H, "expected a sensor height 1..65536", h->sensor_h);
    if (h->recs_len > MAX_RECS_LEN || h->n_recs > h->recs_len)
        return bad(err, path, OFF_RECS_LEN, "expected at most 2^30 bytes of recording names, one or more a name",
                   h->recs_len);
    return LT_OK;
}

/* The detection section (det_hdr h, after CRC and sizes were checked) into
 * one heap block: box_start, sample_t, sample_rec, boxes; names separately. */
static lt_status parse_det(lt_dataset *d, const uint8_t *m, const det_hdr *h, const char *path, lt_err *err)
{
    const size_t n = d->n, nb = (size_t)h->n_boxes;
    const size_t off_start = (size_t)h->det_offset, off_t = off_start + 8 * (n + 1), off_rec = off_t + 8 * n,
                 off_box = off_rec + align8(4 * n), off_names = off_box + BOX_BYTES * nb;
    /* sizes are bounded by the file's length, checked before: no overflow */
    size_t bytes = 8 * (n + 1) + 8 * n + 4 * n + sizeof(lt_box) * nb;
    uint8_t *blk = malloc(bytes ? bytes : 1);
    if (!blk)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: cannot allocate %zu bytes of boxes", path, bytes);
    d->det_owned = blk;
    uint64_t *start = (uint64_t *)blk;
    int64_t *ts = (int64_t *)(blk + 8 * (n + 1));
    uint32_t *rec = (uint32_t *)(blk + 16 * n + 8);
    lt_box *box = (lt_box *)(blk + 16 * n + 8 + 4 * n);
    for (size_t i = 0; i <= n; i++) {
        start[i] = get_u64(m + off_start + 8 * i);
        if ((i == 0 && start[0] != 0) || (i > 0 && start[i] < start[i - 1]) || start[i] > h->n_boxes ||
            (i == n && start[i] != h->n_boxes))
            return bad(err, path, off_start + 8 * i, "expected box_start to rise from 0 to the box count",
                       (unsigned long long)start[i]);
    }
    for (size_t i = 0; i < n; i++) {
        ts[i] = (int64_t)get_u64(m + off_t + 8 * i);
        rec[i] = get_u32(m + off_rec + 4 * i);
        if (rec[i] >= h->n_recs)
            return bad(err, path, off_rec + 4 * i, "expected a recording index below the recording count", rec[i]);
    }
    for (size_t k = 0; k < nb; k++) {
        const uint8_t *p = m + off_box + BOX_BYTES * k;
        float f[4];
        for (int j = 0; j < 4; j++) {
            uint32_t u = get_u32(p + 4 * j);
            memcpy(&f[j], &u, 4);
        }
        uint32_t cls = get_u32(p + 16);
        box[k] = (lt_box){f[0], f[1], f[2], f[3], (int32_t)cls};
        if (!(f[2] > 0 && f[2] <= 1 && f[3] > 0 && f[3] <= 1 && f[0] >= 0 && f[0] <= 1 && f[1] >= 0 && f[1] <= 1) ||
            cls >= (uint32_t)d->classes)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %zu: box %zu has class %u centre (%g, %g) size %g x %g; "
                              "expected a class below %d and a box inside the image", path, off_box + BOX_BYTES * k,
                              k, cls, (double)f[0], (double)f[1], (double)f[2], (double)f[3], d->classes);
    }
    const char *names = (const char *)m + off_names;
    size_t nul = 0;
    for (size_t k = 0; k < h->recs_len; k++)
        nul += names[k] == 0;
    if (nul != h->n_recs || (h->recs_len && names[h->recs_len - 1] != 0))
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %zu: expected %u NUL-terminated recording names in %u bytes",
                          path, off_names, h->n_recs, h->recs_len);
    d->rec_names = calloc(h->n_recs ? h->n_recs : 1, sizeof *d->rec_names);
    if (!d->rec_names)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: cannot allocate recording names", path);
    d->n_recs = h->n_recs;
    for (uint32_t r = 0; r < h->n_recs; r++) {
        if (!(d->rec_names[r] = strdup(names)))
            return lt_err_set(err, LT_ERR_NOMEM, "%s: cannot allocate recording names", path);
        names += strlen(names) + 1;
    }
    d->task = LT_TASK_DETECT;
    d->box_start = start, d->sample_t = ts, d->sample_rec = rec, d->boxes = box;
    d->sensor_w = (int)h->sensor_w, d->sensor_h = (int)h->sensor_h;
    return LT_OK;
}

static lt_status parse(lt_dataset *d, const uint8_t *m, size_t len, const char *path, lt_err *err)
{
    if (len < HDR_FIXED_V1 + TRAILER)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: %zu bytes, too short for an ltsnn frame cache "
                          "(expected at least %d)", path, len, HDR_FIXED_V1 + TRAILER);
    if (memcmp(m + OFF_MAGIC, CACHE_MAGIC, sizeof CACHE_MAGIC))
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte 0: expected the magic \"LTSNNFRM\" of an ltsnn frame "
                          "cache", path);
    uint32_t version = get_u32(m + OFF_VERSION);
    if (version != 1 && version != CACHE_VERSION)
        return bad(err, path, OFF_VERSION, "expected version 1 or 2", version);
    const size_t hdr_fixed = version == 1 ? HDR_FIXED_V1 : HDR_FIXED;
    if (len < hdr_fixed + TRAILER)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: %zu bytes, too short for a version %u ltsnn frame cache "
                          "(expected at least %zu)", path, len, version, hdr_fixed + TRAILER);
    det_hdr dh = {0};
    lt_status st;
    if (version == 2 && (st = parse_v2_fields(&dh, m, path, err)))
        return st;
    uint64_t file_size = get_u64(m + OFF_FILE_SIZE);
    if (file_size != len)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %d: the header says the file has %llu bytes but it has "
                          "%zu (truncated or corrupt)", path, OFF_FILE_SIZE, (unsigned long long)file_size, len);
    uint32_t bits = get_u32(m + OFF_BITS), Ts = get_u32(m + OFF_TS), C = get_u32(m + OFF_C),
             H = get_u32(m + OFF_H), W = get_u32(m + OFF_W), classes = get_u32(m + OFF_CLASSES);
    if (bits != 1 && bits != 8)
        return bad(err, path, OFF_BITS, "expected bits 1 or 8", bits);
    if (Ts < 1 || Ts > MAX_TS)
        return bad(err, path, OFF_TS, "expected 1 <= Ts <= 2^20", Ts);
    if (C < 1 || C > MAX_SIDE)
        return bad(err, path, OFF_C, "expected 1 <= C <= 65536", C);
    if (H < 1 || H > MAX_SIDE)
        return bad(err, path, OFF_H, "expected 1 <= H <= 65536", H);
    if (W < 1 || W > MAX_SIDE)
        return bad(err, path, OFF_W, "expected 1 <= W <= 65536", W);
    if (classes < 1 || classes > MAX_CLASSES)
        return bad(err, path, OFF_CLASSES, "expected 1 <= classes <= 2^20", classes);
    float scale;
    uint32_t scale_bits = get_u32(m + OFF_SCALE);
    memcpy(&scale, &scale_bits, 4);
    if (!(scale > 0) || !isfinite(scale))
        return bad(err, path, OFF_SCALE, "expected a positive finite float32 scale (raw bits shown)", scale_bits);
    size_t sb = lt_dataset_sample_bytes((int)Ts, (int)C, (int)H, (int)W, (int)bits);
    uint64_t sb_file = get_u64(m + OFF_SAMPLE_BYTES);
    if (!sb || sb_file != sb) {
        char what[96];
        snprintf(what, sizeof what, "expected sample_bytes %zu for this shape", sb);
        return bad(err, path, OFF_SAMPLE_BYTES, what, (unsigned long long)sb_file);
    }
    if (!memchr(m + OFF_NAME, 0, NAME_LEN))
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %d: dataset name not NUL-terminated within %d bytes",
                          path, OFF_NAME, NAME_LEN);
    uint32_t opts_len = get_u32(m + OFF_OPTS_LEN), names_len = get_u32(m + OFF_NAMES_LEN);
    if (opts_len >= sizeof d->opts)
        return bad(err, path, OFF_OPTS_LEN, "expected an options length below 256", opts_len);
    if (names_len > MAX_NAMES_LEN || hdr_fixed + (size_t)opts_len + names_len > len - TRAILER)
        return bad(err, path, OFF_NAMES_LEN, "class names run past the end of the file", names_len);
    size_t data_offset = align_up(hdr_fixed + (size_t)opts_len + names_len);
    uint64_t data_file = get_u64(m + OFF_DATA);
    if (data_file != data_offset) {
        char what[96];
        snprintf(what, sizeof what, "expected the samples at byte %zu", data_offset);
        return bad(err, path, OFF_DATA, what, (unsigned long long)data_file);
    }
    if (data_offset > len - TRAILER)
        return bad(err, path, OFF_DATA, "samples start past the end of the file", data_offset);
    uint64_t n = get_u64(m + OFF_N);
    /* Each sample takes sample_bytes + 4 label bytes of the file: n is bounded by the length. */
    if (n > (len - data_offset) / (sb + 4))
        return bad(err, path, OFF_N, "sample count does not fit the file length", (unsigned long long)n);
    size_t labels_offset = align_up(data_offset + (size_t)n * sb);
    uint64_t labels_file = get_u64(m + OFF_LABELS);
    if (labels_file != labels_offset) {
        char what[96];
        snprintf(what, sizeof what, "expected the labels at byte %zu", labels_offset);
        return bad(err, path, OFF_LABELS, what, (unsigned long long)labels_file);
    }
    if (dh.task == LT_TASK_DETECT) {
        size_t det_offset = align_up(labels_offset + 4 * (size_t)n);
        if (dh.det_offset != det_offset) {
            char what[96];
            snprintf(what, sizeof what, "expected the detection section at byte %zu", det_offset);
            return bad(err, path, OFF_DET, what, (unsigned long long)dh.det_offset);
        }
        if (dh.n_boxes > len / BOX_BYTES)
            return bad(err, path, OFF_N_BOXES, "box count does not fit the file length",
                       (unsigned long long)dh.n_boxes);
        size_t need = det_offset + det_bytes((size_t)n, (size_t)dh.n_boxes, dh.recs_len) + TRAILER;
        if (need != len)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: %zu bytes, but %llu samples of %zu bytes with %llu boxes and "
                              "%u bytes of recording names need exactly %zu", path, len, (unsigned long long)n, sb,
                              (unsigned long long)dh.n_boxes, dh.recs_len, need);
    } else if (labels_offset + 4 * (size_t)n + TRAILER != len) {
        return lt_err_set(err, LT_ERR_FORMAT, "%s: %zu bytes, but %llu samples of %zu bytes need exactly %zu",
                          path, len, (unsigned long long)n, sb, labels_offset + 4 * (size_t)n + TRAILER);
    }
    uint32_t crc_file = get_u32(m + len - TRAILER);
    uint32_t crc = (uint32_t)crc_bytes(crc32_z(0L, Z_NULL, 0), m, len - TRAILER);
    if (crc != crc_file)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %zu: CRC-32 0x%08x stored, 0x%08x computed over bytes "
                          "0..%zu (the file is corrupt)", path, len - TRAILER, crc_file, crc, len - TRAILER);

    /* Class names: exactly `classes` NUL-terminated strings, or none. */
    const uint8_t *names = m + hdr_fixed + opts_len;
    if (names_len) {
        size_t nul = 0;
        for (size_t k = 0; k < names_len; k++)
            nul += names[k] == 0;
        if (nul != classes || names[names_len - 1] != 0)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %d: expected %u NUL-terminated class names in %u "
                              "bytes", path, (int)hdr_fixed + (int)opts_len, classes, names_len);
    }
    d->n = (size_t)n;
    d->Ts = (int)Ts, d->C = (int)C, d->H = (int)H, d->W = (int)W;
    d->classes = (int)classes;
    d->bits = (int)bits;
    d->scale = scale;
    d->sample_bytes = sb;
    d->data = m + data_offset;
    memcpy(d->name, m + OFF_NAME, NAME_LEN);
    memcpy(d->opts, m + hdr_fixed, opts_len);
    d->opts[opts_len] = 0;

    const uint8_t *lab = m + labels_offset;
    int32_t *swapped = NULL;
    if (!host_is_le()) {
        swapped = lt_alloc(4 * (size_t)n);
        if (!swapped)
            return lt_err_set(err, LT_ERR_NOMEM, "%s: cannot allocate %llu labels", path, (unsigned long long)n);
        for (size_t i = 0; i < n; i++)
            swapped[i] = (int32_t)get_u32(lab + 4 * i);
        d->mem_owned = swapped;
        d->labels = swapped;
    } else {
        d->labels = (const int32_t *)lab; /* 64-byte aligned offset in a page-aligned map */
    }
    for (size_t i = 0; i < n; i++) {
        int32_t y = d->labels[i];
        if (y < 0 || (uint32_t)y >= classes)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %zu: sample %zu has label %d, expected 0..%u", path,
                              labels_offset + 4 * i, i, (int)y, classes - 1);
    }
    if (names_len) {
        const char *p = (const char *)names;
        d->class_names = calloc(classes, sizeof *d->class_names);
        if (!d->class_names)
            return lt_err_set(err, LT_ERR_NOMEM, "%s: cannot allocate class names", path);
        for (uint32_t c = 0; c < classes; c++) {
            if (!(d->class_names[c] = strdup(p)))
                return lt_err_set(err, LT_ERR_NOMEM, "%s: cannot allocate class names", path);
            p += strlen(p) + 1;
        }
    }
    if (dh.task == LT_TASK_DETECT)
        return parse_det(d, m, &dh, path, err);
    return LT_OK;
}

lt_status lt_cache_open(lt_dataset *d, const char *path, lt_err *err)
{
    memset(d, 0, sizeof *d);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lt_err_set(err, LT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    lt_status st = LT_OK;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        st = lt_err_set(err, LT_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto close_fd;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = lt_err_set(err, LT_ERR_IO, "%s: not a regular file", path);
        goto close_fd;
    }
    size_t len = (size_t)sb.st_size;
    if (sb.st_size < HDR_FIXED_V1 + TRAILER) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: %lld bytes, too short for an ltsnn frame cache "
                        "(expected at least %d)", path, (long long)sb.st_size, HDR_FIXED_V1 + TRAILER);
        goto close_fd;
    }
    void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        st = lt_err_set(err, LT_ERR_IO, "%s: cannot mmap %zu bytes: %s", path, len, strerror(errno));
        goto close_fd;
    }
    d->map_base = m;
    d->map_len = len;
    st = parse(d, m, len, path, err);
    if (st)
        lt_dataset_free(d);
close_fd:
    close(fd);
    return st;
}

/* ---- split file names ---- */

lt_status lt_cache_split_path(char *out, size_t cap, const char *prefix, const char *split, lt_err *err)
{
    size_t pl = strlen(prefix), el = strlen(LT_CACHE_EXT);
    if (pl > el && !strcmp(prefix + pl - el, LT_CACHE_EXT))
        pl -= el;
    int n = snprintf(out, cap, "%.*s-%s%s", (int)pl, prefix, split, LT_CACHE_EXT);
    if (n < 0 || (size_t)n >= cap)
        return lt_err_set(err, LT_ERR_ARG, "%s: cache path for split '%s' longer than %zu bytes", prefix, split,
                          cap);
    return LT_OK;
}

lt_status lt_cache_open_split(lt_dataset *d, const char *data, const char *split, lt_err *err)
{
    memset(d, 0, sizeof *d);
    struct stat sb;
    if (stat(data, &sb) == 0 && S_ISREG(sb.st_mode))
        return lt_cache_open(d, data, err);
    char path[4096];
    lt_status st = lt_cache_split_path(path, sizeof path, data, split, err);
    if (st)
        return st;
    if (stat(path, &sb) != 0)
        return lt_err_set(err, LT_ERR_IO, "%s is not a cache file and %s does not exist (%s); make one with "
                          "ltsnn data prepare NAME ROOT --out %s", data, path, strerror(errno), data);
    return lt_cache_open(d, path, err);
}
