/* cmd_detect.c -- pictures of detection data: `ltsnn data show-gen1` draws
 * a recording's frames with their ground-truth boxes (PNG, one image per
 * chosen box time and a contact sheet), so synthetic or real Gen1 data can
 * be looked at.  The drawing takes any box list, so `ltsnn detect`
 * (predicted boxes from a trained net, a later phase) reuses it.  Also the
 * duration flag parser the detection verbs share.  Only flags, file names
 * and printing; the work is in src/events/gen1.c and src/detect/draw.c. */
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
    size_t frame_bytes;
} shots;

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
    lt_image sheet = {0};
    if (lt_gen1_recording(td, bb, &go, keep_shot, &sh, &err)) {
        fprintf(stderr, "ltsnn %s: %s\n", VERB, err.msg);
        goto free_shots;
    }
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "ltsnn %s: %s: cannot create the folder: %s\n", VERB, out, strerror(errno));
        goto free_shots;
    }
    const char *slash = strrchr(td, '/');
    char name[1024];
    snprintf(name, sizeof name, "%.*s", (int)(strlen(slash ? slash + 1 : td) - strlen("_td.dat")), slash ? slash + 1 : td);
    const char *const names[LT_GEN1_CLASSES] = {lt_gen1_class_name(0), lt_gen1_class_name(1)};
    const int rows = (sh.n + cols - 1) / cols, gap = 4;
    if (lt_image_alloc(&sheet, cols * (W + gap) + gap, rows * (H + gap) + gap, LT_RGB(60, 60, 60), &err))
        goto fail;
    for (int k = 0; k < sh.n; k++) {
        if (!sh.frames[k])
            continue;
        lt_draw_box db[256];
        size_t nd = to_draw(db, sh.boxes[k], sh.n_boxes[k] < 256 ? sh.n_boxes[k] : 256);
        char cap[160], path[4200];
        snprintf(cap, sizeof cap, "%.60s t=%.3fs %zu ev %zu box", name, (double)sh.want[k] * 1e-6, sh.events[k], nd);
        lt_image im;
        if (lt_image_alloc(&im, W * zoom, H * zoom, 0, &err))
            goto fail;
        lt_draw_frame(&im, 0, 0, zoom, sh.frames[k], H, W, db, nd, names, LT_GEN1_CLASSES, cap);
        snprintf(path, sizeof path, "%s/%s_t%07lldms.png", out, name, (long long)(sh.want[k] / 1000));
        lt_status st = lt_image_write_png(&im, path, &err);
        lt_image_free(&im);
        if (st)
            goto fail;
        printf("wrote %s (%zu events, %zu boxes)\n", path, sh.events[k], nd);
        snprintf(cap, sizeof cap, "t=%.3fs", (double)sh.want[k] * 1e-6);
        lt_draw_frame(&sheet, gap + (k % cols) * (W + gap), gap + (k / cols) * (H + gap), 1, sh.frames[k], H, W, db, nd,
                      names, LT_GEN1_CLASSES, cap);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s_sheet.png", out, name);
    if (lt_image_write_png(&sheet, path, &err))
        goto fail;
    printf("wrote %s (%d frames)\n", path, sh.n);
    rc = 0;
    goto free_shots;
fail:
    fprintf(stderr, "ltsnn %s: %s\n", VERB, err.msg);
free_shots:
    lt_image_free(&sheet);
    for (int k = 0; k < sh.n; k++)
        free(sh.frames[k]), free(sh.boxes[k]);
    return rc;
}
