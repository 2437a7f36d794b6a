/* test_gen1.c -- Gen1 data (src/events/gen1.c, gen1_synth.c) and the
 * detection frame cache (cache.c, version 2): box files in both dtypes and
 * the refusal of any other; every bad-input rule with its record index; the
 * targets rule (cut, empty dropped, last per track); a hand-built recording
 * walked into frames checked bin by bin; a dataset folder converted with 1
 * and 2 threads (same bytes), with and without --skip-bad; the cache's box
 * section read back, a version-1 file written by hand from docs/formats.md,
 * corrupt box sections refused; the synthetic recordings deterministic per
 * seed and independent of the thread count; anchors and batches from a
 * detection cache; a PNG drawn and decoded again. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <stb/stb_image.h>

#include "check.h"
#include "ltsnn.h"

static char dir[256];

static const char *tp(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void boxes_set(lt_gen1_boxes *b, size_t i, int64_t t, float x, float y, float w, float h, uint32_t c,
                      uint32_t track)
{
    b->t[i] = t, b->x[i] = x, b->y[i] = y, b->w[i] = w, b->h[i] = h, b->cls[i] = c, b->track[i] = track;
    b->score[i] = 0.5f + (float)i;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void spit(const char *path, const void *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
}

/* ---- box files ---- */

static void test_box_files(void)
{
    lt_err err;
    lt_gen1_boxes b, r;
    CHECK(lt_gen1_boxes_alloc(&b, 3, &err) == LT_OK, "%s", err.msg);
    boxes_set(&b, 0, 100000, 1.5f, 2.5f, 30, 40, 0, 7);
    boxes_set(&b, 1, 100000, -3, 5, 10, 10, 1, 8);
    boxes_set(&b, 2, 250000, 200, 100, 50, 20, 1, 9);
    for (int layout = 1; layout <= 2; layout++) {
        const char *p = tp(layout == 1 ? "v1_bbox.npy" : "v2_bbox.npy");
        CHECK(lt_gen1_boxes_write(p, &b, (lt_gen1_layout)layout, &err) == LT_OK, "%s", err.msg);
        CHECK(lt_gen1_boxes_read(&r, p, &err) == LT_OK, "%s", err.msg);
        int same = r.n == 3 && (int)r.layout == layout;
        for (size_t i = 0; same && i < 3; i++)
            same = r.t[i] == b.t[i] && r.x[i] == b.x[i] && r.y[i] == b.y[i] && r.w[i] == b.w[i] && r.h[i] == b.h[i] &&
                   r.cls[i] == b.cls[i] && r.track[i] == b.track[i] && r.score[i] == b.score[i];
        CHECK(same, "layout v%d round trip", layout);
        lt_gen1_boxes_free(&r);
        /* the on-disk record sizes Gen1 uses: 33 and 40 bytes */
        lt_npy a;
        CHECK(lt_npy_open(&a, p, &err) == LT_OK && a.itemsize == (layout == 1 ? 33u : 40u), "itemsize v%d", layout);
        lt_npy_close(&a);
    }
    /* dtypes that are neither layout are refused, not misread */
    const char *bad_descr[] = {
        "[('t', '<i8'), ('x', '<f8'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', '<u4'), "
        "('track_id', '<u4'), ('class_confidence', '<f4')]", /* x float64 */
        "[('t', '<i8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', '<u4'), "
        "('track_id', '<u4'), ('class_confidence', '<f4'), ('extra', '<f4')]", /* a ninth field */
        "[('t', '<i8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', '<u4'), "
        "('track_id', '<u4'), ('score', '<f4')]", /* another name */
        "'<f4'"};
    for (int k = 0; k < 4; k++) {
        uint64_t isz;
        lt_npy_descr_itemsize(bad_descr[k], &isz, &err);
        uint8_t *zero = calloc(2, (size_t)isz);
        uint64_t shape = 2;
        CHECK(lt_npy_write(tp("bad_bbox.npy"), bad_descr[k], 1, &shape, zero, 2 * (size_t)isz, &err) == LT_OK, "%s",
              err.msg);
        CHECK(lt_gen1_boxes_read(&r, tp("bad_bbox.npy"), &err) == LT_ERR_FORMAT &&
                  strstr(err.msg, "not a Gen1 box array") && strstr(err.msg, "bad_bbox.npy"),
              "dtype %d refused: %s", k, err.msg);
        free(zero);
    }
    /* a 2-D array of the right dtype too */
    uint8_t zero2[4 * 40] = {0};
    uint64_t sh2[2] = {2, 2};
    lt_npy_write(tp("bad_bbox.npy"),
                 "[('t', '<i8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'), ('h', '<f4'), ('class_id', '<u4'), "
                 "('track_id', '<u4'), ('class_confidence', '<f4'), ('', '|V4')]", 2, sh2, zero2, sizeof zero2, &err);
    CHECK(lt_gen1_boxes_read(&r, tp("bad_bbox.npy"), &err) == LT_ERR_FORMAT, "2-D refused");
    /* a v1 ts beyond int64 is refused by record */
    b.t[2] = -1; /* written as u8: 2^64 - 1 */
    CHECK(lt_gen1_boxes_write(tp("v1big_bbox.npy"), &b, LT_GEN1_V1, &err) == LT_ERR_ARG, "negative t into v1");
    lt_gen1_boxes_free(&b);
}

static void test_box_checks(void)
{
    lt_err err;
    lt_gen1_boxes b;
    lt_gen1_boxes_alloc(&b, 3, &err);
    struct {
        int field;
        float v;
        const char *msg;
    } cases[] = {{0, NAN, "box 1: x nan"}, {1, -2, "box 1: negative size"}, {2, 2, "box 1: class_id 2 out of range"},
                 {3, 0, "box 2: time stamp 99"}, {4, 400, "box 1: (x 400"}, {5, -60, "lies outside"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (size_t i = 0; i < 3; i++)
            boxes_set(&b, i, 100 + (int64_t)i, 10, 10, 20, 20, 0, (uint32_t)i);
        switch (cases[k].field) {
        case 0: b.x[1] = cases[k].v; break;
        case 1: b.w[1] = cases[k].v; break;
        case 2: b.cls[1] = (uint32_t)cases[k].v; break;
        case 3: b.t[2] = 99; break;
        case 4: b.x[1] = cases[k].v; break;
        default: b.y[1] = cases[k].v; b.h[1] = 50; break;
        }
        CHECK(lt_gen1_boxes_check(&b, "f_bbox.npy", 304, 240, 2, &err) == LT_ERR_FORMAT &&
                  strstr(err.msg, "f_bbox.npy") && strstr(err.msg, cases[k].msg),
              "case %zu: %s", k, err.msg);
    }
    for (size_t i = 0; i < 3; i++)
        boxes_set(&b, i, 100, 10, 10, 20, 20, 0, (uint32_t)i);
    b.x[0] = -15, b.w[0] = 20; /* partly outside: fine, cut later */
    b.w[1] = 0;                /* empty: fine, dropped later */
    CHECK(lt_gen1_boxes_check(&b, "f", 304, 240, 2, &err) == LT_OK, "%s", err.msg);

    /* targets: cut to the sensor, empty dropped, the last per track kept */
    lt_gen1_boxes_free(&b);
    lt_gen1_boxes_alloc(&b, 5, &err);
    boxes_set(&b, 0, 5, -10, 20, 30, 40, 1, 1);  /* cut to x 0..20 */
    boxes_set(&b, 1, 5, 100, 100, 0, 10, 0, 2);  /* empty */
    boxes_set(&b, 2, 5, 100, 100, 10, 10, 0, 3); /* replaced by box 4 (same track) */
    boxes_set(&b, 3, 5, 290, 230, 40, 40, 0, 4); /* cut to 290..304 x 230..240 */
    boxes_set(&b, 4, 5, 200, 100, 20, 20, 1, 3);
    lt_box t[5];
    size_t n = lt_gen1_targets(t, &b, 0, 5, 304, 240);
    CHECK(n == 3, "targets %zu", n);
    CHECK(n == 3 && t[0].cls == 1 && fabsf(t[0].cx - 10.f / 304) < 1e-7f && fabsf(t[0].w - 20.f / 304) < 1e-7f &&
              fabsf(t[0].cy - 40.f / 240) < 1e-7f && fabsf(t[0].h - 40.f / 240) < 1e-7f,
          "cut box %g %g %g %g", (double)t[0].cx, (double)t[0].cy, (double)t[0].w, (double)t[0].h);
    CHECK(n == 3 && fabsf(t[1].w - 14.f / 304) < 1e-7f && fabsf(t[1].h - 10.f / 240) < 1e-7f, "corner box");
    CHECK(n == 3 && t[2].cls == 1 && fabsf(t[2].cx - 210.f / 304) < 1e-7f, "the last box of track 3");
    /* a later empty box of a track does not displace a non-empty one */
    b.w[4] = 0;
    n = lt_gen1_targets(t, &b, 0, 5, 304, 240);
    CHECK(n == 3 && fabsf(t[1].cx - 105.f / 304) < 1e-7f, "empty later box ignored (%zu)", n);
    lt_gen1_boxes_free(&b);
}

/* ---- a hand-built recording ---- */

static void write_rec(const char *name, const int64_t (*ev)[4], size_t ne, int width, int height)
{
    lt_events e = {0};
    lt_err err;
    for (size_t k = 0; k < ne; k++)
        lt_events_push(&e, ev[k][0], (int)ev[k][1], (int)ev[k][2], (int)ev[k][3], &err);
    lt_writer_opts wo = {.format = LT_EVF_DAT, .width = width, .height = height};
    char p[600];
    snprintf(p, sizeof p, "%s_td.dat", name);
    CHECK(lt_events_write_file(p, &e, &wo, &err) == LT_OK, "%s", err.msg);
    lt_events_free(&e);
}

static void write_boxes(const char *name, int which)
{
    lt_err err;
    lt_gen1_boxes b;
    lt_gen1_boxes_alloc(&b, 6, &err);
    boxes_set(&b, 0, 50000, 10, 10, 20, 20, 0, 1);  /* before the first window: no sample */
    boxes_set(&b, 1, 150000, -10, 20, 30, 40, 1, 5); /* cut */
    boxes_set(&b, 2, 150000, 50, 50, 0, 10, 0, 6);  /* empty */
    boxes_set(&b, 3, 200000, 100, 100, 10, 10, 0, 7);
    boxes_set(&b, 4, 200000, 10, 10, 30, 30, 0, 8);
    boxes_set(&b, 5, 200000, 200, 100, 20, 20, 1, 7); /* replaces box 3 */
    if (which == 1)
        b.cls[4] = 3; /* class out of range */
    char p[600];
    snprintf(p, sizeof p, "%s_bbox.npy", name);
    CHECK(lt_gen1_boxes_write(p, &b, which == 2 ? LT_GEN1_V1 : LT_GEN1_V2, &err) == LT_OK, "%s", err.msg);
    lt_gen1_boxes_free(&b);
}

static const int64_t rec_events[6][4] = {{50000, 8, 10, 1},    {100000, 16, 20, 0},  {149999, 24, 30, 1},
                                         {150000, 32, 40, 1},  {199999, 303, 239, 0}, {200000, 40, 50, 0}};

typedef struct seen {
    int n;
    int64_t t[4];
    uint8_t frames[4][2 * 2 * 24 * 38];
    lt_box boxes[4][4];
    size_t nb[4], events[4];
} seen;

static lt_status keep(void *ctx, const lt_gen1_sample *s, lt_err *err)
{
    seen *v = ctx;
    if (v->n >= 4)
        return lt_err_set(err, LT_ERR_ARG, "too many samples");
    v->t[v->n] = s->t;
    memcpy(v->frames[v->n], s->frames, sizeof v->frames[0]);
    memcpy(v->boxes[v->n], s->boxes, s->n_boxes * sizeof *s->boxes);
    v->nb[v->n] = s->n_boxes;
    v->events[v->n] = s->events;
    v->n++;
    return LT_OK;
}

/* frames [T=2][2][24][38]: value at (t, channel, y, x) */
static int px(const uint8_t *f, int t, int c, int y, int x) { return f[((t * 2 + c) * 24 + y) * 38 + x]; }
static int total(const uint8_t *f)
{
    int s = 0;
    for (int k = 0; k < 2 * 2 * 24 * 38; k++)
        s += f[k];
    return s;
}

/* DIR/NAME as a recording's base, its _td.dat and _bbox.npy paths. */
static void rec_paths(char *base, char *td, char *bb, const char *name)
{
    snprintf(base, 600, "%s/%s", dir, name);
    snprintf(td, 700, "%s_td.dat", base);
    snprintf(bb, 700, "%s_bbox.npy", base);
}

static void test_recording(void)
{
    char base[600], td[700], bb[700];
    rec_paths(base, td, bb, "rec");
    write_rec(base, rec_events, 6, 304, 240);
    write_boxes(base, 0);
    lt_gen1_opts o;
    lt_gen1_opts_default(&o);
    o.T = 2, o.H = 24, o.W = 38; /* x' = x / 8, y' = y / 10 */
    seen v;
    memset(&v, 0, sizeof v);
    lt_err err;
    CHECK(lt_gen1_recording(td, bb, &o, keep, &v, &err) == LT_OK, "%s", err.msg);
    CHECK(v.n == 2 && v.t[0] == 150000 && v.t[1] == 200000, "samples at 150 and 200 ms (50 ms < window): %d", v.n);
    if (v.n == 2) {
        /* t_l 150 ms: window [50, 150) ms, bins of 50 ms */
        const uint8_t *f = v.frames[0];
        CHECK(px(f, 0, 1, 1, 1) == 1 && px(f, 1, 0, 2, 2) == 1 && px(f, 1, 1, 3, 3) == 1 && total(f) == 3,
              "frames of t_l 150 ms (total %d)", total(f));
        CHECK(v.events[0] == 3, "3 events in [50, 150) ms");
        /* t_l 200 ms: window [100, 200): 100 and 149.999 ms in bin 0, 150 and 199.999 ms in bin 1; 200 ms not */
        f = v.frames[1];
        CHECK(px(f, 0, 0, 2, 2) == 1 && px(f, 0, 1, 3, 3) == 1 && px(f, 1, 1, 4, 4) == 1 && px(f, 1, 0, 23, 37) == 1 &&
                  total(f) == 4,
              "frames of t_l 200 ms (total %d)", total(f));
        CHECK(v.nb[0] == 1 && v.nb[1] == 2 && v.boxes[1][0].cls == 0 && v.boxes[1][1].cls == 1 &&
                  fabsf(v.boxes[1][1].cx - 210.f / 304) < 1e-7f,
              "targets %zu %zu", v.nb[0], v.nb[1]);
    }
    /* count frames: the same walk with counts saturating, here all 1 */
    o.value = LT_BINVAL_COUNT;
    memset(&v, 0, sizeof v);
    CHECK(lt_gen1_recording(td, bb, &o, keep, &v, &err) == LT_OK && v.n == 2 && total(v.frames[1]) == 4, "counts");
    o.value = LT_BINVAL_BINARY;

    /* bad input, each named */
    CHECK(lt_gen1_recording(td, NULL, &o, keep, &v, &err) == LT_ERR_IO && strstr(err.msg, "rec_td.dat") &&
              strstr(err.msg, "no _bbox.npy"), "missing box file: %s", err.msg);
    CHECK(lt_gen1_recording(NULL, bb, &o, keep, &v, &err) == LT_ERR_IO && strstr(err.msg, "no _td.dat"),
          "missing recording: %s", err.msg);
    rec_paths(base, td, bb, "empty");
    write_rec(base, rec_events, 0, 304, 240);
    write_boxes(base, 0);
    CHECK(lt_gen1_recording(td, bb, &o, keep, &v, &err) == LT_ERR_FORMAT && strstr(err.msg, "no events"),
          "empty recording: %s", err.msg);
    rec_paths(base, td, bb, "order");
    const int64_t back[3][4] = {{1000, 1, 1, 1}, {90000, 2, 2, 0}, {80000, 3, 3, 1}};
    write_rec(base, back, 3, 304, 240);
    write_boxes(base, 0);
    CHECK(lt_gen1_recording(td, bb, &o, keep, &v, &err) == LT_ERR_FORMAT && strstr(err.msg, "event 2") &&
              strstr(err.msg, "time order"), "events backwards: %s", err.msg);
    rec_paths(base, td, bb, "out");
    const int64_t wide[2][4] = {{1000, 1, 1, 1}, {2000, 310, 2, 0}};
    write_rec(base, wide, 2, 0, 0); /* no size in the header: ltsnn's own check */
    write_boxes(base, 0);
    CHECK(lt_gen1_recording(td, bb, &o, keep, &v, &err) == LT_ERR_FORMAT && strstr(err.msg, "event 1") &&
              strstr(err.msg, "outside the 304x240"), "event outside: %s", err.msg);
    write_rec(base, wide, 1, 640, 480);
    CHECK(lt_gen1_recording(td, bb, &o, keep, &v, &err) == LT_ERR_FORMAT && strstr(err.msg, "640x480"),
          "header sensor: %s", err.msg);
    rec_paths(base, td, bb, "cls");
    write_rec(base, rec_events, 6, 304, 240);
    write_boxes(base, 1);
    CHECK(lt_gen1_recording(td, bb, &o, keep, &v, &err) == LT_ERR_FORMAT && strstr(err.msg, "cls_bbox.npy: box 4") &&
              strstr(err.msg, "class_id 3"), "class out of range: %s", err.msg);
}

/* ---- a dataset folder into caches ---- */

static void make_folder(const char *root)
{
    char p[700];
    mkdir(root, 0777);
    snprintf(p, sizeof p, "%s/train", root);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/val", root);
    mkdir(p, 0777);
    const char *names[] = {"train/a_2", "train/a_10", "train/b", "val/c"};
    for (int k = 0; k < 4; k++) {
        snprintf(p, sizeof p, "%s/%s", root, names[k]);
        write_rec(p, rec_events, 6, 304, 240);
        write_boxes(p, k == 2 ? 1 : k == 3 ? 2 : 0); /* b: a bad class; c: v1 box file */
    }
    snprintf(p, sizeof p, "%s/train/lonely", root); /* a recording without its box file */
    write_rec(p, rec_events, 6, 304, 240);
}

static void test_convert(void)
{
    char root[600];
    snprintf(root, sizeof root, "%s/g1", dir);
    make_folder(root);
    lt_err err;
    lt_gen1_ds ds;
    CHECK(lt_gen1_scan(&ds, root, &err) == LT_OK, "%s", err.msg);
    CHECK(ds.n[0] == 4 && ds.n[1] == 1 && ds.n[2] == 0, "recordings %zu %zu %zu", ds.n[0], ds.n[1], ds.n[2]);
    if (ds.n[0] == 4)
        CHECK(!strcmp(ds.rec[0][0].name, "a_2") && !strcmp(ds.rec[0][1].name, "a_10") && !ds.rec[0][3].bbox,
              "natural order, a missing box file: %s %s", ds.rec[0][0].name, ds.rec[0][1].name);
    lt_gen1_opts o;
    lt_gen1_opts_default(&o);
    o.T = 2, o.H = 24, o.W = 38;
    size_t skipped = 0, samples = 0;
    /* without --skip-bad the first bad recording stops it, named */
    lt_cache_writer *w;
    CHECK(lt_gen1_writer_open(&w, tp("c1.ltc"), NULL, &o, "train", &err) == LT_OK, "%s", err.msg);
    CHECK(lt_gen1_convert(w, &ds, 0, &o, &skipped, &samples, &err) == LT_ERR_FORMAT && strstr(err.msg, "b_bbox.npy"),
          "bad recording stops: %s", err.msg);
    lt_cache_writer_abort(w);
    CHECK(access(tp("c1.ltc"), F_OK) != 0, "nothing left behind");
    o.skip_bad = 1;
    for (int threads = 1; threads <= 2; threads++) {
        o.threads = threads;
        CHECK(lt_gen1_writer_open(&w, tp(threads == 1 ? "c1.ltc" : "c2.ltc"), NULL, &o, "train", &err) == LT_OK, "%s",
              err.msg);
        CHECK(lt_gen1_convert(w, &ds, 0, &o, &skipped, &samples, &err) == LT_OK, "%s", err.msg);
        CHECK(skipped == 2 && samples == 4, "skipped %zu (b, lonely), samples %zu", skipped, samples);
        CHECK(lt_cache_writer_commit(w, &err) == LT_OK, "%s", err.msg);
    }
    size_t l1, l2;
    unsigned char *b1 = slurp(tp("c1.ltc"), &l1), *b2 = slurp(tp("c2.ltc"), &l2);
    CHECK(b1 && b2 && l1 == l2 && !memcmp(b1, b2, l1), "1 and 2 threads give the same cache");
    free(b2);

    lt_dataset d;
    CHECK(lt_cache_open(&d, tp("c1.ltc"), &err) == LT_OK, "%s", err.msg);
    CHECK(d.task == LT_TASK_DETECT && d.n == 4 && d.n_recs == 2 && d.sensor_w == 304 && d.sensor_h == 240 &&
              d.classes == 2 && d.Ts == 2 && d.H == 24 && d.W == 38, "detection cache header");
    CHECK(d.n_recs == 2 && !strcmp(d.rec_names[0], "train/a_2") && !strcmp(d.rec_names[1], "train/a_10"),
          "recording names");
    CHECK(d.box_start[0] == 0 && d.box_start[1] == 1 && d.box_start[2] == 3 && d.box_start[4] == 6,
          "box_start %llu %llu %llu", (unsigned long long)d.box_start[1], (unsigned long long)d.box_start[2],
          (unsigned long long)d.box_start[4]);
    CHECK(d.sample_t[0] == 150000 && d.sample_t[1] == 200000 && d.sample_rec[2] == 1 && d.labels[3] == 0,
          "per-sample t and recording");
    CHECK(d.class_names && !strcmp(d.class_names[1], "pedestrian"), "class names");
    /* lt_cache_write of the opened dataset gives the same file back */
    CHECK(lt_cache_write(tp("c3.ltc"), &d, &err) == LT_OK, "%s", err.msg);
    size_t l3;
    unsigned char *b3 = slurp(tp("c3.ltc"), &l3);
    CHECK(b3 && l3 == l1 && !memcmp(b1, b3, l1), "a detection dataset written again is the same file");
    free(b3);
    /* the frames are the walk's, packed: sample 1 bit (t 1, ON, y 4, x 4) */
    float *x = malloc(2 * 2 * 24 * 38 * sizeof *x);
    lt_dataset_get(&d, 1, x, 2, 1, 0);
    CHECK(x[((1 * 2 + 1) * 24 + 4) * 38 + 4] == 1 && x[((1 * 2 + 0) * 24 + 23) * 38 + 37] == 1, "unpacked frames");
    free(x);
    /* batches and anchors */
    size_t idx[2] = {3, 0};
    lt_box bb[8];
    uint32_t start[3];
    CHECK(lt_dataset_box_total(&d, idx, 2) == 3, "box total");
    CHECK(lt_det_batch_boxes(bb, start, &d, idx, 2) == 3 && start[0] == 0 && start[1] == 2 && start[2] == 3 &&
              bb[2].cls == 1, "batch of samples 3 and 0");
    float anchors[4];
    double iou;
    const int grid[2] = {6, 8};
    CHECK(lt_det_anchors_dataset(anchors, &iou, &d, grid, 2, 1, &err) == LT_OK && anchors[0] > 0 && iou > 0.5,
          "anchors from a cache: %s", err.msg);
    lt_dataset_free(&d);

    /* a corrupt box section is refused: bit flips (CRC), and a bad class
     * with a correct CRC (the check behind the checksum) */
    int accepted = 0;
    size_t det = (size_t)b1[176] | (size_t)b1[177] << 8 | (size_t)b1[178] << 16;
    for (size_t i = det; i < l1; i += 3) {
        b1[i] ^= 0x04;
        spit(tp("bad.ltc"), b1, l1);
        accepted += lt_cache_open(&d, tp("bad.ltc"), &err) == LT_OK;
        lt_dataset_free(&d);
        b1[i] ^= 0x04;
    }
    CHECK(accepted == 0, "%d flips in the box section accepted", accepted);
    size_t box0 = det + 8 * 5 + 8 * 4 + 16; /* box_start [5], t [4], rec [4] padded to 16 */
    b1[box0 + 16] = 5;
    uint32_t crc = (uint32_t)crc32(0, b1, (uInt)(l1 - 4));
    for (int k = 0; k < 4; k++)
        b1[l1 - 4 + k] = (unsigned char)(crc >> (8 * k));
    spit(tp("bad.ltc"), b1, l1);
    CHECK(lt_cache_open(&d, tp("bad.ltc"), &err) == LT_ERR_FORMAT && strstr(err.msg, "box 0 has class 5"),
          "bad class behind a good CRC: %s", err.msg);
    lt_dataset_free(&d);
    free(b1);
    lt_gen1_ds_free(&ds);
    CHECK(lt_gen1_scan(&ds, dir, &err) == LT_ERR_IO && strstr(err.msg, "no train, val or test"), "not a Gen1 root");
}

/* ---- version 1 still opens: a file made by hand from docs/formats.md ---- */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static void test_version1(void)
{
    /* 3 samples of Ts=1, C=1, H=2, W=4 bits (1 byte each), 2 classes, opts "x=1", names "a","b" */
    unsigned char f[300] = {0};
    memcpy(f, "LTSNNFRM", 8);
    put32(f + 8, 1);
    put32(f + 12, 1);
    put64(f + 16, 3);
    put32(f + 24, 1), put32(f + 28, 1), put32(f + 32, 2), put32(f + 36, 4);
    put32(f + 40, 2);
    float one = 1;
    uint32_t ob;
    memcpy(&ob, &one, 4);
    put32(f + 44, ob);
    put64(f + 48, 1);
    put64(f + 56, 192);        /* align64(152 + 3 + 4) */
    put64(f + 64, 256);        /* align64(192 + 3) */
    put64(f + 72, 256 + 12 + 4);
    memcpy(f + 80, "hand", 4);
    put32(f + 144, 3), put32(f + 148, 4);
    memcpy(f + 152, "x=1a\0b\0", 7);
    f[192] = 0x0f, f[193] = 0xf0, f[194] = 0x81;
    put32(f + 256, 1), put32(f + 260, 0), put32(f + 264, 1);
    uint32_t crc = (uint32_t)crc32(0, f, 268);
    put32(f + 268, crc);
    spit(tp("v1.ltc"), f, 272);
    lt_dataset d;
    lt_err err;
    CHECK(lt_cache_open(&d, tp("v1.ltc"), &err) == LT_OK, "version 1 file: %s", err.msg);
    CHECK(d.task == LT_TASK_CLASSIFY && d.n == 3 && d.labels[0] == 1 && d.labels[2] == 1 && !d.boxes &&
              !strcmp(d.name, "hand") && !strcmp(d.opts, "x=1") && d.class_names && !strcmp(d.class_names[1], "b"),
          "version 1 contents");
    float x[8];
    lt_dataset_get(&d, 2, x, 1, 1, 0);
    CHECK(x[0] == 1 && x[7] == 1 && x[1] == 0, "version 1 bits");
    lt_dataset_free(&d);
}

/* ---- synthetic recordings ---- */

static void test_synth(void)
{
    lt_gen1_synth_opts o;
    lt_gen1_synth_opts_default(&o);
    o.duration_s = 0.6;
    lt_err err;
    lt_events a = {0}, b = {0}, c = {0};
    lt_gen1_boxes ba, bb, bc;
    CHECK(lt_gen1_synth_recording(&a, &ba, &o, 0, 3, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_gen1_synth_recording(&b, &bb, &o, 0, 3, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_gen1_synth_recording(&c, &bc, &o, 1, 3, &err) == LT_OK, "%s", err.msg);
    CHECK(a.n > 1000 && a.n == b.n && !memcmp(a.t, b.t, a.n * sizeof *a.t) && !memcmp(a.x, b.x, a.n * sizeof *a.x) &&
              !memcmp(a.p, b.p, a.n), "same seed, same events (%zu)", a.n);
    CHECK(ba.n > 0 && ba.n == bb.n && !memcmp(ba.x, bb.x, ba.n * sizeof *ba.x), "same boxes (%zu)", ba.n);
    CHECK(c.n != a.n || memcmp(a.t, c.t, a.n * sizeof *a.t), "another split, other events");
    int ok = 1;
    for (size_t k = 1; k < a.n; k++)
        ok &= a.t[k] >= a.t[k - 1] && a.x[k] < 304 && a.y[k] < 240;
    CHECK(ok, "events sorted, inside 304x240");
    ok = 1;
    for (size_t k = 0; k < ba.n; k++)
        ok &= ba.t[k] % 100000 == 0 && ba.t[k] > 0 && ba.w[k] > 0 && ba.h[k] > 0 && ba.cls[k] < 2 &&
              (k == 0 || ba.t[k] >= ba.t[k - 1]) && ba.score[k] == 1;
    CHECK(ok, "boxes every 100 ms, positive sizes, classes 0/1");
    CHECK(lt_gen1_boxes_check(&ba, "synth", 304, 240, 2, &err) == LT_OK, "synthetic boxes pass the checks: %s",
          err.msg);
    lt_events_free(&a), lt_events_free(&b), lt_events_free(&c);
    lt_gen1_boxes_free(&ba), lt_gen1_boxes_free(&bb), lt_gen1_boxes_free(&bc);

    /* whole folders: the same files for 1 and 2 threads; v1 box files on request */
    o.n[0] = 3, o.n[1] = 1, o.n[2] = 0;
    o.duration_s = 0.3;
    char r1[600], r2[600];
    snprintf(r1, sizeof r1, "%s/s1", dir);
    snprintf(r2, sizeof r2, "%s/s2", dir);
    o.threads = 1;
    CHECK(lt_gen1_synth_write(r1, &o, &err) == LT_OK, "%s", err.msg);
    o.threads = 2;
    CHECK(lt_gen1_synth_write(r2, &o, &err) == LT_OK, "%s", err.msg);
    const char *files[] = {"train/synth_train_0002_td.dat", "train/synth_train_0002_bbox.npy",
                           "val/synth_val_0000_td.dat"};
    for (int k = 0; k < 3; k++) {
        char p1[700], p2[700];
        snprintf(p1, sizeof p1, "%s/%s", r1, files[k]);
        snprintf(p2, sizeof p2, "%s/%s", r2, files[k]);
        size_t l1 = 0, l2 = 0;
        unsigned char *f1 = slurp(p1, &l1), *f2 = slurp(p2, &l2);
        CHECK(f1 && f2 && l1 == l2 && !memcmp(f1, f2, l1), "%s: same bytes for 1 and 2 threads", files[k]);
        free(f1), free(f2);
    }
    o.layout = LT_GEN1_V1;
    o.n[0] = 1, o.n[1] = 0;
    snprintf(r1, sizeof r1, "%s/s3", dir);
    CHECK(lt_gen1_synth_write(r1, &o, &err) == LT_OK, "%s", err.msg);
    char p[700];
    snprintf(p, sizeof p, "%s/train/synth_train_0000_bbox.npy", r1);
    CHECK(lt_gen1_boxes_read(&ba, p, &err) == LT_OK && ba.layout == LT_GEN1_V1, "v1 box file: %s", err.msg);
    lt_gen1_boxes_free(&ba);
}

/* ---- drawing ---- */

static void test_draw(void)
{
    lt_image im;
    lt_err err;
    CHECK(lt_image_alloc(&im, 80, 60, LT_RGB(1, 2, 3), &err) == LT_OK, "%s", err.msg);
    uint8_t counts[2 * 20 * 30] = {0};
    counts[5 * 30 + 6] = 2;             /* OFF */
    counts[20 * 30 + 10 * 30 + 12] = 1; /* ON */
    lt_draw_box b = {0.5f, 0.5f, 0.9f, 0.9f, 1, -1};
    const char *names[2] = {"car", "pedestrian"};
    lt_draw_frame(&im, 10, 0, 2, counts, 20, 30, &b, 1, names, 2, NULL);
    CHECK(lt_image_write_png(&im, tp("f.png"), &err) == LT_OK, "%s", err.msg);
    int w, h, c;
    unsigned char *px = stbi_load(tp("f.png"), &w, &h, &c, 3);
    CHECK(px && w == 80 && h == 60, "PNG decodes to 80x60");
    if (px) {
        const unsigned char *bg = px, *off = px + ((5 * 2) * 80 + 10 + 6 * 2) * 3, *on = px + ((10 * 2) * 80 + 10 + 12 * 2) * 3;
        uint32_t col = lt_draw_class_color(1);
        /* the box's right edge: x = 10 + 0.9 * 60 - 1, y at 80% of the frame */
        const unsigned char *edge = px + ((int)(0.8 * 40) * 80 + 10 + 54 - 1) * 3;
        CHECK(bg[0] == 1 && bg[1] == 2 && bg[2] == 3, "background");
        CHECK(off[2] > off[0] && on[0] > on[2], "OFF blue, ON orange");
        CHECK(edge[0] == (col >> 16 & 255) && edge[1] == (col >> 8 & 255) && edge[2] == (col & 255),
              "box edge in the class colour");
        free(px);
    }
    CHECK(lt_image_text_width("car", 1) > 0 && lt_image_text_width("car", 2) == 2 * lt_image_text_width("car", 1),
          "text width scales");
    CHECK(lt_image_write_png(&im, "/nonexistent-dir/x.png", &err) == LT_ERR_IO, "unwritable path");
    lt_image_free(&im);
    CHECK(lt_image_alloc(&im, 0, 10, 0, &err) == LT_ERR_ARG, "empty image refused");
}

int main(void)
{
    check_begin("test_gen1");
    snprintf(dir, sizeof dir, "/tmp/ltsnn-test-gen1-%d", (int)getpid());
    mkdir(dir, 0777);
    test_box_files();
    test_box_checks();
    test_recording();
    test_convert();
    test_version1();
    test_synth();
    test_draw();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_done();
}
