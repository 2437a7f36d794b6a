/* fuzz_cache.c -- libFuzzer harness for the frame cache reader
 * (lt_cache_open): the input as it is, and once more with its file-size
 * field and CRC-32 trailer made to agree with it, so that mutations reach
 * the checks behind the checksum.  A cache that opens is then read back
 * (every sample unpacked, when small enough).  Errors are fine; crashes,
 * leaks, UB and hangs are bugs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ltsnn/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_open(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    if (size)
        fwrite(data, 1, size, f);
    fclose(f);
    lt_dataset d;
    lt_err err;
    if (lt_cache_open(&d, path, &err) == LT_OK) {
        size_t frame = (size_t)d.Ts * (size_t)d.C * (size_t)d.H * (size_t)d.W;
        float *x = frame <= ((size_t)1 << 20) ? malloc(frame * sizeof *x) : NULL;
        for (size_t i = 0; x && i < d.n && i < 64; i++) {
            lt_dataset_get(&d, i, x, d.Ts, 1, 0);
            volatile int32_t y = d.labels[i];
            (void)y;
        }
        free(x);
        lt_dataset_free(&d);
    }
    remove(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    /* a memory file system when there is one: the harness writes a file per input */
    snprintf(path, sizeof path, "%s/ltsnn-fuzz-cache-%d.ltc", access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm",
             (int)getpid());
    try_open(path, data, size);
    if (size < 152 + 4)
        return 0;
    uint8_t *m = malloc(size);
    if (!m)
        return 0;
    memcpy(m, data, size);
    uint64_t len = size;
    for (int i = 0; i < 8; i++)
        m[72 + i] = (uint8_t)(len >> (8 * i));
    uint32_t crc = (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), m, size - 4);
    for (int i = 0; i < 4; i++)
        m[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    try_open(path, m, size);
    free(m);
    return 0;
}
