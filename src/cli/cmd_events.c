/* cmd_events.c -- placeholder until the verb lands (replace this file). */
#include <stdio.h>
#include "cli/cli.h"
int cmd_events(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "ltsnn events: not built yet\n");
    return 2;
}
