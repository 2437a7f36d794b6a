/* fuzz_idx.c -- libFuzzer harness: read the input as an IDX file (plain; a
 * gzip header in the input goes through zlib too), limited to a few items.
 * Errors are fine; crashes, leaks, UB and hangs are bugs. */
#include <stdio.h>
#include <unistd.h>

#include "ltsnn/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    /* a memory file system when there is one: the harness writes a file per input */
    snprintf(path, sizeof path, "%s/ltsnn-fuzz-idx-%d", access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    lt_idx a;
    lt_err err;
    if (lt_idx_read(&a, path, 64, &err) == LT_OK)
        lt_idx_free(&a);
    remove(path);
    return 0;
}
