/* test_idx.c -- the IDX reader on small files the test writes (plain and
 * gzipped), on corrupt ones (bad magic, unsupported type, bad ndim,
 * truncated plain and gzip data, trailing bytes, overflowing and huge
 * dimensions), and, when Debian's dataset-fashion-mnist is installed, on the
 * real Fashion-MNIST headers and labels; then lt_fmnist_make in both modes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "ltsnn.h"

static char dir[256];

static const char *tmp_path(const char *name)
{
    static char p[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void write_plain(const char *path, const void *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void write_gz(const char *path, const void *buf, size_t n)
{
    gzFile g = gzopen(path, "wb");
    if (!g || gzwrite(g, buf, (unsigned)n) != (int)n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    gzclose(g);
}

/* An IDX u8 image of shape [3, 2, 5] with data byte i = 7 * i + 1. */
static size_t make_idx(uint8_t *buf)
{
    const uint8_t hdr[] = {0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 5};
    memcpy(buf, hdr, sizeof hdr);
    for (int i = 0; i < 30; i++)
        buf[16 + i] = (uint8_t)(7 * i + 1);
    return 16 + 30;
}

static void check_good(const char *path, size_t max_items, size_t want0)
{
    lt_idx a;
    lt_err err;
    lt_status st = lt_idx_read(&a, path, max_items, &err);
    CHECK(st == LT_OK, "%s: %s", path, err.msg);
    if (st)
        return;
    CHECK(a.ndim == 3 && a.dims[0] == want0 && a.dims[1] == 2 && a.dims[2] == 5, "%s: shape %d: %zu %zu %zu", path,
          a.ndim, a.dims[0], a.dims[1], a.dims[2]);
    CHECK(a.items_in_file == 3, "items in file %zu", a.items_in_file);
    CHECK(a.numel == want0 * 10, "numel %zu", a.numel);
    int ok = 1;
    for (size_t i = 0; i < a.numel; i++)
        ok &= a.data[i] == (uint8_t)(7 * i + 1);
    CHECK(ok, "%s: data differs", path);
    lt_idx_free(&a);
}

static void check_bad(const char *path, lt_status want, const char *needle)
{
    lt_idx a;
    lt_err err;
    memset(&err, 0, sizeof err);
    lt_status st = lt_idx_read(&a, path, 0, &err);
    CHECK(st == want, "%s: status %s, want %s (%s)", path, lt_status_str(st), lt_status_str(want), err.msg);
    CHECK(strstr(err.msg, path) != NULL, "message does not name the file: %s", err.msg);
    if (needle)
        CHECK(strstr(err.msg, needle) != NULL, "message lacks '%s': %s", needle, err.msg);
    CHECK(a.data == NULL, "%s: data left allocated", path);
}

static void test_small_files(void)
{
    uint8_t buf[64], bad[64];
    size_t n = make_idx(buf);
    write_plain(tmp_path("a.idx"), buf, n);
    write_gz(tmp_path("a.idx.gz"), buf, n);
    check_good(tmp_path("a.idx"), 0, 3);
    check_good(tmp_path("a.idx.gz"), 0, 3);
    check_good(tmp_path("a.idx"), 2, 2);
    check_good(tmp_path("a.idx.gz"), 1, 1);
    check_good(tmp_path("a.idx.gz"), 9, 3);

    memcpy(bad, buf, n);
    bad[0] = 0x1f;
    write_plain(tmp_path("magic.idx"), bad, n);
    check_bad(tmp_path("magic.idx"), LT_ERR_FORMAT, "magic");

    memcpy(bad, buf, n);
    bad[2] = 0x0D;
    write_gz(tmp_path("float.idx.gz"), bad, n);
    check_bad(tmp_path("float.idx.gz"), LT_ERR_UNSUPPORTED, "float32");
    bad[2] = 0x42;
    write_gz(tmp_path("type.idx.gz"), bad, n);
    check_bad(tmp_path("type.idx.gz"), LT_ERR_FORMAT, "0x42");

    memcpy(bad, buf, n);
    bad[3] = 0;
    write_plain(tmp_path("ndim0.idx"), bad, n);
    check_bad(tmp_path("ndim0.idx"), LT_ERR_FORMAT, "dimensions");
    bad[3] = 9;
    write_plain(tmp_path("ndim9.idx"), bad, n);
    check_bad(tmp_path("ndim9.idx"), LT_ERR_FORMAT, "dimensions");

    /* short header, short data (plain and gzip), trailing bytes */
    write_plain(tmp_path("hdr.idx"), buf, 9);
    check_bad(tmp_path("hdr.idx"), LT_ERR_FORMAT, "byte 9");
    write_plain(tmp_path("short.idx"), buf, n - 4);
    check_bad(tmp_path("short.idx"), LT_ERR_FORMAT, "byte 42");
    write_gz(tmp_path("short.idx.gz"), buf, n - 4);
    check_bad(tmp_path("short.idx.gz"), LT_ERR_FORMAT, "byte 42");
    memcpy(bad, buf, n);
    bad[n] = 0;
    write_plain(tmp_path("trail.idx"), bad, n + 1);
    check_bad(tmp_path("trail.idx"), LT_ERR_FORMAT, "trailing");
    write_gz(tmp_path("trail.idx.gz"), bad, n + 1);
    check_bad(tmp_path("trail.idx.gz"), LT_ERR_FORMAT, "trailing");

    /* a gzip stream cut in the middle: the compressed bytes of a larger file */
    {
        enum { N = 20000 };
        static uint8_t big[16 + N];
        const uint8_t hdr[] = {0, 0, 0x08, 3, 0, 0, 0, 200, 0, 0, 0, 10, 0, 0, 0, 10};
        memcpy(big, hdr, 16);
        lt_rng r;
        lt_rng_seed(&r, 3);
        for (int i = 0; i < N; i++)
            big[16 + i] = (uint8_t)lt_rng_below(&r, 256); /* incompressible */
        write_gz(tmp_path("big.idx.gz"), big, sizeof big);
        FILE *f = fopen(tmp_path("big.idx.gz"), "rb");
        static uint8_t comp[2 * N];
        size_t cn = f ? fread(comp, 1, sizeof comp, f) : 0;
        if (f)
            fclose(f);
        CHECK(cn > N, "compressed size %zu", cn);
        {
            lt_idx a;
            lt_err err;
            CHECK(lt_idx_read(&a, tmp_path("big.idx.gz"), 0, &err) == LT_OK, "%s", err.msg);
            CHECK(a.numel == N && !memcmp(a.data, big + 16, N), "big file differs");
            lt_idx_free(&a);
        }
        write_plain(tmp_path("cut.idx.gz"), comp, cn / 2);
        check_bad(tmp_path("cut.idx.gz"), LT_ERR_FORMAT, "byte");
        /* a corrupted CRC in the gzip trailer */
        comp[cn - 6] ^= 0xff;
        write_plain(tmp_path("crc.idx.gz"), comp, cn);
        check_bad(tmp_path("crc.idx.gz"), LT_ERR_FORMAT, NULL);
    }

    /* dimensions whose product overflows, and huge ones with little data behind */
    {
        const uint8_t ovf[] = {0, 0, 0x08, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3};
        write_plain(tmp_path("ovf.idx"), ovf, sizeof ovf);
        check_bad(tmp_path("ovf.idx"), LT_ERR_FORMAT, "overflow");
        const uint8_t huge[] = {0, 0, 0x08, 2, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0x10, 0, 1, 2, 3, 4};
        write_gz(tmp_path("huge.idx.gz"), huge, sizeof huge);
        check_bad(tmp_path("huge.idx.gz"), LT_ERR_FORMAT, "truncated");
        write_plain(tmp_path("huge.idx"), huge, sizeof huge);
        check_bad(tmp_path("huge.idx"), LT_ERR_FORMAT, "truncated");
    }
    check_bad(tmp_path("missing.idx"), LT_ERR_IO, NULL);
}

static int have_fmnist(void)
{
    return access(LT_FMNIST_DIR "/train-labels-idx1-ubyte.gz", R_OK) == 0 &&
           access(LT_FMNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) == 0 &&
           access(LT_FMNIST_DIR "/t10k-labels-idx1-ubyte.gz", R_OK) == 0 &&
           access(LT_FMNIST_DIR "/t10k-images-idx3-ubyte.gz", R_OK) == 0;
}

static void test_fmnist_files(void)
{
    lt_idx a;
    lt_err err;
    /* labels: whole files (60000 and 10000 bytes), 6000 / 1000 per class */
    const char *lab[2] = {LT_FMNIST_DIR "/train-labels-idx1-ubyte.gz", LT_FMNIST_DIR "/t10k-labels-idx1-ubyte.gz"};
    const size_t want_n[2] = {60000, 10000};
    for (int s = 0; s < 2; s++) {
        CHECK(lt_idx_read(&a, lab[s], 0, &err) == LT_OK, "%s", err.msg);
        CHECK(a.ndim == 1 && a.dims[0] == want_n[s], "%s: %d dims, %zu", lab[s], a.ndim, a.dims[0]);
        size_t count[10] = {0}, bad = 0;
        for (size_t i = 0; i < a.numel; i++) {
            if (a.data[i] < 10)
                count[a.data[i]]++;
            else
                bad++;
        }
        CHECK(bad == 0, "%zu labels out of range", bad);
        for (int k = 0; k < 10; k++)
            CHECK(count[k] == want_n[s] / 10, "%s: class %d has %zu", lab[s], k, count[k]);
        if (s == 0) {
            /* checked with python's gzip module */
            const uint8_t first[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
            CHECK(a.numel >= 10 && !memcmp(a.data, first, 10), "first train labels differ");
        } else {
            const uint8_t first[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
            CHECK(a.numel >= 10 && !memcmp(a.data, first, 10), "first test labels differ");
        }
        lt_idx_free(&a);
    }
    /* images: the header, and the first few images only (max_items) */
    CHECK(lt_idx_read(&a, LT_FMNIST_DIR "/train-images-idx3-ubyte.gz", 5, &err) == LT_OK, "%s", err.msg);
    CHECK(a.ndim == 3 && a.items_in_file == 60000 && a.dims[0] == 5 && a.dims[1] == 28 && a.dims[2] == 28,
          "train images: %d dims %zu (%zu) x %zu x %zu", a.ndim, a.dims[0], a.items_in_file, a.dims[1], a.dims[2]);
    lt_idx_free(&a);
    CHECK(lt_idx_read(&a, LT_FMNIST_DIR "/t10k-images-idx3-ubyte.gz", 1, &err) == LT_OK, "%s", err.msg);
    CHECK(a.items_in_file == 10000 && a.dims[1] == 28 && a.dims[2] == 28, "test images: %zu", a.items_in_file);
    lt_idx_free(&a);
}

static size_t calls;
static void count_progress(void *ctx, size_t done, size_t total)
{
    (void)ctx;
    (void)done;
    (void)total;
    calls++;
}

static void test_fmnist_make(void)
{
    lt_fmnist_opts o;
    lt_fmnist_opts_default(&o);
    lt_dataset d;
    lt_err err;
    o.limit = 12;
    calls = 0;
    CHECK(lt_fmnist_make(&d, LT_FMNIST_DIR, 1, &o, count_progress, NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(calls >= 2, "progress called %zu times", calls);
    CHECK(d.n == 12 && d.Ts == 1 && d.C == 1 && d.H == 28 && d.W == 28 && d.bits == 8 && d.classes == 10,
          "static shape n %zu Ts %d C %d %dx%d bits %d", d.n, d.Ts, d.C, d.H, d.W, d.bits);
    CHECK_CLOSE(d.scale, 1.0 / 255, 1e-7, "scale");
    CHECK(d.labels[0] == 9 && d.labels[3] == 3 && d.labels[9] == 5, "labels %d %d %d", d.labels[0], d.labels[3],
          d.labels[9]);
    CHECK(d.class_names && !strcmp(d.class_names[9], "ankle boot"), "class names");
    lt_idx img;
    CHECK(lt_idx_read(&img, LT_FMNIST_DIR "/train-images-idx3-ubyte.gz", 12, &err) == LT_OK, "%s", err.msg);
    CHECK(d.data && img.data && !memcmp(d.data, img.data, 12 * 784), "static pixels differ from the IDX file");
    float x[784];
    lt_dataset_get(&d, 1, x, 1, 1, 0);
    CHECK_CLOSE(x[400], img.data[784 + 400] / 255.0, 1e-6, "unpacked pixel");
    lt_dataset_free(&d);

    /* neuromorphic: shape, events in both channels, the same bytes on 1 and 2 threads */
    o.mode = LT_FMNIST_NEURO;
    o.limit = 6;
    o.threads = 1;
    lt_dataset d1, d2;
    CHECK(lt_fmnist_make(&d1, LT_FMNIST_DIR, 0, &o, NULL, NULL, &err) == LT_OK, "%s", err.msg);
    o.threads = 2;
    CHECK(lt_fmnist_make(&d2, LT_FMNIST_DIR, 0, &o, NULL, NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(d1.n == 6 && d1.Ts == 10 && d1.C == 2 && d1.H == 34 && d1.W == 34 && d1.bits == 1,
          "neuro shape n %zu Ts %d C %d %dx%d bits %d", d1.n, d1.Ts, d1.C, d1.H, d1.W, d1.bits);
    CHECK(d1.labels[0] == 9 && d1.labels[1] == 2, "test labels %d %d", d1.labels[0], d1.labels[1]);
    CHECK(d1.n == d2.n && !memcmp(d1.data, d2.data, d1.n * d1.sample_bytes), "threads change the frames");
    static float fr[10 * 2 * 34 * 34];
    for (size_t i = 0; i < d1.n; i++) {
        lt_dataset_get(&d1, i, fr, 10, 1, 0);
        double on = 0, off = 0;
        int frames_active = 0;
        for (int t = 0; t < 10; t++) {
            double a = 0;
            for (int c = 0; c < 2; c++)
                for (int k = 0; k < 34 * 34; k++) {
                    float v = fr[(t * 2 + c) * 34 * 34 + k];
                    a += v;
                    if (c)
                        on += v;
                    else
                        off += v;
                }
            frames_active += a > 5;
        }
        CHECK(on > 100 && off > 100, "sample %zu: %g ON, %g OFF pixels", i, on, off);
        CHECK(frames_active >= 8, "sample %zu: only %d frames with events", i, frames_active);
    }
    lt_dataset_free(&d1);
    lt_dataset_free(&d2);
    lt_idx_free(&img);

    /* the standalone saccade events: sorted, inside the sensor and the 300 ms */
    lt_events ev = {0};
    uint8_t blank[784] = {0}, square[784] = {0};
    for (int y = 8; y < 20; y++)
        for (int c = 8; c < 20; c++)
            square[y * 28 + c] = 255;
    o.dvs.noise_hz = 0;
    CHECK(lt_fmnist_saccade_events(&ev, blank, &o, 1, &err) == LT_OK, "%s", err.msg);
    CHECK(ev.n == 0, "a blank image without noise gives %zu events", ev.n);
    CHECK(lt_fmnist_saccade_events(&ev, square, &o, 1, &err) == LT_OK, "%s", err.msg);
    int ok = ev.n > 500;
    for (size_t i = 0; i < ev.n; i++)
        ok &= ev.x[i] < 34 && ev.y[i] < 34 && ev.t[i] >= 0 && ev.t[i] <= LT_FMNIST_DURATION_US &&
              (i == 0 || ev.t[i] >= ev.t[i - 1]);
    CHECK(ok, "square: %zu events, sorted and in range", ev.n);
    /* a contrast step halfway (issue 18's changing input): fewer events in
     * the second half; the first keeps its own and gains the step's burst
     * (the simulator stamps a transition's events across the frame interval) */
    size_t half[2] = {0, 0}, half_step[2] = {0, 0};
    for (size_t i = 0; i < ev.n; i++)
        half[2 * ev.t[i] >= LT_FMNIST_DURATION_US]++;
    o.contrast_step = 0.25f;
    lt_events_clear(&ev);
    CHECK(lt_fmnist_saccade_events(&ev, square, &o, 1, &err) == LT_OK, "%s", err.msg);
    for (size_t i = 0; i < ev.n; i++)
        half_step[2 * ev.t[i] >= LT_FMNIST_DURATION_US]++;
    CHECK(half_step[0] >= half[0] && half_step[1] < 2 * half[1] / 3,
          "contrast step 0.25: first half %zu vs %zu events, second half %zu vs %zu", half_step[0], half[0],
          half_step[1], half[1]);
    o.contrast_step = 1.0f;
    lt_events_free(&ev);

    /* ATIS .bin export: files in N-MNIST's layout whose events bin to the
     * frames lt_fmnist_make gives */
    {
        o.dvs.noise_hz = 0.1;
        o.limit = 4;
        o.threads = 2;
        const char *out = tmp_path("nfm");
        CHECK(lt_fmnist_write_bin(out, LT_FMNIST_DIR, 0, &o, NULL, NULL, &err) == LT_OK, "%s", err.msg);
        lt_dataset dn;
        CHECK(lt_fmnist_make(&dn, LT_FMNIST_DIR, 0, &o, NULL, NULL, &err) == LT_OK, "%s", err.msg);
        /* test labels 9 2 1 1 */
        const char *files[4] = {"Test/9/00001.bin", "Test/2/00002.bin", "Test/1/00003.bin", "Test/1/00004.bin"};
        static uint8_t frames[10 * 2 * 34 * 34], packed[10 * 2 * 34 * 34 / 8 + 1];
        lt_bin_opts bo;
        memset(&bo, 0, sizeof bo);
        bo.T = 10;
        bo.H = bo.W = bo.in_h = bo.in_w = 34;
        for (int i = 0; i < 4 && dn.n == 4; i++) {
            char path[600];
            snprintf(path, sizeof path, "%s/%s", out, files[i]);
            lt_events e2 = {0};
            lt_reader_opts ro;
            memset(&ro, 0, sizeof ro);
            CHECK(lt_events_read_file(&e2, path, &ro, &err) == LT_OK, "%s", err.msg);
            CHECK(lt_bin_events(frames, &e2, &bo, &err) == LT_OK, "%s", err.msg);
            lt_frames_pack(packed, frames, sizeof frames);
            CHECK(!memcmp(packed, dn.data + i * dn.sample_bytes, dn.sample_bytes), "%s: frames differ", files[i]);
            lt_events_free(&e2);
        }
        lt_dataset_free(&dn);
        o.limit = 1;
        CHECK(lt_fmnist_write_bin("/proc/no/such", LT_FMNIST_DIR, 0, &o, NULL, NULL, &err) == LT_ERR_IO,
              "unwritable folder accepted");
    }

    /* a missing folder is an i/o error naming the file */
    o.limit = 1;
    CHECK(lt_fmnist_make(&d, "/nonexistent", 1, &o, NULL, NULL, &err) == LT_ERR_IO, "missing folder");
    CHECK(strstr(err.msg, "/nonexistent/train-labels") != NULL, "message: %s", err.msg);
}

int main(void)
{
    check_begin("test_idx");
    snprintf(dir, sizeof dir, "/tmp/ltsnn-test-idx-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_small_files();
    if (have_fmnist()) {
        test_fmnist_files();
        test_fmnist_make();
    } else {
        CHECK_SKIP("%s not installed: the Fashion-MNIST checks", LT_FMNIST_DIR);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_done();
}
