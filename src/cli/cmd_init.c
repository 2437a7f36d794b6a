/* cmd_init.c -- `ltsnn init MODEL --out W.safetensors`: a freshly
 * initialised checkpoint (METHOD.md §3), the starting point for training and
 * for moving weights to and from other frameworks. */
#include <stdio.h>

#include "cli/cli.h"
#include "ltsnn.h"

int cmd_init(int argc, char **argv)
{
    int shape[3] = {2, 48, 48}, classes = 0, T = 10;
    uint64_t seed = 0;
    const char *out = NULL, *mode = "sgp", *window = "sigmoid", *bn = NULL;
    cli_opt opts[] = {
        {"--input", CLI_SHAPE, shape, "input shape CxHxW (default: the preset's, else 2x48x48)", 0, 0, 0},
        {"--classes", CLI_INT, &classes, "class count (replaces a preset's last FC)", 0, 1, 1000000},
        {"--seed", CLI_U64, &seed, "initialisation seed (default 0)", 0, 0, 0},
        {"--T", CLI_INT, &T, "time steps recorded in the metadata (default 10)", 0, 1, 10000},
        {"--mode", CLI_STR, &mode, "threshold mode recorded in the metadata (default sgp)", 0, 0, 0},
        {"--window", CLI_STR, &window, "SGP window recorded in the metadata (default sigmoid)", 0, 0, 0},
        {"--bn", CLI_STR, &bn, "standard or td, recorded in the metadata (default: td for resnet19, else standard)", 0,
         0, 0},
        {"--out", CLI_STR, &out, "output checkpoint (.safetensors)", 0, 0, 0},
        {0},
    };
    const char *pos[1];
    int np;
    int r = cli_parse("init", "MODEL [--input CxHxW] [--classes K] [--seed S] --out W.safetensors", argc, argv, 2,
                      opts, pos, 1, &np);
    if (r)
        return r == 1 ? 0 : r;
    if (np != 1 || !out) {
        fprintf(stderr, "ltsnn init: give a model and --out FILE (ltsnn init --help)\n");
        return 2;
    }
    if (shape[0] == 0) {
        fprintf(stderr, "ltsnn init: --input needs three numbers CxHxW, e.g. 2x48x48\n");
        return 2;
    }
    if (!cli_seen(opts, "--input"))
        lt_model_preset_input(pos[0], &shape[0], &shape[1], &shape[2]);
    lt_net_config cfg = {.model = pos[0], .in_c = shape[0], .in_h = shape[1], .in_w = shape[2],
                         .classes = classes, .T = T, .B = 1, .train = 0, .bn = cli_default_bn(pos[0])};
    if (bn && (r = cli_bn_flag("init", &cfg.bn, bn)))
        return r;
    lt_neuron_default(&cfg.neuron);
    lt_err err = {0};
    if (lt_neuron_set_mode(&cfg.neuron, mode, &err) || lt_neuron_set_window(&cfg.neuron, window, &err)) {
        fprintf(stderr, "ltsnn init: %s\n", err.msg);
        return 2;
    }
    lt_net *net;
    if (lt_net_create(&net, &cfg, &err)) {
        fprintf(stderr, "ltsnn init: %s\n", err.msg);
        return 1;
    }
    lt_net_init(net, seed);
    char sbuf[32];
    snprintf(sbuf, sizeof sbuf, "%llu", (unsigned long long)seed);
    const char *meta[] = {"seed", sbuf, NULL};
    int rc = 0;
    if (lt_net_save(net, out, meta, NULL, &err)) {
        fprintf(stderr, "ltsnn init: %s\n", err.msg);
        rc = 1;
    } else {
        printf("wrote %s: %zu parameters, %d tensors\n", out, lt_net_params(net), lt_net_n_named(net));
    }
    lt_net_free(net);
    return rc;
}
