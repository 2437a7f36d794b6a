/* cmd_grad.c -- `ltsnn grad`: one forward and backward in training mode on a
 * given batch, written out tensor by tensor so that any framework can be
 * compared with ltsnn (docs/checkpoints.md).  The model comes from the
 * weights' metadata; flags given on the command line override it.  A
 * detector's checkpoint (grid and anchors in its metadata) takes detection
 * targets: boxes [Nbox, 6] = (b, class, cx, cy, w, h) in the batch file
 * (docs/detection.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ltsnn.h"

int cmd_grad(int argc, char **argv)
{
    const char *wpath = NULL, *xpath = NULL, *out = NULL, *mode = NULL, *window = NULL, *reset = NULL;
    const char *loss = "tet", *bn = NULL, *grid = NULL, *anchors = NULL, *det_loss = NULL;
    float beta = 0.45f, lam = 0, g = 0, alpha = 0;
    int detach = 0, wbits = 32;
    cli_opt opts[] = {
        {"--weights", CLI_STR, &wpath, "checkpoint with the model in its metadata", 0, 0, 0},
        {"--batch", CLI_STR, &xpath, "safetensors with x [B,T,C,H,W] float32 and y [B] int32/int64, or for a "
         "detector boxes [Nbox,6] float32 rows (b, class, cx, cy, w, h)", 0, 0, 0},
        {"--out", CLI_STR, &out, "output safetensors: loss, O [B,T,K], dO [B,T,K], parts, <name>.grad", 0, 0, 0},
        {"--mode", CLI_STR, &mode, "threshold mode (default: the checkpoint's)", 0, 0, 0},
        {"--window", CLI_STR, &window, "SGP window (default: the checkpoint's)", 0, 0, 0},
        {"--lam", CLI_FLOAT, &lam, "leak factor (default: the checkpoint's, else 0.5)", 0, 0, 1},
        {"--g", CLI_FLOAT, &g, "surrogate width (default: the checkpoint's, else 1)", 0, 1e-6, 1e30},
        {"--alpha", CLI_FLOAT, &alpha, "DSR alpha (default: the checkpoint's, else 0.3)", 0, 1e-6, 1},
        {"--reset", CLI_STR, &reset, "hard or soft (default: the checkpoint's, else hard)", 0, 0, 0},
        {"--bn", CLI_STR, &bn, "standard or td (default: the checkpoint's, else standard)", 0, 0, 0},
        {"--detach-reset", CLI_BOOL, &detach, "no gradient through the reset term", 0, 0, 0},
        {"--wbits", CLI_INT, &wbits, "conv weight bits 32, 4 or 8 (default: the checkpoint's wbits)", 0, 1, 32},
        {"--beta", CLI_FLOAT, &beta, "CE weight (default: the checkpoint's beta, else 0.45)", 0, 0, 1},
        {"--loss", CLI_STR, &loss, "tet (default) or mean", 0, 0, 0},
        {"--grid", CLI_STR, &grid, "detection: the head's cells RxC (default: the checkpoint's)", 0, 0, 0},
        {"--anchors", CLI_STR, &anchors, "detection: aw0,ah0,aw1,ah1,... in cells (default: the checkpoint's)", 0, 0,
         0},
        {"--det-loss", CLI_STR, &det_loss, "detection: mean or tet (default: the checkpoint's, else mean)", 0, 0, 0},
        {0},
    };
    const char *pos[1];
    int np;
    int r = cli_parse("grad", "--weights W.safetensors --batch X.safetensors --out G.safetensors [options]", argc,
                      argv, 2, opts, pos, 0, &np);
    if (r)
        return r == 1 ? 0 : r;
    if (strcmp(loss, "tet") && strcmp(loss, "mean")) {
        fprintf(stderr, "ltsnn grad: --loss must be tet or mean, not '%s'\n", loss);
        return 2;
    }
    if (!wpath || !xpath || !out) {
        fprintf(stderr, "ltsnn grad: --weights, --batch and --out are required (ltsnn grad --help)\n");
        return 2;
    }
    lt_err err = {0};
    lt_net_config nc = {.T = 1, .B = 1, .train = 1, .max_memory = lt_mem_available()};
    lt_neuron_default(&nc.neuron);
    char model[4096];
    if (lt_ckpt_config(&nc, model, sizeof model, wpath, &err)) {
        fprintf(stderr, "ltsnn grad: %s\n", err.msg);
        return 1;
    }
    /* flags given on the command line override the checkpoint's metadata */
    if (cli_seen(opts, "--lam"))
        nc.neuron.lam = lam;
    if (cli_seen(opts, "--g"))
        nc.neuron.g = g;
    if (cli_seen(opts, "--alpha"))
        nc.neuron.alpha = alpha;
    if (detach)
        nc.neuron.detach_reset = 1;
    if (cli_seen(opts, "--wbits"))
        nc.wbits = wbits;
    if ((r = cli_neuron_flags("grad", &nc.neuron, mode, window, reset)) || (bn && (r = cli_bn_flag("grad", &nc.bn, bn))))
        return r;
    /* a detector: its head from the metadata, flags on top */
    lt_det_head_config dc;
    lt_det_head_config_default(&dc);
    int detect = 0, kmeans = 0;
    if (lt_det_head_config_read(&dc, wpath, nc.classes, &detect, &err)) {
        fprintf(stderr, "ltsnn grad: %s\n", err.msg);
        return 1;
    }
    if (grid || anchors || det_loss) {
        if ((r = cli_det_flags("grad", &dc, &kmeans, grid, anchors, det_loss, NULL)))
            return r;
        if (kmeans) {
            fprintf(stderr, "ltsnn grad: --anchors needs the sizes aw0,ah0,... (k-means needs a training set)\n");
            return 2;
        }
        if (!detect && !anchors) {
            fprintf(stderr, "ltsnn grad: %s is not a detector's checkpoint (no anchors in its metadata): give "
                    "--anchors\n", wpath);
            return 2;
        }
        detect = 1;
        /* C from the model's outputs */
        long cells = (long)dc.grid[0] * dc.grid[1], per = nc.classes / cells;
        dc.C = (int)(per - 5L * dc.A);
        if (nc.classes % cells || dc.C < 1) {
            fprintf(stderr, "ltsnn grad: the model's %d outputs are not %dx%d cells x (5 x %d anchors + C classes)\n",
                    nc.classes, dc.grid[0], dc.grid[1], dc.A);
            return 2;
        }
    }
    if (detect && (cli_seen(opts, "--beta") || cli_seen(opts, "--loss"))) {
        fprintf(stderr, "ltsnn grad: --beta and --loss are the classification loss's; %s is a detector's (--det-loss "
                "mean|tet)\n", wpath);
        return 2;
    }

    lt_st_file xf = {0}, wf = {0};
    lt_net *net = NULL;
    float *x = NULL, *dO = NULL, *Obt = NULL, *dObt = NULL, *rows = NULL;
    int32_t *y = NULL;
    lt_box *boxes = NULL;
    uint32_t *start = NULL;
    lt_st_writer *w = NULL;
    lt_head *head = NULL;
    char (*gnames)[96] = NULL;
    int rc = 1;
    if (lt_st_read(&xf, xpath, &err))
        goto fail;
    if (!cli_seen(opts, "--beta") && !lt_st_read(&wf, wpath, &err)) {
        const char *b = lt_st_meta(&wf, "beta");
        if (b)
            beta = strtof(b, NULL);
    }
    const lt_st_tensor *xt = lt_st_find(&xf, "x"), *yt = lt_st_find(&xf, "y"), *bt = lt_st_find(&xf, "boxes");
    if (!xt || xt->ndim != 5) {
        lt_err_set(&err, LT_ERR_SHAPE, "%s: needs x [B, T, C, H, W]", xpath);
        goto fail;
    }
    if (!detect && (!yt || yt->ndim != 1 || yt->shape[0] != xt->shape[0] ||
                    (yt->dtype != LT_I32 && yt->dtype != LT_I64))) {
        lt_err_set(&err, LT_ERR_SHAPE, "%s: needs x [B, T, C, H, W] and y [B] (int32 or int64)%s", xpath,
                   bt ? " (it has boxes, but the weights are a classifier's: no grid and anchors in their metadata)"
                      : "");
        goto fail;
    }
    if (detect && (!bt || bt->ndim != 2 || bt->shape[1] != 6)) {
        lt_err_set(&err, LT_ERR_SHAPE, "%s: a detector's batch needs boxes [Nbox, 6] float32, rows (b, class, cx, cy, "
                   "w, h) (docs/detection.md)%s", xpath, bt ? "" : "; it has none");
        goto fail;
    }
    int B = (int)xt->shape[0], T = (int)xt->shape[1];
    if (xt->shape[2] != nc.in_c || xt->shape[3] != nc.in_h || xt->shape[4] != nc.in_w) {
        lt_err_set(&err, LT_ERR_SHAPE, "%s: x frames are %lldx%lldx%lld but the model's input is %dx%dx%d", xpath,
                   (long long)xt->shape[2], (long long)xt->shape[3], (long long)xt->shape[4], nc.in_c, nc.in_h,
                   nc.in_w);
        goto fail;
    }
    nc.T = T, nc.B = B;
    size_t frame = (size_t)nc.in_c * nc.in_h * nc.in_w, nx = (size_t)B * T * frame;
    float *xbt = malloc(nx * sizeof(float));
    x = lt_alloc(nx * sizeof(float));
    y = lt_alloc((size_t)B * sizeof(int32_t));
    if (!xbt || !x || !y || lt_st_get_f32(&xf, "x", xbt, nx, &err)) {
        free(xbt);
        if (!err.msg[0])
            lt_err_set(&err, LT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    /* [B, T, ...] -> time-major [T, B, ...] */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(x + ((size_t)t * B + b) * frame, xbt + ((size_t)b * T + t) * frame, frame * sizeof(float));
    free(xbt);
    for (int b = 0; !detect && b < B; b++) {
        const unsigned char *p = (const unsigned char *)yt->data + (size_t)b * lt_dtype_size(yt->dtype);
        if (yt->dtype == LT_I32) {
            int32_t v;
            memcpy(&v, p, 4);
            y[b] = v;
        } else {
            int64_t v;
            memcpy(&v, p, 8);
            y[b] = v < 0 || v > INT32_MAX ? -1 : (int32_t)v; /* out of range: refused below */
        }
    }
    size_t nbox = detect ? (size_t)bt->shape[0] : 0;
    if (detect) {
        rows = malloc((nbox * 6 + 1) * sizeof *rows);
        boxes = malloc((nbox + 1) * sizeof *boxes);
        start = calloc((size_t)B + 1, sizeof *start);
        if (!rows || !boxes || !start) {
            lt_err_set(&err, LT_ERR_NOMEM, "out of memory for %zu boxes", nbox);
            goto fail;
        }
        if (nbox && lt_st_get_f32(&xf, "boxes", rows, nbox * 6, &err))
            goto fail;
        if (lt_det_rows_to_boxes(boxes, start, rows, nbox, B, dc.C, &err)) {
            lt_err_prefix(&err, "%s: ", xpath);
            goto fail;
        }
    }
    if (lt_net_create(&net, &nc, &err) || lt_net_load(net, wpath, &err))
        goto fail;
    int K = lt_net_classes(net);
    for (int b = 0; !detect && b < B; b++)
        if (y[b] < 0 || y[b] >= K) {
            lt_err_set(&err, LT_ERR_SHAPE, "%s: y[%d] = %d is not a class of this %d-class model", xpath, b, y[b], K);
            goto fail;
        }
    if (detect ? lt_head_detect(&head, net, &dc, &err) : lt_head_classify(&head, net, beta, strcmp(loss, "mean") != 0,
                                                                          &err))
        goto fail;
    const float *O = lt_net_forward(net, x, B, 1);
    size_t nO = (size_t)T * B * K;
    dO = lt_alloc(nO * sizeof(float));
    Obt = lt_alloc(nO * sizeof(float));
    dObt = lt_alloc(nO * sizeof(float));
    if (!dO || !Obt || !dObt) {
        lt_err_set(&err, LT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    lt_targets tg = {.b = B, .labels = y, .boxes = boxes, .box_start = start};
    lt_head_stats hs = {0};
    double lossd = lt_head_loss(head, dO, O, &tg, &hs);
    /* time-major [T, B, K] -> [B, T, K], as the reference frameworks hold them */
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++) {
            memcpy(Obt + ((size_t)b * T + t) * K, O + ((size_t)t * B + b) * K, (size_t)K * sizeof(float));
            memcpy(dObt + ((size_t)b * T + t) * K, dO + ((size_t)t * B + b) * K, (size_t)K * sizeof(float));
        }
    lt_net_zero_grad(net);
    lt_net_backward(net, dO);

    float lossv = (float)lossd, parts[LT_HEAD_MAX_PARTS];
    const int np_ = head->kind->n_parts;
    for (int i = 0; i < np_; i++)
        parts[i] = (float)(hs.part[i] / B);
    int64_t s1[1] = {1}, sO[3] = {B, T, K}, sp[1] = {np_};
    w = lt_stw_new();
    int n = lt_net_n_named(net);
    gnames = calloc((size_t)n + 1, sizeof *gnames);
    if (!w || !gnames) {
        lt_err_set(&err, LT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (lt_stw_add(w, "loss", LT_F32, 1, s1, &lossv, &err) || lt_stw_add(w, "O", LT_F32, 3, sO, Obt, &err) ||
        lt_stw_add(w, "dO", LT_F32, 3, sO, dObt, &err) || lt_stw_add(w, "parts", LT_F32, 1, sp, parts, &err))
        goto fail;
    for (int i = 0; i < n; i++) {
        const lt_named *nm = lt_net_named(net, i);
        if (!nm->grad)
            continue;
        snprintf(gnames[i], sizeof gnames[0], "%s.grad", nm->name);
        if (lt_stw_add(w, gnames[i], LT_F32, nm->ndim, nm->shape, nm->grad, &err))
            goto fail;
    }
    char wb[16];
    snprintf(wb, sizeof wb, "%d", nc.wbits ? nc.wbits : 32);
    if (lt_stw_meta(w, "model", model, &err) || lt_stw_meta(w, "mode", lt_mode_name(nc.neuron.mode), &err) ||
        lt_stw_meta(w, "wbits", wb, &err) ||
        lt_stw_meta(w, "window", lt_window_name(nc.neuron.window), &err) ||
        lt_stw_meta(w, "head", head->kind->name, &err))
        goto fail;
    /* the head's own settings (a detector's anchors, grid, loss form) */
    const char *const *hm = head->kind->meta ? head->kind->meta(head) : NULL;
    for (int i = 0; hm && hm[i] && hm[i + 1]; i += 2)
        if (lt_stw_meta(w, hm[i], hm[i + 1], &err))
            goto fail;
    if (lt_stw_write(w, out, &err))
        goto fail;
    printf("loss %.7g (", lossd);
    for (int i = 0; i < np_; i++)
        printf("%s%s %.7g", i ? ", " : "", head->kind->part[i], hs.part[i] / B);
    if (detect)
        printf("); wrote %s\n", out);
    else
        printf(", Omega %.6g); wrote %s\n", lt_net_omega(net), out);
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "ltsnn grad: %s\n", err.msg);
    lt_stw_free(w);
    lt_head_free(head);
    free(gnames);
    lt_st_free(&xf);
    lt_st_free(&wf);
    lt_net_free(net);
    lt_free(x);
    lt_free(y);
    lt_free(dO);
    lt_free(Obt);
    lt_free(dObt);
    free(rows);
    free(boxes);
    free(start);
    return rc;
}
