/* fuzz_ltq.c -- libFuzzer harness: the .ltq integer-model loader of the
 * runtime (runtime/ltsnn_rt.c) and of ltsnn (src/quant/qmodel.c).  Each
 * input is tried as it is and with its size field and checksum repaired
 * (else nearly every mutation would stop at the checksum); a model that
 * loads is run for a few steps on an empty and a full input frame.
 * Errors are fine; crashes, UB, leaks and hangs are bugs. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ltsnn/quant.h"
#include "ltsnn_rt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void run(const uint8_t *m, size_t n)
{
    size_t need;
    lt_rt_info info;
    if (lt_rt_arena_size(m, n, &need, &info) != LT_RT_OK || need > ((size_t)64 << 20))
        return;
    void *arena = malloc(need);
    size_t frame = (size_t)info.in_c * info.in_h * info.in_w;
    uint8_t *f = frame <= ((size_t)1 << 22) ? malloc(frame ? frame : 1) : NULL;
    lt_rt *rt;
    if (arena && f && lt_rt_init(&rt, arena, need, m, n, NULL) == LT_RT_OK) {
        memset(f, 0, frame);
        lt_rt_step(rt, f);
        memset(f, (int)info.in_max, frame);
        lt_rt_step(rt, f);
        lt_rt_set_dense(rt, 1);
        lt_rt_step(rt, f);
        lt_rt_predict(rt);
    }
    free(f);
    free(arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size);
    lt_qmodel *q;
    lt_err err;
    if (lt_qmodel_open(&q, data, size, "fuzz.ltq", &err) == LT_OK)
        lt_qmodel_free(q);
    if (size < 16 || size > 0xFFFFFFF0u)
        return 0;
    uint8_t *c = malloc(size);
    if (!c)
        return 0;
    memcpy(c, data, size);
    put32(c + 8, (uint32_t)size);
    put32(c + 12, (uint32_t)crc32(0L, c + 16, (uInt)(size - 16)));
    run(c, size);
    free(c);
    return 0;
}
