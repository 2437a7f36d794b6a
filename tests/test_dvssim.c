/* test_dvssim.c -- the DVS simulator on hand-made intensity sequences:
 * a step of exactly k thresholds gives k events at interpolated times, the
 * refractory period suppresses, a still scene is silent without noise,
 * background and hot-pixel rates, sorted output, determinism per seed, and
 * refused arguments. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ltsnn.h"

static lt_dvs_opts ideal(void)
{
    lt_dvs_opts o;
    lt_dvs_opts_default(&o);
    o.c_sigma = 0;
    o.noise_hz = 0;
    o.refractory_us = 0;
    o.hot_frac = 0;
    return o;
}

/* Intensity whose log level is k thresholds above (or below) that of I0. */
static float stepped(float I0, float eps, double k, double C)
{
    return (float)((I0 + eps) * exp(k * C) - eps);
}

static void test_k_thresholds(void)
{
    lt_dvs_opts o = ideal();
    const double C = o.c_on;
    for (int k = 1; k <= 6; k++) {
        for (int dir = 1; dir >= -1; dir -= 2) {
            /* 3x3 sensor, only the centre pixel changes */
            float f[2][9];
            for (int i = 0; i < 9; i++)
                f[0][i] = f[1][i] = 0.3f;
            f[1][4] = stepped(0.3f, o.eps, dir * k, C);
            int64_t ts[2] = {1000, 2000};
            lt_events ev = {0};
            lt_err err;
            lt_status st = lt_dvs_simulate(&ev, &f[0][0], ts, 2, 3, 3, &o, &err);
            CHECK(st == LT_OK, "k=%d: %s", k, err.msg);
            CHECK(ev.n == (size_t)k, "k=%d dir=%d: %zu events", k, dir, ev.n);
            for (size_t j = 0; j < ev.n; j++) {
                CHECK(ev.x[j] == 1 && ev.y[j] == 1, "event %zu at (%d,%d)", j, ev.x[j], ev.y[j]);
                CHECK(ev.p[j] == (dir > 0), "k=%d event %zu polarity %d", k, j, ev.p[j]);
                /* L moves linearly, so crossing j+1 of k lies at (j+1)/k of the interval */
                int64_t want = 1000 + (int64_t)llround(1000.0 * (double)(j + 1) / k);
                CHECK(llabs(ev.t[j] - want) <= 1, "k=%d event %zu at %lld us, want %lld", k, j, (long long)ev.t[j],
                      (long long)want);
            }
            lt_events_free(&ev);
        }
    }
    /* just short of k thresholds: k - 1 events */
    {
        float f[2] = {0.3f, stepped(0.3f, o.eps, 2.7, C)};
        int64_t ts[2] = {0, 100};
        lt_events ev = {0};
        lt_err err;
        CHECK(lt_dvs_simulate(&ev, f, ts, 2, 1, 1, &o, &err) == LT_OK, "%s", err.msg);
        CHECK(ev.n == 2, "2.7 thresholds: %zu events, want 2", ev.n);
        lt_events_free(&ev);
    }
    /* a change split over two frame intervals: the reference carries over */
    {
        float f[3] = {0.3f, stepped(0.3f, o.eps, 1.5, C), stepped(0.3f, o.eps, 3.0, C)};
        int64_t ts[3] = {0, 100, 200};
        lt_events ev = {0};
        lt_err err;
        CHECK(lt_dvs_simulate(&ev, f, ts, 3, 1, 1, &o, &err) == LT_OK, "%s", err.msg);
        CHECK(ev.n == 3, "1.5 + 1.5 thresholds: %zu events, want 3", ev.n);
        if (ev.n == 3)
            CHECK(ev.t[0] > 0 && ev.t[0] <= 100 && ev.t[1] > 100 && ev.t[2] == 200, "times %lld %lld %lld",
                  (long long)ev.t[0], (long long)ev.t[1], (long long)ev.t[2]);
        lt_events_free(&ev);
    }
}

static void test_refractory(void)
{
    lt_dvs_opts o = ideal();
    const double C = o.c_on;
    /* 5 thresholds over 1000 us: crossings every 200 us */
    float f[3] = {0.3f, stepped(0.3f, o.eps, 5, C), stepped(0.3f, o.eps, 5, C)};
    int64_t ts[3] = {0, 1000, 2000};
    lt_events ev = {0};
    lt_err err;
    CHECK(lt_dvs_simulate(&ev, f, ts, 3, 1, 1, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(ev.n == 5, "no refractory: %zu events, want 5", ev.n);
    lt_events_free(&ev);
    /* refractory 300 us: an event at 200, blind to 500 (the reference follows
     * L there), the next threshold above L(500) is reached at 700, blind to
     * 1000 = end of the change: 2 events, and nothing later */
    o.refractory_us = 300;
    CHECK(lt_dvs_simulate(&ev, f, ts, 3, 1, 1, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(ev.n == 2, "refractory 300 us: %zu events, want 2", ev.n);
    if (ev.n == 2)
        CHECK(llabs(ev.t[0] - 200) <= 1 && llabs(ev.t[1] - 700) <= 1, "times %lld %lld", (long long)ev.t[0],
              (long long)ev.t[1]);
    lt_events_free(&ev);
    /* a refractory period longer than the interval: one event; the pixel is
     * still blind at the start of the next interval */
    o.refractory_us = 1500;
    float g[3] = {0.3f, stepped(0.3f, o.eps, 5, C), stepped(0.3f, o.eps, 10, C)};
    CHECK(lt_dvs_simulate(&ev, g, ts, 3, 1, 1, &o, &err) == LT_OK, "%s", err.msg);
    /* second interval: blind until 1700, L(1700) is 8.5 thresholds up, the
     * next event when L reaches 9.5 at 1900 */
    CHECK(ev.n == 2, "refractory 1500 us: %zu events, want 2", ev.n);
    if (ev.n == 2)
        CHECK(llabs(ev.t[0] - 200) <= 1 && llabs(ev.t[1] - 1900) <= 1, "times %lld %lld", (long long)ev.t[0],
              (long long)ev.t[1]);
    lt_events_free(&ev);
}

static void fill_random(float *img, size_t n, uint64_t seed)
{
    lt_rng r;
    lt_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        img[i] = (float)lt_rng_uniform(&r);
}

static void test_still_and_noise(void)
{
    enum { W = 32, H = 32, N = W * H };
    static float img[N];
    fill_random(img, N, 5);
    lt_dvs_opts o = ideal();
    o.c_sigma = 0.05f; /* mismatch alone makes no events */
    lt_dvs s;
    lt_err err;
    CHECK(lt_dvs_init(&s, W, H, &o, &err) == LT_OK, "%s", err.msg);
    lt_events ev = {0};
    lt_dvs_start(&s, img, 0);
    for (int f = 1; f <= 50; f++)
        CHECK(lt_dvs_step(&s, &ev, img, f * 1000, &err) == LT_OK, "%s", err.msg);
    CHECK(ev.n == 0, "still scene: %zu events", ev.n);

    /* background activity: 10 Hz per pixel for 1 s on 1024 pixels */
    o.noise_hz = 10;
    CHECK(lt_dvs_reconfigure(&s, &o, &err) == LT_OK, "%s", err.msg);
    lt_events_clear(&ev);
    lt_dvs_start(&s, img, 0);
    for (int f = 1; f <= 100; f++)
        lt_dvs_step(&s, &ev, img, f * 10000, &err);
    CHECK(fabs((double)ev.n - 10240.0) < 500, "noise: %zu events, want about 10240", ev.n);
    size_t on = 0;
    for (size_t i = 0; i < ev.n; i++)
        on += ev.p[i];
    CHECK(fabs((double)on / (double)ev.n - 0.5) < 0.03, "noise ON fraction %g", (double)on / (double)ev.n);

    /* two hot pixels at 1000 Hz on top */
    o.noise_hz = 0;
    o.hot_frac = 2.0f / N;
    o.hot_hz = 1000;
    CHECK(lt_dvs_reconfigure(&s, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(s.n_hot == 2, "%zu hot pixels", s.n_hot);
    lt_events_clear(&ev);
    lt_dvs_start(&s, img, 0);
    for (int f = 1; f <= 100; f++)
        lt_dvs_step(&s, &ev, img, f * 10000, &err);
    CHECK(fabs((double)ev.n - 2000.0) < 200, "hot pixels: %zu events, want about 2000", ev.n);
    size_t at_hot = 0;
    for (size_t i = 0; i < ev.n; i++) {
        uint32_t pix = (uint32_t)ev.y[i] * W + ev.x[i];
        at_hot += pix == s.hot[0] || pix == s.hot[1];
    }
    CHECK(at_hot == ev.n, "%zu of %zu events at the hot pixels", at_hot, ev.n);
    lt_events_free(&ev);
    lt_dvs_free(&s);
}

/* A bright bar sweeping across a 24x16 sensor, noise on: returns the events. */
static void sweep(lt_events *ev, uint64_t seed)
{
    enum { W = 24, H = 16, F = 40 };
    static float frames[F][H * W];
    static int64_t ts[F];
    for (int f = 0; f < F; f++) {
        ts[f] = 500 + 250 * f;
        float cx = 2.0f + 20.0f * (float)f / (F - 1);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                float d = fabsf((float)x + 0.5f - cx);
                frames[f][y * W + x] = d < 2 ? 0.9f : d < 3 ? 0.9f - 0.7f * (d - 2) : 0.2f;
            }
    }
    lt_dvs_opts o;
    lt_dvs_opts_default(&o);
    o.noise_hz = 20;
    o.hot_frac = 0.01f;
    o.refractory_us = 100;
    o.seed = seed;
    lt_err err;
    CHECK(lt_dvs_simulate(ev, &frames[0][0], ts, F, W, H, &o, &err) == LT_OK, "%s", err.msg);
}

static int same_events(const lt_events *a, const lt_events *b)
{
    if (a->n != b->n)
        return 0;
    return !memcmp(a->t, b->t, a->n * sizeof *a->t) && !memcmp(a->x, b->x, a->n * sizeof *a->x) &&
           !memcmp(a->y, b->y, a->n * sizeof *a->y) && !memcmp(a->p, b->p, a->n);
}

static void test_sweep_sorted_deterministic(void)
{
    lt_events a = {0}, b = {0}, c = {0};
    sweep(&a, 11);
    sweep(&b, 11);
    sweep(&c, 12);
    CHECK(a.n > 100, "sweep: only %zu events", a.n);
    CHECK(same_events(&a, &b), "same seed, different events (%zu vs %zu)", a.n, b.n);
    CHECK(!same_events(&a, &c), "different seeds, identical events");
    int sorted = 1, in_range = 1;
    size_t on_ahead = 0, on = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (i && a.t[i] < a.t[i - 1])
            sorted = 0;
        if (a.t[i] < 500 || a.t[i] > 500 + 250 * 39 || a.x[i] >= 24 || a.y[i] >= 16 || a.p[i] > 1)
            in_range = 0;
    }
    CHECK(sorted, "events not sorted by t");
    CHECK(in_range, "an event out of the time range or the sensor");
    /* the bar is bright: ON events lead (are right of) the bar centre */
    for (size_t i = 0; i < a.n; i++) {
        float cx = 2.0f + 20.0f * (float)(a.t[i] - 500) / (250.0f * 39);
        if (a.p[i]) {
            on++;
            on_ahead += (float)a.x[i] + 0.5f > cx;
        }
    }
    CHECK(on > 50 && on_ahead > 0.8 * on, "ON events ahead of a bright bar: %zu of %zu", on_ahead, on);
    lt_events_free(&a);
    lt_events_free(&b);
    lt_events_free(&c);
}

static void test_errors(void)
{
    lt_dvs_opts o = ideal();
    lt_dvs s;
    lt_err err;
    float img[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    lt_events ev = {0};
    CHECK(lt_dvs_init(&s, 0, 4, &o, &err) == LT_ERR_ARG, "0-wide sensor accepted");
    o.c_on = 0;
    CHECK(lt_dvs_init(&s, 2, 2, &o, &err) == LT_ERR_ARG, "zero threshold accepted");
    CHECK(strstr(err.msg, "threshold") != NULL, "message: %s", err.msg);
    o = ideal();
    o.hot_frac = 2;
    CHECK(lt_dvs_init(&s, 2, 2, &o, &err) == LT_ERR_ARG, "hot fraction 2 accepted");
    o = ideal();
    CHECK(lt_dvs_init(&s, 2, 2, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_dvs_step(&s, &ev, img, 10, &err) == LT_ERR_ARG, "step before start accepted");
    lt_dvs_start(&s, img, 10);
    CHECK(lt_dvs_step(&s, &ev, img, 10, &err) == LT_ERR_ARG, "equal timestamps accepted");
    CHECK(strstr(err.msg, "10") != NULL, "message: %s", err.msg);
    CHECK(lt_dvs_step(&s, &ev, img, 5, &err) == LT_ERR_ARG, "time going back accepted");
    CHECK(lt_dvs_step(&s, &ev, img, 20, &err) == LT_OK, "%s", err.msg);
    lt_dvs_free(&s);
    lt_events_free(&ev);
}

int main(void)
{
    check_begin("test_dvssim");
    test_k_thresholds();
    test_refractory();
    test_still_and_noise();
    test_sweep_sorted_deterministic();
    test_errors();
    return check_done();
}
