/* safetensors.c -- read and write the safetensors checkpoint format.
 *
 * Layout: an 8-byte little-endian u64 N, N bytes of UTF-8 JSON
 *   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...,
 *    "__metadata__": {"key": "value", ...}}
 * then the data section; offsets count from its first byte.  The reader
 * treats the file as hostile: every length, offset and shape is checked
 * before it is used, and each refusal names the file, the tensor and the
 * bytes at fault.  This file knows nothing about networks: which tensors a
 * checkpoint must hold is the loader's business (src/nn, src/train). */
#include "ltsnn/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* The data pointers handed out (lt_st_tensor.data) and the bytes written
 * are the host's own; the format is little-endian, so a big-endian port
 * would need byte swaps in lt_stw_write and in every user of .data. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

/* Headers above this are refused as absurd (the reference implementation's limit). */
#define ST_HEADER_MAX ((uint64_t)100 << 20)
/* Largest integer a JSON number (a double) holds exactly. */
#define ST_INT_MAX 9007199254740992.0

static const struct {
    const char *name;
    size_t size;
} dtypes[] = {
    [LT_F32] = {"F32", 4}, [LT_F64] = {"F64", 8}, [LT_F16] = {"F16", 2}, [LT_BF16] = {"BF16", 2},
    [LT_I8] = {"I8", 1},   [LT_I16] = {"I16", 2}, [LT_I32] = {"I32", 4}, [LT_I64] = {"I64", 8},
    [LT_U8] = {"U8", 1},   [LT_U16] = {"U16", 2}, [LT_U32] = {"U32", 4}, [LT_U64] = {"U64", 8},
    [LT_BOOL] = {"BOOL", 1},
};
#define N_DTYPES (sizeof dtypes / sizeof dtypes[0])

size_t lt_dtype_size(lt_dtype t) { return (unsigned)t < N_DTYPES ? dtypes[t].size : 0; }

const char *lt_dtype_name(lt_dtype t) { return (unsigned)t < N_DTYPES ? dtypes[t].name : "?"; }

static int dtype_parse(const char *s, lt_dtype *out)
{
    for (size_t i = 0; i < N_DTYPES; i++)
        if (!strcmp(s, dtypes[i].name)) {
            *out = (lt_dtype)i;
            return 1;
        }
    return 0;
}


static uint64_t ld_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t ld_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t ld_u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void fmt_shape(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (n < cap)
        snprintf(buf + n, cap - n, "]");
}

/* RFC 3629 UTF-8: no overlongs, no surrogates, nothing above U+10FFFF.
 * Returns the offset of the first bad byte, or len when all is well. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return i;
        }
        if (len - i <= n)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += n + 1;
    }
    return len;
}

/* A JSON number that is a non-negative integer a double holds exactly. */
static int json_uint(const cJSON *j, uint64_t *out)
{
    if (!cJSON_IsNumber(j))
        return 0;
    double d = j->valuedouble;
    if (!(d >= 0 && d <= ST_INT_MAX) || d != floor(d))
        return 0;
    *out = (uint64_t)d;
    return 1;
}

/* ---------------- reader ---------------- */

typedef struct st_ctx {
    const char *path;
    size_t hdr_end;   /* file offset of the data section: 8 + N */
    size_t ds_len;    /* bytes in the data section */
    const unsigned char *ds;
} st_ctx;

static lt_status parse_tensor(lt_st_tensor *t, const cJSON *e, const st_ctx *c, lt_err *err)
{
    const char *nm = t->name;
    if (!cJSON_IsObject(e))
        return lt_err_set(err, LT_ERR_FORMAT, "%s: tensor '%s': entry is not a JSON object", c->path, nm);

    const cJSON *jd = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    if (!cJSON_IsString(jd))
        return lt_err_set(err, LT_ERR_FORMAT, "%s: tensor '%s': \"dtype\" is missing or not a string",
                          c->path, nm);
    if (!dtype_parse(jd->valuestring, &t->dtype))
        return lt_err_set(err, LT_ERR_FORMAT,
                          "%s: tensor '%s': unknown dtype '%.40s' (expected F32, F64, F16, BF16, I8..I64, "
                          "U8..U64 or BOOL)", c->path, nm, jd->valuestring);

    const cJSON *js = cJSON_GetObjectItemCaseSensitive(e, "shape");
    if (!cJSON_IsArray(js))
        return lt_err_set(err, LT_ERR_FORMAT, "%s: tensor '%s': \"shape\" is missing or not an array",
                          c->path, nm);
    int nd = cJSON_GetArraySize(js);
    if (nd > LT_ST_MAXDIM)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: tensor '%s': shape has %d dimensions, at most %d allowed",
                          c->path, nm, nd, LT_ST_MAXDIM);
    t->ndim = nd;
    size_t numel = 1;
    int overflow = 0, i = 0;
    for (const cJSON *d = js->child; d; d = d->next, i++) {
        uint64_t v;
        if (!json_uint(d, &v))
            return lt_err_set(err, LT_ERR_FORMAT,
                              "%s: tensor '%s': shape entry %d is not a non-negative integer", c->path, nm, i);
        t->shape[i] = (int64_t)v;
        if (v > SIZE_MAX || !lt_mul_ok(numel, (size_t)v, &numel))
            overflow = 1;
    }
    char sh[256];
    fmt_shape(sh, sizeof sh, t->ndim, t->shape);
    size_t esz = dtypes[t->dtype].size;
    /* A zero dimension makes the product 0 whatever the others are. */
    for (i = 0; i < nd; i++)
        if (t->shape[i] == 0)
            overflow = 0, numel = 0;
    if (overflow || !lt_mul_ok(numel, esz, &t->nbytes))
        return lt_err_set(err, LT_ERR_FORMAT, "%s: tensor '%s': shape %s of %s overflows the size type",
                          c->path, nm, sh, dtypes[t->dtype].name);
    t->numel = numel;

    const cJSON *jo = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    uint64_t b, en;
    if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2 || !json_uint(jo->child, &b) ||
        !json_uint(jo->child->next, &en))
        return lt_err_set(err, LT_ERR_FORMAT,
                          "%s: tensor '%s': \"data_offsets\" must be an array of two non-negative integers",
                          c->path, nm);
    if (b > en)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] end before they begin",
                          c->path, nm, (unsigned long long)b, (unsigned long long)en);
    if (en > c->ds_len)
        return lt_err_set(err, LT_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets [%llu, %llu] exceed the data section "
                          "(%zu bytes after the %zu-byte header)",
                          c->path, nm, (unsigned long long)b, (unsigned long long)en, c->ds_len, c->hdr_end);
    if (en - b != t->nbytes)
        return lt_err_set(err, LT_ERR_FORMAT,
                          "%s: tensor '%s': data_offsets [%llu, %llu] span %llu bytes but shape %s of %s "
                          "needs %zu",
                          c->path, nm, (unsigned long long)b, (unsigned long long)en,
                          (unsigned long long)(en - b), sh, dtypes[t->dtype].name, t->nbytes);
    t->data = c->ds + b;
    return LT_OK;
}

static lt_status parse_meta(lt_st_file *f, const cJSON *m, const st_ctx *c, lt_err *err)
{
    if (!cJSON_IsObject(m))
        return lt_err_set(err, LT_ERR_FORMAT, "%s: \"__metadata__\" is not a JSON object", c->path);
    size_t n = (size_t)cJSON_GetArraySize(m);
    f->meta_key = calloc(n ? n : 1, sizeof *f->meta_key);
    f->meta_val = calloc(n ? n : 1, sizeof *f->meta_val);
    if (!f->meta_key || !f->meta_val)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory for %zu metadata entries", c->path, n);
    for (const cJSON *e = m->child; e; e = e->next) {
        if (!cJSON_IsString(e))
            return lt_err_set(err, LT_ERR_FORMAT, "%s: metadata '%s': value is not a string", c->path, e->string);
        for (size_t k = 0; k < f->n_meta; k++)
            if (!strcmp(f->meta_key[k], e->string))
                return lt_err_set(err, LT_ERR_FORMAT, "%s: metadata key '%s' appears twice", c->path, e->string);
        f->meta_key[f->n_meta] = strdup(e->string);
        f->meta_val[f->n_meta] = strdup(e->valuestring);
        if (!f->meta_key[f->n_meta] || !f->meta_val[f->n_meta]) {
            free(f->meta_key[f->n_meta]);
            free(f->meta_val[f->n_meta]);
            return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory for metadata", c->path);
        }
        f->n_meta++;
    }
    return LT_OK;
}

static int cmp_by_name(const void *a, const void *b)
{
    const lt_st_tensor *x = *(const lt_st_tensor *const *)a, *y = *(const lt_st_tensor *const *)b;
    return strcmp(x->name, y->name);
}

static int cmp_by_offset(const void *a, const void *b)
{
    const lt_st_tensor *x = *(const lt_st_tensor *const *)a, *y = *(const lt_st_tensor *const *)b;
    const unsigned char *p = x->data, *q = y->data;
    return p < q ? -1 : p > q;
}

/* Duplicate names and overlapping byte ranges, both found by sorting so a
 * hostile header with many entries costs n log n, not n^2. */
static lt_status check_set(const lt_st_file *f, const st_ctx *c, lt_err *err)
{
    lt_status st = LT_OK;
    if (f->n < 2)
        return LT_OK;
    const lt_st_tensor **ix = malloc(f->n * sizeof *ix);
    if (!ix)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory checking %zu tensors", c->path, f->n);
    for (size_t i = 0; i < f->n; i++)
        ix[i] = &f->t[i];
    qsort(ix, f->n, sizeof *ix, cmp_by_name);
    for (size_t i = 1; i < f->n; i++)
        if (!strcmp(ix[i - 1]->name, ix[i]->name)) {
            st = lt_err_set(err, LT_ERR_FORMAT, "%s: tensor '%s' appears twice in the header", c->path,
                            ix[i]->name);
            goto free_ix;
        }
    /* Empty tensors hold no bytes, so they cannot overlap anything. */
    size_t m = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->t[i].nbytes)
            ix[m++] = &f->t[i];
    qsort(ix, m, sizeof *ix, cmp_by_offset);
    for (size_t i = 1; i < m; i++) {
        const lt_st_tensor *p = ix[i - 1], *q = ix[i];
        size_t pb = (size_t)((const unsigned char *)p->data - c->ds), qb = (size_t)((const unsigned char *)q->data - c->ds);
        if (qb < pb + p->nbytes) {
            st = lt_err_set(err, LT_ERR_FORMAT,
                            "%s: tensors '%s' data_offsets [%zu, %zu] and '%s' data_offsets [%zu, %zu] overlap",
                            c->path, p->name, pb, pb + p->nbytes, q->name, qb, qb + q->nbytes);
            goto free_ix;
        }
    }
free_ix:
    free(ix);
    return st;
}

lt_status lt_st_parse(lt_st_file *f, void *buf, size_t len, const char *path, lt_err *err)
{
    lt_status st = LT_OK;
    cJSON *root = NULL;
    memset(f, 0, sizeof *f);
    f->buf = buf;
    f->buf_len = len;
    f->path = strdup(path);
    if (!f->path) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", path);
        goto free_file;
    }
    const unsigned char *p = buf;
    if (len < 8) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: file is %zu bytes, too short for the 8-byte header length",
                        path, len);
        goto free_file;
    }
    uint64_t hl = ld_u64(p);
    if (hl > len - 8 || hl > ST_HEADER_MAX) {
        st = lt_err_set(err, LT_ERR_FORMAT,
                        "%s: bytes [0, 8): header length %llu %s (the file has %zu bytes after the length field)",
                        path, (unsigned long long)hl, hl > len - 8 ? "exceeds the file" : "is absurd", len - 8);
        goto free_file;
    }
    st_ctx c = {.path = path, .hdr_end = 8 + (size_t)hl, .ds_len = len - 8 - (size_t)hl};
    c.ds = p + c.hdr_end;
    const char *hdr = (const char *)p + 8;
    size_t bad = utf8_check((const unsigned char *)hdr, (size_t)hl);
    if (bad != hl) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: byte %zu: header is not valid UTF-8", path, 8 + bad);
        goto free_file;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(hdr, (size_t)hl, &end, 0);
    if (!root) {
        size_t at = end && end >= hdr && end <= hdr + hl ? (size_t)(end - hdr) : 0;
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: byte %zu: header (bytes [8, %zu)) is not valid JSON", path,
                        8 + at, c.hdr_end);
        goto free_file;
    }
    for (const char *q = end; q < hdr + hl; q++)
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
            st = lt_err_set(err, LT_ERR_FORMAT, "%s: byte %zu: unexpected data after the header's JSON", path,
                            (size_t)(8 + (q - hdr)));
            goto free_file;
        }
    if (!cJSON_IsObject(root)) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: header (bytes [8, %zu)) is not a JSON object", path, c.hdr_end);
        goto free_file;
    }
    size_t n_all = (size_t)cJSON_GetArraySize(root);
    f->t = calloc(n_all ? n_all : 1, sizeof *f->t);
    if (!f->t) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory for %zu tensors", path, n_all);
        goto free_file;
    }
    int seen_meta = 0;
    for (const cJSON *e = root->child; e; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) {
            if (seen_meta++) {
                st = lt_err_set(err, LT_ERR_FORMAT, "%s: \"__metadata__\" appears twice in the header", path);
                goto free_file;
            }
            if ((st = parse_meta(f, e, &c, err)))
                goto free_file;
            continue;
        }
        lt_st_tensor *t = &f->t[f->n];
        t->name = strdup(e->string);
        if (!t->name) {
            st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", path);
            goto free_file;
        }
        f->n++;
        if ((st = parse_tensor(t, e, &c, err)))
            goto free_file;
    }
    if ((st = check_set(f, &c, err)))
        goto free_file;
    cJSON_Delete(root);
    return LT_OK;

free_file:
    cJSON_Delete(root);
    lt_st_free(f);
    return st;
}

lt_status lt_st_read(lt_st_file *f, const char *path, lt_err *err)
{
    void *buf;
    size_t len;
    memset(f, 0, sizeof *f);
    lt_status st = lt_read_file(path, &buf, &len, 0, err);
    if (st)
        return st;
    return lt_st_parse(f, buf, len, path, err);
}

const lt_st_tensor *lt_st_find(const lt_st_file *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name))
            return &f->t[i];
    return NULL;
}

const char *lt_st_meta(const lt_st_file *f, const char *key)
{
    for (size_t i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta_key[i], key))
            return f->meta_val[i];
    return NULL;
}

/* IEEE half to float, subnormals, infinities and NaNs included. */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, ex = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (ex == 0x1f) {
        bits = sign | 0x7f800000u | man << 13;
    } else if (ex) {
        bits = sign | (ex + 112) << 23 | man << 13;
    } else {
        float v = ldexpf((float)man, -24);
        return sign ? -v : v;
    }
    float v;
    memcpy(&v, &bits, 4);
    return v;
}

static float elem_to_f32(const unsigned char *p, lt_dtype dt)
{
    uint32_t u;
    uint64_t q;
    float v;
    double d;
    switch (dt) {
    case LT_F32: u = ld_u32(p); memcpy(&v, &u, 4); return v;
    case LT_F64: q = ld_u64(p); memcpy(&d, &q, 8); return (float)d;
    case LT_F16: return half_to_float(ld_u16(p));
    case LT_BF16: u = (uint32_t)ld_u16(p) << 16; memcpy(&v, &u, 4); return v;
    case LT_I8: return (float)(int8_t)p[0];
    case LT_I16: return (float)(int16_t)ld_u16(p);
    case LT_I32: return (float)(int32_t)ld_u32(p);
    case LT_I64: return (float)(int64_t)ld_u64(p);
    case LT_U8: return (float)p[0];
    case LT_U16: return (float)ld_u16(p);
    case LT_U32: return (float)ld_u32(p);
    case LT_U64: return (float)ld_u64(p);
    case LT_BOOL: return p[0] ? 1.0f : 0.0f;
    }
    return 0.0f;
}

static lt_status get_f32(const lt_st_file *f, const char *name, float *dst, int ndim, const int64_t *shape,
                         size_t numel, lt_err *err)
{
    const char *path = f->path ? f->path : "safetensors";
    const lt_st_tensor *t = lt_st_find(f, name);
    if (!t)
        return lt_err_set(err, LT_ERR_SHAPE, "%s: no tensor '%s' (the file holds %zu tensors)", path, name, f->n);
    char have[256], want[256];
    fmt_shape(have, sizeof have, t->ndim, t->shape);
    if (shape) {
        int same = t->ndim == ndim;
        for (int i = 0; same && i < ndim; i++)
            same = t->shape[i] == shape[i];
        if (!same) {
            fmt_shape(want, sizeof want, ndim, shape);
            return lt_err_set(err, LT_ERR_SHAPE, "%s: tensor '%s' has shape %s but %s was expected", path, name,
                              have, want);
        }
    } else if (t->numel != numel) {
        return lt_err_set(err, LT_ERR_SHAPE, "%s: tensor '%s' has shape %s (%zu elements) but [%zu] (%zu "
                          "elements) was expected", path, name, have, t->numel, numel, numel);
    }
    const unsigned char *p = t->data;
    size_t esz = dtypes[t->dtype].size;
    if (t->dtype == LT_F32) {
        memcpy(dst, p, t->nbytes); /* little-endian host, asserted above */
        return LT_OK;
    }
    for (size_t i = 0; i < t->numel; i++)
        dst[i] = elem_to_f32(p + i * esz, t->dtype);
    return LT_OK;
}

lt_status lt_st_get_f32(const lt_st_file *f, const char *name, float *dst, size_t numel, lt_err *err)
{
    return get_f32(f, name, dst, 0, NULL, numel, err);
}

lt_status lt_st_get_f32_shaped(const lt_st_file *f, const char *name, float *dst, int ndim,
                               const int64_t *shape, lt_err *err)
{
    return get_f32(f, name, dst, ndim, shape, 0, err);
}

void lt_st_free(lt_st_file *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->t[i].name);
    free(f->t);
    for (size_t i = 0; i < f->n_meta; i++) {
        free(f->meta_key[i]);
        free(f->meta_val[i]);
    }
    free(f->meta_key);
    free(f->meta_val);
    free(f->buf);
    free(f->path);
    memset(f, 0, sizeof *f);
}

/* ---------------- writer ---------------- */

typedef struct stw_entry {
    char *name;
    lt_dtype dt;
    int ndim;
    int64_t shape[LT_ST_MAXDIM];
    size_t nbytes;
    const void *data; /* borrowed */
} stw_entry;

struct lt_st_writer {
    size_t n, cap;
    stw_entry *e;
    size_t n_meta, cap_meta;
    char **meta_key, **meta_val;
};

lt_st_writer *lt_stw_new(void) { return calloc(1, sizeof(lt_st_writer)); }

void lt_stw_free(lt_st_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        free(w->e[i].name);
    for (size_t i = 0; i < w->n_meta; i++) {
        free(w->meta_key[i]);
        free(w->meta_val[i]);
    }
    free(w->e);
    free(w->meta_key);
    free(w->meta_val);
    free(w);
}

lt_status lt_stw_add(lt_st_writer *w, const char *name, lt_dtype dt, int ndim, const int64_t *shape,
                     const void *data, lt_err *err)
{
    if (!name || !*name || !strcmp(name, "__metadata__"))
        return lt_err_set(err, LT_ERR_ARG, "safetensors: bad tensor name '%s'", name ? name : "(null)");
    if ((unsigned)dt >= N_DTYPES)
        return lt_err_set(err, LT_ERR_ARG, "safetensors: tensor '%s': unknown dtype %d", name, (int)dt);
    if (ndim < 0 || ndim > LT_ST_MAXDIM)
        return lt_err_set(err, LT_ERR_ARG, "safetensors: tensor '%s': %d dimensions (0..%d allowed)", name, ndim,
                          LT_ST_MAXDIM);
    size_t numel = 1, nbytes;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (uint64_t)shape[i] > SIZE_MAX || !lt_mul_ok(numel, (size_t)shape[i], &numel))
            return lt_err_set(err, LT_ERR_ARG, "safetensors: tensor '%s': dimension %d is %lld", name, i,
                              (long long)shape[i]);
    }
    if (!lt_mul_ok(numel, dtypes[dt].size, &nbytes) || (double)nbytes > ST_INT_MAX)
        return lt_err_set(err, LT_ERR_ARG, "safetensors: tensor '%s' is too large", name);
    if (nbytes && !data)
        return lt_err_set(err, LT_ERR_ARG, "safetensors: tensor '%s': no data for %zu bytes", name, nbytes);
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->e[i].name, name))
            return lt_err_set(err, LT_ERR_ARG, "safetensors: tensor '%s' added twice", name);
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        stw_entry *e = realloc(w->e, cap * sizeof *e);
        if (!e)
            return lt_err_set(err, LT_ERR_NOMEM, "safetensors: out of memory adding '%s'", name);
        w->e = e;
        w->cap = cap;
    }
    stw_entry *e = &w->e[w->n];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(name)))
        return lt_err_set(err, LT_ERR_NOMEM, "safetensors: out of memory adding '%s'", name);
    e->dt = dt;
    e->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        e->shape[i] = shape[i];
    e->nbytes = nbytes;
    e->data = data;
    w->n++;
    return LT_OK;
}

lt_status lt_stw_meta(lt_st_writer *w, const char *key, const char *val, lt_err *err)
{
    if (!key || !val)
        return lt_err_set(err, LT_ERR_ARG, "safetensors: metadata key and value must not be NULL");
    for (size_t i = 0; i < w->n_meta; i++)
        if (!strcmp(w->meta_key[i], key)) {
            char *v = strdup(val);
            if (!v)
                return lt_err_set(err, LT_ERR_NOMEM, "safetensors: out of memory for metadata '%s'", key);
            free(w->meta_val[i]);
            w->meta_val[i] = v;
            return LT_OK;
        }
    if (w->n_meta == w->cap_meta) {
        size_t cap = w->cap_meta ? 2 * w->cap_meta : 8;
        char **k = realloc(w->meta_key, cap * sizeof *k);
        if (!k)
            return lt_err_set(err, LT_ERR_NOMEM, "safetensors: out of memory for metadata '%s'", key);
        w->meta_key = k;
        char **v = realloc(w->meta_val, cap * sizeof *v);
        if (!v)
            return lt_err_set(err, LT_ERR_NOMEM, "safetensors: out of memory for metadata '%s'", key);
        w->meta_val = v;
        w->cap_meta = cap;
    }
    char *k = strdup(key), *v = strdup(val);
    if (!k || !v) {
        free(k);
        free(v);
        return lt_err_set(err, LT_ERR_NOMEM, "safetensors: out of memory for metadata '%s'", key);
    }
    w->meta_key[w->n_meta] = k;
    w->meta_val[w->n_meta] = v;
    w->n_meta++;
    return LT_OK;
}

/* Integers go in as raw text: cJSON prints numbers >= 1e15 in exponent form,
 * which strict readers (Python's json gives a float) would refuse. */
static cJSON *raw_uint(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(s);
}

static cJSON *build_header(const lt_st_writer *w)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    uint64_t off = 0;
    for (size_t i = 0; i < w->n; i++) {
        const stw_entry *e = &w->e[i];
        /* Each item is attached as soon as it exists, so deleting root frees all. */
        cJSON *t = cJSON_CreateObject();
        if (!t || !cJSON_AddItemToObject(root, e->name, t)) {
            cJSON_Delete(t);
            goto free_root;
        }
        cJSON *sh = cJSON_AddArrayToObject(t, "shape"), *of = cJSON_AddArrayToObject(t, "data_offsets");
        if (!cJSON_AddStringToObject(t, "dtype", dtypes[e->dt].name) || !sh || !of)
            goto free_root;
        for (int d = 0; d < e->ndim; d++)
            cJSON_AddItemToArray(sh, raw_uint((uint64_t)e->shape[d]));
        cJSON_AddItemToArray(of, raw_uint(off));
        cJSON_AddItemToArray(of, raw_uint(off + e->nbytes));
        off += e->nbytes;
        if (cJSON_GetArraySize(sh) != e->ndim || cJSON_GetArraySize(of) != 2)
            goto free_root;
    }
    if (w->n_meta) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        if (!m)
            goto free_root;
        for (size_t i = 0; i < w->n_meta; i++)
            if (!cJSON_AddStringToObject(m, w->meta_key[i], w->meta_val[i]))
                goto free_root;
    }
    return root;
free_root:
    cJSON_Delete(root);
    return NULL;
}

lt_status lt_stw_write(lt_st_writer *w, const char *path, lt_err *err)
{
    lt_status st = LT_OK;
    char *json = NULL;
    lt_afile a = {0};
    uint64_t total = 0;
    for (size_t i = 0; i < w->n; i++) {
        total += w->e[i].nbytes;
        if ((double)total > ST_INT_MAX)
            return lt_err_set(err, LT_ERR_ARG, "%s: tensors total more than 2^53 bytes", path);
    }
    cJSON *root = build_header(w);
    if (!root || !(json = cJSON_PrintUnformatted(root))) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory building the header", path);
        goto free_json;
    }
    /* Pad with spaces so the data section starts 8-byte aligned. */
    size_t jl = strlen(json), hl = (jl + 7) / 8 * 8;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    if ((st = lt_afile_open(&a, path, err)))
        goto free_json;
    int ok = fwrite(len8, 1, 8, a.f) == 8 && fwrite(json, 1, jl, a.f) == jl;
    for (size_t i = jl; ok && i < hl; i++)
        ok = fputc(' ', a.f) != EOF;
    for (size_t i = 0; ok && i < w->n; i++)
        ok = !w->e[i].nbytes || fwrite(w->e[i].data, 1, w->e[i].nbytes, a.f) == w->e[i].nbytes;
    if (!ok) {
        st = lt_err_set(err, LT_ERR_IO, "%s: write failed (%llu data bytes after a %zu-byte header)", path,
                        (unsigned long long)total, 8 + hl);
        goto abort_file;
    }
    st = lt_afile_commit(&a, err);
abort_file:
    lt_afile_abort(&a);
free_json:
    free(json);
    cJSON_Delete(root);
    return st;
}
