/* demo.c -- the built-in demo data: synthetic event-camera samples whose
 * class is the sense of a motion.
 *
 * Each sample is a scene rendered in log intensity (a static weakly textured
 * background and one textured object in motion), run through the DVS
 * simulator (dvssim.c) with noise, and binned into binary frames by the
 * same binner real recordings use.  The classes come in pairs that are each
 * other's time reverse (right/left, down/up, cw/ccw, expand/contract,
 * down-right/up-left), and the object's contrast sign is random, so the
 * per-pixel event counts summed over time say little about the sense of the
 * motion: reversing time swaps ON and OFF, and so does flipping the
 * contrast.  A model has to use the order of the frames.  The generator is
 * for demos, smoke tests and benchmarks of the training loop; it does not
 * imitate any real dataset.  docs/data.md gives the numbers. */
#include "ltsnn/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI_F 3.14159265358979f
#define TEX 8 /* texture grid side (periodic value noise) */

static const char *const demo_names[LT_DEMO_CLASSES] = {
    "right", "left", "down", "up", "cw", "ccw", "expand", "contract", "down-right", "up-left",
};

const char *lt_demo_class_name(int k)
{
    return k >= 0 && k < LT_DEMO_CLASSES ? demo_names[k] : NULL;
}

void lt_demo_opts_default(lt_demo_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n = 5000;
    o->T = 10;
    o->H = 32;
    o->W = 32;
    o->seed = 1;
}

void lt_demo_opts_split(lt_demo_opts *o, int train)
{
    lt_demo_opts_default(o);
    if (!train) {
        o->n = 1000;
        o->seed = 2;
    }
}

enum shape { SH_ELLIPSE = 0, SH_RECT, SH_BAR, SH_CROSS, SH_DISC, SH_RING };

/* Everything random about one sample. */
typedef struct scene {
    int cls;
    float tex[TEX][TEX], cell, tu, tv; /* object texture, cell size (px), offset */
    float level, amp;                  /* object log level = level + amp * (0.35 + 0.65 tex) */
    enum shape shape;
    float a, b;                        /* half sizes in object units */
    float cx0, cy0, cx1, cy1;          /* centre at the start and end of the motion */
    float phi0, phi1;                  /* orientation */
    float k0, k1;                      /* zoom (object unit -> pixels) */
    float ts, te;                      /* motion runs over [ts, te] of the duration */
    lt_dvs_opts dvs;
} scene;

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static float unif(lt_rng *r, float lo, float hi) { return lt_rng_uniformf(r, lo, hi); }

static float texture(const float g[TEX][TEX], float u, float v)
{
    float fu = floorf(u), fv = floorf(v);
    float du = u - fu, dv = v - fv;
    int i0 = ((int)fu % TEX + TEX) % TEX, j0 = ((int)fv % TEX + TEX) % TEX;
    int i1 = (i0 + 1) % TEX, j1 = (j0 + 1) % TEX;
    return (1 - dv) * ((1 - du) * g[j0][i0] + du * g[j0][i1]) + dv * ((1 - du) * g[j1][i0] + du * g[j1][i1]);
}

/* Draws a sample's scene.  The pair partner of a class is drawn from the
 * same distribution with the start and end of the motion swapped. */
static void scene_draw(scene *sc, lt_rng *r, int cls, int H, int W)
{
    float g = (float)(H < W ? H : W) / 32.0f;
    memset(sc, 0, sizeof *sc);
    sc->cls = cls;
    for (int j = 0; j < TEX; j++)
        for (int i = 0; i < TEX; i++)
            sc->tex[j][i] = (float)lt_rng_uniform(r);
    sc->cell = unif(r, 1.5f, 3.0f) * g;
    sc->tu = unif(r, 0, TEX);
    sc->tv = unif(r, 0, TEX);
    float sign = (lt_rng_u64(r) >> 63) ? 1.0f : -1.0f;
    sc->amp = sign * unif(r, 0.8f, 1.6f);
    sc->level = 0;
    /* time warp: symmetric under t -> 1 - t */
    sc->ts = unif(r, 0.0f, 0.2f);
    sc->te = unif(r, 0.8f, 1.0f);
    float mx = unif(r, 0.3f, 0.7f) * (float)W, my = unif(r, 0.3f, 0.7f) * (float)H;
    float p0x = mx, p0y = my, p1x = mx, p1y = my, phi0 = unif(r, 0, 2 * PI_F), phi1 = phi0, k0 = 1, k1 = 1;
    int pair = cls / 2;
    if (pair == 0 || pair == 1 || pair == 4) {
        /* translation of a textured ellipse or rectangle */
        float dx = pair == 0 ? 1.0f : pair == 1 ? 0.0f : 0.70710678f;
        float dy = pair == 0 ? 0.0f : pair == 1 ? 1.0f : 0.70710678f;
        float dist = unif(r, 10.0f, 18.0f) * g;
        p0x = mx - 0.5f * dist * dx;
        p0y = my - 0.5f * dist * dy;
        p1x = mx + 0.5f * dist * dx;
        p1y = my + 0.5f * dist * dy;
        sc->shape = lt_rng_below(r, 2) ? SH_RECT : SH_ELLIPSE;
        sc->a = unif(r, 3.0f, 6.5f) * g;
        sc->b = unif(r, 3.0f, 6.5f) * g;
    } else if (pair == 2) {
        /* a textured bar or cross spinning about its centre; with y down,
         * a growing angle turns clockwise on screen */
        float turn = unif(r, 0.5f * PI_F, 1.0f * PI_F);
        phi1 = phi0 + turn;
        sc->shape = lt_rng_below(r, 3) ? SH_BAR : SH_CROSS;
        sc->a = unif(r, 7.0f, 12.0f) * g;
        sc->b = unif(r, 1.5f, 3.0f) * g;
    } else {
        /* a textured disc, square or ring zooming in; the texture zooms with it */
        float rs = unif(r, 2.0f, 4.0f) * g, rb = unif(r, 8.0f, 12.0f) * g;
        int kind = (int)lt_rng_below(r, 3);
        sc->shape = kind == 0 ? SH_DISC : kind == 1 ? SH_RECT : SH_RING;
        sc->a = sc->b = 6.0f * g;
        k0 = rs / sc->a;
        k1 = rb / sc->a;
    }
    if (cls % 2) {
        float t;
        t = p0x, p0x = p1x, p1x = t;
        t = p0y, p0y = p1y, p1y = t;
        t = phi0, phi0 = phi1, phi1 = t;
        t = k0, k0 = k1, k1 = t;
    }
    sc->cx0 = p0x, sc->cy0 = p0y, sc->cx1 = p1x, sc->cy1 = p1y;
    sc->phi0 = phi0, sc->phi1 = phi1, sc->k0 = k0, sc->k1 = k1;

    /* a different sensor for each sample */
    lt_dvs_opts_default(&sc->dvs);
    sc->dvs.c_on = unif(r, 0.15f, 0.3f);
    sc->dvs.c_off = sc->dvs.c_on * unif(r, 0.8f, 1.25f);
    sc->dvs.c_sigma = 0.03f;
    sc->dvs.refractory_us = 500;
    sc->dvs.noise_hz = unif(r, 0.5f, 3.0f);
    sc->dvs.hot_frac = (float)lt_rng_below(r, 4) / (float)((size_t)H * (size_t)W);
    sc->dvs.hot_hz = unif(r, 100.0f, 1000.0f);
    sc->dvs.seed = lt_rng_u64(r);
}

/* Signed distance (pixels, negative inside) of object point (u, v) to the
 * shape's edge, the shape scaled by k. */
static float shape_dist(const scene *sc, float u, float v, float k)
{
    float au = fabsf(u), av = fabsf(v);
    switch (sc->shape) {
    case SH_ELLIPSE: {
        float m = sc->a < sc->b ? sc->a : sc->b;
        return (sqrtf((u / sc->a) * (u / sc->a) + (v / sc->b) * (v / sc->b)) - 1.0f) * m * k;
    }
    case SH_RECT:
    case SH_BAR:
        return fmaxf(au - sc->a, av - sc->b) * k;
    case SH_CROSS:
        return fminf(fmaxf(au - sc->a, av - sc->b), fmaxf(av - sc->a, au - sc->b)) * k;
    case SH_DISC:
        return (sqrtf(u * u + v * v) - sc->a) * k;
    case SH_RING: {
        float rr = sqrtf(u * u + v * v);
        return fmaxf(rr - sc->a, 0.55f * sc->a - rr) * k;
    }
    }
    return 1;
}

/* Log intensity of the scene at time fraction t in [0, 1] into L[H, W];
 * bg[H, W] is the static background. */
static void scene_render(float *L, const float *bg, const scene *sc, float t, int H, int W)
{
    float tau = (t - sc->ts) / (sc->te - sc->ts);
    tau = tau < 0 ? 0 : tau > 1 ? 1 : tau;
    float cx = sc->cx0 + tau * (sc->cx1 - sc->cx0), cy = sc->cy0 + tau * (sc->cy1 - sc->cy0);
    float phi = sc->phi0 + tau * (sc->phi1 - sc->phi0);
    /* zoom moves geometrically so that expanding and contracting look alike in speed */
    float k = sc->k0 * powf(sc->k1 / sc->k0, tau);
    float c = cosf(phi), s = sinf(phi), ik = 1.0f / k, icell = 1.0f / sc->cell;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            float px = (float)x + 0.5f - cx, py = (float)y + 0.5f - cy;
            float u = (c * px + s * py) * ik, v = (-s * px + c * py) * ik;
            float d = shape_dist(sc, u, v, k);
            float m = 0.5f - d; /* one-pixel antialiased edge */
            m = m < 0 ? 0 : m > 1 ? 1 : m;
            float out = bg[y * W + x];
            if (m > 0) {
                float tx = texture(sc->tex, u * icell + sc->tu, v * icell + sc->tv);
                float obj = sc->level + sc->amp * (0.35f + 0.65f * tx);
                out = (1 - m) * out + m * obj;
            }
            L[y * W + x] = out;
        }
    }
}

static void background_draw(float *bg, lt_rng *r, int H, int W)
{
    float g[TEX][TEX];
    for (int j = 0; j < TEX; j++)
        for (int i = 0; i < TEX; i++)
            g[j][i] = (float)lt_rng_uniform(r);
    float amp = unif(r, 0.0f, 0.4f), icell = 1.0f / unif(r, 2.0f, 5.0f);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            bg[y * W + x] = amp * (texture(g, (float)x * icell, (float)y * icell) - 0.5f);
}

/* Per-thread scratch. */
typedef struct demo_work {
    float *bg, *L;    /* [H, W] */
    uint8_t *frames;  /* [T, 2, H, W] */
    lt_dvs dvs;
    lt_events ev;
} demo_work;

static int frames_for(int T) { return 4 * T > 40 ? 4 * T : 40; }

static lt_status check_opts(const lt_demo_opts *o, lt_err *err)
{
    if (o->T < 1 || o->T > 1000)
        return lt_err_set(err, LT_ERR_ARG, "demo: T = %d: expected 1..1000", o->T);
    if (o->H < 8 || o->W < 8 || o->H > 1024 || o->W > 1024)
        return lt_err_set(err, LT_ERR_ARG, "demo: frame size %dx%d: expected 8..1024 on each side", o->H, o->W);
    return LT_OK;
}

/* One sample's events into w->ev (cleared first). */
static lt_status sample_events(demo_work *w, int32_t *label, const lt_demo_opts *o, size_t i, lt_err *err)
{
    lt_rng r;
    lt_rng_seed(&r, mix64(o->seed ^ mix64((uint64_t)i + 0x5151)));
    int cls = (int)(i % LT_DEMO_CLASSES);
    scene sc;
    scene_draw(&sc, &r, cls, o->H, o->W);
    background_draw(w->bg, &r, o->H, o->W);
    lt_status st = lt_dvs_reconfigure(&w->dvs, &sc.dvs, err);
    if (st)
        return st;
    w->ev.n = 0;
    int F = frames_for(o->T);
    scene_render(w->L, w->bg, &sc, 0.0f, o->H, o->W);
    lt_dvs_start_log(&w->dvs, w->L, 0);
    for (int f = 1; f <= F; f++) {
        int64_t t = (int64_t)LT_DEMO_DURATION_US * f / F;
        scene_render(w->L, w->bg, &sc, (float)f / (float)F, o->H, o->W);
        st = lt_dvs_step_log(&w->dvs, &w->ev, w->L, t, err);
        if (st)
            return st;
    }
    *label = cls;
    return LT_OK;
}

static void work_free(demo_work *w)
{
    free(w->bg);
    free(w->L);
    free(w->frames);
    lt_dvs_free(&w->dvs);
    lt_events_free(&w->ev);
    memset(w, 0, sizeof *w);
}

static lt_status work_init(demo_work *w, const lt_demo_opts *o, int with_frames, lt_err *err)
{
    memset(w, 0, sizeof *w);
    size_t np = (size_t)o->H * (size_t)o->W;
    w->bg = malloc(np * sizeof *w->bg);
    w->L = malloc(np * sizeof *w->L);
    if (with_frames)
        w->frames = malloc((size_t)o->T * 2 * np);
    if (!w->bg || !w->L || (with_frames && !w->frames)) {
        work_free(w);
        return lt_err_set(err, LT_ERR_NOMEM, "demo: out of memory for the scratch of a %dx%d sample", o->H, o->W);
    }
    lt_dvs_opts d;
    lt_dvs_opts_default(&d);
    lt_status st = lt_dvs_init(&w->dvs, o->W, o->H, &d, err);
    if (st)
        work_free(w);
    return st;
}

lt_status lt_demo_events(lt_events *out, int32_t *label, const lt_demo_opts *o, size_t i, lt_err *err)
{
    lt_status st = check_opts(o, err);
    if (st)
        return st;
    demo_work w;
    st = work_init(&w, o, 0, err);
    if (st)
        return st;
    st = sample_events(&w, label, o, i, err);
    for (size_t k = 0; k < w.ev.n && !st; k++)
        st = lt_events_push(out, w.ev.t[k], w.ev.x[k], w.ev.y[k], w.ev.p[k], err);
    work_free(&w);
    return st;
}

lt_status lt_demo_make(lt_dataset *d, const lt_demo_opts *o, lt_err *err)
{
    memset(d, 0, sizeof *d);
    lt_status st = check_opts(o, err);
    if (st)
        return st;
    if (o->n == 0)
        return lt_err_set(err, LT_ERR_ARG, "demo: n = 0 samples: expected at least 1");
    st = lt_dataset_alloc(d, o->n, o->T, 2, o->H, o->W, LT_DEMO_CLASSES, 1, 1.0f, err);
    if (st)
        return st;
    st = lt_dataset_set_class_names(d, demo_names, err);
    if (st)
        goto fail_dataset;
    snprintf(d->name, sizeof d->name, "demo");
    snprintf(d->opts, sizeof d->opts,
             "demo n=%zu T=%d H=%d W=%d seed=%llu; bin: equal time, binary, sensor %dx%d", o->n, o->T, o->H,
             o->W, (unsigned long long)o->seed, o->W, o->H);

    uint8_t *data = (uint8_t *)d->data;
    int32_t *labels = (int32_t *)d->labels;
    size_t nel = (size_t)o->T * 2 * (size_t)o->H * (size_t)o->W, sb = d->sample_bytes;
    lt_bin_opts bo;
    memset(&bo, 0, sizeof bo);
    bo.T = o->T;
    bo.H = o->H;
    bo.W = o->W;
    bo.in_h = o->H;
    bo.in_w = o->W;
    bo.mode = LT_BIN_TIME;
    bo.value = LT_BINVAL_BINARY;
    bo.space = LT_BINSP_SCALE;

    /* the first failure by sample index wins, so the message does not depend on threads */
    size_t fail_at = (size_t)-1;
    lt_err fail_err;
    fail_err.status = LT_OK;
    fail_err.msg[0] = 0;
#pragma omp parallel num_threads(lt_get_threads())
    {
        demo_work w;
        lt_err e;
        e.status = LT_OK;
        e.msg[0] = 0;
        lt_status ws = work_init(&w, o, 1, &e);
        size_t my_fail = (size_t)-1;
        if (ws)
            my_fail = 0;
#pragma omp for schedule(dynamic, 16)
        for (size_t i = 0; i < o->n; i++) {
            if (ws || i > my_fail)
                continue;
            lt_status s = sample_events(&w, &labels[i], o, i, &e);
            if (!s)
                s = lt_bin_events(w.frames, &w.ev, &bo, &e);
            if (s) {
                lt_err_prefix(&e, "demo sample %zu: ", i);
                my_fail = i;
                ws = s;
                continue;
            }
            lt_frames_pack(data + i * sb, w.frames, nel);
        }
        if (my_fail != (size_t)-1) {
#pragma omp critical(lt_demo_fail)
            if (my_fail < fail_at) {
                fail_at = my_fail;
                fail_err = e;
            }
        }
        work_free(&w);
    }
    if (fail_at != (size_t)-1) {
        if (err)
            *err = fail_err;
        st = fail_err.status ? fail_err.status : LT_ERR_NOMEM;
        goto fail_dataset;
    }
    return LT_OK;
fail_dataset:
    lt_dataset_free(d);
    return st;
}
