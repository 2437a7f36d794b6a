/* cmd_detect.c -- detection pictures and inference: `ltsnn data show-gen1`
 * draws a recording's frames with their ground-truth boxes, `ltsnn detect`
 * runs a trained detector over a recording and writes its detections in the
 * Prophesee box format (scored against the recording's _bbox.npy when it is
 * beside it) and the same pictures with predicted and true boxes (PNG, one
 * image per chosen time and a contact sheet).  Also the duration and
 * detection-head flag parsers the verbs share.  Only flags, file names and
 * printing; the work is in src/events/gen1.c, src/detect/ and src/nn/. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "ltsnn.h"

#define VERB "data show-gen1"
#define MAX_FRAMES 64

int cli_parse_duration(const char *s, int64_t *us)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v > 0) || !isfinite(v))
        return 1;
    double mult = !strcmp(end, "us") ? 1 : !strcmp(end, "ms") ? 1e3 : !strcmp(end, "s") ? 1e6 : 0;
    if (!mult || v * mult > 9e18 || v * mult < 1)
        return 1;
    *us = (int64_t)llround(v * mult);
    return 0;
}

int cli_det_flags(const char *verb, lt_det_head_config *c, int *kmeans, const char *grid, const char *anchors,
                  const char *det_loss, const char *filter)
{
    lt_err err = {0};
    if ((grid && lt_det_grid_parse(c->grid, grid, &err)) || (det_loss && lt_det_loss_mode_parse(&c->mode, det_loss, &err)) ||
        (filter && lt_map_filter_preset(&c->filter, filter, &err))) {
        fprintf(stderr, "ltsnn %s: %s\n", verb, err.msg);
        return 2;
    }
    if (!anchors)
        return 0;
    char *end;
    long n = strtol(anchors, &end, 10);
    if (end != anchors && !*end) { /* a count: k-means on the training boxes */
        if (n < 1 || n > LT_DET_MAX_ANCHORS) {
            fprintf(stderr, "ltsnn %s: --anchors %s: expected 1..%d anchors, or their sizes aw0,ah0,aw1,ah1,... in "
                    "cells\n", verb, anchors, LT_DET_MAX_ANCHORS);
            return 2;
        }
        c->A = (int)n;
        *kmeans = (int)n;
        return 0;
    }
    int values = 1;
    for (const char *p = anchors; *p; p++)
        values += *p == ',';
    if (values % 2 || values / 2 > LT_DET_MAX_ANCHORS) {
        fprintf(stderr, "ltsnn %s: --anchors %s: %d values, expected pairs aw,ah in cells (at most %d anchors) or a "
                "count\n", verb, anchors, values, LT_DET_MAX_ANCHORS);
        return 2;
    }
    if (lt_det_anchors_parse(c->anchors, values / 2, anchors, &err)) {
        fprintf(stderr, "ltsnn %s: --anchors: %s\n", verb, err.msg);
        return 2;
    }
    c->A = values / 2;
    *kmeans = 0;
    return 0;
}

/* The frames chosen for drawing, filled by the recording walk. */
typedef struct shots {
    int64_t want[MAX_FRAMES];
    int n;
    uint8_t *frames[MAX_FRAMES]; /* [2, H, W] event counts */
    lt_box *boxes[MAX_FRAMES];
    size_t n_boxes[MAX_FRAMES], events[MAX_FRAMES];
    lt_draw_box *pred[MAX_FRAMES]; /* a detector's boxes (ltsnn detect), or NULL */
    size_t n_pred[MAX_FRAMES];
    size_t frame_bytes;
} shots;

static void shots_free(shots *sh)
{
    for (int k = 0; k < sh->n; k++)
        free(sh->frames[k]), free(sh->boxes[k]), free(sh->pred[k]);
}

static lt_status keep_shot(void *ctx, const lt_gen1_sample *s, lt_err *err)
{
    shots *sh = ctx;
    for (int k = 0; k < sh->n; k++) {
        if (sh->want[k] != s->t)
            continue;
        sh->frames[k] = malloc(sh->frame_bytes);
        sh->boxes[k] = malloc((s->n_boxes ? s->n_boxes : 1) * sizeof *s->boxes);
        if (!sh->frames[k] || !sh->boxes[k])
            return lt_err_set(err, LT_ERR_NOMEM, "out of memory keeping frame %d", k);
        memcpy(sh->frames[k], s->frames, sh->frame_bytes);
        memcpy(sh->boxes[k], s->boxes, s->n_boxes * sizeof *s->boxes);
        sh->n_boxes[k] = s->n_boxes;
        sh->events[k] = s->events;
    }
    return LT_OK;
}

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* REC as a _td.dat path, or a name under DIR or DIR/{train,val,test}. */
static int find_recording(char *td, char *bb, size_t cap, const char *dir, const char *rec)
{
    size_t l = strlen(rec), ls = strlen("_td.dat");
    if (l > ls && !strcmp(rec + l - ls, "_td.dat") && exists(rec)) {
        snprintf(td, cap, "%s", rec);
        snprintf(bb, cap, "%.*s_bbox.npy", (int)(l - ls), rec);
        return 1;
    }
    static const char *const sub[] = {"", "/train", "/val", "/test"};
    for (size_t k = 0; k < sizeof sub / sizeof sub[0]; k++) {
        snprintf(td, cap, "%s%s/%s_td.dat", dir, sub[k], rec);
        snprintf(bb, cap, "%s%s/%s_bbox.npy", dir, sub[k], rec);
        if (exists(td) || exists(bb))
            return 1;
    }
    return 0;
}

/* A sample's boxes (fractions, centre and size) as boxes to draw. */
static size_t to_draw(lt_draw_box *out, const lt_box *b, size_t n)
{
    for (size_t k = 0; k < n; k++)
        out[k] = (lt_draw_box){b[k].cx - b[k].w / 2, b[k].cy - b[k].h / 2, b[k].cx + b[k].w / 2, b[k].cy + b[k].h / 2,
                               b[k].cls, -1.0f};
    return n;
}

/* DIR/NAME_tNNNNNNNms.png for each shot (the events at zoom x zoom a pixel,
 * the true boxes solid, a detector's dashed with their scores) and
 * DIR/NAME_sheet.png with all of them; prints what it wrote.  Returns 0, or
 * 1 after printing why not. */
static int write_pictures(const char *verb, const char *out, const char *name, const shots *sh, int W, int H, int zoom,
                          int cols)
{
    lt_err err;
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "ltsnn %s: %s: cannot create the folder: %s\n", verb, out, strerror(errno));
        return 1;
    }
    const char *const names[LT_GEN1_CLASSES] = {lt_gen1_class_name(0), lt_gen1_class_name(1)};
    const int rows = (sh->n + cols - 1) / cols, gap = 4;
    lt_image sheet = {0};
    lt_draw_box *db = NULL;
    if (lt_image_alloc(&sheet, cols * (W + gap) + gap, rows * (H + gap) + gap, LT_RGB(60, 60, 60), &err))
        goto fail;
    for (int k = 0; k < sh->n; k++) {
        if (!sh->frames[k])
            continue;
        free(db);
        db = malloc((sh->n_boxes[k] + sh->n_pred[k] + 1) * sizeof *db);
        if (!db) {
            lt_err_set(&err, LT_ERR_NOMEM, "out of memory for %zu boxes", sh->n_boxes[k] + sh->n_pred[k]);
            goto fail;
        }
        size_t nd = to_draw(db, sh->boxes[k], sh->n_boxes[k]);
        if (sh->pred[k])
            memcpy(db + nd, sh->pred[k], sh->n_pred[k] * sizeof *db);
        nd += sh->n_pred[k];
        char cap[160], path[4200];
        if (sh->pred[k])
            snprintf(cap, sizeof cap, "%.50s t=%.3fs %zu det %zu gt", name, (double)sh->want[k] * 1e-6, sh->n_pred[k],
                     sh->n_boxes[k]);
        else
            snprintf(cap, sizeof cap, "%.60s t=%.3fs %zu ev %zu box", name, (double)sh->want[k] * 1e-6, sh->events[k],
                     sh->n_boxes[k]);
        lt_image im;
        if (lt_image_alloc(&im, W * zoom, H * zoom, 0, &err))
            goto fail;
        lt_draw_frame(&im, 0, 0, zoom, sh->frames[k], H, W, db, nd, names, LT_GEN1_CLASSES, cap);
        snprintf(path, sizeof path, "%s/%s_t%07lldms.png", out, name, (long long)(sh->want[k] / 1000));
        lt_status st = lt_image_write_png(&im, path, &err);
        lt_image_free(&im);
        if (st)
            goto fail;
        printf("wrote %s (%zu events, %zu boxes%s)\n", path, sh->events[k], sh->n_boxes[k],
               sh->pred[k] ? " and the detections" : "");
        snprintf(cap, sizeof cap, "t=%.3fs", (double)sh->want[k] * 1e-6);
        lt_draw_frame(&sheet, gap + (k % cols) * (W + gap), gap + (k / cols) * (H + gap), 1, sh->frames[k], H, W, db, nd,
                      names, LT_GEN1_CLASSES, cap);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s_sheet.png", out, name);
    if (lt_image_write_png(&sheet, path, &err))
        goto fail;
    printf("wrote %s (%d frames)\n", path, sh->n);
    free(db);
    lt_image_free(&sheet);
    return 0;
fail:
    fprintf(stderr, "ltsnn %s: %s\n", verb, err.msg);
    free(db);
    lt_image_free(&sheet);
    return 1;
}

int cli_show_gen1(int argc, char **argv)
{
    const char *out = NULL, *window = NULL, *sensor = NULL;
    int frames = 6, zoom = 2, cols = 3;
    cli_opt opts[] = {
        {"--out", CLI_STR, &out, "output folder for the PNG images (created if missing; required)", 0, 0, 0},
        {"--frames", CLI_INT, &frames, "box times to draw, spread over the recording (default 6)", 0, 1, MAX_FRAMES},
        {"--window", CLI_STR, &window, "events drawn before each box time (default 100ms)", 0, 0, 0},
        {"--zoom", CLI_INT, &zoom, "pixels per sensor pixel in the single images (default 2)", 0, 1, 8},
        {"--columns", CLI_INT, &cols, "frames a row on the contact sheet (default 3)", 0, 1, 16},
        {"--sensor", CLI_STR, &sensor, "sensor WIDTHxHEIGHT (default 304x240)", 0, 0, 0},
        {0},
    };
    const char *pos[2];
    int np;
    int r = cli_parse(VERB, "ROOT|FOLDER REC --out DIR [options]\n\nDraws the events before some of REC's box times "
                      "with its ground-truth boxes (after METHOD.md §9's\nrules: cut to the sensor, empty ones dropped, "
                      "the last per track kept): DIR/REC_tNNNNNNms.png\nfor each, and DIR/REC_sheet.png with all of "
                      "them.  REC is a recording's name (found in\nFOLDER or ROOT/{train,val,test}) or its _td.dat path.",
                      argc, argv, 3, opts, pos, 2, &np);
    if (r)
        return r == 1 ? 0 : r;
    if (np != 2 || !out) {
        fprintf(stderr, "ltsnn %s: give a folder, a recording name and --out DIR\n", VERB);
        return 2;
    }
    lt_gen1_opts go;
    lt_gen1_opts_default(&go);
    if (window && cli_parse_duration(window, &go.window_us)) {
        fprintf(stderr, "ltsnn %s: --window %s: expected a duration such as 100ms\n", VERB, window);
        return 2;
    }
    if (sensor) {
        int c, w, h;
        if (!cli_parse_shape(sensor, &c, &w, &h) || c) {
            fprintf(stderr, "ltsnn %s: --sensor %s: expected WIDTHxHEIGHT\n", VERB, sensor);
            return 2;
        }
        go.sensor_w = w, go.sensor_h = h;
    }
    go.T = 1;
    go.value = LT_BINVAL_COUNT;
    char td[4096], bb[4096];
    if (!find_recording(td, bb, sizeof td, pos[0], pos[1])) {
        fprintf(stderr, "ltsnn %s: no recording %s in %s, %s/{train,val,test}, nor a _td.dat file of that name\n", VERB,
                pos[1], pos[0], pos[0]);
        return 1;
    }
    lt_err err;
    lt_gen1_boxes b;
    if (lt_gen1_boxes_read(&b, bb, &err)) {
        fprintf(stderr, "ltsnn %s: %s\n", VERB, err.msg);
        return 1;
    }
    /* the box times a sample is made at, a few of them evenly spread */
    size_t nt = 0;
    int64_t *ts = malloc((b.n ? b.n : 1) * sizeof *ts);
    for (size_t k = 0; ts && k < b.n; k++)
        if ((k == 0 || b.t[k] != b.t[k - 1]) && b.t[k] >= go.window_us)
            ts[nt++] = b.t[k];
    lt_gen1_boxes_free(&b);
    if (!ts || nt == 0) {
        fprintf(stderr, "ltsnn %s: %s: no box time at or after the %lld us window\n", VERB, bb,
                (long long)go.window_us);
        free(ts);
        return 1;
    }
    shots sh;
    memset(&sh, 0, sizeof sh);
    sh.n = frames < (int)nt ? frames : (int)nt;
    for (int k = 0; k < sh.n; k++)
        sh.want[k] = ts[sh.n > 1 ? (size_t)k * (nt - 1) / (size_t)(sh.n - 1) : 0];
    free(ts);
    const int W = go.sensor_w, H = go.sensor_h;
    sh.frame_bytes = (size_t)2 * W * H;
    int rc = 1;
    if (lt_gen1_recording(td, bb, &go, keep_shot, &sh, &err)) {
        fprintf(stderr, "ltsnn %s: %s\n", VERB, err.msg);
        goto free_shots;
    }
    const char *slash = strrchr(td, '/');
    char name[1024];
    snprintf(name, sizeof name, "%.*s", (int)(strlen(slash ? slash + 1 : td) - strlen("_td.dat")), slash ? slash + 1 : td);
    if (!write_pictures(VERB, out, name, &sh, W, H, zoom, cols))
        rc = 0;
free_shots:
    shots_free(&sh);
    return rc;
}

/* ---- ltsnn detect ---- */

/* One detection of the recording: its sample's time and the box. */
typedef struct timed_det {
    int64_t t;
    lt_det d;
} timed_det;

/* The detector over the recording's samples, a batch at a time. */
typedef struct det_run {
    lt_net *net;
    const lt_det_head_config *dc;
    int T, B, nb;            /* nb samples staged */
    size_t frame;            /* 2 * H * W */
    uint8_t *stage;          /* [B][T, 2, H, W] the staged samples' frames */
    int64_t *stage_t;        /* [B] */
    float *x;                /* [T, B, 2, H, W] */
    float *obar;             /* [K] */
    lt_det *dets;            /* [Sh * Sw * A * C] */
    timed_det *out;
    size_t n, cap, samples;
    int64_t *times;          /* [samples] every sample's t */
    size_t cap_t;
} det_run;

static lt_status run_batch(det_run *r, lt_err *err)
{
    const int b = r->nb, T = r->T;
    if (!b)
        return LT_OK;
    /* [b][T, frame] bytes -> time-major floats [T, b, frame] */
    for (int j = 0; j < b; j++)
        for (int t = 0; t < T; t++) {
            const uint8_t *src = r->stage + ((size_t)j * T + t) * r->frame;
            float *dst = r->x + ((size_t)t * b + j) * r->frame;
            for (size_t i = 0; i < r->frame; i++)
                dst[i] = src[i];
        }
    const float *O = lt_net_forward(r->net, r->x, b, 0);
    const lt_det_head_config *c = r->dc;
    const size_t K = lt_det_outputs(c->grid, c->A, c->C);
    for (int j = 0; j < b; j++) {
        /* METHOD.md §9: the time average, decoded, NMS'd */
        lt_det_time_mean(r->obar, O, T, b, j, K);
        size_t n = lt_det_detect(r->dets, r->obar, c->anchors, c->grid, c->A, c->C);
        if (r->n + n > r->cap) {
            size_t cap = r->cap ? r->cap : 1024;
            while (cap < r->n + n)
                cap *= 2;
            timed_det *o = realloc(r->out, cap * sizeof *o);
            if (!o)
                return lt_err_set(err, LT_ERR_NOMEM, "out of memory for %zu detections", r->n + n);
            r->out = o, r->cap = cap;
        }
        for (size_t q = 0; q < n; q++)
            r->out[r->n++] = (timed_det){r->stage_t[j], r->dets[q]};
    }
    r->nb = 0;
    return LT_OK;
}

static lt_status add_sample(void *ctx, const lt_gen1_sample *s, lt_err *err)
{
    det_run *r = ctx;
    if (r->samples == r->cap_t) {
        size_t cap = r->cap_t ? 2 * r->cap_t : 1024;
        int64_t *t = realloc(r->times, cap * sizeof *t);
        if (!t)
            return lt_err_set(err, LT_ERR_NOMEM, "out of memory after %zu samples", r->samples);
        r->times = t, r->cap_t = cap;
    }
    r->times[r->samples++] = s->t;
    memcpy(r->stage + (size_t)r->nb * r->T * r->frame, s->frames, (size_t)r->T * r->frame);
    r->stage_t[r->nb++] = s->t;
    return r->nb == r->B ? run_batch(r, err) : LT_OK;
}

/* The window, frame values and sensor the training cache was made with (its
 * options text), when the checkpoint names a cache that is still there. */
static void cache_binning(const char *ckpt, lt_gen1_opts *go)
{
    lt_st_file f;
    lt_err e;
    if (lt_st_read(&f, ckpt, &e))
        return;
    const char *data = lt_st_meta(&f, "data");
    lt_dataset d;
    if (data && *data && !lt_cache_open_split(&d, data, "train", &e)) {
        const char *p;
        long long w;
        int sw, sh;
        if ((p = strstr(d.opts, "window_us=")) && sscanf(p, "window_us=%lld", &w) == 1 && w > 0)
            go->window_us = w;
        if ((p = strstr(d.opts, "sensor=")) && sscanf(p, "sensor=%dx%d", &sw, &sh) == 2 && sw > 0 && sh > 0)
            go->sensor_w = sw, go->sensor_h = sh;
        if (strstr(d.opts, "value=count"))
            go->value = LT_BINVAL_COUNT;
        lt_dataset_free(&d);
    }
    lt_st_free(&f);
}

int cmd_detect(int argc, char **argv)
{
    const char *out = NULL, *every = NULL, *window = NULL, *filter = "toolbox", *sensor = NULL;
    int frames = 6, zoom = 2, cols = 3, batch = 16, threads = 0;
    float min_score = 0.3f;
    cli_opt opts[] = {
        {"--out", CLI_STR, &out, "output folder (created if missing; required)", 0, 0, 0},
        {"--every", CLI_STR, &every, "a sample every ... (default: at the box file's time stamps when NAME_bbox.npy "
         "is beside the recording, else every window)", 0, 0, 0},
        {"--window", CLI_STR, &window, "events before each sample's time (default: the training cache's, else "
         "100ms)", 0, 0, 0},
        {"--frames", CLI_INT, &frames, "sample times drawn, spread over the recording (default 6; 0: no pictures)", 0,
         0, MAX_FRAMES},
        {"--min-score", CLI_FLOAT, &min_score, "detections drawn: score at least this (default 0.3; the box file "
         "keeps all >= 0.01)", 0, 0, 1},
        {"--zoom", CLI_INT, &zoom, "pixels per sensor pixel in the single images (default 2)", 0, 1, 8},
        {"--columns", CLI_INT, &cols, "frames a row on the contact sheet (default 3)", 0, 1, 16},
        {"--filter", CLI_STR, &filter, "the Prophesee filter when scoring against the box file: toolbox (default), "
         "paper or none", 0, 0, 0},
        {"--sensor", CLI_STR, &sensor, "sensor WIDTHxHEIGHT (default: the training cache's, else 304x240)", 0, 0, 0},
        {"--batch", CLI_INT, &batch, "samples a forward pass (default 16)", 0, 1, 4096},
        {"--threads", CLI_INT, &threads, "worker threads (default: all cores)", 0, 1, 1024},
        {0},
    };
    const char *pos[2];
    int np;
    int r = cli_parse("detect", "CKPT RECORDING_td.dat --out DIR [options]\n\nRuns a detector's checkpoint over an "
                      "event recording (Prophesee DAT): the events of each\nsample's window become the net's T frames "
                      "(METHOD.md §9), its time-averaged output is\ndecoded and NMS'd.  Writes DIR/NAME_bbox.npy (the "
                      "detections in Gen1's v2 box format,\nclass_confidence = score, t = the sample's time) and, with "
                      "--frames, DIR/NAME_tNNNNNNNms.png\nand DIR/NAME_sheet.png (events, predicted boxes dashed with "
                      "scores, true boxes solid\nwhen NAME_bbox.npy is beside the recording, which is then also "
                      "scored).", argc, argv, 2, opts, pos, 2, &np);
    if (r)
        return r == 1 ? 0 : r;
    if (np != 2 || !out) {
        fprintf(stderr, "ltsnn detect: give a checkpoint, a _td.dat recording and --out DIR\n");
        return 2;
    }
    if (threads > 0)
        lt_set_threads(threads);
    lt_err err = {0};
    lt_net_config nc = {.T = 5, .B = batch, .max_memory = lt_mem_available()};
    lt_neuron_default(&nc.neuron);
    char model[4096];
    lt_det_head_config dc;
    lt_det_head_config_default(&dc);
    int found = 0, kmeans = 0;
    if (lt_ckpt_config(&nc, model, sizeof model, pos[0], &err) ||
        lt_det_head_config_read(&dc, pos[0], nc.classes, &found, &err)) {
        fprintf(stderr, "ltsnn detect: %s\n", err.msg);
        return 1;
    }
    if (!found) {
        fprintf(stderr, "ltsnn detect: %s is not a detector's checkpoint (no grid and anchors in its metadata)\n",
                pos[0]);
        return 1;
    }
    if (nc.in_c != 2) {
        fprintf(stderr, "ltsnn detect: %s takes %d input channels; event frames have 2 (OFF, ON)\n", pos[0], nc.in_c);
        return 1;
    }
    if ((r = cli_det_flags("detect", &dc, &kmeans, NULL, NULL, NULL, filter)))
        return r;
    lt_gen1_opts go;
    lt_gen1_opts_default(&go);
    cache_binning(pos[0], &go);
    go.T = nc.T, go.H = nc.in_h, go.W = nc.in_w, go.classes = dc.C;
    int64_t period = 0;
    if ((window && cli_parse_duration(window, &go.window_us)) || (every && cli_parse_duration(every, &period))) {
        fprintf(stderr, "ltsnn detect: %s %s: expected a duration such as 100ms\n", window ? "--window" : "--every",
                window ? window : every);
        return 2;
    }
    if (sensor) {
        int c, w, h;
        if (!cli_parse_shape(sensor, &c, &w, &h) || c) {
            fprintf(stderr, "ltsnn detect: --sensor %s: expected WIDTHxHEIGHT\n", sensor);
            return 2;
        }
        go.sensor_w = w, go.sensor_h = h;
    }
    /* the box file beside the recording, if any */
    const char *td = pos[1];
    size_t l = strlen(td), ls = strlen("_td.dat");
    char bb[4096], name[1024];
    const char *slash = strrchr(td, '/'), *base = slash ? slash + 1 : td;
    int has_bb = 0;
    if (l > ls && !strcmp(td + l - ls, "_td.dat")) {
        snprintf(bb, sizeof bb, "%.*s_bbox.npy", (int)(l - ls), td);
        has_bb = exists(bb);
        snprintf(name, sizeof name, "%.*s", (int)(strlen(base) - ls), base);
    } else {
        const char *dot = strrchr(base, '.');
        snprintf(name, sizeof name, "%.*s", (int)(dot ? (size_t)(dot - base) : strlen(base)), base);
    }
    if (!has_bb && !period)
        period = go.window_us;

    det_run run;
    memset(&run, 0, sizeof run);
    run.dc = &dc;
    run.T = nc.T, run.B = batch;
    run.frame = (size_t)2 * nc.in_h * nc.in_w;
    run.stage = malloc((size_t)batch * nc.T * run.frame);
    run.stage_t = malloc((size_t)batch * sizeof *run.stage_t);
    run.x = lt_alloc((size_t)batch * nc.T * run.frame * sizeof *run.x);
    run.obar = malloc(lt_det_outputs(dc.grid, dc.A, dc.C) * sizeof *run.obar);
    run.dets = malloc((size_t)dc.grid[0] * dc.grid[1] * dc.A * dc.C * sizeof *run.dets);
    shots sh;
    memset(&sh, 0, sizeof sh);
    lt_gen1_boxes ob;
    memset(&ob, 0, sizeof ob);
    lt_map_box *gt = NULL, *dt = NULL;
    int rc = 1;
    if (!run.stage || !run.stage_t || !run.x || !run.obar || !run.dets) {
        lt_err_set(&err, LT_ERR_NOMEM, "out of memory for a batch of %d samples", batch);
        goto fail;
    }
    if (lt_net_create(&run.net, &nc, &err) || lt_net_load(run.net, pos[0], &err))
        goto fail;
    if ((size_t)lt_net_classes(run.net) != lt_det_outputs(dc.grid, dc.A, dc.C)) {
        lt_err_set(&err, LT_ERR_SHAPE, "%s: %d outputs, its head needs %zu", pos[0], lt_net_classes(run.net),
                   lt_det_outputs(dc.grid, dc.A, dc.C));
        goto fail;
    }
    double t0 = lt_time_s();
    if (lt_gen1_recording_every(td, has_bb ? bb : NULL, period, &go, add_sample, &run, &err) ||
        run_batch(&run, &err))
        goto fail;
    double secs = lt_time_s() - t0;
    /* the detections in the Prophesee box format, pixels of the sensor */
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "ltsnn detect: %s: cannot create the folder: %s\n", out, strerror(errno));
        goto cleanup;
    }
    if (lt_gen1_boxes_alloc(&ob, run.n, &err))
        goto fail;
    const float sw = (float)go.sensor_w, shh = (float)go.sensor_h;
    for (size_t k = 0; k < run.n; k++) {
        const lt_det *d = &run.out[k].d;
        ob.t[k] = run.out[k].t;
        ob.x[k] = d->x0 * sw, ob.y[k] = d->y0 * shh, ob.w[k] = (d->x1 - d->x0) * sw, ob.h[k] = (d->y1 - d->y0) * shh;
        ob.cls[k] = (uint32_t)d->cls;
        ob.track[k] = 0;
        ob.score[k] = d->score;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s_bbox.npy", out, name);
    if (lt_gen1_boxes_write(path, &ob, LT_GEN1_V2, &err))
        goto fail;
    printf("%s: %zu samples (%s, window %.0f ms, T=%d, %dx%d), %zu detections in %.1f s -> %s\n", name, run.samples,
           period ? "evenly spaced" : "at the box time stamps", (double)go.window_us / 1000.0, nc.T, nc.in_h, nc.in_w,
           run.n, secs, path);
    if (has_bb) {
        /* scored against the recording's own box file, as ltsnn map would */
        size_t ng = 0;
        if (!(gt = cli_map_load(bb, &ng, &err)))
            goto fail;
        dt = malloc((run.n + 1) * sizeof *dt);
        if (!dt) {
            lt_err_set(&err, LT_ERR_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t k = 0; k < run.n; k++)
            dt[k] = (lt_map_box){ob.t[k], ob.x[k], ob.y[k], ob.w[k], ob.h[k], ob.score[k], (int32_t)ob.cls[k]};
        lt_map_rec rec = {gt, ng, dt, run.n, bb};
        lt_map_result res;
        if (lt_map_eval_recordings(&res, &rec, 1, dc.C, &dc.filter, dc.tol_us, &err))
            goto fail;
        printf("scored against %s:\n", bb);
        cli_map_print_table(&res, &dc.filter, dc.tol_us, 1);
    }
    if (frames > 0 && run.samples > 0) {
        /* a few sample times, evenly spread: their events at the sensor's resolution */
        sh.n = frames < (int)run.samples ? frames : (int)run.samples;
        for (int k = 0; k < sh.n; k++)
            sh.want[k] = run.times[sh.n > 1 ? (size_t)k * (run.samples - 1) / (size_t)(sh.n - 1) : 0];
        lt_gen1_opts g2 = go;
        g2.T = 1, g2.H = 0, g2.W = 0, g2.value = LT_BINVAL_COUNT;
        sh.frame_bytes = (size_t)2 * go.sensor_w * go.sensor_h;
        if (lt_gen1_recording_every(td, has_bb ? bb : NULL, period, &g2, keep_shot, &sh, &err))
            goto fail;
        for (int k = 0; k < sh.n; k++) {
            sh.pred[k] = malloc((run.n + 1) * sizeof *sh.pred[k]);
            if (!sh.pred[k]) {
                lt_err_set(&err, LT_ERR_NOMEM, "out of memory");
                goto fail;
            }
            for (size_t q = 0; q < run.n; q++) {
                const timed_det *e = &run.out[q];
                if (e->t == sh.want[k] && e->d.score >= min_score)
                    sh.pred[k][sh.n_pred[k]++] = (lt_draw_box){e->d.x0, e->d.y0, e->d.x1, e->d.y1, e->d.cls,
                                                                e->d.score};
            }
        }
        if (write_pictures("detect", out, name, &sh, go.sensor_w, go.sensor_h, zoom, cols))
            goto cleanup;
    }
    rc = 0;
    goto cleanup;
fail:
    fprintf(stderr, "ltsnn detect: %s\n", err.msg);
cleanup:
    shots_free(&sh);
    lt_gen1_boxes_free(&ob);
    free(gt);
    free(dt);
    lt_net_free(run.net);
    free(run.stage);
    free(run.stage_t);
    lt_free(run.x);
    free(run.obar);
    free(run.dets);
    free(run.out);
    free(run.times);
    return rc;
}
