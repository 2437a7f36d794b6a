/* det_probe.c -- can a detection cache be learned?  A probe, not the
 * yolov2 result: a small spiking net from today's engine (lt_net forward /
 * backward, Adam) trained with the detection kernels of src/detect (the
 * METHOD.md §9 loss in mean mode, anchors by k-means on the training
 * boxes), scored on the validation cache every few steps with decode + NMS
 * and both metrics (COCO mAP by pycocotools' rules, VOC AP@0.5), without
 * the Prophesee filters (every box counts).  Until the engine has a
 * detection head (issue 12) this is how the synthetic Gen1 data is checked
 * to be learnable at a given size.  Usage: sh bench/det_probe.sh --help. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ltsnn.h"

static void die(const char *what, const lt_err *err)
{
    fprintf(stderr, "det_probe: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

typedef struct args {
    const char *data, *model;
    int B, A, grid[2], threads;
    double minutes;
    long steps;         /* > 0: stop after this many steps instead of after `minutes` */
    int eval_every;
    uint64_t seed;
} args;

/* Val mAP: every sample's time-averaged head output through decode + NMS,
 * boxes in sensor pixels, one image per sample. */
static void evaluate(lt_net *net, const lt_dataset *v, const float *anchors, const args *a, int T, size_t K,
                     lt_map_result *r)
{
    const size_t frame = (size_t)v->C * (size_t)v->H * (size_t)v->W;
    const size_t cap_det = (size_t)a->grid[0] * (size_t)a->grid[1] * (size_t)a->A * 2;
    float *x = malloc((size_t)T * (size_t)a->B * frame * sizeof *x), *obar = malloc(K * sizeof *obar);
    lt_det *dets = malloc(cap_det * sizeof *dets);
    lt_map_box *gt = malloc(((size_t)v->box_start[v->n] + 1) * sizeof *gt);
    lt_map_box *dt = malloc((v->n * LT_DET_MAX_DETS + 1) * sizeof *dt);
    lt_map_image *im = malloc(v->n * sizeof *im);
    const float sw = (float)v->sensor_w, sh = (float)v->sensor_h;
    size_t ng = 0, nd = 0;
    for (size_t i0 = 0; i0 < v->n; i0 += (size_t)a->B) {
        int b = (int)(v->n - i0 < (size_t)a->B ? v->n - i0 : (size_t)a->B);
        for (int k = 0; k < b; k++)
            lt_dataset_get(v, i0 + (size_t)k, x, T, b, k);
        const float *O = lt_net_forward(net, x, b, 0);
        for (int k = 0; k < b; k++) {
            size_t i = i0 + (size_t)k;
            im[i].gt = gt + ng, im[i].dt = dt + nd;
            for (uint64_t q = v->box_start[i]; q < v->box_start[i + 1]; q++, ng++) {
                const lt_box *g = &v->boxes[q];
                gt[ng] = (lt_map_box){0, (g->cx - g->w / 2) * sw, (g->cy - g->h / 2) * sh, g->w * sw, g->h * sh, 0,
                                      g->cls};
            }
            lt_det_time_mean(obar, O, T, b, k, K);
            size_t n = lt_det_detect(dets, obar, anchors, a->grid, a->A, 2);
            for (size_t q = 0; q < n; q++, nd++)
                dt[nd] = (lt_map_box){0, dets[q].x0 * sw, dets[q].y0 * sh, (dets[q].x1 - dets[q].x0) * sw,
                                      (dets[q].y1 - dets[q].y0) * sh, dets[q].score, dets[q].cls};
            im[i].n_gt = (size_t)(v->box_start[i + 1] - v->box_start[i]);
            im[i].n_dt = n;
        }
    }
    lt_err err;
    if (lt_map_eval(r, im, v->n, 2, &err))
        die("map", &err);
    free(x), free(obar), free(dets), free(gt), free(dt), free(im);
}

int main(int argc, char **argv)
{
    args a = {NULL, "16C3-MP2-32C3-MP2-64C3-MP2-FC576", 16, 2, {6, 8}, 0, 10, 0, 100, 1};
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help")) {
            printf("usage: det_probe --data PREFIX [--model M] [--batch 16] [--minutes 10 | --steps N] "
                   "[--eval-every 100] [--seed 1] [--threads N]\nPREFIX-train.ltc and PREFIX-val.ltc: detection caches (ltsnn data "
                   "prepare gen1).  The model's last FC must have Sh*Sw*(5A+C) = 576 outputs.\n");
            return 0;
        }
        if (!v)
            die(k, NULL);
        if (!strcmp(k, "--data")) a.data = v;
        else if (!strcmp(k, "--model")) a.model = v;
        else if (!strcmp(k, "--batch")) a.B = atoi(v);
        else if (!strcmp(k, "--minutes")) a.minutes = atof(v);
        else if (!strcmp(k, "--steps")) a.steps = atol(v);
        else if (!strcmp(k, "--eval-every")) a.eval_every = atoi(v);
        else if (!strcmp(k, "--seed")) a.seed = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--threads")) a.threads = atoi(v);
        else die(k, NULL);
        i++;
    }
    if (!a.data)
        die("--data PREFIX is required", NULL);
    if (a.threads > 0)
        lt_set_threads(a.threads);
    lt_err err;
    lt_dataset tr, va;
    if (lt_cache_open_split(&tr, a.data, "train", &err) || lt_cache_open_split(&va, a.data, "val", &err))
        die(a.data, &err);
    if (tr.task != LT_TASK_DETECT || va.task != LT_TASK_DETECT || tr.classes != 2)
        die("expected two-class detection caches", NULL);
    const int T = tr.Ts;
    const size_t K = lt_det_outputs(a.grid, a.A, 2);
    float anchors[4];
    double aiou;
    if (lt_det_anchors_dataset(anchors, &aiou, &tr, a.grid, a.A, a.seed, &err))
        die("anchors", &err);
    char atxt[128];
    lt_det_anchors_format(atxt, sizeof atxt, anchors, a.A, &err);
    lt_net_config cfg = {.model = a.model, .in_c = tr.C, .in_h = tr.H, .in_w = tr.W, .classes = (int)K, .T = T,
                         .B = a.B, .train = 1};
    lt_neuron_default(&cfg.neuron);
    if (lt_neuron_set_mode(&cfg.neuron, "sgp", &err))
        die("mode", &err);
    lt_net *net;
    if (lt_net_create(&net, &cfg, &err))
        die("net", &err);
    lt_net_init(net, a.seed);
    lt_optim_config oc;
    lt_optim_config_default(&oc);
    lt_optim *opt;
    if (lt_optim_create(&opt, net, &oc, &err))
        die("optimiser", &err);
    printf("det_probe: %s, %zu train / %zu val samples %dx%dx%dx%d, model %s (%zu parameters), batch %d, "
           "anchors %s (mean IoU %.3f), grid %dx%d\n", a.data, tr.n, va.n, T, tr.C, tr.H, tr.W, a.model,
           lt_net_params(net), a.B, atxt, aiou, a.grid[0], a.grid[1]);
    fflush(stdout);
    const size_t frame = (size_t)tr.C * (size_t)tr.H * (size_t)tr.W;
    float *x = malloc((size_t)T * (size_t)a.B * frame * sizeof *x), *dO = malloc((size_t)T * (size_t)a.B * K * sizeof *dO);
    size_t *idx = malloc((size_t)a.B * sizeof *idx);
    uint32_t *perm = malloc(tr.n * sizeof *perm);
    size_t most = 0;
    for (size_t i = 0; i < tr.n; i++)
        most = tr.box_start[i + 1] - tr.box_start[i] > most ? (size_t)(tr.box_start[i + 1] - tr.box_start[i]) : most;
    lt_box *boxes = malloc(((size_t)a.B * most + 1) * sizeof *boxes);
    uint32_t *start = malloc(((size_t)a.B + 1) * sizeof *start);
    lt_rng rng;
    lt_rng_seed(&rng, a.seed);
    for (size_t i = 0; i < tr.n; i++)
        perm[i] = (uint32_t)i;
    const double t0 = lt_time_s();
    size_t pos = tr.n;
    double acc[6] = {0};
    int nacc = 0;
    for (long step = 1;; step++) {
        for (int b = 0; b < a.B; b++) {
            if (pos == tr.n)
                lt_rng_shuffle_u32(&rng, perm, tr.n), pos = 0;
            idx[b] = perm[pos++];
            lt_dataset_get(&tr, idx[b], x, T, a.B, b);
        }
        lt_det_batch_boxes(boxes, start, &tr, idx, a.B);
        const float *O = lt_net_forward(net, x, a.B, 1);
        lt_det_parts p = lt_det_loss(dO, O, boxes, start, anchors, a.grid, a.A, 2, LT_DET_LOSS_MEAN, T, a.B);
        lt_net_zero_grad(net);
        lt_net_backward(net, dO);
        lt_optim_step(opt);
        const double pv[6] = {p.loss, p.coord, p.obj, p.noobj, p.cls, p.avg_iou};
        for (int k = 0; k < 6; k++)
            acc[k] += pv[k];
        nacc++;
        const double el = lt_time_s() - t0;
        const int done = a.steps > 0 ? step >= a.steps : el > a.minutes * 60;
        if (step % a.eval_every == 0 || done) {
            lt_map_result r;
            evaluate(net, &va, anchors, &a, T, K, &r);
            printf("step %ld (%.1f epochs, %.0f s): loss %.3f (coord %.3f obj %.3f noobj %.3f cls %.3f) avg IoU %.3f | "
                   "val VOC AP50 %.4f (car %.4f ped %.4f) COCO mAP %.4f AP50 %.4f\n", step,
                   (double)step * a.B / (double)tr.n, el, acc[0] / nacc, acc[1] / nacc, acc[2] / nacc, acc[3] / nacc,
                   acc[4] / nacc, acc[5] / nacc, r.voc, r.voc_cls[0], r.voc_cls[1], r.coco, r.ap50);
            fflush(stdout);
            memset(acc, 0, sizeof acc);
            nacc = 0;
        }
        if (done)
            break;
    }
    free(x), free(dO), free(idx), free(perm), free(boxes), free(start);
    lt_optim_free(opt);
    lt_net_free(net);
    lt_dataset_free(&tr);
    lt_dataset_free(&va);
    return 0;
}
