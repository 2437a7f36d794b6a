/* cmd_eval.c -- `ltsnn eval CKPT --data SRC`: accuracy and confusion matrix
 * of a classifier; for a detector's checkpoint (its metadata has grid and
 * anchors) COCO mAP@[.5:.95], AP50, AP75 and VOC AP@0.5 by the Prophesee
 * protocol with the filter named (METHOD.md §9). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ltsnn.h"

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
    const char *data = NULL, *split = "test", *filter = NULL;
    int batch = 32, threads = 0, T = 0, json = 0;
    cli_opt opts[] = {
        {"--data", CLI_STR, &data, "demo, fashion-mnist, n-fashion-mnist, or a cache from ltsnn data prepare "
         "(default: the data the checkpoint was trained on)", 0, 0, 0},
        {"--split", CLI_STR, &split, "test (default), train, or val (a detection cache's)", 0, 0, 0},
        {"--filter", CLI_STR, &filter, "detection: toolbox (t > 0.1 s, diagonal >= 30, sides >= 20; default), paper "
         "(0.5 s, 30, 10) or none", 0, 0, 0},
        {"--json", CLI_BOOL, &json, "detection: one JSON line at full precision instead of the table", 0, 0, 0},
        {"--batch", CLI_INT, &batch, "batch size (default 32)", 0, 1, 65536},
        {"--T", CLI_INT, &T, "time steps (default: the checkpoint's)", 0, 1, 10000},
        {"--threads", CLI_INT, &threads, "worker threads (default: all cores)", 0, 1, 1024},
        {0},
    };
    const char *pos[1];
    int np;
    int r = cli_parse("eval", "CKPT --data SRC [--split test|train]", argc, argv, 2, opts, pos, 1, &np);
    if (r)
        return r == 1 ? 0 : r;
    if (strcmp(split, "test") && strcmp(split, "train") && strcmp(split, "val")) {
        fprintf(stderr, "ltsnn eval: --split must be test, train or val, not '%s'\n", split);
        return 2;
    }
    if (np != 1) {
        fprintf(stderr, "ltsnn eval: give a checkpoint (ltsnn eval --help)\n");
        return 2;
    }
    char data_buf[4096];
    if (!data) {
        /* the data named in a training checkpoint */
        lt_st_file f;
        lt_err e = {0};
        const char *v = NULL;
        if (!lt_st_read(&f, pos[0], &e)) {
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
    if (lt_ckpt_config(&nc, model, sizeof model, pos[0], &err)) {
        fprintf(stderr, "ltsnn eval: %s\n", err.msg);
        return 1;
    }
    if (T > 0)
        nc.T = T;
    /* a detector's head from its metadata */
    lt_det_head_config dc;
    lt_det_head_config_default(&dc);
    int detect = 0, kmeans = 0;
    if (lt_det_head_config_read(&dc, pos[0], nc.classes, &detect, &err)) {
        fprintf(stderr, "ltsnn eval: %s\n", err.msg);
        return 1;
    }
    if (!detect && (filter || json)) {
        fprintf(stderr, "ltsnn eval: --filter and --json are for a detector's checkpoint; %s is a classifier's (no "
                "grid and anchors in its metadata)\n", pos[0]);
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
    if (d->n == 0) {
        fprintf(stderr, "ltsnn eval: %s has no %s split\n", data, split);
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
    printf("%s on %s (%s split, %zu samples, T=%d): accuracy %.2f%%\n\nconfusion matrix (rows: true class, "
           "columns: predicted)\n      ", pos[0], data, split, d->n, nc.T, acc);
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
    rc = 0;
done:
    free(conf);
    lt_net_free(net);
    lt_dataset_free(&tr);
    lt_dataset_free(&te);
    return rc;
}
