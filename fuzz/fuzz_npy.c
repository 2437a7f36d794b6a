/* fuzz_npy.c -- libFuzzer harness for the .npy reader: the generic API
 * (open, describe, every field of every row as int64 and double, raw rows)
 * and the event decoder on the same bytes.  Errors are fine; crashes, leaks,
 * UB and hangs are bugs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ltsnn/events.h"
#include "ltsnn/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lt_err err;
    lt_npy a;
    if (lt_npy_open_mem(&a, data, size, "fuzz.npy", &err) == LT_OK) {
        char desc[1024];
        lt_npy_describe(&a, desc, sizeof desc);
        /* open checked rows * cols * itemsize == the data bytes (< the input size) */
        size_t cells = (size_t)(a.rows * a.cols);
        int64_t *ki = malloc((cells ? cells : 1) * sizeof *ki);
        double *kd = malloc((cells ? cells : 1) * sizeof *kd);
        void *raw = malloc(cells * (size_t)a.itemsize + 1);
        if (ki && kd && raw) {
            for (int f = 0; f < a.nfields; f++) {
                lt_npy_read_i64(&a, f, 0, a.rows, ki, &err);
                lt_npy_read_f64(&a, f, 0, a.rows, kd, &err);
                if (a.rows > 1)
                    lt_npy_read_i64(&a, f, 1, a.rows - 1, ki, &err);
            }
            lt_npy_read_raw(&a, 0, a.rows, raw, &err);
        }
        free(ki);
        free(kd);
        free(raw);
        lt_npy_close(&a);
    }
    lt_reader_opts o = {.format = LT_EVF_NPY};
    lt_reader *r;
    if (lt_reader_open_mem(&r, data, size, "fuzz.npy", &o, &err) == LT_OK) {
        lt_events ev = {0};
        size_t got;
        while (lt_reader_next(r, &ev, 129, &got, &err) == LT_OK)
            ev.n = 0;
        lt_reader_close(r);
        lt_events_free(&ev);
    }
    return 0;
}
