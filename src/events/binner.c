/* binner.c -- one sample's events to T frames [T, 2, H, W] (METHOD.md §6).
 *
 * Pure functions of the event list and the options: no files, no threads
 * (the dataset conversion runs one binner per file in parallel).
 * lt_bin_events_ref is the plain per-event binner (three passes, a division
 * per event), the oracle; lt_bin_events gives the same bytes faster: a
 * vectorised pass over the coordinates, then one pass that speculates the
 * events are in time order (recordings are) so that t_0 and t_max are the
 * ends, finds bins by walking their edges (exact integer edges of the same
 * floor division) instead of dividing, and checks the order as it goes;
 * events out of order send it back to the general way.
 * tests/test_binner.c compares the two bit for bit.  Not for reading
 * events (events/ readers) nor for packing frames into bits
 * (lt_frames_pack in cache.c). */
#include "ltsnn/data.h"
#include "events/binner.h"

#include <string.h>

#define MAX_SIDE 65536
#define MAX_T (1 << 20)

__extension__ typedef unsigned __int128 u128;

static lt_status check_opts(const lt_bin_opts *o, size_t *frame_bytes, lt_err *err)
{
    if (o->T < 1 || o->T > MAX_T)
        return lt_err_set(err, LT_ERR_ARG, "binner: T = %d, expected 1..%d", o->T, MAX_T);
    if (o->H < 1 || o->W < 1 || o->H > MAX_SIDE || o->W > MAX_SIDE)
        return lt_err_set(err, LT_ERR_ARG, "binner: frame size %dx%d (HxW), expected 1..%d each", o->H, o->W,
                          MAX_SIDE);
    if (o->in_h < 1 || o->in_w < 1 || o->in_h > MAX_SIDE || o->in_w > MAX_SIDE)
        return lt_err_set(err, LT_ERR_ARG, "binner: sensor size %dx%d (WxH), expected 1..%d each", o->in_w,
                          o->in_h, MAX_SIDE);
    if (o->mode != LT_BIN_TIME && o->mode != LT_BIN_COUNT)
        return lt_err_set(err, LT_ERR_ARG, "binner: binning mode %d, expected time or count", (int)o->mode);
    if (o->value != LT_BINVAL_BINARY && o->value != LT_BINVAL_COUNT)
        return lt_err_set(err, LT_ERR_ARG, "binner: value %d, expected binary or count", (int)o->value);
    if (o->space != LT_BINSP_SCALE && o->space != LT_BINSP_CROP)
        return lt_err_set(err, LT_ERR_ARG, "binner: space %d, expected scale or crop", (int)o->space);
    if (o->window_us < 0)
        return lt_err_set(err, LT_ERR_ARG, "binner: window %lld us, expected >= 0 (0 = none)",
                          (long long)o->window_us);
    /* T <= 2^20 and sides <= 2^16 keep T*2*H*W below 2^53: no overflow in size_t on 64-bit,
     * but check anyway for 32-bit builds. */
    size_t n;
    if (!lt_mul_ok((size_t)o->T * 2, (size_t)o->H, &n) || !lt_mul_ok(n, (size_t)o->W, &n))
        return lt_err_set(err, LT_ERR_ARG, "binner: %d x 2 x %d x %d frames overflow size_t", o->T, o->H, o->W);
    *frame_bytes = n;
    return LT_OK;
}

/* Coordinate maps: map[v] is the target coordinate of sensor coordinate v,
 * or -1 when cropping drops it.  A table lookup per event replaces a
 * division per event. */
static void make_map(int32_t *map, int in, int out, lt_bin_space space)
{
    if (space == LT_BINSP_SCALE) {
        for (int v = 0; v < in; v++)
            map[v] = (int32_t)((int64_t)v * out / in);
        return;
    }
    int off = (in - out) / 2; /* negative when the target is larger: padding */
    for (int v = 0; v < in; v++) {
        int c = v - off;
        map[v] = c >= 0 && c < out ? c : -1;
    }
}

static inline void put(uint8_t *px, lt_bin_value value)
{
    if (value == LT_BINVAL_BINARY)
        *px = 1;
    else if (*px < 255)
        *px = (uint8_t)(*px + 1);
}

lt_status lt_bin_events_ref(uint8_t *frames, const lt_events *ev, const lt_bin_opts *o, lt_err *err)
{
    size_t frame_bytes = 0;
    lt_status st = check_opts(o, &frame_bytes, err);
    if (st)
        return st;
    const size_t N = ev->n;
    /* Validate everything before touching frames: a bad event leaves them as they were. */
    int64_t t0 = 0;
    for (size_t j = 0; j < N; j++) {
        if (ev->x[j] >= o->in_w || ev->y[j] >= o->in_h)
            return lt_err_set(err, LT_ERR_FORMAT,
                              "event %zu (t=%lld x=%u y=%u p=%u) lies outside the %dx%d sensor "
                              "(expected x < %d, y < %d)",
                              j, (long long)ev->t[j], (unsigned)ev->x[j], (unsigned)ev->y[j], (unsigned)ev->p[j],
                              o->in_w, o->in_h, o->in_w, o->in_h);
        if (j == 0 || ev->t[j] < t0)
            t0 = ev->t[j];
    }
    memset(frames, 0, frame_bytes);
    if (N == 0)
        return LT_OK;

    /* Differences from t0 are taken in uint64: with t0 the minimum they are
     * exact for any int64 timestamps. */
    const uint64_t window = (uint64_t)o->window_us;
    uint64_t span = 0;
    size_t kept = 0;
    for (size_t j = 0; j < N; j++) {
        uint64_t dt = (uint64_t)ev->t[j] - (uint64_t)t0;
        if (window && dt >= window)
            continue;
        kept++;
        if (dt > span)
            span = dt;
    }

    int32_t *xmap = lt_alloc(sizeof(int32_t) * ((size_t)o->in_w + (size_t)o->in_h));
    if (!xmap)
        return lt_err_set(err, LT_ERR_NOMEM, "binner: cannot allocate coordinate maps");
    int32_t *ymap = xmap + o->in_w;
    make_map(xmap, o->in_w, o->W, o->space);
    make_map(ymap, o->in_h, o->H, o->space);

    const uint64_t T = (uint64_t)o->T;
    const size_t plane = (size_t)o->H * (size_t)o->W;
    /* 64-bit products whenever they cannot overflow, 128-bit otherwise. */
    const int wide_time = span >= UINT64_MAX / T;
    const int wide_count = (uint64_t)kept > UINT64_MAX / T;
    size_t j_kept = 0;
    for (size_t j = 0; j < N; j++) {
        uint64_t dt = (uint64_t)ev->t[j] - (uint64_t)t0;
        if (window && dt >= window)
            continue;
        uint64_t bin;
        if (o->mode == LT_BIN_TIME)
            bin = wide_time ? (uint64_t)((u128)dt * T / ((u128)span + 1)) : dt * T / (span + 1);
        else
            bin = wide_count ? (uint64_t)((u128)j_kept * T / kept) : (uint64_t)j_kept * T / kept;
        j_kept++;
        int32_t xx = xmap[ev->x[j]], yy = ymap[ev->y[j]];
        if (xx < 0 || yy < 0)
            continue;
        size_t c = ev->p[j] ? 1 : 0;
        put(&frames[(bin * 2 + c) * plane + (size_t)yy * (size_t)o->W + (size_t)xx], o->value);
    }
    lt_free(xmap);
    return LT_OK;
}

/* ---- the fast binner ---- */

static lt_status outside(const lt_events *ev, size_t j, const lt_bin_opts *o, lt_err *err)
{
    return lt_err_set(err, LT_ERR_FORMAT,
                      "event %zu (t=%lld x=%u y=%u p=%u) lies outside the %dx%d sensor "
                      "(expected x < %d, y < %d)",
                      j, (long long)ev->t[j], (unsigned)ev->x[j], (unsigned)ev->y[j], (unsigned)ev->p[j], o->in_w,
                      o->in_h, o->in_w, o->in_h);
}

/* edge[b] = the smallest d with floor(d * T / den) >= b, for b = 0..T:
 * ceil(b * den / T).  A value is in bin b exactly when edge[b] <= d < edge[b + 1].
 * den may be 2^64 (a span of every int64); only edge[T] can then exceed
 * uint64 and it is saturated (the walk never passes bin T - 1). */
static void make_edges(uint64_t *edge, uint64_t T, u128 den)
{
    for (uint64_t b = 0; b <= T; b++) {
        u128 e = ((u128)b * den + T - 1) / T;
        edge[b] = e > UINT64_MAX ? UINT64_MAX : (uint64_t)e;
    }
}

/* Count or mark one event at its pixel: fb is its bin's frame pair. */
static inline __attribute__((always_inline)) void put_px(uint8_t *fb, size_t plane, uint8_t p, int64_t yy,
                                                         int64_t xx, const int count)
{
    /* (p != 0) * plane, not a branch: polarities alternate at random and a
     * mispredicted branch per event costs more than the rest of the loop */
    uint8_t *px = fb + (size_t)(p != 0) * plane + (size_t)(yy + xx);
    if (count)
        *px = (uint8_t)(*px + (*px < 255));
    else
        *px = 1;
}

/* The loop for events in time order (or equal-count binning), every one
 * kept: bins only move forward, so a compare per event finds them.  With
 * check, it also verifies the order as it goes and gives up (returns 0) at
 * the first event earlier than the one before: the caller then starts
 * over the general way.  Inlined with constant flags it becomes tight
 * loops. */
static inline __attribute__((always_inline)) int bin_sorted(uint8_t *frames, const int64_t *t, const uint16_t *X,
                                                            const uint16_t *Y, const uint8_t *P, size_t N,
                                                            uint64_t tmin, const uint64_t *edge, size_t T, size_t plane,
                                                            const int64_t *xo, const int64_t *yo, const int by_time,
                                                            const int crop, const int count)
{
    size_t b = 0;
    uint64_t next = T > 1 ? edge[1] : UINT64_MAX;
    uint8_t *fb = frames;
    int64_t prev = N ? t[0] : 0;
    for (size_t j = 0; j < N; j++) {
        int64_t tj = t[j];
        if (__builtin_expect(tj < prev, 0))
            return 0;
        prev = tj;
        uint64_t d = by_time ? (uint64_t)tj - tmin : (uint64_t)j;
        if (__builtin_expect(d >= next, 0)) {
            while (b + 1 < T && d >= edge[b + 1])
                b++;
            next = b + 1 < T ? edge[b + 1] : UINT64_MAX;
            fb = frames + b * 2 * plane;
        }
        int64_t xx = xo[X[j]], yy = yo[Y[j]];
        if (crop && (xx < 0 || yy < 0))
            continue;
        put_px(fb, plane, P[j], yy, xx, count);
    }
    return 1;
}

/* Speculate that t is in order: then t_0 = t[0], t_max = t[N-1], the window
 * keeps a prefix (found by bisection) and one pass bins everything.  0 when
 * the order does not hold (frames then hold partial counts: clear them). */
static int try_sorted(uint8_t *frames, const lt_events *ev, const lt_bin_opts *o, uint64_t *edge, size_t T,
                      size_t plane, const int64_t *xo, const int64_t *yo)
{
    const int64_t *t = ev->t;
    const size_t N = ev->n;
    const uint64_t t0 = (uint64_t)t[0], window = (uint64_t)o->window_us;
    if (t[N - 1] < t[0])
        return 0;
    size_t kept = N;
    uint64_t span = (uint64_t)t[N - 1] - t0;
    if (window && span >= window) {
        size_t lo = 0, hi = N - 1; /* the first event at or past the window: t[hi] is */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if ((uint64_t)t[mid] - t0 >= window)
                hi = mid;
            else
                lo = mid + 1;
        }
        kept = lo;
        for (size_t j = kept; j < N; j++) /* the rest must be in order too for kept to be right */
            if (j && t[j] < t[j - 1])
                return 0;
        span = (uint64_t)t[kept - 1] - t0;
    }
    const int by_time = o->mode == LT_BIN_TIME;
    make_edges(edge, T, by_time ? (u128)span + 1 : (u128)kept);
    const int sel = by_time << 2 | (o->space == LT_BINSP_CROP) << 1 | (o->value == LT_BINVAL_COUNT);
#define BIN_SORTED(bt, cr, co) bin_sorted(frames, t, ev->x, ev->y, ev->p, kept, t0, edge, T, plane, xo, yo, bt, cr, co)
    switch (sel) {
    case 0: return BIN_SORTED(0, 0, 0);
    case 1: return BIN_SORTED(0, 0, 1);
    case 2: return BIN_SORTED(0, 1, 0);
    case 3: return BIN_SORTED(0, 1, 1);
    case 4: return BIN_SORTED(1, 0, 0);
    case 5: return BIN_SORTED(1, 0, 1);
    case 6: return BIN_SORTED(1, 1, 0);
    default: return BIN_SORTED(1, 1, 1);
    }
#undef BIN_SORTED
}

lt_status lt_bin_events(uint8_t *frames, const lt_events *ev, const lt_bin_opts *o, lt_err *err)
{
    size_t frame_bytes = 0;
    lt_status st = check_opts(o, &frame_bytes, err);
    if (st)
        return st;
    const size_t N = ev->n;
    const int64_t *t = ev->t;
    const uint16_t *X = ev->x, *Y = ev->y;
    const uint8_t *P = ev->p;
    /* Coordinates first, before frames are touched: the largest x and y
     * (a vectorised pass over 4 bytes an event); the first event outside
     * the sensor is the error, as the reference says. */
    uint16_t xm = 0, ym = 0;
    for (size_t j = 0; j < N; j++) {
        xm = X[j] > xm ? X[j] : xm;
        ym = Y[j] > ym ? Y[j] : ym;
    }
    const unsigned iw = (unsigned)o->in_w, ih = (unsigned)o->in_h;
    if (xm >= iw || ym >= ih)
        for (size_t j = 0; j < N; j++)
            if (X[j] >= iw || Y[j] >= ih)
                return outside(ev, j, o, err);
    memset(frames, 0, frame_bytes);
    if (N == 0)
        return LT_OK;

    const size_t T = (size_t)o->T, plane = (size_t)o->H * (size_t)o->W;
    /* per-coordinate offsets into a frame (-1: cropped away), bin edges, make_map's scratch */
    const size_t side = (size_t)(o->in_w > o->in_h ? o->in_w : o->in_h);
    int64_t *xo = lt_alloc(sizeof(int64_t) * ((size_t)o->in_w + (size_t)o->in_h) + sizeof(uint64_t) * (T + 1) +
                           sizeof(int32_t) * side);
    if (!xo)
        return lt_err_set(err, LT_ERR_NOMEM, "binner: cannot allocate coordinate maps");
    int64_t *yo = xo + o->in_w;
    uint64_t *edge = (uint64_t *)(yo + o->in_h);
    int32_t *map = (int32_t *)(edge + T + 1);
    make_map(map, o->in_w, o->W, o->space);
    for (int v = 0; v < o->in_w; v++)
        xo[v] = map[v];
    make_map(map, o->in_h, o->H, o->space);
    for (int v = 0; v < o->in_h; v++)
        yo[v] = map[v] < 0 ? -1 : (int64_t)map[v] * o->W;

    if (try_sorted(frames, ev, o, edge, T, plane, xo, yo))
        goto free_maps;
    memset(frames, 0, frame_bytes); /* the speculation met an event out of order */

    /* The general way: t_0 and t_max by a pass, then bins per event (walked
     * forward, bisected backward). */
    int64_t tmin = t[0], tmax = t[0];
    for (size_t j = 0; j < N; j++) {
        tmin = t[j] < tmin ? t[j] : tmin;
        tmax = t[j] > tmax ? t[j] : tmax;
    }
    const uint64_t window = (uint64_t)o->window_us;
    uint64_t span = (uint64_t)tmax - (uint64_t)tmin;
    size_t kept = N;
    if (window && span >= window) { /* the bins span the kept events only */
        span = 0, kept = 0;
        for (size_t j = 0; j < N; j++) {
            uint64_t dt = (uint64_t)t[j] - (uint64_t)tmin;
            if (dt < window) {
                kept++;
                span = dt > span ? dt : span;
            }
        }
    }
    const int crop = o->space == LT_BINSP_CROP;
    const int count = o->value == LT_BINVAL_COUNT;
    const int by_time = o->mode == LT_BIN_TIME;
    /* time: bin = floor(dt * T / (span + 1)); count: floor(k * T / kept) over kept events */
    make_edges(edge, T, by_time ? (u128)span + 1 : (u128)kept);
    size_t b = 0, k = 0;
    uint64_t next = edge[1];
    uint8_t *fb = frames;
    for (size_t j = 0; j < N; j++) {
        uint64_t dt = (uint64_t)t[j] - (uint64_t)tmin;
        if (window && dt >= window)
            continue;
        uint64_t d = by_time ? dt : (uint64_t)k;
        k++;
        if (d >= next || d < edge[b]) {
            /* forward: walk the edges; backward (time out of order): bisect them */
            if (d < edge[b]) {
                size_t lo = 0, hi = b;
                while (lo < hi) {
                    size_t mid = (lo + hi + 1) / 2;
                    if (edge[mid] <= d)
                        lo = mid;
                    else
                        hi = mid - 1;
                }
                b = lo;
            } else {
                while (b + 1 < T && d >= edge[b + 1])
                    b++;
            }
            next = edge[b + 1];
            fb = frames + b * 2 * plane;
        }
        int64_t xx = xo[X[j]], yy = yo[Y[j]];
        if (crop && (xx < 0 || yy < 0))
            continue;
        put_px(fb, plane, P[j], yy, xx, count);
    }
free_maps:
    lt_free(xo);
    return LT_OK;
}
