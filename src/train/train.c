/* train.c -- the training and evaluation loops (ltsnn/train.h).
 *
 * One epoch: shuffle the sample order with the run's RNG, unpack each
 * mini-batch into the time-major float batch x[T, b, C, H, W], forward,
 * loss (METHOD.md §4, Omega = mean threshold, a constant), backward,
 * optimiser step.  Then evaluate, append to log.jsonl, write
 * last.safetensors (and best.safetensors).  Resuming restores weights,
 * optimiser moments, step count and the RNG, so a single-threaded resumed
 * run repeats the uninterrupted one bit for bit. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernels/kernels.h"
#include "ltsnn/detect.h"
#include "ltsnn/head.h"
#include "ltsnn/io.h"
#include "ltsnn/train.h"
#include "train/parallel.h"

void lt_train_config_default(lt_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->epochs = 10;
    c->batch = 16;
    c->beta = 0.45f;
    c->tet = 1;
    c->bucket_mb = 4;
    lt_optim_config_default(&c->optim);
}

lt_status lt_check_data(const lt_net *net, const lt_dataset *d, const char *what, lt_err *err)
{
    const lt_net_config *c = lt_net_cfg(net);
    if (d->C != c->in_c || d->H != c->in_h || d->W != c->in_w)
        return lt_err_set(err, LT_ERR_SHAPE, "%s data has frames %dx%dx%d but the model's input is %dx%dx%d", what,
                          d->C, d->H, d->W, c->in_c, c->in_h, c->in_w);
    if (d->classes > lt_net_classes(net))
        return lt_err_set(err, LT_ERR_SHAPE, "%s data has %d classes but the model has %d outputs", what,
                          d->classes, lt_net_classes(net));
    if (d->n == 0)
        return lt_err_set(err, LT_ERR_ARG, "%s data is empty", what);
    return lt_dataset_check_T(d, c->T, err);
}

/* ---- a batch's targets ---- */

/* the most boxes one sample of d holds */
static size_t most_boxes(const lt_dataset *d)
{
    size_t m = 0;
    for (size_t i = 0; d && d->task == LT_TASK_DETECT && i < d->n; i++) {
        size_t k = (size_t)(d->box_start[i + 1] - d->box_start[i]);
        m = k > m ? k : m;
    }
    return m;
}

lt_status lt_batch_targets_alloc(lt_batch_targets *t, int B, const lt_dataset *a, const lt_dataset *b, lt_err *err)
{
    memset(t, 0, sizeof *t);
    size_t ma = most_boxes(a), mb = most_boxes(b);
    t->box_cap = (size_t)B * (ma > mb ? ma : mb);
    t->labels = lt_alloc((size_t)B * sizeof *t->labels);
    t->ids = lt_alloc((size_t)B * sizeof *t->ids);
    t->idx = lt_alloc((size_t)B * sizeof *t->idx);
    t->start = lt_alloc(((size_t)B + 1) * sizeof *t->start);
    t->boxes = lt_alloc((t->box_cap + 1) * sizeof *t->boxes);
    if (!t->labels || !t->ids || !t->idx || !t->start || !t->boxes) {
        lt_batch_targets_free(t);
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory for a batch's targets (%zu boxes)", t->box_cap);
    }
    return LT_OK;
}

void lt_batch_targets_free(lt_batch_targets *t)
{
    lt_free(t->labels);
    lt_free(t->ids);
    lt_free(t->idx);
    lt_free(t->start);
    lt_free(t->boxes);
    memset(t, 0, sizeof *t);
}

void lt_batch_targets_fill(lt_batch_targets *t, lt_targets *y, const lt_dataset *d, const uint32_t *idx, int b)
{
    for (int j = 0; j < b; j++) {
        t->labels[j] = d->labels[idx[j]];
        t->ids[j] = idx[j];
        t->idx[j] = idx[j];
    }
    *y = (lt_targets){.b = b, .labels = t->labels, .ids = t->ids, .data = d};
    if (d->task == LT_TASK_DETECT) {
        /* METHOD.md §9: each sample's boxes, sample by sample */
        assert(lt_dataset_box_total(d, t->idx, b) <= t->box_cap);
        lt_det_batch_boxes(t->boxes, t->start, d, t->idx, b);
        y->boxes = t->boxes;
        y->box_start = t->start;
    }
}

/* x[T, b, C, H, W] and the targets of samples idx[0..b) */
static void load_batch(float *x, lt_batch_targets *tg, lt_targets *y, const lt_dataset *d, const uint32_t *idx, int b,
                       int T)
{
    for (int j = 0; j < b; j++)
        lt_dataset_get(d, idx[j], x, T, b, j);
    lt_batch_targets_fill(tg, y, d, idx, b);
}

lt_status lt_evaluate_head(lt_net *net, lt_head *head, const lt_dataset *d, lt_eval_result *r, lt_err *err)
{
    lt_status st = lt_check_data(net, d, "evaluation", err);
    if (st || (st = lt_head_check_data(head, d, "evaluation", err)))
        return st;
    const lt_net_config *c = lt_net_cfg(net);
    int T = c->T, B = c->B;
    size_t frame = (size_t)c->in_c * c->in_h * c->in_w;
    float *x = lt_alloc((size_t)T * B * frame * sizeof(float));
    uint32_t *idx = lt_alloc((size_t)B * sizeof(uint32_t));
    lt_batch_targets tg;
    if ((st = lt_batch_targets_alloc(&tg, B, d, NULL, err)))
        goto done;
    if (!x || !idx) {
        st = lt_err_set(err, LT_ERR_NOMEM, "out of memory for an evaluation batch");
        goto done;
    }
    lt_head_eval_reset(head);
    for (size_t i = 0; i < d->n && !st; i += (size_t)B) {
        int b = (int)(d->n - i < (size_t)B ? d->n - i : (size_t)B);
        for (int j = 0; j < b; j++)
            idx[j] = (uint32_t)(i + (size_t)j);
        lt_targets y;
        load_batch(x, &tg, &y, d, idx, b, T);
        st = lt_head_eval_add(head, lt_net_forward(net, x, b, 0), &y, err);
    }
    if (!st)
        st = lt_head_eval_result(head, r, err);
done:
    lt_free(x);
    lt_free(idx);
    lt_batch_targets_free(&tg);
    return st;
}

lt_status lt_evaluate(lt_net *net, const lt_dataset *d, double *acc, int64_t *confusion, lt_err *err)
{
    lt_head *h;
    lt_status st = lt_head_classify(&h, net, 0.45f, 1, err);
    if (st)
        return st;
    lt_eval_result r;
    if (!(st = lt_evaluate_head(net, h, d, &r, err))) {
        *acc = r.value[0];
        if (confusion)
            memcpy(confusion, r.confusion, (size_t)r.K * (size_t)r.K * sizeof(int64_t));
    }
    lt_head_free(h);
    return st;
}

/* ---- run directory ---- */
static lt_status make_dir(const char *dir, lt_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(path, 0777) && errno != EEXIST)
            return lt_err_set(err, LT_ERR_IO, "cannot create directory %s: %s", path, strerror(errno));
        *p = '/';
    }
    if (mkdir(path, 0777) && errno != EEXIST)
        return lt_err_set(err, LT_ERR_IO, "cannot create directory %s: %s", path, strerror(errno));
    return LT_OK;
}

/* A number for JSON: NaN and infinities have no JSON form and become null. */
static int jnum(char *buf, size_t cap, const char *fmt, double v)
{
    return isfinite(v) ? snprintf(buf, cap, fmt, v) : snprintf(buf, cap, "null");
}

/* a JSON value for an option string: numbers and booleans bare, the rest quoted */
static void json_value(FILE *f, const char *v)
{
    char *end;
    double d = strtod(v, &end);
    if ((*v && !*end && isfinite(d)) || !strcmp(v, "true") || !strcmp(v, "false"))
        fputs(v, f);
    else
        fprintf(f, "\"%s\"", v);
}

/* The net options config.json and the resume check record: the neuron's and
 * bn, then those of the rest (issue 18's) that differ from their defaults,
 * so a default run records what it did before they existed (and its old
 * checkpoints resume).  wbits is left to the resume's own check (cmd_train). */
static int recorded_options(const lt_net_config *n, lt_kv kv[LT_NET_OPTIONS])
{
    lt_kv all[LT_NET_OPTIONS];
    int m = lt_net_options(&n->neuron, n->bn, kv), nall = lt_net_config_options(n, all);
    for (int i = m; i < nall; i++)
        if (strcmp(all[i].key, "wbits") && !lt_net_config_option_is_default(&all[i]))
            kv[m++] = all[i];
    return m;
}

static lt_status write_config(const char *dir, const lt_net *net, const lt_head *head, const lt_train_config *c,
                              int ranks, lt_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    lt_afile a;
    lt_status st = lt_afile_open(&a, path, err);
    if (st)
        return st;
    const lt_net_config *n = lt_net_cfg(net);
    char model[4096];
    lt_net_expanded_model(net, model, sizeof model);
    fprintf(a.f,
            "{\"model\": \"%s\", \"input\": \"%dx%dx%d\", \"classes\": %d, \"T\": %d, \"batch\": %d, "
            "\"epochs\": %d, \"seed\": %" PRIu64 ", \"head\": \"%s\", \"beta\": %.9g, \"loss\": \"%s\"",
            model, n->in_c, n->in_h, n->in_w, lt_net_classes(net), n->T, c->batch, c->epochs, c->seed,
            head->kind->name, c->beta, c->tet ? "tet" : "mean");
    lt_kv kv[LT_NET_OPTIONS];
    int nkv = recorded_options(n, kv);
    for (int i = 0; i < nkv; i++) {
        fprintf(a.f, ", \"%s\": ", kv[i].key);
        json_value(a.f, kv[i].val);
    }
    fprintf(a.f,
            ", \"optim\": \"%s\", \"lr\": %.9g, \"lr_vth\": %.9g, \"vth_optim\": \"%s\", \"wd_vth\": %.9g, "
            "\"weight_decay\": %.9g, \"cosine\": %s, "
            "\"data\": \"%s\", \"params\": %zu, \"threads\": %d",
            c->optim.kind == LT_OPT_ADAM ? "adam" : "sgd", c->optim.lr,
            c->optim.lr_vth >= 0 ? c->optim.lr_vth : c->optim.lr, c->optim.vth_sgd ? "sgd" : "same", c->optim.wd_vth,
            c->optim.weight_decay,
            c->optim.cosine ? "true" : "false", c->data_name ? c->data_name : "", lt_net_params(net),
            lt_get_threads());
    const char *const *hm = head->kind->meta ? head->kind->meta(head) : NULL;
    for (int i = 0; hm && hm[i] && hm[i + 1]; i += 2) {
        fprintf(a.f, ", \"%s\": ", hm[i]);
        json_value(a.f, hm[i + 1]);
    }
    if (ranks > 1) /* data-parallel (METHOD.md §11); threads are per rank */
        fprintf(a.f, ", \"ranks\": %d, \"sync_bn\": %s, \"bucket_mb\": %.6g", ranks, c->sync_bn ? "true" : "false",
                c->bucket_mb);
    fprintf(a.f, "}\n");
    return lt_afile_commit(&a, err);
}

static lt_status append_log(const char *path, const char *line, lt_err *err)
{
    FILE *f = fopen(path, "a");
    if (!f)
        return lt_err_set(err, LT_ERR_IO, "cannot append to %s: %s", path, strerror(errno));
    int bad = fputs(line, f) < 0;
    bad |= fclose(f) != 0;
    return bad ? lt_err_set(err, LT_ERR_IO, "cannot write %s: %s", path, strerror(errno)) : LT_OK;
}

/* Where a run stands: enough to continue it exactly, also from inside an
 * epoch (a --minutes stop).  rng is the shuffling RNG as it was BEFORE the
 * current epoch's shuffle, so a resume re-draws the same order and skips the
 * batches already done; the sums make the epoch's logged means equal. */
typedef struct run_state {
    int epoch;          /* the current (or last finished) epoch, 1-based; 0 before any */
    long batch;         /* batches done in it */
    lt_rng rng;
    lt_head_stats sums; /* the epoch's head statistics so far */
    double best;
    long log_lines;
    double *rate;       /* [n_lif] firing-rate sums */
    int n_lif;
} run_state;

static void rng_hex(char *buf, size_t len, const lt_rng *r)
{
    snprintf(buf, len, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, r->s[0], r->s[1], r->s[2],
             r->s[3]);
}

/* the settings a resumed run must share with the run that wrote the checkpoint */
static void run_settings(char *buf, size_t len, const lt_net *net, const lt_head *head, const lt_train_config *c,
                         long total_steps)
{
    const lt_net_config *nc = lt_net_cfg(net);
    char model[4096];
    lt_net_expanded_model(net, model, sizeof model);
    int o = snprintf(buf, len, "model=%s input=%dx%dx%d T=%d data_opts=%s ", model, nc->in_c, nc->in_h, nc->in_w,
                     nc->T, c->data_opts ? c->data_opts : "");
    o += snprintf(buf + o, len - (size_t)o, "head=%s beta=%.9g loss=%s batch=%d seed=%" PRIu64 " data=%s optim=%s lr=%.9g "
                     "lr_vth=%.9g vth_sgd=%d wd_vth=%.9g wd=%.9g momentum=%.9g cosine=%d total_steps=%ld",
                     head->kind->name, c->beta, c->tet ? "tet" : "mean", c->batch, c->seed,
                     c->data_name ? c->data_name : "", c->optim.kind == LT_OPT_ADAM ? "adam" : "sgd", c->optim.lr,
                     c->optim.lr_vth, c->optim.vth_sgd, c->optim.wd_vth, c->optim.weight_decay, c->optim.momentum,
                     c->optim.cosine,
                     c->optim.cosine ? total_steps : 0L);
    lt_kv kv[LT_NET_OPTIONS];
    int nkv = recorded_options(nc, kv);
    for (int i = 0; i < nkv && o > 0 && (size_t)o < len; i++)
        o += snprintf(buf + o, len - (size_t)o, " %s=%s", kv[i].key, kv[i].val);
    /* the head's own settings (a detector's anchors, grid, loss form, filter) */
    const char *const *hm = head->kind->meta ? head->kind->meta(head) : NULL;
    for (int i = 0; hm && hm[i] && hm[i + 1] && o > 0 && (size_t)o < len; i += 2)
        o += snprintf(buf + o, len - (size_t)o, " %s=%s", hm[i], hm[i + 1]);
}

/* "seen loss part0 .. part5 metric0 .. metric5" */
static void sums_str(char *buf, size_t len, const lt_head_stats *s)
{
    int o = snprintf(buf, len, "%zu %.17g", s->seen, s->loss);
    for (int i = 0; i < LT_HEAD_MAX_PARTS; i++)
        o += snprintf(buf + o, len - (size_t)o, " %.17g", s->part[i]);
    for (int i = 0; i < LT_HEAD_MAX_METRICS; i++)
        o += snprintf(buf + o, len - (size_t)o, " %.17g", s->metric[i]);
}

static int sums_parse(const char *p, lt_head_stats *s)
{
    char *end;
    unsigned long long seen = strtoull(p, &end, 10);
    if (end == p)
        return 0;
    s->seen = (size_t)seen;
    double *v[1 + LT_HEAD_MAX_PARTS + LT_HEAD_MAX_METRICS];
    v[0] = &s->loss;
    for (int i = 0; i < LT_HEAD_MAX_PARTS; i++)
        v[1 + i] = &s->part[i];
    for (int i = 0; i < LT_HEAD_MAX_METRICS; i++)
        v[1 + LT_HEAD_MAX_PARTS + i] = &s->metric[i];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        p = end;
        *v[i] = strtod(p, &end);
        if (end == p)
            return 0;
    }
    return *end == 0;
}

static lt_status save_ckpt(const lt_net *net, const lt_optim *opt, const lt_head *head, const char *path,
                           const run_state *rs, const char *settings, const lt_train_config *c, lt_err *err)
{
    char ep[32], bt[32], step[32], rh[80], bs[40], beta[32], seed[32], sums[512], lines[32];
    char *rates = malloc((size_t)rs->n_lif * 26 + 2);
    if (!rates)
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory");
    snprintf(ep, sizeof ep, "%d", rs->epoch);
    snprintf(bt, sizeof bt, "%ld", rs->batch);
    snprintf(step, sizeof step, "%ld", lt_optim_step_count(opt));
    rng_hex(rh, sizeof rh, &rs->rng);
    snprintf(bs, sizeof bs, "%.17g", rs->best);
    snprintf(beta, sizeof beta, "%.9g", c->beta);
    snprintf(seed, sizeof seed, "%" PRIu64, c->seed);
    sums_str(sums, sizeof sums, &rs->sums);
    snprintf(lines, sizeof lines, "%ld", rs->log_lines);
    size_t o = 0;
    rates[0] = 0;
    for (int k = 0; k < rs->n_lif; k++)
        o += (size_t)sprintf(rates + o, "%s%.17g", k ? " " : "", rs->rate[k]);
    const char *meta[40] = {"epoch", ep, "epoch_batches_done", bt, "step", step, "rng", rh, "best_test_acc", bs,
                            "beta", beta, "seed", seed, "loss", c->tet ? "tet" : "mean", "data",
                            c->data_name ? c->data_name : "", "epoch_sums", sums, "epoch_rates", rates,
                            "log_lines", lines, "run_settings", settings, "head", head->kind->name, NULL};
    /* the head's own metadata (a detector's anchors and grid) */
    const char *const *hm = head->kind->meta ? head->kind->meta(head) : NULL;
    int m = 0;
    while (meta[m])
        m++;
    for (int i = 0; hm && hm[i] && hm[i + 1] && m + 2 < 39; i += 2)
        meta[m++] = hm[i], meta[m++] = hm[i + 1];
    meta[m] = NULL;
    lt_status st = lt_net_save(net, path, meta, opt, err);
    free(rates);
    return st;
}

/* The value of "key=" (kl characters) in a space-separated key=value list, or NULL; *fl its length. */
static const char *settings_find(const char *list, const char *key, size_t kl, size_t *fl)
{
    for (const char *q = list; q && *q;) {
        const char *qe = strchr(q, ' ');
        size_t qn = qe ? (size_t)(qe - q) : strlen(q);
        if (qn >= kl && !strncmp(q, key, kl)) {
            *fl = qn - kl;
            return q + kl;
        }
        q = qe ? qe + 1 : NULL;
    }
    *fl = 0;
    return NULL;
}

/* " key: checkpoint A, now B" for each key=value whose value differs, and
 * for each key only one side records (a non-default option of issue 18's:
 * absent means the default) */
static void settings_diff(char *out, size_t cap, const char *was, const char *now)
{
    size_t o = 0;
    out[0] = 0;
    for (const char *p = now; *p && o + 1 < cap;) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p), fl;
        const char *eq = memchr(p, '=', n);
        if (eq) {
            size_t kl = (size_t)(eq - p) + 1; /* "key=" */
            const char *found = settings_find(was, p, kl, &fl);
            if (!found || fl != n - kl || strncmp(found, eq + 1, fl))
                o += (size_t)snprintf(out + o, cap - o, "\n  %.*s: checkpoint %.*s, now %.*s", (int)(kl - 1), p,
                                      found ? (int)fl : 9, found ? found : "(default)", (int)(n - kl), eq + 1);
        }
        p = e ? e + 1 : p + n;
    }
    for (const char *p = was; *p && o + 1 < cap;) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p), fl;
        const char *eq = memchr(p, '=', n);
        if (eq && !settings_find(now, p, (size_t)(eq - p) + 1, &fl))
            o += (size_t)snprintf(out + o, cap - o, "\n  %.*s: checkpoint %.*s, now (default)", (int)(eq - p), p,
                                  (int)(n - (size_t)(eq - p) - 1), eq + 1);
        p = e ? e + 1 : p + n;
    }
}

static int parse_hex64(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < 16; i++) {
        int c = s[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return 0;
        x = x << 4 | (uint64_t)d;
    }
    *v = x;
    return 1;
}

static lt_status load_resume(lt_net *net, lt_optim *opt, lt_head *head, const char *path, run_state *rs,
                             const char *settings, lt_err *err)
{
    lt_st_file f;
    lt_status st = lt_st_read(&f, path, err);
    if (st)
        return st;
    const char *ep = lt_st_meta(&f, "epoch"), *rh = lt_st_meta(&f, "rng"), *bs = lt_st_meta(&f, "best_test_acc");
    const char *bt = lt_st_meta(&f, "epoch_batches_done"), *sums = lt_st_meta(&f, "epoch_sums");
    const char *rates = lt_st_meta(&f, "epoch_rates"), *lines = lt_st_meta(&f, "log_lines");
    const char *set = lt_st_meta(&f, "run_settings");
    if (!ep || !rh || !bt || !sums || !rates || !lines || !set) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: not a training checkpoint of this ltsnn (its metadata lacks the "
                        "run state); resume from a run's last.safetensors", path);
        goto done;
    }
    if (strcmp(set, settings)) {
        char diff[4096];
        settings_diff(diff, sizeof diff, set, settings);
        st = lt_err_set(err, LT_ERR_ARG, "%s: was written by a run with other settings, and a resumed run must "
                        "make the same model, data and sample order; changed:%s\n  only --epochs (without "
                        "--cosine), --minutes, --threads, --out, --on-nan, the number of ranks and --sync-bn may "
                        "change on resume", path, diff);
        goto done;
    }
    char *e1, *e2, *e3;
    rs->epoch = (int)strtol(ep, &e1, 10);
    rs->batch = strtol(bt, &e2, 10);
    rs->log_lines = strtol(lines, &e3, 10);
    int ok = *ep && !*e1 && *bt && !*e2 && *lines && !*e3 && rs->epoch >= 1 && rs->batch >= 1 && rs->log_lines >= 0;
    ok = ok && strlen(rh) == 64;
    for (int i = 0; ok && i < 4; i++)
        ok = parse_hex64(rh + 16 * i, &rs->rng.s[i]);
    ok = ok && (rs->rng.s[0] | rs->rng.s[1] | rs->rng.s[2] | rs->rng.s[3]);
    ok = ok && sums_parse(sums, &rs->sums);
    const char *p = rates;
    for (int k = 0; ok && k < rs->n_lif; k++) {
        char *end;
        rs->rate[k] = strtod(p, &end);
        ok = end != p;
        p = end;
    }
    if (!ok) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: the run state in its metadata is malformed", path);
        goto done;
    }
    rs->best = bs ? strtod(bs, NULL) : -1;
    /* weights and optimiser state last: a refused file leaves them as they were */
    if (!(st = lt_net_load(net, path, err)))
        st = lt_optim_load(opt, path, err);
    /* the head's state inside the stopped epoch (the recipe's previous-batch Omega); the loop does not
     * start that epoch afresh */
    if (!st && rs->batch > 0) {
        lt_head_epoch_start(head);
        lt_head_resume(head, &f);
    }
done:
    lt_st_free(&f);
    return st;
}

/* one line of log.jsonl for an epoch (or the part of one a --minutes stop ended) */
/* ", "key": value" with a finite number, or null */
static int kv(char *line, size_t cap, int o, const char *key, const char *fmt, double v)
{
    o += snprintf(line + o, cap - (size_t)o, ", \"%s\": ", key);
    return o + jnum(line + o, cap - (size_t)o, fmt, v);
}

/* a tensor's RMS gradient over the epoch's steps, from its sum of squares */
static double grad_rms(double sq, long steps, size_t numel)
{
    return steps > 0 ? sqrt(sq / ((double)steps * (double)numel)) : 0.0;
}

/* one line of log.jsonl for an epoch (or the part of one a --minutes stop ended) */
static void log_line(char *line, size_t cap, const lt_net *net, const lt_head *head, const lt_optim *opt, int epoch,
                     const run_state *rs, const lt_eval_result *ev, double secs, double t_train, long batches,
                     int partial, long skipped, const double *gsq, long steps, const char *extra)
{
    const lt_head_kind *k = head->kind;
    const lt_head_stats *s = &rs->sums;
    double seen = s->seen ? (double)s->seen : 1.0;
    char key[64];
    int o = snprintf(line, cap, "{\"epoch\": %d", epoch);
    o = kv(line, cap, o, "train_loss", "%.9g", s->loss / seen);
    for (int i = 0; i < k->n_parts; i++)
        snprintf(key, sizeof key, "train_%s", k->part[i]), o = kv(line, cap, o, key, "%.9g", s->part[i] / seen);
    for (int i = 0; i < k->n_metrics; i++)
        snprintf(key, sizeof key, "train_%s", k->metric[i]), o = kv(line, cap, o, key, "%.4f", s->metric[i] / seen);
    for (int i = 0; i < ev->n; i++)
        snprintf(key, sizeof key, "test_%s", ev->name[i]), o = kv(line, cap, o, key, "%.4f", ev->value[i]);
    o = kv(line, cap, o, "lr", "%.6g", lt_optim_lr(opt));
    o = kv(line, cap, o, "omega", "%.6f", lt_net_omega(net));
    o += snprintf(line + o, cap - (size_t)o, ", \"seconds\": %.3f, \"train_seconds\": %.3f, \"samples\": %zu, "
                  "\"batches\": %ld, \"skipped_nonfinite\": %ld, \"partial\": %s, \"vth\": [",
                  secs, t_train, s->seen, batches, skipped, partial ? "true" : "false");
    for (int q = 0; q < rs->n_lif && (size_t)o + 64 < cap; q++) {
        o += snprintf(line + o, cap - (size_t)o, "%s", q ? ", " : "");
        o += jnum(line + o, cap - (size_t)o, "%.6f", lt_net_vth(net, q));
    }
    o += snprintf(line + o, cap - (size_t)o, "], \"rate\": [");
    for (int q = 0; q < rs->n_lif && (size_t)o + 64 < cap; q++) {
        o += snprintf(line + o, cap - (size_t)o, "%s", q ? ", " : "");
        o += jnum(line + o, cap - (size_t)o, "%.5f", rs->rate[q] / seen);
    }
    o += snprintf(line + o, cap - (size_t)o, "], \"grad_rms\": {");
    for (int i = 0, first = 1; i < lt_net_n_named(net) && (size_t)o + 160 < cap; i++) {
        const lt_named *t = lt_net_named(net, i);
        if (!t->grad)
            continue;
        o += snprintf(line + o, cap - (size_t)o, "%s\"%s\": ", first ? "" : ", ", t->name);
        o += jnum(line + o, cap - (size_t)o, "%.3e", grad_rms(gsq[i], steps, t->numel));
        first = 0;
    }
    snprintf(line + o, cap - (size_t)o, "}%s}\n", extra);
}

/* The stop a signal asked for, with where it stopped and what was saved (every rank says the same, so
 * the path is made here, not taken from the writer's last save). */
static lt_status interrupted_err(lt_err *err, const lt_train_config *c, int epoch, long done, long batches,
                                 char *path, size_t cap)
{
    if (c->out_dir)
        snprintf(path, cap, "%s/last.safetensors", c->out_dir);
    return lt_err_set(err, LT_ERR_INTERRUPTED, "interrupted in epoch %d after batch %ld of %ld%s%s", epoch, done,
                      batches, c->out_dir ? "; saved " : " (no run folder: nothing saved)", c->out_dir ? path : "");
}

/* A parameter gradient that is NaN or infinite (the first one's name in *name).  Also adds each
 * tensor's sum of squared gradient entries to gsq[i]: the epoch's gradient RMS per tensor in
 * log.jsonl, and a tensor whose sum stays 0 all epoch has stopped learning (grad_health). */
static int grads_nonfinite(const lt_net *net, const char **name, double *gsq)
{
    for (int i = 0; i < lt_net_n_named(net); i++) {
        const lt_named *t = lt_net_named(net, i);
        if (!t->grad)
            continue;
        double sq = 0;
        for (size_t j = 0; j < t->numel; j++) {
            if (!isfinite(t->grad[j])) {
                *name = t->name;
                return 1;
            }
            sq += (double)t->grad[j] * t->grad[j];
        }
        gsq[i] += sq;
    }
    return 0;
}

/* tensors that get a gradient (parameters, not buffers) */
static int n_param_tensors(const lt_net *net)
{
    int n = 0;
    for (int i = 0; i < lt_net_n_named(net); i++)
        n += lt_net_named(net, i)->grad != NULL;
    return n;
}

static int is_vth(const char *name)
{
    size_t n = strlen(name);
    return n >= 4 && !strcmp(name + n - 4, ".vth");
}

/* The epoch's gradient health (gsq: sums of squares over `steps` > 0 steps), as the warning in note
 * (empty when all is well) and the log fields appended to extra.  Dead tensors got an exactly zero
 * gradient in every step; faint ones (with Adam) an RMS gradient below Adam's eps, where its step
 * m / (sqrt(v) + eps) shrinks in proportion to the gradient (not the thresholds when --vth-optim sgd
 * steps them).  A whole net below some layer going quiet is the usual way a spiking net dies: a
 * neuron layer whose membranes all sit outside the surrogate's window (|u - V| >= g, METHOD.md §1)
 * passes no gradient down, and nothing below it learns again.  Returns whether note says anything. */
static int grad_health(const lt_net *net, const double *gsq, long steps, const lt_optim_config *oc, char *note,
                       size_t ncap, char *extra, size_t ecap)
{
    int dead = 0, faint = 0, n = n_param_tensors(net);
    const char *dead_last = NULL, *faint_last = NULL;
    double eps = oc->kind == LT_OPT_ADAM ? oc->eps : 0;
    for (int i = 0; steps > 0 && i < lt_net_n_named(net); i++) {
        const lt_named *t = lt_net_named(net, i);
        if (!t->grad)
            continue;
        if (gsq[i] == 0.0)
            dead++, dead_last = t->name;
        else if (eps > 0 && !(oc->vth_sgd && is_vth(t->name)) && grad_rms(gsq[i], steps, t->numel) < eps)
            faint++, faint_last = t->name;
    }
    int no = 0;
    note[0] = 0;
    if (dead)
        no += snprintf(note + no, ncap - (size_t)no, "%d of %d parameter tensors (the last %s) got a zero gradient "
                       "in every one of this epoch's %ld steps", dead, n, dead_last, steps);
    if (faint)
        no += snprintf(note + no, ncap - (size_t)no, "%s%d %s%d parameter tensors (the last %s) got an RMS "
                       "gradient below Adam's eps (%g) over this epoch's %ld steps, so Adam moves them at a "
                       "fraction of the learning rate", dead ? "; " : "", faint, dead ? "more of the " : "of ", n,
                       faint_last, eps, steps);
    if (dead || faint)
        snprintf(note + no, ncap - (size_t)no, ": they have stopped learning (a neuron layer with no membrane "
                 "inside the surrogate's window passes no gradient down, one that never spikes none to the "
                 "weights reading it; docs/method.md, \"A net that stops learning\")");
    size_t eo = strlen(extra);
    eo += (size_t)snprintf(extra + eo, ecap - eo, ", \"zero_grad_tensors\": %d", dead);
    if (dead)
        eo += (size_t)snprintf(extra + eo, ecap - eo, ", \"zero_grad_last\": \"%s\"", dead_last);
    eo += (size_t)snprintf(extra + eo, ecap - eo, ", \"faint_grad_tensors\": %d", faint);
    if (faint)
        snprintf(extra + eo, ecap - eo, ", \"faint_grad_last\": \"%s\"", faint_last);
    return dead || faint;
}

/* BN running statistics, kept to undo a dropped batch (--on-nan skip) */
static void buffers_copy(const lt_net *net, float *save, int back)
{
    size_t o = 0;
    for (int i = 0; i < lt_net_n_named(net); i++) {
        const lt_named *t = lt_net_named(net, i);
        if (!t->is_buffer)
            continue;
        if (back)
            memcpy(t->data, save + o, t->numel * sizeof(float));
        else
            memcpy(save + o, t->data, t->numel * sizeof(float));
        o += t->numel;
    }
}

lt_status lt_train(lt_net *net, const lt_dataset *train, const lt_dataset *test, const lt_train_config *c,
                   lt_progress_fn progress, void *ctx, lt_err *err)
{
    const lt_net_config *nc = lt_net_cfg(net);
    lt_status st = LT_OK;
    const int T = nc->T, B = c->batch, K = lt_net_classes(net), n_lif = lt_net_n_lif(net);
    const size_t n = train->n, frame = (size_t)nc->in_c * nc->in_h * nc->in_w;
    const long batches = (long)((n + (size_t)B - 1) / (size_t)B);

    lt_optim_config oc = c->optim;
    if (oc.cosine && oc.total_steps <= 0)
        oc.total_steps = batches * c->epochs;
    lt_optim *opt = NULL;
    lt_head *own_head = NULL, *head = c->head;
    float *x = NULL, *dO = NULL;
    lt_batch_targets tg = {0};
    uint32_t *order = NULL;
    double *rate = NULL;
    double *gsq = NULL; /* [n_named]: sums of squared gradients over this epoch's steps */
    float *bufsave = NULL;
    char log_path[4096] = "", path[4096], par_fields[512];
    char *line = NULL;
    run_state rs = {.best = -1, .n_lif = n_lif};
    char settings[8192] = "";
    /* data-parallel (METHOD.md §11): every rank reaches each agreement
     * point, so an error on one stops all; rank 0 alone writes files */
    lt_par par;
    st = lt_par_open(&par, c->dist, net, c, n, err);
    const int writer = c->out_dir && par.rank == 0;
    if (st)
        goto setup;
    if (!nc->train || nc->B < c->batch || c->batch < 1) {
        st = lt_err_set(err, LT_ERR_ARG, "network must be planned for training with batch >= %d", c->batch);
        goto setup;
    }
    if ((st = lt_check_data(net, train, "training", err)) || (test && (st = lt_check_data(net, test, "test", err))))
        goto setup;
    if (!head && (st = lt_head_classify(&own_head, net, c->beta, c->tet, err)))
        goto setup;
    if (!head)
        head = own_head;
    if ((st = lt_head_check_data(head, train, "training", err)) ||
        (test && (st = lt_head_check_data(head, test, "test", err))) ||
        (st = lt_batch_targets_alloc(&tg, B, train, test, err)))
        goto setup;
    if ((st = lt_optim_create(&opt, net, &oc, err)))
        goto setup;
    x = lt_alloc((size_t)T * B * frame * sizeof(float));
    dO = lt_alloc((size_t)T * B * K * sizeof(float));
    order = lt_alloc(n * sizeof(uint32_t));
    rate = calloc((size_t)n_lif + 1, sizeof(double));
    gsq = calloc((size_t)lt_net_n_named(net) + 1, sizeof(double));
    line = malloc(65536);
    size_t nbuf = 0;
    for (int i = 0; i < lt_net_n_named(net); i++)
        nbuf += lt_net_named(net, i)->is_buffer ? lt_net_named(net, i)->numel : 0;
    if (c->on_nan == LT_ON_NAN_SKIP)
        bufsave = malloc((nbuf + 1) * sizeof(float));
    if (!x || !dO || !order || !rate || !gsq || !line || (c->on_nan == LT_ON_NAN_SKIP && !bufsave)) {
        st = lt_err_set(err, LT_ERR_NOMEM, "out of memory for training buffers");
        goto setup;
    }

    rs.rate = rate;
    lt_rng_seed(&rs.rng, c->seed ^ 0x5eed5eedULL);
    run_settings(settings, sizeof settings, net, head, c, oc.total_steps);
    if (c->resume && (st = load_resume(net, opt, head, c->resume, &rs, settings, err)))
        goto setup;
    if (par.rank) {
        /* the checkpoint's sums of a stopped epoch are everyone's: rank 0 carries them */
        memset(&rs.sums, 0, sizeof rs.sums);
        memset(rate, 0, (size_t)n_lif * sizeof(double));
    }
    if (writer) {
        if ((st = make_dir(c->out_dir, err)) || (st = write_config(c->out_dir, net, head, c, par.size, err)))
            goto setup;
        snprintf(log_path, sizeof log_path, "%s/log.jsonl", c->out_dir);
        /* the log is only ever appended to: a resumed run says where it took up */
        if (c->resume) {
            snprintf(line, 65536, "{\"resume\": \"%s\", \"from_epoch\": %d, \"from_batch\": %ld, "
                     "\"log_lines_at_checkpoint\": %ld}\n", c->resume, rs.epoch, rs.batch, rs.log_lines);
            st = append_log(log_path, line, err);
        }
    }
setup:
    if ((st = lt_par_agree(&par, st, err)))
        goto done;
    /* the ranks start alike: the same settings, data, weights and run state */
    unsigned char start[sizeof rs.epoch + sizeof rs.batch + sizeof rs.rng + sizeof rs.best + sizeof rs.log_lines];
    memcpy(start, &rs.epoch, sizeof rs.epoch);
    memcpy(start + sizeof rs.epoch, &rs.batch, sizeof rs.batch);
    memcpy(start + sizeof rs.epoch + sizeof rs.batch, &rs.rng, sizeof rs.rng);
    memcpy(start + sizeof rs.epoch + sizeof rs.batch + sizeof rs.rng, &rs.best, sizeof rs.best);
    memcpy(start + sizeof start - sizeof rs.log_lines, &rs.log_lines, sizeof rs.log_lines);
    if ((st = lt_par_check_start(&par, settings, train, test, opt, start, sizeof start, err)))
        goto done;
    /* a finished epoch continues with the next; a stopped one where it stopped */
    int resume_inside = c->resume && rs.batch < batches;

    double t_start = lt_time_s(), train_time = 0;
    int stop = 0, interrupted = 0;
    long skipped = 0; /* batches dropped for a non-finite loss or gradient (this epoch) */
    for (int epoch = resume_inside ? rs.epoch : rs.epoch + 1; epoch <= c->epochs && !stop; epoch++) {
        double t0 = lt_time_s();
        long first = 0;
        lt_rng before = rs.rng; /* the state this epoch's shuffle starts from */
        skipped = 0;
        memset(gsq, 0, (size_t)lt_net_n_named(net) * sizeof(double));
        long steps = 0; /* optimiser steps taken in this epoch by this process (gsq's span) */
        if (resume_inside && epoch == rs.epoch) {
            first = rs.batch;
        } else {
            memset(&rs.sums, 0, sizeof rs.sums);
            memset(rate, 0, (size_t)n_lif * sizeof(double));
        }
        for (size_t i = 0; i < n; i++)
            order[i] = (uint32_t)i;
        lt_rng_shuffle_u32(&rs.rng, order, n);
        long done_batches = first;
        if (!(resume_inside && epoch == rs.epoch)) /* a resumed epoch's state came from the checkpoint */
            lt_head_epoch_start(head);
        lt_par_mark(&par);
        for (long bi = first; bi < batches; bi++) {
            size_t i0 = (size_t)bi * B;
            int b = (int)(n - i0 < (size_t)B ? n - i0 : (size_t)B), lo;
            int br = lt_par_slice(&par, b, &lo); /* this rank's samples of the batch */
            lt_targets y;
            load_batch(x, &tg, &y, train, order + i0 + lo, br, T);
            if (bufsave)
                buffers_copy(net, bufsave, 0);
            /* the step: forward, head, backward, optimiser (ltsnn/head.h) */
            lt_head_stats bs = {0};
            const float *O = lt_net_forward(net, x, br, 1);
            double loss = lt_head_loss(head, dO, O, &y, &bs);
            lt_par_scale_grad(&par, dO, br, b);
            lt_net_zero_grad(net);
            const char *bad = NULL;
            /* every rank takes the same branch: a loss that is not finite on any skips backward on all, and
             * the gradients checked are the ranks' sum */
            if (!lt_par_or(&par, !isfinite(loss))) {
                lt_par_grads_begin(&par);
                lt_net_backward(net, dO);
                lt_par_grads_end(&par);
                grads_nonfinite(net, &bad, gsq);
            } else {
                bad = "the loss";
            }
            if (bad && c->on_nan != LT_ON_NAN_SKIP) {
                /* the files keep the last good state: nothing of this epoch is written */
                st = lt_err_set(err, LT_ERR_ARG, "epoch %d, batch %ld of %ld: %s%s is not finite (loss %g); "
                                "stopped, the last checkpoint%s is the last good state (--on-nan skip drops such "
                                "batches, a lower --lr may avoid them)", epoch, bi + 1, batches,
                                isfinite(loss) ? "the gradient of " : "", bad, loss,
                                c->out_dir ? " in the run folder" : "");
                goto done;
            }
            if (bad) {
                skipped++;
                if (bufsave)
                    buffers_copy(net, bufsave, 1); /* the batch leaves no trace */
            } else {
                lt_optim_step(opt);
                steps++;
                rs.sums.seen += bs.seen, rs.sums.loss += bs.loss;
                for (int q = 0; q < LT_HEAD_MAX_PARTS; q++)
                    rs.sums.part[q] += bs.part[q];
                for (int q = 0; q < LT_HEAD_MAX_METRICS; q++)
                    rs.sums.metric[q] += bs.metric[q];
                for (int k = 0; k < n_lif; k++)
                    rate[k] += lt_net_rate(net, k) * br;
            }
            done_batches++;
            double now = lt_time_s();
            if (progress) {
                double el = now - t0, seen = rs.sums.seen ? (double)rs.sums.seen : 1.0;
                long here = bi + 1 - first;
                lt_progress p = {.epoch = epoch, .epochs = c->epochs, .batch = bi + 1, .batches = batches,
                                 .loss = rs.sums.loss / seen, .acc = rs.sums.metric[0] / seen,
                                 .samples_per_s = (double)here * B / (el > 1e-9 ? el : 1e-9),
                                 .eta_s = el / here * (batches - bi - 1), .elapsed_s = now - t_start, .phase = 0,
                                 .head = head->kind, .stats = &rs.sums};
                progress(ctx, &p);
            }
            /* a signal or the time limit: every rank stops after the same step */
            int ask = (c->stop && *c->stop ? 1 : 0) |
                      (c->max_seconds > 0 && train_time + (now - t0) >= c->max_seconds ? 2 : 0);
            if (c->stop || c->max_seconds > 0)
                ask = lt_par_or(&par, ask);
            /* the time limit first: a run that ends anyway ends the usual way, evaluated */
            if (ask & 2) {
                stop = 1;
                break;
            }
            if (ask & 1) {
                interrupted = 1;
                break;
            }
        }
        double t_train = lt_time_s() - t0;
        train_time += t_train;
        lt_par_log_fields(&par, par_fields, sizeof par_fields, done_batches - first, c->sync_bn);
        int partial = done_batches < batches;
        /* a signal on an epoch's last batch: the epoch ends the usual way (evaluated, logged, saved), then
         * the run stops; otherwise a resume would go on to the next epoch and this one would never be
         * evaluated */
        if (interrupted && partial) {
            /* no evaluation: a log line that keeps the seconds trained (a time budget resumed from here must
             * not train them again; its test_* are -1 and "interrupted" says why), the state of this batch
             * into last.safetensors, and out.  The line is written first: the checkpoint counts it. */
            rs.epoch = epoch;
            rs.batch = done_batches;
            rs.rng = before; /* a resume re-draws this epoch's order */
            if (!(st = lt_par_end_epoch(&par, &rs.sums, rate, n_lif, c->sync_bn, epoch, err)) && writer) {
                lt_eval_result ev;
                lt_head_eval_reset(head);
                if (!(st = lt_head_eval_result(head, &ev, err))) {
                    char extra[sizeof par_fields + 32];
                    for (int i = 0; i < ev.n; i++)
                        ev.value[i] = -1;
                    snprintf(extra, sizeof extra, ", \"interrupted\": true%s", par_fields);
                    log_line(line, 65536, net, head, opt, epoch, &rs, &ev, lt_time_s() - t0, t_train, done_batches,
                             partial, skipped, gsq, steps, extra);
                    if (!(st = append_log(log_path, line, err)))
                        rs.log_lines++;
                }
                snprintf(path, sizeof path, "%s/last.safetensors", c->out_dir);
                if (!st)
                    st = save_ckpt(net, opt, head, path, &rs, settings, c, err);
            }
            if (!(st = lt_par_agree(&par, st, err)))
                st = interrupted_err(err, c, epoch, done_batches, batches, path, sizeof path);
            goto done;
        }
        lt_eval_result ev; /* without a test split: the head's result names, each -1 */
        lt_head_eval_reset(head);
        st = lt_head_eval_result(head, &ev, err);
        for (int i = 0; i < ev.n; i++)
            ev.value[i] = -1;
        if (st || (st = lt_par_end_epoch(&par, &rs.sums, rate, n_lif, c->sync_bn, epoch, err)))
            goto done;
        if (test) {
            if (progress) {
                lt_progress p = {.epoch = epoch, .epochs = c->epochs, .phase = 1, .head = head->kind};
                progress(ctx, &p);
            }
            st = lt_par_evaluate(&par, head, test, &ev, err);
        }
        double secs = lt_time_s() - t0;
        int is_best = test && ev.value[0] > rs.best;
        if (is_best)
            rs.best = ev.value[0];
        rs.epoch = epoch;
        rs.batch = done_batches;
        if (partial)
            rs.rng = before; /* a resume re-draws this epoch's order */
        /* a net that stops learning is named (docs/method.md, "A net that stops learning") */
        char note[1024], extra[sizeof par_fields + 512] = "";
        int warn = grad_health(net, gsq, steps, &oc, note, sizeof note, extra, sizeof extra);
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "%s", par_fields);
        if (writer && !st) {
            log_line(line, 65536, net, head, opt, epoch, &rs, &ev, secs, t_train, done_batches, partial, skipped,
                     gsq, steps, extra);
            if (!(st = append_log(log_path, line, err)))
                rs.log_lines++;
            /* best first: a crash between the two writes must not lose a new best */
            if (!st && (is_best || !test)) {
                snprintf(path, sizeof path, "%s/best.safetensors", c->out_dir);
                st = save_ckpt(net, opt, head, path, &rs, settings, c, err);
            }
            snprintf(path, sizeof path, "%s/last.safetensors", c->out_dir);
            if (!st)
                st = save_ckpt(net, opt, head, path, &rs, settings, c, err);
        }
        if ((st = lt_par_agree(&par, st, err)))
            goto done;
        if (progress) {
            double seen = rs.sums.seen ? (double)rs.sums.seen : 1.0;
            lt_progress p = {.epoch = epoch, .epochs = c->epochs, .batch = done_batches, .batches = batches,
                             .phase = 2, .train_loss = rs.sums.loss / seen, .train_acc = rs.sums.metric[0] / seen,
                             .test_acc = ev.value[0], .epoch_s = secs, .best = is_best,
                             .elapsed_s = lt_time_s() - t_start,
                             .samples_per_s = (double)(done_batches - first) * B / (t_train > 1e-9 ? t_train : 1e-9),
                             .head = head->kind, .stats = &rs.sums, .eval = &ev, .warning = warn ? note : NULL};
            progress(ctx, &p);
        }
        if (interrupted) { /* the signal came on this epoch's last batch: it is saved whole */
            st = interrupted_err(err, c, epoch, done_batches, batches, path, sizeof path);
            goto done;
        }
    }
done:
    lt_par_close(&par);
    lt_optim_free(opt);
    lt_head_free(own_head);
    lt_free(x);
    lt_free(dO);
    lt_batch_targets_free(&tg);
    lt_free(order);
    free(rate);
    free(gsq);
    free(bufsave);
    free(line);
    return st;
}
