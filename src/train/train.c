/* train.c -- the training and evaluation loops (ltsnn/train.h).
 *
 * One epoch: shuffle the sample order with the run's RNG, unpack each
 * mini-batch into the time-major float batch x[T, b, C, H, W], forward,
 * loss (METHOD.md §4, Omega = mean threshold, a constant), backward,
 * optimiser step.  Then evaluate, append to log.jsonl, write
 * last.safetensors (and best.safetensors).  Resuming restores weights,
 * optimiser moments, step count and the RNG, so a single-threaded resumed
 * run repeats the uninterrupted one bit for bit. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernels/kernels.h"
#include "ltsnn/io.h"
#include "ltsnn/train.h"

void lt_train_config_default(lt_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->epochs = 10;
    c->batch = 16;
    c->beta = 0.45f;
    c->tet = 1;
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

/* x[T, b, C, H, W] and y[b] for samples idx[0..b) */
static void load_batch(float *x, int32_t *y, const lt_dataset *d, const uint32_t *idx, int b, int T)
{
    for (int j = 0; j < b; j++) {
        lt_dataset_get(d, idx[j], x, T, b, j);
        y[j] = d->labels[idx[j]];
    }
}

lt_status lt_evaluate(lt_net *net, const lt_dataset *d, double *acc, int64_t *confusion, lt_err *err)
{
    lt_status st = lt_check_data(net, d, "evaluation", err);
    if (st)
        return st;
    const lt_net_config *c = lt_net_cfg(net);
    int T = c->T, B = c->B, K = lt_net_classes(net);
    size_t frame = (size_t)c->in_c * c->in_h * c->in_w;
    float *x = lt_alloc((size_t)T * B * frame * sizeof(float));
    int32_t *y = lt_alloc((size_t)B * sizeof(int32_t)), *pred = lt_alloc((size_t)B * sizeof(int32_t));
    uint32_t *idx = lt_alloc((size_t)B * sizeof(uint32_t));
    if (!x || !y || !pred || !idx) {
        st = lt_err_set(err, LT_ERR_NOMEM, "out of memory for an evaluation batch");
        goto done;
    }
    if (confusion)
        memset(confusion, 0, (size_t)K * K * sizeof(int64_t));
    size_t correct = 0;
    for (size_t i = 0; i < d->n; i += (size_t)B) {
        int b = (int)(d->n - i < (size_t)B ? d->n - i : (size_t)B);
        for (int j = 0; j < b; j++)
            idx[j] = (uint32_t)(i + (size_t)j);
        load_batch(x, y, d, idx, b, T);
        const float *O = lt_net_forward(net, x, b, 0);
        lt_predict(pred, O, T, b, K);
        for (int j = 0; j < b; j++) {
            correct += pred[j] == y[j];
            if (confusion && y[j] >= 0 && y[j] < K)
                confusion[(size_t)y[j] * K + pred[j]]++;
        }
    }
    *acc = 100.0 * (double)correct / (double)d->n;
done:
    lt_free(x);
    lt_free(y);
    lt_free(pred);
    lt_free(idx);
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

static lt_status write_config(const char *dir, const lt_net *net, const lt_train_config *c, lt_err *err)
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
            "\"epochs\": %d, \"seed\": %" PRIu64 ", \"beta\": %.9g, \"loss\": \"%s\", \"mode\": \"%s\", "
            "\"window\": \"%s\", \"lam\": %.9g, \"g\": %.9g, \"alpha\": %.9g, \"reset\": \"%s\", "
            "\"detach_reset\": %s, \"optim\": \"%s\", \"lr\": %.9g, \"lr_vth\": %.9g, \"weight_decay\": %.9g, "
            "\"cosine\": %s, \"data\": \"%s\", \"params\": %zu, \"threads\": %d}\n",
            model, n->in_c, n->in_h, n->in_w, lt_net_classes(net), n->T, c->batch, c->epochs, c->seed,
            c->beta, c->tet ? "tet" : "mean", lt_mode_name(n->neuron.mode), lt_window_name(n->neuron.window),
            n->neuron.lam, n->neuron.g, n->neuron.alpha, n->neuron.soft_reset ? "soft" : "hard",
            n->neuron.detach_reset ? "true" : "false", c->optim.kind == LT_OPT_ADAM ? "adam" : "sgd",
            c->optim.lr, c->optim.lr_vth >= 0 ? c->optim.lr_vth : c->optim.lr, c->optim.weight_decay,
            c->optim.cosine ? "true" : "false", c->data_name ? c->data_name : "", lt_net_params(net),
            lt_get_threads());
    return lt_afile_commit(&a, err);
}

/* On resume, keep only the log lines of epochs already done (a run killed
 * after logging but before its checkpoint would otherwise log twice). */
static lt_status trim_log(const char *path, int last_epoch, lt_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return LT_OK;
    lt_afile a;
    lt_status st = lt_afile_open(&a, path, err);
    if (st) {
        fclose(f);
        return st;
    }
    char line[65536];
    while (fgets(line, sizeof line, f)) {
        const char *e = strstr(line, "\"epoch\":");
        if (e && atoi(e + 8) <= last_epoch)
            fputs(line, a.f);
    }
    fclose(f);
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

static lt_status save_ckpt(const lt_net *net, const lt_optim *opt, const char *path, int epoch, const lt_rng *rng,
                           double best, const lt_train_config *c, lt_err *err)
{
    char ep[32], step[32], rs[80], bs[32], beta[32], seed[32];
    snprintf(ep, sizeof ep, "%d", epoch);
    snprintf(step, sizeof step, "%ld", lt_optim_step_count(opt));
    snprintf(rs, sizeof rs, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, rng->s[0], rng->s[1],
             rng->s[2], rng->s[3]);
    snprintf(bs, sizeof bs, "%.6f", best);
    snprintf(beta, sizeof beta, "%.9g", c->beta);
    snprintf(seed, sizeof seed, "%" PRIu64, c->seed);
    const char *meta[] = {"epoch", ep, "step", step, "rng", rs, "best_test_acc", bs, "beta", beta, "seed", seed,
                          "loss", c->tet ? "tet" : "mean", "data", c->data_name ? c->data_name : "", NULL};
    return lt_net_save(net, path, meta, opt, err);
}

static lt_status load_resume(lt_net *net, lt_optim *opt, const char *path, int *epoch, lt_rng *rng, double *best,
                             lt_err *err)
{
    lt_status st = lt_net_load(net, path, err);
    if (!st)
        st = lt_optim_load(opt, path, err);
    if (st)
        return st;
    lt_st_file f;
    if ((st = lt_st_read(&f, path, err)))
        return st;
    const char *ep = lt_st_meta(&f, "epoch"), *rs = lt_st_meta(&f, "rng"), *bs = lt_st_meta(&f, "best_test_acc");
    if (!ep || !rs || strlen(rs) != 64) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: not a training checkpoint (metadata 'epoch' and 'rng' missing); "
                        "resume from a run's last.safetensors", path);
    } else {
        *epoch = atoi(ep);
        for (int i = 0; i < 4; i++) {
            char w[17];
            memcpy(w, rs + 16 * i, 16);
            w[16] = 0;
            rng->s[i] = strtoull(w, NULL, 16);
        }
        *best = bs ? atof(bs) : -1;
    }
    lt_st_free(&f);
    return st;
}

lt_status lt_train(lt_net *net, const lt_dataset *train, const lt_dataset *test, const lt_train_config *c,
                   lt_progress_fn progress, void *ctx, lt_err *err)
{
    const lt_net_config *nc = lt_net_cfg(net);
    lt_status st;
    if (!nc->train || nc->B < c->batch || c->batch < 1)
        return lt_err_set(err, LT_ERR_ARG, "network must be planned for training with batch >= %d", c->batch);
    if ((st = lt_check_data(net, train, "training", err)) || (test && (st = lt_check_data(net, test, "test", err))))
        return st;
    const int T = nc->T, B = c->batch, K = lt_net_classes(net), n_lif = lt_net_n_lif(net);
    const size_t n = train->n, frame = (size_t)nc->in_c * nc->in_h * nc->in_w;
    const long batches = (long)((n + (size_t)B - 1) / (size_t)B);

    lt_optim_config oc = c->optim;
    if (oc.cosine && oc.total_steps <= 0)
        oc.total_steps = batches * c->epochs;
    lt_optim *opt = NULL;
    float *x = NULL, *dO = NULL;
    int32_t *y = NULL, *pred = NULL;
    uint32_t *order = NULL;
    double *rate = NULL;
    char log_path[4096] = "", path[4096];
    char *line = NULL;
    if ((st = lt_optim_create(&opt, net, &oc, err)))
        return st;
    x = lt_alloc((size_t)T * B * frame * sizeof(float));
    dO = lt_alloc((size_t)T * B * K * sizeof(float));
    y = lt_alloc((size_t)B * sizeof(int32_t));
    pred = lt_alloc((size_t)B * sizeof(int32_t));
    order = lt_alloc(n * sizeof(uint32_t));
    rate = calloc((size_t)n_lif + 1, sizeof(double));
    line = malloc(65536);
    if (!x || !dO || !y || !pred || !order || !rate || !line) {
        st = lt_err_set(err, LT_ERR_NOMEM, "out of memory for training buffers");
        goto done;
    }

    lt_rng rng;
    lt_rng_seed(&rng, c->seed ^ 0x5eed5eedULL);
    int start_epoch = 0;
    double best = -1;
    if (c->resume && (st = load_resume(net, opt, c->resume, &start_epoch, &rng, &best, err)))
        goto done;
    if (c->out_dir) {
        if ((st = make_dir(c->out_dir, err)) || (st = write_config(c->out_dir, net, c, err)))
            goto done;
        snprintf(log_path, sizeof log_path, "%s/log.jsonl", c->out_dir);
        if (c->resume)
            st = trim_log(log_path, start_epoch, err);
        else
            remove(log_path);
        if (st)
            goto done;
    }

    double t_start = lt_time_s(), train_time = 0;
    int stop = 0;
    for (int epoch = start_epoch + 1; epoch <= c->epochs && !stop; epoch++) {
        double t0 = lt_time_s();
        for (size_t i = 0; i < n; i++)
            order[i] = (uint32_t)i;
        lt_rng_shuffle_u32(&rng, order, n);
        double loss_sum = 0, ce_sum = 0, mse_sum = 0;
        size_t correct = 0, seen = 0;
        memset(rate, 0, (size_t)n_lif * sizeof(double));
        long done_batches = 0;
        for (long bi = 0; bi < batches; bi++) {
            size_t i0 = (size_t)bi * B;
            int b = (int)(n - i0 < (size_t)B ? n - i0 : (size_t)B);
            load_batch(x, y, train, order + i0, b, T);
            const float *O = lt_net_forward(net, x, b, 1);
            lt_loss_parts lp = lt_loss_forward_backward(dO, O, y, lt_net_omega(net), c->beta, c->tet, T, b, K);
            lt_predict(pred, O, T, b, K);
            lt_net_zero_grad(net);
            lt_net_backward(net, dO);
            lt_optim_step(opt);
            for (int j = 0; j < b; j++)
                correct += pred[j] == y[j];
            loss_sum += lp.loss * b, ce_sum += lp.ce * b, mse_sum += lp.mse * b;
            seen += (size_t)b;
            for (int k = 0; k < n_lif; k++)
                rate[k] += lt_net_rate(net, k) * b;
            done_batches++;
            double now = lt_time_s();
            if (progress) {
                double el = now - t0;
                lt_progress p = {.epoch = epoch, .epochs = c->epochs, .batch = bi + 1, .batches = batches,
                                 .loss = loss_sum / seen, .acc = 100.0 * correct / seen,
                                 .samples_per_s = seen / (el > 1e-9 ? el : 1e-9),
                                 .eta_s = el / (bi + 1) * (batches - bi - 1), .elapsed_s = now - t_start,
                                 .phase = 0};
                progress(ctx, &p);
            }
            if (c->max_seconds > 0 && train_time + (now - t0) >= c->max_seconds) {
                stop = 1;
                break;
            }
        }
        double t_train = lt_time_s() - t0;
        train_time += t_train;
        double test_acc = -1;
        if (test) {
            if (progress) {
                lt_progress p = {.epoch = epoch, .epochs = c->epochs, .phase = 1};
                progress(ctx, &p);
            }
            if ((st = lt_evaluate(net, test, &test_acc, NULL, err)))
                goto done;
        }
        double secs = lt_time_s() - t0;
        int is_best = test && test_acc > best;
        if (is_best)
            best = test_acc;
        if (c->out_dir) {
            int o = snprintf(line, 65536,
                             "{\"epoch\": %d, \"train_loss\": %.9g, \"train_ce\": %.9g, \"train_mse\": %.9g, "
                             "\"train_acc\": %.4f, \"test_acc\": %.4f, \"lr\": %.6g, \"omega\": %.6f, "
                             "\"seconds\": %.3f, \"train_seconds\": %.3f, \"samples\": %zu, \"batches\": %ld, "
                             "\"partial\": %s, \"vth\": [",
                             epoch, loss_sum / seen, ce_sum / seen, mse_sum / seen, 100.0 * correct / seen,
                             test_acc, lt_optim_lr(opt), lt_net_omega(net), secs, t_train, seen, done_batches,
                             done_batches < batches ? "true" : "false");
            for (int k = 0; k < n_lif && o < 60000; k++)
                o += snprintf(line + o, 65536 - o, "%s%.6f", k ? ", " : "", lt_net_vth(net, k));
            o += snprintf(line + o, 65536 - o, "], \"rate\": [");
            for (int k = 0; k < n_lif && o < 64000; k++)
                o += snprintf(line + o, 65536 - o, "%s%.5f", k ? ", " : "", rate[k] / seen);
            snprintf(line + o, 65536 - o, "]}\n");
            if ((st = append_log(log_path, line, err)))
                goto done;
            snprintf(path, sizeof path, "%s/last.safetensors", c->out_dir);
            if ((st = save_ckpt(net, opt, path, epoch, &rng, best, c, err)))
                goto done;
            if (is_best || !test) {
                snprintf(path, sizeof path, "%s/best.safetensors", c->out_dir);
                if ((st = save_ckpt(net, opt, path, epoch, &rng, best, c, err)))
                    goto done;
            }
        }
        if (progress) {
            lt_progress p = {.epoch = epoch, .epochs = c->epochs, .batch = done_batches, .batches = batches,
                             .phase = 2, .train_loss = loss_sum / seen, .train_acc = 100.0 * correct / seen,
                             .test_acc = test_acc, .epoch_s = secs, .best = is_best,
                             .elapsed_s = lt_time_s() - t_start,
                             .samples_per_s = seen / (t_train > 1e-9 ? t_train : 1e-9)};
            progress(ctx, &p);
        }
    }
done:
    lt_optim_free(opt);
    lt_free(x);
    lt_free(dO);
    lt_free(y);
    lt_free(pred);
    lt_free(order);
    free(rate);
    free(line);
    return st;
}
