/* test_cache.c -- the frame cache and lt_dataset: round trips of bit-packed
 * and uint8 datasets (Ts == T and Ts == 1 through lt_dataset_get), refusal
 * of corrupt, truncated and foreign files, atomic writes, split names. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "ltsnn/data.h"

static char dir[256];

static void path_in(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", dir, name); }

static int exists(const char *p)
{
    struct stat s;
    return stat(p, &s) == 0;
}

static size_t files_in_dir(void)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static unsigned char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*len ? *len : 1);
    if (b && fread(b, 1, *len, f) != *len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static void spit(const char *p, const void *b, size_t len)
{
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(b, 1, len, f);
        fclose(f);
    }
}

static const char *const names3[3] = {"zero", "one", "a longer class name"};

/* A dataset with random content: bits 1 or 8. */
static lt_status make(lt_dataset *d, size_t n, int Ts, int C, int H, int W, int bits, uint64_t seed)
{
    lt_err err;
    lt_status st = lt_dataset_alloc(d, n, Ts, C, H, W, 3, bits, bits == 1 ? 1.0f : 1.0f / 255, &err);
    if (st)
        return st;
    lt_rng r;
    lt_rng_seed(&r, seed);
    uint8_t *data = d->mem_owned;
    int32_t *labels = (int32_t *)d->labels;
    size_t el = (size_t)Ts * C * H * W;
    uint8_t *tmp = malloc(el);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < el; k++)
            tmp[k] = bits == 1 ? (uint8_t)lt_rng_below(&r, 2) : (uint8_t)lt_rng_below(&r, 256);
        if (bits == 1)
            lt_frames_pack(data + i * d->sample_bytes, tmp, el);
        else
            memcpy(data + i * d->sample_bytes, tmp, el);
        labels[i] = (int32_t)lt_rng_below(&r, 3);
    }
    free(tmp);
    snprintf(d->name, sizeof d->name, "unit");
    snprintf(d->opts, sizeof d->opts, "T=%d made by test_cache", Ts);
    return lt_dataset_set_class_names(d, names3, &err);
}

/* Element k of sample i, read bit by bit (the plain version of lt_dataset_get). */
static float element(const lt_dataset *d, size_t i, size_t k)
{
    const uint8_t *s = d->data + i * d->sample_bytes;
    if (d->bits == 1)
        return (float)((s[k / 8] >> (k % 8)) & 1) * d->scale;
    return (float)s[k] * d->scale;
}

static void test_pack(void)
{
    uint8_t f[13] = {1, 0, 0, 1, 0, 0, 0, 5, 1, 1, 0, 0, 1}, b[2] = {0xff, 0xff};
    lt_frames_pack(b, f, 13);
    CHECK(b[0] == 0x89 && b[1] == 0x13, "pack LSB first: %02x %02x", b[0], b[1]);
    CHECK(lt_dataset_sample_bytes(3, 2, 5, 3, 1) == 12 && lt_dataset_sample_bytes(3, 2, 5, 3, 8) == 90,
          "sample bytes ceil(90/8) and 90");
    CHECK(lt_dataset_sample_bytes(0, 2, 5, 3, 1) == 0 && lt_dataset_sample_bytes(1, 1, 1, 1, 4) == 0,
          "bad shapes give 0");
}

static void roundtrip(int bits, int Ts, int T)
{
    char p[512];
    path_in(p, sizeof p, "rt.ltc");
    lt_dataset a, b;
    lt_err err;
    const int C = 2, H = 5, W = 3; /* 30 values a frame: frames start mid-byte */
    CHECK(make(&a, 7, Ts, C, H, W, bits, 11 + (uint64_t)bits) == LT_OK, "make");
    CHECK(lt_cache_write(p, &a, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_cache_open(&b, p, &err) == LT_OK, "%s", err.msg);
    CHECK(b.n == 7 && b.Ts == Ts && b.C == C && b.H == H && b.W == W && b.bits == bits && b.classes == 3,
          "shape survives");
    CHECK(b.scale == a.scale && !strcmp(b.name, "unit") && !strcmp(b.opts, a.opts), "scale, name, opts");
    CHECK(b.class_names && !strcmp(b.class_names[2], "a longer class name") && !strcmp(b.class_names[0], "zero"),
          "class names");
    CHECK(b.sample_bytes == a.sample_bytes && !memcmp(a.data, b.data, a.n * a.sample_bytes), "sample bytes");
    CHECK(!memcmp(a.labels, b.labels, a.n * 4), "labels");
    CHECK(((uintptr_t)b.labels & 3) == 0, "labels aligned");
    CHECK(lt_dataset_check_T(&b, T, &err) == LT_OK, "T %d fits Ts %d", T, Ts);

    /* sample 4 into slot 2 of a batch of 3; the other slots keep their sentinel */
    const int B = 3;
    size_t frame = (size_t)C * H * W, total = (size_t)T * B * frame;
    float *x = malloc(total * sizeof *x);
    for (size_t k = 0; k < total; k++)
        x[k] = -7.0f;
    lt_dataset_get(&b, 4, x, T, B, 2);
    int wrong = 0, touched = 0;
    for (int t = 0; t < T; t++)
        for (int s = 0; s < B; s++)
            for (size_t k = 0; k < frame; k++) {
                float v = x[((size_t)t * B + (size_t)s) * frame + k];
                if (s != 2) {
                    touched += v != -7.0f;
                    continue;
                }
                size_t src = (Ts == 1 ? 0 : (size_t)t) * frame + k;
                wrong += v != element(&b, 4, src);
            }
    CHECK(wrong == 0 && touched == 0, "lt_dataset_get bits=%d Ts=%d T=%d: %d wrong, %d other-slot writes", bits,
          Ts, T, wrong, touched);
    free(x);
    lt_dataset_free(&b);
    lt_dataset_free(&a);
    CHECK(b.data == NULL && b.map_base == NULL, "free zeroes");
    lt_dataset_free(&b);
    unlink(p);
}

static void test_check_T(void)
{
    lt_dataset d;
    lt_err err;
    CHECK(make(&d, 1, 3, 1, 2, 2, 1, 1) == LT_OK, "make");
    CHECK(lt_dataset_check_T(&d, 4, &err) == LT_ERR_SHAPE && strstr(err.msg, "T = 4"), "Ts 3 vs T 4: %s",
          err.msg);
    CHECK(lt_dataset_check_T(&d, 3, &err) == LT_OK, "Ts 3, T 3");
    lt_dataset_free(&d);
    CHECK(make(&d, 1, 1, 1, 2, 2, 8, 1) == LT_OK, "make");
    CHECK(lt_dataset_check_T(&d, 9, &err) == LT_OK, "Ts 1 fits any T");
    lt_dataset_free(&d);
}

static lt_status open_msg(const char *p, char *msg, size_t cap)
{
    lt_dataset d;
    lt_err err;
    lt_status st = lt_cache_open(&d, p, &err);
    if (st == LT_OK)
        lt_dataset_free(&d);
    else
        snprintf(msg, cap, "%.*s", (int)(cap - 1), err.msg); /* err.msg may be longer than msg */
    return st;
}

static void put32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static void test_hostile(void)
{
    char good[512], badp[512], msg[sizeof ((lt_err *)0)->msg];
    path_in(good, sizeof good, "good.ltc");
    path_in(badp, sizeof badp, "bad.ltc");
    lt_dataset a;
    lt_err err;
    CHECK(make(&a, 5, 2, 2, 4, 4, 1, 3) == LT_OK, "make");
    CHECK(lt_cache_write(good, &a, &err) == LT_OK, "%s", err.msg);
    lt_dataset_free(&a);
    size_t len;
    unsigned char *b = slurp(good, &len);
    CHECK(b && len > 200, "read back %zu bytes", len);
    if (!b)
        return;

    /* every single-bit flip anywhere is refused */
    int accepted = 0;
    for (size_t i = 0; i < len; i++) {
        b[i] ^= (unsigned char)(1u << (i % 8));
        spit(badp, b, len);
        accepted += open_msg(badp, msg, sizeof msg) == LT_OK;
        b[i] ^= (unsigned char)(1u << (i % 8));
    }
    CHECK(accepted == 0, "%d of %zu bit flips accepted", accepted, len);

    /* a flipped sample byte: the checksum names the file */
    b[len - 40] ^= 0x10;
    spit(badp, b, len);
    CHECK(open_msg(badp, msg, sizeof msg) == LT_ERR_FORMAT && strstr(msg, badp) && strstr(msg, "CRC"),
          "corrupt data: %s", msg);
    b[len - 40] ^= 0x10;

    /* every truncation is refused, with the expected size in the message */
    int trunc_ok = 0;
    for (size_t cut = 0; cut < len; cut += 7)
        if (spit(badp, b, cut), open_msg(badp, msg, sizeof msg) == LT_OK)
            trunc_ok++;
    CHECK(trunc_ok == 0, "%d truncations accepted", trunc_ok);
    spit(badp, b, len - 1);
    CHECK(open_msg(badp, msg, sizeof msg) == LT_ERR_FORMAT && strstr(msg, "truncated") && strstr(msg, "byte 72"),
          "truncated: %s", msg);

    /* wrong magic, wrong version */
    b[0] = 'X';
    spit(badp, b, len);
    CHECK(open_msg(badp, msg, sizeof msg) == LT_ERR_FORMAT && strstr(msg, "magic") && strstr(msg, "byte 0"),
          "magic: %s", msg);
    b[0] = 'L';
    put32(b + 8, 3);
    spit(badp, b, len);
    CHECK(open_msg(badp, msg, sizeof msg) == LT_ERR_FORMAT && strstr(msg, "version") && strstr(msg, "byte 8"),
          "version: %s", msg);
    put32(b + 8, 2); /* the version lt_cache_write writes */
    /* a huge sample count (as a hostile header would have) is caught before any use */
    unsigned char save[8];
    memcpy(save, b + 16, 8);
    memset(b + 16, 0xff, 8);
    spit(badp, b, len);
    CHECK(open_msg(badp, msg, sizeof msg) == LT_ERR_FORMAT && strstr(msg, "byte 16"), "huge n: %s", msg);
    memcpy(b + 16, save, 8);
    spit(badp, b, len);
    CHECK(open_msg(badp, msg, sizeof msg) == LT_OK, "restored file opens again");

    spit(badp, "", 0);
    CHECK(open_msg(badp, msg, sizeof msg) == LT_ERR_FORMAT && strstr(msg, "too short"), "empty: %s", msg);
    path_in(badp, sizeof badp, "missing.ltc");
    CHECK(open_msg(badp, msg, sizeof msg) == LT_ERR_IO && strstr(msg, "missing.ltc"), "missing: %s", msg);
    CHECK(open_msg(dir, msg, sizeof msg) != LT_OK, "a folder is refused");
    free(b);
    path_in(badp, sizeof badp, "bad.ltc");
    unlink(badp);
    unlink(good);
}

static void test_atomic(void)
{
    char p[512];
    path_in(p, sizeof p, "atomic.ltc");
    lt_dataset a;
    lt_err err;
    CHECK(make(&a, 4, 1, 1, 3, 3, 8, 5) == LT_OK, "make");

    /* an aborted streaming write leaves nothing behind */
    size_t before = files_in_dir();
    lt_cache_writer *w;
    CHECK(lt_cache_writer_open(&w, p, &a, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_cache_writer_add(w, a.data, 1, &err) == LT_OK, "%s", err.msg);
    CHECK(files_in_dir() == before + 1, "a temporary file while writing");
    lt_cache_writer_abort(w);
    CHECK(!exists(p) && files_in_dir() == before, "abort leaves no file");

    /* a good file survives a failed rewrite (bad label) untouched */
    CHECK(lt_cache_write(p, &a, &err) == LT_OK, "%s", err.msg);
    size_t len0, len1;
    unsigned char *b0 = slurp(p, &len0);
    ((int32_t *)a.labels)[2] = 3; /* classes = 3: out of range */
    CHECK(lt_cache_write(p, &a, &err) == LT_ERR_ARG && strstr(err.msg, "label 3"), "bad label: %s", err.msg);
    unsigned char *b1 = slurp(p, &len1);
    CHECK(b0 && b1 && len0 == len1 && !memcmp(b0, b1, len0), "old file intact");
    CHECK(files_in_dir() == before + 1, "no temporary file left");
    free(b0);
    free(b1);

    /* zero samples is a valid (empty) split */
    CHECK(lt_cache_writer_open(&w, p, &a, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_cache_writer_count(w) == 0 && lt_cache_writer_commit(w, &err) == LT_OK, "%s", err.msg);
    lt_dataset e;
    CHECK(lt_cache_open(&e, p, &err) == LT_OK && e.n == 0 && e.classes == 3, "empty cache opens: %s", err.msg);
    lt_dataset_free(&e);

    /* refused shapes */
    a.bits = 4;
    CHECK(lt_cache_writer_open(&w, p, &a, &err) == LT_ERR_ARG, "bits 4 refused");
    a.bits = 8;
    lt_dataset_free(&a);
    unlink(p);
}

static void test_split_names(void)
{
    char out[64], p[512];
    lt_err err;
    CHECK(lt_cache_split_path(out, sizeof out, "a/b", "train", &err) == LT_OK && !strcmp(out, "a/b-train.ltc"),
          "%s", out);
    CHECK(lt_cache_split_path(out, sizeof out, "a/b.ltc", "test", &err) == LT_OK && !strcmp(out, "a/b-test.ltc"),
          "%s", out);
    CHECK(lt_cache_split_path(out, 8, "a/b", "train", &err) == LT_ERR_ARG, "too long");

    lt_dataset a, d;
    CHECK(make(&a, 3, 1, 1, 2, 2, 1, 9) == LT_OK, "make");
    path_in(p, sizeof p, "pre-test.ltc");
    CHECK(lt_cache_write(p, &a, &err) == LT_OK, "%s", err.msg);
    path_in(p, sizeof p, "pre");
    CHECK(lt_cache_open_split(&d, p, "test", &err) == LT_OK && d.n == 3, "prefix + split: %s", err.msg);
    lt_dataset_free(&d);
    CHECK(lt_cache_open_split(&d, p, "train", &err) == LT_ERR_IO && strstr(err.msg, "pre-train.ltc"),
          "missing split named: %s", err.msg);
    path_in(p, sizeof p, "pre-test.ltc");
    CHECK(lt_cache_open_split(&d, p, "train", &err) == LT_OK && d.n == 3, "a file opens as is");
    lt_dataset_free(&d);
    unlink(p);
    lt_dataset_free(&a);
}

static void test_speed(void)
{
    /* unpacking a 10 x 2 x 48 x 48 bit sample: well under a millisecond */
    lt_dataset a;
    lt_err err;
    if (lt_dataset_alloc(&a, 4, 10, 2, 48, 48, 10, 1, 1.0f, &err))
        return;
    float *x = malloc((size_t)10 * 16 * 2 * 48 * 48 * sizeof *x);
    double t0 = lt_time_s();
    for (int rep = 0; rep < 200; rep++)
        lt_dataset_get(&a, (size_t)rep % 4, x, 10, 16, rep % 16);
    double us = (lt_time_s() - t0) / 200 * 1e6;
    printf("lt_dataset_get: %.1f us per 10x2x48x48 bit sample\n", us);
    CHECK(us < 2000, "%.1f us per sample", us);
    free(x);
    lt_dataset_free(&a);
}

int main(void)
{
    check_begin("test_cache");
    snprintf(dir, sizeof dir, "/tmp/ltsnn-test-cache-%ld", (long)getpid());
    mkdir(dir, 0700);
    test_pack();
    roundtrip(1, 3, 3);
    roundtrip(1, 1, 4);
    roundtrip(8, 3, 3);
    roundtrip(8, 1, 5);
    test_check_T();
    test_hostile();
    test_atomic();
    test_split_names();
    test_speed();
    rmdir(dir);
    return check_done();
}
