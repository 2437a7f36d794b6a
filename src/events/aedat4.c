/* aedat4.c -- iniVation DV AEDAT 4.0 files: reader and encoder.
 *
 * A file is "#!AER-DAT4.0\r\n", a u32 (little-endian) size and an IOHeader
 * FlatBuffer (file identifier "IOHE": compression (int32: 0 none, 1 LZ4,
 * 2 LZ4 high, 3 Zstd, 4 Zstd high), dataTablePosition (int64, -1 = none),
 * infoNode (string: XML naming each stream's id, typeIdentifier and size)),
 * then packets: i32 stream id, i32 size, size bytes compressed as the
 * header says (one LZ4 frame or one Zstd frame), up to dataTablePosition
 * (the seek table, not read) or the end of the file.  A packet decompresses
 * to a size-prefixed FlatBuffer; an event stream's ("EVTS") root table
 * holds one vector of 16-byte structs {int64 t; int16 x; int16 y; bool on}.
 *
 * The FlatBuffers are parsed by hand here: every offset read from the file
 * is checked against the buffer before it is followed (no generated code
 * trusting the file).  One event stream is read (the first EVTS stream, or
 * the one opts.aedat4_stream names); every other packet is skipped by its
 * size and counted per stream.  Memory: one packet, compressed and
 * decompressed; a packet may not inflate past LT_A4_INFLATE_MAX.  t is the
 * stored int64 (DV's microseconds, usually since the epoch), x and y as
 * stored, p = on.  Not for frames, IMU or trigger contents. */
#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "events/reader_priv.h"

#define A4_MAGIC "#!AER-DAT4.0\r\n"
#define A4_MAGIC_LEN 14
#define A4_MAX_STREAMS 64
#define A4_MAX_HEADER (16u << 20)
/* A packet may inflate to 64 MiB plus 1024 times its stored size, at most 1 GiB. */
#define A4_INFLATE_BASE ((size_t)64 << 20)
#define A4_INFLATE_MAX ((size_t)1 << 30)
#define A4_EVENT_SIZE 16
#define A4_PACKET_EVENTS 4096 /* the encoder's events per packet */

static const char *const comp_names[5] = {"none", "LZ4", "LZ4 high", "Zstd", "Zstd high"};

typedef struct a4_stream {
    lt_reader_stream s;
} a4_stream;

struct lt_aedat4 {
    int compression;
    int64_t table_pos;      /* dataTablePosition, -1 = none */
    uint64_t pos;           /* file offset of the next packet header */
    uint64_t end;           /* where packets end */
    int nstreams;
    a4_stream streams[A4_MAX_STREAMS];
    int ev_stream;          /* index in streams of the stream read, -1 = none */
    uint32_t w, h;          /* bounds for x, y */
    uint8_t *zbuf;          /* one stored packet */
    size_t zcap;
    uint8_t *pbuf;          /* one decompressed packet */
    size_t pcap, plen;
    const uint8_t *elems;   /* events of the current packet */
    uint64_t nelems, ielem;
    uint64_t packet_off;    /* file offset of the current packet's data */
    LZ4F_dctx *lz4;
    ZSTD_DStream *zstd;
};

/* ---- bounds-checked FlatBuffers access: every read is checked against len ---- */
typedef struct fb {
    const uint8_t *p;
    size_t len;
} fb;

static int fb_u32(const fb *b, size_t off, uint32_t *v)
{
    if (off > b->len || b->len - off < 4)
        return 0;
    *v = lt_evr_le32(b->p + off);
    return 1;
}

/* The table at tpos: where field f is (0 = absent); 0 also on a bad vtable. */
static int fb_field(const fb *b, size_t tpos, int f, size_t *fpos, int *ok)
{
    uint32_t so;
    *ok = 0;
    if (!fb_u32(b, tpos, &so))
        return 0;
    int64_t vt = (int64_t)tpos - (int32_t)so;
    if (vt < 0 || (uint64_t)vt > b->len || b->len - (size_t)vt < 4)
        return 0;
    uint16_t vsize = lt_evr_le16(b->p + vt), tsize = lt_evr_le16(b->p + vt + 2);
    if (vsize < 4 || (vsize & 1) || (size_t)vt + vsize > b->len || tsize < 4 || tpos + tsize > b->len)
        return 0;
    *ok = 1;
    size_t at = 4 + 2 * (size_t)f;
    if (at + 2 > vsize)
        return 0;
    uint16_t fo = lt_evr_le16(b->p + vt + at);
    if (!fo)
        return 0;
    if (fo >= tsize) {
        *ok = 0;
        return 0;
    }
    *fpos = tpos + fo;
    return 1;
}

/* Follow the uoffset at pos to a vector or string: its element count and first byte. */
static int fb_vector(const fb *b, size_t pos, size_t elem, size_t *count, size_t *data)
{
    uint32_t uo, n;
    if (!fb_u32(b, pos, &uo) || uo > b->len - pos || !fb_u32(b, pos + uo, &n))
        return 0;
    size_t start = pos + uo + 4;
    if (elem && n > (b->len - start) / elem)
        return 0;
    *count = n, *data = start;
    return 1;
}

/* ---- the XML description: streams and their attributes ---- */
static a4_stream *stream_of(struct lt_aedat4 *a, const char *path)
{
    const char *s = strstr(path, "/outInfo/");
    if (!s)
        return NULL;
    s += 9;
    if (*s < '0' || *s > '9')
        return NULL;
    long id = strtol(s, NULL, 10);
    if (id < 0 || id > 65535)
        return NULL;
    for (int i = 0; i < a->nstreams; i++)
        if (a->streams[i].s.id == (int)id)
            return &a->streams[i];
    if (a->nstreams == A4_MAX_STREAMS)
        return NULL;
    a4_stream *st = &a->streams[a->nstreams++];
    memset(st, 0, sizeof *st);
    st->s.id = (int)id;
    return st;
}

/* value of name="..." inside the tag [t, e); copied into out */
static int xml_attr(const char *t, const char *e, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = t; p + n + 2 <= e; p++)
        if (!strncmp(p, name, n) && p[n] == '=' && p[n + 1] == '"' && (p == t || p[-1] == ' ')) {
            const char *v = p + n + 2, *q = memchr(v, '"', (size_t)(e - v));
            if (!q)
                return 0;
            snprintf(out, cap, "%.*s", (int)(q - v), v);
            return 1;
        }
    return 0;
}

/* [p, end) starts with the literal s */
static int starts(const char *p, const char *end, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(end - p) >= n && !memcmp(p, s, n);
}

static void parse_xml(struct lt_aedat4 *a, const char *x, size_t len)
{
    const char *end = x + len;
    char path[256] = "";
    for (const char *p = x; p < end;) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt)
            break;
        const char *gt = memchr(lt, '>', (size_t)(end - lt));
        if (!gt)
            break;
        if (starts(lt, gt, "<node ")) {
            if (!xml_attr(lt, gt, "path", path, sizeof path))
                path[0] = 0;
        } else if (starts(lt, gt, "<attr ")) {
            char key[32];
            const char *vend = NULL;
            for (const char *q = gt; q + 7 <= end; q++)
                if (starts(q, end, "</attr>")) {
                    vend = q;
                    break;
                }
            a4_stream *s = path[0] ? stream_of(a, path) : NULL;
            if (s && vend && xml_attr(lt, gt, "key", key, sizeof key)) {
                int info = strstr(path, "/info/") != NULL;
                const char *v = gt + 1;
                int vl = (int)(vend - v);
                if (!info && !strcmp(key, "typeIdentifier"))
                    snprintf(s->s.type, sizeof s->s.type, "%.*s", vl, v);
                else if (!info && !strcmp(key, "originalOutputName"))
                    snprintf(s->s.name, sizeof s->s.name, "%.*s", vl, v);
                else if (info && !strcmp(key, "source"))
                    snprintf(s->s.source, sizeof s->s.source, "%.*s", vl, v);
                else if (info && (!strcmp(key, "sizeX") || !strcmp(key, "sizeY"))) {
                    char num[16];
                    snprintf(num, sizeof num, "%.*s", vl < 15 ? vl : 15, v);
                    long n = strtol(num, NULL, 10);
                    if (n > 0 && n <= 32768)
                        *(key[4] == 'X' ? &s->s.width : &s->s.height) = (int)n;
                }
            }
            if (vend)
                gt = vend + 6;
        }
        p = gt + 1;
    }
}

/* ---- open ---- */
static void close_a4(lt_reader *r)
{
    struct lt_aedat4 *a = r->a4;
    if (!a)
        return;
    free(a->zbuf);
    free(a->pbuf);
    if (a->lz4)
        LZ4F_freeDecompressionContext(a->lz4);
    if (a->zstd)
        ZSTD_freeDStream(a->zstd);
    free(a);
    r->a4 = NULL;
}

static lt_status next_a4(lt_reader *r, lt_events *out, size_t room, size_t *produced, lt_err *err);

static lt_status open_a4(lt_reader *r, lt_err *err)
{
    struct lt_aedat4 *a = calloc(1, sizeof *a);
    if (!a)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", r->name);
    r->a4 = a;
    uint8_t head[A4_MAGIC_LEN + 4];
    if (r->src.size < sizeof head)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: the file ends inside the AEDAT 4.0 preamble (expected "
                          "'#!AER-DAT4.0\\r\\n' and the header size, 18 bytes)", r->name, (unsigned long long)r->src.size);
    lt_status st = lt_rsrc_read(&r->src, 0, head, sizeof head, err);
    if (st)
        return st;
    if (memcmp(head, A4_MAGIC, A4_MAGIC_LEN))
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte 0: expected the line '#!AER-DAT4.0' (CR LF)", r->name);
    uint32_t hsize = lt_evr_le32(head + A4_MAGIC_LEN);
    if (hsize > r->src.size - sizeof head || hsize > A4_MAX_HEADER || hsize < 8)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %d: header size %u does not fit the file (%llu bytes after the "
                          "preamble, at most %u)", r->name, A4_MAGIC_LEN, hsize,
                          (unsigned long long)(r->src.size - sizeof head), A4_MAX_HEADER);
    uint8_t *h = malloc(hsize + 1);
    if (!h)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", r->name);
    const uint64_t h0 = sizeof head;
    if ((st = lt_rsrc_read(&r->src, h0, h, hsize, err)))
        goto free_header;
    fb b = {h, hsize};
    uint32_t root;
    size_t fpos, slen, sdata;
    int ok;
    if (!fb_u32(&b, 0, &root) || root > hsize - 4 || memcmp(h + 4, "IOHE", 4)) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: expected an IOHeader FlatBuffer (root offset inside the "
                        "header, identifier 'IOHE')", r->name, (unsigned long long)h0);
        goto free_header;
    }
    a->compression = 0, a->table_pos = -1;
    if (fb_field(&b, root, 0, &fpos, &ok)) {
        uint32_t c = 0;
        if (!fb_u32(&b, fpos, &c))
            ok = 0;
        a->compression = (int)c;
    }
    if (!ok)
        goto bad_table;
    if (a->compression < 0 || a->compression > 4) {
        st = lt_err_set(err, LT_ERR_UNSUPPORTED, "%s: byte %llu: compression %d (expected 0 none, 1 LZ4, 2 LZ4 high, "
                        "3 Zstd, 4 Zstd high)", r->name, (unsigned long long)(h0 + fpos), a->compression);
        goto free_header;
    }
    if (fb_field(&b, root, 1, &fpos, &ok)) {
        if (fpos + 8 > hsize) {
            ok = 0;
        } else {
            a->table_pos = (int64_t)lt_evr_le64(h + fpos);
        }
    }
    if (!ok)
        goto bad_table;
    if (!fb_field(&b, root, 2, &fpos, &ok) || !fb_vector(&b, fpos, 1, &slen, &sdata)) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: the IOHeader has no readable info node (the XML naming "
                        "the streams)", r->name, (unsigned long long)h0);
        goto free_header;
    }
    parse_xml(a, (const char *)h + sdata, slen);
    free(h);
    h = NULL;

    a->pos = h0 + hsize;
    a->end = r->src.size;
    if (a->table_pos >= 0) {
        if ((uint64_t)a->table_pos < a->pos || (uint64_t)a->table_pos > r->src.size)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: data table position %lld lies outside the packets "
                              "(%llu..%llu)", r->name, (unsigned long long)(A4_MAGIC_LEN + 4),
                              (long long)a->table_pos, (unsigned long long)a->pos, (unsigned long long)r->src.size);
        a->end = (uint64_t)a->table_pos;
    }
    /* the event stream: the one asked for, else the first EVTS stream */
    a->ev_stream = -1;
    for (int i = 0; i < a->nstreams && a->ev_stream < 0; i++) {
        const lt_reader_stream *s = &a->streams[i].s;
        if (r->opts.aedat4_stream ? s->id == r->opts.aedat4_stream - 1 : !strcmp(s->type, "EVTS"))
            a->ev_stream = i;
    }
    if (r->opts.aedat4_stream && (a->ev_stream < 0 || strcmp(a->streams[a->ev_stream].s.type, "EVTS")))
        return lt_err_set(err, LT_ERR_ARG, "%s: stream %d is not an event (EVTS) stream of this file", r->name,
                          r->opts.aedat4_stream - 1);
    char desc[128];
    size_t o = (size_t)snprintf(desc, sizeof desc, "compression %s; streams", comp_names[a->compression]);
    for (int i = 0; i < a->nstreams && o < sizeof desc; i++)
        o += (size_t)snprintf(desc + o, sizeof desc - o, "%s %d %s", i ? "," : "", a->streams[i].s.id,
                              a->streams[i].s.type[0] ? a->streams[i].s.type : "?");
    snprintf(r->info.detail, sizeof r->info.detail, "%s", desc);
    if (a->ev_stream >= 0) {
        a4_stream *s = &a->streams[a->ev_stream];
        s->s.read = 1;
        r->info.width = s->s.width && s->s.height ? s->s.width : 0;
        r->info.height = s->s.width && s->s.height ? s->s.height : 0;
        snprintf(r->info.camera, sizeof r->info.camera, "%s", s->s.source);
    }
    a->w = r->info.width ? (uint32_t)r->info.width : 32768;
    a->h = r->info.height ? (uint32_t)r->info.height : 32768;
    r->info.version = 4;
    r->info.header_bytes = a->pos;
    r->info.header_only = a->pos == r->src.size;
    r->next = next_a4;
    lt_evr_skip_kind(r, 0, "packets of other streams");
    return LT_OK;
bad_table:
    st = lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: the IOHeader table or its field offsets run outside the "
                    "%u-byte header", r->name, (unsigned long long)h0, hsize);
free_header:
    free(h);
    return st;
}

/* ---- packets ---- */
static lt_status grow(lt_reader *r, uint8_t **buf, size_t *cap, size_t need, lt_err *err)
{
    if (need <= *cap)
        return LT_OK;
    size_t c = *cap ? *cap : 1 << 16;
    while (c < need)
        c = c > SIZE_MAX / 2 ? need : c * 2;
    uint8_t *p = realloc(*buf, c);
    if (!p)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory for a %zu-byte packet", r->name, need);
    *buf = p, *cap = c;
    return LT_OK;
}

/* Decompress a->zbuf[0..n) into a->pbuf (one complete LZ4 or Zstd frame, nothing after it). */
static lt_status inflate_packet(lt_reader *r, size_t n, lt_err *err)
{
    struct lt_aedat4 *a = r->a4;
    size_t limit = n > (A4_INFLATE_MAX - A4_INFLATE_BASE) / 1024 ? A4_INFLATE_MAX : A4_INFLATE_BASE + 1024 * n;
    lt_status st;
    a->plen = 0;
    const unsigned long long off = (unsigned long long)a->packet_off;
    if (a->compression == 1 || a->compression == 2) {
        if (!a->lz4 && LZ4F_isError(LZ4F_createDecompressionContext(&a->lz4, LZ4F_VERSION)))
            return lt_err_set(err, LT_ERR_NOMEM, "%s: cannot make an LZ4 context", r->name);
        LZ4F_resetDecompressionContext(a->lz4);
        size_t in = 0, ret = 1;
        while (in < n) {
            if ((st = grow(r, &a->pbuf, &a->pcap, a->plen + (1 << 16), err)))
                return st;
            size_t src = n - in, dst = a->pcap - a->plen;
            ret = LZ4F_decompress(a->lz4, a->pbuf + a->plen, &dst, a->zbuf + in, &src, NULL);
            if (LZ4F_isError(ret))
                return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: packet is not a valid LZ4 frame (%s)", r->name,
                                  off, LZ4F_getErrorName(ret));
            in += src, a->plen += dst;
            if (a->plen > limit)
                return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: the %zu-byte packet inflates past %zu bytes",
                                  r->name, off, n, limit);
            if (ret == 0)
                break;
            if (src == 0 && dst == 0)
                return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: LZ4 frame makes no progress", r->name, off);
        }
        /* flush what the frame still holds */
        while (ret != 0) {
            if ((st = grow(r, &a->pbuf, &a->pcap, a->plen + (1 << 16), err)))
                return st;
            size_t src = 0, dst = a->pcap - a->plen;
            ret = LZ4F_decompress(a->lz4, a->pbuf + a->plen, &dst, NULL, &src, NULL);
            if (LZ4F_isError(ret) || dst == 0)
                return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: the packet ends inside its LZ4 frame", r->name,
                                  off);
            a->plen += dst;
            if (a->plen > limit)
                return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: the %zu-byte packet inflates past %zu bytes",
                                  r->name, off, n, limit);
        }
        if (in != n)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: %zu bytes after the packet's LZ4 frame", r->name,
                              off + in, n - in);
        return LT_OK;
    }
    if (a->compression == 3 || a->compression == 4) {
        if (!a->zstd && !(a->zstd = ZSTD_createDStream()))
            return lt_err_set(err, LT_ERR_NOMEM, "%s: cannot make a Zstd context", r->name);
        ZSTD_initDStream(a->zstd);
        ZSTD_inBuffer ib = {a->zbuf, n, 0};
        size_t ret = 1;
        while (ret != 0) {
            if ((st = grow(r, &a->pbuf, &a->pcap, a->plen + (1 << 16), err)))
                return st;
            ZSTD_outBuffer ob = {a->pbuf + a->plen, a->pcap - a->plen, 0};
            size_t in0 = ib.pos;
            ret = ZSTD_decompressStream(a->zstd, &ob, &ib);
            if (ZSTD_isError(ret))
                return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: packet is not a valid Zstd frame (%s)", r->name,
                                  off, ZSTD_getErrorName(ret));
            a->plen += ob.pos;
            if (a->plen > limit)
                return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: the %zu-byte packet inflates past %zu bytes",
                                  r->name, off, n, limit);
            if (ret != 0 && ob.pos == 0 && ib.pos == in0)
                return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: the packet ends inside its Zstd frame", r->name,
                                  off);
        }
        if (ib.pos != n)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: %zu bytes after the packet's Zstd frame", r->name,
                              off + ib.pos, n - ib.pos);
        return LT_OK;
    }
    return lt_err_set(err, LT_ERR_ARG, "%s: compression %d", r->name, a->compression); /* open refused it */
}

/* The EventPacket in a->pbuf: point elems at its events. */
static lt_status parse_events(lt_reader *r, lt_err *err)
{
    struct lt_aedat4 *a = r->a4;
    const unsigned long long off = (unsigned long long)a->packet_off;
    uint32_t size, root;
    if (a->plen < 12 || (size = lt_evr_le32(a->pbuf)) != a->plen - 4)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: the event packet inflates to %zu bytes, expected a "
                          "size-prefixed FlatBuffer whose prefix says so", r->name, off, a->plen);
    fb b = {a->pbuf + 4, a->plen - 4};
    if (!fb_u32(&b, 0, &root) || root > b.len - 4 || memcmp(b.p + 4, "EVTS", 4))
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: expected an EventPacket FlatBuffer (identifier 'EVTS', "
                          "root inside the packet)", r->name, off);
    size_t fpos, count = 0, data = 0;
    int ok;
    if (fb_field(&b, root, 0, &fpos, &ok)) {
        if (!fb_vector(&b, fpos, A4_EVENT_SIZE, &count, &data))
            return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: the packet's event vector runs past its %zu bytes",
                              r->name, off, b.len);
    } else if (!ok) {
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: the EventPacket table or its vtable runs outside the "
                          "packet", r->name, off);
    }
    a->elems = b.p + data;
    a->nelems = count, a->ielem = 0;
    return LT_OK;
}

static lt_status next_packet(lt_reader *r, lt_err *err)
{
    struct lt_aedat4 *a = r->a4;
    lt_status st;
    while (a->ielem == a->nelems) {
        if (a->pos == a->end) {
            r->eof = 1;
            return LT_OK;
        }
        uint8_t h[8];
        if (a->end - a->pos < 8)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: %llu bytes left before %s, too few for a packet header "
                              "(stream id and size, 8 bytes)", r->name, (unsigned long long)a->pos,
                              (unsigned long long)(a->end - a->pos), a->end == r->src.size ? "the end" : "the data table");
        if ((st = lt_rsrc_read(&r->src, a->pos, h, 8, err)))
            return st;
        int32_t id = (int32_t)lt_evr_le32(h);
        uint32_t size = lt_evr_le32(h + 4);
        if ((int32_t)size < 0 || size > a->end - a->pos - 8)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: packet of %u bytes for stream %d runs past %s (%llu "
                              "bytes left)", r->name, (unsigned long long)(a->pos + 4), size, id,
                              a->end == r->src.size ? "the end of the file" : "the data table",
                              (unsigned long long)(a->end - a->pos - 8));
        int k = -1;
        for (int i = 0; i < a->nstreams; i++)
            if (a->streams[i].s.id == id)
                k = i;
        if (k < 0)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: packet for stream %d, which the header's info node "
                              "does not describe", r->name, (unsigned long long)a->pos, id);
        a->streams[k].s.packets++;
        a->streams[k].s.bytes += size;
        a->packet_off = a->pos + 8;
        a->pos += 8 + (uint64_t)size;
        if (k != a->ev_stream) {
            r->skip[0]++;
            continue;
        }
        if (a->compression == 0) { /* stored as is: read straight into the packet buffer */
            if ((st = grow(r, &a->pbuf, &a->pcap, size ? size : 1, err)) ||
                (st = lt_rsrc_read(&r->src, a->packet_off, a->pbuf, size, err)))
                return st;
            a->plen = size;
        } else if ((st = grow(r, &a->zbuf, &a->zcap, size ? size : 1, err)) ||
                   (st = lt_rsrc_read(&r->src, a->packet_off, a->zbuf, size, err)) ||
                   (st = inflate_packet(r, size, err))) {
            return st;
        }
        if ((st = parse_events(r, err)))
            return st;
    }
    return LT_OK;
}

static lt_status next_a4(lt_reader *r, lt_events *out, size_t room, size_t *produced, lt_err *err)
{
    struct lt_aedat4 *a = r->a4;
    lt_status st = next_packet(r, err);
    if (st || r->eof)
        return st;
    uint64_t left = a->nelems - a->ielem;
    size_t k = left < room ? (size_t)left : room;
    if ((st = lt_events_reserve(out, out->n + k, err)))
        return st;
    const uint8_t *e = a->elems + a->ielem * A4_EVENT_SIZE;
    size_t n = out->n;
    for (size_t i = 0; i < k; i++, e += A4_EVENT_SIZE) {
        int16_t x = (int16_t)lt_evr_le16(e + 8), y = (int16_t)lt_evr_le16(e + 10);
        uint8_t on = e[12];
        if (x < 0 || y < 0 || (uint32_t)x >= a->w || (uint32_t)y >= a->h || on > 1)
            return lt_err_set(err, LT_ERR_FORMAT, "%s: packet at byte %llu, event %llu: x %d, y %d, on %u (expected "
                              "x < %u, y < %u, on 0 or 1)", r->name, (unsigned long long)a->packet_off,
                              (unsigned long long)(a->ielem + i), x, y, on, a->w, a->h);
        out->t[n] = (int64_t)lt_evr_le64(e);
        out->x[n] = (uint16_t)x;
        out->y[n] = (uint16_t)y;
        out->p[n] = on;
        n++;
    }
    out->n = n;
    a->ielem += k;
    *produced += k;
    return LT_OK;
}

int lt_reader_stream_count(const lt_reader *r) { return r->a4 ? r->a4->nstreams : 0; }

void lt_reader_stream_get(const lt_reader *r, int i, lt_reader_stream *s)
{
    memset(s, 0, sizeof *s);
    if (r->a4 && i >= 0 && i < r->a4->nstreams)
        *s = r->a4->streams[i].s;
}

static int detect_a4(const uint8_t *head, size_t n) { return n >= 10 && !memcmp(head, "#!AER-DAT4", 10); }

/* ---- encoder: one EVTS stream, packets of A4_PACKET_EVENTS events ---- */
struct lt_aedat4_w {
    uint8_t *raw;  /* the FlatBuffer being filled */
    size_t nev;
    uint8_t *z;    /* its compressed form */
    size_t zcap;
};

static void w_free_a4(lt_writer *w)
{
    if (!w->a4)
        return;
    free(w->a4->raw);
    free(w->a4->z);
    free(w->a4);
    w->a4 = NULL;
}

static lt_status w_open_a4(lt_writer *w, lt_err *err)
{
    if (w->w > 32768 || w->h > 32768)
        return lt_err_set(err, LT_ERR_ARG, "%s: sensor %dx%d does not fit AEDAT 4.0's int16 addresses", w->af.path,
                          w->w, w->h);
    struct lt_aedat4_w *s = calloc(1, sizeof *s);
    if (!s || !(s->raw = malloc(32 + (size_t)A4_PACKET_EVENTS * A4_EVENT_SIZE))) {
        free(s);
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", w->af.path);
    }
    w->a4 = s;
    static const char *const xml_comp[5] = {"NONE", "LZ4", "LZ4_HIGH", "ZSTD", "ZSTD_HIGH"};
    char size[160] = "";
    if (w->w)
        snprintf(size, sizeof size,
                 "                <attr key=\"sizeX\" type=\"int\">%d</attr>\n"
                 "                <attr key=\"sizeY\" type=\"int\">%d</attr>\n", w->w, w->h);
    char xml[2048];
    int xl = snprintf(xml, sizeof xml,
                      "<dv version=\"2.0\">\n"
                      "    <node name=\"outInfo\" path=\"/mainloop/ltsnn/outInfo/\">\n"
                      "        <node name=\"0\" path=\"/mainloop/ltsnn/outInfo/0/\">\n"
                      "            <attr key=\"compression\" type=\"string\">%s</attr>\n"
                      "            <attr key=\"originalModuleName\" type=\"string\">ltsnn</attr>\n"
                      "            <attr key=\"originalOutputName\" type=\"string\">events</attr>\n"
                      "            <attr key=\"typeDescription\" type=\"string\">Array of events (polarity ON/OFF).</attr>\n"
                      "            <attr key=\"typeIdentifier\" type=\"string\">EVTS</attr>\n"
                      "            <node name=\"info\" path=\"/mainloop/ltsnn/outInfo/0/info/\">\n"
                      "%s"
                      "                <attr key=\"source\" type=\"string\">ltsnn</attr>\n"
                      "            </node>\n"
                      "        </node>\n"
                      "    </node>\n"
                      "</dv>\n",
                      xml_comp[w->o.aedat4_compression], size);
    /* IOHeader: root, "IOHE", vtable (10 bytes) at 8, table at 24 {soffset,
     * compression @4, dataTablePosition @8 (8-aligned), infoNode @16}, string at 44 */
    size_t hl = 44 + 4 + (size_t)xl + 1;
    hl = (hl + 3) & ~(size_t)3;
    uint8_t h[44 + 4 + 2048 + 4];
    memset(h, 0, sizeof h);
    lt_evw_le(h, 24, 4);
    memcpy(h + 4, "IOHE", 4);
    lt_evw_le(h + 8, 10, 2), lt_evw_le(h + 10, 20, 2), lt_evw_le(h + 12, 4, 2), lt_evw_le(h + 14, 8, 2);
    lt_evw_le(h + 16, 16, 2);
    lt_evw_le(h + 24, 24 - 8, 4);
    lt_evw_le(h + 28, (uint64_t)w->o.aedat4_compression, 4);
    lt_evw_le(h + 32, UINT64_MAX, 8); /* -1: no data table */
    lt_evw_le(h + 40, 44 - 40, 4);
    lt_evw_le(h + 44, (uint64_t)xl, 4);
    memcpy(h + 48, xml, (size_t)xl);
    uint8_t pre[A4_MAGIC_LEN + 4];
    memcpy(pre, A4_MAGIC, A4_MAGIC_LEN);
    lt_evw_le(pre + A4_MAGIC_LEN, hl, 4);
    lt_status st = lt_evw_put(w, pre, sizeof pre, err);
    return st ? st : lt_evw_put(w, h, hl, err);
}

/* Finish the EventPacket in raw (size prefix, root, "EVTS", vtable, table,
 * vector at 28, events 8-aligned at 32), compress it and put it as a packet of stream 0. */
static lt_status flush_packet(lt_writer *w, lt_err *err)
{
    struct lt_aedat4_w *s = w->a4;
    if (!s->nev)
        return LT_OK;
    uint8_t *b = s->raw;
    size_t len = 32 + s->nev * A4_EVENT_SIZE;
    memset(b, 0, 32);
    lt_evw_le(b, len - 4, 4);
    lt_evw_le(b + 4, 16, 4);                /* root table at 4 + 16 = 20 */
    memcpy(b + 8, "EVTS", 4);
    lt_evw_le(b + 12, 6, 2), lt_evw_le(b + 14, 8, 2), lt_evw_le(b + 16, 4, 2); /* vtable at 12 */
    lt_evw_le(b + 20, 20 - 12, 4);          /* table: soffset to the vtable */
    lt_evw_le(b + 24, 28 - 24, 4);          /* field 0: the vector at 28 */
    lt_evw_le(b + 28, s->nev, 4);
    const uint8_t *data = b;
    size_t n = len;
    int c = (int)w->o.aedat4_compression;
    if (c) {
        size_t bound = c <= 2 ? LZ4F_compressFrameBound(len, NULL) : ZSTD_compressBound(len);
        if (bound > s->zcap) {
            uint8_t *z = realloc(s->z, bound);
            if (!z)
                return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", w->af.path);
            s->z = z, s->zcap = bound;
        }
        if (c <= 2) {
            LZ4F_preferences_t pref;
            memset(&pref, 0, sizeof pref);
            pref.compressionLevel = c == 2 ? 9 : 0;
            n = LZ4F_compressFrame(s->z, s->zcap, b, len, &pref);
            if (LZ4F_isError(n))
                return lt_err_set(err, LT_ERR_IO, "%s: LZ4 compression failed: %s", w->af.path, LZ4F_getErrorName(n));
        } else {
            n = ZSTD_compress(s->z, s->zcap, b, len, c == 4 ? 15 : 3);
            if (ZSTD_isError(n))
                return lt_err_set(err, LT_ERR_IO, "%s: Zstd compression failed: %s", w->af.path, ZSTD_getErrorName(n));
        }
        data = s->z;
    }
    uint8_t h[8];
    lt_evw_le(h, 0, 4);
    lt_evw_le(h + 4, n, 4);
    lt_status st = lt_evw_put(w, h, 8, err);
    if (!st)
        st = lt_evw_put(w, data, n, err);
    s->nev = 0;
    return st;
}

static lt_status w_event_a4(lt_writer *w, const lt_events *ev, size_t i, lt_err *err)
{
    struct lt_aedat4_w *s = w->a4;
    uint32_t x = ev->x[i], y = ev->y[i];
    uint32_t bw = w->w ? (uint32_t)w->w : 32768, bh = w->h ? (uint32_t)w->h : 32768;
    if (x >= bw || y >= bh)
        return lt_evw_bad(w, i, ev, "outside the AEDAT 4.0 sensor (x, y < 32768 and inside the given size)", err);
    uint8_t *e = s->raw + 32 + s->nev * A4_EVENT_SIZE;
    lt_evw_le(e, (uint64_t)ev->t[i], 8);
    lt_evw_le(e + 8, x, 2);
    lt_evw_le(e + 10, y, 2);
    e[12] = ev->p[i], e[13] = e[14] = e[15] = 0;
    if (++s->nev == A4_PACKET_EVENTS)
        return flush_packet(w, err);
    return LT_OK;
}

const lt_evr_format lt_evr_fmt_aedat4 = {
    .id = LT_EVF_AEDAT4,
    .name = "aedat4",
    .aliases = {"aedat4.0", "dv"},
    .exts = {".aedat4"},
    .describe = "iniVation DV AEDAT 4.0 (polarity events; LZ4 / Zstd packets)",
    .detect = detect_a4,
    .open = open_a4,
    .close = close_a4,
    .w_open = w_open_a4,
    .w_event = w_event_a4,
    .w_close = flush_packet,
    .w_free = w_free_a4,
};
