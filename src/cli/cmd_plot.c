/* cmd_plot.c -- placeholder until the verb lands (replace this file). */
#include <stdio.h>
#include "cli/cli.h"
int cmd_plot(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "ltsnn plot: not built yet\n");
    return 2;
}
