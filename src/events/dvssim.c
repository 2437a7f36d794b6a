/* dvssim.c -- a DVS (event-camera) simulator: intensity frames in, events out.
 *
 * The pixel model is the usual one for a dynamic vision sensor (Lichtsteiner
 * et al. 2008; the same idea as ESIM and v2e): each pixel memorises a
 * reference log intensity and fires ON/OFF when the current log intensity
 * departs from it by a contrast threshold.  Between two frames the log
 * intensity is taken to move linearly, so crossings get interpolated
 * timestamps.  It is for making event data from images (the demo data,
 * neuromorphic Fashion-MNIST); it is not a model of a particular camera's
 * analogue circuit (no bandwidth limit, no leak events).  synth.h states
 * the contract. */
#include "ltsnn/synth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DVS_MIN_THR 0.01f
/* Crossings within this of a threshold count, so that a change of exactly k
 * thresholds (up to float rounding of the images) gives k events. */
#define DVS_TOL 1e-5

void lt_dvs_opts_default(lt_dvs_opts *o)
{
    memset(o, 0, sizeof *o);
    o->c_on = 0.2f;
    o->c_off = 0.2f;
    o->c_sigma = 0.03f;
    o->eps = 0.01f;
    o->refractory_us = 0;
    o->noise_hz = 0.0;
    o->hot_frac = 0.0f;
    o->hot_hz = 200.0;
    o->seed = 1;
}

static lt_status check_opts(const lt_dvs_opts *o, int W, int H, lt_err *err)
{
    if (W <= 0 || H <= 0 || W > 65535 || H > 65535)
        return lt_err_set(err, LT_ERR_ARG, "dvs: sensor size %dx%d: expected 1..65535 on each side", W, H);
    if (!(o->c_on > 0) || !(o->c_off > 0) || !isfinite(o->c_on) || !isfinite(o->c_off))
        return lt_err_set(err, LT_ERR_ARG, "dvs: thresholds on %g off %g: expected positive", (double)o->c_on,
                          (double)o->c_off);
    if (!(o->c_sigma >= 0) || !isfinite(o->c_sigma))
        return lt_err_set(err, LT_ERR_ARG, "dvs: threshold mismatch %g: expected >= 0", (double)o->c_sigma);
    if (!(o->eps > 0) || !isfinite(o->eps))
        return lt_err_set(err, LT_ERR_ARG, "dvs: eps %g: expected > 0", (double)o->eps);
    if (o->refractory_us < 0)
        return lt_err_set(err, LT_ERR_ARG, "dvs: refractory %lld us: expected >= 0", (long long)o->refractory_us);
    if (!(o->noise_hz >= 0) || !isfinite(o->noise_hz) || !(o->hot_hz >= 0) || !isfinite(o->hot_hz))
        return lt_err_set(err, LT_ERR_ARG, "dvs: noise rates %g / %g Hz: expected >= 0", o->noise_hz, o->hot_hz);
    if (!(o->hot_frac >= 0 && o->hot_frac <= 1))
        return lt_err_set(err, LT_ERR_ARG, "dvs: hot pixel fraction %g: expected 0..1", (double)o->hot_frac);
    return LT_OK;
}

lt_status lt_dvs_init(lt_dvs *s, int W, int H, const lt_dvs_opts *o, lt_err *err)
{
    memset(s, 0, sizeof *s);
    lt_status st = check_opts(o, W, H, err);
    if (st)
        return st;
    size_t np = (size_t)W * (size_t)H;
    s->W = W;
    s->H = H;
    s->o = *o;
    s->ref = malloc(np * sizeof *s->ref);
    s->prev = malloc(np * sizeof *s->prev);
    s->cur = malloc(np * sizeof *s->cur);
    s->thr_on = malloc(np * sizeof *s->thr_on);
    s->thr_off = malloc(np * sizeof *s->thr_off);
    s->t_last = malloc(np * sizeof *s->t_last);
    s->hot = malloc(np * sizeof *s->hot);
    if (!s->ref || !s->prev || !s->cur || !s->thr_on || !s->thr_off || !s->t_last || !s->hot) {
        lt_dvs_free(s);
        return lt_err_set(err, LT_ERR_NOMEM, "dvs: out of memory for a %dx%d sensor", W, H);
    }
    lt_dvs_reset(s, o->seed);
    return LT_OK;
}

lt_status lt_dvs_reconfigure(lt_dvs *s, const lt_dvs_opts *o, lt_err *err)
{
    lt_status st = check_opts(o, s->W, s->H, err);
    if (st)
        return st;
    s->o = *o;
    lt_dvs_reset(s, o->seed);
    return LT_OK;
}

void lt_dvs_free(lt_dvs *s)
{
    free(s->ref);
    free(s->prev);
    free(s->cur);
    free(s->thr_on);
    free(s->thr_off);
    free(s->t_last);
    free(s->hot);
    free(s->buf);
    free(s->tmp);
    memset(s, 0, sizeof *s);
}

/* Exponential waiting time of a Poisson process of `rate` events per second, in us. */
static double exp_wait_us(lt_rng *r, double rate)
{
    double u = lt_rng_uniform(r);
    return -log1p(-u) * 1e6 / rate;
}

static double noise_rate(const lt_dvs *s)
{
    size_t np = (size_t)s->W * (size_t)s->H;
    return s->o.noise_hz * (double)np + s->o.hot_hz * (double)s->n_hot;
}

void lt_dvs_reset(lt_dvs *s, uint64_t seed)
{
    size_t np = (size_t)s->W * (size_t)s->H;
    s->o.seed = seed;
    lt_rng_seed(&s->rng, seed);
    for (size_t i = 0; i < np; i++) {
        float on = s->o.c_on, off = s->o.c_off;
        if (s->o.c_sigma > 0) {
            on += s->o.c_sigma * (float)lt_rng_normal(&s->rng);
            off += s->o.c_sigma * (float)lt_rng_normal(&s->rng);
        }
        s->thr_on[i] = on < DVS_MIN_THR ? DVS_MIN_THR : on;
        s->thr_off[i] = off < DVS_MIN_THR ? DVS_MIN_THR : off;
        s->t_last[i] = INT64_MIN / 2;
    }
    /* hot pixels: a partial Fisher-Yates draw of round(hot_frac * np) distinct pixels */
    s->n_hot = (size_t)llround((double)s->o.hot_frac * (double)np);
    if (s->n_hot) {
        for (size_t i = 0; i < np; i++)
            s->hot[i] = (uint32_t)i;
        for (size_t i = 0; i < s->n_hot; i++) {
            size_t j = i + lt_rng_below(&s->rng, (uint32_t)(np - i));
            uint32_t t = s->hot[i];
            s->hot[i] = s->hot[j];
            s->hot[j] = t;
        }
    }
    s->started = 0;
    s->buf_n = 0;
}

static void start_common(lt_dvs *s, int64_t t)
{
    size_t np = (size_t)s->W * (size_t)s->H;
    memcpy(s->ref, s->prev, np * sizeof *s->ref);
    for (size_t i = 0; i < np; i++)
        s->t_last[i] = INT64_MIN / 2;
    s->t_prev = t;
    s->started = 1;
    double rate = noise_rate(s);
    s->t_noise = rate > 0 ? (double)t + exp_wait_us(&s->rng, rate) : INFINITY;
}

static void to_log(float *dst, const float *img, size_t n, float eps)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = logf(img[i] + eps);
}

void lt_dvs_start(lt_dvs *s, const float *img, int64_t t)
{
    to_log(s->prev, img, (size_t)s->W * (size_t)s->H, s->o.eps);
    start_common(s, t);
}

void lt_dvs_start_log(lt_dvs *s, const float *logimg, int64_t t)
{
    memcpy(s->prev, logimg, (size_t)s->W * (size_t)s->H * sizeof *s->prev);
    start_common(s, t);
}

static int buf_push(lt_dvs *s, int64_t t, size_t pix, int p)
{
    if (s->buf_n == s->buf_cap) {
        size_t cap = s->buf_cap ? 2 * s->buf_cap : 1024;
        lt_dvs_event *b = realloc(s->buf, cap * sizeof *b);
        if (!b)
            return -1;
        s->buf = b;
        lt_dvs_event *m = realloc(s->tmp, cap * sizeof *m);
        if (!m)
            return -1;
        s->tmp = m;
        s->buf_cap = cap;
    }
    lt_dvs_event *e = &s->buf[s->buf_n++];
    e->t = t;
    e->x = (uint16_t)(pix % (size_t)s->W);
    e->y = (uint16_t)(pix / (size_t)s->W);
    e->p = (uint8_t)p;
    return 0;
}

/* One pixel over one frame interval [t0, t1] with L moving linearly from L0
 * to L1.  Returns -1 on allocation failure. */
static int pixel_step(lt_dvs *s, size_t i, double t0, double t1, double L0, double L1)
{
    double dt = t1 - t0, slope = (L1 - L0) / dt;
    double R = (double)s->o.refractory_us;
    double ref = s->ref[i], on = s->thr_on[i], off = s->thr_off[i];
    double a = t0; /* events before a are done */
    if (R > 0) {
        double rel = (double)s->t_last[i] + R;
        if (rel > a) {
            /* still blind: the reference follows L until the release */
            if (rel >= t1) {
                s->ref[i] = (float)L1;
                return 0;
            }
            a = rel;
            ref = L0 + slope * (a - t0);
        }
    }
    for (;;) {
        double d1 = L1 - ref, target;
        int p;
        if (d1 >= on - DVS_TOL) {
            target = ref + on;
            p = 1;
        } else if (-d1 >= off - DVS_TOL) {
            target = ref - off;
            p = 0;
        } else {
            break;
        }
        double tc = slope != 0 ? t0 + (target - L0) / slope : a;
        if (!(tc >= a))
            tc = a;
        if (tc > t1)
            tc = t1;
        int64_t te = (int64_t)llround(tc);
        if (buf_push(s, te, i, p))
            return -1;
        s->t_last[i] = te;
        if (R > 0) {
            double rel = (double)te + R;
            if (rel >= t1) {
                ref = L1;
                break;
            }
            a = rel;
            ref = L0 + slope * (a - t0);
        } else {
            a = tc;
            ref = target;
        }
    }
    s->ref[i] = (float)ref;
    return 0;
}

/* Stable bottom-up merge sort of buf[0..n) by t. */
static void sort_events(lt_dvs_event *a, lt_dvs_event *tmp, size_t n)
{
    int sorted = 1;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = a[i - 1].t <= a[i].t;
    if (sorted)
        return;
    lt_dvs_event *src = a, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = src[j].t < src[i].t ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        lt_dvs_event *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}

static lt_status step_common(lt_dvs *s, lt_events *out, int64_t t, lt_err *err)
{
    if (!s->started)
        return lt_err_set(err, LT_ERR_ARG, "dvs: step before the first frame (call lt_dvs_start first)");
    if (t <= s->t_prev)
        return lt_err_set(err, LT_ERR_ARG, "dvs: frame time %lld us: expected after the previous frame's %lld us",
                          (long long)t, (long long)s->t_prev);
    size_t np = (size_t)s->W * (size_t)s->H;
    double t0 = (double)s->t_prev, t1 = (double)t;
    s->buf_n = 0;
    for (size_t i = 0; i < np; i++) {
        float L0 = s->prev[i], L1 = s->cur[i];
        /* fast path: nothing can happen at a pixel that is not blind and
         * whose level stays within its thresholds */
        float d = L1 - s->ref[i];
        if (d < s->thr_on[i] - (float)DVS_TOL && -d < s->thr_off[i] - (float)DVS_TOL &&
            (s->o.refractory_us == 0 || s->t_last[i] + s->o.refractory_us <= s->t_prev))
            continue;
        if (pixel_step(s, i, t0, t1, L0, L1))
            goto nomem;
    }
    double rate = noise_rate(s);
    while (s->t_noise <= t1) {
        /* pick a pixel in proportion to its rate: hot pixels first */
        double u = lt_rng_uniform(&s->rng) * rate, hot_total = s->o.hot_hz * (double)s->n_hot;
        size_t pix;
        if (u < hot_total) {
            size_t k = (size_t)(u / s->o.hot_hz);
            pix = s->hot[k < s->n_hot ? k : s->n_hot - 1];
        } else {
            /* every pixel, hot or not, has the background rate */
            pix = lt_rng_below(&s->rng, (uint32_t)np);
        }
        int p = (int)(lt_rng_u64(&s->rng) >> 63);
        if (buf_push(s, (int64_t)llround(s->t_noise), pix, p))
            goto nomem;
        s->t_noise += exp_wait_us(&s->rng, rate);
    }
    sort_events(s->buf, s->tmp, s->buf_n);
    lt_status st = lt_events_reserve(out, out->n + s->buf_n, err);
    if (st)
        return st;
    for (size_t k = 0; k < s->buf_n; k++) {
        const lt_dvs_event *e = &s->buf[k];
        out->t[out->n] = e->t;
        out->x[out->n] = e->x;
        out->y[out->n] = e->y;
        out->p[out->n] = e->p;
        out->n++;
    }
    float *sw = s->prev;
    s->prev = s->cur;
    s->cur = sw;
    s->t_prev = t;
    return LT_OK;
nomem:
    return lt_err_set(err, LT_ERR_NOMEM, "dvs: out of memory for %zu events", s->buf_n);
}

lt_status lt_dvs_step(lt_dvs *s, lt_events *out, const float *img, int64_t t, lt_err *err)
{
    to_log(s->cur, img, (size_t)s->W * (size_t)s->H, s->o.eps);
    return step_common(s, out, t, err);
}

lt_status lt_dvs_step_log(lt_dvs *s, lt_events *out, const float *logimg, int64_t t, lt_err *err)
{
    memcpy(s->cur, logimg, (size_t)s->W * (size_t)s->H * sizeof *s->cur);
    return step_common(s, out, t, err);
}

lt_status lt_dvs_simulate(lt_events *out, const float *frames, const int64_t *ts, size_t n, int W, int H,
                          const lt_dvs_opts *o, lt_err *err)
{
    lt_dvs s;
    lt_status st = lt_dvs_init(&s, W, H, o, err);
    if (st)
        return st;
    size_t np = (size_t)W * (size_t)H;
    if (n > 0)
        lt_dvs_start(&s, frames, ts[0]);
    for (size_t k = 1; k < n && !st; k++) {
        st = lt_dvs_step(&s, out, frames + k * np, ts[k], err);
        if (st)
            lt_err_prefix(err, "frame %zu: ", k);
    }
    lt_dvs_free(&s);
    return st;
}
