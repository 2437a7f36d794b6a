/* cmd_events.c -- `ltsnn events FILE`: decode a recording and print its
 * format, sensor, event count (and skipped words), duration, min/max/sum of
 * t, x, y, p and the first events.  Streams the file in chunks, so it works
 * on recordings larger than memory.  Sums are exact (128-bit). */
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

int cmd_events(int argc, char **argv)
{
    int head = 5, cifar = 0;
    const char *format = NULL, *layout = NULL;
    cli_opt opts[] = {
        {"--head", CLI_INT, &head, "print the first N events (default 5)", 0, 0, 0},
        {"--format", CLI_STR, &format, "aedat, atis (bin), dat or npy (default: from the header, then the extension)", 0, 0, 0},
        {"--layout", CLI_STR, &layout, "AEDAT address layout: dvs128 or davis (default: from the header's camera)", 0, 0, 0},
        {"--cifar10dvs", CLI_BOOL, &cifar, "AEDAT DVS128: x -> 127 - x and p -> 1 - p, as CIFAR10-DVS readers do", 0, 0, 0},
        {0},
    };
    const char *pos[1];
    int np;
    int rc = cli_parse("events", "FILE [--head N] [--format F] [--layout dvs128|davis] [--cifar10dvs]", argc, argv, 2,
                       opts, pos, 1, &np);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (np != 1) {
        fprintf(stderr, "ltsnn events: give one recording (.aedat, .bin, .dat or .npy)\n");
        return 2;
    }
    if (head < 0) {
        fprintf(stderr, "ltsnn events: --head %d: expected 0 or more\n", head);
        return 2;
    }
    lt_err err = {0};
    lt_reader_opts ro = {0};
    ro.cifar10dvs_fix = cifar;
    if ((format && lt_ev_format_parse(&ro.format, format, &err)) ||
        (layout && lt_aedat_layout_parse(&ro.aedat_layout, layout, &err))) {
        fprintf(stderr, "ltsnn events: %s\n", err.msg);
        return 2;
    }
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
    if (info.format == LT_EVF_AEDAT2)
        printf("layout    %s%s\n", lt_aedat_layout_name(info.layout),
               info.layout == LT_AEDAT_LAYOUT_AUTO ? " (no known camera in the header: read as DVS128, checked)" : "");
    if (info.width)
        printf("sensor    %dx%d\n", info.width, info.height);
    else
        printf("sensor    unknown\n");
    printf("header    %llu bytes\n", (unsigned long long)info.header_bytes);
    if (info.header_only)
        printf("note      the file ends inside its header: no events\n");
    printf("events    %llu\n", (unsigned long long)s.n);
    printf("skipped   %llu%s\n", (unsigned long long)skipped,
           info.format == LT_EVF_AEDAT2 ? " (IMU/APS and special words)"
           : info.format == LT_EVF_ATIS_BIN ? " (y = 240 overflow markers)" : "");
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
