/* plan.c -- pack values with lifetimes into one arena (the memory plan's
 * last step; net.c makes the values and their in-place groups).
 *
 * A value is a tensor of `size` floats live over the steps [first, last]
 * of the timeline (forward of layer i is step i, backward of layer i is
 * step 2L - i).  Values that share storage in place form a group whose
 * lifetime is the union of theirs.  Two groups whose lifetimes overlap must
 * not overlap in memory; others may.
 *
 * Greedy by size (as TFLite's and ggml's allocators do): the largest group
 * first, each at the lowest offset that clears every placed group live at
 * the same time.  Large activations then stack at the bottom and the
 * short-lived gradients and scratch fill the holes the kept tensors leave.
 * Optimal packing is NP-hard; this gives the sum of the tensors kept
 * across the turn plus the largest transient set in the chains tried
 * (docs/benchmarks.md compares it with the previous hand-made plan).
 * Deterministic: ties break by first step, then by index. */
#include <stdlib.h>

#include "nn/net.h"

/* offsets are multiples of 16 floats (64 bytes), AVX-512 and cache-line aligned */
#define LT_PLAN_ALIGN 16

static size_t round_up(size_t n) { return (n + LT_PLAN_ALIGN - 1) / LT_PLAN_ALIGN * LT_PLAN_ALIGN; }

typedef struct group {
    size_t size, off;
    int first, last, rep;
} group;

static int by_size(const void *pa, const void *pb)
{
    const group *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return a->rep < b->rep ? -1 : a->rep > b->rep;
}

static int by_off(const void *pa, const void *pb)
{
    const group *a = *(const group *const *)pa, *b = *(const group *const *)pb;
    return a->off < b->off ? -1 : a->off > b->off;
}

size_t lt_plan_pack(lt_value *v, int n)
{
    int ng = 0;
    for (int i = 0; i < n; i++)
        ng += v[i].group == i;
    group *g = calloc((size_t)ng + 1, sizeof *g);
    const group **live = calloc((size_t)ng + 1, sizeof *live);
    if (!g || !live) {
        free(g);
        free(live);
        return 0; /* the caller treats 0 floats for a non-empty plan as out of memory */
    }
    int k = 0;
    for (int i = 0; i < n; i++)
        if (v[i].group == i)
            g[k++] = (group){.size = round_up(v[i].size), .first = v[i].first, .last = v[i].last, .rep = i};
    /* a group's lifetime and size are its members' union and maximum */
    for (int j = 0; j < k; j++)
        for (int i = 0; i < n; i++)
            if (v[i].group == g[j].rep) {
                if (v[i].first < g[j].first)
                    g[j].first = v[i].first;
                if (v[i].last > g[j].last)
                    g[j].last = v[i].last;
                if (round_up(v[i].size) > g[j].size)
                    g[j].size = round_up(v[i].size);
            }
    qsort(g, (size_t)ng, sizeof *g, by_size);
    size_t total = 0;
    for (int j = 0; j < ng; j++) {
        /* the placed groups live while this one is, by offset; take the first gap that fits */
        int nl = 0;
        for (int q = 0; q < j; q++)
            if (g[q].first <= g[j].last && g[j].first <= g[q].last)
                live[nl++] = &g[q];
        qsort(live, (size_t)nl, sizeof *live, by_off);
        size_t off = 0;
        for (int q = 0; q < nl; q++) {
            if (live[q]->off >= off + g[j].size)
                break;
            if (live[q]->off + live[q]->size > off)
                off = live[q]->off + live[q]->size;
        }
        g[j].off = off;
        if (off + g[j].size > total)
            total = off + g[j].size;
    }
    for (int j = 0; j < ng; j++)
        for (int i = 0; i < n; i++)
            if (v[i].group == g[j].rep)
                v[i].off = g[j].off;
    free(g);
    free(live);
    return total;
}
