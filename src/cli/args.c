/* args.c -- the flag parser every verb uses (cli.h). */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ltsnn.h"

int cli_is_tty(int fd) { return isatty(fd); }

int cli_parse_shape(const char *s, int *c, int *h, int *w)
{
    long v[3];
    int n = 0;
    const char *p = s;
    while (n < 3) {
        char *end;
        errno = 0;
        v[n] = strtol(p, &end, 10);
        if (end == p || errno || v[n] <= 0 || v[n] > 1 << 16)
            return 0;
        n++;
        if (*end == 0)
            break;
        if (*end != 'x' && *end != 'X')
            return 0;
        p = end + 1;
        if (n == 3)
            return 0;
    }
    if (n == 3) {
        *c = (int)v[0], *h = (int)v[1], *w = (int)v[2];
    } else if (n == 2) {
        *c = 0, *h = (int)v[0], *w = (int)v[1];
    } else {
        return 0;
    }
    return 1;
}

int cli_seen(const cli_opt *opts, const char *name)
{
    for (const cli_opt *o = opts; o && o->name; o++)
        if (!strcmp(o->name, name))
            return o->seen;
    assert(!"cli_seen: no such flag in the table");
    return 0;
}

static int has_range(const cli_opt *o) { return o->lo != 0 || o->hi != 0; }

static void range_str(char *buf, size_t len, const cli_opt *o)
{
    if (o->hi >= 1e30)
        snprintf(buf, len, ">= %g", o->lo);
    else
        snprintf(buf, len, "%g to %g", o->lo, o->hi);
}

static void print_usage(const char *verb, const char *usage, const cli_opt *opts, FILE *f)
{
    fprintf(f, "usage: ltsnn %s %s\n", verb, usage);
    if (opts && opts[0].name)
        fprintf(f, "\noptions:\n");
    for (const cli_opt *o = opts; o && o->name; o++) {
        char r[64] = "";
        if (has_range(o))
            range_str(r, sizeof r, o);
        fprintf(f, "  %-18s %s%s%s%s\n", o->name, o->help ? o->help : "", *r ? " [" : "", r, *r ? "]" : "");
    }
    fprintf(f, "  %-18s %s\n", "--version", "print the version and exit");
}

static int out_of_range(const char *verb, const cli_opt *o, double x, const char *v)
{
    if (!has_range(o) || (x >= o->lo && (x <= o->hi || o->hi >= 1e30)))
        return 0; /* hi >= 1e30: no upper bound */
    char r[64];
    range_str(r, sizeof r, o);
    fprintf(stderr, "ltsnn %s: %s %s is out of range (%s)\n", verb, o->name, v, r);
    return 1;
}

static int set_value(const char *verb, cli_opt *o, const char *v)
{
    char *end = NULL;
    errno = 0;
    switch (o->kind) {
    case CLI_INT: {
        long x = strtol(v, &end, 10);
        if (!*v || *end || errno || x < -2147483647L || x > 2147483647L)
            goto bad;
        if (out_of_range(verb, o, (double)x, v))
            return 2;
        *(int *)o->dst = (int)x;
        break;
    }
    case CLI_U64: {
        if (*v == '-')
            goto bad;
        unsigned long long x = strtoull(v, &end, 10);
        if (!*v || *end || errno)
            goto bad;
        if (out_of_range(verb, o, (double)x, v))
            return 2;
        *(uint64_t *)o->dst = (uint64_t)x;
        break;
    }
    case CLI_FLOAT: {
        float x = strtof(v, &end);
        if (!*v || *end || errno || !isfinite(x))
            goto bad;
        if (out_of_range(verb, o, (double)x, v))
            return 2;
        *(float *)o->dst = x;
        break;
    }
    case CLI_STR:
        *(const char **)o->dst = v;
        break;
    case CLI_SHAPE: {
        int *d = (int *)o->dst;
        if (!cli_parse_shape(v, &d[0], &d[1], &d[2]))
            goto bad;
        break;
    }
    case CLI_BOOL:
        break;
    }
    return 0;
bad:
    fprintf(stderr, "ltsnn %s: %s: cannot read '%s' as %s\n", verb, o->name, v,
            o->kind == CLI_INT ? "an integer" : o->kind == CLI_U64 ? "a non-negative integer"
            : o->kind == CLI_FLOAT ? "a finite number" : "a shape like 2x48x48 or 48x48");
    return 2;
}

int cli_parse(const char *verb, const char *usage, int argc, char **argv, int first, cli_opt *opts,
              const char **pos, int max_pos, int *n_pos)
{
    *n_pos = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            print_usage(verb, usage, opts, stdout);
            return 1;
        }
        if (!strcmp(a, "--version")) {
            printf("ltsnn %s\n", LTSNN_VERSION);
            return 1;
        }
        if (a[0] == '-' && a[1] == '-' && a[2]) {
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a) : strlen(a);
            cli_opt *o = NULL;
            for (cli_opt *q = opts; q && q->name; q++)
                if (strlen(q->name) == len && !strncmp(q->name, a, len))
                    o = q;
            if (!o) {
                fprintf(stderr, "ltsnn %s: unknown flag '%.*s' (ltsnn %s --help lists them)\n", verb, (int)len,
                        a, verb);
                return 2;
            }
            o->seen = 1;
            if (o->kind == CLI_BOOL) {
                if (eq) {
                    fprintf(stderr, "ltsnn %s: %s takes no value\n", verb, o->name);
                    return 2;
                }
                *(int *)o->dst = 1;
                continue;
            }
            const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) {
                fprintf(stderr, "ltsnn %s: %s needs a value\n", verb, o->name);
                return 2;
            }
            if (set_value(verb, o, v))
                return 2;
            continue;
        }
        if (*n_pos >= max_pos) {
            fprintf(stderr, "ltsnn %s: unexpected argument '%s'\n", verb, a);
            print_usage(verb, usage, opts, stderr);
            return 2;
        }
        pos[(*n_pos)++] = a;
    }
    return 0;
}
