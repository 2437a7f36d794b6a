/* fuzz_aedat4.c -- libFuzzer harness for the AEDAT 4.0 reader (IOHeader
 * FlatBuffer, XML info node, packets, LZ4 / Zstd, EventPacket tables):
 * decode the input fully, in odd-sized chunks, with the first event stream
 * and with stream 1 asked for, and list its streams.  Errors are fine;
 * crashes, leaks, UB and hangs are bugs. */
#include <stddef.h>
#include <stdint.h>

#include "ltsnn/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int k = 0; k < 2; k++) {
        lt_reader_opts o = {.format = LT_EVF_AEDAT4, .aedat4_stream = k ? 2 : 0};
        lt_err err;
        lt_reader *r;
        if (lt_reader_open_mem(&r, data, size, "fuzz.aedat4", &o, &err) != LT_OK)
            continue;
        lt_events ev = {0};
        size_t got;
        while (lt_reader_next(r, &ev, k ? 4097 : 333, &got, &err) == LT_OK)
            ev.n = 0;
        lt_reader_stream s;
        for (int i = 0; i < lt_reader_stream_count(r); i++)
            lt_reader_stream_get(r, i, &s);
        lt_reader_close(r);
        lt_events_free(&ev);
    }
    return 0;
}
