/* cmd_data.c -- `ltsnn data prepare` (a dataset folder or Fashion-MNIST to
 * frame caches), `ltsnn data info` (what a cache or a folder holds),
 * `ltsnn data synth-gen1` (the synthetic Gen1-format dataset) and the verbs
 * that hand over to other files (`export`, `show-gen1`).
 * Only flags, printing and the progress display; the work is in
 * src/events/datasets.c, gen1.c, gen1_synth.c and cache.c.  Cache names:
 * docs/formats.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ltsnn.h"

#define VERB "data"

#define NAMES_HELP                                                                                        \
    "NAME: cifar10-dvs, n-mnist, n-caltech101, n-cars, gen1 (ROOT = the dataset folder), fashion-mnist,\n" \
    "      n-fashion-mnist (ROOT defaults to " LT_FMNIST_DIR "),\n"                                         \
    "      folders (or ROOT --layout folders): ROOT/<class>/ holding recordings of any format ltsnn reads"
static const char *const prepare_usage =
    "NAME [ROOT] --out PREFIX [options]\n\n"
    "Converts a dataset once into frame caches: PREFIX-train.ltc and PREFIX-test.ltc\n"
    "(--split all: PREFIX-all.ltc; gen1: also PREFIX-val.ltc, with boxes), which ltsnn train\n"
    "--data PREFIX reads.\n" NAMES_HELP;
static const char *const info_usage =
    "[NAME] CACHE|PREFIX|ROOT [options]\n\n"
    "A cache: shape, options and samples (or boxes) per class.  A prefix: each of its caches.\n"
    "A dataset folder (NAME guessed when omitted): files per class and event statistics\n"
    "(gen1: recordings and boxes per split).";

/* ---- progress on stderr: a redrawn line on a terminal, else a line every 10% ---- */

typedef struct progress {
    const char *what;
    int tty;
    int last_tenth;
    double t0;
} progress;

static void progress_start(progress *p, const char *what)
{
    p->what = what;
    p->tty = cli_is_tty(2);
    p->last_tenth = 0;
    p->t0 = lt_time_s();
}

static void on_progress(void *ctx, size_t done, size_t total)
{
    progress *p = ctx;
    double dt = lt_time_s() - p->t0;
    double rate = dt > 0 ? (double)done / dt : 0;
    double pct = total ? 100.0 * (double)done / (double)total : 100.0;
    if (p->tty) {
        fprintf(stderr, "\r%s: %zu/%zu (%.0f%%)  %.0f/s   ", p->what, done, total, pct, rate);
        if (done >= total)
            fputc('\n', stderr);
        fflush(stderr);
        return;
    }
    int tenth = total ? (int)(10 * done / total) : 10;
    if (tenth > p->last_tenth || done >= total) {
        fprintf(stderr, "%s: %zu/%zu (%.0f%%)  %.0f/s\n", p->what, done, total, pct, rate);
        p->last_tenth = tenth;
    }
}

static void on_skip(void *ctx, const char *path, const lt_err *why)
{
    (void)ctx;
    fprintf(stderr, "ltsnn data: warning: skipping %s: %s\n", path, why->msg);
}

/* "-T" reads as "--T", the name the other verbs use. */
static char **fix_short_flags(int argc, char **argv)
{
    char **a = malloc((size_t)(argc + 1) * sizeof *a);
    if (!a)
        return NULL;
    for (int i = 0; i < argc; i++)
        a[i] = !strcmp(argv[i], "-T") ? (char *)"--T" : argv[i];
    a[argc] = NULL;
    return a;
}

static int pick(const char *flag, const char *v, const char *const *names, int n, int *out)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i])) {
            *out = i;
            return 0;
        }
    fprintf(stderr, "ltsnn %s: %s: '%s' is not one of", VERB, flag, v);
    for (int i = 0; i < n; i++)
        fprintf(stderr, " %s", names[i]);
    fputc('\n', stderr);
    return 2;
}

static int is_regular(const char *p)
{
    struct stat s;
    return stat(p, &s) == 0 && S_ISREG(s.st_mode);
}

static int is_folder(const char *p)
{
    struct stat s;
    return stat(p, &s) == 0 && S_ISDIR(s.st_mode);
}

/* ---- prepare ---- */

typedef struct prep_flags {
    const char *out, *bin, *value, *space, *split, *rule, *sensor, *layout, *window;
    int T, size[3], test_percent, skip_bad, fix, threads, limit;
    uint64_t window_us, seed;
    float contrast_step;
} prep_flags;

static int fmnist_prepare(const char *name, const char *root, prep_flags *f, cli_opt *opts)
{
    lt_err err;
    lt_fmnist_opts fo;
    lt_fmnist_opts_default(&fo);
    fo.mode = !strcmp(name, "n-fashion-mnist") ? LT_FMNIST_NEURO : LT_FMNIST_STATIC;
    for (cli_opt *o = opts; o->name; o++) {
        if (!o->seen)
            continue;
        if (!strcmp(o->name, "--T"))
            fo.T = f->T;
        else if (!strcmp(o->name, "--size"))
            fo.H = f->size[1], fo.W = f->size[2];
        else if (!strcmp(o->name, "--seed"))
            fo.seed = f->seed;
        else if (!strcmp(o->name, "--limit"))
            fo.limit = (size_t)f->limit;
        else if (!strcmp(o->name, "--contrast-step") && fo.mode == LT_FMNIST_NEURO)
            fo.contrast_step = f->contrast_step;
        else if (strcmp(o->name, "--out") && strcmp(o->name, "--split") && strcmp(o->name, "--threads")) {
            fprintf(stderr, "ltsnn %s: %s does not apply to %s\n", VERB, o->name, name);
            return 2;
        }
    }
    fo.threads = f->threads;
    int want[2] = {1, 1}; /* train, test */
    if (f->split && !strcmp(f->split, "train"))
        want[1] = 0;
    else if (f->split && !strcmp(f->split, "test"))
        want[0] = 0;
    else if (f->split && strcmp(f->split, "both")) {
        fprintf(stderr, "ltsnn %s: --split %s: %s has train and test only (train, test or both)\n", VERB,
                f->split, name);
        return 2;
    }
    static const char *const split_names[2] = {"train", "test"};
    lt_dataset d[2];
    memset(d, 0, sizeof d);
    char paths[2][4096];
    int committed = -1, rc = 1;
    for (int s = 0; s < 2; s++) {
        if (!want[s])
            continue;
        if (lt_cache_split_path(paths[s], sizeof paths[s], f->out, split_names[s], &err))
            goto fail;
        char what[64];
        snprintf(what, sizeof what, "%s %s", name, split_names[s]);
        progress p;
        progress_start(&p, what);
        if (lt_fmnist_make(&d[s], root, s == 0, &fo, on_progress, &p, &err))
            goto fail;
    }
    for (int s = 0; s < 2; s++) {
        if (!want[s])
            continue;
        if (lt_cache_write(paths[s], &d[s], &err))
            goto fail;
        committed = s;
        printf("wrote %s: %zu samples, frames %dx%dx%dx%d (TsxCxHxW, %d bit%s)\n", paths[s], d[s].n, d[s].Ts,
               d[s].C, d[s].H, d[s].W, d[s].bits, d[s].bits > 1 ? "s" : "");
    }
    rc = 0;
    goto free_data;
fail:
    fprintf(stderr, "ltsnn %s: %s\n", VERB, err.msg);
    if (committed == 0 && want[1]) /* all or nothing: do not leave train without its test split */
        unlink(paths[0]);
free_data:
    lt_dataset_free(&d[0]);
    lt_dataset_free(&d[1]);
    return rc;
}

/* All files of both splits, train first (--split all). */
static int merge_files(lt_ds_files *all, const lt_ds *ds)
{
    size_t n = ds->train.n + ds->test.n;
    all->n = n;
    all->paths = malloc((n ? n : 1) * sizeof *all->paths);
    all->labels = malloc((n ? n : 1) * sizeof *all->labels);
    if (!all->paths || !all->labels)
        return 0;
    for (size_t i = 0; i < ds->train.n; i++)
        all->paths[i] = ds->train.paths[i], all->labels[i] = ds->train.labels[i];
    for (size_t i = 0; i < ds->test.n; i++)
        all->paths[ds->train.n + i] = ds->test.paths[i], all->labels[ds->train.n + i] = ds->test.labels[i];
    return 1;
}

static int parse_split_rule(const char *v, lt_ds_scan_opts *so)
{
    if (!strcmp(v, "random")) {
        so->rule = LT_SPLIT_RANDOM;
        return 0;
    }
    if (!strncmp(v, "first", 5) && v[5]) {
        char *end;
        long n = strtol(v + 5, &end, 10);
        if (!*end && n >= 0 && n < 1L << 30) {
            so->rule = LT_SPLIT_FIRST;
            so->first_n = (int)n;
            return 0;
        }
    }
    fprintf(stderr, "ltsnn %s: --split-rule %s: expected random or firstN (e.g. first100)\n", VERB, v);
    return 2;
}

static int events_prepare(lt_ds_kind kind, const char *root, prep_flags *f, cli_opt *opts)
{
    lt_err err;
    lt_ds_scan_opts so;
    lt_ds_scan_opts_default(&so);
    so.seed = f->seed;
    so.test_percent = f->test_percent;
    if (f->rule && parse_split_rule(f->rule, &so))
        return 2;
    if (f->test_percent < 0 || f->test_percent > 100) {
        fprintf(stderr, "ltsnn %s: --test-percent %d: expected 0..100\n", VERB, f->test_percent);
        return 2;
    }
    const int own_split = kind == LT_DS_CIFAR10DVS || kind == LT_DS_NCALTECH101 || kind == LT_DS_FOLDERS;
    for (cli_opt *o = opts; o->name; o++) {
        if (o->seen && !strcmp(o->name, "--limit")) {
            fprintf(stderr, "ltsnn %s: --limit applies to fashion-mnist only\n", VERB);
            return 2;
        }
        if (o->seen && !own_split &&
            (!strcmp(o->name, "--split-rule") || !strcmp(o->name, "--test-percent") || !strcmp(o->name, "--seed"))) {
            fprintf(stderr, "ltsnn %s: %s: %s ships its own train/test folders (the flag applies to cifar10-dvs "
                    "and n-caltech101)\n", VERB, o->name, lt_ds_kind_name(kind));
            return 2;
        }
    }
    lt_ds_prep_opts po;
    lt_ds_prep_opts_default(&po);
    po.bin.T = f->T;
    /* default frame size: 48x48 for CIFAR10-DVS (METHOD.md §6) and N-Caltech101, else the sensor's */
    if (f->size[1]) {
        if (f->size[0] && f->size[0] != 2) {
            fprintf(stderr, "ltsnn %s: --size %dx%dx%d: event frames have 2 channels (give HxW)\n", VERB,
                    f->size[0], f->size[1], f->size[2]);
            return 2;
        }
        po.bin.H = f->size[1], po.bin.W = f->size[2];
    } else if (kind == LT_DS_NMNIST) {
        po.bin.H = po.bin.W = 34;
    } else if (kind == LT_DS_NCARS) {
        po.bin.H = 100, po.bin.W = 120;
    }
    int v;
    static const char *const bins[] = {"time", "count"}, *const values[] = {"binary", "count"},
                             *const spaces[] = {"scale", "crop"};
    if (f->bin && pick("--bin", f->bin, bins, 2, &v))
        return 2;
    po.bin.mode = f->bin ? (lt_bin_mode)v : LT_BIN_TIME;
    if (f->value && pick("--value", f->value, values, 2, &v))
        return 2;
    po.bin.value = f->value ? (lt_bin_value)v : LT_BINVAL_BINARY;
    if (f->space && pick("--space", f->space, spaces, 2, &v))
        return 2;
    po.bin.space = f->space ? (lt_bin_space)v : LT_BINSP_SCALE;
    if (f->window) {
        fprintf(stderr, "ltsnn %s: --window applies to gen1 (use --window-us)\n", VERB);
        return 2;
    }
    if (f->window_us > (uint64_t)INT64_MAX) {
        fprintf(stderr, "ltsnn %s: --window-us too large\n", VERB);
        return 2;
    }
    po.bin.window_us = (int64_t)f->window_us;
    if (f->sensor) {
        int c, h, w;
        if (!strcmp(f->sensor, "auto")) {
            po.bin.in_w = po.bin.in_h = -1;
        } else if (cli_parse_shape(f->sensor, &c, &h, &w) && c == 0) {
            po.bin.in_w = h, po.bin.in_h = w; /* given as width x height, the way sensors are quoted */
        } else {
            fprintf(stderr, "ltsnn %s: --sensor %s: expected WIDTHxHEIGHT (e.g. 240x180) or auto\n", VERB,
                    f->sensor);
            return 2;
        }
    }
    po.cifar10dvs_fix = f->fix;
    if (f->fix && kind != LT_DS_CIFAR10DVS) {
        fprintf(stderr, "ltsnn %s: --cifar10dvs-fix applies to cifar10-dvs only\n", VERB);
        return 2;
    }
    po.skip_bad = f->skip_bad;
    po.threads = f->threads;
    po.on_skip = on_skip;
    po.progress = on_progress;

    const char *split = f->split ? f->split : "both";
    static const char *const splits[] = {"train", "test", "all", "both"};
    int sp;
    if (pick("--split", split, splits, 4, &sp))
        return 2;

    lt_ds ds;
    if (lt_ds_scan(&ds, kind, root, &so, &err)) {
        fprintf(stderr, "ltsnn %s: %s\n", VERB, err.msg);
        return 1;
    }
    lt_ds_files all = {0};
    const lt_ds_files *lists[2] = {NULL, NULL};
    const char *names[2] = {NULL, NULL};
    if (sp == 0 || sp == 3)
        lists[0] = &ds.train, names[0] = "train";
    if (sp == 1 || sp == 3)
        lists[1] = &ds.test, names[1] = "test";
    if (sp == 2) {
        if (!merge_files(&all, &ds)) {
            fprintf(stderr, "ltsnn %s: out of memory\n", VERB);
            free(all.paths);
            free(all.labels);
            lt_ds_free(&ds);
            return 1;
        }
        lists[0] = &all, names[0] = "all";
    }
    int rc = 1, committed = -1;
    lt_cache_writer *w[2] = {NULL, NULL};
    char paths[2][4096];
    size_t skipped[2] = {0, 0}, written[2] = {0, 0};
    /* every split asked for has files, before converting any */
    for (int s = 0; s < 2; s++)
        if (lists[s] && lists[s]->n == 0) {
            lt_err_set(&err, LT_ERR_IO, "%s: the %s split has no files%s", root, names[s],
                       sp == 3 ? " (choose the other with --split)" : "");
            goto fail;
        }
    for (int s = 0; s < 2; s++) {
        if (!lists[s])
            continue;
        if (lt_cache_split_path(paths[s], sizeof paths[s], f->out, names[s], &err) ||
            lt_ds_writer_open(&w[s], paths[s], &ds, &po, names[s], &err))
            goto fail;
        char what[64];
        snprintf(what, sizeof what, "%s %s", lt_ds_kind_name(kind), names[s]);
        progress p;
        progress_start(&p, what);
        po.ctx = &p;
        if (lt_ds_convert(w[s], &ds, lists[s], &po, &skipped[s], &err))
            goto fail;
        written[s] = lt_cache_writer_count(w[s]);
        if (written[s] == 0) {
            lt_err_set(&err, LT_ERR_FORMAT, "%s: every file of the %s split was bad; nothing to write", root,
                       names[s]);
            goto fail;
        }
    }
    /* Nothing is renamed into place before every split converted. */
    for (int s = 0; s < 2; s++) {
        if (!w[s])
            continue;
        lt_cache_writer *ws = w[s];
        w[s] = NULL;
        if (lt_cache_writer_commit(ws, &err))
            goto fail;
        committed = s;
    }
    for (int s = 0; s < 2; s++) {
        if (!lists[s])
            continue;
        printf("wrote %s: %zu samples, frames %dx2x%dx%d (TsxCxHxW, %d bit%s)", paths[s], written[s], po.bin.T,
               po.bin.H, po.bin.W, po.bin.value == LT_BINVAL_BINARY ? 1 : 8,
               po.bin.value == LT_BINVAL_BINARY ? "" : "s");
        if (skipped[s])
            printf(", %zu bad file%s skipped", skipped[s], skipped[s] > 1 ? "s" : "");
        printf("\n");
        if (skipped[s])
            fprintf(stderr, "ltsnn %s: %s: skipped %zu of %zu files\n", VERB, names[s], skipped[s],
                    lists[s]->n);
    }
    rc = 0;
    goto free_all;
fail:
    fprintf(stderr, "ltsnn %s: %s\n", VERB, err.msg);
    if (committed == 0 && lists[1])
        unlink(paths[0]);
    lt_cache_writer_abort(w[0]);
    lt_cache_writer_abort(w[1]);
free_all:
    free(all.paths);
    free(all.labels);
    lt_ds_free(&ds);
    return rc;
}

/* ---- gen1: ROOT/{train,val,test} into PREFIX-<split>.ltc detection caches ---- */

static int gen1_prepare(const char *root, prep_flags *f, cli_opt *opts)
{
    lt_gen1_opts go;
    lt_gen1_opts_default(&go);
    static const char *const not_gen1[] = {"--bin", "--space", "--window-us", "--split-rule", "--test-percent",
                                           "--seed", "--cifar10dvs-fix", "--limit"};
    for (cli_opt *o = opts; o->name; o++) {
        for (size_t k = 0; k < sizeof not_gen1 / sizeof not_gen1[0]; k++)
            if (o->seen && !strcmp(o->name, not_gen1[k])) {
                fprintf(stderr, "ltsnn %s: %s does not apply to gen1\n", VERB, o->name);
                return 2;
            }
        if (o->seen && !strcmp(o->name, "--T"))
            go.T = f->T;
    }
    if (f->size[1]) {
        if (f->size[0] && f->size[0] != 2) {
            fprintf(stderr, "ltsnn %s: --size %dx%dx%d: event frames have 2 channels (give HxW)\n", VERB, f->size[0],
                    f->size[1], f->size[2]);
            return 2;
        }
        go.H = f->size[1], go.W = f->size[2];
    }
    static const char *const values[] = {"binary", "count"};
    int v;
    if (f->value && pick("--value", f->value, values, 2, &v))
        return 2;
    go.value = f->value ? (lt_bin_value)v : LT_BINVAL_BINARY;
    if (f->window && cli_parse_duration(f->window, &go.window_us)) {
        fprintf(stderr, "ltsnn %s: --window %s: expected a positive duration such as 100ms, 0.05s or 50000us\n", VERB,
                f->window);
        return 2;
    }
    if (f->sensor) {
        int c, w, h;
        if (!cli_parse_shape(f->sensor, &c, &w, &h) || c) {
            fprintf(stderr, "ltsnn %s: --sensor %s: expected WIDTHxHEIGHT (Gen1: 304x240)\n", VERB, f->sensor);
            return 2;
        }
        go.sensor_w = w, go.sensor_h = h;
    }
    go.skip_bad = f->skip_bad;
    go.threads = f->threads;
    go.on_skip = on_skip;
    go.progress = on_progress;
    int want[LT_GEN1_SPLITS] = {1, 1, 1}, only = -1;
    if (f->split) {
        static const char *const splits[] = {"train", "val", "test"};
        if (pick("--split", f->split, splits, 3, &only))
            return 2;
        for (int s = 0; s < LT_GEN1_SPLITS; s++)
            want[s] = s == only;
    }
    lt_err err;
    lt_gen1_ds ds;
    if (lt_gen1_scan(&ds, root, &err)) {
        fprintf(stderr, "ltsnn %s: %s\n", VERB, err.msg);
        return 1;
    }
    lt_cache_writer *w[LT_GEN1_SPLITS] = {NULL, NULL, NULL};
    char paths[LT_GEN1_SPLITS][4096];
    size_t skipped[LT_GEN1_SPLITS] = {0}, samples[LT_GEN1_SPLITS] = {0};
    int rc = 1, committed[LT_GEN1_SPLITS] = {0}, any = 0;
    for (int s = 0; s < LT_GEN1_SPLITS; s++) {
        want[s] = want[s] && ds.n[s] > 0;
        if (only == s && !want[s]) {
            lt_err_set(&err, LT_ERR_IO, "%s/%s: no recordings", root, lt_gen1_split_name(s));
            goto fail;
        }
        if (!want[s])
            continue;
        any = 1;
        if (lt_cache_split_path(paths[s], sizeof paths[s], f->out, lt_gen1_split_name(s), &err) ||
            lt_gen1_writer_open(&w[s], paths[s], "gen1", &go, lt_gen1_split_name(s), &err))
            goto fail;
        char what[64];
        snprintf(what, sizeof what, "gen1 %s", lt_gen1_split_name(s));
        progress p;
        progress_start(&p, what);
        go.ctx = &p;
        if (lt_gen1_convert(w[s], &ds, s, &go, &skipped[s], &samples[s], &err))
            goto fail;
        if (samples[s] == 0) {
            lt_err_set(&err, LT_ERR_FORMAT, "%s/%s: no samples (every recording bad, or no box time at or after the "
                       "%lld us window)", root, lt_gen1_split_name(s), (long long)go.window_us);
            goto fail;
        }
    }
    if (!any) {
        lt_err_set(&err, LT_ERR_IO, "%s: no recordings in train/, val/ or test/", root);
        goto fail;
    }
    /* Nothing is renamed into place before every split converted. */
    for (int s = 0; s < LT_GEN1_SPLITS; s++) {
        if (!w[s])
            continue;
        lt_cache_writer *ws = w[s];
        w[s] = NULL;
        if (lt_cache_writer_commit(ws, &err))
            goto fail;
        committed[s] = 1;
    }
    for (int s = 0; s < LT_GEN1_SPLITS; s++) {
        if (!committed[s])
            continue;
        printf("wrote %s: %zu samples from %zu recordings, frames %dx2x%dx%d (TsxCxHxW, %d bit%s)", paths[s],
               samples[s], ds.n[s] - skipped[s], go.T, go.H ? go.H : go.sensor_h, go.W ? go.W : go.sensor_w,
               go.value == LT_BINVAL_BINARY ? 1 : 8, go.value == LT_BINVAL_BINARY ? "" : "s");
        if (skipped[s])
            printf(", %zu bad recording%s skipped", skipped[s], skipped[s] > 1 ? "s" : "");
        printf("\n");
        if (skipped[s])
            fprintf(stderr, "ltsnn %s: %s: skipped %zu of %zu recordings\n", VERB, lt_gen1_split_name(s), skipped[s],
                    ds.n[s]);
    }
    rc = 0;
    goto free_all;
fail:
    fprintf(stderr, "ltsnn %s: %s\n", VERB, err.msg);
    for (int s = 0; s < LT_GEN1_SPLITS; s++) {
        if (committed[s]) /* all or nothing */
            unlink(paths[s]);
        lt_cache_writer_abort(w[s]);
    }
free_all:
    lt_gen1_ds_free(&ds);
    return rc;
}

static int data_prepare(int argc, char **argv)
{
    prep_flags f;
    memset(&f, 0, sizeof f);
    f.T = 10;
    f.seed = 42;
    cli_opt opts[] = {
        {"--out", CLI_STR, &f.out, "cache prefix: writes PREFIX-train.ltc and PREFIX-test.ltc (required)", 0, 0, 0},
        {"--T", CLI_INT, &f.T, "time bins (also -T; default 10, gen1 5)", 0, 0, 0},
        {"--size", CLI_SHAPE, f.size, "frame HxW (default 48x48; n-mnist 34x34, n-cars 100x120, gen1 240x304)", 0, 0,
         0},
        {"--bin", CLI_STR, &f.bin, "time (equal time, default) or count (equal event count)", 0, 0, 0},
        {"--value", CLI_STR, &f.value, "binary (1 bit, default) or count (events per pixel, max 255)", 0, 0, 0},
        {"--space", CLI_STR, &f.space, "scale (default) or crop (centre crop of the sensor)", 0, 0, 0},
        {"--window-us", CLI_U64, &f.window_us, "keep only the first N microseconds of each sample", 0, 0, 0},
        {"--window", CLI_STR, &f.window, "gen1: events before each box time (default 100ms; us, ms or s)", 0, 0, 0},
        {"--split", CLI_STR, &f.split, "train, test, all or both (default both: two files); gen1: train, val or test",
         0, 0, 0},
        {"--split-rule", CLI_STR, &f.rule, "cifar10-dvs/n-caltech101: random (default) or firstN", 0, 0, 0},
        {"--test-percent", CLI_INT, &f.test_percent, "random split's test share (default 10, n-caltech101 20)", 0, 0, 0},
        {"--seed", CLI_U64, &f.seed, "random split's seed (default 42)", 0, 0, 0},
        {"--contrast-step", CLI_FLOAT, &f.contrast_step, "n-fashion-mnist: multiply the image's contrast by this from "
         "halfway through each recording (default 1: none)", 0, 0.01, 100},
        {"--sensor", CLI_STR, &f.sensor, "sensor WIDTHxHEIGHT, or auto (per sample); default: the dataset's (gen1 "
         "304x240)", 0, 0, 0},
        {"--skip-bad", CLI_BOOL, &f.skip_bad, "skip unreadable files with a warning instead of stopping", 0, 0, 0},
        {"--cifar10dvs-fix", CLI_BOOL, &f.fix, "cifar10-dvs: flip x and invert polarity as its readers do", 0, 0, 0},
        {"--threads", CLI_INT, &f.threads, "worker threads (default: all cores)", 0, 0, 0},
        {"--limit", CLI_INT, &f.limit, "fashion-mnist: at most this many samples per split", 0, 0, 0},
        {"--layout", CLI_STR, &f.layout, "folders: ROOT holds one subfolder per class, recordings of any format "
                                         "inside (format and sensor from each file; split as --split-rule)", 0, 0, 0},
        {0},
    };
    const char *pos[2];
    int n_pos, rc = 2;
    char **args = fix_short_flags(argc, argv);
    if (!args)
        return 1;
    int r = cli_parse(VERB " prepare", prepare_usage, argc, args, 3, opts, pos, 2, &n_pos);
    if (r) {
        rc = r == 1 ? 0 : 2;
        goto free_args;
    }
    if (n_pos < 1) {
        fprintf(stderr, "ltsnn %s prepare: give a dataset NAME and its ROOT folder\n", VERB);
        goto free_args;
    }
    if (!f.out) {
        fprintf(stderr, "ltsnn %s prepare: --out PREFIX is required\n", VERB);
        goto free_args;
    }
    if (f.T < 1 || f.threads < 0 || f.limit < 0) {
        fprintf(stderr, "ltsnn %s prepare: --T must be >= 1, --threads and --limit >= 0\n", VERB);
        goto free_args;
    }
    if (!strcmp(pos[0], "gen1")) {
        if (n_pos < 2)
            fprintf(stderr, "ltsnn %s prepare: give the Gen1 ROOT folder (with train/, val/, test/) after the name\n",
                    VERB);
        else
            rc = gen1_prepare(pos[1], &f, opts);
        goto free_args;
    }
    if (f.layout) { /* ROOT --layout folders, or folders ROOT --layout folders */
        if (strcmp(f.layout, "folders")) {
            fprintf(stderr, "ltsnn %s prepare: --layout %s: the one layout of your own is 'folders' (one subfolder "
                    "per class)\n", VERB, f.layout);
            goto free_args;
        }
        if (n_pos == 2 && strcmp(pos[0], "folders")) {
            fprintf(stderr, "ltsnn %s prepare: --layout folders reads ROOT's class subfolders; '%s' names another "
                    "layout (give ROOT alone)\n", VERB, pos[0]);
            goto free_args;
        }
        rc = events_prepare(LT_DS_FOLDERS, pos[n_pos - 1], &f, opts);
        goto free_args;
    }
    if (!strcmp(pos[0], "fashion-mnist") || !strcmp(pos[0], "n-fashion-mnist")) {
        rc = fmnist_prepare(pos[0], n_pos > 1 ? pos[1] : LT_FMNIST_DIR, &f, opts);
        goto free_args;
    }
    lt_ds_kind kind;
    lt_err err;
    if (lt_ds_kind_parse(&kind, pos[0], &err)) {
        fprintf(stderr, "ltsnn %s prepare: unknown dataset '%s' (expected cifar10-dvs, n-mnist, n-caltech101, "
                "n-cars, gen1, folders, fashion-mnist or n-fashion-mnist)\n", VERB, pos[0]);
        goto free_args;
    }
    if (n_pos < 2) {
        fprintf(stderr, "ltsnn %s prepare: give the %s ROOT folder after the name\n", VERB, pos[0]);
        goto free_args;
    }
    rc = events_prepare(kind, pos[1], &f, opts);
free_args:
    free(args);
    return rc;
}

/* ---- info ---- */

static void print_class_counts(char *const *names, int classes, const int32_t *labels, size_t n,
                               const int32_t *labels2, size_t n2, const char *h1, const char *h2)
{
    size_t *cnt = calloc((size_t)classes * 2, sizeof *cnt);
    if (!cnt)
        return;
    for (size_t i = 0; i < n; i++)
        cnt[labels[i]]++;
    for (size_t i = 0; i < n2; i++)
        cnt[classes + labels2[i]]++;
    printf("  %-5s %-24s %8s", "label", "class", h1);
    if (h2)
        printf(" %8s", h2);
    printf("\n");
    for (int c = 0; c < classes; c++) {
        printf("  %-5d %-24s %8zu", c, names ? names[c] : "-", cnt[c]);
        if (h2)
            printf(" %8zu", cnt[classes + c]);
        printf("\n");
    }
    free(cnt);
}

/* A detection cache: boxes per class, and how many samples hold one. */
static void print_box_counts(const lt_dataset *d)
{
    size_t *cnt = calloc((size_t)d->classes * 2, sizeof *cnt), empty = 0, most = 0;
    if (!cnt)
        return;
    for (size_t i = 0; i < d->n; i++) {
        size_t nb = (size_t)(d->box_start[i + 1] - d->box_start[i]);
        empty += nb == 0;
        most = nb > most ? nb : most;
        for (uint64_t k = d->box_start[i]; k < d->box_start[i + 1]; k++) {
            int c = d->boxes[k].cls, first = 1;
            for (uint64_t q = d->box_start[i]; q < k && first; q++)
                first = d->boxes[q].cls != c;
            cnt[c]++;
            cnt[d->classes + c] += first;
        }
    }
    printf("  task      detect: %zu boxes in %zu samples from %zu recordings, sensor %dx%d\n",
           (size_t)d->box_start[d->n], d->n, d->n_recs, d->sensor_w, d->sensor_h);
    printf("  samples   %zu without boxes, at most %zu boxes in one\n", empty, most);
    printf("  %-5s %-24s %8s %8s\n", "class", "name", "boxes", "samples");
    for (int c = 0; c < d->classes; c++)
        printf("  %-5d %-24s %8zu %8zu\n", c, d->class_names ? d->class_names[c] : "-", cnt[c], cnt[d->classes + c]);
    free(cnt);
}

static int cache_info(const char *path)
{
    lt_dataset d;
    lt_err err;
    if (lt_cache_open(&d, path, &err)) {
        fprintf(stderr, "ltsnn %s info: %s\n", VERB, err.msg);
        return 1;
    }
    printf("%s: ltsnn frame cache\n", path);
    printf("  dataset   %s\n", d.name[0] ? d.name : "-");
    printf("  samples   %zu\n", d.n);
    printf("  frames    Ts=%d C=%d H=%d W=%d, %d bit%s per value, scale %g%s\n", d.Ts, d.C, d.H, d.W, d.bits,
           d.bits > 1 ? "s" : "", (double)d.scale, d.Ts == 1 ? " (static: fed at every step)" : "");
    printf("  sample    %zu bytes\n", d.sample_bytes);
    printf("  options   %s\n", d.opts[0] ? d.opts : "-");
    printf("  classes   %d\n", d.classes);
    if (d.task == LT_TASK_DETECT)
        print_box_counts(&d);
    else
        print_class_counts(d.class_names, d.classes, d.labels, d.n, NULL, 0, "samples", NULL);
    lt_dataset_free(&d);
    return 0;
}

/* A Gen1 folder: recordings and boxes per split, from the box files. */
static int gen1_info(const char *root)
{
    lt_err err;
    lt_gen1_ds ds;
    if (lt_gen1_scan(&ds, root, &err)) {
        fprintf(stderr, "ltsnn %s info: %s\n", VERB, err.msg);
        return 1;
    }
    lt_gen1_opts go;
    lt_gen1_opts_default(&go);
    go.on_skip = on_skip;
    printf("%s: gen1 dataset folder (sensor %dx%d, classes car = 0, pedestrian = 1)\n", root, go.sensor_w,
           go.sensor_h);
    printf("  %-6s %6s %6s %9s %11s %11s %9s %10s\n", "split", "recs", "bad", "box times", "car boxes",
           "ped. boxes", "span (s)", "DAT (MB)");
    int rc = 0;
    for (int s = 0; s < LT_GEN1_SPLITS; s++) {
        lt_gen1_stats st;
        if (lt_gen1_stats_compute(&st, &ds, s, &go, &err)) {
            fprintf(stderr, "ltsnn %s info: %s\n", VERB, err.msg);
            rc = 1;
            break;
        }
        printf("  %-6s %6zu %6zu %9zu %11zu %11zu %9.1f %10.1f\n", lt_gen1_split_name(s), st.recs, st.bad,
               st.timestamps, st.boxes[0], st.boxes[1], st.span_s, (double)st.dat_bytes / 1e6);
    }
    lt_gen1_ds_free(&ds);
    return rc;
}

/* ROOT/{train,val,test}/ holding Gen1 box files. */
static int looks_like_gen1(const char *root)
{
    lt_gen1_ds ds;
    lt_err err;
    if (lt_gen1_scan(&ds, root, &err))
        return 0;
    int n = 0;
    for (int s = 0; s < LT_GEN1_SPLITS; s++)
        for (size_t i = 0; i < ds.n[s]; i++)
            n += ds.rec[s][i].bbox != NULL;
    lt_gen1_ds_free(&ds);
    return n > 0;
}

static int folder_info(const char *name, const char *root, size_t max_files, int threads)
{
    lt_err err;
    lt_ds_kind kind;
    if (name ? !strcmp(name, "gen1") : looks_like_gen1(root))
        return gen1_info(root);
    if (name ? lt_ds_kind_parse(&kind, name, &err) : lt_ds_detect(&kind, root, &err)) {
        fprintf(stderr, "ltsnn %s info: %s\n", VERB, err.msg);
        return name ? 2 : 1;
    }
    lt_ds ds;
    if (lt_ds_scan(&ds, kind, root, NULL, &err)) {
        fprintf(stderr, "ltsnn %s info: %s\n", VERB, err.msg);
        return 1;
    }
    printf("%s: %s dataset folder\n", root, lt_ds_kind_name(kind));
    if (ds.in_w)
        printf("  sensor    %dx%d (width x height)\n", ds.in_w, ds.in_h);
    else
        printf("  sensor    from each recording's header\n");
    if (ds.reader.format)
        printf("  format    %s\n", lt_ev_format_name(ds.reader.format));
    else
        printf("  format    any ltsnn reads, from each recording\n");
    printf("  files     %zu train, %zu test", ds.train.n, ds.test.n);
    if (kind == LT_DS_CIFAR10DVS || kind == LT_DS_NCALTECH101 || kind == LT_DS_FOLDERS)
        printf(" (ltsnn's split: %d%% per class drawn with seed %llu)", ds.split.test_percent,
               (unsigned long long)ds.split.seed);
    printf("\n  classes   %d\n", ds.classes);
    print_class_counts(ds.class_names, ds.classes, ds.train.labels, ds.train.n, ds.test.labels, ds.test.n,
                       "train", "test");
    int rc = 1;
    lt_ds_prep_opts po;
    lt_ds_prep_opts_default(&po);
    po.threads = threads;
    po.on_skip = on_skip;
    po.progress = on_progress;
    lt_ds_stats st[2];
    for (int s = 0; s < 2; s++) {
        progress p;
        progress_start(&p, s ? "reading test events" : "reading train events");
        po.ctx = &p;
        if (lt_ds_stats_compute(&st[s], &ds, s ? &ds.test : &ds.train, max_files, &po, &err)) {
            fprintf(stderr, "ltsnn %s info: %s\n", VERB, err.msg);
            goto free_all;
        }
    }
    printf("  events per file and duration%s:\n", max_files ? " (first files of each class only)" : "");
    for (int s = 0; s < 2; s++) {
        const lt_ds_stats *q = &st[s];
        if (!q->files && !q->bad)
            continue;
        printf("    %-5s %zu files", s ? "test" : "train", q->files);
        if (q->bad)
            printf(" (%zu unreadable)", q->bad);
        if (q->files)
            printf(": events min %zu mean %.0f max %zu; duration min %.3f mean %.3f max %.3f s; "
                   "largest x %d y %d",
                   q->events_min, q->events_mean, q->events_max, (double)q->dur_min * 1e-6, q->dur_mean * 1e-6,
                   (double)q->dur_max * 1e-6, q->x_max, q->y_max);
        printf("\n");
    }
    rc = 0;
free_all:
    lt_ds_free(&ds);
    return rc;
}

static int data_info(int argc, char **argv)
{
    const char *name = NULL;
    int threads = 0, max_files = 0;
    cli_opt opts[] = {
        {"--name", CLI_STR, &name, "dataset layout of a folder (default: guessed from its subfolders)", 0, 0, 0},
        {"--max-files", CLI_INT, &max_files, "folder: read only the first N files of each class", 0, 0, 0},
        {"--threads", CLI_INT, &threads, "worker threads (default: all cores)", 0, 0, 0},
        {0},
    };
    const char *pos[2];
    int n_pos;
    int r = cli_parse(VERB " info", info_usage, argc, argv, 3, opts, pos, 2, &n_pos);
    if (r)
        return r == 1 ? 0 : 2;
    if (n_pos < 1) {
        fprintf(stderr, "ltsnn %s info: give a cache file, a cache prefix or a dataset folder\n", VERB);
        return 2;
    }
    if (n_pos == 2)
        name = pos[0];
    const char *path = pos[n_pos - 1];
    if (max_files < 0 || threads < 0) {
        fprintf(stderr, "ltsnn %s info: --max-files and --threads must be >= 0\n", VERB);
        return 2;
    }
    if (is_regular(path))
        return cache_info(path);
    if (is_folder(path))
        return folder_info(name, path, (size_t)max_files, threads);
    static const char *const splits[] = {"train", "val", "test", "all"};
    int found = 0, rc = 0;
    for (int s = 0; s < 4; s++) {
        char p[4096];
        lt_err err;
        if (!lt_cache_split_path(p, sizeof p, path, splits[s], &err) && is_regular(p)) {
            found++;
            rc |= cache_info(p);
        }
    }
    if (!found) {
        fprintf(stderr, "ltsnn %s info: %s: no such file or folder, and no %s-{train,val,test,all}.ltc\n", VERB,
                path, path);
        return 1;
    }
    return rc;
}

/* ---- export: Fashion-MNIST saccades written as N-MNIST-style ATIS recordings ---- */
static void export_progress(void *ctx, size_t done, size_t total)
{
    (void)ctx;
    int tty = isatty(2);
    if (tty && (done == total || done % 1000 == 0))
        fprintf(stderr, "\rexporting %zu/%zu", done, total);
    else if (!tty && done == total)
        fprintf(stderr, "exported %zu recordings", done);
    if (done == total)
        fprintf(stderr, "\n");
}

static int data_export(int argc, char **argv)
{
    const char *out = NULL, *root = LT_FMNIST_DIR, *split = "both";
    int limit = 0, threads = 0;
    uint64_t seed = 0;
    cli_opt opts[] = {
        {"--out", CLI_STR, &out, "output folder (gets Train/ and Test/ like N-MNIST)", 0, 0, 0},
        {"--root", CLI_STR, &root, "Fashion-MNIST folder (default " LT_FMNIST_DIR ")", 0, 0, 0},
        {"--split", CLI_STR, &split, "train, test or both (default)", 0, 0, 0},
        {"--limit", CLI_INT, &limit, "at most this many images per split (default: all)", 0, 1, 2147483647},
        {"--seed", CLI_U64, &seed, "simulator seed (default 0)", 0, 0, 0},
        {"--threads", CLI_INT, &threads, "worker threads (default: all cores)", 0, 1, 1024},
        {0},
    };
    const char *pos[1];
    int np;
    int r = cli_parse(VERB " export", "n-fashion-mnist --out DIR [--limit N] [--split train|test|both]", argc, argv,
                      3, opts, pos, 1, &np);
    if (r)
        return r == 1 ? 0 : r;
    if (np != 1 || strcmp(pos[0], "n-fashion-mnist") || !out || limit < 0 ||
        (strcmp(split, "train") && strcmp(split, "test") && strcmp(split, "both"))) {
        fprintf(stderr, "ltsnn %s export: usage: ltsnn %s export n-fashion-mnist --out DIR [--limit N] "
                        "[--split train|test|both]\n", VERB, VERB);
        return 2;
    }
    lt_fmnist_opts o;
    lt_fmnist_opts_default(&o);
    o.limit = (size_t)limit;
    o.seed = seed;
    o.threads = threads;
    lt_err err = {0};
    for (int train = 1; train >= 0; train--) {
        if ((train && !strcmp(split, "test")) || (!train && !strcmp(split, "train")))
            continue;
        if (lt_fmnist_write_bin(out, root, train, &o, export_progress, NULL, &err)) {
            fprintf(stderr, "\nltsnn %s export: %s\n", VERB, err.msg);
            return 1;
        }
    }
    int both = !strcmp(split, "both");
    if (both)
        printf("wrote %s/Train and %s/Test (N-MNIST layout, ATIS .bin); prepare with: ltsnn data prepare n-mnist %s "
               "--out PREFIX\n", out, out, out);
    else
        printf("wrote %s/%s (N-MNIST layout, ATIS .bin); prepare with: ltsnn data prepare n-mnist %s --split %s "
               "--out PREFIX\n", out, !strcmp(split, "train") ? "Train" : "Test", out, split);
    return 0;
}

/* ---- synth-gen1: the synthetic Gen1-format dataset ---- */

static int data_synth_gen1(int argc, char **argv)
{
    lt_gen1_synth_opts o;
    lt_gen1_synth_opts_default(&o);
    int n[3] = {(int)o.n[0], (int)o.n[1], (int)o.n[2]}, threads = 0, render_hz = o.render_hz;
    float duration = (float)o.duration_s;
    const char *box = NULL, *dtype = "v2";
    uint64_t seed = o.seed;
    cli_opt opts[] = {
        {"--train", CLI_INT, &n[0], "recordings in train/ (default 48)", 0, 0, 1e6},
        {"--val", CLI_INT, &n[1], "recordings in val/ (default 12)", 0, 0, 1e6},
        {"--test", CLI_INT, &n[2], "recordings in test/ (default 12)", 0, 0, 1e6},
        {"--duration", CLI_FLOAT, &duration, "seconds per recording (default 6)", 0, 0.01, 3600},
        {"--box-period", CLI_STR, &box, "time between box time stamps (default 100ms)", 0, 0, 0},
        {"--render-hz", CLI_INT, &render_hz, "scene renders per second fed to the DVS simulator (default 100)", 0, 10,
         100000},
        {"--bbox-dtype", CLI_STR, &dtype, "v2 (t i8 ... class_confidence, default) or v1 (ts u8 ..., packed)", 0, 0, 0},
        {"--seed", CLI_U64, &seed, "seed (default 1); recording i of split s is seeded from (seed, s, i)", 0, 0, 0},
        {"--threads", CLI_INT, &threads, "worker threads (default: all cores)", 0, 0, 4096},
        {0},
    };
    const char *pos[1];
    int np;
    int r = cli_parse(VERB " synth-gen1", "OUT [options]\n\nWrites a synthetic dataset in Gen1's layout and formats: "
                      "OUT/{train,val,test}/NAME_td.dat and NAME_bbox.npy\n(docs/detection.md).", argc, argv, 3, opts,
                      pos, 1, &np);
    if (r)
        return r == 1 ? 0 : r;
    if (np != 1) {
        fprintf(stderr, "ltsnn %s synth-gen1: give the output folder\n", VERB);
        return 2;
    }
    if (box && (cli_parse_duration(box, &o.box_period_us) || o.box_period_us < 1000)) {
        fprintf(stderr, "ltsnn %s synth-gen1: --box-period %s: expected a duration of at least 1ms (e.g. 100ms)\n",
                VERB, box);
        return 2;
    }
    if (strcmp(dtype, "v1") && strcmp(dtype, "v2")) {
        fprintf(stderr, "ltsnn %s synth-gen1: --bbox-dtype %s: expected v1 or v2\n", VERB, dtype);
        return 2;
    }
    o.layout = !strcmp(dtype, "v1") ? LT_GEN1_V1 : LT_GEN1_V2;
    for (int s = 0; s < 3; s++)
        o.n[s] = (size_t)n[s];
    o.duration_s = duration;
    o.render_hz = render_hz;
    o.seed = seed;
    o.threads = threads;
    progress p;
    progress_start(&p, "synth-gen1");
    o.progress = on_progress;
    o.ctx = &p;
    lt_err err;
    double t0 = lt_time_s();
    if (lt_gen1_synth_write(pos[0], &o, &err)) {
        fprintf(stderr, "ltsnn %s synth-gen1: %s\n", VERB, err.msg);
        return 1;
    }
    printf("wrote %s/{train,val,test}: %zu, %zu, %zu recordings of %g s (boxes every %lld ms, %s box files) in %.1f s; "
           "prepare with: ltsnn data prepare gen1 %s --out PREFIX\n", pos[0], o.n[0], o.n[1], o.n[2], o.duration_s,
           (long long)(o.box_period_us / 1000), dtype, lt_time_s() - t0, pos[0]);
    return 0;
}

int cmd_data(int argc, char **argv)
{
    if (argc < 3 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
        FILE *out = argc < 3 ? stderr : stdout;
        fprintf(out,
                "usage: ltsnn %s prepare NAME [ROOT] --out PREFIX [options]   make PREFIX-{train,test}.ltc\n"
                "       ltsnn %s info [NAME] CACHE|PREFIX|ROOT [options]      describe a cache or a folder\n"
                "       ltsnn %s export n-fashion-mnist --out DIR             simulated recordings as N-MNIST .bin files\n"
                "       ltsnn %s synth-gen1 OUT [options]                     a synthetic dataset in Gen1's format\n"
                "       ltsnn %s show-gen1 ROOT|SPLIT_DIR REC --out DIR       PNG frames of a recording with its boxes\n\n"
                NAMES_HELP "\n\n(ltsnn data SUBCOMMAND --help for the options)\n",
                VERB, VERB, VERB, VERB, VERB);
        return argc < 3 ? 2 : 0;
    }
    if (!strcmp(argv[2], "prepare"))
        return data_prepare(argc, argv);
    if (!strcmp(argv[2], "info"))
        return data_info(argc, argv);
    if (!strcmp(argv[2], "export"))
        return data_export(argc, argv);
    if (!strcmp(argv[2], "synth-gen1"))
        return data_synth_gen1(argc, argv);
    if (!strcmp(argv[2], "show-gen1"))
        return cli_show_gen1(argc, argv);
    fprintf(stderr, "ltsnn %s: unknown subcommand '%s' (expected prepare, info, export, synth-gen1 or show-gen1)\n",
            VERB, argv[2]);
    return 2;
}
