/* events.c -- the lt_events chunk (structure of arrays) and the names of
 * the AEDAT 2.0 address layouts.  Format names are the format table's
 * (formats.c); decoding lives in reader.c and one file per format. */
#include <stdlib.h>
#include <string.h>

#include "ltsnn/events.h"

lt_status lt_events_reserve(lt_events *e, size_t cap, lt_err *err)
{
    if (cap <= e->cap)
        return LT_OK;
    size_t nc = e->cap > SIZE_MAX / 4 ? cap : e->cap * 2;
    if (nc < cap)
        nc = cap;
    if (nc < 64)
        nc = 64;
    if (nc > SIZE_MAX / sizeof(int64_t))
        return lt_err_set(err, LT_ERR_NOMEM, "events: %zu events do not fit in memory", cap);
    /* Grow each array separately so a failure leaves e consistent with its old cap. */
    int64_t *t = realloc(e->t, nc * sizeof *t);
    if (!t)
        goto nomem;
    e->t = t;
    uint16_t *x = realloc(e->x, nc * sizeof *x);
    if (!x)
        goto nomem;
    e->x = x;
    uint16_t *y = realloc(e->y, nc * sizeof *y);
    if (!y)
        goto nomem;
    e->y = y;
    uint8_t *p = realloc(e->p, nc);
    if (!p)
        goto nomem;
    e->p = p;
    e->cap = nc;
    return LT_OK;
nomem:
    return lt_err_set(err, LT_ERR_NOMEM, "events: out of memory for %zu events", nc);
}

lt_status lt_events_push(lt_events *e, int64_t t, int x, int y, int p, lt_err *err)
{
    if (x < 0 || x > 65535 || y < 0 || y > 65535 || p < 0 || p > 1)
        return lt_err_set(err, LT_ERR_ARG, "events: event (t %lld, x %d, y %d, p %d): expected x, y in 0..65535, p 0 or 1",
                          (long long)t, x, y, p);
    if (e->n == e->cap) {
        lt_status st = lt_events_reserve(e, e->n + 1, err);
        if (st)
            return st;
    }
    e->t[e->n] = t;
    e->x[e->n] = (uint16_t)x;
    e->y[e->n] = (uint16_t)y;
    e->p[e->n] = (uint8_t)p;
    e->n++;
    return LT_OK;
}

void lt_events_clear(lt_events *e) { e->n = 0; }

void lt_events_free(lt_events *e)
{
    free(e->t);
    free(e->x);
    free(e->y);
    free(e->p);
    memset(e, 0, sizeof *e);
}

typedef struct name_val {
    const char *name;
    int val;
} name_val;

static const name_val layout_names[] = {
    {"auto", LT_AEDAT_LAYOUT_AUTO}, {"dvs128", LT_AEDAT_LAYOUT_DVS128}, {"davis", LT_AEDAT_LAYOUT_DAVIS},
};

lt_status lt_aedat_layout_parse(lt_aedat_layout *l, const char *name, lt_err *err)
{
    for (size_t i = 0; i < sizeof layout_names / sizeof layout_names[0]; i++)
        if (!strcmp(name, layout_names[i].name)) {
            *l = (lt_aedat_layout)layout_names[i].val;
            return LT_OK;
        }
    return lt_err_set(err, LT_ERR_ARG, "AEDAT layout '%s': expected dvs128, davis or auto", name);
}

const char *lt_aedat_layout_name(lt_aedat_layout l)
{
    switch (l) {
    case LT_AEDAT_LAYOUT_AUTO: return "auto";
    case LT_AEDAT_LAYOUT_DVS128: return "dvs128";
    case LT_AEDAT_LAYOUT_DAVIS: return "davis";
    }
    return "unknown";
}
