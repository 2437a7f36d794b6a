/* rsrc.h -- private: a read-only, random-access byte source over a regular
 * file (pread on a descriptor) or over a caller's memory block.
 *
 * The event readers and the .npy reader pull fixed-size blocks through this
 * so that the same decoding code runs on files and on fuzzer inputs.  The
 * size is taken once at open; every read is bounded by it.  Not for writing,
 * and not for pipes (readers seek back over headers). */
#ifndef LT_IO_RSRC_H
#define LT_IO_RSRC_H

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ltsnn/core.h"

typedef struct lt_rsrc {
    int fd;             /* -1 for a memory source */
    const uint8_t *mem; /* memory source, borrowed */
    uint64_t size;      /* bytes, fixed at open */
    char *name;         /* file name for messages (owned) */
} lt_rsrc;

static inline char *lt_rsrc_strdup_(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static inline lt_status lt_rsrc_open(lt_rsrc *s, const char *path, lt_err *err)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lt_err_set(err, LT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return lt_err_set(err, LT_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lt_err_set(err, LT_ERR_IO, "%s: not a regular file", path);
    }
    s->name = lt_rsrc_strdup_(path);
    if (!s->name) {
        close(fd);
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", path);
    }
    s->fd = fd;
    s->size = (uint64_t)st.st_size;
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    return LT_OK;
}

static inline lt_status lt_rsrc_open_mem(lt_rsrc *s, const void *mem, size_t len, const char *name, lt_err *err)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->mem = mem;
    s->size = len;
    s->name = lt_rsrc_strdup_(name ? name : "<memory>");
    if (!s->name)
        return lt_err_set(err, LT_ERR_NOMEM, "%s: out of memory", name ? name : "<memory>");
    return LT_OK;
}

/* Read exactly n bytes at off (the caller has checked off + n <= size). */
static inline lt_status lt_rsrc_read(const lt_rsrc *s, uint64_t off, void *dst, size_t n, lt_err *err)
{
    if (off > s->size || n > s->size - off)
        return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %llu: expected %zu more bytes, the file has %llu",
                          s->name, (unsigned long long)off, n, (unsigned long long)s->size);
    if (s->fd < 0) {
        if (n)
            memcpy(dst, s->mem + off, n);
        return LT_OK;
    }
    uint8_t *d = dst;
    while (n) {
        ssize_t k = pread(s->fd, d, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return lt_err_set(err, LT_ERR_IO, "%s: read at byte %llu failed: %s", s->name,
                              (unsigned long long)off, strerror(errno));
        if (k == 0)
            return lt_err_set(err, LT_ERR_IO, "%s: file shrank while reading (byte %llu)", s->name,
                              (unsigned long long)off);
        d += k, off += (uint64_t)k, n -= (size_t)k;
    }
    return LT_OK;
}

static inline void lt_rsrc_close(lt_rsrc *s)
{
    if (s->fd >= 0)
        close(s->fd);
    free(s->name);
    memset(s, 0, sizeof *s);
    s->fd = -1;
}

#endif
