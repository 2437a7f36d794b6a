/* fmnist.c -- Fashion-MNIST as an lt_dataset, static or "neuromorphic".
 *
 * Static: the 28x28 images as 8-bit frames (scale 1/255), fed at every step.
 * Neuromorphic: each image goes through the recording N-MNIST used (Orchard
 * et al. 2015, "Converting static image datasets to spiking neuromorphic
 * datasets using saccades"): a sensor makes three ~100 ms micro-saccades
 * around a triangle in front of the image.  Here the image moves instead,
 * rendered with bilinear interpolation at sub-pixel offsets, and the DVS
 * simulator (dvssim.c) makes the events, which are binned like any recording.
 * The files come from Debian's dataset-fashion-mnist package; this file does
 * not download anything.  synth.h states the geometry. */
#include "ltsnn/io.h"
#include "ltsnn/synth.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define IMG 28
#define PI_D 3.14159265358979323846

static const char *const fmnist_names[LT_FMNIST_CLASSES] = {
    "t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot",
};

const char *lt_fmnist_class_name(int k)
{
    return k >= 0 && k < LT_FMNIST_CLASSES ? fmnist_names[k] : NULL;
}

void lt_fmnist_opts_default(lt_fmnist_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = LT_FMNIST_STATIC;
    o->T = 10;
    o->H = 34;
    o->W = 34;
    o->limit = 0;
    o->seed = 1;
    o->threads = 0;
    o->render_hz = 1000;
    o->contrast_step = 1.0f;
    lt_dvs_opts_default(&o->dvs);
    o->dvs.refractory_us = 1000;
    o->dvs.noise_hz = 0.1;
}

/* Saccade vertices (pixels, x right, y down) relative to the centred image;
 * the path visits 0 -> 1 -> 2 -> 0, one saccade each. */
static const double sacc[3][2] = {{0.0, -2.0}, {3.0, 2.0}, {-3.0, 2.0}};

static void saccade_offset(double *dx, double *dy, double t_us)
{
    const double leg = LT_FMNIST_DURATION_US / 3.0;
    int k = (int)(t_us / leg);
    if (k > 2)
        k = 2;
    if (k < 0)
        k = 0;
    double s = (t_us - k * leg) / leg;
    s = s < 0 ? 0 : s > 1 ? 1 : s;
    /* cosine velocity profile: starts and stops at rest like a pan-tilt unit */
    double w = 0.5 - 0.5 * cos(PI_D * s);
    const double *a = sacc[k], *b = sacc[(k + 1) % 3];
    *dx = a[0] + w * (b[0] - a[0]);
    *dy = a[1] + w * (b[1] - a[1]);
}

/* Intensity frame [H, W] of the image shifted by (dx, dy) from the centre,
 * its contrast over the background times k. */
static void render(float *I, const float *lum, int H, int W, double dx, double dy, float k)
{
    /* sensor pixel x shows image coordinate u = x - ox (pixel centres aligned) */
    double ox = (W - IMG) / 2.0 + dx, oy = (H - IMG) / 2.0 + dy;
    for (int y = 0; y < H; y++) {
        double v = y - oy;
        double fv = floor(v);
        int j0 = (int)fv;
        float bv = (float)(v - fv);
        for (int x = 0; x < W; x++) {
            double u = x - ox;
            double fu = floor(u);
            int i0 = (int)fu;
            float bu = (float)(u - fu);
            float s = 0;
            for (int dj = 0; dj < 2; dj++) {
                int j = j0 + dj;
                if (j < 0 || j >= IMG)
                    continue;
                float wy = dj ? bv : 1 - bv;
                for (int di = 0; di < 2; di++) {
                    int i = i0 + di;
                    if (i < 0 || i >= IMG)
                        continue;
                    s += wy * (di ? bu : 1 - bu) * lum[j * IMG + i];
                }
            }
            /* a dark but not black screen behind the image */
            I[y * W + x] = 0.1f + 0.9f * k * s;
        }
    }
}

typedef struct fm_work {
    lt_dvs dvs;
    float *I;        /* [H, W] intensity frame */
    float lum[IMG * IMG];
    uint8_t *frames; /* [T, 2, H, W] */
    lt_events ev;
} fm_work;

static void work_free(fm_work *w)
{
    lt_dvs_free(&w->dvs);
    free(w->I);
    free(w->frames);
    lt_events_free(&w->ev);
    memset(w, 0, sizeof *w);
}

static lt_status check_neuro(const lt_fmnist_opts *o, lt_err *err)
{
    if (o->T < 1 || o->T > 1000)
        return lt_err_set(err, LT_ERR_ARG, "fashion-mnist: T = %d: expected 1..1000", o->T);
    if (o->H < 1 || o->W < 1 || o->H > 1024 || o->W > 1024)
        return lt_err_set(err, LT_ERR_ARG, "fashion-mnist: frame size %dx%d: expected 1..1024 on each side", o->H,
                          o->W);
    if (o->render_hz < 10 || o->render_hz > 100000)
        return lt_err_set(err, LT_ERR_ARG, "fashion-mnist: render rate %d Hz: expected 10..100000", o->render_hz);
    if (!(o->contrast_step >= 0.01f && o->contrast_step <= 100.0f))
        return lt_err_set(err, LT_ERR_ARG, "fashion-mnist: contrast step %g: expected 0.01..100", o->contrast_step);
    return LT_OK;
}

static lt_status work_init(fm_work *w, const lt_fmnist_opts *o, int with_frames, lt_err *err)
{
    memset(w, 0, sizeof *w);
    size_t np = (size_t)o->H * (size_t)o->W;
    lt_status st = lt_dvs_init(&w->dvs, o->W, o->H, &o->dvs, err);
    if (st)
        return st;
    w->I = malloc(np * sizeof *w->I);
    if (with_frames)
        w->frames = malloc((size_t)o->T * 2 * np);
    if (!w->I || (with_frames && !w->frames)) {
        work_free(w);
        return lt_err_set(err, LT_ERR_NOMEM, "fashion-mnist: out of memory for a %dx%d sample", o->H, o->W);
    }
    return LT_OK;
}

/* One image's events into w->ev (cleared first). */
static lt_status saccade_run(fm_work *w, const uint8_t *img, const lt_fmnist_opts *o, uint64_t seed, lt_err *err)
{
    for (int k = 0; k < IMG * IMG; k++)
        w->lum[k] = (float)img[k] * (1.0f / 255.0f);
    lt_dvs_reset(&w->dvs, seed);
    w->ev.n = 0;
    int F = (int)((int64_t)o->render_hz * LT_FMNIST_DURATION_US / 1000000);
    if (F < 1)
        F = 1;
    double dx, dy;
    saccade_offset(&dx, &dy, 0);
    render(w->I, w->lum, o->H, o->W, dx, dy, 1.0f);
    lt_dvs_start(&w->dvs, w->I, 0);
    for (int f = 1; f <= F; f++) {
        int64_t t = (int64_t)LT_FMNIST_DURATION_US * f / F;
        saccade_offset(&dx, &dy, (double)t);
        render(w->I, w->lum, o->H, o->W, dx, dy, 2 * t >= LT_FMNIST_DURATION_US ? o->contrast_step : 1.0f);
        lt_status st = lt_dvs_step(&w->dvs, &w->ev, w->I, t, err);
        if (st)
            return st;
    }
    return LT_OK;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Simulator seed of sample i of a split: different per sample and per split. */
static uint64_t sample_seed(uint64_t seed, int train, size_t i)
{
    return mix64(seed ^ mix64((uint64_t)i * 2 + (uint64_t)(train != 0)));
}

lt_status lt_fmnist_saccade_events(lt_events *out, const uint8_t *img28, const lt_fmnist_opts *o, uint64_t seed,
                                   lt_err *err)
{
    lt_status st = check_neuro(o, err);
    if (st)
        return st;
    fm_work w;
    st = work_init(&w, o, 0, err);
    if (st)
        return st;
    st = saccade_run(&w, img28, o, seed, err);
    if (!st)
        st = lt_events_reserve(out, out->n + w.ev.n, err);
    for (size_t k = 0; k < w.ev.n && !st; k++)
        st = lt_events_push(out, w.ev.t[k], w.ev.x[k], w.ev.y[k], w.ev.p[k], err);
    work_free(&w);
    return st;
}

/* root/name, or root/name without ".gz" when only the uncompressed file is there. */
static void idx_path(char *out, size_t cap, const char *root, const char *name)
{
    struct stat sb;
    snprintf(out, cap, "%s/%s", root, name);
    if (stat(out, &sb) == 0)
        return;
    size_t n = strlen(out);
    if (n > 3 && !strcmp(out + n - 3, ".gz")) {
        out[n - 3] = 0;
        if (stat(out, &sb) == 0)
            return;
        out[n - 3] = '.';
    }
}

static lt_status load_split(lt_idx *img, lt_idx *lab, char *img_path, char *lab_path, size_t cap,
                            const char *root, int train, size_t limit, lt_err *err)
{
    const char *pre = train ? "train" : "t10k";
    char name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte.gz", pre);
    idx_path(img_path, cap, root, name);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte.gz", pre);
    idx_path(lab_path, cap, root, name);
    lt_status st = lt_idx_read(lab, lab_path, limit, err);
    if (st)
        return st;
    st = lt_idx_read(img, img_path, limit, err);
    if (st)
        goto free_labels;
    if (lab->ndim != 1) {
        st = lt_err_set(err, LT_ERR_SHAPE, "%s: %d dimensions: expected 1 (a label per image)", lab_path, lab->ndim);
        goto free_images;
    }
    if (img->ndim != 3 || img->dims[1] != IMG || img->dims[2] != IMG) {
        st = lt_err_set(err, LT_ERR_SHAPE, "%s: shape %zu x %zu x %zu (%d dims): expected N x 28 x 28", img_path,
                        img->dims[0], img->ndim > 1 ? img->dims[1] : 0, img->ndim > 2 ? img->dims[2] : 0, img->ndim);
        goto free_images;
    }
    if (img->items_in_file != lab->items_in_file) {
        st = lt_err_set(err, LT_ERR_SHAPE, "%s holds %zu images but %s holds %zu labels", img_path,
                        img->items_in_file, lab_path, lab->items_in_file);
        goto free_images;
    }
    for (size_t i = 0; i < lab->dims[0]; i++) {
        if (lab->data[i] >= LT_FMNIST_CLASSES) {
            st = lt_err_set(err, LT_ERR_FORMAT, "%s: byte %zu: label %d: expected 0..9", lab_path, 8 + i,
                            lab->data[i]);
            goto free_images;
        }
    }
    return LT_OK;
free_images:
    lt_idx_free(img);
free_labels:
    lt_idx_free(lab);
    return st;
}

static lt_status make_neuro(lt_dataset *d, const lt_idx *img, const lt_fmnist_opts *o, int train,
                            void (*progress)(void *ctx, size_t done, size_t total), void *ctx, lt_err *err)
{
    size_t n = d->n, nel = (size_t)o->T * 2 * (size_t)o->H * (size_t)o->W, sb = d->sample_bytes;
    uint8_t *data = (uint8_t *)d->data;
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
    int threads = o->threads > 0 ? o->threads : lt_get_threads();
    size_t fail_at = (size_t)-1, done = 0;
    lt_err fail_err;
    memset(&fail_err, 0, sizeof fail_err);
#pragma omp parallel num_threads(threads)
    {
        fm_work w;
        lt_err e;
        memset(&e, 0, sizeof e);
        size_t my_fail = (size_t)-1;
        lt_status ws = work_init(&w, o, 1, &e);
        if (ws)
            my_fail = 0;
#pragma omp for schedule(dynamic, 8)
        for (size_t i = 0; i < n; i++) {
            if (ws)
                continue;
            lt_status s = saccade_run(&w, img->data + i * IMG * IMG, o, sample_seed(o->seed, train, i), &e);
            if (!s)
                s = lt_bin_events(w.frames, &w.ev, &bo, &e);
            if (s) {
                lt_err_prefix(&e, "fashion-mnist sample %zu: ", i);
                my_fail = i;
                ws = s;
                continue;
            }
            lt_frames_pack(data + i * sb, w.frames, nel);
            size_t now;
#pragma omp atomic capture
            now = ++done;
#ifdef _OPENMP
            /* progress only from the calling (master) thread */
            if (progress && omp_get_thread_num() == 0 && (now % 256 == 0))
                progress(ctx, now, n);
#else
            if (progress && now % 256 == 0)
                progress(ctx, now, n);
#endif
        }
        if (my_fail != (size_t)-1) {
#pragma omp critical(lt_fmnist_fail)
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
        return fail_err.status ? fail_err.status : LT_ERR_NOMEM;
    }
    return LT_OK;
}

lt_status lt_fmnist_make(lt_dataset *d, const char *root, int train, const lt_fmnist_opts *o,
                         void (*progress)(void *ctx, size_t done, size_t total), void *ctx, lt_err *err)
{
    memset(d, 0, sizeof *d);
    lt_status st;
    if (o->mode != LT_FMNIST_STATIC && o->mode != LT_FMNIST_NEURO)
        return lt_err_set(err, LT_ERR_ARG, "fashion-mnist: mode %d: expected static or neuromorphic", (int)o->mode);
    if (o->mode == LT_FMNIST_NEURO && (st = check_neuro(o, err)))
        return st;
    if (!root)
        root = LT_FMNIST_DIR;
    lt_idx img, lab;
    char img_path[4096], lab_path[4096];
    st = load_split(&img, &lab, img_path, lab_path, sizeof img_path, root, train, o->limit, err);
    if (st)
        return st;
    size_t n = img.dims[0];
    if (n == 0) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: no images", img_path);
        goto free_idx;
    }
    if (o->mode == LT_FMNIST_STATIC)
        st = lt_dataset_alloc(d, n, 1, 1, IMG, IMG, LT_FMNIST_CLASSES, 8, 1.0f / 255.0f, err);
    else
        st = lt_dataset_alloc(d, n, o->T, 2, o->H, o->W, LT_FMNIST_CLASSES, 1, 1.0f, err);
    if (st)
        goto free_idx;
    st = lt_dataset_set_class_names(d, fmnist_names, err);
    if (st)
        goto free_dataset;
    int32_t *labels = (int32_t *)d->labels;
    for (size_t i = 0; i < n; i++)
        labels[i] = lab.data[i];
    if (progress)
        progress(ctx, 0, n);
    if (o->mode == LT_FMNIST_STATIC) {
        snprintf(d->name, sizeof d->name, "fashion-mnist");
        snprintf(d->opts, sizeof d->opts, "fashion-mnist %s static 1x28x28 u8/255 n=%zu", train ? "train" : "test",
                 n);
        memcpy((uint8_t *)d->data, img.data, n * IMG * IMG);
    } else {
        snprintf(d->name, sizeof d->name, "n-fashion-mnist");
        snprintf(d->opts, sizeof d->opts,
                 "fashion-mnist %s saccades %dx%d T=%d render=%dHz seed=%llu dvs C=%g/%g sigma=%g refr=%lldus "
                 "noise=%gHz contrast_step=%g; bin: equal time, binary",
                 train ? "train" : "test", o->W, o->H, o->T, o->render_hz, (unsigned long long)o->seed,
                 (double)o->dvs.c_on, (double)o->dvs.c_off, (double)o->dvs.c_sigma,
                 (long long)o->dvs.refractory_us, o->dvs.noise_hz, (double)o->contrast_step);
        st = make_neuro(d, &img, o, train, progress, ctx, err);
        if (st)
            goto free_dataset;
    }
    if (progress)
        progress(ctx, n, n);
    lt_idx_free(&img);
    lt_idx_free(&lab);
    return LT_OK;
free_dataset:
    lt_dataset_free(d);
free_idx:
    lt_idx_free(&img);
    lt_idx_free(&lab);
    return st;
}

/* mkdir that accepts an existing folder. */
static lt_status make_dir(const char *path, lt_err *err)
{
    if (mkdir(path, 0777) == 0)
        return LT_OK;
    struct stat sb;
    if (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return LT_OK;
    return lt_err_set(err, LT_ERR_IO, "%s: cannot create folder: %s", path, strerror(errno));
}

lt_status lt_fmnist_write_bin(const char *out_root, const char *root, int train, const lt_fmnist_opts *o,
                              void (*progress)(void *ctx, size_t done, size_t total), void *ctx, lt_err *err)
{
    lt_status st = check_neuro(o, err);
    if (st)
        return st;
    if (o->W > 256 || o->H > 240)
        return lt_err_set(err, LT_ERR_ARG, "fashion-mnist: %dx%d does not fit the ATIS .bin format (x < 256, y < 240)",
                          o->W, o->H);
    if (!root)
        root = LT_FMNIST_DIR;
    lt_idx img, lab;
    char img_path[4096], lab_path[4096], path[4096];
    st = load_split(&img, &lab, img_path, lab_path, sizeof img_path, root, train, o->limit, err);
    if (st)
        return st;
    const char *split = train ? "Train" : "Test";
    snprintf(path, sizeof path, "%s", out_root);
    if ((st = make_dir(path, err)))
        goto free_idx;
    snprintf(path, sizeof path, "%s/%s", out_root, split);
    if ((st = make_dir(path, err)))
        goto free_idx;
    for (int k = 0; k < LT_FMNIST_CLASSES; k++) {
        snprintf(path, sizeof path, "%s/%s/%d", out_root, split, k);
        if ((st = make_dir(path, err)))
            goto free_idx;
    }
    size_t n = img.dims[0], fail_at = (size_t)-1, done = 0;
    lt_err fail_err;
    memset(&fail_err, 0, sizeof fail_err);
    lt_writer_opts wo;
    memset(&wo, 0, sizeof wo);
    wo.format = LT_EVF_ATIS_BIN;
    wo.width = o->W;
    wo.height = o->H;
    if (progress)
        progress(ctx, 0, n);
#pragma omp parallel num_threads(o->threads > 0 ? o->threads : lt_get_threads())
    {
        fm_work w;
        lt_err e;
        memset(&e, 0, sizeof e);
        size_t my_fail = (size_t)-1;
        lt_status ws = work_init(&w, o, 0, &e);
        if (ws)
            my_fail = 0;
#pragma omp for schedule(dynamic, 8)
        for (size_t i = 0; i < n; i++) {
            if (ws)
                continue;
            char file[4200];
            /* 1-based index in the IDX file, as N-MNIST names its files */
            snprintf(file, sizeof file, "%s/%s/%d/%05zu.bin", out_root, split, lab.data[i], i + 1);
            lt_status s = saccade_run(&w, img.data + i * IMG * IMG, o, sample_seed(o->seed, train, i), &e);
            if (!s)
                s = lt_events_write_file(file, &w.ev, &wo, &e);
            if (s) {
                lt_err_prefix(&e, "fashion-mnist sample %zu: ", i);
                my_fail = i;
                ws = s;
                continue;
            }
            size_t now;
#pragma omp atomic capture
            now = ++done;
#ifdef _OPENMP
            if (progress && omp_get_thread_num() == 0 && now % 256 == 0)
                progress(ctx, now, n);
#else
            if (progress && now % 256 == 0)
                progress(ctx, now, n);
#endif
        }
        if (my_fail != (size_t)-1) {
#pragma omp critical(lt_fmnist_fail)
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
        goto free_idx;
    }
    if (progress)
        progress(ctx, n, n);
free_idx:
    lt_idx_free(&img);
    lt_idx_free(&lab);
    return st;
}
