/* progress.h -- progress display for long library calls (training, data preparation). */
#ifndef LT_CLI_PROGRESS_H
#define LT_CLI_PROGRESS_H

#include "ltsnn/train.h"

typedef struct cli_progress_ctx {
    int tty;
} cli_progress_ctx;

void cli_progress_init(cli_progress_ctx *c);
void cli_progress(void *ctx, const lt_progress *p);

#endif
