/* cmd_eval.c -- `ltsnn eval MODEL --data SRC`: accuracy and confusion
 * matrix of a classifier's checkpoint, or of an integer .ltq model (then,
 * given the float checkpoint with --float, the spike and prediction
 * agreement between the two); --energy adds METHOD.md §10's operation
 * counts and energy estimate per layer.  For a detector's checkpoint (its
 * metadata has grid and anchors): COCO mAP@[.5:.95], AP50, AP75 and VOC
 * AP@0.5 by the Prophesee protocol with the filter named (METHOD.md §9). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ltsnn.h"

static void print_confusion(const int64_t *conf, int K, const lt_dataset *d)
{
    printf("\nconfusion matrix (rows: true class, columns: predicted)\n      ");
    for (int j = 0; j < K; j++)
        printf("%6d", j);
    printf("\n");
    for (int i = 0; i < K; i++) {
        printf("%6d", i);
        for (int j = 0; j < K; j++)
            printf("%6lld", (long long)conf[(size_t)i * K + j]);
        if (d->class_names && i < d->classes)
            printf("   %s", d->class_names[i]);
        printf("\n");
    }
}

static void print_energy(const lt_energy *e, const char *what)
{
    printf("\nenergy (METHOD.md §10, %s; per sample over T=%d steps, %zu samples; E = %.1f pJ x MACs + %.1f pJ x "
           "SOPs)\n", what, e->T, e->samples, LT_PJ_PER_MAC, LT_PJ_PER_SOP);
    printf("%-24s %-7s %14s %14s %12s %9s\n", "layer", "kind", "MACs", "SOPs", "energy nJ", "rate");
    for (int i = 0; i < e->n; i++) {
        const lt_energy_row *r = &e->row[i];
        if (!strcmp(r->kind, "lif"))
            printf("%-24s %-7s %14s %14s %12s %9.4f\n", r->name, r->kind, "", "", "", r->rate);
        else
            printf("%-24s %-7s %14.0f %14.0f %12.3f %9s\n", r->name, r->kind, r->macs, r->sops,
                   (LT_PJ_PER_MAC * r->macs + LT_PJ_PER_SOP * r->sops) / 1e3, r->analog ? "(analog)" : "");
    }
    printf("%-24s %-7s %14.0f %14.0f %12.3f\n", "total", "", e->macs, e->sops, e->pj / 1e3);
}

/* one line per sample: "sample I: class K, logit sums S0 S1 ..." (the runtime's integers, as examples/rt_classify prints them) */
static int dump_sums(const char *path, const lt_qeval *r, lt_err *err)
{
    lt_afile a;
    if (lt_afile_open(&a, path, err))
        return 1;
    for (size_t i = 0; i < r->samples; i++) {
        fprintf(a.f, "sample %zu: class %d, logit sums", i, r->pred[i]);
        for (int k = 0; k < r->classes; k++)
            fprintf(a.f, " %lld", (long long)r->logit_sums[i * (size_t)r->classes + k]);
        fprintf(a.f, "\n");
    }
    return lt_afile_commit(&a, err) != LT_OK;
}

static int eval_ltq(const char *path, const lt_dataset *d, const char *data, const char *split, const char *fpath,
                    int T, int batch, int energy, const char *dump)
{
    lt_err err = {0};
    lt_qmodel *m = NULL;
    lt_net *ref = NULL;
    lt_qeval r = {0};
    int rc = 1;
    if (lt_qmodel_load(&m, path, &err)) {
        fprintf(stderr, "ltsnn eval: %s\n", err.msg);
        return 1;
    }
    lt_qmodel_info qi;
    lt_qmodel_get_info(m, &qi);
    if (fpath) {
        lt_net_config nc = {.T = T > 0 ? T : qi.T, .B = batch};
        lt_neuron_default(&nc.neuron);
        char model[4096];
        if (lt_ckpt_config(&nc, model, sizeof model, fpath, &err) || lt_net_create(&ref, &nc, &err) ||
            lt_net_load(ref, fpath, &err)) {
            fprintf(stderr, "ltsnn eval: --float: %s\n", err.msg);
            goto done;
        }
    }
    if (lt_qmodel_evaluate(m, d, ref, T, &r, &err)) {
        fprintf(stderr, "ltsnn eval: %s\n", err.msg);
        goto done;
    }
    printf("%s (integer model, %s) on %s (%s split, %zu samples, T=%d): accuracy %.2f%%\n", path, qi.model, data,
           split, d->n, r.T, r.acc);
    printf("integer inference: %.3f s, %.3f ms per sample (%d threads, event-driven)\n", r.seconds,
           1e3 * r.seconds / (double)d->n, lt_get_threads());
    print_confusion(r.confusion, r.classes, d);
    if (r.compared) {
        printf("\nagainst the float model %s on the same data (accuracy %.2f%%):\n", fpath, r.acc_float);
        printf("predictions agree on %zu of %zu samples: %.3f%%\n", r.pred_agree, r.samples,
               100.0 * (double)r.pred_agree / (double)r.samples);
        printf("spikes agree: %.4f%% of %llu\n", 100.0 * (double)r.spikes_agree / (double)r.spikes_total,
               (unsigned long long)r.spikes_total);
        printf("%-24s %16s %12s %12s %12s\n", "neuron layer", "spikes compared", "agree %", "rate int", "rate float");
        for (int i = 0; i < r.n_layers; i++) {
            const lt_qlayer_agree *q = &r.layer[i];
            printf("%-24s %16llu %12.4f %12.4f %12.4f\n", q->name, (unsigned long long)q->total,
                   100.0 * (double)q->agree / (double)q->total, (double)q->ones_int / (double)q->total,
                   (double)q->ones_float / (double)q->total);
        }
    }
    if (energy)
        print_energy(&r.energy, "integer model, counted by the runtime");
    if (dump && dump_sums(dump, &r, &err)) {
        fprintf(stderr, "ltsnn eval: %s\n", err.msg);
        goto done;
    }
    rc = 0;
done:
    lt_qeval_free(&r);
    lt_net_free(ref);
    lt_qmodel_free(m);
    return rc;
}

/* A detector on a detection split: the four metrics and the per-class table. */
static int eval_detector(const char *ckpt, lt_net *net, const lt_det_head_config *dc, const lt_dataset *d,
                         const char *data, const char *split, int T, int json)
{
    lt_err err = {0};
    lt_head *head = NULL;
    lt_eval_result r;
    const lt_map_result *m = NULL;
    if (lt_head_detect(&head, net, dc, &err) || lt_evaluate_head(net, head, d, &r, &err) ||
        !(m = lt_head_detect_map(head))) {
        fprintf(stderr, "ltsnn eval: %s\n", m || err.msg[0] ? err.msg : "no samples were evaluated");
        lt_head_free(head);
        return 1;
    }
    if (json) {
        cli_map_print_json(m, &dc->filter, dc->tol_us, d->n_recs);
    } else {
        printf("%s on %s (%s split, %zu samples, T=%d), detections of the time-averaged output after NMS:\n", ckpt,
               data, split, d->n, T);
        cli_map_print_table(m, &dc->filter, dc->tol_us, d->n_recs);
    }
    lt_head_free(head);
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    const char *data = NULL, *split = "test", *fpath = NULL, *dump = NULL, *filter = NULL;
    int batch = 32, threads = 0, T = 0, wbits = 32, energy = 0, json = 0;
    cli_opt opts[] = {
        {"--data", CLI_STR, &data, "demo, fashion-mnist, n-fashion-mnist, or a cache from ltsnn data prepare "
         "(default: the data the checkpoint was trained on)", 0, 0, 0},
        {"--split", CLI_STR, &split, "test (default), train, or val (a detection cache's)", 0, 0, 0},
        {"--filter", CLI_STR, &filter, "detection: toolbox (t > 0.1 s, diagonal >= 30, sides >= 20; default), paper "
         "(0.5 s, 30, 10) or none", 0, 0, 0},
        {"--json", CLI_BOOL, &json, "detection: one JSON line at full precision instead of the table", 0, 0, 0},
        {"--batch", CLI_INT, &batch, "batch size (default 32)", 0, 1, 65536},
        {"--T", CLI_INT, &T, "time steps (default: the model's)", 0, 1, 10000},
        {"--threads", CLI_INT, &threads, "worker threads (default: all cores)", 0, 1, 1024},
        {"--wbits", CLI_INT, &wbits, "conv weight bits 32, 4 or 8 (default: the checkpoint's wbits)", 0, 1, 32},
        {"--float", CLI_STR, &fpath, "MODEL.ltq only: the float checkpoint it was exported from, to compare spikes "
                                     "and predictions with", 0, 0, 0},
        {"--energy", CLI_BOOL, &energy, "MACs, SOPs, firing rates and energy per layer (METHOD.md §10)", 0, 0, 0},
        {"--dump", CLI_STR, &dump, "MODEL.ltq only: write each sample's class and integer logit sums to this file",
         0, 0, 0},
        {0},
    };
    const char *pos[1];
    int np;
    int r = cli_parse("eval", "MODEL [--data SRC] [--split test|train] [--float CKPT] [--energy]", argc, argv, 2, opts,
                      pos, 1, &np);
    if (r)
        return r == 1 ? 0 : r;
    if (strcmp(split, "test") && strcmp(split, "train") && strcmp(split, "val")) {
        fprintf(stderr, "ltsnn eval: --split must be test, train or val, not '%s'\n", split);
        return 2;
    }
    if (np != 1) {
        fprintf(stderr, "ltsnn eval: give a checkpoint or an .ltq model (ltsnn eval --help)\n");
        return 2;
    }
    const int ltq = lt_qmodel_sniff(pos[0]);
    if (!ltq && (fpath || dump)) {
        fprintf(stderr, "ltsnn eval: --float and --dump are for integer .ltq models; %s is not one\n", pos[0]);
        return 2;
    }
    if (ltq && cli_seen(opts, "--wbits")) {
        fprintf(stderr, "ltsnn eval: --wbits applies to checkpoints; %s is an integer model\n", pos[0]);
        return 2;
    }
    char data_buf[4096];
    lt_qmodel_info qi = {0};
    if (ltq) {
        lt_qmodel *m;
        lt_err e = {0};
        if (lt_qmodel_load(&m, pos[0], &e)) {
            fprintf(stderr, "ltsnn eval: %s\n", e.msg);
            return 1;
        }
        lt_qmodel_get_info(m, &qi);
        lt_qmodel_free(m);
        if (!data && qi.data[0])
            snprintf(data_buf, sizeof data_buf, "%s", qi.data), data = data_buf;
    }
    if (!data) {
        /* the data named in a training checkpoint (or the .ltq exported from one) */
        lt_st_file f;
        lt_err e = {0};
        const char *v = NULL;
        if (!ltq && !lt_st_read(&f, pos[0], &e)) {
            v = lt_st_meta(&f, "data");
            if (v && *v)
                snprintf(data_buf, sizeof data_buf, "%s", v), data = data_buf;
            lt_st_free(&f);
        }
        if (!data) {
            fprintf(stderr, "ltsnn eval: %s names no training data (written by ltsnn init?); give --data\n", pos[0]);
            return 2;
        }
        fprintf(stderr, "data %s (from the checkpoint)\n", data);
    }
    if (threads > 0)
        lt_set_threads(threads);
    lt_err err = {0};
    lt_net_config nc = {.T = 10, .B = batch, .max_memory = lt_mem_available()};
    lt_neuron_default(&nc.neuron);
    char model[4096];
    if (ltq)
        nc.T = qi.T;
    else if (lt_ckpt_config(&nc, model, sizeof model, pos[0], &err)) {
        fprintf(stderr, "ltsnn eval: %s\n", err.msg);
        return 1;
    }
    if (T > 0)
        nc.T = T;
    if (cli_seen(opts, "--wbits"))
        nc.wbits = wbits;
    /* a detector's head from its metadata */
    lt_det_head_config dc;
    lt_det_head_config_default(&dc);
    int detect = 0, kmeans = 0;
    if (!ltq && lt_det_head_config_read(&dc, pos[0], nc.classes, &detect, &err)) {
        fprintf(stderr, "ltsnn eval: %s\n", err.msg);
        return 1;
    }
    if (!detect && (filter || json)) {
        fprintf(stderr, "ltsnn eval: --filter and --json are for a detector's checkpoint; %s is a classifier's (no "
                "grid and anchors in its metadata)\n", pos[0]);
        return 2;
    }
    if (detect && energy) {
        fprintf(stderr, "ltsnn eval: --energy is for classifiers; %s is a detector's checkpoint\n", pos[0]);
        return 2;
    }
    if (detect && (r = cli_det_flags("eval", &dc, &kmeans, NULL, NULL, NULL, filter)))
        return r;
    lt_dataset tr, te;
    lt_source_opts so = {.T = nc.T, .split = strcmp(split, "train") ? split : NULL};
    if (lt_source_load(data, &so, &tr, &te, &err)) {
        fprintf(stderr, "ltsnn eval: %s\n", err.msg);
        return 1;
    }
    const lt_dataset *d = !strcmp(split, "train") ? &tr : &te;
    lt_net *net = NULL;
    int rc = 1, K = 0;
    int64_t *conf = NULL;
    lt_energy e = {0};
    if (d->n == 0) {
        fprintf(stderr, "ltsnn eval: %s has no %s split\n", data, split);
        goto done;
    }
    if (ltq) {
        rc = eval_ltq(pos[0], d, data, split, fpath, nc.T, batch, energy, dump);
        goto done;
    }
    if (lt_net_create(&net, &nc, &err) || lt_net_load(net, pos[0], &err)) {
        fprintf(stderr, "ltsnn eval: %s\n", err.msg);
        goto done;
    }
    if (detect) {
        rc = eval_detector(pos[0], net, &dc, d, data, split, nc.T, json);
        goto done;
    }
    K = lt_net_classes(net);
    conf = calloc((size_t)K * K, sizeof *conf);
    double acc;
    if (!conf || lt_evaluate(net, d, &acc, conf, &err)) {
        fprintf(stderr, "ltsnn eval: %s\n", conf ? err.msg : "out of memory");
        goto done;
    }
    printf("%s on %s (%s split, %zu samples, T=%d): accuracy %.2f%%\n", pos[0], data, split, d->n, nc.T, acc);
    print_confusion(conf, K, d);
    if (energy) {
        if (lt_net_energy(net, d, &e, &err)) {
            fprintf(stderr, "ltsnn eval: %s\n", err.msg);
            goto done;
        }
        char what[64];
        snprintf(what, sizeof what, "float model, %s weights",
                 nc.wbits == 4 ? "4-bit" : nc.wbits == 8 ? "8-bit" : "float32");
        print_energy(&e, what);
    }
    rc = 0;
done:
    lt_energy_free(&e);
    free(conf);
    lt_net_free(net);
    lt_dataset_free(&tr);
    lt_dataset_free(&te);
    return rc;
}
