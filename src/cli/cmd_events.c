/* cmd_events.c -- `ltsnn events FILE`: decode a recording and print its
 * format, sensor, streams, event count (and skipped words by kind),
 * duration, min/max/sum of t, x, y, p and the first events; and `ltsnn
 * events convert IN OUT`: any format read to any format written.  Both
 * stream the file in chunks, so they work on recordings larger than
 * memory.  Sums are exact (128-bit).  Only flags and printing: formats
 * are the library's table. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ltsnn.h"

__extension__ typedef __int128 i128;

#define CHUNK ((size_t)1 << 16)

typedef struct stat4 {
    int64_t mn[4], mx[4];
    i128 sum[4];
    uint64_t n;
} stat4;

static void stat_add(stat4 *s, const lt_events *e, size_t from)
{
    for (size_t i = from; i < e->n; i++) {
        const int64_t v[4] = {e->t[i], e->x[i], e->y[i], e->p[i]};
        for (int k = 0; k < 4; k++) {
            if (s->n == 0 || v[k] < s->mn[k])
                s->mn[k] = v[k];
            if (s->n == 0 || v[k] > s->mx[k])
                s->mx[k] = v[k];
            s->sum[k] += v[k];
        }
        s->n++;
    }
}

static const char *i128_str(char *buf, size_t cap, i128 v)
{
    char tmp[48];
    int k = 0, neg = v < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
    do {
        tmp[k++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    size_t o = 0;
    if (neg && o + 1 < cap)
        buf[o++] = '-';
    while (k && o + 1 < cap)
        buf[o++] = tmp[--k];
    buf[o] = 0;
    return buf;
}

/* Reader options shared by both subcommands: --format (input), --layout, --cifar10dvs, --stream. */
static int reader_opts(lt_reader_opts *ro, const char *format, const char *layout, int cifar, int stream,
                       const char *verb)
{
    lt_err err = {0};
    memset(ro, 0, sizeof *ro);
    ro->cifar10dvs_fix = cifar;
    if ((format && lt_ev_format_parse(&ro->format, format, &err)) ||
        (layout && lt_aedat_layout_parse(&ro->aedat_layout, layout, &err))) {
        fprintf(stderr, "ltsnn %s: %s\n", verb, err.msg);
        return 2;
    }
    if (stream < -1) {
        fprintf(stderr, "ltsnn %s: --stream %d: expected a stream id (0 or more)\n", verb, stream);
        return 2;
    }
    ro->aedat4_stream = stream + 1;
    return 0;
}

static const char *const compressions[] = {"none", "lz4", "lz4-high", "zstd", "zstd-high"};

static int events_convert(int argc, char **argv)
{
    int cifar = 0, stream = -1, rebase = 0;
    const char *from = NULL, *to = NULL, *layout = NULL, *out_layout = NULL, *comp = NULL;
    char formats[512];
    lt_ev_format_list(formats, sizeof formats);
    cli_opt opts[] = {
        {"--format", CLI_STR, &to, "format to write (default: from OUT's extension)", 0, 0, 0},
        {"--from", CLI_STR, &from, "format of IN (default: from its header, then its extension)", 0, 0, 0},
        {"--layout", CLI_STR, &layout, "IN is AEDAT 2.0: its address layout, dvs128 or davis", 0, 0, 0},
        {"--cifar10dvs", CLI_BOOL, &cifar, "IN is AEDAT 2.0 DVS128: x -> 127 - x and p -> 1 - p", 0, 0, 0},
        {"--stream", CLI_INT, &stream, "IN is AEDAT 4.0: id of the event stream (default: the first)", 0, 0, 0},
        {"--out-layout", CLI_STR, &out_layout, "OUT is AEDAT 2.0: dvs128 or davis (default: dvs128 when the sensor "
                                               "fits 128x128, else davis)", 0, 0, 0},
        {"--compression", CLI_STR, &comp, "OUT is AEDAT 4.0: none (default), lz4, lz4-high, zstd or zstd-high", 0, 0, 0},
        {"--rebase", CLI_BOOL, &rebase, "subtract the first event's t from every t (DV's epoch microseconds do "
                                        "not fit 32-bit formats)", 0, 0, 0},
        {0},
    };
    char usage[1024];
    snprintf(usage, sizeof usage, "IN OUT [--format F] [--from F] [options]\n\nformats: %s", formats);
    const char *pos[2];
    int np;
    int rc = cli_parse("events convert", usage, argc, argv, 3, opts, pos, 2, &np);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (np != 2) {
        fprintf(stderr, "ltsnn events convert: give IN and OUT (ltsnn events convert IN OUT [--format F])\n");
        return 2;
    }
    lt_reader_opts ro;
    if ((rc = reader_opts(&ro, from, layout, cifar, stream, "events convert")))
        return rc;
    lt_err err = {0};
    lt_writer_opts wo = {0};
    if (to && lt_ev_format_parse(&wo.format, to, &err)) {
        fprintf(stderr, "ltsnn events convert: --format: %s\n", err.msg);
        return 2;
    }
    int explicit_layout = 0;
    if (out_layout) {
        if (lt_aedat_layout_parse(&wo.aedat_layout, out_layout, &err)) {
            fprintf(stderr, "ltsnn events convert: --out-layout: %s\n", err.msg);
            return 2;
        }
        explicit_layout = 1;
    }
    if (comp) {
        int k = -1;
        for (int i = 0; i < 5; i++)
            if (!strcmp(comp, compressions[i]))
                k = i;
        if (k < 0) {
            fprintf(stderr, "ltsnn events convert: --compression %s: expected none, lz4, lz4-high, zstd or zstd-high\n",
                    comp);
            return 2;
        }
        wo.aedat4_compression = (lt_aedat4_compression)k;
    }
    const char *in = pos[0], *out = pos[1];
    lt_reader *r;
    if (lt_reader_open(&r, in, &ro, &err)) {
        fprintf(stderr, "ltsnn events convert: %s\n", err.msg);
        return 1;
    }
    lt_reader_info info;
    lt_reader_get_info(r, &info);
    wo.width = info.width, wo.height = info.height;
    if (!explicit_layout)
        wo.aedat_layout = info.width && info.width <= 128 && info.height <= 128 ? LT_AEDAT_LAYOUT_DVS128
                                                                                : LT_AEDAT_LAYOUT_DAVIS;
    lt_writer *w;
    if (lt_writer_open(&w, out, &wo, &err)) {
        lt_reader_close(r);
        fprintf(stderr, "ltsnn events convert: %s\n", err.msg);
        return err.status == LT_ERR_ARG ? 2 : 1;
    }
    lt_events ev = {0};
    size_t got;
    lt_status st;
    int64_t t0 = 0;
    int have_t0 = 0;
    while ((st = lt_reader_next(r, &ev, CHUNK, &got, &err)) == LT_OK) {
        if (rebase) {
            if (!have_t0)
                t0 = ev.t[0], have_t0 = 1;
            for (size_t i = 0; i < ev.n; i++)
                ev.t[i] -= t0;
        }
        if ((st = lt_writer_write(w, &ev, &err)))
            break;
        lt_events_clear(&ev);
    }
    uint64_t n = lt_writer_count(w), skipped = lt_reader_skipped(r);
    lt_reader_close(r);
    lt_events_free(&ev);
    if (st != LT_ERR_EOF) {
        lt_writer_abort(w); /* nothing is left behind */
        fprintf(stderr, "ltsnn events convert: %s\n", err.msg);
        return 1;
    }
    if (lt_writer_close(w, &err)) {
        fprintf(stderr, "ltsnn events convert: %s\n", err.msg);
        return 1;
    }
    lt_ev_format of = wo.format ? wo.format : lt_ev_format_from_ext(out);
    printf("wrote %s: %llu events, %s", out, (unsigned long long)n, lt_ev_format_name(of));
    if (info.width)
        printf(", sensor %dx%d", info.width, info.height);
    printf(" (from %s, %s; %llu records skipped)\n", in, lt_ev_format_name(info.format), (unsigned long long)skipped);
    return 0;
}

int cmd_events(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[2], "convert"))
        return events_convert(argc, argv);
    int head = 5, cifar = 0, stream = -1;
    const char *format = NULL, *layout = NULL;
    cli_opt opts[] = {
        {"--head", CLI_INT, &head, "print the first N events (default 5)", 0, 0, 0},
        {"--format", CLI_STR, &format, "the file's format (default: from the header, then the extension)", 0, 0, 0},
        {"--layout", CLI_STR, &layout, "AEDAT address layout: dvs128 or davis (default: from the header's camera)", 0, 0, 0},
        {"--cifar10dvs", CLI_BOOL, &cifar, "AEDAT DVS128: x -> 127 - x and p -> 1 - p, as CIFAR10-DVS readers do", 0, 0, 0},
        {"--stream", CLI_INT, &stream, "AEDAT 4.0: id of the event stream to read (default: the first)", 0, 0, 0},
        {0},
    };
    char formats[512], usage[1024];
    lt_ev_format_list(formats, sizeof formats);
    snprintf(usage, sizeof usage,
             "FILE [--head N] [--format F] [--layout dvs128|davis] [--cifar10dvs] [--stream ID]\n"
             "       ltsnn events convert IN OUT [--format F] (ltsnn events convert --help)\n\nformats: %s", formats);
    const char *pos[1];
    int np;
    int rc = cli_parse("events", usage, argc, argv, 2, opts, pos, 1, &np);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (np != 1) {
        fprintf(stderr, "ltsnn events: give one recording (formats: %s)\n", formats);
        return 2;
    }
    if (head < 0) {
        fprintf(stderr, "ltsnn events: --head %d: expected 0 or more\n", head);
        return 2;
    }
    lt_err err = {0};
    lt_reader_opts ro;
    if ((rc = reader_opts(&ro, format, layout, cifar, stream, "events")))
        return rc;
    const char *path = pos[0];
    lt_reader *r;
    if (lt_reader_open(&r, path, &ro, &err)) {
        fprintf(stderr, "ltsnn events: %s\n", err.msg);
        return 1;
    }
    lt_reader_info info;
    lt_reader_get_info(r, &info);
    lt_events ev = {0}, first = {0};
    stat4 s;
    memset(&s, 0, sizeof s);
    size_t got;
    lt_status st;
    while ((st = lt_reader_next(r, &ev, CHUNK, &got, &err)) == LT_OK) {
        stat_add(&s, &ev, 0);
        for (size_t i = 0; i < ev.n && first.n < (size_t)head; i++)
            if ((st = lt_events_push(&first, ev.t[i], ev.x[i], ev.y[i], ev.p[i], &err)))
                break;
        if (st)
            break;
        lt_events_clear(&ev);
    }
    uint64_t skipped = lt_reader_skipped(r);
    lt_reader_skips sk;
    lt_reader_get_skips(r, &sk);
    int nstreams = lt_reader_stream_count(r);
    lt_reader_stream streams[16];
    for (int i = 0; i < nstreams && i < 16; i++)
        lt_reader_stream_get(r, i, &streams[i]);
    lt_reader_close(r);
    lt_events_free(&ev);
    if (st != LT_ERR_EOF) {
        lt_events_free(&first);
        fprintf(stderr, "ltsnn events: %s\n", err.msg);
        return 1;
    }

    printf("file      %s\n", path);
    printf("format    %s", lt_ev_format_name(info.format));
    if (info.version)
        printf(" (version %d)", info.version);
    printf("\n");
    if (info.camera[0])
        printf("camera    %s\n", info.camera);
    if (info.detail[0])
        printf("detail    %s\n", info.detail);
    for (int i = 0; i < nstreams && i < 16; i++) {
        const lt_reader_stream *q = &streams[i];
        printf("stream    %d %s (%s)", q->id, q->type[0] ? q->type : "?", q->name[0] ? q->name : "-");
        if (q->width)
            printf(" %dx%d", q->width, q->height);
        printf(": %llu packets, %llu bytes, %s\n", (unsigned long long)q->packets, (unsigned long long)q->bytes,
               q->read ? "read as the events" : "skipped");
    }
    if (info.width)
        printf("sensor    %dx%d\n", info.width, info.height);
    else
        printf("sensor    unknown\n");
    printf("header    %llu bytes\n", (unsigned long long)info.header_bytes);
    if (info.header_only)
        printf("note      the file ends inside its header: no events\n");
    printf("events    %llu\n", (unsigned long long)s.n);
    printf("skipped   %llu", (unsigned long long)skipped);
    int shown = 0;
    for (int k = 0; k < sk.n; k++)
        if (sk.count[k])
            printf("%s%llu %s", shown++ ? ", " : " (", (unsigned long long)sk.count[k], sk.what[k]);
    printf("%s\n", shown ? ")" : "");
    if (s.n) {
        printf("duration  %lld us\n", (long long)(s.mx[0] - s.mn[0]));
        printf("%-4s %20s %20s %28s\n", "", "min", "max", "sum");
        static const char *const nm[4] = {"t", "x", "y", "p"};
        char sum[48];
        for (int k = 0; k < 4; k++)
            printf("%-4s %20lld %20lld %28s\n", nm[k], (long long)s.mn[k], (long long)s.mx[k],
                   i128_str(sum, sizeof sum, s.sum[k]));
    }
    if (first.n) {
        printf("first %zu events (t x y p)\n", first.n);
        for (size_t i = 0; i < first.n; i++)
            printf("  %lld %u %u %u\n", (long long)first.t[i], first.x[i], first.y[i], first.p[i]);
    }
    lt_events_free(&first);
    return 0;
}
