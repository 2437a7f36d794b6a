/* fuzz_dat.c -- libFuzzer harness: decode the input fully as a Prophesee
 * DAT file (and once more with the format detected from the bytes and the
 * name), in odd-sized chunks.  Errors are fine; crashes, leaks, UB and
 * hangs are bugs. */
#include <stddef.h>
#include <stdint.h>

#include "ltsnn/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int k = 0; k < 2; k++) {
        lt_reader_opts o = {.format = k == 0 ? LT_EVF_DAT : LT_EVF_AUTO};
        lt_err err;
        lt_reader *r;
        if (lt_reader_open_mem(&r, data, size, "fuzz.dat", &o, &err) != LT_OK)
            continue;
        lt_events ev = {0};
        size_t got;
        while (lt_reader_next(r, &ev, 501, &got, &err) == LT_OK)
            ev.n = 0;
        lt_reader_close(r);
        lt_events_free(&ev);
    }
    return 0;
}
