/* cmd_export.c -- `ltsnn export CKPT --out MODEL.ltq`: a checkpoint trained
 * with --wbits 4 or 8 as an integer model for the runtime (METHOD.md §10,
 * docs/formats.md "Integer models"); `--torch OUT.safetensors`: any
 * checkpoint's weights as the state_dict PyTorch loads with strict=True
 * (docs/checkpoints.md "PyTorch"). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ltsnn.h"

/* The stored input values the model takes: binary event frames, 8-bit
 * images (value / 255) or 8-bit counts (value as it is).  Default: from
 * the checkpoint's metadata "data" (fashion-mnist: u8, else binary). */
static int input_kind(const char *kind, const char *data, lt_export_opts *o)
{
    if (!kind)
        kind = !strncmp(data, "fashion-mnist", 13) ? "u8" : "binary";
    if (!strcmp(kind, "binary"))
        o->in_max = 1, o->in_scale = 1.0f;
    else if (!strcmp(kind, "u8"))
        o->in_max = 255, o->in_scale = 1.0f / 255.0f;
    else if (!strcmp(kind, "count"))
        o->in_max = 255, o->in_scale = 1.0f;
    else
        return 0;
    return 1;
}

/* The weights under their own names plus BN's counter, which a PyTorch
 * BatchNorm2d's state_dict holds: the training steps taken (metadata
 * "step"; 0 for a checkpoint from ltsnn init). */
static int export_torch(const char *ckpt, const char *out)
{
    lt_err err = {0};
    lt_net_config nc = {.T = 1, .B = 1};
    lt_neuron_default(&nc.neuron);
    char model[4096];
    lt_net *net = NULL;
    long long step = 0;
    lt_st_file f;
    if (lt_ckpt_config(&nc, model, sizeof model, ckpt, &err) || lt_st_read(&f, ckpt, &err)) {
        fprintf(stderr, "ltsnn export: %s\n", err.msg);
        return 1;
    }
    const char *v = lt_st_meta(&f, "step");
    char *end = NULL;
    if (v)
        step = strtoll(v, &end, 10);
    int bad = v && (!*v || *end || step < 0);
    lt_st_free(&f);
    if (bad) {
        fprintf(stderr, "ltsnn export: %s: metadata step '%s' is not a step count\n", ckpt, v);
        return 1;
    }
    int rc = 1;
    if (lt_net_create(&net, &nc, &err) || lt_net_load(net, ckpt, &err) ||
        lt_net_save_torch(net, out, (int64_t)step, &err))
        fprintf(stderr, "ltsnn export: %s\n", err.msg);
    else {
        printf("wrote %s: %s, %zu parameters, BN num_batches_tracked %lld (load with strict=True: "
               "docs/checkpoints.md)\n", out, model, lt_net_params(net), step);
        rc = 0;
    }
    lt_net_free(net);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    const char *out = NULL, *input = NULL, *torch = NULL;
    int T = 0;
    cli_opt opts[] = {
        {"--out", CLI_STR, &out, "the .ltq file to write", 0, 0, 0},
        {"--torch", CLI_STR, &torch, "instead: write the weights as a PyTorch state_dict (safetensors; BN's "
                                     "num_batches_tracked included, no optimiser state) to this file", 0, 0, 0},
        {"--input", CLI_STR, &input, "binary (event frames), u8 (8-bit images, value/255) or count (8-bit counts); "
                                     "default: u8 for a model trained on fashion-mnist, else binary", 0, 0, 0},
        {"--T", CLI_INT, &T, "time steps recorded as the model's default (default: the checkpoint's)", 0, 1, 10000},
        {0},
    };
    const char *pos[1];
    int np;
    int r = cli_parse("export", "CKPT --out MODEL.ltq [--input binary|u8|count] | CKPT --torch OUT.safetensors",
                      argc, argv, 2, opts, pos, 1, &np);
    if (r)
        return r == 1 ? 0 : r;
    if (np != 1 || !out == !torch) {
        fprintf(stderr, "ltsnn export: give a checkpoint and either --out MODEL.ltq or --torch OUT.safetensors "
                        "(ltsnn export --help)\n");
        return 2;
    }
    if (torch && (input || T)) {
        fprintf(stderr, "ltsnn export: --input and --T are for the integer model (--out); --torch writes the "
                        "checkpoint's weights as they are\n");
        return 2;
    }
    if (torch)
        return export_torch(pos[0], torch);
    /* the data the checkpoint was trained on: the default input kind, and recorded for ltsnn eval */
    char data[256] = "";
    lt_st_file f;
    lt_err e0 = {0};
    if (!lt_st_read(&f, pos[0], &e0)) {
        const char *v = lt_st_meta(&f, "data");
        snprintf(data, sizeof data, "%s", v ? v : "");
        lt_st_free(&f);
    }
    lt_export_opts eo = {.source = pos[0], .data = data};
    if (!input_kind(input, data, &eo)) {
        fprintf(stderr, "ltsnn export: --input must be binary, u8 or count, not '%s'\n", input);
        return 2;
    }
    lt_err err = {0};
    lt_net_config nc = {.T = 10, .B = 1};
    lt_neuron_default(&nc.neuron);
    char model[4096];
    lt_net *net = NULL;
    if (lt_ckpt_config(&nc, model, sizeof model, pos[0], &err)) {
        fprintf(stderr, "ltsnn export: %s\n", err.msg);
        return 1;
    }
    if (T > 0)
        nc.T = T;
    int rc = 1;
    if (!nc.wbits) {
        fprintf(stderr, "ltsnn export: %s was trained with float32 weights (metadata wbits 32 or absent); integer "
                        "export needs a model trained with --wbits 4 or 8 (METHOD.md §7, §10)\n", pos[0]);
        return 1;
    }
    if (lt_net_create(&net, &nc, &err) || lt_net_load(net, pos[0], &err) || lt_net_export_file(net, &eo, out, &err)) {
        fprintf(stderr, "ltsnn export: %s\n", err.msg);
        goto done;
    }
    lt_qmodel *m;
    if (lt_qmodel_load(&m, out, &err)) {
        fprintf(stderr, "ltsnn export: reading back %s: %s\n", out, err.msg);
        goto done;
    }
    lt_qmodel_info qi;
    lt_qmodel_get_info(m, &qi);
    lt_qmodel_free(m);
    printf("wrote %s: %d-bit convolutions, 8-bit FC, %d ops (%d neuron layers), input %dx%dx%d values 0..%d "
           "(x %g), %d classes\n", out, nc.wbits, qi.n_ops, qi.n_lif, qi.in_c, qi.in_h, qi.in_w, qi.in_max,
           (double)qi.in_scale, qi.classes);
    printf("flash (the model, read in place) %zu bytes; RAM (the runtime's arena) %zu bytes, of which %zu persist "
           "between steps\n", qi.file_bytes, qi.arena_bytes, qi.persistent_bytes);
    rc = 0;
done:
    lt_net_free(net);
    return rc;
}
