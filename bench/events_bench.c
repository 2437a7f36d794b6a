/* events_bench.c -- helper for bench/events_bench.sh: generate a large
 * synthetic recording with the library's writers, and time decoding it
 * (lt_reader_next in 1 Mi-event chunks) alone and followed by binning each
 * chunk (16 binary frames at 64x64) with the fast binner (lt_bin_events)
 * and with the plain one it is tested against (lt_bin_events_ref), the
 * three interleaved rep by rep so a shared machine slows all alike.  The
 * binners' own time is measured around their calls too.  Prints one line
 * per measurement.  Not a test: it checks nothing but the statuses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/binner.h"
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
    if (wo.format == LT_EVF_EVT2 || wo.format == LT_EVF_AEDAT4)
        wo.width = 346, wo.height = 260;
    const char *comp = getenv("AEDAT4_COMPRESSION"); /* none, lz4, zstd */
    if (wo.format == LT_EVF_AEDAT4 && comp)
        wo.aedat4_compression = !strcmp(comp, "lz4") ? LT_AEDAT4_LZ4 : !strcmp(comp, "zstd") ? LT_AEDAT4_ZSTD
                                                                                             : LT_AEDAT4_NONE;
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

/* One pass over the file: bin = 0 decode only, 1 + fast binner, 2 + reference binner.
 * *dt_all is the pass's time, *dt_bin the time inside the binner calls. */
static int pass(const char *path, int bin, lt_events *ev, uint8_t *frames, uint64_t *n, double *dt_all,
                double *dt_bin)
{
    lt_err err = {0};
    lt_bin_opts bo = {.T = 16, .H = 64, .W = 64, .mode = LT_BIN_TIME, .value = LT_BINVAL_BINARY,
                      .space = LT_BINSP_SCALE};
    lt_reader *r;
    if (lt_reader_open(&r, path, NULL, &err))
        return die(path, &err);
    lt_reader_info info;
    lt_reader_get_info(r, &info);
    bo.in_w = info.width ? info.width : 256, bo.in_h = info.height ? info.height : 256;
    size_t got;
    lt_status st;
    *n = 0, *dt_bin = 0;
    double t0 = lt_time_s();
    while ((st = lt_reader_next(r, ev, CHUNK, &got, &err)) == LT_OK) {
        if (bin) {
            double b0 = lt_time_s();
            if ((bin == 1 ? lt_bin_events(frames, ev, &bo, &err) : lt_bin_events_ref(frames, ev, &bo, &err)))
                return die("bin", &err);
            *dt_bin += lt_time_s() - b0;
        }
        *n += ev->n;
        ev->n = 0;
    }
    *dt_all = lt_time_s() - t0;
    lt_reader_close(r);
    if (st != LT_ERR_EOF)
        return die(path, &err);
    return 0;
}

static int decode(const char *path, int reps)
{
    lt_events ev = {0};
    uint8_t *frames = malloc((size_t)16 * 2 * 64 * 64);
    double best[3] = {1e30, 1e30, 1e30}, best_bin[3] = {1e30, 1e30, 1e30};
    uint64_t n = 0;
    if (!frames)
        return 1;
    for (int rep = 0; rep < reps; rep++)
        for (int k = 0; k < 3; k++) {
            double all, bin;
            if (pass(path, k, &ev, frames, &n, &all, &bin))
                return 1;
            best[k] = all < best[k] ? all : best[k];
            best_bin[k] = bin < best_bin[k] ? bin : best_bin[k];
        }
    static const char *const what[3] = {"decode", "decode+bin", "decode+bin_ref"};
    for (int k = 0; k < 3; k++) {
        printf("%-16s %12llu events %8.3f s %10.1f Mev/s", what[k], (unsigned long long)n, best[k],
               (double)n / best[k] / 1e6);
        if (k)
            printf("   (binner alone %8.3f s, %7.1f Mev/s)", best_bin[k], (double)n / best_bin[k] / 1e6);
        printf("\n");
    }
    printf("binner speed-up over the reference: %.2fx (binner alone), %.2fx (decode + bin)\n",
           best_bin[2] / best_bin[1], best[2] / best[1]);
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
        return decode(argv[2], reps);
    }
    fprintf(stderr, "usage: events_bench gen FORMAT N PATH | decode PATH [REPS]\n");
    return 2;
}
