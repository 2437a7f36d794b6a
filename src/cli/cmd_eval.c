/* cmd_eval.c -- placeholder until the verb lands (replace this file). */
#include <stdio.h>
#include "cli/cli.h"
int cmd_eval(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "ltsnn eval: not built yet\n");
    return 2;
}
