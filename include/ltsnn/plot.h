/* ltsnn/plot.h -- SVG line charts, and the figures of a training run.
 *
 * The chart writer (src/io/svg.c) draws a figure made of panels, each with
 * axes, "nice" ticks, labels, a legend and any number of line series (one
 * <polyline> each, so a series is one element whatever its gaps).  Files
 * are written atomically (lt_afile).  It knows nothing about training.
 *
 * lt_plot_run (src/train/plot.c) reads a run directory's log.jsonl and
 * config.json and draws the paper's figures from them:
 *   fig_accuracy_threshold.svg  accuracy and each LIF layer's threshold per epoch (paper Fig. 2)
 *   fig_surrogate.svg           ds/du and -ds/dV against u at each layer's final threshold (Fig. 4)
 *   fig_rate.svg                firing rate of each LIF layer per epoch */
#ifndef LTSNN_PLOT_H
#define LTSNN_PLOT_H

#include <stddef.h>

#include "ltsnn/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- charts ---- */
typedef struct lt_plot_series {
    const char *label;    /* legend text; NULL or "": not in the legend */
    const double *x, *y;  /* n points; a point with a non-finite x or y is left out */
    size_t n;
    int right_axis;       /* 1: drawn against the panel's right y axis */
    int dashed;
    int color;            /* palette index (10 colours, cycled); -1: the series' index */
} lt_plot_series;

typedef struct lt_plot_panel {
    const char *title, *xlabel, *ylabel;
    const char *y2label;  /* the right axis, drawn only when a series uses it */
    const lt_plot_series *series;
    size_t n_series;
    /* Axis limits: used as given when lo < hi, otherwise taken from the data
     * and widened to the nearest ticks. */
    double x_lo, x_hi, y_lo, y_hi, y2_lo, y2_hi;
} lt_plot_panel;

typedef struct lt_plot_figure {
    const char *title;    /* NULL: none */
    int width, height;    /* pixels; 0: 520 per column, 380 per row */
    int cols;             /* panels per row; 0: all in one row */
    const lt_plot_panel *panels;
    size_t n_panels;
} lt_plot_figure;

/* Writes the figure as a standalone SVG document (starts "<svg", ends
 * "</svg>\n"), atomically. */
lt_status lt_svg_write(const char *path, const lt_plot_figure *fig, lt_err *err);

/* ---- a training run's log ---- */
typedef struct lt_run_log {
    size_t n;             /* epoch records */
    int n_layers;         /* LIF layers (length of "vth" and "rate") */
    double *epoch, *train_loss, *train_acc, *test_acc, *lr, *seconds; /* [n]; NaN where absent
                                                                       * (test_acc < 0: no test set) */
    /* epoch is where the record sits in training: E for the end of epoch E,
     * E - 1 + samples / (an epoch's samples) for a "partial" record (an
     * evaluation inside epoch E, when a time budget ran out), so runs cut
     * into chunks plot at the right place */
    double *vth, *rate;   /* [n, n_layers] */
} lt_run_log;

/* Reads log.jsonl: one JSON object per line.  Blank lines and objects
 * without "epoch" are skipped; an epoch record needs "test_acc" and the
 * arrays "vth" and "rate" of one number per LIF layer, the same count on
 * every line.  Errors name the file and the 1-based line number. */
lt_status lt_run_log_read(lt_run_log *log, const char *path, lt_err *err);
void lt_run_log_free(lt_run_log *log);

#define LT_PLOT_MAX_FILES 8
typedef struct lt_plot_result {
    size_t n_epochs;
    int n_layers;
    int n_files;
    char files[LT_PLOT_MAX_FILES][4096]; /* paths written */
} lt_plot_result;

/* Draws the run's figures into out_dir (NULL: run_dir; created if missing).
 * RUN_DIR/config.json is optional: "mode", "window", "g", "alpha" default to
 * sgp, sigmoid, 1 and 0.3.  res may be NULL. */
lt_status lt_plot_run(const char *run_dir, const char *out_dir, lt_plot_result *res, lt_err *err);

#ifdef __cplusplus
}
#endif
#endif
