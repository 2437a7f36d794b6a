/* ltsnn/plot.h -- the figures of a training run (the SVG chart writer
 * they are drawn with is in ltsnn/io.h).
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
#include "ltsnn/io.h"

#ifdef __cplusplus
extern "C" {
#endif

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
