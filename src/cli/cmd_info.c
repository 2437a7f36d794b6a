/* cmd_info.c -- `ltsnn info MODEL`: one row per block, then totals
 * (METHOD.md §3 counting rules). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ltsnn.h"

static void commas(char *buf, size_t len, size_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%zu", v), o = 0;
    for (int i = 0; i < n && (size_t)o + 2 < len; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
}

int cmd_info(int argc, char **argv)
{
    int shape[3] = {2, 48, 48}, classes = 0, T = 10, B = 16, wbits = 32;
    const char *bn = NULL;
    float base = 0;
    cli_opt opts[] = {
        {"--input", CLI_SHAPE, shape, "input shape CxHxW (default: the preset's, else 2x48x48)", 0, 0, 0},
        {"--classes", CLI_INT, &classes, "class count (replaces a preset's last FC)", 0, 1, 1000000},
        {"--T", CLI_INT, &T, "time steps for the memory plan (default 10)", 0, 1, 10000},
        {"--batch", CLI_INT, &B, "batch size for the memory plan (default 16)", 0, 1, 65536},
        {"--bn", CLI_STR, &bn, "standard or td (default: td for resnet19, else standard)", 0, 0, 0},
        {"--wbits", CLI_INT, &wbits, "4 or 8: also the size of the integer model (.ltq) and its runtime RAM", 0, 1,
         32},
        {"--baseline-params", CLI_FLOAT, &base, "compare the 4-bit size with a float32 model of this many parameters "
                                                "(Table 4: TET's VGG-like, 9.27e6)", 0, 1, 1e12},
        {0},
    };
    const char *pos[1];
    int np;
    int r = cli_parse("info", "MODEL [--input CxHxW] [--classes K] [--T N] [--batch N]", argc, argv, 2, opts, pos,
                      1, &np);
    if (r)
        return r == 1 ? 0 : r;
    if (np != 1) {
        fprintf(stderr, "ltsnn info: give a model: a preset (vgg7, vgg9, vgg11, mobilenet-light, yolov2, small, "
                        "fmnist) or a string such as 32C3-AP2-FC10\n");
        return 2;
    }
    if (shape[0] == 0) {
        fprintf(stderr, "ltsnn info: --input needs three numbers CxHxW, e.g. 2x48x48\n");
        return 2;
    }
    if (!cli_seen(opts, "--input"))
        lt_model_preset_input(pos[0], &shape[0], &shape[1], &shape[2]);
    int bn_v = cli_default_bn(pos[0]);
    if (bn && (r = cli_bn_flag("info", &bn_v, bn)))
        return r;
    /* planned only: info never touches the memory it reports */
    lt_net_config cfg = {.model = pos[0], .in_c = shape[0], .in_h = shape[1], .in_w = shape[2],
                         .classes = classes, .T = 1, .B = 1, .train = 0, .bn = bn_v, .plan_only = 1,
                         .wbits = wbits == 32 ? 0 : wbits};
    lt_neuron_default(&cfg.neuron);
    lt_err err = {0};
    lt_net *net;
    if (lt_net_create(&net, &cfg, &err)) {
        fprintf(stderr, "ltsnn info: %s\n", err.msg);
        return 1;
    }
    char model[4096];
    lt_net_expanded_model(net, model, sizeof model);
    printf("model  %s\ninput  %dx%dx%d, %d outputs per step, %s BN\n\n", model, shape[0], shape[1], shape[2],
           lt_net_classes(net), bn_v == LT_BN_TD ? "td" : "standard");
    printf("%-14s %-8s %-16s %14s %16s\n", "block", "token", "output CxHxW", "params", "MACs/step");
    /* aggregate layers by token: the paper's notation is per token */
    int nl = lt_net_n_layers(net);
    lt_layer_info li;
    char tok[32] = "", blk[32] = "", outs[40] = "", a[32], b[32];
    size_t p = 0, m = 0;
    int cur = -1;
    const char *s = model;
    for (int i = 0; i <= nl; i++) {
        int t = -1;
        if (i < nl) {
            lt_net_layer_info(net, i, &li);
            sscanf(li.name, "blocks.%d", &t);
        }
        if (t != cur && cur >= 0) {
            commas(a, sizeof a, p);
            commas(b, sizeof b, m);
            printf("%-14s %-8s %-16s %14s %16s\n", blk, tok, outs, a, b);
            p = m = 0;
        }
        if (i == nl)
            break;
        if (t != cur) {
            /* the token's text: the t-th dash-separated field */
            const char *q = s;
            for (int k = 0; k < t && q; k++)
                q = strchr(q, '-') ? strchr(q, '-') + 1 : NULL;
            size_t len = q ? strcspn(q, "-") : 0;
            snprintf(tok, sizeof tok, "%.*s", (int)(len < 31 ? len : 31), q ? q : "");
            snprintf(blk, sizeof blk, "blocks.%d", t);
            cur = t;
        }
        snprintf(outs, sizeof outs, "%dx%dx%d", li.c, li.h, li.w);
        p += li.params;
        m += li.macs;
    }
    size_t params = lt_net_params(net), wc = lt_net_weight_count(net), macs = lt_net_macs(net);
    commas(a, sizeof a, params);
    printf("\nparameters        %s (%.2fM; BN gamma/beta and %d thresholds included)\n", a, params / 1e6,
           lt_net_n_lif(net));
    printf("weights (conv+fc) ");
    commas(a, sizeof a, wc);
    printf("%s\n", a);
    /* METHOD.md §3: 4-bit size counts conv/linear weights at 4 bits, the rest at 32 */
    double mb32 = params * 4.0 / 1e6, mb4 = (wc * 0.5 + (params - wc) * 4.0) / 1e6;
    printf("size at 32 bits   %.2f MB\nsize at 4 bits    %.2f MB (%.2fx smaller)\n", mb32, mb4, mb32 / mb4);
    if (cfg.wbits || base > 0) {
        /* Table 4 counts every parameter at the low precision: 7.07M x 4 bits for VGG-9 at 48x48 */
        const int lb = cfg.wbits ? cfg.wbits : 4;
        const double mbt = params * lb / 8.0 / 1e6, mbm = (wc * lb / 8.0 + (params - wc) * 4.0) / 1e6;
        printf("                  %.2f MB counting every parameter at %d bits, as the paper's Table 4 does\n", mbt, lb);
        if (base > 0)
            printf("against %.2fM parameters at 32 bits (%.2f MB): %.2fx smaller as Table 4 counts, %.2fx by METHOD.md "
                   "§3's rule (conv and FC weights at %d bits, the rest at 32)\n", base / 1e6, base * 4.0 / 1e6,
                   base * 4.0 / 1e6 / mbt, base * 4.0 / 1e6 / mbm, lb);
    }
    if (cfg.wbits) {
        size_t fb = 0, ab = 0;
        lt_export_opts eo = {.in_max = 1, .in_scale = 1.0f};
        if (lt_net_export_size(net, &eo, &fb, &ab, &err))
            printf("integer model     none: %s\n", err.msg);
        else
            printf("integer model     %zu bytes (.ltq: %d-bit conv codes, 8-bit FC weights, per-channel neuron "
                   "parameters; ltsnn export adds the checkpoint's path and data name to its metadata); the runtime needs %zu bytes "
                   "of RAM for binary input\n", fb, cfg.wbits, ab);
    }
    commas(a, sizeof a, macs);
    printf("MACs per step     %s (%.1fM per sample per time step)\n", a, macs / 1e6);
    lt_net_free(net);

    /* the memory plan at T x batch, planned only (nothing allocated) */
    printf("\nmemory planned at T=%d, batch %d (MiB)\n", T, B);
    for (int train = 1; train >= 0; train--) {
        cfg.T = T, cfg.B = B, cfg.train = train;
        if (lt_net_create(&net, &cfg, &err)) {
            fprintf(stderr, "ltsnn info: %s\n", err.msg);
            return 1;
        }
        lt_net_memory mu;
        lt_net_memory_use(net, &mu);
        lt_net_free(net);
        const double MiB = 1024.0 * 1024.0;
        /* training adds Adam's two moments per parameter (ltsnn train's default optimiser) */
        size_t adam = train ? 2 * mu.params : 0;
        size_t total = mu.params + mu.grads + adam + mu.buffers + mu.arena + mu.work;
        if (train)
            printf("training          %.1f: activations and their gradients %.1f (%.1f kept for backward), "
                   "parameters + gradients + Adam %.1f, kernel scratch %.1f\n", total / MiB, mu.arena / MiB,
                   mu.kept / MiB, (mu.params + mu.grads + adam + mu.buffers) / MiB, mu.work / MiB);
        else
            printf("inference         %.1f: activations %.1f, parameters %.1f, kernel scratch %.1f\n", total / MiB,
                   mu.arena / MiB, (mu.params + mu.buffers) / MiB, mu.work / MiB);
    }
    printf("(the process adds its libraries and the input batch)\n");
    return 0;
}
