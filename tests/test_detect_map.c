/* test_detect_map.c -- the detection metrics (src/detect/map.c) on cases
 * worked out by hand: perfect detections, boxes shifted to known IoUs (one
 * exactly on a threshold), duplicates, false positives ranked first, missing
 * classes, empty frames, the 100-detection cap, the 101-point and VOC
 * interpolations, VOC's rule for a best-overlap box already taken, and the
 * Prophesee filters and time matching.  (tests/test_map.sh compares random
 * cases with an independent Python evaluator.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ltsnn.h"

static lt_map_box B(float x, float y, float w, float h, int cls, float score)
{
    return (lt_map_box){0, x, y, w, h, score, cls};
}

static lt_map_result eval1(const lt_map_box *gt, size_t ng, const lt_map_box *dt, size_t nd, int classes)
{
    lt_map_image im = {gt, ng, dt, nd};
    lt_map_result r;
    lt_err err;
    lt_status st = lt_map_eval(&r, &im, 1, classes, &err);
    CHECK(st == LT_OK, "%s", err.msg);
    return r;
}

static void test_perfect_and_shifted(void)
{
    lt_map_box gt[2] = {B(0, 0, 10, 10, 0, 0), B(50, 50, 20, 10, 1, 0)};
    lt_map_box dt[2] = {B(0, 0, 10, 10, 0, 0.9f), B(50, 50, 20, 10, 1, 0.3f)};
    lt_map_result r = eval1(gt, 2, dt, 2, 2);
    /* precision is tp / (tp + fp + eps) as in COCOeval: 1 - 2e-16 */
    CHECK(check_close(r.coco, 1, 1e-12) && check_close(r.ap50, 1, 1e-12) && check_close(r.ap75, 1, 1e-12) &&
              r.voc == 1, "perfect: %.17g %g %g %g", r.coco, r.ap50, r.ap75, r.voc);
    /* shifted by 2 in x: IoU 80/120 = 2/3, matched at .5 .55 .6 .65 (4 of 10) */
    dt[0].x = 2;
    r = eval1(gt, 1, dt, 1, 1);
    CHECK_CLOSE(r.coco, 0.4, 1e-12, "IoU 2/3");
    CHECK(check_close(r.ap50, 1, 1e-12) && r.ap75 == 0 && r.voc == 1, "IoU 2/3: AP50 %g AP75 %g VOC %g", r.ap50,
          r.ap75, r.voc);
    /* shifted by 2.5: IoU 75/125 = 0.6 exactly, the third threshold: a tie matches */
    dt[0].x = 2.5f;
    r = eval1(gt, 1, dt, 1, 1);
    CHECK_CLOSE(r.coco, 0.3, 1e-12, "IoU exactly 0.6 matches at 0.6");
    /* shifted by 5: IoU 50/150 = 1/3: nothing, not even VOC */
    dt[0].x = 5;
    r = eval1(gt, 1, dt, 1, 1);
    CHECK(r.coco == 0 && r.voc == 0, "IoU 1/3: %g %g", r.coco, r.voc);
}

static void test_duplicates_and_ranking(void)
{
    lt_map_box gt[1] = {B(0, 0, 10, 10, 0, 0)};
    /* two perfect copies: the second is a false positive ranked after the
     * hit; precision is 1 wherever recall is reached: AP 1 */
    lt_map_box d2[2] = {B(0, 0, 10, 10, 0, 0.9f), B(0, 0, 10, 10, 0, 0.8f)};
    lt_map_result r = eval1(gt, 1, d2, 2, 1);
    CHECK(check_close(r.coco, 1, 1e-12) && r.voc == 1, "duplicate after the hit: %g %g", r.coco, r.voc);
    /* a false positive ranked first: precision 1/2 at recall 1 */
    lt_map_box d3[2] = {B(30, 30, 10, 10, 0, 0.9f), B(0, 0, 10, 10, 0, 0.8f)};
    r = eval1(gt, 1, d3, 2, 1);
    CHECK_CLOSE(r.coco, 0.5, 1e-12, "FP first, COCO");
    CHECK_CLOSE(r.voc, 0.5, 1e-12, "FP first, VOC");
    /* equal scores keep their order: the same two with one score */
    d3[0].score = d3[1].score = 0.5f;
    r = eval1(gt, 1, d3, 2, 1);
    CHECK_CLOSE(r.coco, 0.5, 1e-12, "tie: the earlier (false) one ranks first");
    /* 2 GT; ranked TP, FP, TP: rc .5 .5 1, pr 1 .5 2/3 -> envelope 1 2/3 2/3;
     * COCO: 51 recall points at 1 and 50 at 2/3; VOC: .5 * 1 + .5 * 2/3 */
    lt_map_box g2[2] = {B(0, 0, 10, 10, 0, 0), B(40, 0, 10, 10, 0, 0)};
    lt_map_box d4[3] = {B(0, 0, 10, 10, 0, 0.9f), B(80, 80, 5, 5, 0, 0.8f), B(40, 0, 10, 10, 0, 0.7f)};
    r = eval1(g2, 2, d4, 3, 1);
    CHECK_CLOSE(r.coco, (51 + 50 * 2.0 / 3) / 101, 1e-12, "101-point interpolation");
    CHECK_CLOSE(r.voc, 0.5 + 0.5 * 2.0 / 3, 1e-12, "all-point interpolation");
    /* VOC: a detection whose best-overlapping GT box is already taken is a
     * false positive even when another GT box overlaps it enough; COCO gives
     * it the other box.  GT A (x 0..10), B (4..14); the first detection is
     * A, the second (1..11) overlaps A by 9/11 and B by 7/13 = 0.538. */
    lt_map_box g3[2] = {B(0, 0, 10, 10, 0, 0), B(4, 0, 10, 10, 0, 0)};
    lt_map_box d5[2] = {B(0, 0, 10, 10, 0, 0.9f), B(1, 0, 10, 10, 0, 0.8f)};
    r = eval1(g3, 2, d5, 2, 1);
    CHECK_CLOSE(r.voc, 0.5, 1e-12, "VOC: the second hits the taken A: false positive");
    CHECK_CLOSE(r.ap50, 1.0, 1e-12, "COCO at .5: the second takes B");
    CHECK_CLOSE(r.coco, (1 + 9 * 51.0 / 101) / 10, 1e-12, "COCO above .538: B stays unmatched");
}

static void test_classes_and_empty(void)
{
    /* class 1 has no GT: left out of the mean (its detections do not count) */
    lt_map_box gt[1] = {B(0, 0, 10, 10, 0, 0)};
    lt_map_box dt[2] = {B(0, 0, 10, 10, 0, 0.5f), B(50, 50, 10, 10, 1, 0.9f)};
    lt_map_result r = eval1(gt, 1, dt, 2, 2);
    CHECK(check_close(r.coco, 1, 1e-12) && r.coco_cls[1] == -1 && r.voc_cls[1] == -1 && r.n_dt[1] == 1,
          "class without GT: %g %g",
          r.coco, r.coco_cls[1]);
    /* class 1 has GT but no detections: AP 0, the mean halves */
    lt_map_box g2[2] = {B(0, 0, 10, 10, 0, 0), B(30, 30, 10, 10, 1, 0)};
    r = eval1(g2, 2, dt, 1, 2);
    CHECK(check_close(r.coco, 0.5, 1e-12) && r.coco_cls[1] == 0 && r.voc == 0.5, "class without detections: %g",
          r.coco);
    /* no GT at all: every mean is -1 */
    r = eval1(NULL, 0, dt, 2, 2);
    CHECK(r.coco == -1 && r.voc == -1 && r.ap50 == -1, "no GT: %g", r.coco);
    /* an image without GT but with a detection ranked above the hit of another image */
    lt_map_image im[3] = {{gt, 1, dt, 1}, {NULL, 0, &dt[1], 1}, {NULL, 0, NULL, 0}};
    lt_map_box fp = B(50, 50, 10, 10, 0, 0.9f);
    im[1].dt = &fp;
    lt_err err;
    CHECK(lt_map_eval(&r, im, 3, 2, &err) == LT_OK, "%s", err.msg);
    CHECK_CLOSE(r.coco, 0.5, 1e-12, "empty frame's detection is a false positive");
    CHECK(r.images == 3, "images %zu", r.images);
    /* bad input: class out of range, non-finite score */
    lt_map_box bad = B(0, 0, 1, 1, 5, 0.5f);
    im[0] = (lt_map_image){gt, 1, &bad, 1};
    CHECK(lt_map_eval(&r, im, 1, 2, &err) == LT_ERR_ARG && strstr(err.msg, "image 0 detection box 0"), "%s", err.msg);
    bad.cls = 0, bad.score = NAN;
    CHECK(lt_map_eval(&r, im, 1, 2, &err) == LT_ERR_ARG, "NaN score accepted");
}

static void test_max_dets(void)
{
    /* 101 detections in one image: 100 false ones scored above the hit:
     * COCO keeps the top 100 (the hit is cut: AP 0), VOC keeps all (1/101) */
    lt_map_box gt[1] = {B(0, 0, 10, 10, 0, 0)};
    lt_map_box *dt = malloc(101 * sizeof *dt);
    for (int k = 0; k < 100; k++)
        dt[k] = B(100 + (float)k * 20, 100, 10, 10, 0, 0.9f);
    dt[100] = B(0, 0, 10, 10, 0, 0.5f);
    lt_map_result r = eval1(gt, 1, dt, 101, 1);
    CHECK(r.coco == 0, "COCO keeps 100: %g", r.coco);
    CHECK_CLOSE(r.voc, 1.0 / 101, 1e-12, "VOC keeps all");
    free(dt);
}

static void test_prophesee(void)
{
    lt_map_filter f;
    lt_err err;
    CHECK(lt_map_filter_preset(&f, "toolbox", &err) == LT_OK && f.skip_us == 100000 && f.min_diag == 30 &&
              f.min_side == 20, "toolbox preset");
    CHECK(lt_map_filter_preset(&f, "paper", &err) == LT_OK && f.skip_us == 500000 && f.min_side == 10, "paper");
    CHECK(lt_map_filter_preset(&f, "strict", &err) == LT_ERR_ARG, "unknown preset");
    lt_map_filter_preset(&f, "toolbox", &err);
    lt_map_box b[5] = {{100000, 0, 0, 50, 50, 0, 0},  /* t not > 0.1 s: out */
                       {100001, 0, 0, 25, 25, 0, 0},  /* diagonal 35.4, sides 25: in */
                       {200000, 0, 0, 19, 50, 0, 0},  /* a side below 20: out */
                       {200000, 0, 0, 21, 21, 0, 0},  /* diagonal 29.7 < 30: out */
                       {300000, 0, 0, 20, 30, 0, 0}}; /* in */
    size_t n = lt_map_filter_apply(b, 5, &f);
    CHECK(n == 2 && b[0].t == 100001 && b[1].t == 300000, "toolbox filter kept %zu", n);
    lt_map_filter_preset(&f, "none", &err);
    lt_map_box neg = {0, 0, 0, -1, 5, 0, 0};
    CHECK(lt_map_filter_apply(&neg, 1, &f) == 1, "none keeps everything");

    /* time matching: GT at 1.0 s and 1.2 s; detections at 0.95 s (in
     * 1.0's window), 1.05 s (in it, the edge counts), 1.0501 s (in none),
     * 1.25 s (in 1.2's) */
    lt_map_box gt[2] = {{1000000, 0, 0, 40, 40, 0, 0}, {1200000, 100, 0, 40, 40, 0, 0}};
    lt_map_box dt[4] = {{950000, 0, 0, 40, 40, 0.9f, 0},
                        {1050000, 0, 0, 40, 40, 0.8f, 0},
                        {1050100, 0, 0, 40, 40, 0.95f, 0},
                        {1250000, 100, 0, 40, 40, 0.7f, 0}};
    lt_map_rec rec = {gt, 2, dt, 4, "rec"};
    lt_map_result r;
    lt_map_filter_preset(&f, "none", &err);
    CHECK(lt_map_eval_recordings(&r, &rec, 1, 2, &f, 50000, &err) == LT_OK, "%s", err.msg);
    CHECK(r.images == 2 && r.n_dt[0] == 3, "two images, 3 detections counted (the one 50.1 ms off is in none): %zu %zu",
          r.images, r.n_dt[0]);
    /* ranked: .9 hit (image 1), .8 its duplicate, .7 hit (image 2): recall
     * .5 .5 1, precision 1 .5 2/3 */
    CHECK_CLOSE(r.coco, (51 + 50 * 2.0 / 3) / 101, 1e-12, "matched within the window");
    CHECK_CLOSE(r.voc, 0.5 + 0.5 * 2.0 / 3, 1e-12, "VOC within the window");
    /* out of time order is refused, naming the recording */
    lt_map_box swapped[2] = {gt[1], gt[0]};
    rec = (lt_map_rec){swapped, 2, dt, 0, "rec7"};
    CHECK(lt_map_eval_recordings(&r, &rec, 1, 2, &f, 50000, &err) == LT_ERR_FORMAT && strstr(err.msg, "rec7") &&
              strstr(err.msg, "box 1"), "%s", err.msg);
}

int main(void)
{
    check_begin("test_detect_map");
    test_perfect_and_shifted();
    test_duplicates_and_ranking();
    test_classes_and_empty();
    test_max_dets();
    test_prophesee();
    return check_done();
}
