/* test_readers.c -- event-file readers, writers and the .npy module.
 *
 * Checks: every reader on the real recordings in ../shared/data/events/
 * against the README's figures (count, min/max/sum of t, x, y, p, first
 * event, skipped words) at chunk sizes 1, 7, 1000 and 2^20 and from memory;
 * dat_sample.npy equals the NCARS DAT decode event for event; round trips
 * through each writer on generated data with 32-bit timestamp wraps and ATIS
 * overflow markers; hand-made files for each layout rule (DAVIS IMU and
 * special words, a first DAVIS record starting with '#', DVS128 external
 * events, the CIFAR10-DVS fix, undetermined layouts); bad input (truncated,
 * corrupt, wrong format) gives LT_ERR_FORMAT naming the file and byte; the
 * generic .npy API on plain, Fortran-order, big-endian, padded and Gen1
 * bounding-box arrays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "events_test.h"
#include "ltsnn/events.h"
#include "ltsnn/npy.h"

#define REAL "../shared/data/events/"


/* Decode everything with lt_reader_next(max = chunk); *skipped: every record that was not an event. */
static lt_status decode(lt_events *out, uint64_t *skipped, lt_reader_info *info, const char *path, const void *mem,
                        size_t mem_len, const lt_reader_opts *o, size_t chunk, lt_err *err)
{
    lt_reader_skips sk;
    lt_status st = decode_events(out, &sk, info, path, mem, mem_len, o, chunk, err);
    if (skipped) {
        *skipped = 0;
        for (int k = 0; k < sk.n; k++)
            *skipped += sk.count[k];
    }
    return st;
}

/* ---- the README table ---- */
typedef struct real_file {
    const char *name;
    lt_ev_format fmt;
    uint64_t n, skipped;
    int64_t mn[4], mx[4], sum[4]; /* t, x, y, p */
    int64_t first[4];
    int w, h;
} real_file;

static const real_file reals[] = {
    {"sample_nmnist.bin", LT_EVF_ATIS_BIN, 4325, 0, {654, 0, 0, 0}, {311175, 33, 33, 1},
     {690487405, 74457, 71931, 2145}, {654, 7, 15, 1}, 0, 0},
    {"nmnist_train_1_label5.bin", LT_EVF_ATIS_BIN, 4681, 0, {893, 0, 0, 0}, {305924, 33, 33, 1},
     {625535240, 76115, 82306, 2328}, {893, 18, 16, 1}, 0, 0},
    {"sample_ncars.dat", LT_EVF_DAT, 2009, 0, {0, 0, 0, 0}, {99952, 77, 41, 1}, {98196680, 93457, 40463, 1350},
     {0, 25, 8, 0}, 0, 0},
    {"NCARS_obj_004397_td.dat", LT_EVF_DAT, 4407, 0, {0, 0, 1, 0}, {99937, 53, 60, 1},
     {239318661, 108033, 134194, 1671}, {0, 6, 18, 1}, 0, 0},
    {"dat_sample.npy", LT_EVF_NPY, 4407, 0, {0, 0, 1, 0}, {99937, 53, 60, 1}, {239318661, 108033, 134194, 1671},
     {0, 6, 18, 1}, 0, 0},
    {"davis240_IMU_rotDisk.aedat", LT_EVF_AEDAT2, 374296, 51688, {341678, 0, 0, 0}, {3508437, 239, 179, 1},
     {766755861458LL, 50765220, 31656030, 163098}, {341678, 11, 15, 1}, 240, 180},
    {"sample_aedat_header.aedat", LT_EVF_AEDAT2, 0, 0, {0}, {0}, {0}, {0}, 346, 260},
};

static void check_figures(const real_file *rf, const lt_events *e, uint64_t skipped, const char *how)
{
    CHECK(e->n == rf->n, "%s %s: %zu events, expected %llu", rf->name, how, e->n, (unsigned long long)rf->n);
    CHECK(skipped == rf->skipped, "%s %s: %llu skipped, expected %llu", rf->name, how, (unsigned long long)skipped,
          (unsigned long long)rf->skipped);
    if (e->n == 0 || e->n != rf->n)
        return;
    int64_t mn[4], mx[4], sum[4] = {0};
    for (size_t i = 0; i < e->n; i++) {
        int64_t v[4] = {e->t[i], e->x[i], e->y[i], e->p[i]};
        for (int k = 0; k < 4; k++) {
            if (!i || v[k] < mn[k])
                mn[k] = v[k];
            if (!i || v[k] > mx[k])
                mx[k] = v[k];
            sum[k] += v[k];
        }
    }
    static const char *nm = "txyp";
    for (int k = 0; k < 4; k++) {
        CHECK(mn[k] == rf->mn[k], "%s %s: min %c %lld, expected %lld", rf->name, how, nm[k], (long long)mn[k],
              (long long)rf->mn[k]);
        CHECK(mx[k] == rf->mx[k], "%s %s: max %c %lld, expected %lld", rf->name, how, nm[k], (long long)mx[k],
              (long long)rf->mx[k]);
        CHECK(sum[k] == rf->sum[k], "%s %s: sum %c %lld, expected %lld", rf->name, how, nm[k], (long long)sum[k],
              (long long)rf->sum[k]);
    }
    int64_t f[4] = {e->t[0], e->x[0], e->y[0], e->p[0]};
    CHECK(!memcmp(f, rf->first, sizeof f), "%s %s: first event (%lld,%lld,%lld,%lld)", rf->name, how, (long long)f[0],
          (long long)f[1], (long long)f[2], (long long)f[3]);
}

static void test_real_files(void)
{
    static const size_t chunks[] = {(size_t)1 << 20, 1, 7, 1000};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        const real_file *rf = &reals[i];
        char path[256];
        snprintf(path, sizeof path, REAL "%s", rf->name);
        lt_events ref = {0};
        lt_err err = {0};
        uint64_t sk = 99;
        lt_reader_info info;
        lt_status st = decode(&ref, &sk, &info, path, NULL, 0, NULL, chunks[0], &err);
        CHECK(st == LT_OK, "%s: %s", path, err.msg);
        CHECK(info.format == rf->fmt, "%s: format %s", path, lt_ev_format_name(info.format));
        CHECK(info.width == rf->w && info.height == rf->h, "%s: sensor %dx%d", path, info.width, info.height);
        check_figures(rf, &ref, sk, "chunk 2^20");
        for (size_t c = 1; c < sizeof chunks / sizeof chunks[0]; c++) {
            lt_events e = {0};
            st = decode(&e, &sk, NULL, path, NULL, 0, NULL, chunks[c], &err);
            CHECK(st == LT_OK && same_events(&e, &ref) && sk == rf->skipped, "%s: chunk %zu differs (%s)", path,
                  chunks[c], st ? err.msg : "");
            lt_events_free(&e);
        }
        size_t len;
        void *mem = read_bytes(path, &len);
        CHECK(mem != NULL, "%s: cannot read", path);
        lt_events e = {0};
        st = decode(&e, &sk, NULL, path, mem, len, NULL, 333, &err);
        CHECK(st == LT_OK && same_events(&e, &ref), "%s: memory decode differs (%s)", path, st ? err.msg : "");
        lt_events_free(&e);
        free(mem);
        /* lt_events_read_file appends */
        lt_events all = {0};
        lt_events_push(&all, -5, 1, 2, 1, &err);
        st = lt_events_read_file(&all, path, NULL, &err);
        CHECK(st == LT_OK && all.n == ref.n + 1 && all.t[0] == -5 && (!ref.n || all.t[1] == ref.t[0]),
              "%s: read_file (%s)", path, st ? err.msg : "");
        lt_events_free(&all);
        if (rf->n == 0)
            CHECK(info.header_only == 1, "%s: header_only not set", path);
        lt_events_free(&ref);
    }
    /* The layout and header size of the DAVIS file. */
    lt_reader *r;
    lt_err err = {0};
    if (lt_reader_open(&r, REAL "davis240_IMU_rotDisk.aedat", NULL, &err) == LT_OK) {
        lt_reader_info info;
        lt_reader_get_info(r, &info);
        CHECK(info.layout == LT_AEDAT_LAYOUT_DAVIS && info.header_bytes == 175039 && info.records == 425984,
              "davis info: layout %d header %llu records %llu", info.layout, (unsigned long long)info.header_bytes,
              (unsigned long long)info.records);
        CHECK(strstr(info.camera, "DAVIS240C") != NULL, "camera '%s'", info.camera);
        lt_reader_close(r);
    } else {
        CHECK(0, "%s", err.msg);
    }
}

static void test_npy_equals_dat(void)
{
    lt_events a = {0}, b = {0};
    lt_err err = {0};
    CHECK(lt_events_read_file(&a, REAL "NCARS_obj_004397_td.dat", NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_events_read_file(&b, REAL "dat_sample.npy", NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(a.n == 4407 && same_events(&a, &b), "dat_sample.npy differs from the DAT decode (%zu vs %zu)", b.n, a.n);
    lt_events_free(&a);
    lt_events_free(&b);
}

/* ---- round trips through the writers ---- */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

/* n events with t from t0 in random steps below max_step, x < w, y < h. */
static void gen(lt_events *e, size_t n, int64_t t0, uint32_t max_step, int w, int h)
{
    lt_err err;
    int64_t t = t0;
    e->n = 0;
    for (size_t i = 0; i < n; i++) {
        lt_events_push(e, t, (int)rnd((uint32_t)w), (int)rnd((uint32_t)h), (int)rnd(2), &err);
        t += rnd(max_step);
    }
}

static void round_trip(const char *name, const lt_events *e, const lt_writer_opts *wo, const lt_reader_opts *ro,
                       uint64_t want_skipped, int ww, int wh)
{
    lt_err err = {0};
    const char *path = tpath(name);
    lt_status st = lt_events_write_file(path, e, wo, &err);
    CHECK(st == LT_OK, "write %s: %s", name, err.msg);
    if (st)
        return;
    static const size_t chunks[] = {1, 7, 4096, (size_t)1 << 20};
    for (size_t c = 0; c < 4; c++) {
        lt_events back = {0};
        uint64_t sk = 0;
        lt_reader_info info;
        st = decode(&back, &sk, &info, path, NULL, 0, ro, chunks[c], &err);
        CHECK(st == LT_OK, "read %s: %s", name, err.msg);
        CHECK(same_events(e, &back), "%s: round trip differs at chunk %zu (%zu vs %zu events)", name, chunks[c], back.n,
              e->n);
        CHECK(sk == want_skipped, "%s: %llu skipped, expected %llu", name, (unsigned long long)sk,
              (unsigned long long)want_skipped);
        CHECK(info.width == ww && info.height == wh, "%s: sensor %dx%d, expected %dx%d", name, info.width, info.height,
              ww, wh);
        lt_events_free(&back);
    }
}

static void test_round_trips(void)
{
    lt_events e = {0};
    lt_writer_opts wo = {0};
    /* AEDAT DVS128 crossing two 32-bit wraps */
    gen(&e, 20000, (int64_t)4294967296LL - 5000000, 1u << 20, 128, 128);
    CHECK(e.t[e.n - 1] > (int64_t)1 << 33, "generated data does not wrap twice (last t %lld)", (long long)e.t[e.n - 1]);
    round_trip("dvs128.aedat", &e, &wo, NULL, 0, 128, 128);
    /* DAVIS 240x180 and a DAVIS of a size jAER has no chip for */
    wo.aedat_layout = LT_AEDAT_LAYOUT_DAVIS, wo.width = 240, wo.height = 180;
    gen(&e, 20000, 3000000000LL, 1u << 20, 240, 180);
    round_trip("davis240.aedat", &e, &wo, NULL, 0, 240, 180);
    wo.width = 1000, wo.height = 500;
    gen(&e, 5000, 0, 1000, 1000, 500);
    round_trip("davis_big.aedat", &e, &wo, NULL, 0, 0, 0);
    /* ATIS: t runs far past 2^23, so the writer inserts overflow markers */
    memset(&wo, 0, sizeof wo);
    gen(&e, 20000, 1000, 5000, 34, 34);
    int64_t last = e.t[e.n - 1];
    CHECK(last > 5 * ((int64_t)1 << 23), "ATIS data too short (%lld)", (long long)last);
    /* the greedy writer needs exactly ceil((last - (2^23 - 1)) / 2^13) markers */
    uint64_t markers = (uint64_t)((last - ((1 << 23) - 1) + 8191) / 8192);
    round_trip("atis.bin", &e, &wo, NULL, markers, 0, 0);
    /* ATIS with big jumps (several markers between two events) */
    gen(&e, 100, 0, 1u << 25, 255, 240);
    round_trip("atis_jumps.bin", &e, &wo, NULL, (uint64_t)((e.t[e.n - 1] - ((1 << 23) - 1) + 8191) / 8192), 0, 0);
    /* DAT with wraps, with and without a sensor size in the header */
    gen(&e, 20000, (int64_t)4294967296LL - 3000000, 1u << 20, 304, 240);
    wo.width = 304, wo.height = 240;
    round_trip("gen1.dat", &e, &wo, NULL, 0, 304, 240);
    memset(&wo, 0, sizeof wo);
    gen(&e, 3000, 0, 100, 16383, 16383);
    round_trip("big.dat", &e, &wo, NULL, 0, 0, 0);
    /* npy, including negative t */
    gen(&e, 20000, -100000, 1u << 30, 65535, 65535);
    round_trip("ev.npy", &e, &wo, NULL, 0, 0, 0);
    /* an empty file of each format */
    e.n = 0;
    round_trip("empty.aedat", &e, &wo, NULL, 0, 128, 128);
    round_trip("empty.bin", &e, &wo, NULL, 0, 0, 0);
    round_trip("empty.dat", &e, &wo, NULL, 0, 0, 0);
    round_trip("empty.npy", &e, &wo, NULL, 0, 0, 0);
    /* streaming writer: several writes make one file */
    lt_err err = {0};
    lt_writer *w;
    gen(&e, 1000, 0, 100, 100, 100);
    CHECK(lt_writer_open(&w, tpath("stream.npy"), NULL, &err) == LT_OK, "%s", err.msg);
    for (int k = 0; k < 3; k++)
        CHECK(lt_writer_write(w, &e, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_writer_count(w) == 3000, "count %llu", (unsigned long long)lt_writer_count(w));
    CHECK(lt_writer_close(w, &err) == LT_OK, "%s", err.msg);
    lt_events back = {0};
    CHECK(lt_events_read_file(&back, tpath("stream.npy"), NULL, &err) == LT_OK && back.n == 3000 &&
              back.t[2000] == e.t[0] && back.x[2999] == e.x[999],
          "streamed npy: %zu events (%s)", back.n, err.msg);
    lt_events_free(&back);
    lt_events_free(&e);
}

static void test_writer_refusals(void)
{
    lt_events e = {0};
    lt_err err = {0};
    lt_writer_opts wo = {0};
    lt_events_push(&e, 100, 1, 1, 1, &err);
    lt_events_push(&e, 50, 1, 1, 1, &err); /* small step back: fine everywhere but ATIS across a marker */
    CHECK(lt_events_write_file(tpath("ok.aedat"), &e, &wo, &err) == LT_OK, "%s", err.msg);
    e.t[0] = -1;
    CHECK(lt_events_write_file(tpath("neg.aedat"), &e, &wo, &err) == LT_ERR_ARG, "negative t accepted");
    CHECK(access(tpath("neg.aedat"), F_OK) != 0, "a refused write left a file");
    e.t[0] = (int64_t)1 << 32;
    CHECK(lt_events_write_file(tpath("big.dat"), &e, &wo, &err) == LT_ERR_ARG, "first t >= 2^32 accepted");
    e.t[0] = 3000000000LL, e.t[1] = 3000000000LL + 2200000000LL; /* a forward step over 2^31 cannot be unwrapped */
    CHECK(lt_events_write_file(tpath("step.dat"), &e, &wo, &err) == LT_ERR_ARG, "unrepresentable step accepted");
    e.t[0] = 0, e.t[1] = 10, e.x[1] = 128;
    CHECK(lt_events_write_file(tpath("x.aedat"), &e, &wo, &err) == LT_ERR_ARG, "DVS128 x = 128 accepted");
    CHECK(strstr(err.msg, "event 1") != NULL, "message does not name the event: %s", err.msg);
    e.x[1] = 1, e.y[1] = 240;
    CHECK(lt_events_write_file(tpath("y.bin"), &e, &wo, &err) == LT_ERR_ARG, "ATIS y = 240 accepted");
    e.y[1] = 1, e.p[1] = 2;
    CHECK(lt_events_write_file(tpath("p.npy"), &e, &wo, &err) == LT_ERR_ARG, "p = 2 accepted");
    e.p[1] = 1;
    e.t[0] = 10000000, e.t[1] = 5; /* ATIS: after a marker at 2^23 the time cannot go back below it */
    CHECK(lt_events_write_file(tpath("back.bin"), &e, &wo, &err) == LT_ERR_ARG, "ATIS step back accepted");
    wo.aedat_layout = LT_AEDAT_LAYOUT_DAVIS, wo.width = 240, wo.height = 180;
    e.t[0] = 0, e.t[1] = 1, e.x[1] = 240;
    CHECK(lt_events_write_file(tpath("davis.aedat"), &e, &wo, &err) == LT_ERR_ARG, "DAVIS x = 240 on 240x180 accepted");
    CHECK(lt_events_write_file(tpath("noext"), &e, NULL, &err) == LT_ERR_ARG, "no format, no extension accepted");
    lt_events_free(&e);
}

/* ---- hand-made AEDAT files ---- */
static size_t put_rec(uint8_t *b, uint32_t a, uint32_t t)
{
    const uint8_t r[8] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a,
                          (uint8_t)(t >> 24), (uint8_t)(t >> 16), (uint8_t)(t >> 8), (uint8_t)t};
    memcpy(b, r, 8);
    return 8;
}

static lt_status decode_file(const char *name, const void *data, size_t n, const lt_reader_opts *o, lt_events *e,
                             uint64_t *sk, lt_reader_info *info, lt_err *err)
{
    write_bytes(tpath(name), data, n);
    e->n = 0;
    return decode(e, sk, info, tpath(name), NULL, 0, o, 5, err);
}

static void test_aedat_cases(void)
{
    uint8_t buf[4096];
    lt_events e = {0};
    lt_err err = {0};
    uint64_t sk;
    lt_reader_info info;
    lt_reader_opts o = {0};
    const char *davis_hdr = "#!AER-DAT2.0\r\n# AEChip: eu.seebetter.ini.chips.davis.DAVIS240C\r\n";
    size_t n = strlen(davis_hdr);
    memcpy(buf, davis_hdr, n);
    /* first record: y 141 (top byte 0x23 = '#'), x 7, p 1 */
    uint32_t a0 = 141u << 22 | 7u << 12 | 1u << 11;
    CHECK((a0 >> 24) == '#', "test record does not start with '#'");
    n += put_rec(buf + n, a0, 100);
    n += put_rec(buf + n, 0x80000000u | 12345, 101); /* IMU */
    n += put_rec(buf + n, 1u << 10, 102);             /* special */
    n += put_rec(buf + n, 179u << 22 | 239u << 12, 0xfffffff0u);
    n += put_rec(buf + n, 5u << 22 | 6u << 12 | 1u << 11, 0x10); /* after a wrap */
    lt_status st = decode_file("d.aedat", buf, n, &o, &e, &sk, &info, &err);
    CHECK(st == LT_OK && e.n == 3 && sk == 2, "davis: st %d n %zu skipped %llu: %s", st, e.n, (unsigned long long)sk,
          err.msg);
    if (e.n == 3) {
        CHECK(e.t[0] == 100 && e.x[0] == 7 && e.y[0] == 141 && e.p[0] == 1, "davis '#' record misread");
        CHECK(e.t[1] == 0xfffffff0LL && e.x[1] == 239 && e.y[1] == 179 && e.p[1] == 0, "davis record 2");
        CHECK(e.t[2] == ((int64_t)1 << 32) + 0x10 && e.x[2] == 6 && e.y[2] == 5, "davis wrap: t %lld", (long long)e.t[2]);
    }
    CHECK(info.header_bytes == strlen(davis_hdr), "header %llu", (unsigned long long)info.header_bytes);
    /* first record 0x230A0800: '#', '\n' -- reads like a 2-byte header line */
    n = strlen(davis_hdr);
    n += put_rec(buf + n, 0x230A0800u, 5);
    n += put_rec(buf + n, 1u << 22 | 2u << 12, 6);
    st = decode_file("nl.aedat", buf, n, &o, &e, &sk, &info, &err);
    CHECK(st == LT_OK && e.n == 2 && e.x[0] == 160 && e.y[0] == 140 && e.p[0] == 1 && e.t[0] == 5 && e.x[1] == 2,
          "davis record '#\\n': %d n %zu %s", st, e.n, err.msg);
    /* DAVIS x outside 240 -> refused with the byte */
    size_t hn = strlen(davis_hdr);
    put_rec(buf + hn + 8, 3u << 22 | 300u << 12, 5);
    st = decode_file("dx.aedat", buf, hn + 16, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "byte 72") && strstr(err.msg, "dx.aedat"), "davis x 300: %d %s", st,
          err.msg);
    /* trailing partial record */
    st = decode_file("part.aedat", buf, n - 3, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "partial"), "partial record: %d %s", st, err.msg);
    /* forcing DVS128 on DAVIS data is refused, not misread */
    o.aedat_layout = LT_AEDAT_LAYOUT_DVS128;
    st = decode_file("f.aedat", buf, n, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "DVS128"), "forced dvs128 on davis: %d %s", st, err.msg);
    o.aedat_layout = LT_AEDAT_LAYOUT_AUTO;

    /* DVS128: bit 15 external events skipped; CIFAR10-DVS fix */
    const char *dvs_hdr = "#!AER-DAT2.0\n# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128\n";
    n = strlen(dvs_hdr);
    memcpy(buf, dvs_hdr, n);
    n += put_rec(buf + n, 100u << 8 | 3u << 1 | 1u, 10);
    n += put_rec(buf + n, 0x8000u, 11);
    n += put_rec(buf + n, 5u << 8 | 127u << 1, 12);
    st = decode_file("dvs.aedat", buf, n, &o, &e, &sk, &info, &err);
    CHECK(st == LT_OK && e.n == 2 && sk == 1 && e.x[0] == 3 && e.y[0] == 100 && e.p[0] == 1 && e.x[1] == 127 &&
              e.p[1] == 0 && info.layout == LT_AEDAT_LAYOUT_DVS128,
          "dvs128: %d n %zu %s", st, e.n, err.msg);
    o.cifar10dvs_fix = 1;
    st = decode_file("dvs.aedat", buf, n, &o, &e, &sk, &info, &err);
    CHECK(st == LT_OK && e.n == 2 && e.x[0] == 124 && e.y[0] == 100 && e.p[0] == 0 && e.x[1] == 0 && e.p[1] == 1,
          "cifar10dvs fix: %d %s", st, err.msg);
    o.aedat_layout = LT_AEDAT_LAYOUT_DAVIS;
    st = decode_file("dvs.aedat", buf, n, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_ARG, "cifar10dvs fix with the DAVIS layout accepted");
    o.aedat_layout = LT_AEDAT_LAYOUT_AUTO, o.cifar10dvs_fix = 0;

    /* no camera line (as CIFAR10-DVS files): DVS128 addresses read, a DAVIS one refused */
    const char *bare = "#!AER-DAT2.0\r\n# This is a raw AE data file created by saveaerdat.m\r\n";
    n = strlen(bare);
    memcpy(buf, bare, n);
    n += put_rec(buf + n, 1u << 8 | 9u << 1, 1); /* bit 10 clear: a DAVIS event too */
    st = decode_file("bare.aedat", buf, n, &o, &e, &sk, &info, &err);
    CHECK(st == LT_OK && e.n == 1 && e.x[0] == 9 && e.y[0] == 1 && info.layout == LT_AEDAT_LAYOUT_AUTO,
          "bare dvs128: %d %s", st, err.msg);
    n += put_rec(buf + n, 0x80000000u, 2);
    st = decode_file("bare2.aedat", buf, n, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "layout") && strstr(err.msg, "byte"), "bare davis word: %d %s", st,
          err.msg);
    o.aedat_layout = LT_AEDAT_LAYOUT_DAVIS;
    st = decode_file("bare2.aedat", buf, n, &o, &e, &sk, &info, &err);
    CHECK(st == LT_OK && e.n == 1 && sk == 1 && info.width == 0, "bare forced davis: %d n %zu sk %llu w %d %s", st, e.n, (unsigned long long)sk, info.width, err.msg);
    o.aedat_layout = LT_AEDAT_LAYOUT_AUTO;

    /* header cut mid-line: zero events, not an error */
    const char *cut = "#!AER-DAT2.0\r\n# AEChip: eu.seebetter.ini.chips.davis.DAVIS240C\r\n#<node name=\"dav";
    st = decode_file("cut.aedat", cut, strlen(cut), &o, &e, &sk, &info, &err);
    CHECK(st == LT_OK && e.n == 0 && info.header_only, "cut header: %d %s", st, err.msg);
    /* other versions and missing version line */
    st = decode_file("v3.aedat", "#!AER-DAT3.1\r\n", 14, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_UNSUPPORTED && strstr(err.msg, "3.1"), "AEDAT 3.1: %d %s", st, err.msg);
    st = decode_file("nov.aedat", "# hello\n", 8, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "#!AER-DAT2.0"), "no version line: %d %s", st, err.msg);
    o.format = LT_EVF_AEDAT2;
    uint8_t rec[8];
    put_rec(rec, 2u << 8, 7);
    st = decode_file("raw.xyz", rec, 8, &o, &e, &sk, &info, &err);
    CHECK(st == LT_OK && e.n == 1 && e.y[0] == 2, "forced headerless AEDAT: %d %s", st, err.msg);
    lt_events_free(&e);
}

/* ---- ATIS and DAT bad input ---- */
static void test_atis_dat_cases(void)
{
    lt_events e = {0};
    lt_err err = {0};
    uint64_t sk;
    lt_reader_info info;
    lt_reader_opts o = {0};
    uint8_t b[64] = {1, 2, 0x80, 0, 5, 3, 4, 0, 1, 0};
    lt_status st = decode_file("ok.bin", b, 10, &o, &e, &sk, &info, &err);
    CHECK(st == LT_OK && e.n == 2 && e.t[0] == 5 && e.p[0] == 1 && e.t[1] == 256 && e.x[1] == 3 && e.y[1] == 4,
          "atis: %d %s", st, err.msg);
    st = decode_file("odd.bin", b, 12, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "byte 10") && strstr(err.msg, "odd.bin"), "atis size 12: %s", err.msg);
    /* marker then event: 2^13 added, marker dropped */
    uint8_t m[10] = {0, 240, 0, 0, 0, 9, 9, 0, 0, 1};
    st = decode_file("mark.bin", m, 10, &o, &e, &sk, &info, &err);
    CHECK(st == LT_OK && e.n == 1 && e.t[0] == 8193 && sk == 1, "atis marker: %d n %zu t %lld", st, e.n,
          e.n ? (long long)e.t[0] : -1LL);
    m[1] = 250;
    st = decode_file("y250.bin", m, 10, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "byte 0"), "atis y 250: %d %s", st, err.msg);
    st = decode_file("empty.bin", b, 0, &o, &e, &sk, &info, &err);
    CHECK(st == LT_OK && e.n == 0, "empty .bin: %d %s", st, err.msg);
    /* an unknown extension without a header is refused; forcing the format reads it */
    st = decode_file("ok.xyz", b, 10, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "format"), "unknown format: %d %s", st, err.msg);
    o.format = LT_EVF_ATIS_BIN;
    st = decode_file("ok.xyz", b, 10, &o, &e, &sk, &info, &err);
    CHECK(st == LT_OK && e.n == 2, "forced atis: %d %s", st, err.msg);
    o.format = LT_EVF_AUTO;

    /* DAT */
    char d[256];
    const char *h = "% Data file containing Event2D events.\n% Version 2\n% geometry 30x20\n";
    size_t n = strlen(h);
    memcpy(d, h, n);
    d[n++] = 0x0c, d[n++] = 8;
    uint32_t rec[4] = {7, 1u << 28 | 19u << 14 | 29u, 3, 5u << 14 | 4u};
    memcpy(d + n, rec, 16);
    st = decode_file("g.dat", d, n + 16, &o, &e, &sk, &info, &err);
    CHECK(st == LT_OK && e.n == 2 && e.t[0] == 7 && e.x[0] == 29 && e.y[0] == 19 && e.p[0] == 1 && e.x[1] == 4 &&
              e.y[1] == 5 && info.width == 30 && info.height == 20 && info.version == 2,
          "dat geometry: %d %s", st, err.msg);
    rec[1] = 30;
    memcpy(d + n, rec, 16);
    st = decode_file("gx.dat", d, n + 16, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "outside"), "dat x outside header size: %d %s", st, err.msg);
    st = decode_file("gp.dat", d, n + 13, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "partial"), "dat partial: %d %s", st, err.msg);
    d[n - 1] = 16;
    st = decode_file("gs.dat", d, n + 16, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "size 16"), "dat size 16: %d %s", st, err.msg);
    d[n - 1] = 8, d[n - 2] = 0x0e;
    st = decode_file("gt.dat", d, n + 16, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_UNSUPPORTED && strstr(err.msg, "0x0e"), "dat type 0x0e: %d %s", st, err.msg);
    st = decode_file("g1.dat", d, n - 1, &o, &e, &sk, &info, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "type and size"), "dat 1 byte after header: %d %s", st, err.msg);
    st = decode_file("g0.dat", d, n - 2, &o, &e, &sk, &info, &err);
    CHECK(st == LT_OK && e.n == 0 && info.header_only, "dat header only: %d %s", st, err.msg);
    lt_events_free(&e);
}

/* ---- npy ---- */
static size_t npy_bytes(uint8_t *out, int major, const char *dict, const void *data, size_t n)
{
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
    size_t total = (pre + dl + 1 + 63) / 64 * 64, hl = total - pre;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (uint8_t)major, out[7] = 0;
    out[8] = (uint8_t)hl, out[9] = (uint8_t)(hl >> 8);
    if (pre == 12)
        out[10] = (uint8_t)(hl >> 16), out[11] = (uint8_t)(hl >> 24);
    memcpy(out + pre, dict, dl);
    memset(out + pre + dl, ' ', hl - dl - 1);
    out[total - 1] = '\n';
    if (n)
        memcpy(out + total, data, n);
    return total + n;
}

static lt_status npy_events(const char *name, int major, const char *dict, const void *data, size_t n, lt_events *e,
                            lt_err *err)
{
    static uint8_t buf[8192];
    size_t len = npy_bytes(buf, major, dict, data, n);
    uint64_t sk;
    return decode_file(name, buf, len, NULL, e, &sk, NULL, err);
}

static void test_npy_events(void)
{
    lt_events e = {0};
    lt_err err = {0};
    /* aligned, big-endian, fields out of order, with padding, version 2.0 */
    uint8_t rec[2][16];
    memset(rec, 0, sizeof rec);
    for (int i = 0; i < 2; i++) {
        rec[i][0] = (uint8_t)i;                          /* p u1 @0 */
        rec[i][2] = 0, rec[i][3] = (uint8_t)(10 + i);     /* y >u2 @2 */
        rec[i][4] = 1, rec[i][5] = (uint8_t)(20 + i);     /* x >u2 @4 (256 + ..) */
        rec[i][15] = (uint8_t)(100 + i), rec[i][14] = 1; /* t >i8 @8 */
    }
    lt_status st = npy_events("al.npy", 2,
                              "{'descr': [('p', '|u1'), ('', '|V1'), ('y', '>u2'), ('x', '>u2'), ('', '|V2'), ('t', '>i8')], "
                              "'fortran_order': False, 'shape': (2,), }",
                              rec, sizeof rec, &e, &err);
    CHECK(st == LT_OK && e.n == 2 && e.t[1] == 256 + 101 && e.x[1] == 256 + 21 && e.y[1] == 11 && e.p[1] == 1 && e.p[0] == 0,
          "aligned big-endian npy: %d %s", st, err.msg);
    /* version 3.0, names ts/polarity, float t, bool polarity, dict keys in another order, utf-8 name */
    struct __attribute__((packed)) {
        double ts;
        int32_t x, y;
        uint8_t pol;
    } r3[2] = {{1500.0, 3, 4, 1}, {1501.0, 5, 6, 0}};
    st = npy_events("v3.npy", 3,
                    "{'shape': (2,), 'fortran_order': False, 'descr': [('ts', '<f8'), ('x', '<i4'), ('y', '<i4'), "
                    "('polarity', '|b1')]}",
                    r3, sizeof r3, &e, &err);
    CHECK(st == LT_OK && e.n == 2 && e.t[0] == 1500 && e.x[1] == 5 && e.p[0] == 1, "v3 npy: %d %s", st, err.msg);
    r3[1].ts = 1501.5;
    st = npy_events("frac.npy", 1,
                    "{'descr': [('ts', '<f8'), ('x', '<i4'), ('y', '<i4'), ('polarity', '|b1')], 'fortran_order': False, "
                    "'shape': (2,), }",
                    r3, sizeof r3, &e, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "row 1"), "fractional t: %d %s", st, err.msg);
    /* x out of uint16 range, p = 2, p = -1 */
    int32_t q[4] = {0, 70000, 1, 1};
    const char *dq = "{'descr': [('t', '<i4'), ('x', '<i4'), ('y', '<i4'), ('p', '<i4')], 'fortran_order': False, 'shape': (1,), }";
    st = npy_events("x.npy", 1, dq, q, 16, &e, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "65535"), "x 70000: %d %s", st, err.msg);
    q[1] = 5, q[3] = 2;
    st = npy_events("p2.npy", 1, dq, q, 16, &e, &err);
    CHECK(st == LT_ERR_FORMAT, "p 2: %d %s", st, err.msg);
    q[3] = -1;
    st = npy_events("pm.npy", 1, dq, q, 16, &e, &err);
    CHECK(st == LT_OK && e.n == 1 && e.p[0] == 0, "p -1: %d %s", st, err.msg);
    /* missing and ambiguous fields, plain arrays */
    st = npy_events("nop.npy", 1, "{'descr': [('t', '<i4'), ('x', '<i4'), ('y', '<i4')], 'fortran_order': False, 'shape': (1,), }",
                    q, 12, &e, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "no field p"), "missing p: %d %s", st, err.msg);
    st = npy_events("amb.npy", 1,
                    "{'descr': [('t', '<i4'), ('ts', '<i4'), ('x', '<i4'), ('y', '<i4'), ('p', '<i4')], 'fortran_order': False, 'shape': (0,), }",
                    q, 0, &e, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "ambiguous"), "t and ts: %d %s", st, err.msg);
    const int64_t q4[4] = {0, 1, 2, 3};
    st = npy_events("plain.npy", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", q4, sizeof q4, &e, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "structured"), "plain array as events: %d %s", st, err.msg);

    /* malformed headers */
    static const struct bad_hdr {
        const char *dict;
        lt_status st;
        const char *msg;
    } bads[] = {
        {"{'descr': '<i8', 'fortran_order': False}", LT_ERR_FORMAT, "missing key 'shape'"},
        {"{'descr': '<i8', 'fortran_order': False, 'shape': (1,), 'x': 1}", LT_ERR_FORMAT, "unexpected key"},
        {"{'descr': '<i8', 'descr': '<i8', 'fortran_order': False, 'shape': (1,)}", LT_ERR_FORMAT, "duplicate"},
        {"{'descr': '<i8', 'fortran_order': 0, 'shape': (1,)}", LT_ERR_FORMAT, "True or False"},
        {"{'descr': '<i8', 'fortran_order': False, 'shape': (1)}", LT_ERR_FORMAT, "tuple"},
        {"{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", LT_ERR_UNSUPPORTED, "not supported"},
        {"{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", LT_ERR_UNSUPPORTED, "not supported"},
        {"{'descr': '<i3', 'fortran_order': False, 'shape': (1,)}", LT_ERR_UNSUPPORTED, "size"},
        {"{'descr': '<i8', 'fortran_order': False, 'shape': (1,),", LT_ERR_FORMAT, "expected"},
        {"{'descr': '<i8', 'fortran_order': False, 'shape': (1,)} x", LT_ERR_FORMAT, "after the header dict"},
        {"{'descr': __import__('os'), 'fortran_order': False, 'shape': (1,)}", LT_ERR_FORMAT, "expected"},
        {"{'descr': [('a', '<i8'), ('a', '<i8')], 'fortran_order': False, 'shape': (1,)}", LT_ERR_FORMAT, "duplicate field"},
        {"{'descr': [('a', '<i8', (2,))], 'fortran_order': False, 'shape': (1,)}", LT_ERR_UNSUPPORTED, "sub-array"},
        {"{'descr': '<i8', 'fortran_order': False, 'shape': (2,)}", LT_ERR_FORMAT, "truncated"},
        {"{'descr': '<i8', 'fortran_order': False, 'shape': (0,)}", LT_ERR_FORMAT, "trailing"},
        {"{'descr': '<i8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296)}", LT_ERR_FORMAT, "overflow"},
    };
    uint8_t buf[1024];
    int64_t one = 1;
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        size_t len = npy_bytes(buf, 1, bads[i].dict, &one, 8);
        lt_npy a;
        st = lt_npy_open_mem(&a, buf, len, "bad.npy", &err);
        CHECK(st == bads[i].st && strstr(err.msg, bads[i].msg) && strstr(err.msg, "bad.npy"), "header %zu (%s): %d %s",
              i, bads[i].dict, st, err.msg);
        if (!st)
            lt_npy_close(&a);
    }
    size_t len = npy_bytes(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,)}", &one, 8);
    lt_npy a;
    buf[6] = 4;
    CHECK(lt_npy_open_mem(&a, buf, len, "v4.npy", &err) == LT_ERR_UNSUPPORTED, "npy version 4 accepted");
    buf[6] = 1, buf[9] = 0x10; /* header length past the end */
    CHECK(lt_npy_open_mem(&a, buf, len, "hl.npy", &err) == LT_ERR_FORMAT && strstr(err.msg, "past the end"),
          "header length: %s", err.msg);
    buf[9] = 0, buf[0] = 'x';
    CHECK(lt_npy_open_mem(&a, buf, len, "magic.npy", &err) == LT_ERR_FORMAT && strstr(err.msg, "magic"), "magic: %s",
          err.msg);
    lt_events_free(&e);
}

static void test_npy_generic(void)
{
    lt_err err = {0};
    uint8_t buf[2048];
    lt_npy a;
    /* Fortran-order big-endian 2x3 doubles: element (i, j) at j*2 + i */
    double vals[6];
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 2; i++) {
            double v = 10 * i + j;
            uint64_t u;
            memcpy(&u, &v, 8);
            u = __builtin_bswap64(u);
            memcpy(&vals[j * 2 + i], &u, 8);
        }
    size_t len = npy_bytes(buf, 1, "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }", vals, sizeof vals);
    CHECK(lt_npy_open_mem(&a, buf, len, "f.npy", &err) == LT_OK, "%s", err.msg);
    CHECK(a.rows == 2 && a.cols == 3 && a.nfields == 1 && !a.structured && a.fortran_order, "fortran shape");
    double d[6];
    int64_t k[6];
    CHECK(lt_npy_read_f64(&a, 0, 0, 2, d, &err) == LT_OK && d[0] == 0 && d[1] == 1 && d[2] == 2 && d[3] == 10 &&
              d[5] == 12,
          "fortran read: %s", err.msg);
    CHECK(lt_npy_read_i64(&a, 0, 1, 1, k, &err) == LT_OK && k[0] == 10 && k[1] == 11 && k[2] == 12, "fortran row 1");
    CHECK(lt_npy_read_i64(&a, 0, 1, 2, k, &err) == LT_ERR_ARG, "rows past the end accepted");
    lt_npy_close(&a);
    /* 0-d array */
    int16_t s = -7;
    len = npy_bytes(buf, 1, "{'descr': '<i2', 'fortran_order': False, 'shape': (), }", &s, 2);
    CHECK(lt_npy_open_mem(&a, buf, len, "0d.npy", &err) == LT_OK && a.rows == 1 && a.ndim == 0, "0-d: %s", err.msg);
    CHECK(lt_npy_read_i64(&a, 0, 0, 1, k, &err) == LT_OK && k[0] == -7, "0-d value");
    lt_npy_close(&a);
    /* u8 beyond int64 */
    uint64_t big = UINT64_MAX;
    len = npy_bytes(buf, 1, "{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }", &big, 8);
    CHECK(lt_npy_open_mem(&a, buf, len, "u8.npy", &err) == LT_OK, "%s", err.msg);
    CHECK(lt_npy_read_i64(&a, 0, 0, 1, k, &err) == LT_ERR_FORMAT, "u8 max read as int64");
    CHECK(lt_npy_read_f64(&a, 0, 0, 1, d, &err) == LT_OK && d[0] == 18446744073709551615.0, "u8 max as double");
    lt_npy_close(&a);

    /* Gen1 bounding boxes, both layouts, written with lt_npy_write */
    struct __attribute__((packed)) bbox_a {
        uint64_t ts;
        float x, y, w, h;
        uint8_t class_id;
        float confidence;
        uint32_t track_id;
    } ba[3] = {{100000, 1.5f, 2.5f, 30, 40, 0, 0.9f, 1}, {200000, 10, 20, 5, 6, 1, 1, 2}, {300000, 0, 0, 1, 1, 1, 0.5f, 3}};
    struct bbox_b {
        int64_t t;
        float x, y, w, h;
        uint32_t class_id, track_id;
        float class_confidence;
        uint32_t pad;
    } bb[2] = {{5, 1, 2, 3, 4, 7, 8, 0.25f, 0}, {6, 5, 6, 7, 8, 1, 2, 0.75f, 0}};
    CHECK(sizeof ba == 99 && sizeof bb == 80, "test structs are not packed as Gen1's (%zu, %zu)", sizeof ba, sizeof bb);
    const char *descr_a = "[('ts', '<u8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', '|u1'), "
                          "('confidence', '<f4'), ('track_id', '<u4')]";
    const char *descr_b = "[('t', '<i8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', '<u4'), "
                          "('track_id', '<u4'), ('class_confidence', '<f4'), ('', '|V4')]";
    uint64_t sa = 3, sb = 2;
    CHECK(lt_npy_write(tpath("a_bbox.npy"), descr_a, 1, &sa, ba, sizeof ba, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_npy_write(tpath("b_bbox.npy"), descr_b, 1, &sb, bb, sizeof bb, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_npy_write(tpath("bad.npy"), descr_b, 1, &sa, bb, sizeof bb, &err) == LT_ERR_ARG, "size mismatch written");
    CHECK(lt_npy_open(&a, tpath("a_bbox.npy"), &err) == LT_OK, "%s", err.msg);
    CHECK(a.itemsize == 33 && a.nfields == 8 && a.structured, "bbox a: itemsize %llu", (unsigned long long)a.itemsize);
    int f_ts = lt_npy_field_index(&a, "ts"), f_cls = lt_npy_field_index(&a, "class_id"),
        f_conf = lt_npy_field_index(&a, "confidence");
    CHECK(f_ts == 0 && f_cls == 5 && a.fields[f_conf].offset == 25, "bbox a fields");
    CHECK(lt_npy_read_i64(&a, f_ts, 0, 3, k, &err) == LT_OK && k[0] == 100000 && k[2] == 300000, "bbox a ts");
    CHECK(lt_npy_read_i64(&a, f_cls, 1, 2, k, &err) == LT_OK && k[0] == 1 && k[1] == 1, "bbox a class");
    CHECK(lt_npy_read_f64(&a, lt_npy_field_index(&a, "x"), 0, 3, d, &err) == LT_OK && d[0] == 1.5 && d[1] == 10,
          "bbox a x");
    CHECK(lt_npy_read_f64(&a, f_conf, 0, 3, d, &err) == LT_OK && d[0] == (double)0.9f, "bbox a confidence");
    CHECK(lt_npy_read_i64(&a, lt_npy_field_index(&a, "x"), 0, 1, k, &err) == LT_ERR_FORMAT, "x 1.5 read as int64");
    char desc[512];
    lt_npy_describe(&a, desc, sizeof desc);
    CHECK(strstr(desc, "class_id |u1 @24") && strstr(desc, "(3,)"), "describe: %s", desc);
    lt_npy_close(&a);
    CHECK(lt_npy_open(&a, tpath("b_bbox.npy"), &err) == LT_OK, "%s", err.msg);
    CHECK(a.itemsize == 40 && a.nfields == 8 && a.data_offset % 64 == 0, "bbox b: itemsize %llu", (unsigned long long)a.itemsize);
    CHECK(lt_npy_read_i64(&a, lt_npy_field_index(&a, "t"), 0, 2, k, &err) == LT_OK && k[0] == 5 && k[1] == 6, "bbox b t");
    CHECK(lt_npy_read_i64(&a, lt_npy_field_index(&a, "class_id"), 0, 2, k, &err) == LT_OK && k[0] == 7 && k[1] == 1,
          "bbox b class_id");
    CHECK(lt_npy_read_f64(&a, lt_npy_field_index(&a, "class_confidence"), 0, 2, d, &err) == LT_OK && d[1] == 0.75,
          "bbox b confidence");
    CHECK(lt_npy_field_index(&a, "") < 0, "padding is listed as a field");
    lt_npy_close(&a);
    /* the ts-named layout is also an event-free file: the event reader refuses it clearly */
    lt_events e = {0};
    CHECK(lt_events_read_file(&e, tpath("b_bbox.npy"), NULL, &err) == LT_ERR_FORMAT && strstr(err.msg, "no field p"),
          "bbox as events: %s", err.msg);
    lt_events_free(&e);
}

static void test_api_edges(void)
{
    lt_err err = {0};
    lt_reader *r;
    lt_events e = {0};
    size_t got;
    const uint8_t one[5] = {1, 2, 0x80, 0, 5};
    write_bytes(tpath("one.bin"), one, 5);
    CHECK(lt_reader_open(&r, tpath("one.bin"), NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_reader_next(r, &e, 0, &got, &err) == LT_ERR_ARG, "max 0 accepted");
    lt_reader_close(r);
    CHECK(lt_reader_open(&r, tpath("does-not-exist.bin"), NULL, &err) == LT_ERR_IO && strstr(err.msg, "does-not-exist"),
          "missing file: %s", err.msg);
    CHECK(lt_reader_open(&r, tmpdir, NULL, &err) != LT_OK, "a directory opened");
    /* sticky error: a corrupt record mid-file fails every later call too */
    uint8_t b[5 * 2000];
    for (int i = 0; i < 2000; i++) {
        b[5 * i] = 1, b[5 * i + 1] = 2, b[5 * i + 2] = 0, b[5 * i + 3] = 0, b[5 * i + 4] = (uint8_t)i;
    }
    b[5 * 1500 + 1] = 241;
    write_bytes(tpath("sticky.bin"), b, sizeof b);
    CHECK(lt_reader_open(&r, tpath("sticky.bin"), NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_reader_next(r, &e, 1000, &got, &err) == LT_OK && got == 1000, "first chunk");
    CHECK(lt_reader_next(r, &e, 1000, &got, &err) == LT_ERR_FORMAT && e.n == 1000 && got == 0 &&
              strstr(err.msg, "byte 7500"),
          "corrupt chunk: n %zu %s", e.n, err.msg);
    err.msg[0] = 0;
    CHECK(lt_reader_next(r, &e, 1000, &got, &err) == LT_ERR_FORMAT && strstr(err.msg, "byte 7500"), "not sticky");
    lt_reader_close(r);
    lt_ev_format f;
    lt_aedat_layout l;
    CHECK(lt_ev_format_parse(&f, "bin", &err) == LT_OK && f == LT_EVF_ATIS_BIN, "format bin");
    CHECK(lt_ev_format_parse(&f, "png", &err) == LT_ERR_ARG, "format png accepted");
    CHECK(lt_aedat_layout_parse(&l, "davis", &err) == LT_OK && l == LT_AEDAT_LAYOUT_DAVIS, "layout davis");
    CHECK(lt_events_push(&e, 0, 70000, 0, 0, &err) == LT_ERR_ARG, "push x 70000 accepted");
    lt_events_free(&e);
}

int main(void)
{
    check_begin("readers");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ltsnn-readers-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    /* The real recordings live beside the repository (../shared), not in it. */
    int have_real = access(REAL "sample_nmnist.bin", R_OK) == 0;
    if (have_real) {
        test_real_files();
        test_npy_equals_dat();
    } else {
        CHECK_SKIP("%s not found; the checks on those real recordings", REAL);
    }
    test_round_trips();
    test_writer_refusals();
    test_aedat_cases();
    test_atis_dat_cases();
    test_npy_events();
    test_npy_generic();
    test_api_edges();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_done();
}
