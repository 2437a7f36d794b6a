/* test_det_head.c -- the detection head (src/detect/head.c, ltsnn/head.h):
 * its loss and gradient are lt_det_loss's in both modes, with or without
 * dL/dO asked for; the statistics it sums (parts, darknet's numbers); its
 * checkpoint metadata and lt_det_head_config_read of it; what it refuses
 * (an output size that does not fit the grid, data of the other task or
 * class count, evaluation targets without the dataset); and its evaluation
 * on hand-made outputs: a head that decodes exactly to the ground truth
 * scores 1, the wrong class 0, a box shifted to IoU 1/3 0 at VOC's 0.5,
 * the Prophesee filter drops the first 0.1 s, and a (recording, time)
 * image is scored once whatever order its samples come in.  Also the
 * batch-file form of boxes (lt_det_rows_to_boxes). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ltsnn.h"

enum { SH = 2, SW = 3, A = 2, C = 2, T = 3, BMAX = 4 };
#define K (SH * SW * (5 * A + C))

static const float anchors[2 * A] = {0.8f, 1.2f, 2.0f, 0.9f};

static lt_net *make_net(int k, lt_err *err)
{
    char model[32];
    snprintf(model, sizeof model, "FC%d", k);
    lt_net_config nc = {.model = model, .in_c = k, .in_h = 1, .in_w = 1, .classes = k, .T = T, .B = BMAX,
                        .train = 0, .max_memory = (size_t)1 << 30};
    lt_neuron_default(&nc.neuron);
    lt_net *net = NULL;
    if (lt_net_create(&net, &nc, err))
        return NULL;
    return net;
}

static void config(lt_det_head_config *c, lt_det_loss_mode mode)
{
    lt_det_head_config_default(c);
    c->grid[0] = SH, c->grid[1] = SW;
    c->A = A, c->C = C;
    memcpy(c->anchors, anchors, sizeof anchors);
    c->mode = mode;
}

static double logit(double p) { return log(p / (1 - p)); }

/* O[t, b, :] of image b: every slot silent (to = -12) except the owner of
 * each box, which decodes to exactly that box with objectness and class
 * probability near 1 (class cls_of(box), e.g. the wrong one). */
static void perfect(float *O, int B, int b, const lt_box *g, int n, int wrong_class)
{
    float o[K];
    for (int k = 0; k < K; k++)
        o[k] = 0;
    for (int cell = 0; cell < SH * SW; cell++)
        for (int a = 0; a < A; a++)
            o[cell * (5 * A + C) + 5 * a + 4] = -12;
    for (int q = 0; q < n; q++) {
        int j = (int)floor(g[q].cx * SW), i = (int)floor(g[q].cy * SH), best = 0;
        double bi = -1;
        for (int a = 0; a < A; a++) {
            double v = lt_det_iou_wh(g[q].w * SW, g[q].h * SH, anchors[2 * a], anchors[2 * a + 1]);
            if (v > bi)
                bi = v, best = a;
        }
        float *s = o + (i * SW + j) * (5 * A + C) + 5 * best;
        s[0] = (float)logit(g[q].cx * SW - j), s[1] = (float)logit(g[q].cy * SH - i);
        s[2] = (float)log(g[q].w * SW / anchors[2 * best]), s[3] = (float)log(g[q].h * SH / anchors[2 * best + 1]);
        s[4] = 12;
        float *lg = o + (i * SW + j) * (5 * A + C) + 5 * A;
        int k = wrong_class ? 1 - g[q].cls : g[q].cls;
        lg[k] = 12, lg[1 - k] = -12;
    }
    for (int t = 0; t < T; t++)
        memcpy(O + ((size_t)t * B + b) * K, o, sizeof o);
}

static void test_loss(lt_net *net)
{
    lt_err err;
    lt_box boxes[3] = {{0.45f, 0.3f, 0.6f, 0.4f, 0}, {0.2f, 0.7f, 0.25f, 0.6f, 1}, {0.52f, 0.6f, 0.5f, 0.3f, 0}};
    uint32_t start[3] = {0, 2, 3};
    float O[T * 2 * K], dO_head[T * 2 * K], dO_ref[T * 2 * K];
    lt_rng rng;
    lt_rng_seed(&rng, 11);
    for (size_t i = 0; i < sizeof O / sizeof O[0]; i++)
        O[i] = (float)(2 * lt_rng_uniform(&rng) - 1);
    for (int m = 0; m < 2; m++) {
        lt_det_head_config c;
        config(&c, m ? LT_DET_LOSS_TET : LT_DET_LOSS_MEAN);
        lt_head *h = NULL;
        CHECK(!lt_head_detect(&h, net, &c, &err), "head: %s", err.msg);
        if (!h)
            return;
        lt_targets y = {.b = 2, .boxes = boxes, .box_start = start};
        lt_head_stats s;
        memset(&s, 0, sizeof s);
        double L = lt_head_loss(h, dO_head, O, &y, &s);
        lt_det_parts p = lt_det_loss(dO_ref, O, boxes, start, anchors, c.grid, A, C, c.mode, T, 2);
        CHECK(L == p.loss, "mode %d: the head's loss %.17g is lt_det_loss's %.17g", m, L, p.loss);
        CHECK(!memcmp(dO_head, dO_ref, sizeof dO_ref), "mode %d: the head's dL/dO is lt_det_loss's", m);
        CHECK(lt_head_loss(h, NULL, O, &y, NULL) == L, "mode %d: the loss without dL/dO", m);
        CHECK(s.seen == 2, "seen %zu", s.seen);
        CHECK_CLOSE(s.loss, 2 * p.loss, 1e-12, "loss sum");
        const double parts[4] = {p.coord, p.obj, p.noobj, p.cls};
        const double metrics[6] = {p.avg_iou, p.recall50, p.recall75, p.avg_obj, p.avg_noobj, p.avg_cls};
        for (int i = 0; i < 4; i++)
            CHECK_CLOSE(s.part[i], 2 * parts[i], 1e-12, "part %s", h->kind->part[i]);
        for (int i = 0; i < 6; i++)
            CHECK_CLOSE(s.metric[i], 2 * metrics[i], 1e-12, "metric %s", h->kind->metric[i]);
        CHECK(h->kind->n_parts == 4 && !strcmp(h->kind->part[0], "coord") && !strcmp(h->kind->part[3], "cls"),
              "part names");
        CHECK(!strcmp(h->kind->metric[0], "avg_iou") && !strcmp(h->kind->metric[1], "recall50"), "metric names");
        /* the metadata a checkpoint gets */
        const char *const *meta = h->kind->meta(h);
        int seen_keys = 0;
        static const char *const want[4][2] = {{"anchors", "0.800000012,1.20000005,2,0.899999976"},
                                               {"grid", "2x3"}, {"det_loss", NULL}, {"det_filter", "toolbox"}};
        for (int i = 0; meta[i]; i += 2)
            for (int q = 0; q < 4; q++) {
                if (strcmp(meta[i], want[q][0]))
                    continue;
                seen_keys++;
                const char *v = want[q][1] ? want[q][1] : m ? "tet" : "mean";
                CHECK(!strcmp(meta[i + 1], v), "%s = %s, expected %s", meta[i], meta[i + 1], v);
            }
        CHECK(seen_keys == 4, "4 metadata keys, found %d", seen_keys);
        CHECK(lt_head_detect_config(h) && lt_head_detect_config(h)->A == A, "the config back");
        lt_head_free(h);
    }
}

/* a checkpoint with the head's metadata reads back into the same config */
static void test_meta_roundtrip(lt_net *net)
{
    lt_err err;
    lt_det_head_config c, back;
    config(&c, LT_DET_LOSS_TET);
    lt_head *h = NULL;
    if (lt_head_detect(&h, net, &c, &err)) {
        CHECK(0, "head: %s", err.msg);
        return;
    }
    char path[] = "/tmp/ltsnn-test-det-head-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "temp file");
    if (fd < 0)
        return;
    close(fd);
    CHECK(!lt_net_save(net, path, h->kind->meta(h), NULL, &err), "save: %s", err.msg);
    int found = 0;
    lt_det_head_config_default(&back);
    CHECK(!lt_det_head_config_read(&back, path, 0, &found, &err), "read: %s", err.msg);
    CHECK(found && back.grid[0] == SH && back.grid[1] == SW && back.A == A && back.C == C &&
          back.mode == LT_DET_LOSS_TET && !memcmp(back.anchors, anchors, sizeof anchors),
          "the metadata gives the config back (found %d, grid %dx%d, A %d, C %d)", found, back.grid[0], back.grid[1],
          back.A, back.C);
    /* a classifier's checkpoint: not found, not an error */
    const char *plain[] = {"seed", "1", NULL};
    CHECK(!lt_net_save(net, path, plain, NULL, &err), "save: %s", err.msg);
    CHECK(!lt_det_head_config_read(&back, path, 0, &found, &err) && !found, "a classifier's checkpoint has no head");
    /* anchors that do not fit the outputs */
    const char *bad[] = {"anchors", "1,1,2,2,3,3", "grid", "2x3", NULL};
    CHECK(!lt_net_save(net, path, bad, NULL, &err), "save: %s", err.msg);
    CHECK(lt_det_head_config_read(&back, path, 0, &found, &err) && strstr(err.msg, "not 2x3 cells") &&
          strstr(err.msg, path), "3 anchors on 72 outputs refused: %s", err.msg);
    remove(path);
    lt_head_free(h);
}

static void test_refusals(lt_net *net)
{
    lt_err err;
    lt_det_head_config c;
    config(&c, LT_DET_LOSS_MEAN);
    lt_head *h = NULL;
    c.grid[1] = 4;
    CHECK(lt_head_detect(&h, net, &c, &err) == LT_ERR_SHAPE && strstr(err.msg, "needs 96") &&
          strstr(err.msg, "has 72"), "a 2x4 grid on 72 outputs: %s", err.msg);
    config(&c, LT_DET_LOSS_MEAN);
    c.anchors[1] = 0;
    CHECK(lt_head_detect(&h, net, &c, &err) == LT_ERR_ARG && strstr(err.msg, "anchor 0"), "a zero anchor: %s",
          err.msg);
    config(&c, LT_DET_LOSS_MEAN);
    if (lt_head_detect(&h, net, &c, &err)) {
        CHECK(0, "head: %s", err.msg);
        return;
    }
    lt_dataset d;
    memset(&d, 0, sizeof d);
    strcpy(d.name, "labels");
    d.classes = 2;
    CHECK(lt_head_check_data(h, &d, "training", &err) && strstr(err.msg, "classification dataset"),
          "a classification dataset refused: %s", err.msg);
    d.task = LT_TASK_DETECT;
    d.classes = 3;
    CHECK(lt_head_check_data(h, &d, "training", &err) && strstr(err.msg, "3 classes"), "3 classes refused: %s",
          err.msg);
    d.classes = 2;
    CHECK(!lt_head_check_data(h, &d, "training", &err), "a 2-class detection dataset fits");
    /* the classification head refuses the detection dataset */
    lt_head *cls = NULL;
    if (!lt_head_classify(&cls, net, 0.45f, 1, &err)) {
        CHECK(lt_head_check_data(cls, &d, "training", &err) && strstr(err.msg, "detection dataset"),
              "the classification head refuses boxes: %s", err.msg);
        lt_head_free(cls);
    }
    /* evaluation needs the dataset the targets index */
    float O[T * K] = {0};
    lt_box b = {0.5f, 0.5f, 0.3f, 0.3f, 0};
    uint32_t start[2] = {0, 1};
    lt_targets y = {.b = 1, .boxes = &b, .box_start = start};
    lt_head_eval_reset(h);
    CHECK(lt_head_eval_add(h, O, &y, &err) && strstr(err.msg, "dataset"), "no dataset: %s", err.msg);
    lt_head_free(h);
}

/* a small detection dataset in memory: 4 samples of 2 recordings */
typedef struct mini {
    lt_dataset d;
    uint64_t box_start[5];
    lt_box boxes[5];
    uint32_t rec[4];
    int64_t t[4];
} mini;

static void mini_make(mini *m)
{
    memset(m, 0, sizeof *m);
    /* boxes large enough for the toolbox filter on a 304 x 240 sensor */
    const lt_box b[5] = {{0.30f, 0.30f, 0.30f, 0.25f, 0}, {0.70f, 0.60f, 0.20f, 0.40f, 1},
                         {0.50f, 0.50f, 0.35f, 0.30f, 0}, {0.20f, 0.70f, 0.15f, 0.45f, 1},
                         {0.75f, 0.25f, 0.30f, 0.25f, 0}};
    memcpy(m->boxes, b, sizeof b);
    const uint64_t s[5] = {0, 2, 3, 4, 5};
    memcpy(m->box_start, s, sizeof s);
    const uint32_t r[4] = {0, 0, 1, 1};
    const int64_t t[4] = {200000, 300000, 100000, 200000}; /* the third is not after the toolbox's 0.1 s */
    memcpy(m->rec, r, sizeof r);
    memcpy(m->t, t, sizeof t);
    lt_dataset *d = &m->d;
    d->n = 4, d->classes = 2, d->task = LT_TASK_DETECT;
    d->box_start = m->box_start, d->boxes = m->boxes, d->sample_rec = m->rec, d->sample_t = m->t;
    d->sensor_w = 304, d->sensor_h = 240;
    strcpy(d->name, "mini");
}

/* Evaluates samples order[0..n) of m (one batch each of b), heads as made by `shape`. */
static lt_status eval_mini(lt_head *h, const mini *m, const uint64_t *order, int n, int b, int wrong, int shift,
                           lt_eval_result *r, lt_err *err)
{
    lt_head_eval_reset(h);
    for (int i0 = 0; i0 < n; i0 += b) {
        int bb = n - i0 < b ? n - i0 : b;
        float O[T * BMAX * K];
        lt_box boxes[8];
        uint32_t start[BMAX + 1];
        uint32_t nb = 0;
        for (int j = 0; j < bb; j++) {
            uint64_t id = order[i0 + j];
            start[j] = nb;
            for (uint64_t q = m->box_start[id]; q < m->box_start[id + 1]; q++)
                boxes[nb++] = m->boxes[q];
            lt_box shown[4];
            int ns = (int)(m->box_start[id + 1] - m->box_start[id]);
            memcpy(shown, m->boxes + m->box_start[id], (size_t)ns * sizeof *shown);
            for (int q = 0; q < ns && shift; q++)
                shown[q].cx += shown[q].w / 2; /* half a width to the right: IoU 1/3 */
            perfect(O, bb, j, shown, ns, wrong);
        }
        start[bb] = nb;
        lt_targets y = {.b = bb, .boxes = boxes, .box_start = start, .ids = order + i0, .data = &m->d};
        lt_status st = lt_head_eval_add(h, O, &y, err);
        if (st)
            return st;
    }
    return lt_head_eval_result(h, r, err);
}

static void test_eval(lt_net *net)
{
    lt_err err;
    lt_det_head_config c;
    config(&c, LT_DET_LOSS_MEAN);
    lt_head *h = NULL;
    if (lt_head_detect(&h, net, &c, &err)) {
        CHECK(0, "head: %s", err.msg);
        return;
    }
    mini m;
    mini_make(&m);
    const uint64_t order[4] = {0, 1, 2, 3}, shuffled[4] = {3, 1, 0, 2};
    lt_eval_result r;
    CHECK(!eval_mini(h, &m, order, 4, 2, 0, 0, &r, &err), "eval: %s", err.msg);
    CHECK(r.n == 4 && !strcmp(r.name[0], "voc") && !strcmp(r.name[1], "map") && !strcmp(r.name[2], "ap50") &&
          !strcmp(r.name[3], "ap75"), "result names");
    CHECK(fabs(r.value[0] - 1) < 1e-12 && fabs(r.value[2] - 1) < 1e-12 && fabs(r.value[3] - 1) < 1e-12,
          "a head decoding to the ground truth: VOC %.6f AP50 %.6f AP75 %.6f", r.value[0], r.value[2], r.value[3]);
    CHECK(fabs(r.value[1] - 1) < 1e-9, "COCO mAP %.12f", r.value[1]);
    const lt_map_result *mr = lt_head_detect_map(h);
    CHECK(mr && mr->images == 3, "the toolbox filter keeps 3 of 4 images (t > 0.1 s): %zu", mr ? mr->images : 0);
    CHECK(mr && mr->n_gt[0] == 3 && mr->n_gt[1] == 1, "GT per class after the filter: %zu %zu", mr ? mr->n_gt[0] : 0,
          mr ? mr->n_gt[1] : 0);
    /* any batch size and sample order: the same images, the same result */
    lt_eval_result r2;
    CHECK(!eval_mini(h, &m, shuffled, 4, 3, 0, 0, &r2, &err), "eval: %s", err.msg);
    CHECK(!memcmp(r.value, r2.value, sizeof r.value), "shuffled samples, batches of 3: the same result");
    /* the wrong class everywhere: nothing right */
    CHECK(!eval_mini(h, &m, order, 4, 4, 1, 0, &r, &err), "eval: %s", err.msg);
    CHECK(r.value[0] == 0 && r.value[1] == 0, "the wrong class: VOC %g COCO %g", r.value[0], r.value[1]);
    /* boxes half a width off: IoU 1/3, below 0.5 */
    CHECK(!eval_mini(h, &m, order, 4, 4, 0, 1, &r, &err), "eval: %s", err.msg);
    CHECK(r.value[0] == 0, "shifted to IoU 1/3: VOC %g", r.value[0]);
    lt_head_free(h);
    /* without a filter all four images count */
    lt_map_filter_preset(&c.filter, "none", &err);
    if (!lt_head_detect(&h, net, &c, &err)) {
        CHECK(!eval_mini(h, &m, order, 4, 4, 0, 0, &r, &err), "eval: %s", err.msg);
        mr = lt_head_detect_map(h);
        CHECK(mr && mr->images == 4 && fabs(r.value[0] - 1) < 1e-12, "--filter none: %zu images",
              mr ? mr->images : 0);
        lt_head_free(h);
    }
}

static void test_rows(void)
{
    lt_err err;
    /* rows of image 1 before image 0's: per image in the given order */
    const float rows[4 * 6] = {1, 0, 0.5f, 0.5f, 0.2f, 0.2f, 0, 1, 0.1f, 0.2f, 0.3f, 0.4f,
                               1, 1, 0.9f, 0.9f, 0.1f, 0.1f, 0, 0, 1.0f, 0.0f, 0.5f, 1.0f};
    lt_box out[4];
    uint32_t start[4];
    CHECK(!lt_det_rows_to_boxes(out, start, rows, 4, 3, 2, &err), "rows: %s", err.msg);
    CHECK(start[0] == 0 && start[1] == 2 && start[2] == 4 && start[3] == 4, "starts %u %u %u %u", start[0], start[1],
          start[2], start[3]);
    CHECK(out[0].cls == 1 && out[0].cx == 0.1f && out[1].cx == 1.0f && out[2].cx == 0.5f && out[3].cx == 0.9f,
          "image 0's boxes, then image 1's, each in file order");
    float bad[6] = {0, 2, 0.5f, 0.5f, 0.2f, 0.2f};
    CHECK(lt_det_rows_to_boxes(out, start, bad, 1, 3, 2, &err) == LT_ERR_FORMAT && strstr(err.msg, "row 0: class 2"),
          "class 2 of 2: %s", err.msg);
    bad[1] = 0, bad[0] = 0.5f;
    CHECK(lt_det_rows_to_boxes(out, start, bad, 1, 3, 2, &err) && strstr(err.msg, "image 0.5"), "image 0.5: %s",
          err.msg);
    bad[0] = 0, bad[4] = 0;
    CHECK(lt_det_rows_to_boxes(out, start, bad, 1, 3, 2, &err) && strstr(err.msg, "size 0 x"), "zero width: %s",
          err.msg);
    bad[4] = NAN;
    CHECK(lt_det_rows_to_boxes(out, start, bad, 1, 3, 2, &err), "NaN width refused");
}

int main(void)
{
    check_begin("test_det_head");
    lt_err err;
    lt_net *net = make_net(K, &err);
    CHECK(net != NULL, "net: %s", err.msg);
    if (net) {
        test_loss(net);
        test_meta_roundtrip(net);
        test_refusals(net);
        test_eval(net);
        lt_net_free(net);
    }
    test_rows();
    return check_done();
}
