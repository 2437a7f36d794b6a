/* cmd_map.c -- `ltsnn map GT_DIR DET_DIR`: scores detection files in the
 * Prophesee box format (`<name>_bbox.npy` arrays, either Gen1 dtype, the
 * score in class_confidence / confidence) against ground-truth box files
 * of the same names, by the Prophesee protocol (filters, +-50 ms time
 * matching) with COCO mAP as pycocotools computes it and VOC AP@0.5, so
 * any detector's output is scored by the same code as ltsnn's.  Only file
 * listing, flags and printing; the metrics are src/detect/map.c. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ltsnn.h"

#define VERB "map"
#define SUFFIX "_bbox.npy"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The *_bbox.npy names of a folder, sorted; NULL (message printed) on failure. */
static char **list_boxes(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "ltsnn %s: %s: cannot open folder: %s\n", VERB, dir, strerror(errno));
        return NULL;
    }
    size_t cap = 16;
    char **v = malloc(cap * sizeof *v);
    *n = 0;
    struct dirent *e;
    while (v && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l <= strlen(SUFFIX) || strcmp(e->d_name + l - strlen(SUFFIX), SUFFIX))
            continue;
        if (*n == cap) {
            char **w = realloc(v, 2 * cap * sizeof *v);
            if (!w) {
                for (size_t k = 0; k < *n; k++)
                    free(v[k]);
                free(v);
                v = NULL;
                break;
            }
            v = w, cap *= 2;
        }
        v[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (!v)
        fprintf(stderr, "ltsnn %s: out of memory listing %s\n", VERB, dir);
    else
        qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static void free_list(char **v, size_t n)
{
    for (size_t k = 0; v && k < n; k++)
        free(v[k]);
    free(v);
}

lt_map_box *cli_map_load(const char *path, size_t *n, lt_err *err)
{
    lt_gen1_boxes b;
    if (lt_gen1_boxes_read(&b, path, err))
        return NULL;
    lt_map_box *m = malloc((b.n ? b.n : 1) * sizeof *m);
    if (!m) {
        lt_err_set(err, LT_ERR_NOMEM, "%s: cannot allocate %zu boxes", path, b.n);
    } else {
        for (size_t k = 0; k < b.n; k++)
            m[k] = (lt_map_box){b.t[k], b.x[k], b.y[k], b.w[k], b.h[k], b.score[k],
                                b.cls[k] > INT32_MAX ? INT32_MAX : (int32_t)b.cls[k]};
        *n = b.n;
    }
    lt_gen1_boxes_free(&b);
    return m;
}

void cli_map_print_json(const lt_map_result *r, const lt_map_filter *f, int64_t tol, size_t recs)
{
    printf("{\"coco\": %.17g, \"ap50\": %.17g, \"ap75\": %.17g, \"voc\": %.17g, \"images\": %zu, \"recordings\": %zu, "
           "\"filter\": \"%s\", \"time_tol_us\": %lld, \"classes\": [", r->coco, r->ap50, r->ap75, r->voc, r->images,
           recs, f->name, (long long)tol);
    for (int c = 0; c < r->classes; c++)
        printf("%s{\"coco\": %.17g, \"ap50\": %.17g, \"voc\": %.17g, \"gt\": %zu, \"dt\": %zu}", c ? ", " : "",
               r->coco_cls[c], r->ap50_cls[c], r->voc_cls[c], r->n_gt[c], r->n_dt[c]);
    printf("]}\n");
}

void cli_map_print_table(const lt_map_result *r, const lt_map_filter *f, int64_t tol, size_t recs)
{
    printf("%zu recordings, %zu images (ground-truth time stamps after the filter), filter %s "
           "(t > %.1f s, diagonal >= %g, sides >= %g), detections within +-%lld ms\n", recs, r->images, f->name,
           f->skip_us > 0 ? (double)f->skip_us * 1e-6 : 0.0, (double)f->min_diag, (double)f->min_side,
           (long long)(tol / 1000));
    printf("  COCO mAP@[.5:.95] %.4f   AP50 %.4f   AP75 %.4f   VOC AP@0.5 %.4f\n", r->coco, r->ap50, r->ap75, r->voc);
    printf("  %-5s %-12s %8s %8s %8s %8s %8s\n", "class", "name", "GT", "dets", "COCO AP", "AP50", "VOC AP");
    for (int c = 0; c < r->classes; c++) {
        const char *name = r->classes == LT_GEN1_CLASSES ? lt_gen1_class_name(c) : "-";
        if (r->coco_cls[c] < 0)
            printf("  %-5d %-12s %8zu %8zu %8s %8s %8s\n", c, name, r->n_gt[c], r->n_dt[c], "-", "-", "-");
        else
            printf("  %-5d %-12s %8zu %8zu %8.4f %8.4f %8.4f\n", c, name, r->n_gt[c], r->n_dt[c], r->coco_cls[c],
                   r->ap50_cls[c], r->voc_cls[c]);
    }
}

int cmd_map(int argc, char **argv)
{
    const char *filter = "toolbox", *tol_s = NULL;
    int classes = LT_GEN1_CLASSES, json = 0;
    cli_opt opts[] = {
        {"--filter", CLI_STR, &filter, "toolbox (t > 0.1 s, diag >= 30, sides >= 20; default), paper (0.5 s, 30, 10) "
                                       "or none", 0, 0, 0},
        {"--time-tol", CLI_STR, &tol_s, "detections count for a GT time stamp within +- this (default 50ms)", 0, 0, 0},
        {"--classes", CLI_INT, &classes, "number of classes (default 2: Gen1's car, pedestrian)", 0, 1,
         LT_MAP_MAX_CLASSES},
        {"--json", CLI_BOOL, &json, "print one JSON line (full precision) instead of the table", 0, 0, 0},
        {0},
    };
    const char *pos[2];
    int np;
    int r = cli_parse(VERB, "GT_DIR DET_DIR [options]\n\nScores DET_DIR/NAME_bbox.npy (detections, Prophesee box "
                      "format: score = class_confidence) against\nGT_DIR/NAME_bbox.npy for every NAME in GT_DIR, "
                      "with COCO mAP@[.5:.95] (as pycocotools' COCOeval),\nAP50, AP75 and VOC AP@0.5 after the "
                      "Prophesee filters (docs/detection.md).", argc, argv, 2, opts, pos, 2, &np);
    if (r)
        return r == 1 ? 0 : r;
    if (np != 2) {
        fprintf(stderr, "ltsnn %s: give the ground-truth folder and the detection folder\n", VERB);
        return 2;
    }
    lt_err err;
    lt_map_filter f;
    if (lt_map_filter_preset(&f, filter, &err)) {
        fprintf(stderr, "ltsnn %s: --filter: %s\n", VERB, err.msg);
        return 2;
    }
    int64_t tol = 50000;
    if (tol_s && cli_parse_duration(tol_s, &tol) && strcmp(tol_s, "0")) {
        fprintf(stderr, "ltsnn %s: --time-tol %s: expected a duration such as 50ms (or 0)\n", VERB, tol_s);
        return 2;
    }
    if (tol_s && !strcmp(tol_s, "0"))
        tol = 0;
    size_t ng = 0, nd = 0;
    char **gt = list_boxes(pos[0], &ng), **dt = gt ? list_boxes(pos[1], &nd) : NULL;
    lt_map_rec *recs = gt && dt ? calloc(ng ? ng : 1, sizeof *recs) : NULL;
    int rc = 1;
    if (!recs)
        goto free_lists;
    if (ng == 0) {
        fprintf(stderr, "ltsnn %s: %s: no *%s ground-truth files\n", VERB, pos[0], SUFFIX);
        goto free_lists;
    }
    for (size_t k = 0; k < nd; k++)
        if (!bsearch(&dt[k], gt, ng, sizeof *gt, cmp_str))
            fprintf(stderr, "ltsnn %s: warning: %s/%s has no ground truth in %s; ignored\n", VERB, pos[1], dt[k],
                    pos[0]);
    for (size_t k = 0; k < ng; k++) {
        char path[4096];
        recs[k].name = gt[k];
        if (!bsearch(&gt[k], dt, nd, sizeof *dt, cmp_str)) {
            fprintf(stderr, "ltsnn %s: %s/%s has no detection file %s/%s (write an empty array for a recording "
                    "without detections)\n", VERB, pos[0], gt[k], pos[1], gt[k]);
            goto free_recs;
        }
        snprintf(path, sizeof path, "%s/%s", pos[0], gt[k]);
        if (!(recs[k].gt = cli_map_load(path, &recs[k].n_gt, &err)))
            goto fail;
        snprintf(path, sizeof path, "%s/%s", pos[1], gt[k]);
        if (!(recs[k].dt = cli_map_load(path, &recs[k].n_dt, &err)))
            goto fail;
    }
    lt_map_result res;
    if (lt_map_eval_recordings(&res, recs, ng, classes, &f, tol, &err))
        goto fail;
    if (json)
        cli_map_print_json(&res, &f, tol, ng);
    else
        cli_map_print_table(&res, &f, tol, ng);
    rc = 0;
    goto free_recs;
fail:
    fprintf(stderr, "ltsnn %s: %s\n", VERB, err.msg);
free_recs:
    for (size_t k = 0; k < ng; k++)
        free(recs[k].gt), free(recs[k].dt);
free_lists:
    free(recs);
    free_list(gt, ng);
    free_list(dt, nd);
    return rc;
}
