/* cmd_init.c -- placeholder until the verb lands (replace this file). */
#include <stdio.h>
#include "cli/cli.h"
int cmd_init(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "ltsnn init: not built yet\n");
    return 2;
}
