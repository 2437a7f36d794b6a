/* cmd_eval.c -- `ltsnn eval CKPT --data SRC`: accuracy and confusion matrix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ltsnn.h"

int cmd_eval(int argc, char **argv)
{
    const char *data = NULL, *split = "test";
    int batch = 32, threads = 0, T = 0, wbits = 32;
    cli_opt opts[] = {
        {"--data", CLI_STR, &data, "demo, fashion-mnist, n-fashion-mnist, or a cache from ltsnn data prepare", 0, 0, 0},
        {"--split", CLI_STR, &split, "test (default) or train", 0, 0, 0},
        {"--batch", CLI_INT, &batch, "batch size (default 32)", 0, 1, 65536},
        {"--T", CLI_INT, &T, "time steps (default: the checkpoint's)", 0, 1, 10000},
        {"--threads", CLI_INT, &threads, "worker threads (default: all cores)", 0, 1, 1024},
        {"--wbits", CLI_INT, &wbits, "conv weight bits 32, 4 or 8 (default: the checkpoint's wbits)", 0, 1, 32},
        {0},
    };
    const char *pos[1];
    int np;
    int r = cli_parse("eval", "CKPT --data SRC [--split test|train]", argc, argv, 2, opts, pos, 1, &np);
    if (r)
        return r == 1 ? 0 : r;
    if (strcmp(split, "test") && strcmp(split, "train")) {
        fprintf(stderr, "ltsnn eval: --split must be test or train, not '%s'\n", split);
        return 2;
    }
    if (np != 1 || !data || batch < 1) {
        fprintf(stderr, "ltsnn eval: give a checkpoint and --data (ltsnn eval --help)\n");
        return 2;
    }
    if (threads > 0)
        lt_set_threads(threads);
    lt_err err = {0};
    lt_net_config nc = {.T = 10, .B = batch};
    lt_neuron_default(&nc.neuron);
    char model[4096];
    if (lt_ckpt_config(&nc, model, sizeof model, pos[0], &err)) {
        fprintf(stderr, "ltsnn eval: %s\n", err.msg);
        return 1;
    }
    if (T > 0)
        nc.T = T;
    if (cli_seen(opts, "--wbits"))
        nc.wbits = wbits;
    lt_dataset tr, te;
    lt_source_opts so = {.T = nc.T};
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
