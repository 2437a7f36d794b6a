/* draw.c -- pictures of detections: an RGB canvas, event frames with boxes
 * and class labels on it, written as PNG.
 *
 * PNG encoding is stb_image_write's (Debian's libstb); letters are
 * stb_easy_font's quads filled as rectangles.  Any list of boxes can be
 * drawn: ground truth (solid) and detections (dashed, with their score), so
 * the same code serves the data viewer and, later, `ltsnn detect`.  Not
 * here: reading recordings (gen1.c) or choosing which frames to draw (CLI). */
#include "ltsnn/detect.h"
#include "ltsnn/io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image_write.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wshadow"
#include <stb/stb_easy_font.h>
#pragma GCC diagnostic pop

#define MAX_IMAGE_SIDE 32768
#define TEXT_MAX 256

lt_status lt_image_alloc(lt_image *im, int w, int h, uint32_t background, lt_err *err)
{
    memset(im, 0, sizeof *im);
    if (w < 1 || h < 1 || w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE)
        return lt_err_set(err, LT_ERR_ARG, "image %dx%d: expected 1..%d pixels a side", w, h, MAX_IMAGE_SIDE);
    im->rgb = malloc((size_t)w * (size_t)h * 3);
    if (!im->rgb)
        return lt_err_set(err, LT_ERR_NOMEM, "cannot allocate a %dx%d image", w, h);
    im->w = w, im->h = h;
    lt_image_fill(im, 0, 0, w, h, background);
    return LT_OK;
}

void lt_image_free(lt_image *im)
{
    free(im->rgb);
    memset(im, 0, sizeof *im);
}

static void put_px(lt_image *im, int x, int y, uint32_t c)
{
    if (x < 0 || y < 0 || x >= im->w || y >= im->h)
        return;
    uint8_t *p = im->rgb + ((size_t)y * (size_t)im->w + (size_t)x) * 3;
    p[0] = (uint8_t)(c >> 16), p[1] = (uint8_t)(c >> 8), p[2] = (uint8_t)c;
}

void lt_image_fill(lt_image *im, int x0, int y0, int x1, int y1, uint32_t rgb)
{
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > im->w ? im->w : x1, y1 = y1 > im->h ? im->h : y1;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            put_px(im, x, y, rgb);
}

void lt_image_rect(lt_image *im, int x0, int y0, int x1, int y1, uint32_t rgb, int thick, int dashed)
{
    /* the outline of [x0, x1] x [y0, y1], `thick` pixels inwards; dashes of 4 on, 3 off */
    for (int k = 0; k < thick; k++) {
        int a0 = x0 + k, a1 = x1 - k, b0 = y0 + k, b1 = y1 - k;
        if (a1 < a0 || b1 < b0)
            break;
        for (int x = a0; x <= a1; x++)
            if (!dashed || (x - x0) % 7 < 4)
                put_px(im, x, b0, rgb), put_px(im, x, b1, rgb);
        for (int y = b0; y <= b1; y++)
            if (!dashed || (y - y0) % 7 < 4)
                put_px(im, a0, y, rgb), put_px(im, a1, y, rgb);
    }
}

int lt_image_text_width(const char *s, int scale)
{
    char buf[TEXT_MAX];
    snprintf(buf, sizeof buf, "%s", s);
    return stb_easy_font_width(buf) * scale;
}

int lt_image_text(lt_image *im, int x, int y, const char *s, uint32_t rgb, int scale)
{
    char buf[TEXT_MAX];
    snprintf(buf, sizeof buf, "%s", s);
    /* about 270 bytes of vertices a character (stb_easy_font's estimate) */
    static _Thread_local char vbuf[TEXT_MAX * 300];
    int quads = stb_easy_font_print(0, 0, buf, NULL, vbuf, (int)sizeof vbuf);
    for (int q = 0; q < quads; q++) {
        const char *v = vbuf + (size_t)q * 4 * 16; /* 4 vertices of x, y, z floats and 4 colour bytes */
        float vx[4], vy[4];
        for (int k = 0; k < 4; k++) {
            memcpy(&vx[k], v + 16 * k, 4);
            memcpy(&vy[k], v + 16 * k + 4, 4);
        }
        float mx0 = vx[0], mx1 = vx[0], my0 = vy[0], my1 = vy[0];
        for (int k = 1; k < 4; k++) {
            mx0 = vx[k] < mx0 ? vx[k] : mx0, mx1 = vx[k] > mx1 ? vx[k] : mx1;
            my0 = vy[k] < my0 ? vy[k] : my0, my1 = vy[k] > my1 ? vy[k] : my1;
        }
        lt_image_fill(im, x + (int)(mx0 * scale), y + (int)(my0 * scale), x + (int)(mx1 * scale),
                      y + (int)(my1 * scale), rgb);
    }
    return stb_easy_font_width(buf) * scale;
}

typedef struct png_out {
    lt_afile f;
    int failed;
} png_out;

static void png_sink(void *ctx, void *data, int size)
{
    png_out *o = ctx;
    if (!o->failed && size > 0 && fwrite(data, 1, (size_t)size, o->f.f) != (size_t)size)
        o->failed = 1;
}

lt_status lt_image_write_png(const lt_image *im, const char *path, lt_err *err)
{
    png_out o = {.failed = 0};
    lt_status st = lt_afile_open(&o.f, path, err);
    if (st)
        return st;
    int ok = stbi_write_png_to_func(png_sink, &o, im->w, im->h, 3, im->rgb, im->w * 3);
    if (!ok || o.failed) {
        lt_afile_abort(&o.f);
        return lt_err_set(err, LT_ERR_IO, "%s: cannot write the PNG image (%s)", path,
                          ok ? strerror(errno) : "the encoder failed");
    }
    return lt_afile_commit(&o.f, err);
}

uint32_t lt_draw_class_color(int k)
{
    static const uint32_t colors[] = {LT_RGB(60, 220, 60),   LT_RGB(240, 60, 200), LT_RGB(60, 220, 240),
                                      LT_RGB(240, 240, 60), LT_RGB(240, 120, 40), LT_RGB(160, 120, 255)};
    return colors[(unsigned)k % (sizeof colors / sizeof colors[0])];
}

/* An event pixel's colour: OFF blue, ON orange, both white-ish; brighter with more events. */
static uint32_t event_color(int off, int on)
{
    if (!off && !on)
        return LT_RGB(0, 0, 0);
    int a = off > 3 ? 3 : off, b = on > 3 ? 3 : on;
    int lo = 110 + 48 * (a > b ? a : b);
    if (off && on)
        return LT_RGB(lo, lo, lo);
    return on ? LT_RGB(lo, lo * 2 / 3, 40) : LT_RGB(40, lo * 2 / 3, lo);
}

void lt_draw_frame(lt_image *im, int x, int y, int zoom, const uint8_t *counts, int H, int W,
                   const lt_draw_box *boxes, size_t n, const char *const *class_names, int classes,
                   const char *caption)
{
    const size_t plane = (size_t)H * (size_t)W;
    for (int r = 0; r < H; r++)
        for (int c = 0; c < W; c++) {
            size_t p = (size_t)r * (size_t)W + (size_t)c;
            lt_image_fill(im, x + c * zoom, y + r * zoom, x + (c + 1) * zoom, y + (r + 1) * zoom,
                          event_color(counts[p], counts[plane + p]));
        }
    const int fw = W * zoom, fh = H * zoom, ts = zoom >= 3 ? 2 : 1;
    for (size_t k = 0; k < n; k++) {
        const lt_draw_box *b = &boxes[k];
        int x0 = x + (int)(b->x0 * (float)fw), y0 = y + (int)(b->y0 * (float)fh);
        int x1 = x + (int)(b->x1 * (float)fw) - 1, y1 = y + (int)(b->y1 * (float)fh) - 1;
        uint32_t col = lt_draw_class_color(b->cls);
        lt_image_rect(im, x0, y0, x1, y1, col, zoom >= 2 ? 2 : 1, b->score >= 0);
        char label[96];
        const char *name = class_names && b->cls >= 0 && b->cls < classes ? class_names[b->cls] : NULL;
        if (b->score >= 0)
            snprintf(label, sizeof label, "%s %.2f", name ? name : "?", (double)b->score);
        else if (name)
            snprintf(label, sizeof label, "%s", name);
        else
            snprintf(label, sizeof label, "%d", (int)b->cls);
        /* the label sits on a dark band above the box, or inside it at the top edge */
        int ly = y0 - 8 * ts - 1 < y ? y0 + 2 : y0 - 8 * ts - 1;
        int lw = lt_image_text_width(label, ts);
        lt_image_fill(im, x0, ly, x0 + lw + 2, ly + 8 * ts, LT_RGB(0, 0, 0));
        lt_image_text(im, x0 + 1, ly + 1, label, col, ts);
    }
    if (caption) {
        int cw = lt_image_text_width(caption, ts);
        lt_image_fill(im, x, y, x + cw + 4, y + 9 * ts, LT_RGB(30, 30, 30));
        lt_image_text(im, x + 2, y + 1, caption, LT_RGB(230, 230, 230), ts);
    }
}
