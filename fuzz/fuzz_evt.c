/* fuzz_evt.c -- libFuzzer harness for the Prophesee .raw readers: decode
 * the input fully as EVT 2.0, as EVT 3.0 and with the format detected from
 * its header, in odd-sized chunks (so EVT 3.0 vectors are split across
 * calls).  Errors are fine; crashes, leaks, UB and hangs are bugs. */
#include <stddef.h>
#include <stdint.h>

#include "ltsnn/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const lt_ev_format fmts[3] = {LT_EVF_EVT2, LT_EVF_EVT3, LT_EVF_AUTO};
    static const size_t chunks[3] = {97, 5, 1000};
    for (int k = 0; k < 3; k++) {
        lt_reader_opts o = {.format = fmts[k]};
        lt_err err;
        lt_reader *r;
        if (lt_reader_open_mem(&r, data, size, "fuzz.raw", &o, &err) != LT_OK)
            continue;
        lt_events ev = {0};
        size_t got;
        while (lt_reader_next(r, &ev, chunks[k], &got, &err) == LT_OK)
            ev.n = 0;
        lt_reader_close(r);
        lt_events_free(&ev);
    }
    return 0;
}
