/* test_safetensors.c -- the file layer: atomic writes (lt_afile) and the
 * safetensors reader/writer.  Checks round trips of every dtype the loaders
 * use (0-d and empty tensors included), metadata, a refusal with a precise
 * message for each kind of corrupt file, that a failed write leaves the old
 * file untouched, and that an independent Python reader (json + struct
 * only, tests/data/check_safetensors.py) reads a file we wrote. */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "ltsnn/io.h"

static char dir[256];

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static int contains(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

/* Count files in dir whose name contains ".tmp." (left-over temporaries). */
static int count_temps(const char *d)
{
    int n = 0;
    DIR *dp = opendir(d);
    if (!dp)
        return -1;
    for (struct dirent *e; (e = readdir(dp));)
        if (strstr(e->d_name, ".tmp."))
            n++;
    closedir(dp);
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    void *buf = NULL;
    lt_err err;
    if (lt_read_file(path, &buf, len, 0, &err))
        return NULL;
    return buf;
}

/* A file made of: u64 header length, the header text, data_len zero bytes.
 * hl_override replaces the length field when non-zero. */
static void write_raw(const char *path, const char *hdr, size_t data_len, uint64_t hl_override)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    uint64_t hl = hl_override ? hl_override : strlen(hdr);
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(hl >> (8 * i));
    fwrite(b, 1, 8, f);
    fwrite(hdr, 1, strlen(hdr), f);
    for (size_t i = 0; i < data_len; i++)
        fputc(0, f);
    fclose(f);
}

static void test_dtypes(void)
{
    CHECK(lt_dtype_size(LT_F32) == 4 && lt_dtype_size(LT_BF16) == 2 && lt_dtype_size(LT_I64) == 8 &&
              lt_dtype_size(LT_BOOL) == 1, "dtype sizes");
    CHECK(!strcmp(lt_dtype_name(LT_F16), "F16") && !strcmp(lt_dtype_name(LT_U32), "U32"), "dtype names");
}

static void test_round_trip(void)
{
    const char *path = tmp_path("rt.safetensors");
    float w[6] = {0.5f, -1.25f, 3.0f, 1e-7f, -0.0f, 123456.789f};
    double d[4] = {1.0 / 3.0, -2.5, 1e300, 0.0};
    /* F16: 1, -2, 0.5, smallest subnormal 2^-24, +inf */
    uint16_t h[5] = {0x3C00, 0xC000, 0x3800, 0x0001, 0x7C00};
    /* BF16: 1, -3.5 */
    uint16_t bf[2] = {0x3F80, 0xC060};
    int32_t i32[4] = {-7, 0, 42, 2147483647};
    int64_t i64[3] = {-1, (int64_t)1 << 40, 3};
    uint8_t u8[5] = {0, 1, 127, 128, 255};
    float scalar = 7.5f;
    const int64_t s_w[2] = {2, 3}, s_d[1] = {4}, s_h[1] = {5}, s_bf[1] = {2}, s_i32[2] = {2, 2},
                  s_i64[1] = {3}, s_u8[1] = {5}, s_empty[2] = {0, 4};
    lt_err err = {0};
    lt_st_writer *wr = lt_stw_new();
    CHECK(wr != NULL, "writer");
    CHECK(!lt_stw_add(wr, "blocks.0.conv.weight", LT_F32, 2, s_w, w, &err), "%s", err.msg);
    CHECK(!lt_stw_add(wr, "d", LT_F64, 1, s_d, d, &err), "%s", err.msg);
    CHECK(!lt_stw_add(wr, "h", LT_F16, 1, s_h, h, &err), "%s", err.msg);
    CHECK(!lt_stw_add(wr, "bf", LT_BF16, 1, s_bf, bf, &err), "%s", err.msg);
    CHECK(!lt_stw_add(wr, "i32", LT_I32, 2, s_i32, i32, &err), "%s", err.msg);
    CHECK(!lt_stw_add(wr, "i64", LT_I64, 1, s_i64, i64, &err), "%s", err.msg);
    CHECK(!lt_stw_add(wr, "u8", LT_U8, 1, s_u8, u8, &err), "%s", err.msg);
    CHECK(!lt_stw_add(wr, "scalar", LT_F32, 0, NULL, &scalar, &err), "%s", err.msg);
    CHECK(!lt_stw_add(wr, "empty", LT_F32, 2, s_empty, NULL, &err), "%s", err.msg);
    CHECK(!lt_stw_meta(wr, "epoch", "2", &err), "%s", err.msg);
    CHECK(!lt_stw_meta(wr, "epoch", "3", &err), "a repeated key replaces the value: %s", err.msg);
    CHECK(!lt_stw_meta(wr, "note", "tab\there, \"quotes\", \xc3\xa9, newline\n", &err), "%s", err.msg);
    CHECK(!lt_stw_meta(wr, "empty", "", &err), "%s", err.msg);

    /* writer refusals */
    CHECK(lt_stw_add(wr, "d", LT_F32, 1, s_d, w, &err) == LT_ERR_ARG && contains(err.msg, "'d'"),
          "duplicate name refused: %s", err.msg);
    CHECK(lt_stw_add(wr, "__metadata__", LT_F32, 1, s_d, w, &err) == LT_ERR_ARG, "reserved name refused");
    const int64_t neg[1] = {-2};
    CHECK(lt_stw_add(wr, "neg", LT_F32, 1, neg, w, &err) == LT_ERR_ARG, "negative dimension refused");
    CHECK(lt_stw_add(wr, "nodata", LT_F32, 1, s_d, NULL, &err) == LT_ERR_ARG, "missing data refused");
    CHECK(lt_stw_add(wr, "deep", LT_F32, LT_ST_MAXDIM + 1, s_w, w, &err) == LT_ERR_ARG, "too many dims refused");

    CHECK(!lt_stw_write(wr, path, &err), "write: %s", err.msg);
    lt_stw_free(wr);

    /* layout: header length a multiple of 8, tensors contiguous in order */
    size_t len = 0;
    unsigned char *raw = (unsigned char *)slurp(path, &len);
    CHECK(raw && len >= 8, "file readable");
    if (raw) {
        uint64_t hl = 0;
        for (int i = 7; i >= 0; i--)
            hl = hl << 8 | raw[i];
        CHECK(hl % 8 == 0, "header length %llu is a multiple of 8", (unsigned long long)hl);
        size_t data = 24 + 32 + 10 + 4 + 16 + 24 + 5 + 4 + 0;
        CHECK(len == 8 + hl + data, "file is %zu bytes, want %llu", len, (unsigned long long)(8 + hl + data));
        CHECK(raw[8 + hl - 1] == ' ' || raw[8 + hl - 1] == '}', "header ends with the object or padding");
        CHECK(!memcmp(raw + 8 + hl, w, sizeof w), "first tensor's bytes start the data section");
        free(raw);
    }

    lt_st_file f;
    lt_status rs = lt_st_read(&f, path, &err);
    CHECK(rs == LT_OK, "read: %s", err.msg);
    if (rs)
        return;
    CHECK(f.n == 9, "9 tensors, got %zu", f.n);
    const char *order[9] = {"blocks.0.conv.weight", "d", "h", "bf", "i32", "i64", "u8", "scalar", "empty"};
    for (size_t i = 0; i < 9 && i < f.n; i++)
        CHECK(!strcmp(f.t[i].name, order[i]), "tensor %zu is '%s', want '%s'", i, f.t[i].name, order[i]);

    const lt_st_tensor *t = lt_st_find(&f, "blocks.0.conv.weight");
    CHECK(t && t->dtype == LT_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->numel == 6 &&
              t->nbytes == 24 && !memcmp(t->data, w, 24), "F32 [2,3] round trip");
    t = lt_st_find(&f, "scalar");
    CHECK(t && t->ndim == 0 && t->numel == 1 && t->nbytes == 4 && !memcmp(t->data, &scalar, 4),
          "0-d tensor round trip");
    t = lt_st_find(&f, "empty");
    CHECK(t && t->ndim == 2 && t->shape[0] == 0 && t->shape[1] == 4 && t->numel == 0 && t->nbytes == 0,
          "empty tensor round trip");
    t = lt_st_find(&f, "d");
    CHECK(t && t->dtype == LT_F64 && !memcmp(t->data, d, sizeof d), "F64 bytes round trip");
    t = lt_st_find(&f, "i64");
    CHECK(t && t->dtype == LT_I64 && !memcmp(t->data, i64, sizeof i64), "I64 bytes round trip");
    CHECK(lt_st_find(&f, "nope") == NULL, "find of a missing name");

    float out[8];
    CHECK(!lt_st_get_f32(&f, "blocks.0.conv.weight", out, 6, &err) && !memcmp(out, w, sizeof w), "get F32");
    CHECK(!lt_st_get_f32(&f, "d", out, 4, &err), "get F64: %s", err.msg);
    CHECK(fabs(out[0] - 1.0 / 3.0) < 1e-7, "F64->F32: %.9g", out[0]);
    CHECK(out[2] > 3e38f, "1e300 converts to +inf, got %g", out[2]);
    CHECK(!lt_st_get_f32(&f, "h", out, 5, &err), "get F16: %s", err.msg);
    CHECK(out[0] == 1.0f && out[1] == -2.0f && out[2] == 0.5f && out[3] == 0x1p-24f && out[4] > 3e38f,
          "F16 values %g %g %g %g %g", out[0], out[1], out[2], out[3], out[4]);
    CHECK(!lt_st_get_f32(&f, "bf", out, 2, &err) && out[0] == 1.0f && out[1] == -3.5f, "BF16 values %g %g",
          out[0], out[1]);
    CHECK(!lt_st_get_f32(&f, "i32", out, 4, &err) && out[0] == -7.0f && out[2] == 42.0f &&
              out[3] == 2147483648.0f, "I32 values");
    CHECK(!lt_st_get_f32(&f, "i64", out, 3, &err) && out[0] == -1.0f && out[1] == 1099511627776.0f,
          "I64 values");
    CHECK(!lt_st_get_f32(&f, "u8", out, 5, &err) && out[3] == 128.0f && out[4] == 255.0f, "U8 values");
    CHECK(!lt_st_get_f32(&f, "scalar", out, 1, &err) && out[0] == 7.5f, "0-d value");
    CHECK(!lt_st_get_f32(&f, "empty", out, 0, &err), "empty get: %s", err.msg);

    const int64_t want_w[2] = {2, 3}, wrong_w[2] = {3, 2};
    CHECK(!lt_st_get_f32_shaped(&f, "blocks.0.conv.weight", out, 2, want_w, &err), "shaped get: %s", err.msg);
    CHECK(lt_st_get_f32_shaped(&f, "blocks.0.conv.weight", out, 2, wrong_w, &err) == LT_ERR_SHAPE &&
              contains(err.msg, "'blocks.0.conv.weight'") && contains(err.msg, "[2, 3]") &&
              contains(err.msg, "[3, 2]"), "shape mismatch names tensor and both shapes: %s", err.msg);
    CHECK(lt_st_get_f32(&f, "blocks.0.conv.weight", out, 5, &err) == LT_ERR_SHAPE &&
              contains(err.msg, "'blocks.0.conv.weight'") && contains(err.msg, "[2, 3]") &&
              contains(err.msg, "[5]") && contains(err.msg, path), "count mismatch message: %s", err.msg);
    CHECK(lt_st_get_f32(&f, "missing.weight", out, 1, &err) == LT_ERR_SHAPE &&
              contains(err.msg, "'missing.weight'"), "missing tensor named: %s", err.msg);

    CHECK(f.n_meta == 3, "3 metadata entries, got %zu", f.n_meta);
    const char *m = lt_st_meta(&f, "epoch");
    CHECK(m && !strcmp(m, "3"), "metadata epoch = %s", m ? m : "(null)");
    m = lt_st_meta(&f, "note");
    CHECK(m && !strcmp(m, "tab\there, \"quotes\", \xc3\xa9, newline\n"), "metadata with escapes round trips");
    m = lt_st_meta(&f, "empty");
    CHECK(m && !*m, "empty metadata value");
    CHECK(lt_st_meta(&f, "nokey") == NULL, "missing metadata key");
    lt_st_free(&f);
    lt_st_free(&f); /* freeing twice is safe: the struct was zeroed */
    CHECK(f.buf == NULL && f.n == 0, "lt_st_free zeroes the struct");
}

typedef struct bad_case {
    const char *what;
    const char *hdr;       /* header JSON */
    size_t data_len;       /* zero bytes after the header */
    uint64_t hl;           /* length field override (0: the real length) */
    const char *expect[3]; /* substrings of the message */
} bad_case;

static void test_corrupt(void)
{
    static const bad_case cases[] = {
        {"length past the file", "{}", 0, 1000, {"header length 1000 exceeds the file", "bytes [0, 8)"}},
        {"absurd length", "{}", 0, UINT64_MAX, {"header length 18446744073709551615"}},
        {"bad JSON", "{\"a\": {\"dtype\": ", 0, 0, {"not valid JSON", "byte "}},
        {"JSON not an object", "[1, 2]", 0, 0, {"not a JSON object"}},
        {"garbage after JSON", "{}   x  ", 0, 0, {"byte 13", "after the header"}},
        {"bad UTF-8", "{\"\xff\": 1}", 0, 0, {"byte 10", "UTF-8"}},
        {"entry not an object", "{\"a\": 5}", 0, 0, {"tensor 'a'", "not a JSON object"}},
        {"missing dtype", "{\"a\": {\"shape\": [], \"data_offsets\": [0, 4]}}", 4, 0, {"tensor 'a'", "dtype"}},
        {"unknown dtype", "{\"a\": {\"dtype\": \"F8\", \"shape\": [], \"data_offsets\": [0, 1]}}", 1, 0,
         {"tensor 'a'", "unknown dtype 'F8'"}},
        {"shape not an array", "{\"a\": {\"dtype\": \"F32\", \"shape\": 3, \"data_offsets\": [0, 12]}}", 12, 0,
         {"tensor 'a'", "\"shape\""}},
        {"negative dim", "{\"a\": {\"dtype\": \"F32\", \"shape\": [2, -1], \"data_offsets\": [0, 8]}}", 8, 0,
         {"tensor 'a'", "shape entry 1 is not a non-negative integer"}},
        {"fractional dim", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 8]}}", 8, 0,
         {"tensor 'a'", "shape entry 0"}},
        {"string dim", "{\"a\": {\"dtype\": \"F32\", \"shape\": [\"2\"], \"data_offsets\": [0, 8]}}", 8, 0,
         {"tensor 'a'", "shape entry 0"}},
        {"too many dims",
         "{\"a\": {\"dtype\": \"U8\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": [0, 1]}}", 1, 0,
         {"tensor 'a'", "9 dimensions"}},
        {"numel overflow",
         "{\"a\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 16], \"data_offsets\": [0, 4]}}", 4, 0,
         {"tensor 'a'", "[4294967296, 4294967296, 16]", "overflows"}},
        {"size overflow",
         "{\"a\": {\"dtype\": \"F64\", \"shape\": [4294967296, 1073741824], \"data_offsets\": [0, 4]}}", 4, 0,
         {"tensor 'a'", "overflows"}},
        {"offsets not an array", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": 4}}", 4, 0,
         {"tensor 'a'", "two non-negative integers"}},
        {"one offset", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", 4, 0,
         {"tensor 'a'", "two non-negative integers"}},
        {"three offsets", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4, 8]}}", 8, 0,
         {"tensor 'a'", "two non-negative integers"}},
        {"string offset", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, \"4\"]}}", 4, 0,
         {"tensor 'a'", "two non-negative integers"}},
        {"negative offset", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", 4, 0,
         {"tensor 'a'", "two non-negative integers"}},
        {"begin > end", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 4]}}", 8, 0,
         {"tensor 'a'", "data_offsets [8, 4]", "end before they begin"}},
        {"end past data",
         "{\"blocks.0.conv.weight\": {\"dtype\": \"F32\", \"shape\": [128, 9], \"data_offsets\": [0, 4608]}}",
         2048, 0,
         {"tensor 'blocks.0.conv.weight': data_offsets [0, 4608] exceed the data section (2048 bytes after the "}},
        {"span != size", "{\"a\": {\"dtype\": \"F32\", \"shape\": [2, 2], \"data_offsets\": [0, 12]}}", 16, 0,
         {"tensor 'a'", "data_offsets [0, 12] span 12 bytes", "[2, 2] of F32 needs 16"}},
        {"overlap",
         "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
         " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}", 16, 0,
         {"'a' data_offsets [0, 16]", "'b' data_offsets [8, 16]", "overlap"}},
        {"duplicate name",
         "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
         " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8, 0,
         {"tensor 'a' appears twice"}},
        {"metadata value not a string", "{\"__metadata__\": {\"epoch\": 3}}", 0, 0,
         {"metadata 'epoch'", "not a string"}},
        {"metadata not an object", "{\"__metadata__\": [\"x\"]}", 0, 0, {"__metadata__", "not a JSON object"}},
        {"metadata twice", "{\"__metadata__\": {}, \"__metadata__\": {}}", 0, 0, {"__metadata__", "twice"}},
    };
    const char *path = tmp_path("bad.safetensors");
    lt_err err;
    lt_st_file f;

    /* shorter than the length field */
    FILE *fp = fopen(path, "wb");
    fwrite("abcde", 1, 5, fp);
    fclose(fp);
    memset(&err, 0, sizeof err);
    CHECK(lt_st_read(&f, path, &err) == LT_ERR_FORMAT && contains(err.msg, path) &&
              contains(err.msg, "5 bytes"), "5-byte file refused: %s", err.msg);
    CHECK(f.buf == NULL && f.t == NULL, "failed read leaves an empty struct");

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        write_raw(path, c->hdr, c->data_len, c->hl);
        memset(&err, 0, sizeof err);
        lt_status st = lt_st_read(&f, path, &err);
        CHECK(st == LT_ERR_FORMAT, "%s: status %d (%s)", c->what, (int)st, err.msg);
        CHECK(contains(err.msg, path), "%s: message names the file: %s", c->what, err.msg);
        for (int k = 0; k < 3 && c->expect[k]; k++)
            CHECK(contains(err.msg, c->expect[k]), "%s: message lacks \"%s\": %s", c->what, c->expect[k],
                  err.msg);
        CHECK(f.buf == NULL && f.n == 0, "%s: struct cleared", c->what);
        if (st == LT_OK)
            lt_st_free(&f);
    }

    /* a hand-made valid file with a gap, an empty tensor inside the
     * contiguous run, unknown keys and no metadata is accepted */
    write_raw(path,
              "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4], \"x\": 1},"
              " \"e\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 4]},"
              " \"b\": {\"dtype\": \"U8\", \"shape\": [2], \"data_offsets\": [8, 10]}}  ",
              10, 0);
    CHECK(!lt_st_read(&f, path, &err), "valid hand-made file: %s", err.msg);
    CHECK(f.n == 3 && f.n_meta == 0, "3 tensors, no metadata");
    lt_st_free(&f);

    CHECK(lt_st_read(&f, tmp_path("does-not-exist.safetensors"), &err) == LT_ERR_IO &&
              contains(err.msg, "does-not-exist.safetensors"), "missing file: %s", err.msg);
}

static void write_small(const char *path, float v, lt_err *err, lt_status *st)
{
    const int64_t s[1] = {1};
    lt_st_writer *w = lt_stw_new();
    lt_stw_add(w, "v", LT_F32, 1, s, &v, err);
    *st = lt_stw_write(w, path, err);
    lt_stw_free(w);
}

static float read_small(const char *path)
{
    lt_st_file f;
    lt_err err;
    float v = -1;
    if (lt_st_read(&f, path, &err))
        return -2;
    if (lt_st_get_f32(&f, "v", &v, 1, &err))
        v = -3;
    lt_st_free(&f);
    return v;
}

static void test_atomic(void)
{
    lt_err err = {0};
    lt_status st;
    const char *path = tmp_path("ckpt.safetensors");
    write_small(path, 1.0f, &err, &st);
    CHECK(st == LT_OK && read_small(path) == 1.0f, "first write");
    write_small(path, 2.0f, &err, &st);
    CHECK(st == LT_OK && read_small(path) == 2.0f, "overwrite replaces the content");

    /* directory missing: refused, naming the path */
    const char *nodir = tmp_path("no/such/dir/x.safetensors");
    write_small(nodir, 3.0f, &err, &st);
    CHECK(st == LT_ERR_IO && contains(err.msg, nodir), "missing directory: %s", err.msg);

    /* The disk fills up half way through a 4 MB checkpoint (simulated with
     * RLIMIT_FSIZE): the write fails, the old checkpoint is untouched and no
     * temporary file is left behind. */
    size_t big_n = 1 << 20;
    float *big = calloc(big_n, sizeof *big);
    struct rlimit old_lim, lim;
    getrlimit(RLIMIT_FSIZE, &old_lim);
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old_lim;
    lim.rlim_cur = 64 * 1024;
    int limited = big && setrlimit(RLIMIT_FSIZE, &lim) == 0;
    CHECK(limited, "could not set RLIMIT_FSIZE");
    if (limited) {
        const int64_t s[1] = {(int64_t)big_n};
        lt_st_writer *w = lt_stw_new();
        CHECK(!lt_stw_add(w, "v", LT_F32, 1, s, big, &err), "%s", err.msg);
        st = lt_stw_write(w, path, &err);
        lt_stw_free(w);
        setrlimit(RLIMIT_FSIZE, &old_lim);
        CHECK(st == LT_ERR_IO && contains(err.msg, path), "full disk reported: %d %s", (int)st, err.msg);
        CHECK(read_small(path) == 2.0f, "old checkpoint intact after a failed write");
        CHECK(count_temps(dir) == 0, "no temporary file left after a failed write");
    }
    signal(SIGXFSZ, old_sig);
    free(big);

    /* rename fails (the target is a directory): temp removed, directory kept */
    const char *isdir = tmp_path("adir");
    mkdir(isdir, 0755);
    write_small(isdir, 4.0f, &err, &st);
    struct stat sb;
    CHECK(st == LT_ERR_IO && contains(err.msg, isdir) && contains(err.msg, "rename"), "rename failure: %s",
          err.msg);
    CHECK(stat(isdir, &sb) == 0 && S_ISDIR(sb.st_mode), "target directory untouched");
    CHECK(count_temps(dir) == 0, "no temporary file left after a failed rename");
    rmdir(isdir);

    /* abort: old file untouched, temp removed, a second abort is harmless */
    lt_afile a;
    CHECK(!lt_afile_open(&a, path, &err), "open: %s", err.msg);
    CHECK(count_temps(dir) == 1, "one temporary while writing");
    fputs("garbage", a.f);
    lt_afile_abort(&a);
    lt_afile_abort(&a);
    CHECK(read_small(path) == 2.0f && count_temps(dir) == 0, "abort leaves the old file and no temp");
    CHECK(lt_afile_commit(&a, &err) == LT_ERR_ARG, "commit after abort is refused");

    /* two writers of the same path at once get distinct temporaries */
    lt_afile a1, a2;
    CHECK(!lt_afile_open(&a1, path, &err) && !lt_afile_open(&a2, path, &err), "two opens: %s", err.msg);
    CHECK(strcmp(a1.tmp_path, a2.tmp_path) != 0, "distinct temporaries");
    lt_afile_abort(&a1);
    lt_afile_abort(&a2);

    /* lt_write_file / lt_read_file, and abort after commit is a no-op */
    const char *txt = tmp_path("t.txt");
    CHECK(!lt_write_file(txt, "hello", 5, &err), "write_file: %s", err.msg);
    size_t n = 0;
    char *s = slurp(txt, &n);
    CHECK(s && n == 5 && !strcmp(s, "hello"), "read_file gives the bytes and a NUL");
    free(s);
    void *buf = NULL;
    CHECK(lt_read_file(txt, &buf, &n, 4, &err) == LT_ERR_FORMAT && !buf && contains(err.msg, txt),
          "read_file max_len: %s", err.msg);
    CHECK(!lt_afile_open(&a, txt, &err), "open: %s", err.msg);
    fputs("bye", a.f);
    CHECK(!lt_afile_commit(&a, &err), "commit: %s", err.msg);
    lt_afile_abort(&a);
    s = slurp(txt, &n);
    CHECK(s && !strcmp(s, "bye"), "committed content, abort after commit is a no-op");
    free(s);
    CHECK(lt_read_file(dir, &buf, &n, 0, &err) == LT_ERR_IO, "reading a directory refused: %s", err.msg);
    unlink(txt);
}

/* The file check_safetensors.py expects (see its docstring). */
static lt_status py_fixture(const char *path, lt_err *err)
{
    float w[6], scalar = 7.5f;
    for (int i = 0; i < 6; i++)
        w[i] = 0.5f * (float)i - 1.0f;
    uint16_t h[3] = {0x3C00, 0xC000, 0x3800};
    int64_t big[3] = {-1, (int64_t)1 << 40, 3};
    const int64_t sw[2] = {2, 3}, se[2] = {0, 4}, s3[1] = {3};
    lt_st_writer *wr = lt_stw_new();
    lt_status st = LT_OK;
    if ((st = lt_stw_add(wr, "w", LT_F32, 2, sw, w, err)) || (st = lt_stw_add(wr, "scalar", LT_F32, 0, NULL, &scalar, err)) ||
        (st = lt_stw_add(wr, "empty", LT_F32, 2, se, NULL, err)) || (st = lt_stw_add(wr, "h", LT_F16, 1, s3, h, err)) ||
        (st = lt_stw_add(wr, "big", LT_I64, 1, s3, big, err)) || (st = lt_stw_meta(wr, "epoch", "3", err)) ||
        (st = lt_stw_meta(wr, "note", "a \"quoted\" \xc3\xa9 value", err)))
        goto free_writer;
    st = lt_stw_write(wr, path, err);
free_writer:
    lt_stw_free(wr);
    return st;
}

static void test_python_reads(void)
{
    const char *py = "/usr/bin/python3";
    if (access(py, X_OK) != 0) {
        printf("test_safetensors: note: %s is missing, skipping the Python cross-check\n", py);
        return;
    }
    const char *path = tmp_path("py.safetensors");
    lt_err err;
    CHECK(!py_fixture(path, &err), "write: %s", err.msg);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s tests/data/check_safetensors.py '%s'", py, path);
    int rc = system(cmd);
    CHECK(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "Python's json+struct reader accepts our file (rc %d)",
          rc);
    /* and the check can fail: the same script on a file with other values */
    const int64_t s[1] = {1};
    float v = 0;
    lt_st_writer *wr = lt_stw_new();
    lt_stw_add(wr, "w", LT_F32, 1, s, &v, &err);
    lt_stw_write(wr, path, &err);
    lt_stw_free(wr);
    snprintf(cmd, sizeof cmd, "%s tests/data/check_safetensors.py '%s' 2>/dev/null", py, path);
    rc = system(cmd);
    CHECK(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) != 0, "the Python check rejects a different file");
    unlink(path);
}

int main(void)
{
    check_begin("test_safetensors");
    snprintf(dir, sizeof dir, "/tmp/ltsnn-test-st-%ld", (long)getpid());
    if (mkdir(dir, 0700) != 0) {
        perror(dir);
        return 2;
    }
    test_dtypes();
    test_round_trip();
    test_corrupt();
    test_atomic();
    test_python_reads();
    unlink(tmp_path("rt.safetensors"));
    unlink(tmp_path("bad.safetensors"));
    unlink(tmp_path("ckpt.safetensors"));
    CHECK(rmdir(dir) == 0, "test directory %s empty at the end", dir);
    return check_done();
}
