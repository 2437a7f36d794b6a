/* cmd_data.c -- placeholder until the verb lands (replace this file). */
#include <stdio.h>
#include "cli/cli.h"
int cmd_data(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "ltsnn data: not built yet\n");
    return 2;
}
