/* plot.c -- a training run's figures, drawn from its log (include/ltsnn/plot.h).
 *
 * Reads RUN_DIR/log.jsonl (one JSON object per epoch, written by train.c)
 * and RUN_DIR/config.json (the neuron options), then draws with the SVG
 * writer of src/io/svg.c:
 *   fig_accuracy_threshold.svg  paper Fig. 2: accuracy and per-layer V_th against epoch
 *   fig_surrogate.svg           paper Fig. 4: ds/du and -ds/dV against u at each
 *                               layer's final threshold (METHOD.md §1 Eq. 5, §2 table)
 *   fig_rate.svg                firing rate per LIF layer against epoch
 * The surrogate values come from lt_lif_surrogate, the same function the
 * LIF kernels' tests use, so the figure shows what training computed.
 * Not a log analyser: no smoothing, no comparison of runs. */
#include "ltsnn/plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "kernels/kernels.h"
#include "ltsnn/io.h"
#include "ltsnn/nn.h"

#define LOG_MAX_BYTES ((size_t)256 << 20)
#define MAX_LAYERS 4096
#define SURR_POINTS 401

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

static double num_or_nan(const cJSON *o, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(j) ? j->valuedouble : NAN;
}

/* Reads a per-layer array into dst (NULL: only counts it).  Returns the
 * count, or -1 (message set) when it is not an array of numbers. */
static int read_layers(double *dst, const cJSON *o, const char *key, const char *path, size_t line, lt_err *err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsArray(a)) {
        lt_err_set(err, LT_ERR_FORMAT, "%s:%zu: \"%s\" is missing or not an array (one number per LIF layer)",
                   path, line, key);
        return -1;
    }
    int n = 0;
    for (const cJSON *e = a->child; e; e = e->next, n++) {
        if (n >= MAX_LAYERS) {
            lt_err_set(err, LT_ERR_FORMAT, "%s:%zu: \"%s\" has more than %d entries", path, line, key, MAX_LAYERS);
            return -1;
        }
        if (!cJSON_IsNumber(e)) {
            lt_err_set(err, LT_ERR_FORMAT, "%s:%zu: \"%s\" entry %d is not a number", path, line, key, n);
            return -1;
        }
        if (dst)
            dst[n] = e->valuedouble;
    }
    return n;
}

void lt_run_log_free(lt_run_log *log)
{
    free(log->epoch);
    free(log->train_loss);
    free(log->train_acc);
    free(log->test_acc);
    free(log->lr);
    free(log->seconds);
    free(log->vth);
    free(log->rate);
    memset(log, 0, sizeof *log);
}

/* One epoch record into row log->n (arrays already sized). */
static lt_status read_record(lt_run_log *log, const cJSON *o, const char *path, size_t line, size_t *first_line,
                             double *partial_samples, double *epoch_samples, lt_err *err)
{
    size_t r = log->n;
    const cJSON *ta = cJSON_GetObjectItemCaseSensitive(o, "test_acc");
    if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "epoch")))
        return lt_err_set(err, LT_ERR_FORMAT, "%s:%zu: \"epoch\" is not a number", path, line);
    if (!cJSON_IsNumber(ta))
        return lt_err_set(err, LT_ERR_FORMAT, "%s:%zu: \"test_acc\" is missing or not a number", path, line);
    int nv = read_layers(NULL, o, "vth", path, line, err);
    if (nv < 0)
        return LT_ERR_FORMAT;
    int nr = read_layers(NULL, o, "rate", path, line, err);
    if (nr < 0)
        return LT_ERR_FORMAT;
    if (nv != nr)
        return lt_err_set(err, LT_ERR_FORMAT, "%s:%zu: \"vth\" has %d entries but \"rate\" has %d", path, line, nv,
                          nr);
    if (r == 0) {
        log->n_layers = nv;
        *first_line = line;
    } else if (nv != log->n_layers) {
        return lt_err_set(err, LT_ERR_FORMAT, "%s:%zu: \"vth\" has %d entries but line %zu had %d", path, line, nv,
                          *first_line, log->n_layers);
    }
    log->epoch[r] = num_or_nan(o, "epoch");
    /* a partial record is placed inside its epoch by lt_run_log_read, once
     * the size of a whole epoch (the largest "samples" of a full record) is
     * known */
    double samples = num_or_nan(o, "samples");
    *partial_samples = NAN;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "partial")))
        *partial_samples = samples;
    else if (samples > *epoch_samples)
        *epoch_samples = samples;
    log->train_loss[r] = num_or_nan(o, "train_loss");
    log->train_acc[r] = num_or_nan(o, "train_acc");
    log->test_acc[r] = ta->valuedouble;
    log->lr[r] = num_or_nan(o, "lr");
    log->seconds[r] = num_or_nan(o, "seconds");
    return LT_OK;
}

lt_status lt_run_log_read(lt_run_log *log, const char *path, lt_err *err)
{
    lt_status st;
    char *buf = NULL;
    size_t len = 0, cap = 1, first_line = 0;
    double *psamples = NULL, epoch_samples = 0;
    memset(log, 0, sizeof *log);
    if ((st = lt_read_file(path, (void **)&buf, &len, LOG_MAX_BYTES, err)))
        return st;
    for (size_t i = 0; i < len; i++)
        cap += buf[i] == '\n';
    double **cols[6] = {&log->epoch, &log->train_loss, &log->train_acc, &log->test_acc, &log->lr, &log->seconds};
    if (!(psamples = malloc(cap * sizeof(double)))) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory for %zu lines", path, cap);
        goto free_log;
    }
    for (int c = 0; c < 6; c++)
        if (!(*cols[c] = malloc(cap * sizeof(double)))) {
            st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory for %zu lines", path, cap);
            goto free_log;
        }
    size_t line = 0;
    for (char *p = buf, *end = buf + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *next = nl ? nl + 1 : end;
        line++;
        if (is_blank(p, n)) {
            p = next;
            continue;
        }
        const char *stop = NULL;
        cJSON *o = cJSON_ParseWithLengthOpts(p, n, &stop, 0);
        if (!o) {
            size_t col = stop && stop >= p && stop <= p + n ? (size_t)(stop - p) + 1 : 1;
            st = lt_err_set(err, LT_ERR_FORMAT, "%s:%zu: column %zu: malformed JSON", path, line, col);
            goto free_log;
        }
        while (stop < p + n && (*stop == ' ' || *stop == '\t' || *stop == '\r'))
            stop++;
        if (stop < p + n) {
            st = lt_err_set(err, LT_ERR_FORMAT, "%s:%zu: column %zu: unexpected text after the JSON object", path,
                            line, (size_t)(stop - p) + 1);
            cJSON_Delete(o);
            goto free_log;
        }
        if (!cJSON_IsObject(o)) {
            st = lt_err_set(err, LT_ERR_FORMAT, "%s:%zu: not a JSON object", path, line);
            cJSON_Delete(o);
            goto free_log;
        }
        /* Lines that are not epoch records (a summary, a note) are allowed. */
        if (!cJSON_GetObjectItemCaseSensitive(o, "epoch")) {
            cJSON_Delete(o);
            p = next;
            continue;
        }
        st = read_record(log, o, path, line, &first_line, &psamples[log->n], &epoch_samples, err);
        if (!st && log->n == 0 && log->n_layers) {
            size_t cells;
            if (!lt_mul_ok(cap, (size_t)log->n_layers, &cells) || !lt_mul_ok(cells, sizeof(double), &cells) ||
                !(log->vth = malloc(cells)) || !(log->rate = malloc(cells)))
                st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory for %zu x %d layer values", path, cap,
                                log->n_layers);
        }
        if (!st && log->n_layers) {
            read_layers(log->vth + log->n * (size_t)log->n_layers, o, "vth", path, line, err);
            read_layers(log->rate + log->n * (size_t)log->n_layers, o, "rate", path, line, err);
        }
        cJSON_Delete(o);
        if (st)
            goto free_log;
        log->n++;
        p = next;
    }
    if (log->n == 0) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: no epoch records (%zu lines)", path, line);
        goto free_log;
    }
    for (size_t r = 0; r < log->n; r++)
        if (psamples[r] >= 0 && epoch_samples > 0 && psamples[r] <= epoch_samples)
            log->epoch[r] += psamples[r] / epoch_samples - 1.0;
    free(psamples);
    free(buf);
    return LT_OK;

free_log:
    free(psamples);
    free(buf);
    lt_run_log_free(log);
    return st;
}

static lt_status read_positive(float *dst, const cJSON *o, const char *key, const char *path, lt_err *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!j)
        return LT_OK;
    if (!cJSON_IsNumber(j) || !(j->valuedouble > 0) || !(j->valuedouble < 1e6))
        return lt_err_set(err, LT_ERR_FORMAT, "%s: \"%s\" must be a positive number", path, key);
    *dst = (float)j->valuedouble;
    return LT_OK;
}

/* config.json is optional; a present but broken one is an error. */
static lt_status read_config(lt_neuron *nr, const char *run_dir, lt_err *err)
{
    char path[4096];
    lt_neuron_default(nr);
    if ((size_t)snprintf(path, sizeof path, "%s/config.json", run_dir) >= sizeof path)
        return lt_err_set(err, LT_ERR_ARG, "%s: run directory name too long", run_dir);
    struct stat sb;
    if (stat(path, &sb) != 0 && errno == ENOENT)
        return LT_OK;
    char *buf = NULL;
    size_t len = 0;
    lt_status st = lt_read_file(path, (void **)&buf, &len, 1 << 20, err);
    if (st)
        return st;
    cJSON *o = cJSON_ParseWithLength(buf, len);
    const cJSON *j;
    if (!cJSON_IsObject(o)) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: not a JSON object", path);
        goto free_json;
    }
    if ((j = cJSON_GetObjectItemCaseSensitive(o, "mode")) &&
        (!cJSON_IsString(j) || (st = lt_neuron_set_mode(nr, j->valuestring, err)))) {
        st = st ? lt_err_prefix(err, "%s: \"mode\": ", path)
                : lt_err_set(err, LT_ERR_FORMAT, "%s: \"mode\" is not a string", path);
        goto free_json;
    }
    if ((j = cJSON_GetObjectItemCaseSensitive(o, "window")) &&
        (!cJSON_IsString(j) || (st = lt_neuron_set_window(nr, j->valuestring, err)))) {
        st = st ? lt_err_prefix(err, "%s: \"window\": ", path)
                : lt_err_set(err, LT_ERR_FORMAT, "%s: \"window\" is not a string", path);
        goto free_json;
    }
    /* "lam" shapes no figure: the surrogates depend on u and V only. */
    if ((st = read_positive(&nr->g, o, "g", path, err)) || (st = read_positive(&nr->alpha, o, "alpha", path, err)))
        goto free_json;
free_json:
    cJSON_Delete(o);
    free(buf);
    return st;
}

typedef struct figs {
    double *col;         /* [L, n] per-layer columns of vth, then of rate */
    double *u;           /* [SURR_POINTS] */
    double *dsdu, *dsdv; /* [L, SURR_POINTS]; dsdv holds -ds/dV */
    char (*label)[64];   /* [L] "LIF k" */
    char (*vlabel)[64];  /* [L] "LIF k (V = ...)" */
    lt_plot_series *ser; /* [2 L + 2] */
} figs;

static lt_status out_path(char *dst, size_t cap, const char *dir, const char *name, lt_err *err)
{
    if ((size_t)snprintf(dst, cap, "%s/%s", dir, name) >= cap)
        return lt_err_set(err, LT_ERR_ARG, "%s: output directory name too long", dir);
    return LT_OK;
}

static void note_file(lt_plot_result *res, const char *path)
{
    if (res && res->n_files < LT_PLOT_MAX_FILES)
        snprintf(res->files[res->n_files++], sizeof res->files[0], "%s", path);
}

static lt_status fig_accuracy(const lt_run_log *lg, figs *g, const char *path, lt_err *err)
{
    size_t n = lg->n;
    int L = lg->n_layers;
    double *test = g->col + 2 * (size_t)L * n; /* the two spare columns */
    for (size_t i = 0; i < n; i++)
        test[i] = lg->test_acc[i] >= 0 ? lg->test_acc[i] : NAN; /* -1: the run had no test set */
    lt_plot_series *s = g->ser;
    s[0] = (lt_plot_series){.label = "test", .x = lg->epoch, .y = test, .n = n, .color = 0};
    s[1] = (lt_plot_series){.label = "train", .x = lg->epoch, .y = lg->train_acc, .n = n, .dashed = 1, .color = 0};
    for (int k = 0; k < L; k++)
        s[2 + k] = (lt_plot_series){.label = g->label[k], .x = lg->epoch, .y = g->col + (size_t)k * n, .n = n,
                                    .color = k};
    lt_plot_panel p[2] = {
        {.title = "Accuracy", .xlabel = "epoch", .ylabel = "accuracy (%)", .series = s, .n_series = 2},
        {.title = "Firing thresholds", .xlabel = "epoch", .ylabel = "threshold V_th", .series = s + 2,
         .n_series = (size_t)L},
    };
    lt_plot_figure f = {.title = "Accuracy and learned thresholds per epoch", .cols = 2, .panels = p, .n_panels = 2};
    return lt_svg_write(path, &f, err);
}

static lt_status fig_rate(const lt_run_log *lg, figs *g, const char *path, lt_err *err)
{
    size_t n = lg->n;
    int L = lg->n_layers;
    for (int k = 0; k < L; k++)
        g->ser[k] = (lt_plot_series){.label = g->label[k], .x = lg->epoch, .y = g->col + (size_t)(L + k) * n,
                                     .n = n, .color = k};
    lt_plot_panel p = {.title = "Firing rate per LIF layer", .xlabel = "epoch",
                       .ylabel = "spikes per neuron per step", .series = g->ser, .n_series = (size_t)L};
    lt_plot_figure f = {.cols = 1, .panels = &p, .n_panels = 1};
    return lt_svg_write(path, &f, err);
}

/* METHOD.md §1 Eq. 5 (ds/du) and §2's table (ds/dV) at each layer's final
 * threshold, via the kernels' own lt_lif_surrogate. */
static lt_status fig_surrogate(const lt_run_log *lg, const lt_neuron *nr, figs *g, const char *path, lt_err *err)
{
    int L = lg->n_layers;
    const double *vfin = L ? lg->vth + (lg->n - 1) * (size_t)L : NULL;
    lt_lif_opts o;
    lt_lif_opts_default(&o);
    o.lam = nr->lam, o.g = nr->g, o.alpha = nr->alpha;
    o.mode = (lt_vth_mode)nr->mode, o.window = (lt_window)nr->window;
    int dsr = o.mode == LT_MODE_DSR;
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < L; k++) {
        double c = dsr ? o.alpha * vfin[k] : vfin[k];
        if (isfinite(c))
            lo = fmin(lo, c), hi = fmax(hi, c);
    }
    if (!(lo <= hi))
        lo = hi = 1.0;
    lo -= 1.5 * o.g, hi += 1.5 * o.g;
    for (int i = 0; i < SURR_POINTS; i++)
        g->u[i] = lo + (hi - lo) * i / (SURR_POINTS - 1);
    for (int k = 0; k < L; k++) {
        for (int i = 0; i < SURR_POINTS; i++) {
            float du, dv;
            lt_lif_surrogate(&du, &dv, (float)g->u[i], (float)vfin[k], &o);
            g->dsdu[(size_t)k * SURR_POINTS + i] = du;
            g->dsdv[(size_t)k * SURR_POINTS + i] = -dv;
        }
        snprintf(g->vlabel[k], sizeof g->vlabel[k], "LIF %d (V = %.3g)", k + 1, vfin[k]);
        g->ser[k] = (lt_plot_series){.label = g->vlabel[k], .x = g->u, .y = g->dsdu + (size_t)k * SURR_POINTS,
                                     .n = SURR_POINTS, .color = k};
        g->ser[L + k] = (lt_plot_series){.label = g->vlabel[k], .x = g->u, .y = g->dsdv + (size_t)k * SURR_POINTS,
                                         .n = SURR_POINTS, .color = k};
    }
    char t1[128], t2[160];
    snprintf(t1, sizeof t1, "Surrogate ds/du = %stri(u - %sV) (g = %.3g)", dsr ? "V*" : "",
             dsr ? "alpha*" : "", o.g);
    if (o.mode == LT_MODE_FIXED)
        snprintf(t2, sizeof t2, "Threshold gradient -ds/dV (mode fixed: V is not learned)");
    else
        snprintf(t2, sizeof t2, "Threshold gradient -ds/dV (mode %s, window %s)", lt_mode_name(nr->mode),
                 lt_window_name(nr->window));
    lt_plot_panel p[2] = {
        {.title = t1, .xlabel = "membrane potential u", .ylabel = "ds/du", .series = g->ser, .n_series = (size_t)L},
        {.title = t2, .xlabel = "membrane potential u", .ylabel = "-ds/dV", .series = g->ser + L,
         .n_series = (size_t)L},
    };
    lt_plot_figure f = {.title = "Spike gradients at the learned thresholds", .cols = 2, .panels = p, .n_panels = 2};
    return lt_svg_write(path, &f, err);
}

lt_status lt_plot_run(const char *run_dir, const char *out_dir, lt_plot_result *res, lt_err *err)
{
    lt_status st;
    lt_run_log lg;
    lt_neuron nr;
    figs g = {0};
    char path[4096];
    if (res)
        memset(res, 0, sizeof *res);
    if (!out_dir)
        out_dir = run_dir;
    if ((st = read_config(&nr, run_dir, err)))
        return st;
    if ((st = out_path(path, sizeof path, run_dir, "log.jsonl", err)))
        return st;
    if ((st = lt_run_log_read(&lg, path, err)))
        return st;
    size_t n = lg.n, L = (size_t)lg.n_layers;
    if (res)
        res->n_epochs = n, res->n_layers = lg.n_layers;
    g.col = malloc((2 * L + 2) * n * sizeof *g.col);
    g.u = malloc(SURR_POINTS * sizeof *g.u);
    g.dsdu = malloc((L ? L : 1) * SURR_POINTS * sizeof *g.dsdu);
    g.dsdv = malloc((L ? L : 1) * SURR_POINTS * sizeof *g.dsdv);
    g.label = malloc((L ? L : 1) * sizeof *g.label);
    g.vlabel = malloc((L ? L : 1) * sizeof *g.vlabel);
    g.ser = malloc((2 * L + 2) * sizeof *g.ser);
    if (!g.col || !g.u || !g.dsdu || !g.dsdv || !g.label || !g.vlabel || !g.ser) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory for the figures", run_dir);
        goto free_figs;
    }
    for (size_t k = 0; k < L; k++) {
        snprintf(g.label[k], sizeof g.label[k], "LIF %zu", k + 1);
        for (size_t i = 0; i < n; i++) {
            g.col[k * n + i] = lg.vth[i * L + k];
            g.col[(L + k) * n + i] = lg.rate[i * L + k];
        }
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        st = lt_err_set(err, LT_ERR_IO, "cannot create output directory %s: %s", out_dir, strerror(errno));
        goto free_figs;
    }
    if ((st = out_path(path, sizeof path, out_dir, "fig_accuracy_threshold.svg", err)) ||
        (st = fig_accuracy(&lg, &g, path, err)))
        goto free_figs;
    note_file(res, path);
    if ((st = out_path(path, sizeof path, out_dir, "fig_surrogate.svg", err)) ||
        (st = fig_surrogate(&lg, &nr, &g, path, err)))
        goto free_figs;
    note_file(res, path);
    if ((st = out_path(path, sizeof path, out_dir, "fig_rate.svg", err)) || (st = fig_rate(&lg, &g, path, err)))
        goto free_figs;
    note_file(res, path);

free_figs:
    free(g.col);
    free(g.u);
    free(g.dsdu);
    free(g.dsdv);
    free(g.label);
    free(g.vlabel);
    free(g.ser);
    lt_run_log_free(&lg);
    return st;
}
