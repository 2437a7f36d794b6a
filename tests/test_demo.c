/* test_demo.c -- the built-in demo data: shape and metadata, the same seed
 * gives the same bytes whatever the thread count, another seed other bytes,
 * classes balanced, events sorted and inside the sensor, frames neither
 * empty nor saturated, other sizes, refused options. */
#include <string.h>

#include "check.h"
#include "ltsnn.h"

static lt_demo_opts small(size_t n, uint64_t seed)
{
    lt_demo_opts o;
    lt_demo_opts_default(&o);
    o.n = n;
    o.seed = seed;
    return o;
}

static void test_defaults(void)
{
    lt_demo_opts tr, te;
    lt_demo_opts_split(&tr, 1);
    lt_demo_opts_split(&te, 0);
    CHECK(tr.T == 10 && tr.H == 32 && tr.W == 32 && tr.n == 5000 && tr.seed == 1, "train defaults");
    CHECK(te.T == tr.T && te.H == tr.H && te.n == 1000 && te.seed != tr.seed, "test defaults");
    CHECK(!strcmp(lt_demo_class_name(0), "right") && !strcmp(lt_demo_class_name(5), "ccw") &&
              lt_demo_class_name(10) == NULL && lt_demo_class_name(-1) == NULL,
          "class names");
}

static void test_make(void)
{
    lt_demo_opts o = small(200, 7);
    lt_dataset a, b, c;
    lt_err err;
    lt_set_threads(1);
    CHECK(lt_demo_make(&a, &o, &err) == LT_OK, "%s", err.msg);
    lt_set_threads(3);
    CHECK(lt_demo_make(&b, &o, &err) == LT_OK, "%s", err.msg);
    lt_set_threads(2);
    o.seed = 8;
    CHECK(lt_demo_make(&c, &o, &err) == LT_OK, "%s", err.msg);

    CHECK(a.n == 200 && a.Ts == 10 && a.C == 2 && a.H == 32 && a.W == 32 && a.bits == 1 && a.classes == 10,
          "shape n %zu Ts %d C %d %dx%d bits %d classes %d", a.n, a.Ts, a.C, a.H, a.W, a.bits, a.classes);
    CHECK(a.sample_bytes == 10 * 2 * 32 * 32 / 8, "sample bytes %zu", a.sample_bytes);
    CHECK(a.scale == 1.0f && !strcmp(a.name, "demo") && a.opts[0], "scale, name %s, opts %s", a.name, a.opts);
    CHECK(a.class_names && !strcmp(a.class_names[1], "left") && !strcmp(a.class_names[9], "up-left"),
          "class names in the dataset");
    CHECK(!memcmp(a.data, b.data, a.n * a.sample_bytes) && !memcmp(a.labels, b.labels, a.n * sizeof *a.labels),
          "1 and 3 threads give different bytes");
    CHECK(memcmp(a.data, c.data, a.n * a.sample_bytes) != 0, "seeds 7 and 8 give the same bytes");

    int count[10] = {0}, bad = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (a.labels[i] >= 0 && a.labels[i] < 10)
            count[a.labels[i]]++;
        else
            bad++;
    }
    CHECK(bad == 0, "%d labels out of range", bad);
    for (int k = 0; k < 10; k++)
        CHECK(count[k] == 20, "class %d has %d of 200", k, count[k]);

    /* every sample has events in both polarities, in most frames, and is far from saturated */
    static float x[10 * 2 * 32 * 32];
    size_t poor = 0;
    double dens = 0;
    for (size_t i = 0; i < a.n; i++) {
        lt_dataset_get(&a, i, x, 10, 1, 0);
        double on = 0, off = 0;
        int active = 0;
        for (int t = 0; t < 10; t++) {
            double s = 0;
            for (int k = 0; k < 2 * 1024; k++) {
                float v = x[t * 2048 + k];
                s += v;
                if (k < 1024)
                    off += v;
                else
                    on += v;
            }
            active += s >= 4;
        }
        dens += (on + off) / (10.0 * 2048);
        poor += on < 20 || off < 20 || active < 7;
    }
    dens /= (double)a.n;
    CHECK(poor <= a.n / 50, "%zu of %zu samples with few events", poor, a.n);
    CHECK(dens > 0.01 && dens < 0.3, "mean frame density %g", dens);
    lt_dataset_free(&a);
    lt_dataset_free(&b);
    lt_dataset_free(&c);
    lt_set_threads(0);
}

static void test_events(void)
{
    lt_demo_opts o = small(10, 3);
    lt_err err;
    for (size_t i = 0; i < 20; i++) {
        lt_events ev = {0};
        int32_t label = -1;
        CHECK(lt_demo_events(&ev, &label, &o, i, &err) == LT_OK, "%s", err.msg);
        CHECK(label == (int32_t)(i % 10), "sample %zu label %d", i, label);
        int ok = ev.n > 200;
        for (size_t k = 0; k < ev.n; k++)
            ok &= ev.x[k] < 32 && ev.y[k] < 32 && ev.p[k] <= 1 && ev.t[k] >= 0 && ev.t[k] <= LT_DEMO_DURATION_US &&
                  (k == 0 || ev.t[k] >= ev.t[k - 1]);
        CHECK(ok, "sample %zu: %zu events, sorted and in range", i, ev.n);
        lt_events_free(&ev);
    }
}

static void test_sizes_and_errors(void)
{
    lt_demo_opts o = small(20, 1);
    o.T = 4;
    o.H = o.W = 48;
    lt_dataset d;
    lt_err err;
    CHECK(lt_demo_make(&d, &o, &err) == LT_OK, "%s", err.msg);
    CHECK(d.Ts == 4 && d.H == 48 && d.W == 48 && d.sample_bytes == 4 * 2 * 48 * 48 / 8, "48x48 T=4 shape");
    lt_dataset_free(&d);
    o = small(20, 1);
    o.T = 0;
    CHECK(lt_demo_make(&d, &o, &err) == LT_ERR_ARG && strstr(err.msg, "T = 0"), "T = 0: %s", err.msg);
    o = small(0, 1);
    CHECK(lt_demo_make(&d, &o, &err) == LT_ERR_ARG, "n = 0 accepted");
    o = small(5, 1);
    o.W = 4;
    CHECK(lt_demo_make(&d, &o, &err) == LT_ERR_ARG, "4-pixel-wide frames accepted");
}

int main(void)
{
    check_begin("test_demo");
    test_defaults();
    test_make();
    test_events();
    test_sizes_and_errors();
    return check_done();
}
