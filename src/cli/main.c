/* main.c -- the ltsnn command: a table of verbs, one file each (cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ltsnn.h"

typedef struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} verb;

static const verb verbs[] = {
    {"train", cmd_train, "train a model (default: a small preset on the built-in demo data)"},
    {"eval", cmd_eval, "accuracy and confusion matrix (a detector: mAP) of a checkpoint or an integer .ltq model on a dataset"},
    {"export", cmd_export, "write a --wbits 4/8 checkpoint as an integer model (.ltq) for the runtime, or any checkpoint as a "
                          "PyTorch state_dict (--torch)"},
    {"info", cmd_info, "layers, shapes, parameters and MACs of a model"},
    {"init", cmd_init, "write a freshly initialised checkpoint"},
    {"grad", cmd_grad, "one forward/backward on a given batch; writes loss, logits and gradients"},
    {"events", cmd_events, "decode an event recording: format, counts, statistics, first events"},
    {"data", cmd_data, "prepare a frame cache from a dataset folder, or describe one"},
    {"plot", cmd_plot, "draw a run directory's figures (accuracy, thresholds, surrogates)"},
    {"bench", cmd_bench, "time training and inference steps"},
    {"map", cmd_map, "COCO mAP and VOC AP of detection box files against ground-truth box files"},
    {"detect", cmd_detect, "run a detector on an event recording: boxes (Prophesee format) and pictures"},
};

static void usage(FILE *f)
{
    fprintf(f, "ltsnn %s -- spiking neural networks with learnable thresholds\n\n"
               "usage: ltsnn VERB [options]   (ltsnn VERB --help for a verb's options)\n\nverbs:\n",
            LTSNN_VERSION);
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("ltsnn %s\n", LTSNN_VERSION);
        return 0;
    }
    /* --version anywhere, on every verb and subcommand */
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--version")) {
            printf("ltsnn %s\n", LTSNN_VERSION);
            return 0;
        }
    cli_catch_signals(0);
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(argv[1], verbs[i].name))
            return verbs[i].run(argc, argv);
    fprintf(stderr, "ltsnn: unknown verb '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
