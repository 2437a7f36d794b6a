/* fuzz_aedat.c -- libFuzzer harness: decode the input fully as AEDAT 2.0
 * with each layout choice (header, DVS128, DAVIS, DVS128 + CIFAR10-DVS fix),
 * in odd-sized chunks.  Any crash, leak, UB or hang is a bug; errors are fine. */
#include <stddef.h>
#include <stdint.h>

#include "ltsnn/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const lt_aedat_layout layouts[4] = {LT_AEDAT_LAYOUT_AUTO, LT_AEDAT_LAYOUT_DVS128, LT_AEDAT_LAYOUT_DAVIS,
                                               LT_AEDAT_LAYOUT_DVS128};
    for (int k = 0; k < 4; k++) {
        lt_reader_opts o = {.format = LT_EVF_AEDAT2, .aedat_layout = layouts[k], .cifar10dvs_fix = k == 3};
        lt_err err;
        lt_reader *r;
        if (lt_reader_open_mem(&r, data, size, "fuzz.aedat", &o, &err) != LT_OK)
            continue;
        lt_events ev = {0};
        size_t got;
        while (lt_reader_next(r, &ev, 777, &got, &err) == LT_OK)
            ev.n = 0;
        lt_reader_close(r);
        lt_events_free(&ev);
    }
    return 0;
}
