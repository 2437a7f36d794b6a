/* datasets.c -- event datasets as distributed on disk (METHOD.md §6):
 * folder layouts, labels, train/test splits, and the conversion of a file
 * list into a frame cache.
 *
 * A scan only lists files; a conversion reads each file with the events/
 * readers, bins it (binner.c) and appends the packed frames to a cache
 * writer (cache.c) in list order.  Files are converted in parallel (OpenMP)
 * in chunks whose results are appended in order, so the cache is the same
 * byte for byte whatever the thread count.  Not here: file formats
 * (readers), the frame layout (binner.c) and the cache layout (cache.c). */
#include "ltsnn/data.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* CIFAR10-DVS's classes; the label is the position in this list. */
static const char *const cifar10_classes[10] = {"airplane", "automobile", "bird", "cat",  "deer",
                                                "dog",      "frog",       "horse", "ship", "truck"};
static const char *const ncars_classes[2] = {"background", "cars"};
static const char *const digit_classes[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

static const char *const kind_names[LT_DS_KINDS] = {"cifar10-dvs", "n-mnist", "n-caltech101", "n-cars", "folders"};

/* list_dir's filter for "any recording ltsnn reads" (LT_DS_FOLDERS): by the format table's extensions. */
static const char REC_ANY[] = "*";

#define CHUNK 64 /* files converted in parallel before their results are appended in order */

const char *lt_ds_kind_name(lt_ds_kind k)
{
    return (unsigned)k < LT_DS_KINDS ? kind_names[k] : "unknown";
}

/* Compares names ignoring case and '-' / '_', so "CIFAR10_DVS" and "nmnist" match. */
static int name_eq(const char *a, const char *b)
{
    for (;;) {
        while (*a == '-' || *a == '_')
            a++;
        while (*b == '-' || *b == '_')
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        if ((*a | 0x20) != (*b | 0x20))
            return 0;
        a++, b++;
    }
}

lt_status lt_ds_kind_parse(lt_ds_kind *k, const char *name, lt_err *err)
{
    for (int i = 0; i < LT_DS_KINDS; i++)
        if (name_eq(name, kind_names[i])) {
            *k = (lt_ds_kind)i;
            return LT_OK;
        }
    return lt_err_set(err, LT_ERR_ARG, "unknown dataset '%s' (expected cifar10-dvs, n-mnist, n-caltech101, "
                      "n-cars or folders)", name);
}

void lt_ds_scan_opts_default(lt_ds_scan_opts *o)
{
    memset(o, 0, sizeof *o);
    o->rule = LT_SPLIT_RANDOM;
    o->first_n = 100;
    o->seed = 42;
}

void lt_ds_prep_opts_default(lt_ds_prep_opts *o)
{
    memset(o, 0, sizeof *o);
    o->bin.T = 10;
    o->bin.H = o->bin.W = 48;
    o->bin.mode = LT_BIN_TIME;
    o->bin.value = LT_BINVAL_BINARY;
    o->bin.space = LT_BINSP_SCALE;
}

/* ---- small growable lists ---- */

typedef struct strlist {
    char **s;
    size_t n, cap;
} strlist;

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->s[i]);
    free(l->s);
    memset(l, 0, sizeof *l);
}

static int strlist_push(strlist *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **p = realloc(l->s, cap * sizeof *p);
        if (!p)
            return 0;
        l->s = p;
        l->cap = cap;
    }
    size_t len = strlen(s) + 1;
    if (!(l->s[l->n] = malloc(len)))
        return 0;
    memcpy(l->s[l->n++], s, len);
    return 1;
}

static int cmp_byte(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
/* Natural order (GNU strverscmp): "x_2" before "x_10", so "the first 100 files" are numbers 0..99. */
static int cmp_natural(const void *a, const void *b) { return strverscmp(*(char *const *)a, *(char *const *)b); }

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int ends_with_ci(const char *s, const char *ext)
{
    size_t n = strlen(s), m = strlen(ext);
    return n > m && !strcasecmp(s + n - m, ext);
}

/* Entries of dir that are folders (ext NULL) or regular files ending in ext,
 * hidden names skipped, sorted by byte order (folders) or naturally (files). */
static lt_status list_dir(strlist *out, const char *dir, const char *ext, lt_err *err)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return lt_err_set(err, LT_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    lt_status st = LT_OK;
    char path[4096];
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (ext && (ext == REC_ANY ? lt_ev_format_from_ext(e->d_name) == LT_EVF_AUTO : !ends_with_ci(e->d_name, ext)))
            continue;
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof path) {
            st = lt_err_set(err, LT_ERR_IO, "%s/%s: path too long", dir, e->d_name);
            goto close_dir;
        }
        struct stat sb;
        if (stat(path, &sb) != 0)
            continue; /* a dangling link is not a sample */
        if (ext ? !S_ISREG(sb.st_mode) : !S_ISDIR(sb.st_mode))
            continue;
        if (!strlist_push(out, e->d_name)) {
            st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory listing the folder", dir);
            goto close_dir;
        }
    }
    if (out->n)
        qsort(out->s, out->n, sizeof *out->s, ext ? cmp_natural : cmp_byte);
close_dir:
    closedir(d);
    if (st)
        strlist_free(out);
    return st;
}

static void files_free(lt_ds_files *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->paths[i]);
    free(f->paths);
    free(f->labels);
    memset(f, 0, sizeof *f);
}

static int files_push(lt_ds_files *f, size_t *cap, const char *dir, const char *name, int32_t label)
{
    if (f->n == *cap) {
        size_t c = *cap ? 2 * *cap : 256;
        char **p = realloc(f->paths, c * sizeof *p);
        if (!p)
            return 0;
        f->paths = p;
        int32_t *l = realloc(f->labels, c * sizeof *l);
        if (!l)
            return 0;
        f->labels = l;
        *cap = c;
    }
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    if (!s)
        return 0;
    snprintf(s, n, "%s/%s", dir, name);
    f->paths[f->n] = s;
    f->labels[f->n++] = label;
    return 1;
}

void lt_ds_free(lt_ds *ds)
{
    if (!ds)
        return;
    if (ds->class_names) {
        for (int c = 0; c < ds->classes; c++)
            free(ds->class_names[c]);
        free(ds->class_names);
    }
    files_free(&ds->train);
    files_free(&ds->test);
    memset(ds, 0, sizeof *ds);
}

static lt_status set_classes(lt_ds *ds, const char *const *names, int n, lt_err *err)
{
    ds->class_names = calloc((size_t)n, sizeof *ds->class_names);
    if (!ds->class_names)
        return lt_err_set(err, LT_ERR_NOMEM, "cannot allocate %d class names", n);
    ds->classes = n;
    for (int c = 0; c < n; c++) {
        size_t l = strlen(names[c]) + 1;
        if (!(ds->class_names[c] = malloc(l)))
            return lt_err_set(err, LT_ERR_NOMEM, "cannot allocate class names");
        memcpy(ds->class_names[c], names[c], l);
    }
    return LT_OK;
}

static lt_status join(char *out, size_t cap, const char *a, const char *b, lt_err *err)
{
    int n = snprintf(out, cap, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= cap)
        return lt_err_set(err, LT_ERR_IO, "%s/%s: path too long", a, b);
    return LT_OK;
}

/* One class folder with its own split (CIFAR10-DVS, N-Caltech101): files in
 * natural name order; class c's test files are drawn by lt_rng seeded with
 * seed + c, so one class's draw does not depend on the others' file counts. */
static lt_status add_class_split(lt_ds *ds, size_t caps[2], const char *dir, int c, const char *ext, lt_err *err)
{
    strlist fl;
    lt_status st = list_dir(&fl, dir, ext, err);
    if (st)
        return st;
    size_t n = fl.n, k;
    uint8_t *is_test = calloc(n ? n : 1, 1);
    uint32_t *perm = malloc((n ? n : 1) * sizeof *perm);
    if (!is_test || !perm || n > UINT32_MAX) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: cannot split %zu files", dir, n);
        goto free_lists;
    }
    if (ds->split.rule == LT_SPLIT_FIRST) {
        k = (size_t)ds->split.first_n < n ? (size_t)ds->split.first_n : n;
        for (size_t i = 0; i < k; i++)
            is_test[i] = 1;
    } else {
        k = (n * (size_t)ds->split.test_percent + 50) / 100;
        lt_rng r;
        lt_rng_seed(&r, ds->split.seed + (uint64_t)c);
        for (size_t i = 0; i < n; i++)
            perm[i] = (uint32_t)i;
        lt_rng_shuffle_u32(&r, perm, n);
        for (size_t i = 0; i < k; i++)
            is_test[perm[i]] = 1;
    }
    for (size_t i = 0; i < n; i++) {
        lt_ds_files *f = is_test[i] ? &ds->test : &ds->train;
        if (!files_push(f, &caps[is_test[i]], dir, fl.s[i], c)) {
            st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory listing files", dir);
            goto free_lists;
        }
    }
free_lists:
    free(is_test);
    free(perm);
    strlist_free(&fl);
    return st;
}

/* Finds ROOT/<Name> or ROOT/<name> (N-MNIST ships Train/Test, N-Cars train/test). */
static int find_split_dir(char *out, size_t cap, const char *root, const char *name)
{
    char alt[16];
    snprintf(alt, sizeof alt, "%s", name);
    for (int pass = 0; pass < 2; pass++) {
        alt[0] = (char)(pass ? (alt[0] & ~0x20) : (alt[0] | 0x20));
        int n = snprintf(out, cap, "%s/%s", root, alt);
        if (n > 0 && (size_t)n < cap && is_dir(out))
            return 1;
    }
    return 0;
}

/* Official split: ROOT/{train,test}/<class>/ with a fixed class list.  A
 * missing split folder leaves that split empty; a missing class folder
 * inside a present one is an error. */
static lt_status scan_official(lt_ds *ds, size_t caps[2], const char *root, const char *ext, lt_err *err)
{
    static const char *const splits[2] = {"train", "test"};
    char sdir[4096], cdir[4096];
    int found = 0;
    for (int s = 0; s < 2; s++) {
        if (!find_split_dir(sdir, sizeof sdir, root, splits[s]))
            continue;
        found++;
        lt_ds_files *f = s ? &ds->test : &ds->train;
        for (int c = 0; c < ds->classes; c++) {
            lt_status st = join(cdir, sizeof cdir, sdir, ds->class_names[c], err);
            if (st)
                return st;
            if (!is_dir(cdir))
                return lt_err_set(err, LT_ERR_IO, "%s: missing class folder (the %s layout is "
                                  "ROOT/{%s,%s}/<class>/*%s)", cdir, lt_ds_kind_name(ds->kind),
                                  ds->kind == LT_DS_NMNIST ? "Train" : "train",
                                  ds->kind == LT_DS_NMNIST ? "Test" : "test", ext);
            strlist fl;
            if ((st = list_dir(&fl, cdir, ext, err)))
                return st;
            for (size_t i = 0; i < fl.n; i++)
                if (!files_push(f, &caps[s], cdir, fl.s[i], c)) {
                    strlist_free(&fl);
                    return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory listing files", cdir);
                }
            strlist_free(&fl);
        }
    }
    if (!found)
        return lt_err_set(err, LT_ERR_IO, "%s: neither %s/ nor %s/ found (the %s layout is "
                          "ROOT/{train,test}/<class>/*%s)", root, ds->kind == LT_DS_NMNIST ? "Train" : "train",
                          ds->kind == LT_DS_NMNIST ? "Test" : "test", lt_ds_kind_name(ds->kind), ext);
    return LT_OK;
}

lt_status lt_ds_scan(lt_ds *ds, lt_ds_kind kind, const char *root, const lt_ds_scan_opts *o, lt_err *err)
{
    memset(ds, 0, sizeof *ds);
    if ((unsigned)kind >= LT_DS_KINDS)
        return lt_err_set(err, LT_ERR_ARG, "dataset kind %d unknown", (int)kind);
    if (!is_dir(root))
        return lt_err_set(err, LT_ERR_IO, "%s: not a folder (expected the %s dataset's root)", root,
                          lt_ds_kind_name(kind));
    ds->kind = kind;
    lt_ds_scan_opts_default(&ds->split);
    if (o)
        ds->split = *o;
    if (ds->split.rule != LT_SPLIT_RANDOM && ds->split.rule != LT_SPLIT_FIRST)
        return lt_err_set(err, LT_ERR_ARG, "split rule %d unknown", (int)ds->split.rule);
    if (ds->split.test_percent == 0)
        ds->split.test_percent = kind == LT_DS_NCALTECH101 ? 20 : 10;
    if (ds->split.test_percent < 0 || ds->split.test_percent > 100)
        return lt_err_set(err, LT_ERR_ARG, "test percentage %d, expected 0..100", ds->split.test_percent);
    if (ds->split.first_n < 0)
        return lt_err_set(err, LT_ERR_ARG, "first-n split %d, expected >= 0", ds->split.first_n);

    lt_status st = LT_OK;
    size_t caps[2] = {0, 0};
    char dir[4096];
    switch (kind) {
    case LT_DS_CIFAR10DVS:
        ds->in_w = ds->in_h = 128;
        ds->reader.format = LT_EVF_AEDAT2;
        ds->reader.aedat_layout = LT_AEDAT_LAYOUT_DVS128;
        if ((st = set_classes(ds, cifar10_classes, 10, err)))
            break;
        for (int c = 0; c < 10 && !st; c++) {
            if ((st = join(dir, sizeof dir, root, cifar10_classes[c], err)))
                break;
            if (!is_dir(dir))
                st = lt_err_set(err, LT_ERR_IO, "%s: missing class folder (the cifar10-dvs layout is "
                                "ROOT/<class>/*.aedat with the classes airplane ... truck)", dir);
            else
                st = add_class_split(ds, caps, dir, c, ".aedat", err);
        }
        break;
    case LT_DS_NCALTECH101: {
        ds->in_w = 240;
        ds->in_h = 180;
        ds->reader.format = LT_EVF_ATIS_BIN;
        strlist cl;
        if ((st = list_dir(&cl, root, NULL, err)))
            break;
        if (cl.n == 0 || cl.n > INT32_MAX)
            st = lt_err_set(err, LT_ERR_IO, "%s: no class folders (the n-caltech101 layout is "
                            "ROOT/<class>/image_*.bin)", root);
        else
            st = set_classes(ds, (const char *const *)cl.s, (int)cl.n, err);
        for (int c = 0; c < ds->classes && !st; c++)
            if (!(st = join(dir, sizeof dir, root, cl.s[c], err)))
                st = add_class_split(ds, caps, dir, c, ".bin", err);
        strlist_free(&cl);
        break;
    }
    case LT_DS_FOLDERS: { /* ROOT/<class>/<any recording>, the format and sensor from each file */
        ds->in_w = ds->in_h = 0;
        ds->reader.format = LT_EVF_AUTO;
        strlist cl;
        if ((st = list_dir(&cl, root, NULL, err)))
            break;
        if (cl.n == 0 || cl.n > INT32_MAX)
            st = lt_err_set(err, LT_ERR_IO, "%s: no class folders (the folders layout is ROOT/<class>/<recordings>)",
                            root);
        else
            st = set_classes(ds, (const char *const *)cl.s, (int)cl.n, err);
        for (int c = 0; c < ds->classes && !st; c++)
            if (!(st = join(dir, sizeof dir, root, cl.s[c], err)))
                st = add_class_split(ds, caps, dir, c, REC_ANY, err);
        strlist_free(&cl);
        break;
    }
    case LT_DS_NMNIST:
        ds->in_w = ds->in_h = 34;
        ds->reader.format = LT_EVF_ATIS_BIN;
        if (!(st = set_classes(ds, digit_classes, 10, err)))
            st = scan_official(ds, caps, root, ".bin", err);
        break;
    case LT_DS_NCARS:
        ds->in_w = 120;
        ds->in_h = 100;
        ds->reader.format = LT_EVF_DAT;
        if (!(st = set_classes(ds, ncars_classes, 2, err)))
            st = scan_official(ds, caps, root, ".dat", err);
        break;
    }
    if (!st && ds->train.n + ds->test.n == 0)
        st = lt_err_set(err, LT_ERR_IO, "%s: no %s files found", root, lt_ds_kind_name(kind));
    if (st)
        lt_ds_free(ds);
    return st;
}

lt_status lt_ds_detect(lt_ds_kind *k, const char *root, lt_err *err)
{
    char sdir[4096], p[4096];
    if (!is_dir(root))
        return lt_err_set(err, LT_ERR_IO, "%s: not a folder", root);
    if (find_split_dir(sdir, sizeof sdir, root, "train") || find_split_dir(sdir, sizeof sdir, root, "test")) {
        if (!join(p, sizeof p, sdir, "0", NULL) && is_dir(p)) {
            *k = LT_DS_NMNIST;
            return LT_OK;
        }
        if ((!join(p, sizeof p, sdir, "cars", NULL) && is_dir(p)) ||
            (!join(p, sizeof p, sdir, "background", NULL) && is_dir(p))) {
            *k = LT_DS_NCARS;
            return LT_OK;
        }
    }
    if (!join(p, sizeof p, root, "airplane", NULL) && is_dir(p) && !join(p, sizeof p, root, "truck", NULL) &&
        is_dir(p)) {
        *k = LT_DS_CIFAR10DVS;
        return LT_OK;
    }
    strlist cl;
    lt_status st = list_dir(&cl, root, NULL, err);
    if (st)
        return st;
    int any_bin = 0;
    for (size_t c = 0; c < cl.n && !any_bin; c++) {
        strlist fl;
        if (!join(p, sizeof p, root, cl.s[c], NULL) && !list_dir(&fl, p, ".bin", NULL)) {
            any_bin = fl.n > 0;
            strlist_free(&fl);
        }
    }
    strlist_free(&cl);
    if (any_bin) {
        *k = LT_DS_NCALTECH101;
        return LT_OK;
    }
    return lt_err_set(err, LT_ERR_ARG, "%s: cannot tell the dataset layout (expected Train/Test digit folders "
                      "(n-mnist), train/test with cars/background (n-cars), airplane ... truck folders "
                      "(cifar10-dvs) or class folders of .bin files (n-caltech101)); name it", root);
}

/* ---- conversion ---- */

static int pick_threads(int t) { return t > 0 ? t : lt_get_threads(); }

static lt_status resolve_bin(lt_bin_opts *b, const lt_ds *ds, const lt_ds_prep_opts *o, lt_err *err)
{
    *b = o->bin;
    if (b->in_w == 0 && b->in_h == 0) {
        b->in_w = ds->in_w;
        b->in_h = ds->in_h;
    } else if (!((b->in_w == -1 && b->in_h == -1) || (b->in_w > 0 && b->in_h > 0))) {
        return lt_err_set(err, LT_ERR_ARG, "sensor size %dx%d: expected WxH > 0, or -1x-1 for per sample",
                          b->in_w, b->in_h);
    }
    /* Checks T, H, W, modes and window once, with a stand-in sensor size. */
    lt_bin_opts probe = *b;
    if (probe.in_w <= 0) /* per sample: the recording's extent (-1) or its header's sensor (0) */
        probe.in_w = probe.in_h = 1;
    lt_events none = {0};
    uint8_t *tmp = NULL;
    size_t fb;
    if (probe.T < 1 || probe.H < 1 || probe.W < 1 || !lt_mul_ok((size_t)probe.T * 2, (size_t)probe.H, &fb) ||
        !lt_mul_ok(fb, (size_t)probe.W, &fb))
        return lt_err_set(err, LT_ERR_ARG, "frames T=%d H=%d W=%d: expected positive sizes", probe.T, probe.H,
                          probe.W);
    if (!(tmp = lt_alloc(fb)))
        return lt_err_set(err, LT_ERR_NOMEM, "cannot allocate %zu bytes of frames", fb);
    lt_status st = lt_bin_events(tmp, &none, &probe, err);
    lt_free(tmp);
    return st;
}

lt_status lt_ds_writer_open(lt_cache_writer **w, const char *path, const lt_ds *ds, const lt_ds_prep_opts *o,
                            const char *split_name, lt_err *err)
{
    lt_bin_opts b;
    lt_status st = resolve_bin(&b, ds, o, err);
    if (st)
        return st;
    lt_dataset shape;
    memset(&shape, 0, sizeof shape);
    shape.Ts = b.T;
    shape.C = 2;
    shape.H = b.H;
    shape.W = b.W;
    shape.classes = ds->classes;
    shape.bits = b.value == LT_BINVAL_BINARY ? 1 : 8;
    shape.scale = 1.0f;
    shape.class_names = ds->class_names;
    snprintf(shape.name, sizeof shape.name, "%s", lt_ds_kind_name(ds->kind));
    char sensor[32], split[48] = "";
    if (b.in_w < 0)
        snprintf(sensor, sizeof sensor, "auto");
    else if (b.in_w == 0)
        snprintf(sensor, sizeof sensor, "header");
    else
        snprintf(sensor, sizeof sensor, "%dx%d", b.in_w, b.in_h);
    if (ds->kind == LT_DS_CIFAR10DVS || ds->kind == LT_DS_NCALTECH101 || ds->kind == LT_DS_FOLDERS) {
        if (ds->split.rule == LT_SPLIT_FIRST)
            snprintf(split, sizeof split, " rule=first%d", ds->split.first_n);
        else
            snprintf(split, sizeof split, " rule=random%d%%/seed%llu", ds->split.test_percent,
                     (unsigned long long)ds->split.seed);
    }
    snprintf(shape.opts, sizeof shape.opts,
             "split=%s T=%d bin=%s value=%s space=%s size=%dx%d sensor=%s window_us=%lld%s%s", split_name, b.T,
             b.mode == LT_BIN_TIME ? "time" : "count", b.value == LT_BINVAL_BINARY ? "binary" : "count",
             b.space == LT_BINSP_SCALE ? "scale" : "crop", b.H, b.W, sensor, (long long)b.window_us, split,
             ds->kind == LT_DS_CIFAR10DVS ? (o->cifar10dvs_fix ? " fix=1" : " fix=0") : "");
    return lt_cache_writer_open(w, path, &shape, err);
}

/* Per-thread scratch: the events of one file and its byte frames. */
typedef struct worker {
    lt_events ev;
    uint8_t *frames; /* [T, 2, H, W] */
} worker;

/* All events of one file; *w, *h get the sensor size its header gives (0 if none). */
static lt_status read_events(lt_events *ev, int *w, int *h, const char *path, const lt_reader_opts *ro, lt_err *e)
{
    ev->n = 0;
    lt_reader *r;
    size_t got;
    lt_status st = lt_reader_open(&r, path, ro, e);
    if (!st) {
        lt_reader_sensor(r, w, h);
        while ((st = lt_reader_next(r, ev, (size_t)1 << 20, &got, e)) == LT_OK)
            ;
        if (st == LT_ERR_EOF)
            st = LT_OK;
        lt_reader_close(r);
    }
    if (st && !strstr(e->msg, path))
        lt_err_prefix(e, "%s: ", path);
    return st;
}

static lt_status convert_one(uint8_t *out, worker *wk, const char *path, const lt_reader_opts *ro,
                             const lt_bin_opts *b, size_t frame_n, lt_err *e)
{
    int hw = 0, hh = 0;
    lt_status st = read_events(&wk->ev, &hw, &hh, path, ro, e);
    if (st)
        return st;
    lt_bin_opts bo = *b;
    if (bo.in_w == 0) { /* the folders layout: the sensor this recording's header gives */
        if (!hw || !hh)
            return lt_err_set(e, LT_ERR_FORMAT, "%s: the recording does not say its sensor size (give --sensor "
                              "WIDTHxHEIGHT, or auto for each recording's extent)", path);
        bo.in_w = hw, bo.in_h = hh;
    }
    if (bo.in_w < 0) { /* per sample: the extent of this recording */
        int xm = 0, ym = 0;
        for (size_t j = 0; j < wk->ev.n; j++) {
            if (wk->ev.x[j] > xm)
                xm = wk->ev.x[j];
            if (wk->ev.y[j] > ym)
                ym = wk->ev.y[j];
        }
        bo.in_w = xm + 1;
        bo.in_h = ym + 1;
    }
    if ((st = lt_bin_events(wk->frames, &wk->ev, &bo, e)))
        return lt_err_prefix(e, "%s: ", path);
    if (bo.value == LT_BINVAL_BINARY)
        lt_frames_pack(out, wk->frames, frame_n);
    else
        memcpy(out, wk->frames, frame_n);
    return LT_OK;
}

static void workers_free(worker *wk, int nt)
{
    if (!wk)
        return;
    for (int i = 0; i < nt; i++) {
        lt_events_free(&wk[i].ev);
        lt_free(wk[i].frames);
    }
    free(wk);
}

static worker *workers_new(int nt, size_t frame_n)
{
    worker *wk = calloc((size_t)nt, sizeof *wk);
    if (!wk)
        return NULL;
    for (int i = 0; i < nt; i++)
        if (frame_n && !(wk[i].frames = lt_alloc(frame_n))) {
            workers_free(wk, nt);
            return NULL;
        }
    return wk;
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

lt_status lt_ds_convert(lt_cache_writer *w, const lt_ds *ds, const lt_ds_files *f, const lt_ds_prep_opts *o,
                        size_t *skipped, lt_err *err)
{
    if (skipped)
        *skipped = 0;
    lt_bin_opts b;
    lt_status st = resolve_bin(&b, ds, o, err);
    if (st)
        return st;
    lt_reader_opts ro = ds->reader;
    ro.cifar10dvs_fix = ds->kind == LT_DS_CIFAR10DVS && o->cifar10dvs_fix;
    const size_t frame_n = (size_t)b.T * 2 * (size_t)b.H * (size_t)b.W;
    const size_t sb = lt_dataset_sample_bytes(b.T, 2, b.H, b.W, b.value == LT_BINVAL_BINARY ? 1 : 8);
    const int nt = pick_threads(o->threads);
    worker *wk = workers_new(nt, frame_n);
    uint8_t *out = lt_alloc(CHUNK * sb);
    lt_status *sts = calloc(CHUNK, sizeof *sts);
    lt_err *errs = calloc(CHUNK, sizeof *errs);
    if (!wk || !out || !sts || !errs) {
        st = lt_err_set(err, LT_ERR_NOMEM, "cannot allocate conversion buffers (%d threads, %zu-byte samples)",
                        nt, sb);
        goto free_buffers;
    }
    size_t skip = 0;
    for (size_t base = 0; base < f->n; base += CHUNK) {
        const int m = (int)(f->n - base < CHUNK ? f->n - base : CHUNK);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (int k = 0; k < m; k++)
            sts[k] = convert_one(out + (size_t)k * sb, &wk[thread_id()], f->paths[base + (size_t)k], &ro, &b,
                                 frame_n, &errs[k]);
        /* Results are appended in list order, whatever thread made them. */
        for (int k = 0; k < m; k++) {
            if (sts[k]) {
                if (!o->skip_bad) {
                    if (err)
                        *err = errs[k];
                    st = sts[k];
                    goto free_buffers;
                }
                skip++;
                if (o->on_skip)
                    o->on_skip(o->ctx, f->paths[base + (size_t)k], &errs[k]);
                continue;
            }
            if ((st = lt_cache_writer_add(w, out + (size_t)k * sb, f->labels[base + (size_t)k], err)))
                goto free_buffers;
        }
        if (o->progress)
            o->progress(o->ctx, base + (size_t)m, f->n);
    }
    if (skipped)
        *skipped = skip;
free_buffers:
    free(errs);
    free(sts);
    lt_free(out);
    workers_free(wk, nt);
    return st;
}

/* ---- statistics ---- */

typedef struct file_stat {
    lt_status st;
    size_t n;
    int64_t t_min, t_max;
    int x_max, y_max;
} file_stat;

lt_status lt_ds_stats_compute(lt_ds_stats *s, const lt_ds *ds, const lt_ds_files *f, size_t max_files,
                              const lt_ds_prep_opts *o, lt_err *err)
{
    memset(s, 0, sizeof *s);
    s->x_max = s->y_max = -1;
    lt_status st = LT_OK;
    /* The files to read: all, or the first max_files of each label (the list is ordered by label). */
    size_t *pick = malloc((f->n ? f->n : 1) * sizeof *pick), np = 0, run = 0;
    for (size_t i = 0; pick && i < f->n; i++) {
        run = i && f->labels[i] == f->labels[i - 1] ? run + 1 : 0;
        if (!max_files || run < max_files)
            pick[np++] = i;
    }
    const int nt = pick_threads(o ? o->threads : 0);
    worker *wk = workers_new(nt, 0);
    file_stat *fs = calloc(CHUNK, sizeof *fs);
    lt_err *errs = calloc(CHUNK, sizeof *errs);
    if (!pick || !wk || !fs || !errs) {
        st = lt_err_set(err, LT_ERR_NOMEM, "cannot allocate statistics buffers");
        goto free_buffers;
    }
    double ev_sum = 0, dur_sum = 0;
    for (size_t base = 0; base < np; base += CHUNK) {
        const int m = (int)(np - base < CHUNK ? np - base : CHUNK);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (int k = 0; k < m; k++) {
            lt_events *ev = &wk[thread_id()].ev;
            file_stat *q = &fs[k];
            memset(q, 0, sizeof *q);
            int hw, hh;
            q->st = read_events(ev, &hw, &hh, f->paths[pick[base + (size_t)k]], &ds->reader, &errs[k]);
            if (q->st)
                continue;
            q->n = ev->n;
            for (size_t j = 0; j < ev->n; j++) {
                if (j == 0 || ev->t[j] < q->t_min)
                    q->t_min = ev->t[j];
                if (j == 0 || ev->t[j] > q->t_max)
                    q->t_max = ev->t[j];
                if (ev->x[j] > q->x_max)
                    q->x_max = ev->x[j];
                if (ev->y[j] > q->y_max)
                    q->y_max = ev->y[j];
            }
        }
        for (int k = 0; k < m; k++) {
            const file_stat *q = &fs[k];
            if (q->st) {
                s->bad++;
                if (o && o->on_skip)
                    o->on_skip(o->ctx, f->paths[pick[base + (size_t)k]], &errs[k]);
                continue;
            }
            int64_t dur = q->n ? q->t_max - q->t_min : 0;
            if (s->files == 0 || q->n < s->events_min)
                s->events_min = q->n;
            if (q->n > s->events_max)
                s->events_max = q->n;
            if (s->files == 0 || dur < s->dur_min)
                s->dur_min = dur;
            if (dur > s->dur_max)
                s->dur_max = dur;
            ev_sum += (double)q->n;
            dur_sum += (double)dur;
            if (q->n && q->x_max > s->x_max)
                s->x_max = q->x_max;
            if (q->n && q->y_max > s->y_max)
                s->y_max = q->y_max;
            s->files++;
        }
        if (o && o->progress)
            o->progress(o->ctx, base + (size_t)m, np);
    }
    if (s->files) {
        s->events_mean = ev_sum / (double)s->files;
        s->dur_mean = dur_sum / (double)s->files;
    }
free_buffers:
    free(errs);
    free(fs);
    workers_free(wk, nt);
    free(pick);
    return st;
}
