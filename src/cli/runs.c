/* runs.c -- run folders: one run each, never mixed (issue "never lose work").
 *
 * A folder "holds a run" when it has ltsnn's run files in it (config.json,
 * log.jsonl, best/last.safetensors, the figures).  A new run goes into a
 * new folder (runs/run-YYYYmmdd-HHMMSS, with runs/latest a link to it) or
 * into --out, which must not hold a run; --force removes a run's files
 * first (only those: notes or a script's logs beside them stay).  A
 * resumed run continues in its checkpoint's folder unless --out names
 * another one that holds no run. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ltsnn.h"

/* the files a run folder holds, and nothing else */
static int run_file(const char *name)
{
    static const char *exact[] = {"config.json", "log.jsonl", "best.safetensors", "last.safetensors"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (!strcmp(name, exact[i]))
            return 1;
    size_t n = strlen(name);
    if (!strncmp(name, "fig_", 4) && n > 4 && !strcmp(name + n - 4, ".svg"))
        return 1;
    return strstr(name, ".tmp.") != NULL; /* a temporary a killed write left */
}

/* 1: the folder holds a run (ltsnn's run files), 0: absent, empty or other files only */
static int holds_run(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int state = 0;
    struct dirent *e;
    while ((e = readdir(d)) && !state)
        state = run_file(e->d_name) && !strstr(e->d_name, ".tmp.");
    closedir(d);
    return state;
}

static int clear_run(const char *verb, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    char path[8192];
    int rc = 0;
    while ((e = readdir(d)))
        if (run_file(e->d_name)) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (unlink(path)) {
                fprintf(stderr, "ltsnn %s: --force: cannot remove %s: %s\n", verb, path, strerror(errno));
                rc = 2;
            }
        }
    closedir(d);
    return rc;
}

/* runs/latest -> the new folder's name, replaced atomically (a link made beside it, renamed over it) */
static void link_latest(const char *parent, const char *name)
{
    char link[4096], tmp[4200];
    snprintf(link, sizeof link, "%s/latest", parent);
    snprintf(tmp, sizeof tmp, "%s/.latest.tmp.%ld", parent, (long)getpid());
    unlink(tmp);
    struct stat sb;
    if (lstat(link, &sb) == 0 && !S_ISLNK(sb.st_mode)) {
        fprintf(stderr, "note: %s is a folder (from an older ltsnn), not a link; this run is in %s/%s\n", link, parent,
                name);
        return;
    }
    if (symlink(name, tmp) || rename(tmp, link)) {
        fprintf(stderr, "note: cannot point %s at %s: %s\n", link, name, strerror(errno));
        unlink(tmp);
    }
}

int cli_run_folder(const char *verb, char *out, size_t cap, const char *given, const char *resume, int force)
{
    if (resume && !given) {
        /* the checkpoint's own folder */
        const char *slash = strrchr(resume, '/');
        if (!slash)
            snprintf(out, cap, ".");
        else
            snprintf(out, cap, "%.*s", (int)(slash - resume), resume);
        return 0;
    }
    if (given) {
        snprintf(out, cap, "%s", given);
        int state = holds_run(out);
        if (state == 1 && resume) {
            /* resuming into a folder: only the checkpoint's own */
            char a[4096], b[4096];
            const char *slash = strrchr(resume, '/');
            snprintf(a, sizeof a, "%.*s", slash ? (int)(slash - resume) : 1, slash ? resume : ".");
            if (!realpath(a, b) || !realpath(out, a) || strcmp(a, b)) {
                fprintf(stderr, "ltsnn %s: --out %s holds another run; resume into the checkpoint's own folder (leave "
                        "out --out) or an empty one\n", verb, out);
                return 2;
            }
        } else if (state == 1 && !force) {
            fprintf(stderr, "ltsnn %s: --out %s already holds a run; continue it with --resume %s/last.safetensors, "
                    "start over with --force (removes its run files), or choose another folder\n", verb, out, out);
            return 2;
        } else if (state == 1 && clear_run(verb, out)) {
            return 2;
        } else if (!state && resume) {
            struct stat sb;
            if (!stat(out, &sb) && !S_ISDIR(sb.st_mode)) {
                fprintf(stderr, "ltsnn %s: --out %s is not a folder\n", verb, out);
                return 2;
            }
        }
        return 0;
    }
    /* a new folder under runs/ */
    char stamp[64];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "run-%Y%m%d-%H%M%S", &tm);
    if (mkdir("runs", 0777) && errno != EEXIST) {
        fprintf(stderr, "ltsnn %s: cannot create runs/: %s\n", verb, strerror(errno));
        return 2;
    }
    for (int n = 0; n < 1000; n++) {
        char name[96];
        if (n)
            snprintf(name, sizeof name, "%s-%d", stamp, n);
        else
            snprintf(name, sizeof name, "%s", stamp);
        snprintf(out, cap, "runs/%s", name);
        if (!mkdir(out, 0777)) {
            link_latest("runs", name);
            return 0;
        }
        if (errno != EEXIST)
            break;
    }
    fprintf(stderr, "ltsnn %s: cannot create a run folder %s: %s\n", verb, out, strerror(errno));
    return 2;
}

void cli_warn_split_file(const char *verb, const char *data)
{
    size_t n = strlen(data), k = strlen("-train.ltc");
    if (n > k && !strcmp(data + n - k, "-train.ltc"))
        fprintf(stderr, "note: --data %s names one split: there will be no test split; give the prefix (%.*s) to use "
                "%.*s-test.ltc too\n", data, (int)(n - k), data, (int)(n - k), data);
}
