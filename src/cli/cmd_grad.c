/* cmd_grad.c -- placeholder until the verb lands (replace this file). */
#include <stdio.h>
#include "cli/cli.h"
int cmd_grad(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "ltsnn grad: not built yet\n");
    return 2;
}
