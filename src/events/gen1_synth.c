/* gen1_synth.c -- a small detection dataset in Gen1's own format, made
 * from nothing: street scenes seen by a static 304 x 240 event camera, with
 * cars (wide shapes driving sideways, turning wheels) and pedestrians (tall
 * narrow figures walking with swinging legs and a bobbing gait) entering,
 * crossing and leaving, in front of a textured background, behind static
 * poles and each other, rendered in log intensity and run through the DVS
 * simulator (dvssim.c) with sensor noise; written with ltsnn's own writers
 * as `_td.dat` (DAT) and `_bbox.npy` (either Gen1 dtype) so that everything
 * downstream reads it exactly as real Gen1.  docs/detection.md says what it
 * renders and what the default dataset holds.  Deterministic per seed:
 * recording i of split s draws from its own RNG seeded from (seed, s, i).
 * Not here: reading Gen1 (gen1.c). */
#include "ltsnn/detect.h"
#include "ltsnn/synth.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SW LT_GEN1_SENSOR_W
#define SH LT_GEN1_SENSOR_H
#define MAX_OBJ 8
#define TEX 16              /* an object's texture: TEX x TEX value noise */
#define MIN_VISIBLE 0.3     /* a box is labelled when this much of its object shows */
#define MIN_VISIBLE_PX 40
#define ID_NONE 255
#define LAYER 256           /* largest object extent, pixels a side */

static const float PI = 3.14159265f;

void lt_gen1_synth_opts_default(lt_gen1_synth_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n[0] = 48, o->n[1] = 12, o->n[2] = 12;
    o->duration_s = 6.0;
    o->box_period_us = 100000;
    o->render_hz = 100;
    o->layout = LT_GEN1_V2;
    o->seed = 1;
}

/* ---- objects ---- */

typedef enum kind { CAR = 0, PED = 1 } kind;

typedef struct object {
    kind k;
    uint32_t track;
    float x, yb;         /* car: left edge; pedestrian: centre line; yb: ground line (bottom) */
    float vx;            /* pixels per second */
    float size;          /* car: width; pedestrian: height */
    float aspect;        /* car: height / width */
    float L[4];          /* log intensities of the parts */
    float tex_amp, tex_cell;
    float tex[TEX * TEX];
    float phase0;        /* gait / wheel phase at the start */
    int64_t born;        /* when it appeared (us) */
    int dir_front;       /* car: cabin slanted towards the direction of travel */
    int ex0, ey0, ex1, ey1; /* pixels of its last render */
    int area;            /* pixels it covered at least half then (box times) */
} object;

typedef struct scene {
    lt_rng rng;
    float *bg;           /* [SH][SW] background log intensity */
    float *L;            /* [SH][SW] the frame being rendered */
    uint8_t *id;         /* [SH][SW] front object at box times */
    float *lA, *la;      /* [LAYER][LAYER] one object's premultiplied level and alpha */
    object obj[MAX_OBJ];
    int n_obj;
    uint32_t next_track;
    float poles[3][3];   /* x, width, top y */
    int n_poles;
    float pole_L;
    float rate[2];       /* spawn rates per second: cars, pedestrians */
} scene;

static float urand(lt_rng *r, float lo, float hi) { return lt_rng_uniformf(r, lo, hi); }
static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }
static float minf(float a, float b) { return a < b ? a : b; }
static float maxf(float a, float b) { return a > b ? a : b; }
static float logI(float i) { return logf(i + 0.01f); }

/* Bilinear value noise from a TEX x TEX table, wrapping (TEX a power of 2;
 * u, v above -1024 * TEX). */
static float tex_at(const float *t, float u, float v)
{
    u += 1024 * TEX, v += 1024 * TEX;
    const int iu = (int)u, iv = (int)v;
    const float a = u - (float)iu, b = v - (float)iv;
    const int i0 = iu & (TEX - 1), j0 = iv & (TEX - 1), i1 = (i0 + 1) & (TEX - 1), j1 = (j0 + 1) & (TEX - 1);
    return (1 - b) * ((1 - a) * t[j0 * TEX + i0] + a * t[j0 * TEX + i1]) +
           b * ((1 - a) * t[j1 * TEX + i0] + a * t[j1 * TEX + i1]);
}

/* The part of [a, a + 1) that [lo, hi) covers. */
static float overlap(float a, float lo, float hi)
{
    float o = minf(a + 1, hi) - maxf(a, lo);
    return o > 0 ? o : 0;
}

/* ---- shapes: each object is a few parts painted in order ---- */

typedef enum part_kind { P_RECT, P_TRAP, P_DISC, P_CAPSULE } part_kind;

typedef struct part {
    part_kind kind;
    float g[6];         /* rect: x0 y0 x1 y1; trap: y0 y1 and x from g2..g3 (top) to g4..g5 (bottom);
                           disc: cx cy r; capsule: ax ay bx by half-width */
    float L, tex;       /* log level, and how much of the object's texture it shows */
    int x0, y0, x1, y1; /* pixels it may touch: [x0, x1) x [y0, y1) */
} part;

#define MAX_PARTS 10
typedef struct pose {
    int n;
    part p[MAX_PARTS];
    float bob;          /* a pedestrian's lift in this frame */
} pose;

/* Coverage of pixel (px, py) (its top-left corner), antialiased over one
 * pixel: exact for rectangles, by distance for round shapes. */
static float cover(const part *q, float px, float py)
{
    const float *g = q->g, cx = px + 0.5f, cy = py + 0.5f;
    switch (q->kind) {
    case P_RECT:
        return overlap(px, g[0], g[2]) * overlap(py, g[1], g[3]);
    case P_TRAP: {
        float c = overlap(py, g[0], g[1]);
        if (c <= 0)
            return 0;
        float s = clampf((cy - g[0]) / (g[1] - g[0]), 0, 1);
        return c * overlap(px, g[2] + s * (g[4] - g[2]), g[3] + s * (g[5] - g[3]));
    }
    case P_DISC: {
        float d = sqrtf((cx - g[0]) * (cx - g[0]) + (cy - g[1]) * (cy - g[1]));
        return clampf(g[2] - d + 0.5f, 0, 1);
    }
    default: {
        float dx = g[2] - g[0], dy = g[3] - g[1], l2 = dx * dx + dy * dy;
        float t = l2 > 0 ? clampf(((cx - g[0]) * dx + (cy - g[1]) * dy) / l2, 0, 1) : 0;
        float ex = cx - g[0] - t * dx, ey = cy - g[1] - t * dy;
        return clampf(g[4] - sqrtf(ex * ex + ey * ey) + 0.5f, 0, 1);
    }
    }
}

static void add_part(pose *p, part_kind k, const float *g, float L, float tex)
{
    part *q = &p->p[p->n++];
    q->kind = k;
    memcpy(q->g, g, sizeof q->g);
    q->L = L, q->tex = tex;
    float x0, y0, x1, y1;
    switch (k) {
    case P_RECT:
        x0 = g[0], y0 = g[1], x1 = g[2], y1 = g[3];
        break;
    case P_TRAP:
        x0 = minf(g[2], g[4]), x1 = maxf(g[3], g[5]), y0 = g[0], y1 = g[1];
        break;
    case P_DISC:
        x0 = g[0] - g[2] - 1, x1 = g[0] + g[2] + 1, y0 = g[1] - g[2] - 1, y1 = g[1] + g[2] + 1;
        break;
    default:
        x0 = minf(g[0], g[2]) - g[4] - 1, x1 = maxf(g[0], g[2]) + g[4] + 1;
        y0 = minf(g[1], g[3]) - g[4] - 1, y1 = maxf(g[1], g[3]) + g[4] + 1;
    }
    q->x0 = (int)floorf(x0), q->y0 = (int)floorf(y0), q->x1 = (int)ceilf(x1) + 1, q->y1 = (int)ceilf(y1) + 1;
}

/* Gait phase from the distance walked (a stride is 0.7 heights). */
static float gait(const object *o) { return o->phase0 + fabsf(o->x) / (0.7f * o->size) * 2 * PI; }

/* The parts of an object in the current frame, far to near. */
static void pose_of(const object *o, pose *p)
{
    p->n = 0;
    p->bob = 0;
    if (o->k == CAR) {
        /* lower body, cabin (leaning towards the front), window, two wheels
         * (tyre, hub, a mark that turns as it rolls: angle = distance / radius) */
        const float w = o->size, h = o->size * o->aspect, x0 = o->x, yb = o->yb, rw = minf(0.13f * w, 0.3f * h);
        const float f = o->dir_front ? 1.0f : 0.0f, bl = x0 + 0.1f * w, br = x0 + 0.9f * w;
        const float tl = x0 + (0.22f + 0.1f * f) * w, tr = x0 + (0.68f + 0.1f * f) * w;
        add_part(p, P_RECT, (float[6]){x0, yb - 0.62f * h, x0 + w, yb - 0.14f * h}, o->L[0], 1);
        add_part(p, P_TRAP, (float[6]){yb - h, yb - 0.62f * h, tl, tr, bl, br}, o->L[0], 0.6f);
        add_part(p, P_TRAP,
                 (float[6]){yb - 0.93f * h, yb - 0.66f * h, tl + 0.04f * w, tr - 0.04f * w, bl + 0.06f * w, br - 0.06f * w},
                 o->L[1], 0);
        const float turn = o->x / rw, sx = 0.8f * rw * cosf(turn), sy = 0.8f * rw * sinf(turn);
        for (int k = 0; k < 2; k++) {
            const float wx = x0 + (k ? 0.8f : 0.2f) * w, wy = yb - rw;
            add_part(p, P_DISC, (float[6]){wx, wy, rw}, o->L[2], 0);
            add_part(p, P_DISC, (float[6]){wx, wy, 0.45f * rw}, o->L[3], 0);
            add_part(p, P_CAPSULE, (float[6]){wx, wy, wx + sx, wy + sy, 0.12f * rw + 0.3f}, o->L[2], 0);
        }
        return;
    }
    /* far leg and arm (in shadow), torso, near leg and arm, head; legs and
     * arms swing against each other, the body bobs twice a stride */
    const float h = o->size, ph = gait(o), th = 0.45f * sinf(ph), st = sinf(th), sa = sinf(0.8f * th);
    p->bob = 0.025f * h * fabsf(cosf(ph));
    const float xc = o->x, yb = o->yb - p->bob, r = 0.09f * h;
    const float hip = yb - 0.47f * h, sh = yb - h + 2.4f * r;
    const float leg = 0.045f * h + 0.2f, arm = 0.035f * h + 0.2f;
    add_part(p, P_CAPSULE, (float[6]){xc, hip, xc - 0.47f * h * st, yb - leg, leg}, o->L[1] - 0.3f, 0);
    add_part(p, P_CAPSULE, (float[6]){xc, sh, xc + 0.36f * h * sa, sh + 0.36f * h, arm}, o->L[0] - 0.3f, 0);
    add_part(p, P_RECT, (float[6]){xc - 0.14f * h, yb - h + 2 * r, xc + 0.14f * h, hip + 0.02f * h}, o->L[0], 1);
    add_part(p, P_CAPSULE, (float[6]){xc, hip, xc + 0.47f * h * st, yb - leg, leg}, o->L[1], 0.5f);
    add_part(p, P_CAPSULE, (float[6]){xc, sh, xc - 0.36f * h * sa, sh + 0.36f * h, arm}, o->L[0], 0);
    add_part(p, P_DISC, (float[6]){xc, yb - h + r, r}, o->L[2], 0);
}

/* The object's box: top-left corner and size, pixels (a pedestrian's box
 * follows its bob). */
static void object_box(const object *o, float bob, float *x, float *y, float *w, float *h)
{
    if (o->k == CAR) {
        *x = o->x, *w = o->size, *h = o->size * o->aspect, *y = o->yb - *h;
        return;
    }
    *w = 0.46f * o->size, *h = o->size, *x = o->x - *w / 2, *y = o->yb - *h - bob;
}

/* ---- the scene ---- */

static void make_background(scene *s)
{
    lt_rng *r = &s->rng;
    float tex[TEX * TEX], fine[TEX * TEX];
    for (int k = 0; k < TEX * TEX; k++)
        tex[k] = urand(r, -1, 1), fine[k] = urand(r, -1, 1);
    const float horizon = urand(r, 75, 110), road = urand(r, 125, 145);
    const float sky = urand(r, 0.55f, 0.9f), wall = urand(r, 0.25f, 0.6f), asphalt = urand(r, 0.12f, 0.35f);
    float build[8][3]; /* x0, x1, level */
    int nb = 3 + (int)lt_rng_below(r, 5);
    for (int b = 0; b < nb; b++) {
        build[b][0] = urand(r, -40, SW), build[b][1] = build[b][0] + urand(r, 30, 110);
        build[b][2] = urand(r, 0.1f, 0.7f);
    }
    const float lane = urand(r, 175, 205);
    for (int y = 0; y < SH; y++)
        for (int x = 0; x < SW; x++) {
            float I, t = tex_at(tex, x / 9.0f, y / 9.0f), f = tex_at(fine, x / 2.5f, y / 2.5f);
            if (y < horizon) {
                I = sky * (0.85f + 0.15f * y / horizon) + 0.03f * t;
                for (int b = 0; b < nb; b++)
                    if (x >= build[b][0] && x < build[b][1] && y > horizon - 25 - 40 * build[b][2]) {
                        int win = ((int)(x - build[b][0]) % 9 < 4) && ((int)y % 11 < 5);
                        I = build[b][2] * (win ? 0.55f : 1.0f) + 0.05f * t;
                    }
            } else if (y < road) {
                I = wall * (1 + 0.25f * t) + 0.05f * f; /* far side: walls, hedges */
            } else {
                I = asphalt * (1 + 0.3f * t) + 0.04f * f;
                if (fabsf(y - lane) < 1.5f && (x / 16) % 2 == 0)
                    I = 0.8f; /* dashed lane marking */
            }
            s->bg[y * SW + x] = logI(clampf(I, 0.02f, 1.0f));
        }
    s->n_poles = (int)lt_rng_below(r, 3);
    s->pole_L = logI(urand(r, 0.04f, 0.12f));
    for (int p = 0; p < s->n_poles; p++) {
        s->poles[p][0] = urand(r, 10, SW - 20);
        s->poles[p][1] = urand(r, 3, 8);
        s->poles[p][2] = urand(r, 10, 70);
    }
}

/* A new object at the left or right edge (or anywhere, at the start). */
static void spawn(scene *s, kind k, int anywhere, int64_t t)
{
    if (s->n_obj >= MAX_OBJ)
        return;
    lt_rng *r = &s->rng;
    object *o = &s->obj[s->n_obj++];
    memset(o, 0, sizeof *o);
    o->k = k;
    o->track = s->next_track++;
    o->born = t;
    const int right = (int)(lt_rng_u64(r) >> 63);
    if (k == CAR) {
        o->yb = urand(r, 150, 236);
        /* nearer (lower) cars are larger: about 60 px wide far, 130 px near */
        o->size = (60 + (o->yb - 150) / 86 * 70) * urand(r, 0.85f, 1.15f);
        o->aspect = urand(r, 0.36f, 0.5f);
        o->vx = urand(r, 45, 150) * (right ? -1 : 1);
        o->x = anywhere ? urand(r, -0.3f * o->size, SW - 0.7f * o->size) : right ? SW + 2 : -o->size - 2;
        o->dir_front = o->vx > 0;
        float body = urand(r, 0.08f, 0.9f);
        o->L[0] = logI(body);
        o->L[1] = logI(body > 0.4f ? urand(r, 0.05f, 0.2f) : urand(r, 0.5f, 0.85f)); /* windows */
        o->L[2] = logI(0.04f);                                                    /* tyres */
        o->L[3] = logI(urand(r, 0.1f, 0.25f));                                    /* hubs */
        o->tex_cell = urand(r, 5, 10), o->tex_amp = urand(r, 0.03f, 0.12f);
    } else {
        o->yb = urand(r, 140, 236);
        o->size = (50 + (o->yb - 140) / 96 * 60) * urand(r, 0.9f, 1.1f);
        /* a walk of 0.5-0.9 heights a second (people walk about 0.8) */
        o->vx = urand(r, 0.5f, 0.9f) * o->size * (right ? -1 : 1);
        o->x = anywhere ? urand(r, 0.1f * o->size, SW - 0.1f * o->size) : right ? SW + 0.3f * o->size
                                                                               : -0.3f * o->size;
        /* clothes dark or light, never the grey of the street behind */
        for (int q = 0; q < 2; q++)
            o->L[q] = logI(lt_rng_uniform(r) < 0.5 ? urand(r, 0.03f, 0.1f) : urand(r, 0.55f, 0.95f));
        o->L[2] = logI(urand(r, 0.3f, 0.8f)); /* head */
        o->tex_cell = urand(r, 3, 6), o->tex_amp = urand(r, 0.03f, 0.12f);
        o->phase0 = urand(r, 0, 2 * PI);
    }
    for (int q = 0; q < TEX * TEX; q++)
        o->tex[q] = urand(r, -1, 1);
}

/* Objects drawn far to near: a lower ground line is nearer. */
static int cmp_depth(const void *a, const void *b)
{
    const object *p = a, *q = b;
    return p->yb < q->yb ? -1 : p->yb > q->yb ? 1 : (p->track > q->track) - (p->track < q->track);
}

/* Paints object k: its parts into the layer (premultiplied level A and
 * alpha a over the object's extent), then the layer over the frame.  With
 * ids, records its area (pixels it covers at least half, inside the sensor
 * or not) and marks the pixels it shows in. */
static void render_object(scene *s, int k, int with_ids)
{
    object *o = &s->obj[k];
    pose p;
    pose_of(o, &p);
    int x0 = p.p[0].x0, y0 = p.p[0].y0, x1 = p.p[0].x1, y1 = p.p[0].y1;
    for (int q = 1; q < p.n; q++) {
        x0 = p.p[q].x0 < x0 ? p.p[q].x0 : x0, y0 = p.p[q].y0 < y0 ? p.p[q].y0 : y0;
        x1 = p.p[q].x1 > x1 ? p.p[q].x1 : x1, y1 = p.p[q].y1 > y1 ? p.p[q].y1 : y1;
    }
    x1 = x1 > x0 + LAYER ? x0 + LAYER : x1, y1 = y1 > y0 + LAYER ? y0 + LAYER : y1;
    o->ex0 = x0, o->ey0 = y0, o->ex1 = x1, o->ey1 = y1;
    const int lw = x1 - x0;
    /* only what can be seen is painted, except at box times (the area needs all of it) */
    const int cx0 = with_ids || x0 >= 0 ? x0 : 0, cy0 = with_ids || y0 >= 0 ? y0 : 0;
    const int cx1 = with_ids || x1 <= SW ? x1 : SW, cy1 = with_ids || y1 <= SH ? y1 : SH;
    if (cx1 <= cx0 || cy1 <= cy0)
        return;
    for (int y = cy0; y < cy1; y++) {
        memset(s->la + (size_t)(y - y0) * lw + (cx0 - x0), 0, (size_t)(cx1 - cx0) * sizeof *s->la);
        memset(s->lA + (size_t)(y - y0) * lw + (cx0 - x0), 0, (size_t)(cx1 - cx0) * sizeof *s->lA);
    }
    for (int q = 0; q < p.n; q++) {
        const part *pt = &p.p[q];
        const int qx0 = pt->x0 > cx0 ? pt->x0 : cx0, qx1 = pt->x1 < cx1 ? pt->x1 : cx1;
        const int qy0 = pt->y0 > cy0 ? pt->y0 : cy0, qy1 = pt->y1 < cy1 ? pt->y1 : cy1;
        for (int y = qy0; y < qy1; y++)
            for (int x = qx0; x < qx1; x++) {
                float c = cover(pt, (float)x, (float)y);
                if (c <= 0)
                    continue;
                float L = pt->L;
                if (pt->tex != 0)
                    L += pt->tex * o->tex_amp *
                         tex_at(o->tex, ((float)x + 0.5f - o->x) / o->tex_cell, ((float)y + 0.5f - o->yb) / o->tex_cell);
                /* "over": this part in front of what the object has so far */
                size_t i = (size_t)(y - y0) * lw + (size_t)(x - x0);
                s->lA[i] = L * c + s->lA[i] * (1 - c);
                s->la[i] = c + s->la[i] * (1 - c);
            }
    }
    int area = 0;
    for (int y = cy0; y < cy1; y++)
        for (int x = cx0; x < cx1; x++) {
            size_t i = (size_t)(y - y0) * lw + (size_t)(x - x0);
            const float a = s->la[i];
            area += a >= 0.5f;
            if (a <= 0 || x < 0 || y < 0 || x >= SW || y >= SH)
                continue;
            float *px = &s->L[y * SW + x];
            *px = s->lA[i] + *px * (1 - a);
            if (with_ids && a >= 0.5f)
                s->id[y * SW + x] = (uint8_t)k;
        }
    o->area = area;
}

static void render(scene *s, int with_ids)
{
    memcpy(s->L, s->bg, (size_t)SW * SH * sizeof *s->L);
    if (with_ids)
        memset(s->id, ID_NONE, (size_t)SW * SH);
    qsort(s->obj, (size_t)s->n_obj, sizeof *s->obj, cmp_depth);
    for (int k = 0; k < s->n_obj; k++)
        render_object(s, k, with_ids);
    for (int p = 0; p < s->n_poles; p++) /* static occluders in front of everything */
        for (int y = (int)s->poles[p][2]; y < SH; y++)
            for (int x = (int)s->poles[p][0] - 1; x <= (int)(s->poles[p][0] + s->poles[p][1]) + 1; x++) {
                if (x < 0 || x >= SW)
                    continue;
                float c = overlap((float)x, s->poles[p][0], s->poles[p][0] + s->poles[p][1]);
                if (c <= 0)
                    continue;
                float *px = &s->L[y * SW + x];
                *px = s->pole_L * c + *px * (1 - c);
                if (with_ids && c >= 0.5f)
                    s->id[y * SW + x] = ID_NONE;
            }
}

/* Fraction of object k that shows (in front, inside the sensor), after a
 * render with ids; *shown gets the pixel count. */
static float visible(const scene *s, int k, int *shown)
{
    const object *o = &s->obj[k];
    int vis = 0;
    for (int y = o->ey0 < 0 ? 0 : o->ey0; y < o->ey1 && y < SH; y++)
        for (int x = o->ex0 < 0 ? 0 : o->ex0; x < o->ex1 && x < SW; x++)
            vis += s->id[y * SW + x] == k;
    *shown = vis;
    return o->area ? (float)vis / (float)o->area : 0;
}

/* Moves everything by dt seconds, drops objects that have left, spawns. */
static void advance(scene *s, float dt, int64_t t)
{
    for (int k = 0; k < s->n_obj; k++)
        s->obj[k].x += s->obj[k].vx * dt;
    int m = 0;
    for (int k = 0; k < s->n_obj; k++) {
        float x, y, w, h;
        object_box(&s->obj[k], 0, &x, &y, &w, &h);
        int gone = s->obj[k].vx > 0 ? x > SW + 4 : x + w < -4;
        if (!gone)
            s->obj[m++] = s->obj[k];
    }
    s->n_obj = m;
    for (int c = 0; c < 2; c++)
        if (lt_rng_uniform(&s->rng) < s->rate[c] * dt)
            spawn(s, (kind)c, 0, t);
}

static lt_status push_box(lt_gen1_boxes *b, size_t *cap, int64_t t, const object *o, lt_err *err)
{
    if (b->n == *cap) {
        lt_gen1_boxes nb;
        size_t c = *cap ? 2 * *cap : 256;
        lt_status st = lt_gen1_boxes_alloc(&nb, c, err);
        if (st)
            return st;
        if (b->n) {
            memcpy(nb.t, b->t, b->n * sizeof *b->t);
            memcpy(nb.x, b->x, b->n * sizeof *b->x), memcpy(nb.y, b->y, b->n * sizeof *b->y);
            memcpy(nb.w, b->w, b->n * sizeof *b->w), memcpy(nb.h, b->h, b->n * sizeof *b->h);
            memcpy(nb.cls, b->cls, b->n * sizeof *b->cls), memcpy(nb.track, b->track, b->n * sizeof *b->track);
            memcpy(nb.score, b->score, b->n * sizeof *b->score);
        }
        nb.n = b->n;
        lt_gen1_boxes_free(b);
        *b = nb;
        *cap = c;
    }
    pose p;
    pose_of(o, &p);
    float x, y, w, h;
    object_box(o, p.bob, &x, &y, &w, &h);
    size_t i = b->n++;
    b->t[i] = t, b->x[i] = x, b->y[i] = y, b->w[i] = w, b->h[i] = h;
    b->cls[i] = o->k == CAR ? 0 : 1, b->track[i] = o->track, b->score[i] = 1.0f;
    return LT_OK;
}

static uint64_t rec_seed(uint64_t seed, int split, size_t i)
{
    uint64_t h = seed * 0x9E3779B97F4A7C15ull + (uint64_t)split;
    return h * 0xBF58476D1CE4E5B9ull + (uint64_t)i + 1;
}

lt_status lt_gen1_synth_recording(lt_events *ev, lt_gen1_boxes *boxes, const lt_gen1_synth_opts *o, int split,
                                  size_t i, lt_err *err)
{
    memset(boxes, 0, sizeof *boxes);
    if (!(o->duration_s > 0 && o->duration_s <= 3600) || o->box_period_us < 1000 || o->render_hz < 10 ||
        o->render_hz > 100000)
        return lt_err_set(err, LT_ERR_ARG, "synth-gen1: duration %g s, box period %lld us, render %d Hz: expected "
                          "0 < duration <= 3600, a period of at least 1 ms, 10..100000 Hz", o->duration_s,
                          (long long)o->box_period_us, o->render_hz);
    scene s;
    memset(&s, 0, sizeof s);
    lt_rng_seed(&s.rng, rec_seed(o->seed, split, i));
    s.bg = malloc((size_t)SW * SH * sizeof *s.bg);
    s.L = malloc((size_t)SW * SH * sizeof *s.L);
    s.id = malloc((size_t)SW * SH);
    s.lA = malloc((size_t)LAYER * LAYER * sizeof *s.lA);
    s.la = malloc((size_t)LAYER * LAYER * sizeof *s.la);
    lt_status st = LT_OK;
    lt_dvs dvs;
    memset(&dvs, 0, sizeof dvs);
    if (!s.bg || !s.L || !s.id || !s.lA || !s.la) {
        st = lt_err_set(err, LT_ERR_NOMEM, "synth-gen1: out of memory");
        goto free_scene;
    }
    make_background(&s);
    s.rate[CAR] = urand(&s.rng, 0.35f, 0.65f);
    s.rate[PED] = urand(&s.rng, 0.12f, 0.3f);
    int cars0 = 1 + (int)lt_rng_below(&s.rng, 3), peds0 = (int)lt_rng_below(&s.rng, 2);
    for (int k = 0; k < cars0; k++)
        spawn(&s, CAR, 1, 0);
    for (int k = 0; k < peds0; k++)
        spawn(&s, PED, 1, 0);
    /* the sensor: thresholds, mismatch, refractory period, noise, hot pixels */
    lt_dvs_opts d;
    lt_dvs_opts_default(&d);
    d.c_on = urand(&s.rng, 0.28f, 0.4f);
    d.c_off = d.c_on * urand(&s.rng, 0.85f, 1.15f);
    d.refractory_us = 3000;
    d.noise_hz = urand(&s.rng, 0.03f, 0.12f);
    d.hot_frac = (float)lt_rng_below(&s.rng, 5) / (float)(SW * SH);
    d.hot_hz = urand(&s.rng, 50, 300);
    d.seed = lt_rng_u64(&s.rng);
    if ((st = lt_dvs_init(&dvs, SW, SH, &d, err)))
        goto free_scene;
    /* render steps divide the box period, so every box time is a rendered frame */
    const int64_t per_box = (o->box_period_us * o->render_hz + 999999) / 1000000;
    const int64_t end = (int64_t)(o->duration_s * 1e6);
    size_t cap = 0;
    int64_t t_prev = 0;
    render(&s, 0);
    lt_dvs_start_log(&dvs, s.L, 0);
    for (int64_t n = 1; n * o->box_period_us / per_box <= end && !st; n++) {
        const int64_t t = n * o->box_period_us / per_box;
        advance(&s, (float)(t - t_prev) * 1e-6f, t);
        t_prev = t;
        const int box_time = n % per_box == 0;
        render(&s, box_time);
        if ((st = lt_dvs_step_log(&dvs, ev, s.L, t, err)))
            break;
        if (!box_time)
            continue;
        for (int k = 0; k < s.n_obj && !st; k++) {
            int shown;
            if (visible(&s, k, &shown) >= MIN_VISIBLE && shown >= MIN_VISIBLE_PX)
                st = push_box(boxes, &cap, t, &s.obj[k], err);
        }
    }
    if (!st && !boxes->t)
        st = lt_gen1_boxes_alloc(boxes, 0, err);
free_scene:
    lt_dvs_free(&dvs);
    free(s.bg), free(s.L), free(s.id), free(s.lA), free(s.la);
    if (st)
        lt_gen1_boxes_free(boxes);
    return st;
}

/* OUT/split, created when missing. */
static lt_status make_dir(const char *path, lt_err *err)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST)
        return LT_OK;
    return lt_err_set(err, LT_ERR_IO, "%s: cannot create the folder: %s", path, strerror(errno));
}

lt_status lt_gen1_synth_write(const char *out_root, const lt_gen1_synth_opts *o, lt_err *err)
{
    lt_status st = make_dir(out_root, err);
    if (st)
        return st;
    size_t total = 0, done = 0;
    for (int s = 0; s < LT_GEN1_SPLITS; s++)
        total += o->n[s];
    const int nt = o->threads > 0 ? o->threads : lt_get_threads();
    for (int s = 0; s < LT_GEN1_SPLITS && !st; s++) {
        if (!o->n[s])
            continue;
        char dir[4096];
        if (snprintf(dir, sizeof dir, "%s/%s", out_root, lt_gen1_split_name(s)) >= (int)sizeof dir)
            return lt_err_set(err, LT_ERR_ARG, "%s: path too long", out_root);
        if ((st = make_dir(dir, err)))
            return st;
        lt_status *sts = calloc(o->n[s], sizeof *sts);
        lt_err *errs = calloc(o->n[s], sizeof *errs);
        if (!sts || !errs) {
            free(sts), free(errs);
            return lt_err_set(err, LT_ERR_NOMEM, "synth-gen1: out of memory");
        }
        /* recordings in parallel; each has its own RNG, so the files do not
         * depend on the thread count */
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (size_t i = 0; i < o->n[s]; i++) {
            lt_events ev = {0};
            lt_gen1_boxes b;
            char td[4200], bb[4200];
            snprintf(td, sizeof td, "%s/synth_%s_%04zu_td.dat", dir, lt_gen1_split_name(s), i);
            snprintf(bb, sizeof bb, "%s/synth_%s_%04zu_bbox.npy", dir, lt_gen1_split_name(s), i);
            lt_writer_opts wo = {.format = LT_EVF_DAT, .width = SW, .height = SH};
            sts[i] = lt_gen1_synth_recording(&ev, &b, o, s, i, &errs[i]);
            if (!sts[i])
                sts[i] = lt_events_write_file(td, &ev, &wo, &errs[i]);
            if (!sts[i])
                sts[i] = lt_gen1_boxes_write(bb, &b, o->layout, &errs[i]);
            lt_gen1_boxes_free(&b);
            lt_events_free(&ev);
#pragma omp critical(gen1_synth_progress)
            {
                done++;
                if (o->progress)
                    o->progress(o->ctx, done, total);
            }
        }
        for (size_t i = 0; i < o->n[s] && !st; i++)
            if (sts[i]) {
                st = sts[i];
                if (err)
                    *err = errs[i];
            }
        free(sts), free(errs);
    }
    return st;
}
