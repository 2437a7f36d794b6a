/* rt_classify.c -- classify event recordings with an integer .ltq model,
 * using only the runtime (runtime/ltsnn_rt.h), not libltsnn.
 *
 * Reads N-MNIST-style ATIS .bin recordings (5 bytes an event: x, y, p in
 * bit 7 of the third byte with a 23-bit big-endian timestamp; y == 240
 * marks a timestamp overflow, +2^13, as ltsnn's reader counts it), bins
 * each into the model's T binary frames of 2 polarity channels (METHOD.md
 * §6: equal time bins, coordinates scaled from the sensor to the model's
 * input, channel 0 OFF, 1 ON), feeds them one step at a time and prints the
 * predicted class and the logit sums.  The runtime's memory is one static
 * arena; nothing is allocated while classifying.
 *
 *   cc -std=c99 -Iruntime examples/rt_classify.c runtime/ltsnn_rt.c -o rt_classify
 *   ./rt_classify MODEL.ltq [--sensor 34x34] REC.bin [REC.bin ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ltsnn_rt.h"

#define ARENA_BYTES (16u << 20)
#define MAX_FRAME (1u << 20)

static unsigned char arena[ARENA_BYTES];
static uint8_t frames[4u << 20];   /* [T][2][H][W] binary frames of one recording */

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* METHOD.md §6 equal-time binning of an ATIS recording into frames[T][2][H][W] */
static int bin_recording(const unsigned char *ev, size_t len, unsigned T, unsigned H, unsigned W, unsigned sw,
                         unsigned sh)
{
    uint64_t t0 = (uint64_t)-1, t1 = 0, off = 0;
    size_t i;
    if (len % 5)
        return -1;
    for (int pass = 0; pass < 2; pass++) {
        off = 0;
        for (i = 0; i < len; i += 5) {
            unsigned x = ev[i], y = ev[i + 1], p = ev[i + 2] >> 7;
            uint64_t t = ((uint64_t)(ev[i + 2] & 0x7Fu) << 16 | (uint64_t)ev[i + 3] << 8 | ev[i + 4]) + off;
            if (y == 240) {
                off += 1u << 13;
                continue;
            }
            if (x >= sw || y >= sh)
                return -1;
            if (pass == 0) {
                t0 = t < t0 ? t : t0;
                t1 = t > t1 ? t : t1;
                continue;
            }
            unsigned b = (unsigned)((t - t0) * T / (t1 - t0 + 1));
            unsigned xs = x * W / sw, ys = y * H / sh;
            frames[(((size_t)b * 2 + (p ? 1 : 0)) * H + ys) * W + xs] = 1;
        }
        if (pass == 0 && t0 == (uint64_t)-1)
            return 0; /* no events: all frames stay empty */
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned sw = 34, sh = 34;
    int first = 2;
    if (argc >= 4 && !strcmp(argv[2], "--sensor")) {
        if (sscanf(argv[3], "%ux%u", &sw, &sh) != 2 || !sw || !sh || sw > 256 || sh > 240)
            return fprintf(stderr, "rt_classify: --sensor WxH (at most 256x240)\n"), 2;
        first = 4;
    }
    if (argc <= first)
        return fprintf(stderr, "usage: rt_classify MODEL.ltq [--sensor WxH] REC.bin [REC.bin ...]\n"), 2;
    size_t mlen, need;
    unsigned char *model = read_all(argv[1], &mlen);
    lt_rt_info info;
    lt_rt *rt;
    int st;
    if (!model)
        return fprintf(stderr, "rt_classify: cannot read %s\n", argv[1]), 1;
    if ((st = lt_rt_arena_size(model, mlen, &need, &info)))
        return fprintf(stderr, "rt_classify: %s: byte %lu: %s (%s)\n", argv[1], (unsigned long)info.err_offset,
                       info.err_what, lt_rt_strerror(st)), 1;
    if (need > ARENA_BYTES || (st = lt_rt_init(&rt, arena, sizeof arena, model, mlen, &info)))
        return fprintf(stderr, "rt_classify: %s needs %lu bytes of arena: %s\n", argv[1], (unsigned long)need,
                       st ? lt_rt_strerror(st) : "more than this program has"), 1;
    const unsigned T = info.T ? info.T : 1, H = info.in_h, W = info.in_w, frame = 2 * H * W;
    if (info.in_c != 2 || info.in_max != 1 || (size_t)T * frame > sizeof frames)
        return fprintf(stderr, "rt_classify: %s does not take binary 2-channel event frames that fit here\n",
                       argv[1]), 1;
    printf("%s: %ux%ux%u binary input, T=%u, %u classes; flash %lu bytes, RAM %lu bytes\n", argv[1], info.in_c,
           H, W, T, info.classes, (unsigned long)info.flash_bytes, (unsigned long)info.arena_bytes);
    for (int a = first; a < argc; a++) {
        size_t len;
        unsigned char *ev = read_all(argv[a], &len);
        memset(frames, 0, (size_t)T * frame);
        if (!ev || bin_recording(ev, len, T, H, W, sw, sh)) {
            fprintf(stderr, "rt_classify: %s: not an ATIS recording of a %ux%u sensor\n", argv[a], sw, sh);
            free(ev);
            return 1;
        }
        free(ev);
        lt_rt_reset(rt);
        for (unsigned t = 0; t < T; t++)
            if ((st = lt_rt_step(rt, frames + (size_t)t * frame)))
                return fprintf(stderr, "rt_classify: %s: step %u: %s\n", argv[a], t, lt_rt_strerror(st)), 1;
        const int64_t *s = lt_rt_logit_sums(rt);
        printf("%s: class %u, logit sums", argv[a], lt_rt_predict(rt));
        for (unsigned k = 0; k < info.classes; k++)
            printf(" %lld", (long long)s[k]);
        printf("\n");
    }
    free(model);
    return 0;
}
