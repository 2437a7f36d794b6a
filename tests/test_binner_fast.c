/* test_binner_fast.c -- the fast binner (lt_bin_events) against the plain
 * per-event oracle (lt_bin_events_ref, src/events/binner.h) bit for bit:
 * random options and event lists (sorted, unsorted, with equal times, with
 * windows, sorted but for one pair, with polarity bytes other than 0/1, timestamps near the int64
 * limits so the 128-bit paths run), and the same error (status and
 * message) for an event outside the sensor. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "events/binner.h"
#include "ltsnn/data.h"

#define MAXEV 20000

static int64_t g_t[MAXEV];
static uint16_t g_x[MAXEV], g_y[MAXEV];
static uint8_t g_p[MAXEV];
static uint8_t fast[1 << 21], ref[1 << 21];

int main(void)
{
    check_begin("test_binner_fast");
    lt_rng r;
    lt_rng_seed(&r, 2024);
    int differ = 0, ok = 0;
    for (int trial = 0; trial < 600; trial++) {
        lt_bin_opts o;
        memset(&o, 0, sizeof o);
        o.T = 1 + (int)lt_rng_below(&r, trial % 7 == 0 ? 300 : 20);
        o.H = 1 + (int)lt_rng_below(&r, 48), o.W = 1 + (int)lt_rng_below(&r, 48);
        o.in_h = 1 + (int)lt_rng_below(&r, 300), o.in_w = 1 + (int)lt_rng_below(&r, 300);
        o.mode = lt_rng_below(&r, 2) ? LT_BIN_COUNT : LT_BIN_TIME;
        o.value = lt_rng_below(&r, 2) ? LT_BINVAL_COUNT : LT_BINVAL_BINARY;
        o.space = lt_rng_below(&r, 2) ? LT_BINSP_CROP : LT_BINSP_SCALE;
        o.window_us = lt_rng_below(&r, 3) ? 0 : 1 + lt_rng_below(&r, 50000);
        size_t n = lt_rng_below(&r, 4) ? lt_rng_below(&r, MAXEV) : lt_rng_below(&r, 30);
        /* 0 sorted, 1 unsorted, 2 sorted with jumps, 3 int64 extremes, 4 sorted but for one pair
         * (the fast binner speculates on the order and must start over when it meets that pair) */
        int kind = (int)lt_rng_below(&r, 5);
        int64_t t = kind == 3 ? INT64_MIN + (int64_t)lt_rng_below(&r, 1000) : (int64_t)lt_rng_below(&r, 1 << 30) - (1 << 29);
        for (size_t j = 0; j < n; j++) {
            if (kind == 1)
                t = (int64_t)lt_rng_below(&r, 200000);
            else if (kind == 3)
                t = lt_rng_below(&r, 2) ? INT64_MAX - (int64_t)lt_rng_below(&r, 1000) : INT64_MIN + (int64_t)lt_rng_below(&r, 1000);
            else
                t += lt_rng_below(&r, 3) ? (int64_t)lt_rng_below(&r, kind == 2 ? 100000 : 7) : 0;
            if (kind == 4 && j && lt_rng_below(&r, (uint32_t)n) == 0)
                g_t[j - 1] = t + 1 + (int64_t)lt_rng_below(&r, 50); /* this pair out of order */
            g_t[j] = t;
            g_x[j] = (uint16_t)lt_rng_below(&r, (uint32_t)o.in_w);
            g_y[j] = (uint16_t)lt_rng_below(&r, (uint32_t)o.in_h);
            g_p[j] = (uint8_t)(lt_rng_below(&r, 5) ? lt_rng_below(&r, 2) : lt_rng_below(&r, 256));
        }
        int bad = n && lt_rng_below(&r, 10) == 0;
        size_t bad_at = bad ? lt_rng_below(&r, (uint32_t)n) : 0;
        if (bad)
            g_x[bad_at] = (uint16_t)(o.in_w + (int)lt_rng_below(&r, 5));
        lt_events e = {g_t, g_x, g_y, g_p, n, MAXEV};
        size_t bytes = (size_t)o.T * 2 * (size_t)o.H * (size_t)o.W;
        memset(fast, 0xab, bytes), memset(ref, 0xcd, bytes);
        lt_err ef = {0}, er = {0};
        lt_status sf = lt_bin_events(fast, &e, &o, &ef), sr = lt_bin_events_ref(ref, &e, &o, &er);
        if (sf != sr || (sf && strcmp(ef.msg, er.msg)) || (!sf && memcmp(fast, ref, bytes))) {
            if (differ++ < 5)
                fprintf(stderr, "trial %d: T %d %dx%d from %dx%d mode %d value %d space %d window %lld n %zu kind %d: "
                        "status %d/%d %s | %s\n", trial, o.T, o.H, o.W, o.in_h, o.in_w, o.mode, o.value, o.space,
                        (long long)o.window_us, n, kind, sf, sr, ef.msg, er.msg);
        } else {
            ok++;
        }
    }
    CHECK(differ == 0, "%d of 600 cases: the fast binner differs from the reference", differ);
    CHECK(ok == 600, "%d cases compared", ok);
    return check_done();
}
