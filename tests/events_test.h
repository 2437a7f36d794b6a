/* events_test.h -- helpers the event-file tests share (test_readers.c,
 * test_formats.c): a temporary folder, files written and read whole, and
 * comparing two event lists. */
#ifndef LT_EVENTS_TEST_H
#define LT_EVENTS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ltsnn/events.h"

static char tmpdir[64];

/* tmpdir/name (eight buffers in turn). */
static inline const char *tpath(const char *name)
{
    static char bufs[8][256];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, 256, "%s/%s", tmpdir, name);
    return b;
}

static inline void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

/* The whole file (malloc'd), or NULL. */
static inline uint8_t *read_bytes(const char *path, size_t *n)
{
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc((size_t)len + 1);
    if (d)
        *n = fread(d, 1, (size_t)len, f);
    fclose(f);
    return d;
}

static inline int same_events(const lt_events *a, const lt_events *b)
{
    return a->n == b->n && (!a->n || (!memcmp(a->t, b->t, a->n * 8) && !memcmp(a->x, b->x, a->n * 2) &&
                                      !memcmp(a->y, b->y, a->n * 2) && !memcmp(a->p, b->p, a->n)));
}

/* Decode a file (mem == NULL) or a memory block, appending to out, with
 * lt_reader_next(max = chunk); a call that gives 0 or more than chunk
 * events is an error.  sk, info: the skipped records and the header, if wanted. */
static inline lt_status decode_events(lt_events *out, lt_reader_skips *sk, lt_reader_info *info, const char *path,
                                      const void *mem, size_t mem_len, const lt_reader_opts *o, size_t chunk,
                                      lt_err *err)
{
    lt_reader *r;
    if (sk)
        memset(sk, 0, sizeof *sk);
    lt_status st = mem ? lt_reader_open_mem(&r, mem, mem_len, path, o, err) : lt_reader_open(&r, path, o, err);
    if (st)
        return st;
    if (info)
        lt_reader_get_info(r, info);
    size_t got;
    while ((st = lt_reader_next(r, out, chunk, &got, err)) == LT_OK)
        if (got == 0 || got > chunk) {
            st = LT_ERR_ARG;
            break;
        }
    if (sk)
        lt_reader_get_skips(r, sk);
    lt_reader_close(r);
    return st == LT_ERR_EOF ? LT_OK : st;
}

#endif
