/* ltsnn/detect.h -- object detection on event data (METHOD.md §9).
 *
 * Five parts, each described in docs/detection.md:
 *   - Gen1 (Prophesee automotive) as distributed: `_td.dat` recordings and
 *     `_bbox.npy` box files, turned into detection frame caches;
 *   - a synthetic dataset written in Gen1's own format (304 x 240);
 *   - the detection head's pure kernels: decode, loss, NMS, anchors;
 *   - COCO mAP (as pycocotools' COCOeval) and VOC AP with the Prophesee
 *     protocol (box filters, +-50 ms time matching);
 *   - drawing event frames with boxes and labels to PNG;
 *   - the detection head (an lt_head of ltsnn/head.h) over the kernels.
 * Not here: the network and the training loop (nn, train). */
#ifndef LTSNN_DETECT_H
#define LTSNN_DETECT_H

#include "ltsnn/data.h"
#include "ltsnn/head.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Gen1 box files: structured .npy arrays read by field name (METHOD.md §9)
 * ====================================================================== */

typedef enum lt_gen1_layout {
    LT_GEN1_V1 = 1, /* packed, 33 bytes: ts <u8, x y w h <f4, class_id |u1, confidence <f4, track_id <u4 */
    LT_GEN1_V2 = 2  /* 40 bytes: t <i8, x y w h <f4, class_id <u4, track_id <u4, class_confidence <f4, 4 pad */
} lt_gen1_layout;

/* Boxes of one file, structure of arrays; x, y is the top-left corner, in
 * sensor pixels; score is confidence (v1) or class_confidence (v2). */
typedef struct lt_gen1_boxes {
    size_t n;
    int64_t *t;           /* [n] microseconds */
    float *x, *y, *w, *h; /* [n] */
    uint32_t *cls;        /* [n] class_id */
    uint32_t *track;      /* [n] track_id */
    float *score;         /* [n] */
    lt_gen1_layout layout;
} lt_gen1_boxes;

/* Zeroed arrays for n boxes (one block); layout v2. */
lt_status lt_gen1_boxes_alloc(lt_gen1_boxes *b, size_t n, lt_err *err);
void lt_gen1_boxes_free(lt_gen1_boxes *b); /* safe on a zeroed struct and twice */
/* Reads either layout.  The dtype must be exactly one of the two (the same
 * field names and types, any field order, either byte order); anything else
 * -- another field, a float64 x, a 2-D array -- is refused (LT_ERR_FORMAT)
 * with the dtype found and the two expected, never misread.  A v1 ts above
 * 2^63 - 1 is refused with its record index. */
lt_status lt_gen1_boxes_read(lt_gen1_boxes *b, const char *path, lt_err *err);
/* Writes b as a `_bbox.npy` of the given layout (atomically). */
lt_status lt_gen1_boxes_write(const char *path, const lt_gen1_boxes *b, lt_gen1_layout layout, lt_err *err);
/* Ground-truth checks, first failure named by file and record index:
 * t >= 0 and never decreasing; x, y, w, h finite; w, h >= 0; class_id below
 * `classes`; a box with positive size overlaps the sensor (one lying wholly
 * outside it is an error, one partly outside is cut later). */
lt_status lt_gen1_boxes_check(const lt_gen1_boxes *b, const char *path, int sensor_w, int sensor_h, int classes,
                              lt_err *err);
/* The targets of one sample (METHOD.md §9): boxes [i0, i1) (one timestamp)
 * cut to the sensor, empty ones dropped, the last per track_id kept, as
 * fractions of the sensor, in file order.  Returns how many went to out
 * (capacity i1 - i0). */
size_t lt_gen1_targets(lt_box *out, const lt_gen1_boxes *b, size_t i0, size_t i1, int sensor_w, int sensor_h);

/* ======================================================================
 * Gen1 as distributed: ROOT/{train,val,test}/<name>_td.dat + <name>_bbox.npy
 * ====================================================================== */

#define LT_GEN1_CLASSES 2 /* car 0, pedestrian 1 */
#define LT_GEN1_SENSOR_W 304
#define LT_GEN1_SENSOR_H 240
#define LT_GEN1_SPLITS 3
const char *lt_gen1_class_name(int k);   /* "car", "pedestrian"; NULL out of range */
const char *lt_gen1_split_name(int s);   /* "train", "val", "test" */

/* One recording: its name (the file name before "_td.dat") and both paths;
 * td or bbox is NULL when that file is missing (a bad recording). */
typedef struct lt_gen1_rec {
    char *name;
    char *td, *bbox;
} lt_gen1_rec;

typedef struct lt_gen1_ds {
    size_t n[LT_GEN1_SPLITS];
    lt_gen1_rec *rec[LT_GEN1_SPLITS]; /* in natural name order (strverscmp) */
} lt_gen1_ds;

/* Lists ROOT/train, ROOT/val and ROOT/test (a missing folder is an empty
 * split; none at all is an error naming ROOT). */
lt_status lt_gen1_scan(lt_gen1_ds *ds, const char *root, lt_err *err);
void lt_gen1_ds_free(lt_gen1_ds *ds);

typedef struct lt_gen1_opts {
    int T;                /* frames per sample (default 5) */
    int H, W;             /* frame size (default 0: the sensor's) */
    int64_t window_us;    /* events in [t_l - window, t_l) (default 100000) */
    int sensor_w, sensor_h; /* default 304 x 240; a DAT header that names another size is a bad recording */
    int classes;          /* default 2 */
    lt_bin_value value;   /* binary frames (default) or counts saturated at 255 */
    int skip_bad;         /* a bad recording is skipped (on_skip) instead of stopping the conversion */
    int threads;          /* 0 = lt_get_threads() */
    /* Called on the calling thread only, in recording order. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void (*on_skip)(void *ctx, const char *path, const lt_err *why);
    void *ctx;
} lt_gen1_opts;
void lt_gen1_opts_default(lt_gen1_opts *o);

/* One sample of a recording, as lt_gen1_recording hands it over. */
typedef struct lt_gen1_sample {
    int64_t t;              /* its box timestamp t_l */
    const uint8_t *frames;  /* [T, 2, H, W]: channel 0 OFF, 1 ON; valid during the call */
    const lt_box *boxes;    /* its targets (lt_gen1_targets) */
    size_t n_boxes;
    size_t events;          /* events in its window */
} lt_gen1_sample;
typedef lt_status (*lt_gen1_sample_fn)(void *ctx, const lt_gen1_sample *s, lt_err *err);

/* Walks one recording (METHOD.md §9): the box file is read and checked
 * whole (box files are small); the events are streamed once, holding only
 * one window of them, and for each unique box timestamp t_l >= window the
 * events with t_l - window <= t < t_l become T equal-time frames (bin
 * floor((t - t_l + window) * T / window)), coordinates scaled to H x W as
 * METHOD.md §6.  Events must come in time order; an event outside the
 * sensor, time running backwards, a recording without events or boxes, or
 * a missing partner file is an error naming the file (and record index). */
lt_status lt_gen1_recording(const char *td_path, const char *bbox_path, const lt_gen1_opts *o, lt_gen1_sample_fn fn,
                            void *ctx, lt_err *err);
/* The same walk for inference (ltsnn detect), the box file optional
 * (bbox_path NULL: none): period_us 0 makes samples at the box file's time
 * stamps t_l >= window, as lt_gen1_recording; period_us > 0 at t_l =
 * window, window + period, ... while the window starts at or before the
 * last event.  Each sample's boxes are the box file's stamped t_l (after
 * lt_gen1_targets' rules), none without a box file. */
lt_status lt_gen1_recording_every(const char *td_path, const char *bbox_path, int64_t period_us, const lt_gen1_opts *o,
                                  lt_gen1_sample_fn fn, void *ctx, lt_err *err);

/* A detection cache writer for one split (name "gen1" unless given, task
 * detect, class names car/pedestrian, options text); then lt_gen1_convert
 * appends every recording of the split in order (parallel over recordings,
 * the same bytes for any thread count); *skipped counts skipped ones. */
lt_status lt_gen1_writer_open(lt_cache_writer **w, const char *path, const char *name, const lt_gen1_opts *o,
                              const char *split, lt_err *err);
lt_status lt_gen1_convert(lt_cache_writer *w, const lt_gen1_ds *ds, int split, const lt_gen1_opts *o,
                          size_t *skipped, size_t *samples, lt_err *err);

/* What a split's box files hold (ltsnn data info gen1 ROOT); reads box files
 * only.  Recordings whose box file fails lt_gen1_boxes_check are counted in
 * bad (and reported through o->on_skip). */
typedef struct lt_gen1_stats {
    size_t recs, bad;
    size_t boxes[LT_GEN1_CLASSES];
    size_t timestamps;      /* unique box timestamps, summed over recordings */
    uint64_t dat_bytes;     /* size of the _td.dat files (about 8 bytes an event) */
    double span_s;          /* last box timestamp, summed over recordings */
} lt_gen1_stats;
lt_status lt_gen1_stats_compute(lt_gen1_stats *s, const lt_gen1_ds *ds, int split, const lt_gen1_opts *o,
                                lt_err *err);

/* ======================================================================
 * The synthetic Gen1-format dataset (docs/detection.md, "Synthetic data")
 * ====================================================================== */

typedef struct lt_gen1_synth_opts {
    size_t n[LT_GEN1_SPLITS]; /* recordings per split (default 48, 12, 12) */
    double duration_s;        /* per recording (default 6) */
    int64_t box_period_us;    /* boxes every ... (default 100000) */
    int render_hz;            /* scene renders per second fed to the DVS simulator (default 100) */
    lt_gen1_layout layout;    /* box file dtype (default v2) */
    uint64_t seed;            /* default 1 */
    int threads;              /* 0 = lt_get_threads() */
    /* Called after each recording, from the worker threads but never two at once. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *ctx;
} lt_gen1_synth_opts;
void lt_gen1_synth_opts_default(lt_gen1_synth_opts *o);

/* One recording in memory: events (sorted by t, sensor 304 x 240) and its
 * boxes (t, full object extent in pixels, class, track id, confidence 1).
 * Recording i of split s has its own RNG seeded from (seed, s, i). */
lt_status lt_gen1_synth_recording(lt_events *ev, lt_gen1_boxes *boxes, const lt_gen1_synth_opts *o, int split,
                                  size_t i, lt_err *err);
/* Writes OUT/{train,val,test}/synth_<split>_<NNNN>_td.dat (DAT, Gen1's
 * header) and _bbox.npy (o->layout), folders created as needed. */
lt_status lt_gen1_synth_write(const char *out_root, const lt_gen1_synth_opts *o, lt_err *err);

/* ======================================================================
 * The detection head's kernels (METHOD.md §9)
 *
 * Head output per image: a grid of Sh x Sw cells, row-major; cell (i, j)
 * holds A slots of (tx, ty, tw, th, to), then C class logits: K = Sh * Sw *
 * (5A + C) values, cell (i, j) at (i * Sw + j) * (5A + C).  grid = {Sh, Sw};
 * anchors [A][2] = (aw, ah) in cell units.  A batch of head outputs is
 * time-major, O [T, B, K], as every ltsnn activation.
 * ====================================================================== */

typedef enum lt_det_loss_mode {
    LT_DET_LOSS_MEAN = 0, /* the loss of the time average Obar = (1/T) sum_t O_t (default) */
    LT_DET_LOSS_TET       /* the loss of each O_t, averaged over t */
} lt_det_loss_mode;

#define LT_DET_L_COORD 1.0
#define LT_DET_L_OBJ 5.0
#define LT_DET_L_NOOBJ 1.0
#define LT_DET_L_CLS 1.0
#define LT_DET_IGNORE_IOU 0.6 /* a slot whose box overlaps a GT box more than this is not pushed to 0 */
#define LT_DET_SCORE_MIN 0.01f
#define LT_DET_NMS_IOU 0.45f
#define LT_DET_MAX_DETS 100

/* The loss and what darknet's region layer logs, all per image (divided by
 * B, and by T in tet mode). */
typedef struct lt_det_parts {
    double loss;                    /* coord + obj + noobj + cls */
    double coord, obj, noobj, cls;  /* each with its weight l_* applied */
    double avg_iou;     /* IoU of each responsible slot's box with its GT box, averaged */
    double avg_obj;     /* sig(to) of responsible slots, averaged */
    double avg_noobj;   /* sig(to) of every slot, averaged */
    double avg_cls;     /* softmax probability of the true class at responsible slots, averaged */
    double recall50, recall75; /* fraction of responsible slots with IoU > 0.5 / 0.75 */
    double count;       /* responsible slots per image (the GT boxes that own a slot) */
} lt_det_parts;

/* K for a grid and A, C. */
size_t lt_det_outputs(const int grid[2], int A, int C);
/* METHOD.md §9's loss of a batch.  O [T, B, K] (time-major); image b's
 * boxes are boxes[box_start[b] .. box_start[b + 1]) (each with w, h > 0 and
 * a class below C); dO [T, B, K] is overwritten with dL/dO: in mean mode
 * dL/dObar / T at every step.  Computed in double.  The ignore rule and
 * which slot owns which box are taken as constants of O (no gradient). */
lt_det_parts lt_det_loss(float *dO, const float *O, const lt_box *boxes, const uint32_t *box_start,
                         const float *anchors, const int grid[2], int A, int C, lt_det_loss_mode mode, int T, int B);

/* The time average of image b, obar[K] = (1/T) sum_t O[t, b, :]. */
void lt_det_time_mean(float *obar, const float *O, int T, int B, int b, size_t K);

/* A detection: corners as fractions of the image, clipped to [0, 1]. */
typedef struct lt_det {
    float x0, y0, x1, y1;
    float score;
    int32_t cls;
} lt_det;

/* IoU of two corner boxes (0 when they do not overlap or one is empty). */
double lt_det_iou(const lt_det *a, const lt_det *b);
/* IoU of two sizes centred on each other (the anchor match of METHOD.md §9). */
double lt_det_iou_wh(double w0, double h0, double w1, double h1);
/* Decode one image's K outputs: every (cell, slot, class) whose score
 * sig(to) * softmax_c >= score_min, boxes clipped to the image (a box with
 * no area left is dropped).  out needs Sh * Sw * A * C entries. */
size_t lt_det_decode(lt_det *out, const float *o, const float *anchors, const int grid[2], int A, int C,
                     float score_min);
/* Non-maximum suppression in place: sorts by score (descending; ties in a
 * fixed order of the box), drops every box of the same class whose IoU
 * with a kept, higher-scoring box exceeds iou_max, keeps the first
 * keep_max.  Returns the count kept. */
size_t lt_det_nms(lt_det *d, size_t n, float iou_max, size_t keep_max);
/* decode + NMS with METHOD.md §9's settings (0.01, 0.45, 100). */
size_t lt_det_detect(lt_det *out, const float *o, const float *anchors, const int grid[2], int A, int C);

/* Anchors by k-means on box sizes (w, h in cell units, wh [n][2]) with the
 * distance 1 - IoU of centred sizes: k-means++ seeding from `seed`, Lloyd
 * iterations until no box changes cluster (at most 1000), centres the mean
 * of their boxes; anchors [A][2] sorted by area.  *avg_iou: the mean over
 * boxes of the IoU with their best anchor.  Needs n >= A. */
lt_status lt_det_anchors_kmeans(float *anchors, double *avg_iou, const float *wh, size_t n, int A, uint64_t seed,
                                lt_err *err);
/* The same on a detection dataset's boxes for a grid. */
lt_status lt_det_anchors_dataset(float *anchors, double *avg_iou, const lt_dataset *d, const int grid[2], int A,
                                 uint64_t seed, lt_err *err);
/* Checkpoint metadata (METHOD.md §9): anchors "aw0,ah0,aw1,ah1,..." and grid "6x8". */
lt_status lt_det_anchors_format(char *out, size_t cap, const float *anchors, int A, lt_err *err);
lt_status lt_det_anchors_parse(float *anchors, int A, const char *s, lt_err *err);
lt_status lt_det_grid_parse(int grid[2], const char *s, lt_err *err);

/* The targets of a batch: the boxes of samples idx[0..B) of a detection
 * dataset, one after another, into out, and start [B + 1] (the form of
 * lt_targets in head.h); returns the total.  out needs
 * lt_dataset_box_total(d, idx, B) entries (below 2^32). */
size_t lt_det_batch_boxes(lt_box *out, uint32_t *start, const lt_dataset *d, const size_t *idx, int B);
size_t lt_dataset_box_total(const lt_dataset *d, const size_t *idx, int B);
/* The batch-file form of targets (`ltsnn grad`, docs/detection.md): rows
 * [n][6] = (b, class, cx, cy, w, h), b the image (0..B-1), as fractions,
 * into out [n] sample by sample and start [B + 1]; rows of one image keep
 * their order (a later box owning the same slot replaces an earlier one),
 * whatever order the images come in.  A row whose b or class is not an
 * integer in range, whose centre lies outside [0, 1] or whose size is not
 * in (0, 1] is LT_ERR_FORMAT naming the row. */
lt_status lt_det_rows_to_boxes(lt_box *out, uint32_t *start, const float *rows, size_t n, int B, int C, lt_err *err);

/* ======================================================================
 * Metrics: COCO mAP as pycocotools' COCOeval computes bbox AP, and VOC AP
 * ====================================================================== */

/* A box for the evaluator: top-left corner and size in any unit (IoU does
 * not depend on it; the Prophesee filters expect pixels), t in
 * microseconds (used by the time matching and the filters only), score
 * for detections. */
typedef struct lt_map_box {
    int64_t t;
    float x, y, w, h;
    float score;
    int32_t cls;
} lt_map_box;

/* One image: its ground truth and detections (any order: each is ranked by
 * score, ties in the given order). */
typedef struct lt_map_image {
    const lt_map_box *gt;
    size_t n_gt;
    const lt_map_box *dt;
    size_t n_dt;
} lt_map_image;

#define LT_MAP_MAX_CLASSES 64
typedef struct lt_map_result {
    int classes;
    size_t images;
    /* means over the classes that have ground truth; -1 when none has */
    double coco, ap50, ap75; /* COCO AP@[.5:.95], @.5, @.75 (all areas, 100 detections, 101 recall points) */
    double voc;              /* VOC AP at IoU >= 0.5, all-point interpolation */
    /* per class: -1 for a class without ground truth */
    double coco_cls[LT_MAP_MAX_CLASSES], ap50_cls[LT_MAP_MAX_CLASSES], voc_cls[LT_MAP_MAX_CLASSES];
    size_t n_gt[LT_MAP_MAX_CLASSES], n_dt[LT_MAP_MAX_CLASSES];
} lt_map_result;

/* Both metrics over images (docs/detection.md states every rule).  A class
 * outside 0..classes-1 or a non-finite box or score is LT_ERR_ARG naming
 * the image and box. */
lt_status lt_map_eval(lt_map_result *r, const lt_map_image *im, size_t n, int classes, lt_err *err);

/* The Prophesee filters (METHOD.md §9): keep boxes with t > skip_us,
 * w^2 + h^2 >= min_diag^2, w >= min_side, h >= min_side (float32 arithmetic,
 * as the toolbox's numpy does). */
typedef struct lt_map_filter {
    char name[16];
    int active;         /* 0: keep every box ("none") */
    int64_t skip_us;
    float min_diag, min_side;
} lt_map_filter;
/* "toolbox" (0.1 s, 30, 20; the default), "paper" (0.5 s, 30, 10), "none". */
lt_status lt_map_filter_preset(lt_map_filter *f, const char *name, lt_err *err);
/* Keeps the boxes that pass, in order; returns the count. */
size_t lt_map_filter_apply(lt_map_box *b, size_t n, const lt_map_filter *f);

/* One recording's boxes for the Prophesee protocol: GT and detections, each
 * sorted by t (checked). */
typedef struct lt_map_rec {
    lt_map_box *gt;
    size_t n_gt;
    lt_map_box *dt;
    size_t n_dt;
    const char *name; /* for messages */
} lt_map_rec;
/* The Prophesee evaluation: filter both sides (in place), then per
 * recording one image per unique GT timestamp, holding the GT boxes of that
 * timestamp and every detection with |t_dt - t_gt| <= tol_us (the toolbox's
 * +-50 ms: tol_us 50000), images in recording order; then lt_map_eval. */
lt_status lt_map_eval_recordings(lt_map_result *r, lt_map_rec *recs, size_t n, int classes, const lt_map_filter *f,
                                 int64_t tol_us, lt_err *err);

/* ======================================================================
 * The detection head: an lt_head (ltsnn/head.h) around lt_det_loss, decode,
 * NMS and the metrics (METHOD.md §9; docs/detection.md)
 *
 * Loss: lt_det_loss in the configured mode; parts coord, obj, noobj, cls;
 * training metrics (batch means, weighted by the batch's samples) avg_iou,
 * recall50, recall75, avg_obj, avg_noobj, avg_cls as darknet's region
 * layer logs them.  Evaluation: each image's time-averaged output decoded
 * and NMS'd (lt_det_detect); images are (recording, t_l) of the targets'
 * dataset (lt_targets.ids and .data), scored by the Prophesee protocol
 * (lt_map_eval_recordings with the configured filter and +-tol): results
 * "voc" (VOC AP@0.5, the primary one), "map" (COCO mAP@[.5:.95]), "ap50",
 * "ap75", as fractions.  Checkpoint metadata: anchors "aw0,ah0,...", grid
 * "6x8", det_loss "mean" / "tet", det_filter (the filter "best" was chosen by).
 * ====================================================================== */

#define LT_DET_MAX_ANCHORS 16

typedef struct lt_det_head_config {
    int grid[2];            /* Sh, Sw (default 6 x 8) */
    int A;                  /* box slots = anchors (default 2) */
    int C;                  /* classes (default 2) */
    float anchors[2 * LT_DET_MAX_ANCHORS]; /* [A][2] (aw, ah) in cell units: set them (k-means, a flag, a checkpoint) */
    lt_det_loss_mode mode;  /* default mean */
    lt_map_filter filter;   /* evaluation (default toolbox) */
    int64_t tol_us;         /* evaluation: detections within +-tol of a GT time stamp (default 50000) */
} lt_det_head_config;

/* Defaults above; anchors zero (not valid until set). */
void lt_det_head_config_default(lt_det_head_config *c);
/* "mean" / "tet" */
const char *lt_det_loss_mode_name(lt_det_loss_mode m);
lt_status lt_det_loss_mode_parse(lt_det_loss_mode *m, const char *name, lt_err *err);
/* The head for a net whose output has K = Sh * Sw * (5A + C) values a step
 * (checked, naming both); anchors must be positive. */
lt_status lt_head_detect(lt_head **h, const lt_net *net, const lt_det_head_config *c, lt_err *err);
/* A detection head's configuration; NULL when h is another kind of head. */
const lt_det_head_config *lt_head_detect_config(const lt_head *h);
/* The last evaluation's full result (per class counts and APs); NULL when
 * h is not a detection head or has not given a result yet. */
const lt_map_result *lt_head_detect_map(const lt_head *h);
/* A detector's head settings from a checkpoint's metadata (grid, anchors,
 * det_loss; C from the net's K outputs, K <= 0: the metadata's classes): *found = 0 (and c untouched) when
 * the checkpoint has none of them (a classifier's); metadata that is
 * present but malformed or does not fit K is an error naming the file. */
lt_status lt_det_head_config_read(lt_det_head_config *c, const char *path, int K, int *found, lt_err *err);

/* ======================================================================
 * Drawing: event frames with boxes and labels, to PNG (stb_image_write)
 * ====================================================================== */

typedef struct lt_image {
    int w, h;
    uint8_t *rgb; /* [h][w][3] */
} lt_image;

#define LT_RGB(r, g, b) ((uint32_t)(r) << 16 | (uint32_t)(g) << 8 | (uint32_t)(b))
lt_status lt_image_alloc(lt_image *im, int w, int h, uint32_t background, lt_err *err);
void lt_image_free(lt_image *im);
/* Everything is clipped to the image. */
void lt_image_fill(lt_image *im, int x0, int y0, int x1, int y1, uint32_t rgb); /* [x0, x1) x [y0, y1) */
void lt_image_rect(lt_image *im, int x0, int y0, int x1, int y1, uint32_t rgb, int thick, int dashed);
/* Text in stb_easy_font's 7-pixel-high font scaled by `scale`; returns its width in pixels. */
int lt_image_text(lt_image *im, int x, int y, const char *s, uint32_t rgb, int scale);
int lt_image_text_width(const char *s, int scale);
lt_status lt_image_write_png(const lt_image *im, const char *path, lt_err *err); /* atomic */

/* A box to draw, corners as fractions of the frame; score < 0 marks ground
 * truth (solid, class name only), else a detection (dashed, name and score). */
typedef struct lt_draw_box {
    float x0, y0, x1, y1;
    int32_t cls;
    float score;
} lt_draw_box;
/* The colour ltsnn draws class k in. */
uint32_t lt_draw_class_color(int k);
/* One frame at (x, y), each pixel zoom x zoom: counts [2, H, W] (channel 0
 * OFF in blue, 1 ON in orange, brighter with more events, both: white) on
 * black, the boxes with class_names[cls] (or the number), and a caption
 * (NULL for none) along the top. */
void lt_draw_frame(lt_image *im, int x, int y, int zoom, const uint8_t *counts, int H, int W,
                   const lt_draw_box *boxes, size_t n, const char *const *class_names, int classes,
                   const char *caption);

#ifdef __cplusplus
}
#endif
#endif
