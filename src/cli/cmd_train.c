/* cmd_train.c -- placeholder until the verb lands (replace this file). */
#include <stdio.h>
#include "cli/cli.h"
int cmd_train(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "ltsnn train: not built yet\n");
    return 2;
}
