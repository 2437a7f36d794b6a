/* test_datasets.c -- dataset folder layouts (METHOD.md §6) on small
 * generated folders in /tmp: detection, labels, deterministic splits,
 * conversion to caches (sample by sample against the binner, identical
 * bytes for 1 and 2 threads), per-sample sensor size, the CIFAR10-DVS fix,
 * bad files with and without skipping, statistics and scan errors.
 *
 * The event files are written byte by byte here (ATIS .bin, Prophesee DAT,
 * AEDAT 2.0 DVS128), following the format notes in
 * ../shared/data/events/README.md, so the test does not depend on the
 * event writers. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "ltsnn/data.h"

static char root[256];

typedef struct evlist {
    size_t n;
    int64_t t[512];
    int x[512], y[512], p[512];
} evlist;

static void gen(evlist *e, lt_rng *r, size_t n, int w, int h)
{
    e->n = n;
    int64_t t = lt_rng_below(r, 1000);
    for (size_t j = 0; j < n; j++) {
        t += lt_rng_below(r, 500);
        e->t[j] = t;
        e->x[j] = (int)lt_rng_below(r, (uint32_t)w);
        e->y[j] = (int)lt_rng_below(r, (uint32_t)h);
        e->p[j] = (int)lt_rng_below(r, 2);
    }
}

static void mkdirs(const char *path)
{
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0700);
            *s = '/';
        }
    mkdir(p, 0700);
}

static FILE *create(const char *path)
{
    char d[1024];
    snprintf(d, sizeof d, "%s", path);
    *strrchr(d, '/') = 0;
    mkdirs(d);
    return fopen(path, "wb");
}

static void write_atis(const char *path, const evlist *e)
{
    FILE *f = create(path);
    for (size_t j = 0; j < e->n; j++) {
        uint32_t t = (uint32_t)e->t[j];
        unsigned char b[5] = {(unsigned char)e->x[j], (unsigned char)e->y[j],
                              (unsigned char)((e->p[j] << 7) | ((t >> 16) & 0x7f)), (unsigned char)(t >> 8),
                              (unsigned char)t};
        fwrite(b, 1, 5, f);
    }
    fclose(f);
}

static void write_dat(const char *path, const evlist *e)
{
    FILE *f = create(path);
    fputs("% Data file containing CD events.\n% Version 2\n", f);
    fputc(0x0c, f);
    fputc(8, f);
    for (size_t j = 0; j < e->n; j++) {
        uint32_t t = (uint32_t)e->t[j], a = (uint32_t)e->x[j] | (uint32_t)e->y[j] << 14 | (uint32_t)e->p[j] << 28;
        unsigned char b[8];
        for (int i = 0; i < 4; i++)
            b[i] = (unsigned char)(t >> (8 * i)), b[4 + i] = (unsigned char)(a >> (8 * i));
        fwrite(b, 1, 8, f);
    }
    fclose(f);
}

static void write_aedat(const char *path, const evlist *e)
{
    FILE *f = create(path);
    fputs("#!AER-DAT2.0\r\n# This is a raw AE data file created by test_datasets\r\n", f);
    for (size_t j = 0; j < e->n; j++) {
        uint32_t a = (uint32_t)e->p[j] | (uint32_t)e->x[j] << 1 | (uint32_t)e->y[j] << 8, t = (uint32_t)e->t[j];
        unsigned char b[8];
        for (int i = 0; i < 4; i++)
            b[i] = (unsigned char)(a >> (24 - 8 * i)), b[4 + i] = (unsigned char)(t >> (24 - 8 * i));
        fwrite(b, 1, 8, f);
    }
    fclose(f);
}

static void path_of(char *out, size_t cap, const char *sub) { snprintf(out, cap, "%s/%s", root, sub); }

/* ---- the four folders ---- */

static const char *const cifar_classes[10] = {"airplane", "automobile", "bird", "cat",  "deer",
                                              "dog",      "frog",       "horse", "ship", "truck"};
static const char *const caltech_classes[3] = {"accordion", "BACKGROUND_Google", "Faces_easy"};

static void make_folders(void)
{
    lt_rng r;
    lt_rng_seed(&r, 1234);
    evlist e;
    char p[1024];
    for (int d = 0; d < 10; d++) {
        for (int i = 0; i < 2; i++) {
            gen(&e, &r, 30 + lt_rng_below(&r, 50), 34, 34);
            snprintf(p, sizeof p, "%s/nmnist/Train/%d/%05d.bin", root, d, 10 * d + i);
            write_atis(p, &e);
        }
        gen(&e, &r, 40, 34, 34);
        snprintf(p, sizeof p, "%s/nmnist/Test/%d/%05d.bin", root, d, d);
        write_atis(p, &e);
    }
    for (int c = 0; c < 10; c++)
        for (int i = 0; i < 12; i++) {
            gen(&e, &r, 20 + lt_rng_below(&r, 20), 128, 128);
            snprintf(p, sizeof p, "%s/cifar/%s/cifar10_%s_%d.aedat", root, cifar_classes[c], cifar_classes[c], i);
            write_aedat(p, &e);
        }
    for (int c = 0; c < 3; c++)
        for (int i = 1; i <= 5; i++) {
            gen(&e, &r, 50, c == 0 ? 100 : 240, c == 0 ? 50 : 180);
            snprintf(p, sizeof p, "%s/caltech/%s/image_%04d.bin", root, caltech_classes[c], i);
            write_atis(p, &e);
        }
    static const char *const cars[2] = {"background", "cars"};
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 3 - s; i++) {
                gen(&e, &r, 10 + 10 * (size_t)i, 120, 100);
                snprintf(p, sizeof p, "%s/ncars/%s/%s/obj_%06d_td.dat", root, s ? "test" : "train", cars[c], i);
                write_dat(p, &e);
            }
}

static void test_detect(void)
{
    static const struct {
        const char *sub;
        lt_ds_kind kind;
    } cases[] = {{"nmnist", LT_DS_NMNIST}, {"cifar", LT_DS_CIFAR10DVS}, {"caltech", LT_DS_NCALTECH101},
                 {"ncars", LT_DS_NCARS}};
    char p[1024];
    lt_err err;
    for (size_t i = 0; i < 4; i++) {
        lt_ds_kind k = (lt_ds_kind)99;
        path_of(p, sizeof p, cases[i].sub);
        CHECK(lt_ds_detect(&k, p, &err) == LT_OK && k == cases[i].kind, "detect %s: %s", cases[i].sub,
              lt_ds_kind_name(k));
    }
    lt_ds_kind k;
    CHECK(lt_ds_kind_parse(&k, "CIFAR10_DVS", &err) == LT_OK && k == LT_DS_CIFAR10DVS, "name parse");
    CHECK(lt_ds_kind_parse(&k, "nmnist", &err) == LT_OK && k == LT_DS_NMNIST, "name parse");
    CHECK(lt_ds_kind_parse(&k, "imagenet", &err) == LT_ERR_ARG, "unknown name");
}

static int ends(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && !strcmp(s + n - m, tail);
}

static void test_scans(void)
{
    char p[1024];
    lt_err err;
    lt_ds ds, ds2;

    path_of(p, sizeof p, "nmnist");
    CHECK(lt_ds_scan(&ds, LT_DS_NMNIST, p, NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(ds.train.n == 20 && ds.test.n == 10 && ds.classes == 10 && ds.in_w == 34, "n-mnist: %zu/%zu", ds.train.n,
          ds.test.n);
    CHECK(ds.train.labels[0] == 0 && ds.train.labels[19] == 9 && ends(ds.train.paths[19], "Train/9/00091.bin"),
          "n-mnist labels are digits: %s", ds.train.paths[19]);
    lt_ds_free(&ds);

    /* CIFAR10-DVS: 12 files a class, random 10% -> 1 test file a class, deterministic */
    path_of(p, sizeof p, "cifar");
    CHECK(lt_ds_scan(&ds, LT_DS_CIFAR10DVS, p, NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(ds.train.n == 110 && ds.test.n == 10 && ds.split.test_percent == 10, "cifar: %zu/%zu", ds.train.n,
          ds.test.n);
    CHECK(ds.test.labels[0] == 0 && ds.test.labels[9] == 9 && ds.train.labels[109] == 9, "labels in class order");
    CHECK(strstr(ds.train.paths[0], "airplane/") && strstr(ds.train.paths[109], "truck/"), "class folders");
    CHECK(lt_ds_scan(&ds2, LT_DS_CIFAR10DVS, p, NULL, &err) == LT_OK, "%s", err.msg);
    int same = ds2.test.n == ds.test.n;
    for (size_t i = 0; same && i < ds.test.n; i++)
        same = !strcmp(ds.test.paths[i], ds2.test.paths[i]);
    CHECK(same, "the split is the same on every scan");
    lt_ds_free(&ds2);
    lt_ds_scan_opts so;
    lt_ds_scan_opts_default(&so);
    so.seed = 7;
    CHECK(lt_ds_scan(&ds2, LT_DS_CIFAR10DVS, p, &so, &err) == LT_OK, "%s", err.msg);
    int differ = 0;
    for (size_t i = 0; i < ds.test.n; i++)
        differ += strcmp(ds.test.paths[i], ds2.test.paths[i]) != 0;
    CHECK(differ > 0, "another seed draws other test files");
    lt_ds_free(&ds2);
    lt_ds_free(&ds);

    /* first-N rule in natural name order: _0 and _1 are test, _2 is the first train file (not _10) */
    lt_ds_scan_opts_default(&so);
    so.rule = LT_SPLIT_FIRST;
    so.first_n = 2;
    CHECK(lt_ds_scan(&ds, LT_DS_CIFAR10DVS, p, &so, &err) == LT_OK, "%s", err.msg);
    CHECK(ds.test.n == 20 && ends(ds.test.paths[0], "cifar10_airplane_0.aedat") &&
              ends(ds.test.paths[1], "cifar10_airplane_1.aedat"), "first 2: %s", ds.test.paths[0]);
    CHECK(ends(ds.train.paths[0], "cifar10_airplane_2.aedat") && ends(ds.train.paths[9], "cifar10_airplane_11.aedat"),
          "natural order: %s ... %s", ds.train.paths[0], ds.train.paths[9]);
    lt_ds_free(&ds);

    /* N-Caltech101: labels in byte order of the names, 20% test */
    path_of(p, sizeof p, "caltech");
    CHECK(lt_ds_scan(&ds, LT_DS_NCALTECH101, p, NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(ds.classes == 3 && !strcmp(ds.class_names[0], "BACKGROUND_Google") &&
              !strcmp(ds.class_names[1], "Faces_easy") && !strcmp(ds.class_names[2], "accordion"),
          "sorted class names");
    CHECK(ds.train.n == 12 && ds.test.n == 3 && ds.in_w == 240 && ds.in_h == 180, "caltech %zu/%zu", ds.train.n,
          ds.test.n);
    lt_ds_free(&ds);

    /* N-Cars: background 0, cars 1 */
    path_of(p, sizeof p, "ncars");
    CHECK(lt_ds_scan(&ds, LT_DS_NCARS, p, NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(ds.train.n == 6 && ds.test.n == 4 && !strcmp(ds.class_names[0], "background") &&
              ds.train.labels[0] == 0 && strstr(ds.train.paths[0], "/background/") && ds.train.labels[5] == 1 &&
              strstr(ds.train.paths[5], "/cars/"),
          "n-cars labels");
    lt_ds_free(&ds);

    /* scan errors */
    path_of(p, sizeof p, "nope");
    CHECK(lt_ds_scan(&ds, LT_DS_NMNIST, p, NULL, &err) == LT_ERR_IO && strstr(err.msg, "nope"), "%s", err.msg);
    path_of(p, sizeof p, "nmnist");
    CHECK(lt_ds_scan(&ds, LT_DS_CIFAR10DVS, p, NULL, &err) == LT_ERR_IO && strstr(err.msg, "airplane"),
          "missing class folder: %s", err.msg);
    path_of(p, sizeof p, "broken/Train/0");
    mkdirs(p);
    path_of(p, sizeof p, "broken");
    CHECK(lt_ds_scan(&ds, LT_DS_NMNIST, p, NULL, &err) == LT_ERR_IO && strstr(err.msg, "Train/1"),
          "missing digit folder: %s", err.msg);
}

typedef struct cb_log {
    size_t last_done, last_total, calls, skips;
    char skipped[8400];     /* a path and an lt_err message */
} cb_log;

static void on_progress(void *ctx, size_t done, size_t total)
{
    cb_log *l = ctx;
    l->last_done = done, l->last_total = total;
    l->calls++;
}

static void on_skip(void *ctx, const char *path, const lt_err *why)
{
    cb_log *l = ctx;
    l->skips++;
    snprintf(l->skipped, sizeof l->skipped, "%.1000s | %.1000s", path, why->msg); /* the start of each is enough */
}

/* Converts split f of ds into path; returns the status. */
static lt_status convert(const char *path, const lt_ds *ds, const lt_ds_files *f, lt_ds_prep_opts *o, size_t *skipped,
                         lt_err *err)
{
    lt_cache_writer *w;
    lt_status st = lt_ds_writer_open(&w, path, ds, o, "train", err);
    if (st)
        return st;
    if ((st = lt_ds_convert(w, ds, f, o, skipped, err))) {
        lt_cache_writer_abort(w);
        return st;
    }
    return lt_cache_writer_commit(w, err);
}

static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* Every sample of the cache equals its file read and binned directly. */
static int check_samples(const lt_dataset *d, const lt_ds *ds, const lt_ds_files *f, const lt_bin_opts *b0,
                         int fix)
{
    int bad = 0;
    size_t fn = (size_t)b0->T * 2 * b0->H * b0->W;
    uint8_t *fr = malloc(fn), *pk = malloc(fn);
    lt_err err;
    for (size_t i = 0; i < f->n && i < d->n; i++) {
        lt_events ev = {0};
        lt_reader_opts ro = ds->reader;
        if (lt_events_read_file(&ev, f->paths[i], &ro, &err)) {
            bad++;
            continue;
        }
        if (fix)
            for (size_t j = 0; j < ev.n; j++)
                ev.x[j] = (uint16_t)(127 - ev.x[j]), ev.p[j] = (uint8_t)!ev.p[j];
        lt_bin_opts b = *b0;
        if (b.in_w < 0) {
            b.in_w = b.in_h = 1;
            for (size_t j = 0; j < ev.n; j++) {
                if (ev.x[j] + 1 > b.in_w)
                    b.in_w = ev.x[j] + 1;
                if (ev.y[j] + 1 > b.in_h)
                    b.in_h = ev.y[j] + 1;
            }
        }
        if (lt_bin_events(fr, &ev, &b, &err))
            bad++;
        else if (b.value == LT_BINVAL_BINARY)
            lt_frames_pack(pk, fr, fn), bad += memcmp(pk, d->data + i * d->sample_bytes, d->sample_bytes) != 0;
        else
            bad += memcmp(fr, d->data + i * d->sample_bytes, d->sample_bytes) != 0;
        bad += d->labels[i] != f->labels[i];
        lt_events_free(&ev);
    }
    free(fr);
    free(pk);
    return bad;
}

static void test_convert(void)
{
    char p[1024], c1[1024], c2[1024];
    lt_err err;
    lt_ds ds;
    lt_dataset d;
    cb_log log;
    lt_ds_prep_opts o;

    /* N-MNIST at native size, 1 vs 2 threads, sample by sample */
    path_of(p, sizeof p, "nmnist");
    CHECK(lt_ds_scan(&ds, LT_DS_NMNIST, p, NULL, &err) == LT_OK, "%s", err.msg);
    lt_ds_prep_opts_default(&o);
    o.bin.T = 5;
    o.bin.H = o.bin.W = 34;
    o.threads = 1;
    memset(&log, 0, sizeof log);
    o.progress = on_progress;
    o.ctx = &log;
    path_of(c1, sizeof c1, "nm1.ltc");
    path_of(c2, sizeof c2, "nm2.ltc");
    size_t skipped = 9;
    CHECK(convert(c1, &ds, &ds.train, &o, &skipped, &err) == LT_OK && skipped == 0, "%s", err.msg);
    CHECK(log.calls >= 1 && log.last_done == 20 && log.last_total == 20, "progress reaches 20/20");
    o.threads = 2;
    CHECK(convert(c2, &ds, &ds.train, &o, NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(same_file(c1, c2), "1 and 2 threads give the same bytes");
    CHECK(lt_cache_open(&d, c1, &err) == LT_OK, "%s", err.msg);
    lt_bin_opts b = o.bin;
    b.in_w = b.in_h = 34;
    CHECK(d.n == 20 && d.Ts == 5 && d.C == 2 && d.H == 34 && d.bits == 1 && !strcmp(d.name, "n-mnist") &&
              d.class_names && !strcmp(d.class_names[7], "7"), "n-mnist cache header");
    CHECK(strstr(d.opts, "T=5") && strstr(d.opts, "bin=time") && strstr(d.opts, "sensor=34x34"), "opts: %s",
          d.opts);
    CHECK(check_samples(&d, &ds, &ds.train, &b, 0) == 0, "n-mnist samples equal the binner's frames");
    lt_dataset_free(&d);

    /* count values, equal-count bins, crop, window: all reach the cache */
    o.bin.value = LT_BINVAL_COUNT;
    o.bin.mode = LT_BIN_COUNT;
    o.bin.space = LT_BINSP_CROP;
    o.bin.H = o.bin.W = 20;
    o.bin.window_us = 5000;
    CHECK(convert(c1, &ds, &ds.test, &o, NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_cache_open(&d, c1, &err) == LT_OK && d.bits == 8 && d.H == 20, "count cache: %s", err.msg);
    b = o.bin;
    b.in_w = b.in_h = 34;
    CHECK(check_samples(&d, &ds, &ds.test, &b, 0) == 0, "count/crop/window samples");
    CHECK(strstr(d.opts, "value=count") && strstr(d.opts, "space=crop") && strstr(d.opts, "window_us=5000"),
          "opts: %s", d.opts);
    lt_dataset_free(&d);
    lt_ds_free(&ds);

    /* CIFAR10-DVS 128 -> 48 with and without the flip/polarity fix */
    path_of(p, sizeof p, "cifar");
    CHECK(lt_ds_scan(&ds, LT_DS_CIFAR10DVS, p, NULL, &err) == LT_OK, "%s", err.msg);
    lt_ds_prep_opts_default(&o);
    for (int fix = 0; fix < 2; fix++) {
        o.cifar10dvs_fix = fix;
        CHECK(convert(c1, &ds, &ds.test, &o, NULL, &err) == LT_OK, "%s", err.msg);
        CHECK(lt_cache_open(&d, c1, &err) == LT_OK && d.n == 10 && d.H == 48 && d.W == 48, "%s", err.msg);
        b = o.bin;
        b.in_w = b.in_h = 128;
        CHECK(check_samples(&d, &ds, &ds.test, &b, fix) == 0, "cifar10-dvs samples, fix %d", fix);
        CHECK(strstr(d.opts, fix ? "fix=1" : "fix=0") && strstr(d.opts, "rule=random10%/seed42"), "opts: %s",
              d.opts);
        lt_dataset_free(&d);
    }
    lt_ds_free(&ds);

    /* N-Caltech101: per-sample sensor size (class 0's files only reach 100x50) */
    path_of(p, sizeof p, "caltech");
    CHECK(lt_ds_scan(&ds, LT_DS_NCALTECH101, p, NULL, &err) == LT_OK, "%s", err.msg);
    lt_ds_prep_opts_default(&o);
    o.bin.in_w = o.bin.in_h = -1;
    o.bin.H = o.bin.W = 10;
    CHECK(convert(c1, &ds, &ds.train, &o, NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_cache_open(&d, c1, &err) == LT_OK && strstr(d.opts, "sensor=auto"), "%s", err.msg);
    CHECK(check_samples(&d, &ds, &ds.train, &o.bin, 0) == 0, "per-sample sensor size");
    lt_dataset_free(&d);
    lt_ds_free(&ds);

    /* N-Cars and its statistics: train files hold 10, 20, 30 events per class */
    path_of(p, sizeof p, "ncars");
    CHECK(lt_ds_scan(&ds, LT_DS_NCARS, p, NULL, &err) == LT_OK, "%s", err.msg);
    lt_ds_prep_opts_default(&o);
    o.bin.H = 100, o.bin.W = 120;
    CHECK(convert(c1, &ds, &ds.train, &o, NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_cache_open(&d, c1, &err) == LT_OK && d.n == 6 && d.labels[0] == 0 && d.labels[5] == 1, "%s", err.msg);
    b = o.bin;
    b.in_w = 120, b.in_h = 100;
    CHECK(check_samples(&d, &ds, &ds.train, &b, 0) == 0, "n-cars samples");
    lt_dataset_free(&d);
    lt_ds_stats s;
    CHECK(lt_ds_stats_compute(&s, &ds, &ds.train, 0, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(s.files == 6 && s.bad == 0 && s.events_min == 10 && s.events_max == 30 && s.events_mean == 20.0,
          "stats: %zu files, events %zu..%zu mean %g", s.files, s.events_min, s.events_max, s.events_mean);
    CHECK(s.x_max < 120 && s.y_max < 100 && s.dur_min > 0 && s.dur_max >= s.dur_min, "extent and durations");
    CHECK(lt_ds_stats_compute(&s, &ds, &ds.train, 1, &o, &err) == LT_OK && s.files == 2 && s.events_max == 10,
          "first file of each class only");
    lt_ds_free(&ds);
    unlink(c1);
    unlink(c2);
}

static size_t count_entries(const char *d)
{
    DIR *dd = opendir(d);
    size_t n = 0;
    struct dirent *e;
    while (dd && (e = readdir(dd)))
        n += e->d_name[0] != '.';
    if (dd)
        closedir(dd);
    return n;
}

static void test_bad_files(void)
{
    char p[1024], out[1100], outdir[1024];
    lt_err err;
    evlist e;
    lt_rng r;
    lt_rng_seed(&r, 5);
    /* a copy of the N-Mnist layout with two bad files: an event outside 34x34, a partial record */
    for (int d = 0; d < 10; d++) {
        gen(&e, &r, 20, 34, 34);
        snprintf(p, sizeof p, "%s/nmbad/Train/%d/00001.bin", root, d);
        write_atis(p, &e);
    }
    gen(&e, &r, 20, 34, 34);
    e.x[7] = 40;
    snprintf(p, sizeof p, "%s/nmbad/Train/3/00002.bin", root);
    write_atis(p, &e);
    snprintf(p, sizeof p, "%s/nmbad/Train/5/00002.bin", root);
    FILE *f = create(p);
    fwrite("\1\2\3\4\5\6\7", 1, 7, f);
    fclose(f);

    path_of(outdir, sizeof outdir, "out");
    mkdirs(outdir);
    snprintf(out, sizeof out, "%s/bad.ltc", outdir);
    lt_ds ds;
    path_of(p, sizeof p, "nmbad");
    CHECK(lt_ds_scan(&ds, LT_DS_NMNIST, p, NULL, &err) == LT_OK && ds.train.n == 12, "%s", err.msg);
    lt_ds_prep_opts o;
    lt_ds_prep_opts_default(&o);
    o.bin.H = o.bin.W = 34;
    cb_log log;
    memset(&log, 0, sizeof log);
    o.on_skip = on_skip;
    o.ctx = &log;
    o.threads = 2;
    lt_status st = convert(out, &ds, &ds.train, &o, NULL, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "Train/3/00002.bin") && strstr(err.msg, "event 7"),
          "first bad file stops the conversion: %s", err.msg);
    CHECK(count_entries(outdir) == 0, "no cache or temporary file left");

    o.skip_bad = 1;
    size_t skipped = 0;
    CHECK(convert(out, &ds, &ds.train, &o, &skipped, &err) == LT_OK, "%s", err.msg);
    CHECK(skipped == 2 && log.skips == 2 && strstr(log.skipped, "Train/5/00002.bin"), "skipped %zu: %s", skipped,
          log.skipped);
    lt_dataset d;
    CHECK(lt_cache_open(&d, out, &err) == LT_OK && d.n == 10, "10 good samples kept");
    lt_dataset_free(&d);
    lt_ds_stats s;
    memset(&log, 0, sizeof log);
    CHECK(lt_ds_stats_compute(&s, &ds, &ds.train, 0, &o, &err) == LT_OK && s.bad == 1 && s.files == 11 &&
              log.skips == 1, "stats count the unreadable file: %zu bad", s.bad);
    lt_ds_free(&ds);
    unlink(out);
}

/* Real recordings (../shared/data/events, see its README): count frames
 * keep every event, so the values of a sample sum to the file's event count. */
static void test_real_files(void)
{
    static const struct {
        const char *file, *link;
        lt_ds_kind kind;
        size_t events;
    } cases[] = {{"sample_nmnist.bin", "real-nm/Test/5/00001.bin", LT_DS_NMNIST, 4325},
                 {"sample_ncars.dat", "real-cars/test/cars/obj_000001_td.dat", LT_DS_NCARS, 2009},
                 {"NCARS_obj_004397_td.dat", "real-cars/test/background/obj_004397_td.dat", LT_DS_NCARS, 4407}};
    char src[1024], cwd[512], p[1024], c[1024];
    if (!getcwd(cwd, sizeof cwd) || access("../shared/data/events/sample_nmnist.bin", R_OK)) {
        CHECK_SKIP("../shared/data/events not found; real recordings");
        return;
    }
    lt_err err;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(src, sizeof src, "%s/../shared/data/events/%s", cwd, cases[i].file);
        path_of(p, sizeof p, cases[i].link);
        fclose(create(p));
        unlink(p);
        CHECK(symlink(src, p) == 0, "link %s", p);
    }
    for (int k = 0; k < 2; k++) {
        lt_ds ds;
        path_of(p, sizeof p, k ? "real-cars" : "real-nm");
        for (int digit = 0; !k && digit < 10; digit++) { /* N-MNIST needs every digit's folder */
            char q[1024];
            snprintf(q, sizeof q, "%s/real-nm/Test/%d", root, digit);
            mkdirs(q);
        }
        CHECK(lt_ds_scan(&ds, k ? LT_DS_NCARS : LT_DS_NMNIST, p, NULL, &err) == LT_OK, "%s", err.msg);
        lt_ds_prep_opts o;
        lt_ds_prep_opts_default(&o);
        o.bin.T = 10;
        o.bin.value = LT_BINVAL_COUNT;
        o.bin.H = k ? 100 : 34, o.bin.W = k ? 120 : 34;
        path_of(c, sizeof c, "real.ltc");
        CHECK(convert(c, &ds, &ds.test, &o, NULL, &err) == LT_OK, "%s", err.msg);
        lt_dataset d;
        if (lt_cache_open(&d, c, &err) == LT_OK) {
            size_t fr = (size_t)d.C * d.H * d.W, nel = 10 * fr;
            float *x = malloc(nel * sizeof *x);
            for (size_t s = 0; s < d.n; s++) {
                lt_dataset_get(&d, s, x, 10, 1, 0);
                double sum = 0;
                for (size_t j = 0; j < nel; j++)
                    sum += x[j];
                size_t want = 0;
                for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++)
                    if (strstr(ds.test.paths[s], strrchr(cases[q].link, '/')))
                        want = cases[q].events;
                CHECK(sum == (double)want, "%s: frames hold %.0f events, the file %zu", ds.test.paths[s], sum, want);
            }
            free(x);
            lt_dataset_free(&d);
        } else {
            CHECK(0, "%s", err.msg);
        }
        unlink(c);
        lt_ds_free(&ds);
    }
}

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        rm_tree(p);
    }
    closedir(d);
    rmdir(path);
}

int main(void)
{
    check_begin("test_datasets");
    snprintf(root, sizeof root, "/tmp/ltsnn-test-ds-%ld", (long)getpid());
    mkdirs(root);
    make_folders();
    test_detect();
    test_scans();
    test_convert();
    test_bad_files();
    test_real_files();
    rm_tree(root);
    return check_done();
}
