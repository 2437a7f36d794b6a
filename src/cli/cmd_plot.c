/* cmd_plot.c -- `ltsnn plot RUN_DIR [--out DIR]`: draw a training run's
 * figures (accuracy and thresholds, surrogate gradients, firing rates) as
 * SVG files from its log.jsonl and config.json (lt_plot_run). */
#include <stdio.h>

#include "cli/cli.h"
#include "ltsnn.h"
#include "ltsnn/plot.h"

int cmd_plot(int argc, char **argv)
{
    const char *out = NULL;
    cli_opt opts[] = {
        {"--out", CLI_STR, &out, "directory for the figures (default: RUN_DIR; created if missing)", 0, 0, 0},
        {0},
    };
    const char *pos[1];
    int n_pos = 0;
    int rc = cli_parse("plot", "RUN_DIR [--out DIR]\n\n"
                       "Draws fig_accuracy_threshold.svg (accuracy and per-layer thresholds per epoch),\n"
                       "fig_surrogate.svg (ds/du and -ds/dV at the final thresholds) and fig_rate.svg\n"
                       "(firing rate per layer) from RUN_DIR/log.jsonl and RUN_DIR/config.json.",
                       argc, argv, 2, opts, pos, 1, &n_pos);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (n_pos != 1) {
        fprintf(stderr, "ltsnn plot: expected one RUN_DIR (ltsnn plot --help)\n");
        return 2;
    }
    lt_err err = {0};
    lt_plot_result res;
    if (lt_plot_run(pos[0], out, &res, &err)) {
        fprintf(stderr, "ltsnn plot: %s\n", err.msg);
        return 1;
    }
    for (int i = 0; i < res.n_files; i++)
        printf("wrote %s\n", res.files[i]);
    printf("%zu evaluations, %d LIF layers\n", res.n_epochs, res.n_layers);
    return 0;
}
