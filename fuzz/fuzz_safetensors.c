/* fuzz_safetensors.c -- libFuzzer harness: parse the input as a safetensors
 * checkpoint, then read every tensor as float32 and every metadata value.
 * Errors are fine; crashes, leaks, UB and hangs are bugs. */
#include <stdlib.h>
#include <string.h>

#include "ltsnn/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    lt_st_file f;
    lt_err err;
    if (lt_st_parse(&f, buf, size, "fuzz.safetensors", &err) != LT_OK)
        return 0; /* lt_st_parse owns buf and frees it on failure */
    for (size_t i = 0; i < f.n; i++) {
        const lt_st_tensor *t = &f.t[i];
        if (t->numel > (1u << 20))
            continue;
        float *dst = malloc((t->numel ? t->numel : 1) * sizeof(float));
        if (dst)
            lt_st_get_f32(&f, t->name, dst, t->numel, &err);
        free(dst);
    }
    for (size_t i = 0; i < f.n_meta; i++)
        (void)lt_st_meta(&f, f.meta_key[i]);
    lt_st_free(&f);
    return 0;
}
