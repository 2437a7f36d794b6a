/* sources.c -- turns a --data argument into train and test lt_datasets:
 * the built-in demo data, Fashion-MNIST (static or simulated events), or a
 * prepared frame cache.  Only names and files; the data are made elsewhere. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ltsnn/synth.h"
#include "ltsnn/train.h"

static int is_file(const char *p)
{
    struct stat s;
    return stat(p, &s) == 0 && S_ISREG(s.st_mode);
}

lt_status lt_source_load(const char *spec, const lt_source_opts *o, lt_dataset *train, lt_dataset *test,
                         lt_err *err)
{
    lt_status st;
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (!spec || !strcmp(spec, "demo")) {
        lt_demo_opts d;
        lt_demo_opts_default(&d);
        if (o->T > 0)
            d.T = o->T;
        d.seed = o->seed * 2 + 1;
        if (o->limit)
            d.n = o->limit;
        if ((st = lt_demo_make(train, &d, err)))
            return st;
        d.seed = o->seed * 2 + 2;
        d.n = d.n / 5 > 0 ? d.n / 5 : 1;
        if ((st = lt_demo_make(test, &d, err)))
            lt_dataset_free(train);
        return st;
    }
    if (!strcmp(spec, "fashion-mnist") || !strcmp(spec, "n-fashion-mnist")) {
        lt_fmnist_opts f;
        lt_fmnist_opts_default(&f);
        f.mode = spec[0] == 'n' ? LT_FMNIST_NEURO : LT_FMNIST_STATIC;
        if (o->T > 0)
            f.T = o->T;
        f.limit = o->limit;
        f.seed = o->seed;
        if ((st = lt_fmnist_make(train, LT_FMNIST_DIR, 1, &f, NULL, NULL, err)))
            return st;
        f.limit = o->limit ? (o->limit / 5 > 0 ? o->limit / 5 : 1) : 0;
        if ((st = lt_fmnist_make(test, LT_FMNIST_DIR, 0, &f, NULL, NULL, err)))
            lt_dataset_free(train);
        return st;
    }
    /* a prepared cache: PREFIX-train.ltc + PREFIX-test.ltc, or one file */
    if (o->limit)
        return lt_err_set(err, LT_ERR_ARG, "--limit applies to generated data (demo, fashion-mnist); for a cache, "
                          "prepare a smaller one (ltsnn data prepare ... --limit N)");
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s-train.ltc", spec);
    if (is_file(a)) {
        if ((st = lt_cache_open(train, a, err)))
            return st;
        /* the evaluation split: asked for, else a detection cache's val
         * (Gen1 has train/val/test: test stays held out), else test */
        snprintf(b, sizeof b, "%s-%s.ltc", spec, o->split ? o->split : "val");
        if (!o->split && (train->task != LT_TASK_DETECT || !is_file(b)))
            snprintf(b, sizeof b, "%s-test.ltc", spec);
        if (is_file(b) && (st = lt_cache_open(test, b, err)))
            lt_dataset_free(train);
        return st;
    }
    if (is_file(spec))
        return lt_cache_open(train, spec, err);
    return lt_err_set(err, LT_ERR_ARG, "--data %s: not a known source (demo, fashion-mnist, n-fashion-mnist) and "
                      "neither %s nor %s exists (make one with ltsnn data prepare)", spec, spec, a);
}
