/* cmd_info.c -- placeholder until the verb lands (replace this file). */
#include <stdio.h>
#include "cli/cli.h"
int cmd_info(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "ltsnn info: not built yet\n");
    return 2;
}
