/* fuzz_atis.c -- libFuzzer harness: decode the input fully as an ATIS 40-bit
 * .bin file, in odd-sized chunks.  Errors are fine; crashes, leaks, UB and
 * hangs are bugs. */
#include <stddef.h>
#include <stdint.h>

#include "ltsnn/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lt_reader_opts o = {.format = LT_EVF_ATIS_BIN};
    lt_err err;
    lt_reader *r;
    if (lt_reader_open_mem(&r, data, size, "fuzz.bin", &o, &err) != LT_OK)
        return 0;
    lt_events ev = {0};
    size_t got;
    while (lt_reader_next(r, &ev, 333, &got, &err) == LT_OK)
        ev.n = 0;
    lt_reader_close(r);
    lt_events_free(&ev);
    return 0;
}
