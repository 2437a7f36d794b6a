/* cmd_bench.c -- `ltsnn bench`: time a training step (forward, loss,
 * backward, optimiser) or an inference forward, the way
 * the PyTorch reference's benchmark (bench/) times PyTorch, and print one
 * JSON line.  FLOPs follow its rule: forward 2 * MACs, training 6 * MACs,
 * MACs counted per frame over B*T frames.  --det-loss times the detection
 * head's step instead of classification's (boxes from --x, else random). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "ltsnn.h"

/* the anchors bench/bench_torch_same.py uses when neither weights nor flags give them */
#define DET_ANCHORS "1.0,1.6,2.6,1.4"

/* 1 to 4 boxes an image, as bench/bench_torch_same.py's random_boxes draws
 * them: rows (b, class, cx, cy, w, h) */
static size_t random_rows(float *rows, int B, int C, lt_rng *rng)
{
    size_t n = 0;
    for (int b = 0; b < B; b++) {
        int k = 1 + (int)lt_rng_below(rng, 4);
        for (int q = 0; q < k; q++, n++) {
            float w = 0.05f + 0.45f * (float)lt_rng_uniform(rng), h = 0.05f + 0.45f * (float)lt_rng_uniform(rng);
            float *r = rows + 6 * n;
            r[0] = (float)b, r[1] = (float)lt_rng_below(rng, (uint32_t)C);
            r[2] = w / 2 + (1 - w) * (float)lt_rng_uniform(rng), r[3] = h / 2 + (1 - h) * (float)lt_rng_uniform(rng);
            r[4] = w, r[5] = h;
        }
    }
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cmd_bench(int argc, char **argv)
{
    const char *model = "vgg9", *what = "train", *weights = NULL, *input = NULL, *mode = "sgp",
               *window = NULL, *bn = NULL, *det_loss = NULL, *grid = NULL, *anchors = NULL;
    int shape[3] = {2, 48, 48}, T = 10, B = 16, threads = 0, warmup = 3, steps = 10, classes = 10, wbits = 32;
    float density = 0.15f;
    uint64_t seed = 0;
    cli_opt opts[] = {
        {"--model", CLI_STR, &model, "preset or model string (default vgg9)", 0, 0, 0},
        {"--what", CLI_STR, &what, "train (default) or infer", 0, 0, 0},
        {"--input", CLI_SHAPE, shape, "input shape CxHxW (default 2x48x48)", 0, 0, 0},
        {"--classes", CLI_INT, &classes, "classes (default 10)", 0, 1, 1000000},
        {"--T", CLI_INT, &T, "time steps (default 10)", 0, 1, 10000},
        {"--batch", CLI_INT, &B, "batch size (default 16)", 0, 1, 65536},
        {"--threads", CLI_INT, &threads, "threads (default: all cores)", 0, 1, 1024},
        {"--warmup", CLI_INT, &warmup, "untimed steps first (default 3)", 0, 0, 100000},
        {"--steps", CLI_INT, &steps, "timed steps (default 10)", 0, 1, 100000},
        {"--density", CLI_FLOAT, &density, "fraction of ones in random binary input frames (default 0.15)", 0, 0, 1},
        {"--weights", CLI_STR, &weights, "start from this checkpoint (else a fresh init)", 0, 0, 0},
        {"--x", CLI_STR, &input, "safetensors with x [B,T,C,H,W] (and y [B]) to use as the batch", 0, 0, 0},
        {"--mode", CLI_STR, &mode, "threshold mode (default sgp)", 0, 0, 0},
        {"--window", CLI_STR, &window, "SGP window: sigmoid (default) arctan triangle piecewise", 0, 0, 0},
        {"--seed", CLI_U64, &seed, "seed for init and random input (default 0)", 0, 0, 0},
        {"--bn", CLI_STR, &bn, "standard or td (default: td for resnet19, else standard)", 0, 0, 0},
        {"--wbits", CLI_INT, &wbits, "conv weight bits: 32 (default), 4 or 8 (SAWB, METHOD.md §7)", 0, 1, 32},
        {"--det-loss", CLI_STR, &det_loss, "time the detection head's step, loss mean or tet (METHOD.md §9; the "
         "outputs are then grid x (5A + 2))", 0, 0, 0},
        {"--grid", CLI_STR, &grid, "with --det-loss: the head's cells (default: the weights', else 6x8)", 0, 0, 0},
        {"--anchors", CLI_STR, &anchors, "with --det-loss: aw0,ah0,... in cells (default: the weights', else "
         DET_ANCHORS ", as bench/bench_torch_same.py)", 0, 0, 0},
        {0},
    };
    const char *pos[1];
    int np;
    int r = cli_parse("bench", "[--model M] [--what train|infer] [--T 10] [--batch 16] [options]", argc, argv, 2,
                      opts, pos, 0, &np);
    if (r)
        return r == 1 ? 0 : r;
    int train = !strcmp(what, "train");
    if (!train && strcmp(what, "infer")) {
        fprintf(stderr, "ltsnn bench: --what must be train or infer, not '%s'\n", what);
        return 2;
    }
    if (!cli_seen(opts, "--input"))
        lt_model_preset_input(model, &shape[0], &shape[1], &shape[2]);
    if (shape[0] < 1) {
        fprintf(stderr, "ltsnn bench: --input needs three numbers CxHxW, e.g. 2x48x48\n");
        return 2;
    }
    if (threads > 0)
        lt_set_threads(threads);
    lt_err err = {0};
    lt_net_config nc = {.model = model, .in_c = shape[0], .in_h = shape[1], .in_w = shape[2], .classes = classes,
                        .T = T, .B = B, .train = train, .bn = cli_default_bn(model), .wbits = wbits,
                        .max_memory = lt_mem_available()};
    lt_neuron_default(&nc.neuron);
    if ((r = cli_neuron_flags("bench", &nc.neuron, mode, window, NULL)) || (bn && (r = cli_bn_flag("bench", &nc.bn, bn))))
        return r;
    if (!lt_model_preset(model))
        nc.classes = 0;
    /* a detector: its head from the weights' metadata, flags, else the defaults above */
    lt_det_head_config dc;
    lt_det_head_config_default(&dc);
    int found = 0, kmeans = 0;
    if (det_loss) {
        lt_err e = {0};
        if (weights && lt_det_head_config_read(&dc, weights, 0, &found, &e)) {
            fprintf(stderr, "ltsnn bench: %s\n", e.msg);
            return 1;
        }
        if (!found && !anchors)
            anchors = DET_ANCHORS;
        if ((r = cli_det_flags("bench", &dc, &kmeans, grid, anchors, det_loss, NULL)))
            return r;
        if (kmeans) {
            fprintf(stderr, "ltsnn bench: --anchors needs the sizes aw0,ah0,... in cells\n");
            return 2;
        }
        nc.classes = (int)lt_det_outputs(dc.grid, dc.A, dc.C);
    } else if (grid || anchors) {
        fprintf(stderr, "ltsnn bench: --grid and --anchors go with --det-loss\n");
        return 2;
    }
    lt_net *net = NULL;
    lt_optim *opt = NULL;
    lt_head *head = NULL;
    lt_st_file xf = {0};
    size_t frame = (size_t)shape[0] * shape[1] * shape[2], nx = (size_t)T * B * frame;
    float *x = lt_alloc(nx * sizeof(float)), *dO = NULL;
    int32_t *y = lt_alloc((size_t)B * sizeof(int32_t));
    double *times = calloc((size_t)(warmup + steps), sizeof(double));
    float *rows = NULL;
    lt_box *boxes = NULL;
    uint32_t *start = NULL;
    size_t nbox = 0;
    int rc = 1;
    if (!x || !y || !times) {
        lt_err_set(&err, LT_ERR_NOMEM, "out of memory for a %d x %d batch", T, B);
        goto fail;
    }
    if (lt_net_create(&net, &nc, &err))
        goto fail;
    lt_net_init(net, seed);
    if (weights && lt_net_load(net, weights, &err))
        goto fail;
    int K = lt_net_classes(net);
    dO = lt_alloc((size_t)T * B * K * sizeof(float));
    if (!dO) {
        lt_err_set(&err, LT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    lt_rng rng;
    lt_rng_seed(&rng, seed + 1);
    if (input) {
        if (lt_st_read(&xf, input, &err))
            goto fail;
        const lt_st_tensor *xt = lt_st_find(&xf, "x");
        if (!xt || xt->ndim != 5 || xt->shape[0] != B || xt->shape[1] != T || (size_t)xt->numel != nx) {
            lt_err_set(&err, LT_ERR_SHAPE, "%s: needs x of shape [%d, %d, %d, %d, %d]", input, B, T, shape[0],
                       shape[1], shape[2]);
            goto fail;
        }
        float *xbt = malloc(nx * sizeof(float));
        if (!xbt || lt_st_get_f32(&xf, "x", xbt, nx, &err)) {
            free(xbt);
            goto fail;
        }
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                memcpy(x + ((size_t)t * B + b) * frame, xbt + ((size_t)b * T + t) * frame, frame * sizeof(float));
        free(xbt);
    } else {
        for (size_t i = 0; i < nx; i++)
            x[i] = lt_rng_uniform(&rng) < density ? 1.0f : 0.0f;
    }
    for (int b = 0; b < B; b++)
        y[b] = (int32_t)lt_rng_below(&rng, (uint32_t)K);
    /* labels from the file when it has them (float y [B]): the PyTorch side of
     * bench/bench_vs_torch.py reads the same ones */
    const lt_st_tensor *yt = input ? lt_st_find(&xf, "y") : NULL;
    if (yt && (size_t)yt->numel == (size_t)B) {
        float *yf = malloc((size_t)B * sizeof(float));
        int bad = !yf || lt_st_get_f32(&xf, "y", yf, (size_t)B, &err);
        for (int b = 0; !bad && b < B; b++) {
            if (!(yf[b] >= 0 && yf[b] < K)) {
                lt_err_set(&err, LT_ERR_SHAPE, "%s: label y[%d] = %g is not a class in 0..%d", input, b, yf[b], K - 1);
                bad = 1;
            } else {
                y[b] = (int32_t)yf[b];
            }
        }
        free(yf);
        if (bad)
            goto fail;
    }
    if (det_loss) {
        /* the batch file's boxes (the PyTorch side of bench/bench_vs_torch.py reads the same), else random ones */
        const lt_st_tensor *bt = input ? lt_st_find(&xf, "boxes") : NULL;
        if (bt && (bt->ndim != 2 || bt->shape[1] != 6)) {
            lt_err_set(&err, LT_ERR_SHAPE, "%s: boxes must be [Nbox, 6] rows (b, class, cx, cy, w, h)", input);
            goto fail;
        }
        size_t cap = bt ? (size_t)bt->shape[0] : (size_t)B * 4;
        rows = malloc((cap * 6 + 1) * sizeof *rows);
        boxes = malloc((cap + 1) * sizeof *boxes);
        start = malloc(((size_t)B + 1) * sizeof *start);
        if (!rows || !boxes || !start) {
            lt_err_set(&err, LT_ERR_NOMEM, "out of memory for %zu boxes", cap);
            goto fail;
        }
        if (bt) {
            nbox = cap;
            if (nbox && lt_st_get_f32(&xf, "boxes", rows, nbox * 6, &err))
                goto fail;
        } else {
            nbox = random_rows(rows, B, dc.C, &rng);
        }
        if (lt_det_rows_to_boxes(boxes, start, rows, nbox, B, dc.C, &err))
            goto fail;
    }
    if (train) {
        lt_optim_config oc;
        lt_optim_config_default(&oc);
        if (lt_optim_create(&opt, net, &oc, &err) ||
            (det_loss ? lt_head_detect(&head, net, &dc, &err) : lt_head_classify(&head, net, 0.45f, 1, &err)))
            goto fail;
    }
    lt_targets tg = {.b = B, .labels = y, .boxes = boxes, .box_start = start};
    double density_in = 0;
    for (size_t i = 0; i < nx; i++)
        density_in += x[i] != 0;
    density_in /= (double)nx;
    for (int i = 0; i < warmup + steps; i++) {
        double t0 = lt_time_s();
        if (train) {
            const float *O = lt_net_forward(net, x, B, 1);
            lt_head_loss(head, dO, O, &tg, NULL);
            lt_net_zero_grad(net);
            lt_net_backward(net, dO);
            lt_optim_step(opt);
        } else {
            lt_net_forward(net, x, B, 0);
        }
        times[i] = lt_time_s() - t0;
    }
    double *tm = times + warmup, mn = tm[0], mx = tm[0];
    for (int i = 0; i < steps; i++)
        mn = tm[i] < mn ? tm[i] : mn, mx = tm[i] > mx ? tm[i] : mx;
    qsort(tm, (size_t)steps, sizeof(double), cmp_double);
    double med = steps % 2 ? tm[steps / 2] : 0.5 * (tm[steps / 2 - 1] + tm[steps / 2]);
    double macs = (double)lt_net_macs(net) * B * T, flops = (train ? 6 : 2) * macs;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char m[4096];
    lt_net_expanded_model(net, m, sizeof m);
    printf("{\"impl\": \"ltsnn\", \"arch\": \"%s\", \"model\": \"%s\", \"what\": \"%s\", \"T\": %d, \"B\": %d, "
           "\"hw\": %d, \"threads\": %d, \"params\": %zu, \"fwd_MACs_per_frame\": %zu, \"counted_GFLOP\": %.4f, "
           "\"median_s\": %.5f, \"min_s\": %.5f, \"max_s\": %.5f, \"per_sample_ms\": %.4f, \"GFLOPs\": %.2f, "
           "\"maxrss_MiB_self\": %.1f, \"input_density\": %.4f, \"mode\": \"%s\", \"window\": \"%s\", \"bn\": \"%s\", "
           "\"wbits\": %d, \"head\": \"%s%s\", \"rate\": [",
           model, m, what, T, B, shape[1], lt_get_threads(), lt_net_params(net), lt_net_macs(net), flops / 1e9, med,
           mn, mx, 1e3 * med / B, flops / med / 1e9, ru.ru_maxrss / 1024.0, density_in,
           lt_mode_name(nc.neuron.mode), lt_window_name(nc.neuron.window), nc.bn == LT_BN_TD ? "td" : "standard", wbits,
           det_loss ? "det-" : "class", det_loss ? lt_det_loss_mode_name(dc.mode) : "");
    for (int k = 0; k < lt_net_n_lif(net); k++)
        printf("%s%.4f", k ? ", " : "", lt_net_rate(net, k));
    printf("], \"vth\": [");
    for (int k = 0; k < lt_net_n_lif(net); k++)
        printf("%s%.4f", k ? ", " : "", lt_net_vth(net, k));
    printf("]}\n");
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "ltsnn bench: %s\n", err.msg);
    lt_optim_free(opt);
    lt_head_free(head);
    lt_net_free(net);
    lt_st_free(&xf);
    lt_free(x);
    lt_free(y);
    lt_free(dO);
    free(times);
    free(rows);
    free(boxes);
    free(start);
    return rc;
}
