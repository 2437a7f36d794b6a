/* npy.c -- NumPy .npy reader and writer (include/ltsnn/npy.h).
 *
 * The header is a Python dict literal; it is parsed here by a small
 * recursive-descent parser that accepts only what numpy writes (strings,
 * non-negative integers, True/False, tuples, lists, dicts) and never
 * evaluates anything.  Data is read in bounded blocks through rsrc.h; the
 * whole file is never loaded.  Not for .npz archives or pickled (object)
 * arrays. */
#include "ltsnn/npy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/rsrc.h"
#include "ltsnn/io.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAX_HEADER (1u << 20) /* numpy itself refuses headers over 10000 bytes by default */
#define NPY_MAX_DEPTH 8
#define NPY_BLOCK (1u << 16)      /* bytes converted per step in read_i64/f64 */

/* ---- a parsed Python literal: nodes in one array, children linked by index ---- */
enum { PV_STR, PV_INT, PV_BOOL, PV_TUPLE, PV_LIST, PV_DICT };

typedef struct pv {
    int kind;
    int first, next; /* first child, next sibling (-1 = none); a dict's children alternate key, value */
    int n;           /* children */
    uint64_t ival;   /* PV_INT, PV_BOOL */
    const char *s;   /* PV_STR: NUL-terminated copy */
    size_t slen;
    size_t pos;      /* byte offset of the node in the file, for messages */
} pv;

typedef struct pparse {
    const char *txt;
    size_t len, i;
    size_t base;     /* file offset of txt[0] */
    pv *nodes;
    int nn, cap;
    char *sbuf;
    size_t sused;
    const char *name;
    lt_err *err;
} pparse;

static lt_status pp_fail(pparse *p, const char *what)
{
    return lt_err_set(p->err, LT_ERR_FORMAT, "%s: npy header byte %zu: expected %s", p->name, p->base + p->i, what);
}

static void pp_ws(pparse *p)
{
    while (p->i < p->len && (p->txt[p->i] == ' ' || p->txt[p->i] == '\t' || p->txt[p->i] == '\n' || p->txt[p->i] == '\r'))
        p->i++;
}

static int pp_new(pparse *p, int kind)
{
    if (p->nn >= p->cap)
        return -1;
    pv *v = &p->nodes[p->nn];
    memset(v, 0, sizeof *v);
    v->kind = kind;
    v->first = v->next = -1;
    v->pos = p->base + p->i;
    return p->nn++;
}

static lt_status pp_value(pparse *p, int depth, int *out);

static lt_status pp_string(pparse *p, int *out)
{
    char q = p->txt[p->i];
    int id = pp_new(p, PV_STR);
    if (id < 0)
        return pp_fail(p, "a shorter header (too many items)");
    char *d = p->sbuf + p->sused;
    size_t k = 0;
    p->i++;
    for (;;) {
        if (p->i >= p->len)
            return pp_fail(p, "a closing quote");
        char c = p->txt[p->i++];
        if (c == q)
            break;
        if (c == '\n' || c == '\r')
            return pp_fail(p, "a closing quote before the end of the line");
        if (c == '\\') {
            if (p->i >= p->len)
                return pp_fail(p, "an escape sequence");
            char e = p->txt[p->i++];
            switch (e) {
            case '\\': c = '\\'; break;
            case '\'': c = '\''; break;
            case '"': c = '"'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            default: p->i--; return pp_fail(p, "one of the escapes \\\\ \\' \\\" \\n \\t");
            }
        }
        if (c == 0)
            return pp_fail(p, "no NUL byte inside a string");
        d[k++] = c;
    }
    d[k] = 0;
    p->sused += k + 1;
    p->nodes[id].s = d;
    p->nodes[id].slen = k;
    *out = id;
    return LT_OK;
}

static lt_status pp_int(pparse *p, int *out)
{
    int id = pp_new(p, PV_INT);
    if (id < 0)
        return pp_fail(p, "a shorter header (too many items)");
    uint64_t v = 0;
    while (p->i < p->len && p->txt[p->i] >= '0' && p->txt[p->i] <= '9') {
        unsigned dgt = (unsigned)(p->txt[p->i] - '0');
        if (v > (UINT64_MAX - dgt) / 10)
            return pp_fail(p, "an integer below 2^64");
        v = v * 10 + dgt;
        p->i++;
    }
    if (p->i < p->len && p->txt[p->i] == 'L') /* Python 2 long, as old numpy wrote shapes */
        p->i++;
    p->nodes[id].ival = v;
    *out = id;
    return LT_OK;
}

/* Items of a tuple, list or dict up to `close`.  A parenthesised single item
 * without a trailing comma is that item, as in Python. */
static lt_status pp_seq(pparse *p, int depth, int kind, char close, int *out)
{
    size_t start = p->i;
    int id = pp_new(p, kind);
    if (id < 0)
        return pp_fail(p, "a shorter header (too many items)");
    p->i++;
    int last = -1, trailing_comma = 0;
    for (;;) {
        pp_ws(p);
        if (p->i >= p->len)
            return pp_fail(p, close == '}' ? "'}'" : close == ')' ? "')'" : "']'");
        if (p->txt[p->i] == close) {
            p->i++;
            break;
        }
        int item;
        lt_status st = pp_value(p, depth + 1, &item);
        if (st)
            return st;
        int nitems = 1;
        if (kind == PV_DICT) {
            if (p->nodes[item].kind != PV_STR)
                return lt_err_set(p->err, LT_ERR_FORMAT, "%s: npy header byte %zu: expected a string key", p->name,
                                  p->nodes[item].pos);
            pp_ws(p);
            if (p->i >= p->len || p->txt[p->i] != ':')
                return pp_fail(p, "':'");
            p->i++;
            int val;
            st = pp_value(p, depth + 1, &val);
            if (st)
                return st;
            p->nodes[item].next = val;
            nitems = 2;
        }
        if (last < 0)
            p->nodes[id].first = item;
        else
            p->nodes[last].next = item;
        last = nitems == 2 ? p->nodes[item].next : item;
        p->nodes[id].n++;
        pp_ws(p);
        trailing_comma = 0;
        if (p->i < p->len && p->txt[p->i] == ',') {
            p->i++;
            trailing_comma = 1;
            continue;
        }
        if (p->i < p->len && p->txt[p->i] == close) {
            p->i++;
            break;
        }
        return pp_fail(p, close == '}' ? "',' or '}'" : close == ')' ? "',' or ')'" : "',' or ']'");
    }
    if (kind == PV_TUPLE && p->nodes[id].n == 1 && !trailing_comma) {
        int child = p->nodes[id].first;
        p->nodes[child].pos = p->base + start;
        *out = child;
        return LT_OK;
    }
    *out = id;
    return LT_OK;
}

static lt_status pp_value(pparse *p, int depth, int *out)
{
    pp_ws(p);
    if (depth > NPY_MAX_DEPTH)
        return pp_fail(p, "less nesting");
    if (p->i >= p->len)
        return pp_fail(p, "a value");
    char c = p->txt[p->i];
    if (c == '\'' || c == '"')
        return pp_string(p, out);
    if (c >= '0' && c <= '9')
        return pp_int(p, out);
    if (c == '(')
        return pp_seq(p, depth, PV_TUPLE, ')', out);
    if (c == '[')
        return pp_seq(p, depth, PV_LIST, ']', out);
    if (c == '{')
        return pp_seq(p, depth, PV_DICT, '}', out);
    if (p->len - p->i >= 4 && !memcmp(p->txt + p->i, "True", 4)) {
        int id = pp_new(p, PV_BOOL);
        if (id < 0)
            return pp_fail(p, "a shorter header (too many items)");
        p->nodes[id].ival = 1;
        p->i += 4;
        *out = id;
        return LT_OK;
    }
    if (p->len - p->i >= 5 && !memcmp(p->txt + p->i, "False", 5)) {
        int id = pp_new(p, PV_BOOL);
        if (id < 0)
            return pp_fail(p, "a shorter header (too many items)");
        p->i += 5;
        *out = id;
        return LT_OK;
    }
    return pp_fail(p, "a string, a non-negative integer, True, False, a tuple, a list or a dict");
}

/* ---- dtype strings ---- */
static int host_big_endian(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 0;
}

/* "<i8" -> kind, size, byte order.  Types numpy has but ltsnn does not
 * describe (complex, unicode, object, datetime) are LT_ERR_UNSUPPORTED. */
static lt_status parse_typestr(lt_npy_field *f, const char *s, const char *name, size_t pos, lt_err *err)
{
    const char *q = s;
    int be = host_big_endian();
    if (*q == '<' || *q == '>' || *q == '|' || *q == '=') {
        if (*q == '<')
            be = 0;
        else if (*q == '>')
            be = 1;
        q++;
    }
    char kind = *q++;
    if (!kind || !strchr("biufSV", kind)) {
        if (kind && strchr("cUOMmaq", kind))
            return lt_err_set(err, LT_ERR_UNSUPPORTED,
                              "%s: npy header byte %zu: dtype '%s' is not supported (expected bool, integer, float, "
                              "bytes or void)",
                              name, pos, s);
        return lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: '%s' is not a numpy type string", name, pos, s);
    }
    if (*q < '0' || *q > '9')
        return lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: type string '%s' has no size", name, pos, s);
    uint64_t size = 0;
    while (*q >= '0' && *q <= '9') {
        size = size * 10 + (uint64_t)(*q - '0');
        if (size > (1u << 24))
            return lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: type '%s' is too large", name, pos, s);
        q++;
    }
    if (*q)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: npy header byte %zu: type string '%s' is not supported", name,
                          pos, s);
    int ok;
    switch (kind) {
    case 'b': ok = size == 1; break;
    case 'i':
    case 'u': ok = size == 1 || size == 2 || size == 4 || size == 8; break;
    case 'f': ok = size == 2 || size == 4 || size == 8; break;
    default: ok = size >= 1; break;
    }
    if (!ok)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: npy header byte %zu: type '%s' has an unsupported size", name,
                          pos, s);
    f->kind = kind;
    f->size = (uint32_t)size;
    f->big_endian = size > 1 && (kind == 'i' || kind == 'u' || kind == 'f') ? be : 0;
    return LT_OK;
}

void lt_npy_field_type(const lt_npy_field *f, char out[8])
{
    char order = '|';
    if (f->size > 1 && (f->kind == 'i' || f->kind == 'u' || f->kind == 'f'))
        order = f->big_endian ? '>' : '<';
    snprintf(out, 8, "%c%c%u", order, f->kind, (unsigned)(f->size % 100000u));
}

/* ---- header interpretation ---- */
typedef struct hdr_desc {
    int structured;
    int nfields;
    lt_npy_field *fields;
    uint64_t itemsize;
} hdr_desc;

static lt_status descr_from_node(hdr_desc *d, const pparse *p, int node, lt_err *err)
{
    const pv *v = &p->nodes[node];
    memset(d, 0, sizeof *d);
    if (v->kind == PV_STR) {
        d->fields = calloc(1, sizeof *d->fields);
        if (!d->fields)
            return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", p->name);
        lt_status st = parse_typestr(&d->fields[0], v->s, p->name, v->pos, err);
        if (st)
            return st;
        d->nfields = 1;
        d->itemsize = d->fields[0].size;
        return LT_OK;
    }
    if (v->kind != PV_LIST)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: 'descr' must be a type string or a list of fields",
                          p->name, v->pos);
    if (v->n == 0)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: 'descr' lists no fields", p->name, v->pos);
    d->structured = 1;
    d->fields = calloc((size_t)v->n, sizeof *d->fields);
    if (!d->fields)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", p->name);
    uint64_t off = 0;
    for (int c = v->first; c >= 0; c = p->nodes[c].next) {
        const pv *it = &p->nodes[c];
        if (it->kind != PV_TUPLE || (it->n != 2 && it->n != 3))
            return lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: expected a field tuple (name, type)", p->name,
                              it->pos);
        const pv *nm = &p->nodes[it->first];
        const pv *ty = &p->nodes[nm->next];
        if (nm->kind == PV_TUPLE)
            return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: npy header byte %zu: field titles are not supported", p->name,
                              nm->pos);
        if (nm->kind != PV_STR)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: expected a field name string", p->name,
                              nm->pos);
        if (ty->kind == PV_LIST)
            return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: npy header byte %zu: nested structured field '%s' is not supported",
                              p->name, ty->pos, nm->s);
        if (ty->kind != PV_STR)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: expected a type string for field '%s'",
                              p->name, ty->pos, nm->s);
        if (it->n == 3)
            return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: npy header byte %zu: sub-array field '%s' is not supported",
                              p->name, it->pos, nm->s);
        lt_npy_field f;
        memset(&f, 0, sizeof f);
        lt_status st = parse_typestr(&f, ty->s, p->name, ty->pos, err);
        if (st)
            return st;
        f.offset = off;
        off += f.size;
        if (off > (1u << 30))
            return lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: record larger than 1 GiB", p->name, it->pos);
        if (nm->slen == 0) {
            if (f.kind == 'V')
                continue; /* padding, as numpy writes it for aligned dtypes */
            return lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: a non-padding field has an empty name",
                              p->name, nm->pos);
        }
        if (nm->slen >= LT_NPY_MAXNAME)
            return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: npy header byte %zu: field name longer than %d bytes",
                              p->name, nm->pos, LT_NPY_MAXNAME - 1);
        for (int k = 0; k < d->nfields; k++)
            if (!strcmp(d->fields[k].name, nm->s))
                return lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: duplicate field name '%s'", p->name,
                                  nm->pos, nm->s);
        memcpy(f.name, nm->s, nm->slen + 1);
        d->fields[d->nfields++] = f;
    }
    if (d->nfields == 0)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: 'descr' has only padding", p->name, v->pos);
    d->itemsize = off;
    return LT_OK;
}

/* Parse a header text (the dict and its padding). */
typedef struct hdr_out {
    hdr_desc d;
    int fortran;
    int ndim;
    uint64_t shape[LT_NPY_MAXDIM];
} hdr_out;

static lt_status parse_header_text(hdr_out *h, const char *txt, size_t len, size_t base, const char *name, lt_err *err)
{
    memset(h, 0, sizeof *h);
    pparse p;
    memset(&p, 0, sizeof p);
    p.txt = txt, p.len = len, p.base = base, p.name = name, p.err = err;
    p.cap = (int)len + 4;
    p.nodes = malloc((size_t)p.cap * sizeof *p.nodes);
    p.sbuf = malloc(len + 1);
    lt_status st = LT_OK;
    if (!p.nodes || !p.sbuf) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", name);
        goto free_parse;
    }
    int root;
    pp_ws(&p);
    if (p.i >= p.len || txt[p.i] != '{') {
        st = pp_fail(&p, "'{' starting the header dict");
        goto free_parse;
    }
    st = pp_value(&p, 0, &root);
    if (st)
        goto free_parse;
    pp_ws(&p);
    if (p.i != p.len) {
        st = pp_fail(&p, "only spaces and a newline after the header dict");
        goto free_parse;
    }
    int k_descr = -1, k_fortran = -1, k_shape = -1;
    for (int c = p.nodes[root].first; c >= 0; c = p.nodes[p.nodes[c].next].next) {
        const pv *key = &p.nodes[c];
        int val = key->next;
        int *slot = !strcmp(key->s, "descr") ? &k_descr
                  : !strcmp(key->s, "fortran_order") ? &k_fortran
                  : !strcmp(key->s, "shape") ? &k_shape
                  : NULL;
        if (!slot) {
            st = lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: unexpected key '%s' (expected descr, fortran_order, shape)",
                            name, key->pos, key->s);
            goto free_parse;
        }
        if (*slot >= 0) {
            st = lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: duplicate key '%s'", name, key->pos, key->s);
            goto free_parse;
        }
        *slot = val;
    }
    if (k_descr < 0 || k_fortran < 0 || k_shape < 0) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: npy header: missing key '%s'", name,
                        k_descr < 0 ? "descr" : k_fortran < 0 ? "fortran_order" : "shape");
        goto free_parse;
    }
    if (p.nodes[k_fortran].kind != PV_BOOL) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: 'fortran_order' must be True or False", name,
                        p.nodes[k_fortran].pos);
        goto free_parse;
    }
    h->fortran = (int)p.nodes[k_fortran].ival;
    const pv *sh = &p.nodes[k_shape];
    if (sh->kind != PV_TUPLE) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: 'shape' must be a tuple of integers", name, sh->pos);
        goto free_parse;
    }
    if (sh->n > LT_NPY_MAXDIM) {
        st = lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: npy header byte %zu: %d dimensions (at most %d)", name, sh->pos,
                        sh->n, LT_NPY_MAXDIM);
        goto free_parse;
    }
    for (int c = sh->first; c >= 0; c = p.nodes[c].next) {
        if (p.nodes[c].kind != PV_INT) {
            st = lt_err_set(err, LT_ERR_FORMAT, "%s: npy header byte %zu: shape entries must be non-negative integers",
                            name, p.nodes[c].pos);
            goto free_parse;
        }
        h->shape[h->ndim++] = p.nodes[c].ival;
    }
    st = descr_from_node(&h->d, &p, k_descr, err);
free_parse:
    if (st) {
        free(h->d.fields);
        h->d.fields = NULL;
    }
    free(p.nodes);
    free(p.sbuf);
    return st;
}

/* ---- open ---- */
static lt_status npy_open_src(lt_npy *a, lt_rsrc *src, lt_err *err)
{
    const char *name = src->name;
    uint8_t pre[12];
    lt_status st;
    char *txt = NULL;
    if (src->size < 10)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: %llu bytes: too short for a .npy file (expected at least 10)", name,
                          (unsigned long long)src->size);
    if ((st = lt_rsrc_read(src, 0, pre, 10, err)))
        return st;
    if (memcmp(pre, NPY_MAGIC, 6))
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte 0: expected the .npy magic \\x93NUMPY", name);
    a->major = pre[6], a->minor = pre[7];
    if (a->major < 1 || a->major > 3 || a->minor != 0)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: byte 6: .npy version %d.%d (expected 1.0, 2.0 or 3.0)", name,
                          a->major, a->minor);
    uint64_t hlen, hstart;
    if (a->major == 1) {
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8;
        hstart = 10;
    } else {
        if (src->size < 12)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: byte 8: expected a 4-byte header length", name);
        if ((st = lt_rsrc_read(src, 0, pre, 12, err)))
            return st;
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 | (uint64_t)pre[11] << 24;
        hstart = 12;
    }
    if (hlen > NPY_MAX_HEADER)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: byte 8: header of %llu bytes (at most %u)", name,
                          (unsigned long long)hlen, NPY_MAX_HEADER);
    if (hstart + hlen > src->size)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: header of %llu bytes runs past the end of the file (%llu bytes)",
                          name, (unsigned long long)hstart, (unsigned long long)hlen, (unsigned long long)src->size);
    txt = malloc(hlen + 1);
    if (!txt)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", name);
    if ((st = lt_rsrc_read(src, hstart, txt, hlen, err)))
        goto free_txt;
    txt[hlen] = 0;
    hdr_out h;
    if ((st = parse_header_text(&h, txt, hlen, hstart, name, err)))
        goto free_txt;
    a->fortran_order = h.fortran;
    a->ndim = h.ndim;
    memcpy(a->shape, h.shape, sizeof a->shape);
    a->structured = h.d.structured;
    a->nfields = h.d.nfields;
    a->fields = h.d.fields;
    a->itemsize = h.d.itemsize;
    a->data_offset = hstart + hlen;
    a->rows = a->ndim ? a->shape[0] : 1;
    a->cols = 1;
    size_t cells;
    for (int i = 1; i < a->ndim; i++) {
        size_t c;
        if (!lt_mul_ok((size_t)a->cols, (size_t)a->shape[i], &c) || a->shape[i] > SIZE_MAX) {
            st = lt_err_set(err, LT_ERR_FORMAT, "%s: npy shape overflows", name);
            goto free_txt;
        }
        a->cols = c;
    }
    size_t bytes;
    if (a->rows > SIZE_MAX || !lt_mul_ok((size_t)a->rows, (size_t)a->cols, &cells) ||
        !lt_mul_ok(cells, (size_t)a->itemsize, &bytes)) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: npy shape times itemsize overflows", name);
        goto free_txt;
    }
    uint64_t have = src->size - a->data_offset;
    if (have != bytes) {
        st = lt_err_set(err, LT_ERR_FORMAT,
                        "%s: byte %llu: data section holds %llu bytes, expected %llu (%llu elements of %llu bytes)%s", name,
                        (unsigned long long)a->data_offset, (unsigned long long)have, (unsigned long long)bytes,
                        (unsigned long long)cells, (unsigned long long)a->itemsize,
                        have < bytes ? ": file truncated" : ": trailing bytes");
        goto free_txt;
    }
free_txt:
    free(txt);
    return st;
}

static lt_status npy_open_common(lt_npy *a, lt_rsrc *src, lt_err *err)
{
    lt_rsrc *s = malloc(sizeof *s);
    if (!s) {
        lt_rsrc_close(src);
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory");
    }
    *s = *src;
    a->priv_ = s;
    lt_status st = npy_open_src(a, s, err);
    if (st)
        lt_npy_close(a);
    return st;
}

lt_status lt_npy_open(lt_npy *a, const char *path, lt_err *err)
{
    memset(a, 0, sizeof *a);
    lt_rsrc src;
    lt_status st = lt_rsrc_open(&src, path, err);
    if (st)
        return st;
    return npy_open_common(a, &src, err);
}

lt_status lt_npy_open_mem(lt_npy *a, const void *data, size_t len, const char *name, lt_err *err)
{
    memset(a, 0, sizeof *a);
    lt_rsrc src;
    lt_status st = lt_rsrc_open_mem(&src, data, len, name, err);
    if (st)
        return st;
    return npy_open_common(a, &src, err);
}

void lt_npy_close(lt_npy *a)
{
    if (a->priv_) {
        lt_rsrc_close(a->priv_);
        free(a->priv_);
    }
    free(a->fields);
    memset(a, 0, sizeof *a);
}

int lt_npy_field_index(const lt_npy *a, const char *name)
{
    for (int i = 0; i < a->nfields; i++)
        if (!strcmp(a->fields[i].name, name))
            return i;
    return -1;
}

void lt_npy_describe(const lt_npy *a, char *out, size_t cap)
{
    size_t k = 0;
#define PUT(...) do { if (k < cap) { int m_ = snprintf(out + k, cap - k, __VA_ARGS__); if (m_ > 0) k += (size_t)m_; } } while (0)
    if (!cap)
        return;
    out[0] = 0;
    char ty[8];
    if (a->structured) {
        PUT("structured (");
        for (int i = 0; i < a->nfields; i++) {
            lt_npy_field_type(&a->fields[i], ty);
            PUT("%s%s %s @%llu", i ? ", " : "", a->fields[i].name, ty, (unsigned long long)a->fields[i].offset);
        }
        PUT("), %llu bytes/element", (unsigned long long)a->itemsize);
    } else if (a->nfields == 1) {
        lt_npy_field_type(&a->fields[0], ty);
        PUT("plain %s", ty);
    }
    PUT(", shape (");
    for (int i = 0; i < a->ndim; i++)
        PUT("%llu%s", (unsigned long long)a->shape[i], a->ndim == 1 ? "," : i + 1 < a->ndim ? ", " : "");
    PUT(")%s, version %d.%d", a->fortran_order ? ", Fortran order" : "", a->major, a->minor);
#undef PUT
}

/* ---- conversion ---- */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, ex = (h >> 10) & 31, man = h & 1023;
    float v;
    if (ex == 0)
        v = ldexpf((float)man, -24);
    else if (ex == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexpf((float)(man | 1024), (int)ex - 25);
    return sign ? -v : v;
}

/* Load element i's field as the widest type of its kind. */
static inline uint64_t ld_bits(const uint8_t *q, uint32_t size, int be)
{
    uint64_t v = 0;
    switch (size) {
    case 1: v = q[0]; break;
    case 2: { uint16_t x; memcpy(&x, q, 2); v = be ? __builtin_bswap16(x) : x; break; }
    case 4: { uint32_t x; memcpy(&x, q, 4); v = be ? __builtin_bswap32(x) : x; break; }
    default: { uint64_t x; memcpy(&x, q, 8); v = be ? __builtin_bswap64(x) : x; break; }
    }
    return v;
}

static inline int64_t as_signed(uint64_t v, uint32_t size)
{
    switch (size) {
    case 1: return (int8_t)(uint8_t)v;
    case 2: return (int16_t)(uint16_t)v;
    case 4: return (int32_t)(uint32_t)v;
    default: return (int64_t)v;
    }
}

static inline double as_float(uint64_t v, uint32_t size)
{
    if (size == 2)
        return half_to_float((uint16_t)v);
    if (size == 4) {
        uint32_t b = (uint32_t)v;
        float f;
        memcpy(&f, &b, 4);
        return f;
    }
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static lt_status check_field(const lt_npy *a, int field, lt_err *err)
{
    const lt_rsrc *s = a->priv_;
    if (field < 0 || field >= a->nfields)
        return lt_err_set(err, LT_ERR_ARG, "%s: no field number %d (the array has %d)", s ? s->name : "npy", field,
                          a->nfields);
    char k = a->fields[field].kind;
    if (k == 'V' || k == 'S')
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: field '%s' holds %s, not numbers", s->name, a->fields[field].name,
                          k == 'V' ? "raw void bytes" : "byte strings");
    return LT_OK;
}

lt_status lt_npy_convert_i64(const lt_npy *a, int field, const void *raw, size_t n, int64_t *dst, uint64_t first_row,
                             lt_err *err)
{
    lt_status st = check_field(a, field, err);
    if (st)
        return st;
    const lt_npy_field *f = &a->fields[field];
    const uint8_t *base = (const uint8_t *)raw + f->offset;
    const size_t stride = (size_t)a->itemsize;
    const uint32_t size = f->size;
    const int be = f->big_endian;
    const uint64_t cols = a->cols ? a->cols : 1;
    /* The common little-endian integer fields get their own loops (the size
     * switch hoisted out), so event .npy files decode at memory speed. */
#define NPY_LOOP(TYPE)                                                                                                \
    for (size_t i = 0; i < n; i++) {                                                                                  \
        TYPE v_;                                                                                                      \
        memcpy(&v_, base + i * stride, sizeof v_);                                                                    \
        dst[i] = (int64_t)v_;                                                                                         \
    }
    if (!be && !host_big_endian() && (f->kind == 'i' || (f->kind == 'u' && size < 8))) {
        switch ((int)size * (f->kind == 'i' ? 1 : -1)) {
        case 1: NPY_LOOP(int8_t) return LT_OK;
        case 2: NPY_LOOP(int16_t) return LT_OK;
        case 4: NPY_LOOP(int32_t) return LT_OK;
        case 8: NPY_LOOP(int64_t) return LT_OK;
        case -1: NPY_LOOP(uint8_t) return LT_OK;
        case -2: NPY_LOOP(uint16_t) return LT_OK;
        case -4: NPY_LOOP(uint32_t) return LT_OK;
        default: break;
        }
    }
#undef NPY_LOOP
    switch (f->kind) {
    case 'b':
        for (size_t i = 0; i < n; i++)
            dst[i] = base[i * stride] != 0;
        break;
    case 'i':
        for (size_t i = 0; i < n; i++)
            dst[i] = as_signed(ld_bits(base + i * stride, size, be), size);
        break;
    case 'u':
        for (size_t i = 0; i < n; i++) {
            uint64_t v = ld_bits(base + i * stride, size, be);
            if (v > (uint64_t)INT64_MAX)
                return lt_err_set(err, LT_ERR_FORMAT, "%s: field '%s' row %llu: value %llu does not fit int64",
                                  ((const lt_rsrc *)a->priv_)->name, f->name, (unsigned long long)(first_row + i / cols),
                                  (unsigned long long)v);
            dst[i] = (int64_t)v;
        }
        break;
    case 'f':
        for (size_t i = 0; i < n; i++) {
            double v = as_float(ld_bits(base + i * stride, size, be), size);
            /* 2^63 is exactly representable; int64 holds [-2^63, 2^63). */
            if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0) || v != trunc(v))
                return lt_err_set(err, LT_ERR_FORMAT, "%s: field '%s' row %llu: value %.17g is not an integer in int64 range",
                                  ((const lt_rsrc *)a->priv_)->name, f->name, (unsigned long long)(first_row + i / cols), v);
            dst[i] = (int64_t)v;
        }
        break;
    }
    return LT_OK;
}

lt_status lt_npy_convert_f64(const lt_npy *a, int field, const void *raw, size_t n, double *dst, uint64_t first_row,
                             lt_err *err)
{
    (void)first_row;
    lt_status st = check_field(a, field, err);
    if (st)
        return st;
    const lt_npy_field *f = &a->fields[field];
    const uint8_t *base = (const uint8_t *)raw + f->offset;
    const size_t stride = (size_t)a->itemsize;
    const uint32_t size = f->size;
    const int be = f->big_endian;
    switch (f->kind) {
    case 'b':
        for (size_t i = 0; i < n; i++)
            dst[i] = base[i * stride] != 0;
        break;
    case 'i':
        for (size_t i = 0; i < n; i++)
            dst[i] = (double)as_signed(ld_bits(base + i * stride, size, be), size);
        break;
    case 'u':
        for (size_t i = 0; i < n; i++)
            dst[i] = (double)ld_bits(base + i * stride, size, be);
        break;
    case 'f':
        for (size_t i = 0; i < n; i++)
            dst[i] = as_float(ld_bits(base + i * stride, size, be), size);
        break;
    }
    return LT_OK;
}

static lt_status check_rows(const lt_npy *a, uint64_t row0, uint64_t nrows, lt_err *err)
{
    const lt_rsrc *s = a->priv_;
    if (!s)
        return lt_err_set(err, LT_ERR_ARG, "npy: array not open");
    if (row0 > a->rows || nrows > a->rows - row0)
        return lt_err_set(err, LT_ERR_ARG, "%s: rows %llu..%llu requested, the array has %llu", s->name,
                          (unsigned long long)row0, (unsigned long long)(row0 + nrows), (unsigned long long)a->rows);
    return LT_OK;
}

lt_status lt_npy_read_raw(const lt_npy *a, uint64_t row0, uint64_t nrows, void *raw, lt_err *err)
{
    lt_status st = check_rows(a, row0, nrows, err);
    if (st)
        return st;
    const lt_rsrc *s = a->priv_;
    if (a->fortran_order && a->cols > 1)
        return lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: raw rows of a Fortran-order array with %llu columns", s->name,
                          (unsigned long long)a->cols);
    /* open checked rows * cols * itemsize fits in size_t and in the file */
    uint64_t row_bytes = a->cols * a->itemsize;
    return lt_rsrc_read(s, a->data_offset + row0 * row_bytes, raw, (size_t)(nrows * row_bytes), err);
}

/* Shared walk for read_i64/f64: convert element runs that are contiguous in
 * the file, block by block.  dst_elem is the element size of dst. */
static lt_status read_conv(const lt_npy *a, int field, uint64_t row0, uint64_t nrows, void *dst, int to_f64, lt_err *err)
{
    lt_status st = check_rows(a, row0, nrows, err);
    if (st || (st = check_field(a, field, err)))
        return st;
    if (nrows == 0 || a->cols == 0)
        return LT_OK; /* nothing to read (and no column loop over an empty axis) */
    const lt_rsrc *s = a->priv_;
    uint64_t per = a->itemsize ? NPY_BLOCK / a->itemsize : 1;
    if (per == 0)
        per = 1;
    uint8_t *raw = malloc((size_t)(per * a->itemsize));
    void *tmp = malloc((size_t)per * 8);
    if (!raw || !tmp) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", s->name);
        goto free_bufs;
    }
    /* A run: `len` elements at file element index `fidx`, landing in dst at
     * C index didx with stride dstep. */
    uint64_t runs = (a->fortran_order && a->cols > 1) ? a->cols : 1;
    for (uint64_t c = 0; c < runs && !st; c++) {
        uint64_t fidx, len, didx, dstep;
        if (runs == 1) {
            fidx = row0 * a->cols, len = nrows * a->cols, didx = 0, dstep = 1;
        } else {
            /* C index c over shape[1:] -> Fortran index over shape[1:] */
            uint64_t rem = c, fo = 0, mul = 1, idx[LT_NPY_MAXDIM];
            for (int d = a->ndim - 1; d >= 1; d--) {
                idx[d] = rem % a->shape[d];
                rem /= a->shape[d];
            }
            for (int d = 1; d < a->ndim; d++) {
                fo += idx[d] * mul;
                mul *= a->shape[d];
            }
            fidx = fo * a->rows + row0, len = nrows, didx = c, dstep = a->cols;
        }
        for (uint64_t done = 0; done < len && !st;) {
            uint64_t k = len - done < per ? len - done : per;
            st = lt_rsrc_read(s, a->data_offset + (fidx + done) * a->itemsize, raw, (size_t)(k * a->itemsize), err);
            if (st)
                break;
            uint64_t first_row = runs == 1 ? (fidx + done) / a->cols : row0 + done;
            if (dstep == 1) {
                void *d = to_f64 ? (void *)((double *)dst + didx + done) : (void *)((int64_t *)dst + didx + done);
                st = to_f64 ? lt_npy_convert_f64(a, field, raw, (size_t)k, d, first_row, err)
                            : lt_npy_convert_i64(a, field, raw, (size_t)k, d, first_row, err);
            } else {
                st = to_f64 ? lt_npy_convert_f64(a, field, raw, (size_t)k, tmp, first_row, err)
                            : lt_npy_convert_i64(a, field, raw, (size_t)k, tmp, first_row, err);
                for (uint64_t i = 0; i < k && !st; i++) {
                    uint64_t at = didx + (done + i) * dstep;
                    if (to_f64)
                        ((double *)dst)[at] = ((double *)tmp)[i];
                    else
                        ((int64_t *)dst)[at] = ((int64_t *)tmp)[i];
                }
            }
            done += k;
        }
    }
free_bufs:
    free(raw);
    free(tmp);
    return st;
}

lt_status lt_npy_read_i64(const lt_npy *a, int field, uint64_t row0, uint64_t nrows, int64_t *dst, lt_err *err)
{
    return read_conv(a, field, row0, nrows, dst, 0, err);
}

lt_status lt_npy_read_f64(const lt_npy *a, int field, uint64_t row0, uint64_t nrows, double *dst, lt_err *err)
{
    return read_conv(a, field, row0, nrows, dst, 1, err);
}

/* ---- writing ---- */
lt_status lt_npy_descr_itemsize(const char *descr, uint64_t *itemsize, lt_err *err)
{
    *itemsize = 0;
    pparse p;
    memset(&p, 0, sizeof p);
    size_t len = strlen(descr);
    p.txt = descr, p.len = len, p.name = "descr", p.err = err;
    p.cap = (int)len + 4;
    p.nodes = malloc((size_t)p.cap * sizeof *p.nodes);
    p.sbuf = malloc(len + 1);
    lt_status st;
    hdr_desc d;
    memset(&d, 0, sizeof d);
    int root;
    if (!p.nodes || !p.sbuf) {
        st = lt_err_set(err, LT_ERR_NOMEM, "out of memory");
        goto free_parse;
    }
    if ((st = pp_value(&p, 0, &root)))
        goto free_parse;
    pp_ws(&p);
    if (p.i != p.len) {
        st = pp_fail(&p, "the end of the descr");
        goto free_parse;
    }
    if ((st = descr_from_node(&d, &p, root, err)))
        goto free_parse;
    *itemsize = d.itemsize;
free_parse:
    free(d.fields);
    free(p.nodes);
    free(p.sbuf);
    return st;
}

lt_status lt_npy_header(char **out, size_t *len, const char *descr, int ndim, const uint64_t *shape, size_t pad_to,
                        lt_err *err)
{
    *out = NULL, *len = 0;
    if (ndim < 0 || ndim > LT_NPY_MAXDIM)
        return lt_err_set(err, LT_ERR_ARG, "npy header: %d dimensions (0..%d)", ndim, LT_NPY_MAXDIM);
    size_t cap = strlen(descr) + 64 + (size_t)ndim * 24 + 128;
    char *dict = malloc(cap);
    if (!dict)
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory");
    size_t k = (size_t)snprintf(dict, cap, "{'descr': %s, 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < ndim; i++)
        k += (size_t)snprintf(dict + k, cap - k, "%llu%s", (unsigned long long)shape[i],
                              ndim == 1 ? "," : i + 1 < ndim ? ", " : "");
    k += (size_t)snprintf(dict + k, cap - k, "), }");
    size_t pre = 10, total = (pre + k + 1 + 63) / 64 * 64;
    if (pad_to)
        total = pad_to;
    if (total - pre > 65535) {
        pre = 12;
        if (!pad_to)
            total = (pre + k + 1 + 63) / 64 * 64;
    }
    if (total < pre + k + 1 || total - pre > 0xffffffffu) {
        free(dict);
        return lt_err_set(err, LT_ERR_ARG, "npy header: %zu bytes do not fit in %zu", pre + k + 1, total);
    }
    char *h = malloc(total);
    if (!h) {
        free(dict);
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory");
    }
    size_t hl = total - pre;
    memcpy(h, NPY_MAGIC, 6);
    h[6] = pre == 10 ? 1 : 2;
    h[7] = 0;
    h[8] = (char)(hl & 255);
    h[9] = (char)((hl >> 8) & 255);
    if (pre == 12) {
        h[10] = (char)((hl >> 16) & 255);
        h[11] = (char)((hl >> 24) & 255);
    }
    memcpy(h + pre, dict, k);
    memset(h + pre + k, ' ', total - pre - k - 1);
    h[total - 1] = '\n';
    free(dict);
    *out = h;
    *len = total;
    return LT_OK;
}

lt_status lt_npy_write(const char *path, const char *descr, int ndim, const uint64_t *shape, const void *data,
                       size_t nbytes, lt_err *err)
{
    if (ndim < 0 || ndim > LT_NPY_MAXDIM)
        return lt_err_set(err, LT_ERR_ARG, "%s: %d dimensions (0..%d)", path, ndim, LT_NPY_MAXDIM);
    uint64_t isz;
    lt_status st = lt_npy_descr_itemsize(descr, &isz, err);
    if (st)
        return lt_err_prefix(err, "%s: ", path);
    size_t n = (size_t)isz;
    for (int i = 0; i < ndim; i++)
        if (shape[i] > SIZE_MAX || !lt_mul_ok(n, (size_t)shape[i], &n))
            return lt_err_set(err, LT_ERR_ARG, "%s: shape overflows", path);
    if (n != nbytes)
        return lt_err_set(err, LT_ERR_ARG, "%s: %zu data bytes given, shape and descr need %zu", path, nbytes, n);
    char *h;
    size_t hlen;
    if ((st = lt_npy_header(&h, &hlen, descr, ndim, shape, 0, err)))
        return st;
    lt_afile f;
    if ((st = lt_afile_open(&f, path, err)))
        goto free_header;
    if (fwrite(h, 1, hlen, f.f) != hlen || (nbytes && fwrite(data, 1, nbytes, f.f) != nbytes)) {
        lt_afile_abort(&f);
        st = lt_err_set(err, LT_ERR_IO, "%s: write failed", path);
        goto free_header;
    }
    st = lt_afile_commit(&f, err);
free_header:
    free(h);
    return st;
}
