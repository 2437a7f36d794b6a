/* file.c -- atomic file writes and whole-file reads.
 *
 * Every file ltsnn writes (checkpoints, logs' summaries, figures) goes
 * through lt_afile so that a crash, a full disk or a failed write never
 * leaves a half-written file where a good one used to be: the bytes go to a
 * temporary file in the same directory (rename is only atomic within one
 * file system), which is flushed, fsync'd and then renamed over the target.
 * Not for append-only streams such as log.jsonl, which grow line by line. */
#include "ltsnn/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The temporary files of the lt_afiles open in this process, so that a
 * signal handler can remove them before the process exits (lt_afile_unlink_all).
 * A slot holds a malloc'd path while its file is open; the handler only
 * reads the slots and calls unlink, both safe in a handler. */
#define LT_AFILE_SLOTS 64
static char *volatile live_tmp[LT_AFILE_SLOTS];

static void track(const char *tmp)
{
    for (int i = 0; i < LT_AFILE_SLOTS; i++)
        if (!live_tmp[i]) {
            live_tmp[i] = (char *)tmp;
            return;
        }
}

static void untrack(const char *tmp)
{
    for (int i = 0; tmp && i < LT_AFILE_SLOTS; i++)
        if (live_tmp[i] == tmp)
            live_tmp[i] = NULL;
}

void lt_afile_unlink_all(void)
{
    for (int i = 0; i < LT_AFILE_SLOTS; i++) {
        char *p = live_tmp[i];
        if (p)
            unlink(p);
    }
}

/* Creates "<path>.tmp.<pid>" exclusively; if a stale one (or another
 * thread's) is in the way, tries "<path>.tmp.<pid>.<n>".  Returns the fd or
 * -1 with errno set. */
static int create_tmp(char *tmp, size_t cap, const char *path)
{
    long pid = (long)getpid();
    for (int n = 0; n < 1000; n++) {
        int len = n == 0 ? snprintf(tmp, cap, "%s.tmp.%ld", path, pid)
                         : snprintf(tmp, cap, "%s.tmp.%ld.%d", path, pid, n);
        if (len < 0 || (size_t)len >= cap) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

lt_status lt_afile_open(lt_afile *a, const char *path, lt_err *err)
{
    memset(a, 0, sizeof *a);
    size_t cap = strlen(path) + 48;
    lt_status st = LT_ERR_NOMEM;
    a->path = strdup(path);
    a->tmp_path = malloc(cap);
    if (!a->path || !a->tmp_path) {
        lt_err_set(err, st, "%s: out of memory opening for writing", path);
        goto free_names;
    }
    int fd = create_tmp(a->tmp_path, cap, path);
    if (fd < 0) {
        st = lt_err_set(err, LT_ERR_IO, "%s: cannot create temporary file %s: %s", path, a->tmp_path,
                        strerror(errno));
        goto free_names;
    }
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        st = lt_err_set(err, LT_ERR_IO, "%s: fdopen: %s", path, strerror(errno));
        close(fd);
        unlink(a->tmp_path);
        goto free_names;
    }
    track(a->tmp_path);
    return LT_OK;

free_names:
    free(a->path);
    free(a->tmp_path);
    memset(a, 0, sizeof *a);
    return st;
}

/* Makes the rename itself durable.  Best effort: the new file is already in
 * place when this runs, so a failure here is not reported as one. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (!slash) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir)
            return;
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

lt_status lt_afile_commit(lt_afile *a, lt_err *err)
{
    if (!a->f)
        return lt_err_set(err, LT_ERR_ARG, "%s: commit of a file that is not open",
                          a->path ? a->path : "(null)");
    lt_status st = LT_OK;
    FILE *f = a->f;
    a->f = NULL;
    int bad_write = ferror(f);
    if (bad_write || fflush(f) != 0) {
        st = lt_err_set(err, LT_ERR_IO, "%s: write failed: %s", a->path,
                        errno ? strerror(errno) : "stream error");
        fclose(f);
        goto remove_tmp;
    }
    if (fsync(fileno(f)) != 0) {
        st = lt_err_set(err, LT_ERR_IO, "%s: fsync failed: %s", a->path, strerror(errno));
        fclose(f);
        goto remove_tmp;
    }
    if (fclose(f) != 0) {
        st = lt_err_set(err, LT_ERR_IO, "%s: close failed: %s", a->path, strerror(errno));
        goto remove_tmp;
    }
    if (rename(a->tmp_path, a->path) != 0) {
        st = lt_err_set(err, LT_ERR_IO, "%s: cannot rename %s over it: %s", a->path, a->tmp_path,
                        strerror(errno));
        goto remove_tmp;
    }
    sync_parent_dir(a->path);
    goto free_names;

remove_tmp:
    unlink(a->tmp_path);
free_names:
    untrack(a->tmp_path);
    free(a->path);
    free(a->tmp_path);
    a->path = a->tmp_path = NULL;
    return st;
}

void lt_afile_abort(lt_afile *a)
{
    if (a->f) {
        fclose(a->f);
        a->f = NULL;
        unlink(a->tmp_path);
    }
    untrack(a->tmp_path);
    free(a->path);
    free(a->tmp_path);
    a->path = a->tmp_path = NULL;
}

lt_status lt_write_file(const char *path, const void *data, size_t n, lt_err *err)
{
    lt_afile a;
    lt_status st = lt_afile_open(&a, path, err);
    if (st)
        return st;
    if (n && fwrite(data, 1, n, a.f) != n) {
        st = lt_err_set(err, LT_ERR_IO, "%s: write of %zu bytes failed: %s", path, n, strerror(errno));
        lt_afile_abort(&a);
        return st;
    }
    return lt_afile_commit(&a, err);
}

lt_status lt_read_file(const char *path, void **out, size_t *out_len, size_t max_len, lt_err *err)
{
    lt_status st = LT_OK;
    char *buf = NULL;
    *out = NULL;
    *out_len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return lt_err_set(err, LT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        st = lt_err_set(err, LT_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto close_file;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = lt_err_set(err, LT_ERR_IO, "%s: not a regular file", path);
        goto close_file;
    }
    if (sb.st_size < 0 || (uint64_t)sb.st_size >= SIZE_MAX ||
        (max_len && (uint64_t)sb.st_size > max_len)) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: file is %lld bytes, more than the %zu allowed", path,
                        (long long)sb.st_size, max_len ? max_len : SIZE_MAX - 1);
        goto close_file;
    }
    size_t len = (size_t)sb.st_size;
    buf = malloc(len + 1);
    if (!buf) {
        st = lt_err_set(err, LT_ERR_NOMEM, "%s: cannot allocate %zu bytes to read it", path, len + 1);
        goto close_file;
    }
    size_t got = fread(buf, 1, len, f);
    if (got != len || ferror(f)) {
        st = lt_err_set(err, LT_ERR_IO, "%s: read %zu of %zu bytes: %s", path, got, len,
                        ferror(f) ? strerror(errno) : "file shrank while reading");
        goto free_buf;
    }
    buf[len] = 0;
    *out = buf;
    *out_len = len;
    goto close_file;

free_buf:
    free(buf);
close_file:
    fclose(f);
    return st;
}
