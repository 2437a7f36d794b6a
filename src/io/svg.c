/* svg.c -- a small SVG line-chart writer (include/ltsnn/io.h).
 *
 * A figure is a grid of panels; each panel has a frame, grid lines at
 * "nice" ticks (1, 2 or 5 times a power of ten), tick labels, axis labels,
 * an optional right axis, a legend to the right of the plot area and one
 * <polyline> per series, clipped to the plot area.  Output goes through
 * lt_afile, so a figure on disk is always complete.  Not a general plotting
 * library: no log axes, no markers, no bars. */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ltsnn/io.h"

static const char *const palette[10] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

enum { FONT = 12, LEGEND_ROW = 16, CHAR_W = 7 };

typedef struct axis {
    double lo, hi, step;
} axis;

static void put_escaped(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            /* XML 1.0 allows no control characters but tab, LF, CR */
            if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
                fputc(' ', f);
            else
                fputc(*s, f);
        }
    }
}

static size_t text_chars(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static double nice_step(double range, int target)
{
    double raw = range / target;
    double mag = pow(10.0, floor(log10(raw)));
    double r = raw / mag;
    return (r < 1.5 ? 1.0 : r < 3.0 ? 2.0 : r < 7.0 ? 5.0 : 10.0) * mag;
}

/* Extreme data (1e308, denormals) can defeat the arithmetic; fall back to [0, 1]. */
static void axis_sane(axis *a)
{
    double span = a->hi - a->lo;
    if (!(isfinite(a->lo) && isfinite(a->hi) && span > 0 && isfinite(span) && a->step > 0 &&
          span / a->step <= 50 && span / a->step >= 1))
        a->lo = 0.0, a->hi = 1.0, a->step = 0.2;
}

/* Limits from the data (widened to whole ticks) unless lo < hi is given. */
static void axis_fit(axis *a, double dlo, double dhi, double flo, double fhi)
{
    if (flo < fhi && isfinite(flo) && isfinite(fhi)) {
        a->lo = flo, a->hi = fhi;
        a->step = nice_step(fhi - flo, 5);
        axis_sane(a);
        return;
    }
    if (!(dlo <= dhi)) /* no finite data */
        dlo = 0.0, dhi = 1.0;
    double span = dhi - dlo, mag = fmax(fabs(dlo), fabs(dhi));
    if (span <= 1e-9 * fmax(1.0, mag)) {
        double pad = mag > 0 ? 0.1 * mag : 1.0;
        dlo -= pad, dhi += pad;
    }
    a->step = nice_step(dhi - dlo, 5);
    a->lo = floor(dlo / a->step + 1e-9) * a->step;
    a->hi = ceil(dhi / a->step - 1e-9) * a->step;
    axis_sane(a);
}

/* The first tick and the tick count, bounded whatever the limits are. */
static int axis_ticks(const axis *a, double *first)
{
    *first = ceil(a->lo / a->step - 1e-9) * a->step;
    double n = floor((a->hi - *first) / a->step + 1e-9) + 1;
    return n >= 1 && n <= 100 ? (int)n : 0;
}

static void fmt_tick(char *buf, size_t cap, double v, double step)
{
    if (fabs(v) < step * 1e-9)
        v = 0.0;
    double big = fmax(fabs(v), step);
    if (big >= 1e6 || step < 1e-4) {
        snprintf(buf, cap, "%g", v);
        return;
    }
    int dec = (int)-floor(log10(step) + 1e-9);
    snprintf(buf, cap, "%.*f", dec > 0 ? dec : 0, v);
}

/* Data range of a panel's series on one axis (which: 0 x, 1 left y, 2 right y). */
static void data_range(const lt_plot_panel *p, int which, double *lo, double *hi)
{
    *lo = INFINITY, *hi = -INFINITY;
    for (size_t s = 0; s < p->n_series; s++) {
        const lt_plot_series *se = &p->series[s];
        if (which && (which == 2) != (se->right_axis != 0))
            continue;
        for (size_t i = 0; i < se->n; i++) {
            double x = se->x[i], y = se->y[i];
            if (!isfinite(x) || !isfinite(y))
                continue;
            double v = which ? y : x;
            *lo = fmin(*lo, v), *hi = fmax(*hi, v);
        }
    }
}

typedef struct box {
    double x, y, w, h;
} box;

static double map(const axis *a, double v, double p0, double len) { return p0 + (v - a->lo) / (a->hi - a->lo) * len; }

static void draw_axes(FILE *f, const box *b, const axis *ax, const axis *ay, const axis *ay2)
{
    char lab[64];
    double tx, ty, t2 = 0;
    int nx = axis_ticks(ax, &tx), ny = axis_ticks(ay, &ty), n2 = ay2 ? axis_ticks(ay2, &t2) : 0;
    fprintf(f, "<g stroke=\"#e0e0e0\" stroke-width=\"1\">\n");
    for (int k = 0; k < nx; k++) {
        double px = map(ax, tx + k * ax->step, b->x, b->w);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", px, b->y, px, b->y + b->h);
    }
    for (int k = 0; k < ny; k++) {
        double py = b->y + b->h - map(ay, ty + k * ay->step, 0, b->h);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", b->x, py, b->x + b->w, py);
    }
    fprintf(f, "</g>\n<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"#333\"/>\n",
            b->x, b->y, b->w, b->h);

    fprintf(f, "<g font-size=\"%d\" fill=\"#333\">\n", FONT - 1);
    for (int k = 0; k < nx; k++) {
        double t = tx + k * ax->step;
        fmt_tick(lab, sizeof lab, t, ax->step);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%s</text>\n", map(ax, t, b->x, b->w),
                b->y + b->h + 15, lab);
    }
    for (int k = 0; k < ny; k++) {
        double t = ty + k * ay->step;
        fmt_tick(lab, sizeof lab, t, ay->step);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n", b->x - 5,
                b->y + b->h - map(ay, t, 0, b->h) + 4, lab);
    }
    for (int k = 0; k < n2; k++) {
        double t = t2 + k * ay2->step;
        fmt_tick(lab, sizeof lab, t, ay2->step);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"start\">%s</text>\n", b->x + b->w + 5,
                b->y + b->h - map(ay2, t, 0, b->h) + 4, lab);
    }
    fprintf(f, "</g>\n");
}

static void draw_series(FILE *f, const lt_plot_series *se, size_t idx, const box *b, const axis *ax,
                        const axis *ay)
{
    int c = se->color >= 0 ? se->color : (int)idx;
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" stroke-linejoin=\"round\"%s points=\"",
            palette[c % 10], se->dashed ? " stroke-dasharray=\"6 3\"" : "");
    int first = 1;
    for (size_t i = 0; i < se->n; i++) {
        double x = se->x[i], y = se->y[i];
        if (!isfinite(x) || !isfinite(y))
            continue;
        /* Clamp far-out points so coordinates stay printable; the clip path hides them. */
        double px = fmin(fmax(map(ax, x, b->x, b->w), b->x - 1e4), b->x + 1e4);
        double py = fmin(fmax(b->y + b->h - map(ay, y, 0, b->h), b->y - 1e4), b->y + 1e4);
        fprintf(f, first ? "%.2f,%.2f" : " %.2f,%.2f", px, py);
        first = 0;
    }
    fprintf(f, "\"/>\n");
}

static void draw_panel(FILE *f, const lt_plot_panel *p, size_t pi, const box *cell)
{
    size_t n_leg = 0, max_chars = 0;
    int has_y2 = 0;
    for (size_t s = 0; s < p->n_series; s++) {
        const lt_plot_series *se = &p->series[s];
        has_y2 |= se->right_axis != 0;
        if (se->label && *se->label) {
            n_leg++;
            size_t c = text_chars(se->label);
            max_chars = c > max_chars ? c : max_chars;
        }
    }
    double top = p->title && *p->title ? 34 : 14, bottom = 46, left = 64;
    double right = 16 + (has_y2 ? 50 : 0);
    double ph = cell->h - top - bottom;
    if (ph < 40)
        ph = 40;
    size_t rows = (size_t)(ph / LEGEND_ROW);
    if (rows < 1)
        rows = 1;
    size_t ncol = n_leg ? (n_leg + rows - 1) / rows : 0;
    double col_w = 34.0 + CHAR_W * (double)(max_chars > 40 ? 40 : max_chars);
    double leg_w = (double)ncol * col_w;
    box b = {cell->x + left, cell->y + top, cell->w - left - right - leg_w, ph};
    if (b.w < 40)
        b.w = 40;

    axis ax, ay, ay2;
    double lo, hi;
    data_range(p, 0, &lo, &hi);
    axis_fit(&ax, lo, hi, p->x_lo, p->x_hi);
    data_range(p, 1, &lo, &hi);
    axis_fit(&ay, lo, hi, p->y_lo, p->y_hi);
    data_range(p, 2, &lo, &hi);
    axis_fit(&ay2, lo, hi, p->y2_lo, p->y2_hi);

    fprintf(f, "<g class=\"panel\">\n");
    draw_axes(f, &b, &ax, &ay, has_y2 ? &ay2 : NULL);
    fprintf(f, "<g font-size=\"%d\" fill=\"#000\">\n", FONT);
    if (p->title && *p->title) {
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-weight=\"bold\">", b.x + b.w / 2,
                cell->y + 20);
        put_escaped(f, p->title);
        fprintf(f, "</text>\n");
    }
    if (p->xlabel && *p->xlabel) {
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">", b.x + b.w / 2, b.y + b.h + 34);
        put_escaped(f, p->xlabel);
        fprintf(f, "</text>\n");
    }
    if (p->ylabel && *p->ylabel) {
        double x = cell->x + 16, y = b.y + b.h / 2;
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" transform=\"rotate(-90 %.2f %.2f)\">", x, y,
                x, y);
        put_escaped(f, p->ylabel);
        fprintf(f, "</text>\n");
    }
    if (has_y2 && p->y2label && *p->y2label) {
        double x = b.x + b.w + 44, y = b.y + b.h / 2;
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" transform=\"rotate(90 %.2f %.2f)\">", x, y,
                x, y);
        put_escaped(f, p->y2label);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</g>\n");

    fprintf(f, "<clipPath id=\"clip%zu\"><rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/></clipPath>\n",
            pi, b.x, b.y, b.w, b.h);
    fprintf(f, "<g clip-path=\"url(#clip%zu)\">\n", pi);
    for (size_t s = 0; s < p->n_series; s++)
        draw_series(f, &p->series[s], s, &b, &ax, p->series[s].right_axis ? &ay2 : &ay);
    fprintf(f, "</g>\n");

    if (n_leg) {
        fprintf(f, "<g class=\"legend\" font-size=\"%d\">\n", FONT - 1);
        double lx0 = b.x + b.w + (has_y2 ? 58 : 12);
        size_t k = 0;
        for (size_t s = 0; s < p->n_series; s++) {
            const lt_plot_series *se = &p->series[s];
            if (!se->label || !*se->label)
                continue;
            double lx = lx0 + (double)(k / rows) * col_w, ly = b.y + 8 + (double)(k % rows) * LEGEND_ROW;
            int c = se->color >= 0 ? se->color : (int)s;
            fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
                    lx, ly, lx + 22, ly, palette[c % 10], se->dashed ? " stroke-dasharray=\"6 3\"" : "");
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">", lx + 27, ly + 4);
            put_escaped(f, se->label);
            fprintf(f, "</text>\n");
            k++;
        }
        fprintf(f, "</g>\n");
    }
    fprintf(f, "</g>\n");
}

static void render(FILE *f, const lt_plot_figure *fig)
{
    size_t cols = fig->cols > 0 ? (size_t)fig->cols : (fig->n_panels ? fig->n_panels : 1);
    size_t rows = fig->n_panels ? (fig->n_panels + cols - 1) / cols : 1;
    double title_h = fig->title && *fig->title ? 30 : 0;
    double W = fig->width > 0 ? fig->width : 520.0 * (double)cols;
    double H = fig->height > 0 ? fig->height : 380.0 * (double)rows + title_h;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"Helvetica, Arial, sans-serif\">\n", W, H, W, H);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", W, H);
    if (title_h) {
        fprintf(f, "<text x=\"%.2f\" y=\"21\" text-anchor=\"middle\" font-size=\"%d\" font-weight=\"bold\">", W / 2,
                FONT + 3);
        put_escaped(f, fig->title);
        fprintf(f, "</text>\n");
    }
    double cw = W / (double)cols, ch = (H - title_h) / (double)rows;
    for (size_t i = 0; i < fig->n_panels; i++) {
        box cell = {cw * (double)(i % cols), title_h + ch * (double)(i / cols), cw, ch};
        draw_panel(f, &fig->panels[i], i, &cell);
    }
    fprintf(f, "</svg>\n");
}

lt_status lt_svg_write(const char *path, const lt_plot_figure *fig, lt_err *err)
{
    lt_afile a;
    lt_status st = lt_afile_open(&a, path, err);
    if (st)
        return st;
    render(a.f, fig);
    return lt_afile_commit(&a, err);
}
