/* fuzz_model.c -- libFuzzer harness: parse the input as a model string (with
 * and without a class count) and print it back.  Errors are fine; crashes,
 * UB and hangs are bugs. */
#include <stdlib.h>
#include <string.h>

#include "ltsnn/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    lt_model_spec sp;
    lt_err err;
    char buf[8192];
    for (int classes = 0; classes <= 10; classes += 10)
        if (lt_model_parse(&sp, s, classes, &err) == LT_OK)
            lt_model_format(&sp, buf, sizeof buf);
    free(s);
    return 0;
}
