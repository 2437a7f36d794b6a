/* cli.h -- what the verbs share: a flag table parser and the verb signatures.
 * The CLI is the only part of ltsnn that prints or exits. */
#ifndef LT_CLI_H
#define LT_CLI_H

#include <stdint.h>

typedef enum cli_kind { CLI_INT, CLI_U64, CLI_FLOAT, CLI_STR, CLI_BOOL, CLI_SHAPE } cli_kind;

typedef struct cli_opt {
    const char *name;   /* "--lr" */
    cli_kind kind;
    void *dst;          /* int*, uint64_t*, float*, const char**, int* (bool: set to 1), int[3] (CxHxW or HxW) */
    const char *help;
    int seen;           /* set by cli_parse */
    double lo, hi;      /* numbers: the accepted range, inclusive (lo == hi == 0: any) */
} cli_opt;

/* Flags are looked up by name, never by their index in the table. */
int cli_seen(const cli_opt *opts, const char *name);

/* Parses argv[first..argc): flags from the table (either "--x v" or "--x=v"),
 * the rest into pos[] (at most max_pos).  A number outside its flag's range
 * is an error naming the flag, the value and the range.  On error prints
 * "ltsnn VERB: ..." to stderr and returns 2; on --help (usage) or --version
 * prints and returns 1; else 0. */
int cli_parse(const char *verb, const char *usage, int argc, char **argv, int first, cli_opt *opts,
              const char **pos, int max_pos, int *n_pos);
/* "2x48x48" -> c,h,w (or "48x48" -> h,w with c = 0). Returns 0 on error. */
int cli_parse_shape(const char *s, int *c, int *h, int *w);
int cli_is_tty(int fd);

struct lt_neuron;
/* Applies --mode/--window/--reset (NULL = not given) to n and checks lam, g, alpha; prints and returns 2 on error. */
int cli_bn_flag(const char *verb, int *bn, const char *v); /* "standard" or "td"; prints and returns 2 */
int cli_default_bn(const char *model);                      /* td for resnet19, else standard */
int cli_neuron_flags(const char *verb, struct lt_neuron *n, const char *mode, const char *window, const char *reset);

/* SIGINT / SIGTERM (signals.c): by default remove the writes' temporary files
 * and exit at once; graceful (training): the first sets cli_stop, the second
 * exits at once. */
extern volatile int cli_stop;
/* The run folder of `train` (runs.c) into out: given (--out), the checkpoint's
 * folder (--resume), or a new runs/run-DATE-TIME linked as runs/latest.
 * Refuses (prints, returns 2) a folder that holds a run unless force. */
int cli_run_folder(const char *verb, char *out, size_t cap, const char *given, const char *resume, int force);
/* a note when --data names one split's file (X-train.ltc) */
void cli_warn_split_file(const char *verb, const char *data);
void cli_catch_signals(int graceful);

int cmd_info(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_grad(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_map(int argc, char **argv);
/* `ltsnn data show-gen1` (cmd_detect.c). */
int cli_show_gen1(int argc, char **argv);
/* "100ms", "0.05s", "250us" -> microseconds (> 0); 0 on success, 1 if malformed. */
int cli_parse_duration(const char *s, int64_t *us);
int cmd_export(int argc, char **argv);
struct lt_map_result;
struct lt_map_filter;
struct lt_map_box;
struct lt_err;
/* The metrics of `ltsnn map` (cmd_map.c), also printed by `ltsnn eval` on a
 * detector: a table with the filter and the classes, or one JSON line. */
void cli_map_print_table(const struct lt_map_result *r, const struct lt_map_filter *f, int64_t tol, size_t recs);
void cli_map_print_json(const struct lt_map_result *r, const struct lt_map_filter *f, int64_t tol, size_t recs);
/* A box file (either Gen1 dtype) as evaluator boxes in pixels, malloc'd;
 * NULL with err set on failure. */
struct lt_map_box *cli_map_load(const char *path, size_t *n, struct lt_err *err);
/* `ltsnn detect` (cmd_detect.c). */
int cmd_detect(int argc, char **argv);
struct lt_det_head_config;
/* The detection head's flags applied to c (NULL: not given): --grid RxC,
 * --anchors (a count found by k-means, or the values aw0,ah0,...),
 * --det-loss mean|tet, --filter toolbox|paper|none.  *kmeans gets the
 * anchor count k-means must find (0: the anchors are given); it is left
 * alone when --anchors is not given.  Prints and returns 2 on error. */
int cli_det_flags(const char *verb, struct lt_det_head_config *c, int *kmeans, const char *grid, const char *anchors,
                  const char *det_loss, const char *filter);

#endif
