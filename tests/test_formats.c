/* test_formats.c -- the camera formats added to the readers (EVT 2.0, EVT
 * 3.0, AEDAT 4.0), detection by header through the format table, the
 * writers for them, and what every reader refuses.
 *
 * Checks: EVT 3.0 hand-built streams for the time rule of docs/events.md
 * (each of TIME_HIGH / TIME_LOW sets only its own 12 bits; a TIME_LOW that
 * goes down is not a carry; the 24-bit wrap; a small TIME_HIGH step back is
 * not a wrap), vectors split across calls at every chunk size, trigger /
 * OTHERS / CONTINUED words counted, reserved words and out-of-sensor events
 * refused with their byte; EVT 2.0 likewise plus its 2^34 wrap; the EVT 2.0
 * and AEDAT 4.0 writers round-tripped (every compression, packets split
 * across calls); hostile AEDAT 4.0 files (FlatBuffer offsets, sizes,
 * compressed data, stream ids) refused with file and byte; detection of
 * each header under a foreign extension; empty files; headerless DAT files
 * that cannot be recordings; the real recordings in tests/data/events/
 * against the figures in its README (which a second decoder agrees with). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "events_test.h"
#include "ltsnn/events.h"

#define DATA "tests/data/events/"


/* Decode a memory block with lt_reader_next(max = chunk), from no events. */
static lt_status decode_mem(lt_events *out, lt_reader_skips *sk, lt_reader_info *info, const void *mem, size_t len,
                            const char *name, const lt_reader_opts *o, size_t chunk, lt_err *err)
{
    out->n = 0;
    return decode_events(out, sk, info, name, mem, len, o, chunk, err);
}

static const size_t chunks[] = {1, 2, 5, 7, 13, 1000, (size_t)1 << 20};
#define NCHUNKS (sizeof chunks / sizeof chunks[0])

/* Every chunk size gives the same events as the largest. */
static void check_chunks(const char *what, const void *mem, size_t len, const char *name, const lt_reader_opts *o,
                         const lt_events *want)
{
    lt_err err = {0};
    for (size_t c = 0; c < NCHUNKS; c++) {
        lt_events e = {0};
        lt_status st = decode_mem(&e, NULL, NULL, mem, len, name, o, chunks[c], &err);
        CHECK(st == LT_OK && same_events(&e, want), "%s: chunk %zu differs (%zu vs %zu events) %s", what, chunks[c],
              e.n, want->n, st ? err.msg : "");
        lt_events_free(&e);
    }
}

/* ---- EVT 3.0 ---- */
static size_t w16(uint8_t *b, size_t n, unsigned type, unsigned v)
{
    unsigned w = type << 12 | (v & 0xfff);
    b[n] = (uint8_t)w, b[n + 1] = (uint8_t)(w >> 8);
    return n + 2;
}

static size_t evt3_header(uint8_t *b)
{
    const char *h = "% camera_integrator_name Prophesee\n% evt 3.0\n% format EVT3;height=720;width=1280\n"
                    "% geometry 1280x720\n% end\n";
    memcpy(b, h, strlen(h));
    return strlen(h);
}

static void test_evt3(void)
{
    uint8_t b[4096];
    size_t n = evt3_header(b), h = n;
    /* words before any TIME_HIGH: no time yet -> skipped and counted */
    n = w16(b, n, 0x0, 5);                   /* ADDR_Y 5 */
    n = w16(b, n, 0x2, 1u << 11 | 7);        /* ADDR_X 7, p 1: before a TIME_HIGH */
    n = w16(b, n, 0x8, 5);                   /* TIME_HIGH 5 -> 5 * 4096 */
    n = w16(b, n, 0x6, 4090);                /* TIME_LOW 4090 */
    n = w16(b, n, 0x2, 1u << 11 | 10);       /* e0: t 5*4096+4090, x 10, y 5, p 1 */
    n = w16(b, n, 0x8, 6);                   /* TIME_HIGH 6 (the low bits stay 4090 until a TIME_LOW) */
    n = w16(b, n, 0x6, 3);                   /* TIME_LOW 3: lower than 4090, but not a carry */
    n = w16(b, n, 0x0, 700);                 /* ADDR_Y 700 */
    n = w16(b, n, 0x3, 0 << 11 | 100);       /* VECT_BASE_X 100, p 0 */
    n = w16(b, n, 0x4, 0x801);               /* VECT_12: bits 0 and 11 -> x 100, 111 */
    n = w16(b, n, 0x5, 0xff);                /* VECT_8: all 8 -> x 112..119 */
    n = w16(b, n, 0xA, 0x101);               /* EXT_TRIGGER */
    n = w16(b, n, 0xE, 0x123);               /* OTHERS */
    n = w16(b, n, 0xF, 0x456);               /* CONTINUED_12 */
    n = w16(b, n, 0x7, 0x4);                 /* CONTINUED_4 */
    n = w16(b, n, 0x8, 4095);                /* TIME_HIGH 4095 */
    n = w16(b, n, 0x6, 4095);                /* t = 2^24 - 1 */
    n = w16(b, n, 0x2, 1279);                /* e: x 1279 (the last column), p 0 */
    n = w16(b, n, 0x8, 0);                   /* TIME_HIGH 0 after 4095: the 24-bit wrap */
    n = w16(b, n, 0x6, 1);                   /* t = 2^24 + 1 */
    n = w16(b, n, 0x2, 1u << 11 | 1);
    n = w16(b, n, 0x8, 3);                   /* TIME_HIGH 3 */
    n = w16(b, n, 0x8, 1);                   /* a small step back (2): not a wrap */
    n = w16(b, n, 0x6, 0);                   /* t = 2^24 + 4096 */
    n = w16(b, n, 0x2, 2);
    const int64_t W = (int64_t)1 << 24;
    const int64_t want_t[] = {5 * 4096 + 4090, 6 * 4096 + 3, 6 * 4096 + 3, 6 * 4096 + 3, 6 * 4096 + 3, 6 * 4096 + 3,
                              6 * 4096 + 3, 6 * 4096 + 3, 6 * 4096 + 3, 6 * 4096 + 3, 6 * 4096 + 3,
                              W - 1, W + 1, W + 4096};
    const uint16_t want_x[] = {10, 100, 111, 112, 113, 114, 115, 116, 117, 118, 119, 1279, 1, 2};
    lt_events e = {0};
    lt_err err = {0};
    lt_reader_skips sk;
    lt_reader_info info;
    lt_status st = decode_mem(&e, &sk, &info, b, n, "hand.raw", NULL, 1000, &err);
    CHECK(st == LT_OK && e.n == 14, "evt3 stream: %d, %zu events: %s", st, e.n, err.msg);
    CHECK(info.format == LT_EVF_EVT3 && info.width == 1280 && info.height == 720 && info.header_bytes == h,
          "evt3 info: format %d sensor %dx%d header %llu", info.format, info.width, info.height,
          (unsigned long long)info.header_bytes);
    for (size_t i = 0; i < e.n && i < 14; i++) {
        CHECK(e.t[i] == want_t[i] && e.x[i] == want_x[i], "evt3 event %zu: t %lld x %u, expected t %lld x %u", i,
              (long long)e.t[i], e.x[i], (long long)want_t[i], want_x[i]);
    }
    if (e.n == 14) {
        CHECK(e.y[0] == 5 && e.p[0] == 1 && e.y[1] == 700 && e.p[1] == 0 && e.p[12] == 1 && e.y[13] == 700,
              "evt3 y/p");
    }
    CHECK(sk.n == 4 && sk.count[0] == 1 && sk.count[1] == 1 && sk.count[2] == 2 && sk.count[3] == 1,
          "evt3 skipped: %llu trig %llu others %llu continued %llu early", (unsigned long long)sk.count[0],
          (unsigned long long)sk.count[1], (unsigned long long)sk.count[2], (unsigned long long)sk.count[3]);
    check_chunks("evt3 stream", b, n, "hand.raw", NULL, &e);

    /* a vector split across calls keeps its time even when the next word changes it */
    size_t m = evt3_header(b);
    m = w16(b, m, 0x8, 1), m = w16(b, m, 0x6, 2), m = w16(b, m, 0x0, 3), m = w16(b, m, 0x3, 1u << 11 | 20);
    m = w16(b, m, 0x4, 0xfff);
    m = w16(b, m, 0x6, 9); /* later time: must not reach the vector's events */
    m = w16(b, m, 0x4, 0x001);
    lt_events v = {0};
    CHECK(decode_mem(&v, NULL, NULL, b, m, "vec.raw", NULL, 5, &err) == LT_OK && v.n == 13, "vector split: %zu %s",
          v.n, err.msg);
    if (v.n == 13)
        CHECK(v.t[11] == 4096 + 2 && v.x[11] == 31 && v.t[12] == 4096 + 9 && v.x[12] == 32 && v.p[5] == 1,
              "vector split: t %lld x %u, t %lld x %u", (long long)v.t[11], v.x[11], (long long)v.t[12], v.x[12]);
    check_chunks("vector split", b, m, "vec.raw", NULL, &v);

    /* refusals: a reserved type, an event outside the header's sensor, a vector running past it */
    m = evt3_header(b);
    m = w16(b, m, 0x8, 1), m = w16(b, m, 0x0, 3);
    size_t bad_at = m;
    m = w16(b, m, 0x9, 0);
    st = decode_mem(&e, NULL, NULL, b, m, "res.raw", NULL, 100, &err);
    char want[64];
    snprintf(want, sizeof want, "byte %zu", bad_at);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, want) && strstr(err.msg, "reserves") && strstr(err.msg, "res.raw"),
          "evt3 reserved: %d %s", st, err.msg);
    b[bad_at + 1] = 0x00, b[bad_at] = 0x00; /* ADDR_Y 0 */
    m = w16(b, m, 0x0, 720);                /* y 720 on a 720-row sensor */
    m = w16(b, m, 0x2, 0);
    st = decode_mem(&e, NULL, NULL, b, m, "y720.raw", NULL, 100, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "outside the 1280x720"), "evt3 y 720: %d %s", st, err.msg);
    m -= 4;
    m = w16(b, m, 0x3, 1275), m = w16(b, m, 0x4, 0x020); /* bit 5: x 1280 */
    st = decode_mem(&e, NULL, NULL, b, m, "vx.raw", NULL, 100, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "x 1280"), "evt3 vector past the sensor: %d %s", st, err.msg);
    /* an odd byte after the words is a partial word */
    m = evt3_header(b);
    m = w16(b, m, 0x8, 1);
    b[m++] = 0;
    st = decode_mem(&e, NULL, NULL, b, m, "odd.raw", NULL, 100, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "partial"), "evt3 odd size: %d %s", st, err.msg);
    /* header only: no events, not an error; the file ending inside the header is one */
    m = evt3_header(b);
    st = decode_mem(&e, NULL, &info, b, m, "h.raw", NULL, 100, &err);
    CHECK(st == LT_OK && e.n == 0 && info.header_only, "evt3 header only: %d %s", st, err.msg);
    st = decode_mem(&e, NULL, &info, b, m - 3, "hcut.raw", NULL, 100, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "inside its"), "evt3 header cut: %d %s", st, err.msg);
    /* EVT 2.1 is refused by name */
    const char *h21 = "% evt 2.1\n% end\n";
    st = decode_mem(&e, NULL, NULL, h21, strlen(h21), "h21.raw", NULL, 100, &err);
    CHECK(st == LT_ERR_UNSUPPORTED && strstr(err.msg, "EVT 2.1"), "EVT 2.1: %d %s", st, err.msg);
    lt_events_free(&v);
    lt_events_free(&e);
}

/* ---- EVT 2.0 ---- */
static size_t w32(uint8_t *b, size_t n, uint32_t w)
{
    for (int i = 0; i < 4; i++)
        b[n + i] = (uint8_t)(w >> (8 * i));
    return n + 4;
}

static uint32_t cd(unsigned p, unsigned lsb, unsigned x, unsigned y) { return p << 28 | lsb << 22 | x << 11 | y; }

static void test_evt2(void)
{
    uint8_t b[1024];
    const char *hdr = "% date 2020-09-25 07:48:31\n% evt 2.0\n% plugin_name hal_plugin_gen3_fx3\n";
    size_t n = strlen(hdr);
    memcpy(b, hdr, n);
    n = w32(b, n, cd(1, 3, 1, 1));                   /* before any TIME_HIGH: skipped */
    n = w32(b, n, 0x8u << 28 | 100);                  /* TIME_HIGH 100 -> 6400 */
    n = w32(b, n, cd(1, 5, 639, 479));                /* t 6405 */
    n = w32(b, n, 0xAu << 28 | 1);                    /* EXT_TRIGGER */
    n = w32(b, n, 0x8u << 28 | 0x0fffffff);           /* TIME_HIGH max */
    n = w32(b, n, cd(0, 63, 2, 3));                   /* t = (2^28 - 1) * 64 + 63 = 2^34 - 1 */
    n = w32(b, n, 0x8u << 28 | 2);                    /* wrap: t = 2^34 + 128 + lsb */
    n = w32(b, n, cd(0, 1, 4, 5));
    n = w32(b, n, 0xEu << 28), n = w32(b, n, 0xFu << 28);
    lt_events e = {0};
    lt_err err = {0};
    lt_reader_skips sk;
    lt_reader_info info;
    lt_status st = decode_mem(&e, &sk, &info, b, n, "e2.xyz", NULL, 1000, &err);
    CHECK(st == LT_OK && e.n == 3 && info.format == LT_EVF_EVT2 && info.width == 640 && info.height == 480,
          "evt2: %d %zu events format %d sensor %dx%d: %s", st, e.n, info.format, info.width, info.height, err.msg);
    if (e.n == 3)
        CHECK(e.t[0] == 6405 && e.x[0] == 639 && e.y[0] == 479 && e.p[0] == 1 && e.t[1] == ((int64_t)1 << 34) - 1 &&
                  e.t[2] == ((int64_t)1 << 34) + 129 && e.x[2] == 4 && e.y[2] == 5 && e.p[2] == 0,
              "evt2 events: t %lld %lld %lld", (long long)e.t[0], (long long)e.t[1], (long long)e.t[2]);
    CHECK(sk.count[0] == 1 && sk.count[1] == 1 && sk.count[2] == 1 && sk.count[3] == 1, "evt2 skipped counts");
    check_chunks("evt2", b, n, "e2.xyz", NULL, &e);
    size_t bad_at = n;
    n = w32(b, n, 0x3u << 28);
    st = decode_mem(&e, NULL, NULL, b, n, "r2.raw", NULL, 1000, &err);
    char want[64];
    snprintf(want, sizeof want, "byte %zu", bad_at);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, want) && strstr(err.msg, "reserves"), "evt2 reserved: %s", err.msg);
    n = bad_at;
    n = w32(b, n, cd(1, 0, 640, 0)); /* x 640 on the gen3 640x480 sensor */
    st = decode_mem(&e, NULL, NULL, b, n, "x2.raw", NULL, 1000, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "x 640"), "evt2 x 640: %s", err.msg);
    /* the header names EVT 2.0 but the format is forced to EVT 3.0 */
    lt_reader_opts o = {.format = LT_EVF_EVT3};
    st = decode_mem(&e, NULL, NULL, b, bad_at, "f.raw", &o, 1000, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "EVT 2.0"), "evt2 read as evt3: %s", err.msg);
    /* no header at all: refused unless the format is given */
    st = decode_mem(&e, NULL, NULL, b + strlen(hdr), 8, "bare.raw", NULL, 1000, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "% evt 2.0"), "headerless .raw: %s", err.msg);
    o.format = LT_EVF_EVT2;
    st = decode_mem(&e, NULL, NULL, b + strlen(hdr) + 4, 8, "bare.raw", &o, 1000, &err);
    CHECK(st == LT_OK && e.n == 1 && e.t[0] == 6405, "forced headerless evt2: %d %s", st, err.msg);
    lt_events_free(&e);
}

/* ---- writers: EVT 2.0 and AEDAT 4.0 round trips ---- */
static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void gen(lt_events *e, size_t n, int64_t t0, uint32_t step, int w, int h)
{
    lt_err err;
    e->n = 0;
    int64_t t = t0;
    for (size_t i = 0; i < n; i++) {
        lt_events_push(e, t, (int)rnd((uint32_t)w), (int)rnd((uint32_t)h), (int)rnd(2), &err);
        t += rnd(step);
    }
}

static void round_trip(const char *name, const lt_events *e, const lt_writer_opts *wo, int w, int h)
{
    lt_err err = {0};
    const char *path = tpath(name);
    lt_status st = lt_events_write_file(path, e, wo, &err);
    CHECK(st == LT_OK, "write %s: %s", name, err.msg);
    if (st)
        return;
    size_t len;
    uint8_t *mem = read_bytes(path, &len);
    lt_events back = {0};
    lt_reader_info info;
    st = decode_mem(&back, NULL, &info, mem, len, path, NULL, 1 << 20, &err);
    CHECK(st == LT_OK && same_events(e, &back) && info.width == w && info.height == h,
          "%s: round trip differs (%zu vs %zu events, sensor %dx%d) %s", name, back.n, e->n, info.width, info.height,
          st ? err.msg : "");
    check_chunks(name, mem, len, path, NULL, e);
    lt_events_free(&back);
    free(mem);
}

static void test_writers(void)
{
    lt_events e = {0};
    lt_writer_opts wo = {0};
    lt_err err = {0};
    /* EVT 2.0: t past 2^34 (TIME_HIGH wraps) and gaps of hours (bridged) */
    gen(&e, 20000, ((int64_t)1 << 34) - 2000000, 400, 1280, 720);
    e.t[10000] += (int64_t)3 << 33; /* a 7-hour gap */
    for (size_t i = 10001; i < e.n; i++)
        e.t[i] += (int64_t)3 << 33;
    wo.width = 1280, wo.height = 720;
    round_trip("wrap.raw", &e, &wo, 1280, 720);
    memset(&wo, 0, sizeof wo);
    round_trip("nosize.raw", &e, &wo, 0, 0);
    /* a step back inside one 64 us window is stored; across one it is refused */
    lt_events s = {0};
    lt_events_push(&s, 130, 1, 1, 1, &err);
    lt_events_push(&s, 128, 1, 1, 1, &err);
    round_trip("back.raw", &s, &wo, 0, 0);
    lt_events_push(&s, 127, 1, 1, 1, &err);
    CHECK(lt_events_write_file(tpath("back2.raw"), &s, &wo, &err) == LT_ERR_ARG && strstr(err.msg, "event 2") &&
              access(tpath("back2.raw"), F_OK) != 0,
          "EVT 2.0 step back across 64 us: %s", err.msg);
    s.n = 1, s.t[0] = -1;
    CHECK(lt_events_write_file(tpath("neg.raw"), &s, &wo, &err) == LT_ERR_ARG, "EVT 2.0 t < 0 accepted");
    s.t[0] = 0, s.x[0] = 2048;
    CHECK(lt_events_write_file(tpath("x.raw"), &s, &wo, &err) == LT_ERR_ARG, "EVT 2.0 x 2048 accepted");
    lt_events_free(&s);

    /* AEDAT 4.0: every compression, 3 packets (4096 events each), t of DV's epoch */
    gen(&e, 9000, 1633953690975950LL, 50, 346, 260);
    static const char *names[5] = {"none.aedat4", "lz4.aedat4", "lz4h.aedat4", "zstd.aedat4", "zstdh.aedat4"};
    for (int c = 0; c < 5; c++) {
        memset(&wo, 0, sizeof wo);
        wo.width = 346, wo.height = 260, wo.aedat4_compression = (lt_aedat4_compression)c;
        round_trip(names[c], &e, &wo, 346, 260);
    }
    memset(&wo, 0, sizeof wo);
    gen(&e, 100, -5, 3, 32767, 32767);
    round_trip("neg.aedat4", &e, &wo, 0, 0);
    e.n = 0;
    wo.format = LT_EVF_AEDAT4;
    round_trip("empty.bin4", &e, &wo, 0, 0); /* detected by header, whatever the name */
    lt_events_free(&e);
}

/* ---- hostile AEDAT 4.0 ---- */
static void put32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static void expect_a4(const char *what, const uint8_t *b, size_t n, lt_status want, const char *msg)
{
    lt_events e = {0};
    lt_err err = {0};
    lt_status st = decode_mem(&e, NULL, NULL, b, n, "bad.aedat4", NULL, 777, &err);
    CHECK(st == want && (!msg || strstr(err.msg, msg)) && (st == LT_OK || strstr(err.msg, "bad.aedat4")),
          "%s: %d %s", what, st, err.msg);
    lt_events_free(&e);
}

static void test_aedat4_bad(void)
{
    lt_events e = {0};
    lt_writer_opts wo = {.width = 346, .height = 260};
    lt_err err = {0};
    gen(&e, 50, 1000, 10, 346, 260);
    CHECK(lt_events_write_file(tpath("ok.aedat4"), &e, &wo, &err) == LT_OK, "%s", err.msg);
    wo.aedat4_compression = LT_AEDAT4_LZ4;
    CHECK(lt_events_write_file(tpath("lz.aedat4"), &e, &wo, &err) == LT_OK, "%s", err.msg);
    wo.aedat4_compression = LT_AEDAT4_ZSTD;
    CHECK(lt_events_write_file(tpath("zs.aedat4"), &e, &wo, &err) == LT_OK, "%s", err.msg);
    size_t n, nl, nz;
    uint8_t *ok = read_bytes(tpath("ok.aedat4"), &n), *lz = read_bytes(tpath("lz.aedat4"), &nl),
            *zs = read_bytes(tpath("zs.aedat4"), &nz);
    uint8_t *b = malloc(n + 64);
    uint32_t hs = (uint32_t)ok[14] | (uint32_t)ok[15] << 8 | (uint32_t)ok[16] << 16 | (uint32_t)ok[17] << 24;
    size_t p0 = 18 + hs; /* first packet header */
    expect_a4("intact", ok, n, LT_OK, NULL);
#define MUTATE(what, stmt, st, msg) \
    do { memcpy(b, ok, n); stmt; expect_a4(what, b, n, st, msg); } while (0)
    MUTATE("magic", b[11] = '1', LT_ERR_FORMAT, "#!AER-DAT4.0");
    MUTATE("header size", put32(b + 14, (uint32_t)n), LT_ERR_FORMAT, "header size");
    MUTATE("identifier", b[22] = 'X', LT_ERR_FORMAT, "IOHE");
    MUTATE("root offset", put32(b + 18, 0xfffffff0u), LT_ERR_FORMAT, "IOHE");
    MUTATE("vtable offset", put32(b + 18 + 24, 0x7fffffffu), LT_ERR_FORMAT, "IOHeader table");
    MUTATE("compression 7", put32(b + 18 + 28, 7), LT_ERR_UNSUPPORTED, "compression 7");
    MUTATE("data table inside the header", (put32(b + 18 + 32, 5), put32(b + 18 + 36, 0)), LT_ERR_FORMAT,
           "data table position");
    MUTATE("info string length", put32(b + 18 + 44, 0x7fffffffu), LT_ERR_FORMAT, "info node");
    MUTATE("packet size past the end", put32(b + p0 + 4, (uint32_t)n), LT_ERR_FORMAT, "runs past");
    MUTATE("unknown stream", put32(b + p0, 9), LT_ERR_FORMAT, "stream 9");
    MUTATE("size prefix", put32(b + p0 + 8, 3), LT_ERR_FORMAT, "size-prefixed");
    MUTATE("packet identifier", b[p0 + 8 + 8] = 'X', LT_ERR_FORMAT, "EVTS");
    MUTATE("vector length", put32(b + p0 + 8 + 28, 1000000), LT_ERR_FORMAT, "runs past");
    MUTATE("event x", (b[p0 + 8 + 32 + 8] = 0x5a, b[p0 + 8 + 32 + 9] = 0x01), LT_ERR_FORMAT, "event 0");
    MUTATE("event on = 2", b[p0 + 8 + 32 + 12] = 2, LT_ERR_FORMAT, "on 2");
    char msg[64];
    snprintf(msg, sizeof msg, "byte %zu", n - 3);
    expect_a4("cut inside a packet header", ok, n - (n - p0) + 5, LT_ERR_FORMAT, "too few");
    expect_a4("cut inside a packet", ok, n - 3, LT_ERR_FORMAT, "runs past");
    expect_a4("preamble only", ok, 16, LT_ERR_FORMAT, "preamble");
    expect_a4("header only", ok, p0, LT_OK, NULL);
    /* compressed packets: corrupt frames, trailing bytes */
    size_t lp0 = 18 + ((uint32_t)lz[14] | (uint32_t)lz[15] << 8);
    uint8_t *c = malloc(nl + 16);
    memcpy(c, lz, nl);
    c[lp0 + 8] ^= 0xff; /* LZ4 frame magic */
    expect_a4("LZ4 magic", c, nl, LT_ERR_FORMAT, "LZ4");
    memcpy(c, lz, nl);
    uint32_t psz = (uint32_t)c[lp0 + 4] | (uint32_t)c[lp0 + 5] << 8;
    put32(c + lp0 + 4, psz - 6);
    expect_a4("LZ4 frame cut", c, lp0 + 8 + psz - 6, LT_ERR_FORMAT, "LZ4");
    memcpy(c, lz, nl);
    put32(c + lp0 + 4, psz + 4);
    memset(c + nl, 0, 4);
    expect_a4("bytes after the LZ4 frame", c, nl + 4, LT_ERR_FORMAT, "after the packet's LZ4 frame");
    size_t zp0 = 18 + ((uint32_t)zs[14] | (uint32_t)zs[15] << 8);
    uint8_t *z = malloc(nz + 16);
    memcpy(z, zs, nz);
    z[zp0 + 8] ^= 0xff;
    expect_a4("Zstd magic", z, nz, LT_ERR_FORMAT, "Zstd");
    memcpy(z, zs, nz);
    uint32_t zsz = (uint32_t)z[zp0 + 4] | (uint32_t)z[zp0 + 5] << 8;
    put32(z + zp0 + 4, zsz - 5);
    expect_a4("Zstd frame cut", z, zp0 + 8 + zsz - 5, LT_ERR_FORMAT, "Zstd frame");
    /* a stream that is not EVTS cannot be chosen; a second EVTS stream can */
    lt_reader_opts o = {.aedat4_stream = 2};
    lt_status st = decode_mem(&e, NULL, NULL, ok, n, "s.aedat4", &o, 100, &err);
    CHECK(st == LT_ERR_ARG && strstr(err.msg, "stream 1"), "absent stream chosen: %d %s", st, err.msg);
    free(b), free(c), free(z), free(ok), free(lz), free(zs);
    lt_events_free(&e);
}

/* ---- detection, empty files, headerless DAT ---- */
static void test_detection(void)
{
    lt_events e = {0};
    lt_err err = {0};
    lt_reader_info info;
    static const struct {
        const char *name;
        lt_ev_format fmt;
    } files[] = {
        {DATA "evt3_trigger.raw", LT_EVF_EVT3},
        {DATA "evt2_gen3_cut.raw", LT_EVF_EVT2},
        {DATA "davis346_cut.aedat4", LT_EVF_AEDAT4},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t n;
        uint8_t *d = read_bytes(files[i].name, &n);
        CHECK(d != NULL, "%s missing", files[i].name);
        if (!d)
            continue;
        /* a foreign extension (.dat, .aedat) does not decide: the header does */
        static const char *const ext[3] = {"x.dat", "x.aedat", "x.xyz"};
        for (int k = 0; k < 3; k++) {
            lt_reader *r;
            lt_status st = lt_reader_open_mem(&r, d, n < 69998 ? n : 69998, ext[k], NULL, &err); /* whole words */
            CHECK(st == LT_OK, "%s as %s: %s", files[i].name, ext[k], err.msg);
            if (!st) {
                lt_reader_get_info(r, &info);
                CHECK(info.format == files[i].fmt, "%s as %s: detected %s", files[i].name, ext[k],
                      lt_ev_format_name(info.format));
                lt_reader_close(r);
            }
        }
        free(d);
    }
    /* a DAT header is still DAT; AEDAT 3.1 is still refused by the AEDAT 2.0 reader */
    const char *dat = "% Data file containing Event2D events.\n% Version 2\n";
    CHECK(decode_mem(&e, NULL, &info, dat, strlen(dat), "d.raw", NULL, 10, &err) == LT_OK &&
              info.format == LT_EVF_DAT && info.header_only,
          "DAT header detected as %s: %s", lt_ev_format_name(info.format), err.msg);
    CHECK(decode_mem(&e, NULL, NULL, "#!AER-DAT3.1\r\n", 14, "v.aedat4", NULL, 10, &err) == LT_ERR_UNSUPPORTED,
          "AEDAT 3.1: %s", err.msg);
    /* empty files: valid only for headerless ATIS */
    static const char *const empties[] = {"e.dat", "e.aedat", "e.aedat4", "e.raw", "e.npy"};
    for (size_t i = 0; i < 5; i++) {
        write_bytes(tpath(empties[i]), "", 0);
        lt_status st = lt_events_read_file(&e, tpath(empties[i]), NULL, &err);
        CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "empty") && strstr(err.msg, empties[i]), "empty %s: %d %s",
              empties[i], st, err.msg);
    }
    write_bytes(tpath("e.bin"), "", 0);
    e.n = 0;
    CHECK(lt_events_read_file(&e, tpath("e.bin"), NULL, &err) == LT_OK && e.n == 0, "empty .bin: %s", err.msg);
    /* random bytes named .dat: refused, naming the record */
    uint8_t rb[4096];
    uint64_t s = 7;
    for (size_t i = 0; i < sizeof rb; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        rb[i] = (uint8_t)(s >> 56);
    }
    lt_status st = decode_mem(&e, NULL, NULL, rb, sizeof rb, "random.dat", NULL, 1000, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "record 0") && strstr(err.msg, "random.dat"), "random .dat: %d %s", st,
          err.msg);
    /* a plausible headerless DAT still reads; time running back (not a wrap) does not */
    uint8_t db[32];
    uint32_t recs[8] = {100, 5u << 14 | 7u, 200, 1u << 28 | 719u << 14 | 1279u, 0xfffffff0u, 1, 10, 2};
    for (int i = 0; i < 8; i++)
        put32(db + 4 * i, recs[i]);
    st = decode_mem(&e, NULL, NULL, db, 32, "bare.dat", NULL, 1000, &err);
    CHECK(st == LT_OK && e.n == 4 && e.t[3] == ((int64_t)1 << 32) + 10, "headerless DAT: %d %s", st, err.msg);
    put32(db + 16, 150);
    st = decode_mem(&e, NULL, NULL, db, 24, "back.dat", NULL, 1000, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "record 2") && strstr(err.msg, "byte 16"), "headerless DAT back: %s",
          err.msg);
    /* names and extensions come from the table */
    lt_ev_format f;
    CHECK(lt_ev_format_parse(&f, "evt3", &err) == LT_OK && f == LT_EVF_EVT3, "parse evt3");
    CHECK(lt_ev_format_parse(&f, "aedat4", &err) == LT_OK && f == LT_EVF_AEDAT4, "parse aedat4");
    CHECK(lt_ev_format_from_ext("a/b.AEDAT4") == LT_EVF_AEDAT4 && lt_ev_format_from_ext("x.raw") == LT_EVF_EVT2 &&
              lt_ev_format_from_ext("x.aedat") == LT_EVF_AEDAT2 && lt_ev_format_from_ext("x") == LT_EVF_AUTO,
          "extensions");
    CHECK(lt_ev_format_writable(LT_EVF_EVT2) && lt_ev_format_writable(LT_EVF_AEDAT4) &&
              !lt_ev_format_writable(LT_EVF_EVT3),
          "writable");
    char list[512];
    lt_ev_format_list(list, sizeof list);
    CHECK(strstr(list, "evt3 (read)") && strstr(list, "aedat4 (.aedat4; read, written)"), "list: %s", list);
    lt_events_free(&e);
}

/* ---- the real recordings (tests/data/events/README.md) ---- */
__extension__ typedef __int128 i128;

static void test_real(void)
{
    static const struct {
        const char *name;
        lt_ev_format fmt;
        size_t n;
        uint64_t skipped;
        int w, h;
        int64_t mn[4], mx[4];
        const char *tsum;
        int64_t sum[3]; /* x, y, p */
    } reals[] = {
        {"davis346_cut.aedat4", LT_EVF_AEDAT4, 89711, 21, 346, 260, {1633953690975950LL, 0, 0, 0},
         {1633953691075947LL, 345, 259, 1}, "146583619575259759757", {13375384, 7927947, 55784}},
        {"evt3_trigger.raw", LT_EVF_EVT3, 82469, 53226, 1280, 720, {14224870, 0, 0, 0}, {15476187, 1279, 719, 1},
         "1222326831810", {42078718, 31656267, 41439}},
        {"evt2_gen3_cut.raw", LT_EVF_EVT2, 247491, 0, 640, 480, {913716224, 0, 0, 0}, {913755685, 639, 479, 1},
         "226140439884309", {76377601, 103464381, 85545}},
    };
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, DATA "%s", reals[i].name);
        size_t len;
        uint8_t *mem = read_bytes(path, &len);
        CHECK(mem != NULL, "%s missing", path);
        if (!mem)
            continue;
        lt_events e = {0};
        lt_err err = {0};
        lt_reader_skips sk;
        lt_reader_info info;
        lt_status st = decode_mem(&e, &sk, &info, mem, len, path, NULL, (size_t)1 << 16, &err);
        uint64_t skipped = 0;
        for (int k = 0; k < sk.n; k++)
            skipped += sk.count[k];
        CHECK(st == LT_OK && e.n == reals[i].n && skipped == reals[i].skipped && info.format == reals[i].fmt &&
                  info.width == reals[i].w && info.height == reals[i].h,
              "%s: %d, %zu events, %llu skipped, %s %dx%d: %s", path, st, e.n, (unsigned long long)skipped,
              lt_ev_format_name(info.format), info.width, info.height, err.msg);
        int64_t mn[4], mx[4];
        i128 sum[4] = {0};
        for (size_t j = 0; j < e.n; j++) {
            int64_t v[4] = {e.t[j], e.x[j], e.y[j], e.p[j]};
            for (int k = 0; k < 4; k++) {
                if (!j || v[k] < mn[k])
                    mn[k] = v[k];
                if (!j || v[k] > mx[k])
                    mx[k] = v[k];
                sum[k] += v[k];
            }
        }
        if (e.n) {
            char ts[48];
            int q = 47;
            ts[q] = 0;
            unsigned __int128 u = (unsigned __int128)sum[0];
            do {
                ts[--q] = (char)('0' + (int)(u % 10));
                u /= 10;
            } while (u);
            CHECK(!strcmp(ts + q, reals[i].tsum), "%s: t sum %s, expected %s", path, ts + q, reals[i].tsum);
            for (int k = 0; k < 4; k++)
                CHECK(mn[k] == reals[i].mn[k] && mx[k] == reals[i].mx[k], "%s: field %d min %lld max %lld", path, k,
                      (long long)mn[k], (long long)mx[k]);
            for (int k = 1; k < 4; k++)
                CHECK(sum[k] == reals[i].sum[k - 1], "%s: field %d sum %lld", path, k, (long long)sum[k]);
        }
        /* resuming mid-vector / mid-packet gives the same events at any chunk size */
        static const size_t cs[] = {1, 3, 4095, 4097};
        for (size_t c = 0; c < 4; c++) {
            lt_events f = {0};
            st = decode_mem(&f, NULL, NULL, mem, len, path, NULL, cs[c], &err);
            CHECK(st == LT_OK && same_events(&e, &f), "%s: chunk %zu differs", path, cs[c]);
            lt_events_free(&f);
        }
        lt_events f = {0};
        CHECK(lt_events_read_file(&f, path, NULL, &err) == LT_OK && same_events(&e, &f), "%s: file read: %s", path,
              err.msg);
        lt_events_free(&f);
        lt_events_free(&e);
        free(mem);
    }
}

int main(void)
{
    check_begin("formats");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ltsnn-formats-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_evt3();
    test_evt2();
    test_writers();
    test_aedat4_bad();
    test_detection();
    test_real();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_done();
}
