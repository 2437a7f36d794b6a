/* formats.c -- the table of event formats: one row per format (the row
 * itself lives in the format's own file), in detection order.  Names,
 * extensions and "is it written" are answered from the rows, so nothing
 * else in ltsnn switches on formats.  Adding a format is its file plus one
 * line here. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "events/reader_priv.h"

static const lt_evr_format *const rows[] = {
    &lt_evr_fmt_aedat4, /* "#!AER-DAT4.0" */
    &lt_evr_fmt_aedat2, /* "#!AER-DAT" other than 4.x */
    &lt_evr_fmt_npy,    /* "\x93NUMPY" */
    &lt_evr_fmt_evt3,   /* '% ' lines naming EVT 3.0 */
    &lt_evr_fmt_evt2,   /* '% ' lines naming EVT 2.0 */
    &lt_evr_fmt_dat,    /* other '% ' lines */
    &lt_evr_fmt_atis,   /* no header: by extension only */
};
#define NROWS (sizeof rows / sizeof rows[0])

const lt_evr_format *lt_evr_format_at(size_t i) { return i < NROWS ? rows[i] : NULL; }

const lt_evr_format *lt_evr_format_of(lt_ev_format id)
{
    for (size_t i = 0; i < NROWS; i++)
        if (rows[i]->id == id)
            return rows[i];
    return NULL;
}

const char *lt_ev_format_name(lt_ev_format f)
{
    if (f == LT_EVF_AUTO)
        return "auto";
    const lt_evr_format *r = lt_evr_format_of(f);
    return r ? r->name : "unknown";
}

lt_status lt_ev_format_parse(lt_ev_format *f, const char *name, lt_err *err)
{
    if (!strcmp(name, "auto")) {
        *f = LT_EVF_AUTO;
        return LT_OK;
    }
    for (size_t i = 0; i < NROWS; i++) {
        int hit = !strcmp(name, rows[i]->name);
        for (int k = 0; !hit && k < 4 && rows[i]->aliases[k]; k++)
            hit = !strcmp(name, rows[i]->aliases[k]);
        if (hit) {
            *f = rows[i]->id;
            return LT_OK;
        }
    }
    char list[512];
    size_t o = 0;
    for (size_t i = 0; i < NROWS && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", rows[i]->name);
    return lt_err_set(err, LT_ERR_ARG, "event format '%s': expected one of %s (or auto)", name, list);
}

lt_ev_format lt_ev_format_from_ext(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (!dot)
        return LT_EVF_AUTO;
    for (size_t i = 0; i < NROWS; i++)
        for (int k = 0; k < 4 && rows[i]->exts[k]; k++)
            if (!strcasecmp(dot, rows[i]->exts[k]))
                return rows[i]->id;
    return LT_EVF_AUTO;
}

int lt_ev_format_writable(lt_ev_format f)
{
    const lt_evr_format *r = lt_evr_format_of(f);
    return r && r->w_event;
}

void lt_ev_format_list(char *buf, size_t cap)
{
    size_t o = 0;
    if (cap)
        buf[0] = 0;
    for (size_t i = 0; i < NROWS && o < cap; i++) {
        o += (size_t)snprintf(buf + o, cap - o, "%s%s (", i ? ", " : "", rows[i]->name);
        for (int k = 0; k < 4 && rows[i]->exts[k] && o < cap; k++)
            o += (size_t)snprintf(buf + o, cap - o, "%s%s", k ? " " : "", rows[i]->exts[k]);
        if (o < cap)
            o += (size_t)snprintf(buf + o, cap - o, "%s%s)", rows[i]->exts[0] ? "; " : "",
                                  rows[i]->w_event ? "read, written" : "read");
    }
}
