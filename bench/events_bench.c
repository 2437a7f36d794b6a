/* events_bench.c -- helper for bench/events_bench.sh: generate a large
 * synthetic recording with the library's writers, and time decoding it
 * (lt_reader_next in 1 Mi-event chunks) alone and followed by binning each
 * chunk (lt_bin_events, 16 binary frames at 64x64).  Prints one line per
 * measurement.  Not a test: it checks nothing but the statuses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ltsnn.h"

#define CHUNK ((size_t)1 << 20)

static int die(const char *what, const lt_err *err)
{
    fprintf(stderr, "events_bench: %s: %s\n", what, err->msg);
    return 1;
}

/* N events, t in steps of 0..99 us (50 on average: 100M events span about
 * 83 minutes, so AEDAT/DAT timestamps wrap once and ATIS writes ~600k
 * overflow markers), x < 256, y < 240 (ATIS range), p random. */
static int gen(const char *fmt, uint64_t n, const char *path)
{
    lt_err err = {0};
    lt_writer_opts wo = {0};
    if (lt_ev_format_parse(&wo.format, fmt, &err))
        return die("format", &err);
    if (wo.format == LT_EVF_DAT)
        wo.width = 304, wo.height = 240;
    if (wo.format == LT_EVF_AEDAT2)
        wo.aedat_layout = LT_AEDAT_LAYOUT_DAVIS, wo.width = 346, wo.height = 260;
    lt_writer *w;
    if (lt_writer_open(&w, path, &wo, &err))
        return die(path, &err);
    lt_events ev = {0};
    if (lt_events_reserve(&ev, CHUNK, &err))
        return die("reserve", &err);
    uint64_t s = 88172645463325252ULL;
    int64_t t = 0;
    for (uint64_t done = 0; done < n;) {
        size_t k = n - done < CHUNK ? (size_t)(n - done) : CHUNK;
        for (size_t i = 0; i < k; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            t += (int64_t)(s % 100);
            ev.t[i] = t;
            ev.x[i] = (uint16_t)((s >> 8) & 255);
            ev.y[i] = (uint16_t)(((s >> 16) & 0xffff) % 240);
            ev.p[i] = (uint8_t)((s >> 40) & 1);
        }
        ev.n = k;
        if (lt_writer_write(w, &ev, &err)) {
            lt_writer_abort(w);
            return die(path, &err);
        }
        done += k;
    }
    lt_events_free(&ev);
    if (lt_writer_close(w, &err))
        return die(path, &err);
    return 0;
}

static int decode(const char *path, int bin, int reps)
{
    lt_err err = {0};
    lt_events ev = {0};
    uint8_t *frames = NULL;
    lt_bin_opts bo = {.T = 16, .H = 64, .W = 64, .mode = LT_BIN_TIME, .value = LT_BINVAL_BINARY,
                      .space = LT_BINSP_SCALE};
    double best = 1e30;
    uint64_t n = 0, bytes = 0;
    for (int rep = 0; rep < reps; rep++) {
        lt_reader *r;
        if (lt_reader_open(&r, path, NULL, &err))
            return die(path, &err);
        lt_reader_info info;
        lt_reader_get_info(r, &info);
        bo.in_w = info.width ? info.width : 256, bo.in_h = info.height ? info.height : 256;
        if (bin && !frames && !(frames = malloc((size_t)bo.T * 2 * bo.H * bo.W)))
            return 1;
        size_t got;
        lt_status st;
        n = 0;
        double t0 = lt_time_s();
        while ((st = lt_reader_next(r, &ev, CHUNK, &got, &err)) == LT_OK) {
            if (bin && lt_bin_events(frames, &ev, &bo, &err))
                return die("bin", &err);
            n += ev.n;
            ev.n = 0;
        }
        double dt = lt_time_s() - t0;
        bytes = info.header_bytes + 0;
        lt_reader_close(r);
        if (st != LT_ERR_EOF)
            return die(path, &err);
        if (dt < best)
            best = dt;
    }
    (void)bytes;
    printf("%-14s %12llu events %8.3f s %10.1f Mev/s\n", bin ? "decode+bin" : "decode", (unsigned long long)n, best,
           (double)n / best / 1e6);
    lt_events_free(&ev);
    free(frames);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "gen"))
        return gen(argv[2], strtoull(argv[3], NULL, 10), argv[4]);
    if (argc >= 3 && !strcmp(argv[1], "decode")) {
        int reps = argc >= 4 ? atoi(argv[3]) : 3;
        return decode(argv[2], 0, reps) || decode(argv[2], 1, reps);
    }
    fprintf(stderr, "usage: events_bench gen FORMAT N PATH | decode PATH [REPS]\n");
    return 2;
}
