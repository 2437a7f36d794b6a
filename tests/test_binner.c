/* test_binner.c -- events to frames (METHOD.md §6): both binnings, both
 * values, coordinate scaling and cropping, the time window, saturation,
 * out-of-range events, extreme timestamps, and random event lists against
 * a plain per-event reference written here. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "ltsnn/data.h"

#define MAXEV 4096

static int64_t g_t[MAXEV];
static uint16_t g_x[MAXEV], g_y[MAXEV];
static uint8_t g_p[MAXEV];
static uint8_t frames[1 << 20], ref[1 << 20];

static lt_events events(size_t n)
{
    lt_events e = {g_t, g_x, g_y, g_p, n, MAXEV};
    return e;
}

static void set_ev(size_t j, int64_t t, int x, int y, int p)
{
    g_t[j] = t, g_x[j] = (uint16_t)x, g_y[j] = (uint16_t)y, g_p[j] = (uint8_t)p;
}

static lt_bin_opts opts(int T, int H, int W, int in_h, int in_w)
{
    lt_bin_opts o;
    memset(&o, 0, sizeof o);
    o.T = T, o.H = H, o.W = W, o.in_h = in_h, o.in_w = in_w;
    return o;
}

static uint8_t at(const lt_bin_opts *o, int t, int c, int y, int x)
{
    return frames[(((size_t)t * 2 + (size_t)c) * (size_t)o->H + (size_t)y) * (size_t)o->W + (size_t)x];
}

static size_t total(const lt_bin_opts *o)
{
    size_t s = 0, n = (size_t)o->T * 2 * (size_t)o->H * (size_t)o->W;
    for (size_t i = 0; i < n; i++)
        s += frames[i];
    return s;
}

static void test_equal_time(void)
{
    /* t relative to t0 = 1000: 0, 25, 50, 99 -> floor(dt * 4 / 100) = 0, 1, 2, 3 */
    set_ev(0, 1000, 0, 0, 1);
    set_ev(1, 1025, 1, 0, 1);
    set_ev(2, 1050, 2, 0, 0);
    set_ev(3, 1099, 3, 0, 0);
    lt_events e = events(4);
    lt_bin_opts o = opts(4, 4, 4, 4, 4);
    lt_err err;
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(at(&o, 0, 1, 0, 0) == 1, "event 0 in bin 0, ON");
    CHECK(at(&o, 1, 1, 0, 1) == 1, "event 1 in bin 1, ON");
    CHECK(at(&o, 2, 0, 0, 2) == 1, "event 2 in bin 2, OFF");
    CHECK(at(&o, 3, 0, 0, 3) == 1, "event 3 in bin 3, OFF");
    CHECK(total(&o) == 4, "exactly four pixels set, got %zu", total(&o));
    /* span 24, T=5: dt 12 -> floor(60/25) = 2, dt 24 -> floor(120/25) = 4 */
    set_ev(0, 0, 0, 0, 1);
    set_ev(1, 12, 0, 0, 1);
    set_ev(2, 24, 0, 0, 1);
    e = events(3);
    o = opts(5, 1, 1, 1, 1);
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(at(&o, 0, 1, 0, 0) == 1 && at(&o, 2, 1, 0, 0) == 1 && at(&o, 4, 1, 0, 0) == 1 && total(&o) == 3,
          "bins 0, 2, 4");
}

static void test_equal_count(void)
{
    /* N = 5, T = 2: floor(j * 2 / 5) = 0, 0, 0, 1, 1 whatever the times */
    for (int j = 0; j < 5; j++)
        set_ev((size_t)j, j == 4 ? 1000000 : j, j, 0, 1);
    lt_events e = events(5);
    lt_bin_opts o = opts(2, 1, 5, 1, 5);
    o.mode = LT_BIN_COUNT;
    lt_err err;
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK, "%s", err.msg);
    for (int j = 0; j < 5; j++) {
        int bin = j * 2 / 5;
        CHECK(at(&o, bin, 1, 0, j) == 1 && at(&o, 1 - bin, 1, 0, j) == 0, "event %d in bin %d", j, bin);
    }
}

static void test_values_and_saturation(void)
{
    /* three ON and one OFF event on one pixel, then 300 ON events on another */
    size_t n = 0;
    for (int k = 0; k < 3; k++)
        set_ev(n++, k, 1, 1, 1);
    set_ev(n++, 3, 1, 1, 0);
    for (int k = 0; k < 300; k++)
        set_ev(n++, 4 + k, 0, 0, 1);
    lt_events e = events(n);
    lt_bin_opts o = opts(1, 2, 2, 2, 2);
    lt_err err;
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(at(&o, 0, 1, 1, 1) == 1 && at(&o, 0, 0, 1, 1) == 1 && at(&o, 0, 1, 0, 0) == 1, "binary frames hold 1");
    CHECK(total(&o) == 3, "binary: three pixels set");
    o.value = LT_BINVAL_COUNT;
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(at(&o, 0, 1, 1, 1) == 3, "count: 3 ON events, got %d", at(&o, 0, 1, 1, 1));
    CHECK(at(&o, 0, 0, 1, 1) == 1, "count: 1 OFF event");
    CHECK(at(&o, 0, 1, 0, 0) == 255, "count saturates at 255, got %d", at(&o, 0, 1, 0, 0));
    /* any nonzero polarity is ON */
    set_ev(0, 0, 0, 0, 7);
    e = events(1);
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK && at(&o, 0, 1, 0, 0) == 1 && at(&o, 0, 0, 0, 0) == 0,
          "p = 7 counts as ON");
}

static void test_scale_and_crop(void)
{
    /* 128 -> 48: x' = floor(x * 48 / 128); one event per x along a row, count frames */
    for (int x = 0; x < 128; x++)
        set_ev((size_t)x, x, x, 127 - x, 1);
    lt_events e = events(128);
    lt_bin_opts o = opts(1, 48, 48, 128, 128);
    o.value = LT_BINVAL_COUNT;
    lt_err err;
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK, "%s", err.msg);
    int bad = 0;
    for (int x = 0; x < 128; x++) {
        int xs = x * 48 / 128, ys = (127 - x) * 48 / 128;
        if (at(&o, 0, 1, ys, xs) == 0)
            bad++;
    }
    CHECK(bad == 0, "%d events not at floor(x*48/128)", bad);
    CHECK(total(&o) == 128, "no event lost when scaling");
    CHECK(127 * 48 / 128 == 47 && at(&o, 0, 1, 0, 47) >= 1, "x = 127 maps to 47");
    /* x = 2 -> 0 (96/128), x = 3 -> 1 (144/128): a hand-checked pair */
    set_ev(0, 0, 2, 0, 0);
    set_ev(1, 0, 3, 0, 0);
    e = events(2);
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK && at(&o, 0, 0, 0, 0) == 1 && at(&o, 0, 0, 0, 1) == 1,
          "x 2 -> 0, x 3 -> 1");

    /* crop 48 out of 128: offset 40; x 39 and 88 dropped, 40 -> 0, 87 -> 47 */
    set_ev(0, 0, 39, 64, 1);
    set_ev(1, 1, 40, 64, 1);
    set_ev(2, 2, 87, 64, 1);
    set_ev(3, 3, 88, 64, 1);
    set_ev(4, 4, 64, 39, 1);
    e = events(5);
    o.space = LT_BINSP_CROP;
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(at(&o, 0, 1, 24, 0) == 1 && at(&o, 0, 1, 24, 47) == 1, "crop keeps 40 and 87 at 0 and 47");
    CHECK(total(&o) == 2, "crop drops x 39, x 88 and y 39 (total %zu)", total(&o));
    /* a target larger than the sensor pads: 4 -> 6 puts x 0 at 1 */
    set_ev(0, 0, 0, 0, 1);
    e = events(1);
    o = opts(1, 6, 6, 4, 4);
    o.space = LT_BINSP_CROP;
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK && at(&o, 0, 1, 1, 1) == 1, "crop pads a small sensor");
}

static void test_window(void)
{
    /* window 50: keeps dt 0 and 25; the bins then span the kept events: floor(25*4/26) = 3 */
    set_ev(0, 1000, 0, 0, 1);
    set_ev(1, 1025, 1, 0, 1);
    set_ev(2, 1050, 2, 0, 1);
    set_ev(3, 1099, 3, 0, 1);
    lt_events e = events(4);
    lt_bin_opts o = opts(4, 1, 4, 1, 4);
    o.window_us = 50;
    lt_err err;
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(at(&o, 0, 1, 0, 0) == 1 && at(&o, 3, 1, 0, 1) == 1 && total(&o) == 2, "window keeps t < t0 + 50");
    /* equal count inside the window: kept N = 2, T = 2 -> bins 0 and 1 */
    o = opts(2, 1, 4, 1, 4);
    o.window_us = 50;
    o.mode = LT_BIN_COUNT;
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(at(&o, 0, 1, 0, 0) == 1 && at(&o, 1, 1, 0, 1) == 1 && total(&o) == 2, "count bins over kept events");
}

static void test_errors_and_edges(void)
{
    lt_err err;
    lt_bin_opts o = opts(2, 4, 4, 128, 128);
    set_ev(0, 0, 5, 5, 1);
    set_ev(1, 1, 6, 6, 1);
    set_ev(2, 2, 128, 3, 0);
    lt_events e = events(3);
    memset(frames, 7, 64);
    lt_status st = lt_bin_events(frames, &e, &o, &err);
    CHECK(st == LT_ERR_FORMAT, "x = 128 on a 128-wide sensor is refused (status %d)", st);
    CHECK(strstr(err.msg, "event 2") && strstr(err.msg, "x=128"), "message names index and value: %s", err.msg);
    CHECK(frames[0] == 7 && frames[63] == 7, "frames untouched on error");
    set_ev(2, 2, 3, 200, 0);
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_ERR_FORMAT && strstr(err.msg, "y=200"), "y out of range: %s",
          err.msg);

    /* empty list: all-zero frames */
    memset(frames, 9, 64);
    e = events(0);
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK && total(&o) == 0, "empty list gives zero frames");

    /* bad options */
    o.T = 0;
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_ERR_ARG, "T = 0 refused");
    o = opts(2, 4, 4, 0, 128);
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_ERR_ARG, "sensor height 0 refused");
    o = opts(2, 4, 4, 4, 4);
    o.window_us = -1;
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_ERR_ARG, "negative window refused");

    /* extreme timestamps: span 2^64 - 1 needs 128-bit products; bins 0, 1, 1 */
    set_ev(0, INT64_MIN, 0, 0, 1);
    set_ev(1, 0, 1, 0, 1);
    set_ev(2, INT64_MAX, 2, 0, 1);
    e = events(3);
    o = opts(2, 1, 3, 1, 3);
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(at(&o, 0, 1, 0, 0) == 1 && at(&o, 1, 1, 0, 1) == 1 && at(&o, 1, 1, 0, 2) == 1, "extreme times bin");
    /* (t - t0) * T overflowing 64 bits with a large T: span 2^62, T = 8 */
    set_ev(0, 0, 0, 0, 1);
    set_ev(1, (int64_t)1 << 61, 1, 0, 1);
    set_ev(2, (int64_t)1 << 62, 2, 0, 1);
    o = opts(8, 1, 3, 1, 3);
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(at(&o, 0, 1, 0, 0) == 1 && at(&o, 3, 1, 0, 1) == 1 && at(&o, 7, 1, 0, 2) == 1,
          "2^61 of 2^62+1 -> bin 3, 2^62 -> bin 7");

    /* unsorted input bins by time as the sorted list does */
    for (int j = 0; j < 6; j++)
        set_ev((size_t)j, 500 - 100 * j, j, 0, j & 1);
    e = events(6);
    o = opts(3, 1, 6, 1, 6);
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK, "%s", err.msg);
    memcpy(ref, frames, 36);
    for (int j = 0; j < 6; j++)
        set_ev((size_t)j, 100 * j, 5 - j, 0, (5 - j) & 1);
    CHECK(lt_bin_events(frames, &e, &o, &err) == LT_OK && !memcmp(ref, frames, 36), "unsorted == sorted");
}

/* The reference: each event on its own, straight from METHOD.md §6. */
static void reference(uint8_t *out, size_t n, const lt_bin_opts *o)
{
    memset(out, 0, (size_t)o->T * 2 * (size_t)o->H * (size_t)o->W);
    int64_t t0 = g_t[0], t1 = g_t[0];
    for (size_t j = 0; j < n; j++) {
        if (g_t[j] < t0)
            t0 = g_t[j];
    }
    size_t kept = 0;
    for (size_t j = 0; j < n; j++)
        if (!o->window_us || g_t[j] < t0 + o->window_us) {
            kept++;
            if (g_t[j] > t1)
                t1 = g_t[j];
        }
    size_t jk = 0;
    for (size_t j = 0; j < n; j++) {
        if (o->window_us && g_t[j] >= t0 + o->window_us)
            continue;
        int64_t bin = o->mode == LT_BIN_TIME ? (g_t[j] - t0) * o->T / (t1 - t0 + 1) : (int64_t)(jk * o->T / kept);
        jk++;
        int x, y;
        if (o->space == LT_BINSP_SCALE) {
            x = g_x[j] * o->W / o->in_w;
            y = g_y[j] * o->H / o->in_h;
        } else {
            x = g_x[j] - (o->in_w - o->W) / 2;
            y = g_y[j] - (o->in_h - o->H) / 2;
            if (x < 0 || x >= o->W || y < 0 || y >= o->H)
                continue;
        }
        uint8_t *px = &out[((bin * 2 + (g_p[j] ? 1 : 0)) * o->H + y) * o->W + x];
        if (o->value == LT_BINVAL_BINARY)
            *px = 1;
        else if (*px < 255)
            (*px)++;
    }
}

static void test_random_against_reference(void)
{
    lt_rng r;
    lt_rng_seed(&r, 7);
    int mismatches = 0;
    for (int trial = 0; trial < 200; trial++) {
        lt_bin_opts o = opts(1 + (int)lt_rng_below(&r, 12), 1 + (int)lt_rng_below(&r, 40),
                             1 + (int)lt_rng_below(&r, 40), 1 + (int)lt_rng_below(&r, 130),
                             1 + (int)lt_rng_below(&r, 130));
        o.mode = lt_rng_below(&r, 2) ? LT_BIN_COUNT : LT_BIN_TIME;
        o.value = lt_rng_below(&r, 2) ? LT_BINVAL_COUNT : LT_BINVAL_BINARY;
        o.space = lt_rng_below(&r, 2) ? LT_BINSP_CROP : LT_BINSP_SCALE;
        o.window_us = lt_rng_below(&r, 3) ? 0 : 1 + lt_rng_below(&r, 100000);
        /* short and long lists, dense and sparse in time: small spans put events on bin edges */
        size_t n = 1 + lt_rng_below(&r, lt_rng_below(&r, 2) ? 40 : MAXEV);
        uint32_t step = lt_rng_below(&r, 2) ? 3 : 200;
        int64_t t = (int64_t)lt_rng_below(&r, 1000000);
        for (size_t j = 0; j < n; j++) {
            t += lt_rng_below(&r, 4) ? (int64_t)lt_rng_below(&r, step) : 0;
            set_ev(j, t, (int)lt_rng_below(&r, (uint32_t)o.in_w), (int)lt_rng_below(&r, (uint32_t)o.in_h),
                   (int)lt_rng_below(&r, 2));
        }
        lt_events e = events(n);
        lt_err err;
        if (lt_bin_events(frames, &e, &o, &err) != LT_OK) {
            mismatches++;
            continue;
        }
        reference(ref, n, &o);
        if (memcmp(frames, ref, (size_t)o.T * 2 * (size_t)o.H * (size_t)o.W))
            mismatches++;
    }
    CHECK(mismatches == 0, "%d of 200 random cases differ from the reference", mismatches);
}

int main(void)
{
    check_begin("test_binner");
    test_equal_time();
    test_equal_count();
    test_values_and_saturation();
    test_scale_and_crop();
    test_window();
    test_errors_and_edges();
    test_random_against_reference();
    return check_done();
}
