/* test_plot.c -- the SVG chart writer and a run's figures (ltsnn/plot.h).
 * Checks that the SVG is well formed (starts <svg, ends </svg>, balanced
 * elements, escaped text; parsed by Python's XML parser when
 * /usr/bin/python3 exists), one <polyline> per series, nice axis ticks,
 * reading log.jsonl (values, skipped lines, each malformed-line error with
 * its line number), config.json handling, and the three figures of a run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "kernels/kernels.h"
#include "ltsnn/io.h"
#include "ltsnn/plot.h"

static char dir[256];

static const char *in_dir(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path)
{
    void *buf = NULL;
    size_t n;
    lt_err err;
    return lt_read_file(path, &buf, &n, 0, &err) ? NULL : buf;
}

static int count(const char *s, const char *sub)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, sub)); p += strlen(sub))
        n++;
    return n;
}

static int python_xml_ok(const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
             "sys.exit(0 if r.tag.endswith('svg') else 1)\" '%s'", path);
    int rc = system(cmd);
    return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

/* The shared structural checks; returns the number of <polyline> elements. */
static int check_svg(const char *path, const char *what)
{
    char *s = slurp(path);
    CHECK(s != NULL, "%s: %s readable", what, path);
    if (!s)
        return -1;
    size_t n = strlen(s);
    CHECK(!strncmp(s, "<svg", 4), "%s: starts with <svg", what);
    CHECK(n > 7 && !strcmp(s + n - 7, "</svg>\n"), "%s: ends with </svg>", what);
    CHECK(count(s, "<svg") == 1 && count(s, "</svg>") == 1, "%s: one svg element", what);
    CHECK(count(s, "<g") == count(s, "</g>"), "%s: <g> balanced (%d vs %d)", what, count(s, "<g"), count(s, "</g>"));
    CHECK(count(s, "<text") == count(s, "</text>"), "%s: <text> balanced", what);
    CHECK(count(s, "<clipPath") == count(s, "</clipPath>"), "%s: <clipPath> balanced", what);
    int np = 0, closed = 0;
    for (const char *q = s; (q = strstr(q, "<polyline")); q++, np++) {
        const char *gt = strchr(q, '>');
        closed += gt && gt[-1] == '/';
    }
    CHECK(closed == np, "%s: %d of %d polylines self-closed", what, closed, np);
    CHECK(!strstr(s, "nan") && !strstr(s, "inf"), "%s: no nan/inf coordinates", what);
    if (access("/usr/bin/python3", X_OK) == 0)
        CHECK(python_xml_ok(path), "%s: Python's XML parser reads %s", what, path);
    free(s);
    return np;
}

static void test_svg_writer(void)
{
    double x[5] = {1, 2, 3, 4, 5}, y1[5] = {10, 42.5, 97.3, NAN, 60}, y2[5] = {0.5, 0.4, 0.3, 0.2, 0.1};
    double y3[5] = {1e-3, 2e-3, 3e-3, 4e-3, 5e-3};
    lt_plot_series s[4] = {
        {.label = "acc <&> \"q\"", .x = x, .y = y1, .n = 5, .color = -1},
        {.label = "loss", .x = x, .y = y2, .n = 5, .right_axis = 1, .dashed = 1, .color = -1},
        {.label = NULL, .x = x, .y = y3, .n = 5, .color = 3},
        {.label = "empty", .x = x, .y = y1, .n = 0, .color = -1},
    };
    lt_plot_panel p[2] = {
        {.title = "A & B", .xlabel = "epoch", .ylabel = "acc (%)", .y2label = "loss", .series = s, .n_series = 2},
        {.title = "small", .xlabel = "x", .ylabel = "y", .series = s + 2, .n_series = 2},
    };
    lt_plot_figure f = {.title = "test figure", .cols = 2, .panels = p, .n_panels = 2};
    const char *path = in_dir("chart.svg");
    lt_err err;
    CHECK(!lt_svg_write(path, &f, &err), "svg write: %s", err.msg);
    int np = check_svg(path, "chart");
    CHECK(np == 4, "one polyline per series (even an empty one), got %d", np);
    char *s_ = slurp(path);
    if (s_) {
        CHECK(strstr(s_, "acc &lt;&amp;&gt; &quot;q&quot;") != NULL, "label escaped");
        CHECK(strstr(s_, "A &amp; B") != NULL, "title escaped");
        CHECK(strstr(s_, ">100</text>") != NULL && strstr(s_, ">0</text>") != NULL,
              "accuracy axis widened to nice ticks 0..100");
        CHECK(strstr(s_, ">0.005</text>") != NULL || strstr(s_, ">0.006</text>") != NULL,
              "small values get decimals in tick labels");
        CHECK(strstr(s_, "stroke-dasharray") != NULL, "dashed series");
        CHECK(count(s_, "class=\"legend\"") == 2, "a legend per panel with labels");
        /* the NaN point is left out: the first polyline has 4 points */
        const char *pl = strstr(s_, "points=\"");
        int pts = 0;
        if (pl)
            for (const char *q = pl + 8; *q && *q != '"'; q++)
                pts += *q == ',';
        CHECK(pts == 4, "non-finite point skipped (%d points)", pts);
        free(s_);
    }

    /* degenerate data: a constant series and no finite data at all */
    double c[3] = {2, 2, 2}, nn[3] = {NAN, NAN, NAN}, huge[3] = {1e308, -1e308, 0};
    lt_plot_series s2[3] = {{.label = "const", .x = x, .y = c, .n = 3, .color = -1},
                            {.label = "none", .x = x, .y = nn, .n = 3, .color = -1},
                            {.label = "huge", .x = x, .y = huge, .n = 3, .color = -1}};
    lt_plot_panel p2 = {.series = s2, .n_series = 3, .y_lo = 5, .y_hi = 5};
    lt_plot_figure f2 = {.panels = &p2, .n_panels = 1};
    CHECK(!lt_svg_write(in_dir("degenerate.svg"), &f2, &err), "degenerate write: %s", err.msg);
    CHECK(check_svg(in_dir("degenerate.svg"), "degenerate") == 3, "3 polylines");

    CHECK(lt_svg_write(in_dir("no/such/dir.svg"), &f2, &err) == LT_ERR_IO && strstr(err.msg, "no/such/dir.svg"),
          "unwritable path reported: %s", err.msg);
    unlink(in_dir("chart.svg"));
    unlink(in_dir("degenerate.svg"));
}

static const char *good_log =
    "{\"epoch\": 1, \"train_loss\": 2.1, \"train_acc\": 20.0, \"test_acc\": 25.5, \"lr\": 0.001, "
    "\"seconds\": 3.5, \"vth\": [1.0, 0.9, 1.1], \"rate\": [0.10, 0.20, 0.05]}\n"
    "\n"
    "{\"note\": \"a line without an epoch is skipped\"}\r\n"
    "{\"epoch\": 2, \"train_loss\": 1.5, \"train_acc\": 40.0, \"test_acc\": 45.0, \"lr\": 0.001, "
    "\"seconds\": 3.4, \"vth\": [0.8, 0.85, 1.2], \"rate\": [0.12, 0.18, 0.07]}\r\n"
    "{\"epoch\": 3, \"train_loss\": 1.1, \"train_acc\": 55.0, \"test_acc\": 50.25, \"lr\": 0.0005, "
    "\"seconds\": 3.3, \"vth\": [0.7, 0.8, 1.25], \"rate\": [0.13, 0.17, 0.08]}";

static void test_log_read(void)
{
    const char *path = in_dir("log.jsonl");
    put_file(path, good_log);
    lt_run_log lg;
    lt_err err;
    lt_status st = lt_run_log_read(&lg, path, &err);
    CHECK(st == LT_OK, "read log: %s", err.msg);
    if (st)
        return;
    CHECK(lg.n == 3 && lg.n_layers == 3, "3 epochs of 3 layers, got %zu x %d", lg.n, lg.n_layers);
    CHECK(lg.epoch[2] == 3 && lg.test_acc[2] == 50.25 && lg.train_loss[1] == 1.5 && lg.lr[2] == 0.0005 &&
              lg.seconds[0] == 3.5 && lg.train_acc[1] == 40.0, "scalar columns");
    CHECK(lg.vth[1 * 3 + 2] == 1.2 && lg.vth[2 * 3 + 0] == 0.7 && lg.rate[0 * 3 + 1] == 0.20, "layer arrays");
    lt_run_log_free(&lg);

    /* evaluations inside an epoch (a time budget ran out) sit at their
     * fraction of it: 30 of 60 samples into epoch 1 -> 0.5, 15 into epoch 3
     * -> 2.25 (its epoch's size known from the full records) */
    put_file(path, "{\"epoch\": 1, \"partial\": true, \"samples\": 30, \"test_acc\": 1, \"vth\": [1], \"rate\": [0]}\n"
                   "{\"epoch\": 1, \"samples\": 60, \"test_acc\": 2, \"vth\": [1], \"rate\": [0]}\n"
                   "{\"epoch\": 2, \"samples\": 60, \"test_acc\": 3, \"vth\": [1], \"rate\": [0]}\n"
                   "{\"epoch\": 3, \"partial\": true, \"samples\": 15, \"test_acc\": 4, \"vth\": [1], \"rate\": [0]}\n");
    st = lt_run_log_read(&lg, path, &err);
    CHECK(st == LT_OK && lg.n == 4 && lg.epoch[0] == 0.5 && lg.epoch[1] == 1 && lg.epoch[2] == 2 &&
              lg.epoch[3] == 2.25, "partial records placed inside their epoch: %s", st ? err.msg : "");
    if (!st)
        lt_run_log_free(&lg);

    /* each malformed case: the message names the file and the line */
    static const struct {
        const char *text, *expect;
    } bad[] = {
        {"{\"epoch\": 1, \"test_acc\": 1, \"vth\": [1], \"rate\": [0]}\n\n{\"epoch\": 2, \"test_acc\": ",
         "log.jsonl:3: column"},
        {"{\"epoch\": 1, \"test_acc\": 1, \"vth\": [1], \"rate\": [0]} x\n", "log.jsonl:1: column 54: unexpected"},
        {"[1, 2]\n", "log.jsonl:1: not a JSON object"},
        {"{\"epoch\": 1, \"vth\": [1], \"rate\": [0]}\n", "log.jsonl:1: \"test_acc\""},
        {"{\"epoch\": \"one\", \"test_acc\": 1, \"vth\": [1], \"rate\": [0]}\n", "log.jsonl:1: \"epoch\""},
        {"{\"epoch\": 1, \"test_acc\": 1, \"rate\": [0]}\n", "log.jsonl:1: \"vth\" is missing"},
        {"{\"epoch\": 1, \"test_acc\": 1, \"vth\": [1, \"x\"], \"rate\": [0, 1]}\n", "log.jsonl:1: \"vth\" entry 1"},
        {"{\"epoch\": 1, \"test_acc\": 1, \"vth\": [1, 2], \"rate\": [0]}\n", "log.jsonl:1: \"vth\" has 2 entries but \"rate\" has 1"},
        {"{\"epoch\": 1, \"test_acc\": 1, \"vth\": [1, 2], \"rate\": [0, 0]}\n"
         "{\"epoch\": 2, \"test_acc\": 1, \"vth\": [1], \"rate\": [0]}\n",
         "log.jsonl:2: \"vth\" has 1 entries but line 1 had 2"},
        {"\n\n{\"note\": 1}\n", "no epoch records"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put_file(path, bad[i].text);
        memset(&err, 0, sizeof err);
        st = lt_run_log_read(&lg, path, &err);
        CHECK(st == LT_ERR_FORMAT && strstr(err.msg, bad[i].expect) && strstr(err.msg, dir),
              "bad log %zu: want \"%s\", got: %s", i, bad[i].expect, err.msg);
        CHECK(lg.n == 0 && lg.epoch == NULL, "bad log %zu: struct cleared", i);
    }
    unlink(path);
    CHECK(lt_run_log_read(&lg, path, &err) == LT_ERR_IO && strstr(err.msg, "log.jsonl"), "missing log: %s", err.msg);
}

static void test_surrogate_formulas(void)
{
    /* METHOD.md §1-2 by hand at z = u - V = 0.5, g = 1: tri = 0.5, m = 1 */
    lt_lif_opts o;
    lt_lif_opts_default(&o);
    float du, dv, V = 0.8f;
    lt_lif_surrogate(&du, &dv, V + 0.5f, V, &o);
    double w = 1.0 / (1.0 + exp(-0.5));
    CHECK(fabs(du - 0.5) < 1e-6 && fabs(-dv - 0.5 * w) < 1e-6, "sgp/sigmoid: %g %g", du, -dv);
    lt_lif_surrogate(&du, &dv, V - 0.5f, V, &o);
    CHECK(fabs(du - 0.5) < 1e-6 && fabs(dv) < 1e-7, "sgp below threshold: m = 0 so no V gradient");
    o.window = LT_WIN_ARCTAN;
    lt_lif_surrogate(&du, &dv, V + 0.5f, V, &o);
    CHECK(fabs(-dv - 0.5 * (0.5 + atan(M_PI * 0.25) / M_PI)) < 1e-6, "arctan window");
    o.window = LT_WIN_PIECEWISE;
    lt_lif_surrogate(&du, &dv, V + 0.5f, V, &o);
    CHECK(fabs(-dv - 0.5 * 0.75) < 1e-6, "piecewise window");
    o.mode = LT_MODE_STSG;
    o.g = 0.5f;
    lt_lif_surrogate(&du, &dv, V, V, &o);
    CHECK(fabs(du - 2.0) < 1e-6 && fabs(-dv - 2.0) < 1e-6, "stsg peak 1/g = 2: %g %g", du, -dv);
}

static void test_plot_run(void)
{
    const char *run = in_dir("run");
    mkdir(run, 0755);
    char path[600];
    snprintf(path, sizeof path, "%s/log.jsonl", run);
    put_file(path, good_log);
    lt_plot_result res;
    lt_err err;
    lt_status st = lt_plot_run(run, NULL, &res, &err);
    CHECK(st == LT_OK, "plot run: %s", err.msg);
    CHECK(res.n_files == 3 && res.n_epochs == 3 && res.n_layers == 3, "3 files, 3 epochs, 3 layers");
    const char *names[3] = {"fig_accuracy_threshold.svg", "fig_surrogate.svg", "fig_rate.svg"};
    const int want[3] = {3 + 2, 2 * 3, 3}; /* per layer; accuracy adds test and train */
    for (int i = 0; i < 3; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s", run, names[i]);
        int np = check_svg(p, names[i]);
        CHECK(np == want[i], "%s: %d polylines, want %d", names[i], np, want[i]);
    }
    snprintf(path, sizeof path, "%s/fig_surrogate.svg", run);
    char *s = slurp(path);
    CHECK(s && strstr(s, "mode sgp, window sigmoid") && strstr(s, "LIF 3 (V = 1.25)"),
          "defaults without config.json; final thresholds in the legend");
    free(s);

    /* config.json picks the mode and window; --out goes elsewhere */
    snprintf(path, sizeof path, "%s/config.json", run);
    put_file(path, "{\"model\": \"x\", \"mode\": \"stsg\", \"window\": \"arctan\", \"g\": 0.5, \"lam\": 0.5}\n");
    const char *out = in_dir("figs");
    st = lt_plot_run(run, out, &res, &err);
    CHECK(st == LT_OK, "plot run with config and --out: %s", err.msg);
    char p2[700];
    snprintf(p2, sizeof p2, "%s/fig_surrogate.svg", out);
    s = slurp(p2);
    CHECK(s && strstr(s, "mode stsg, window arctan") && strstr(s, "g = 0.5"), "config.json honoured");
    free(s);
    for (int i = 0; i < 3; i++) {
        snprintf(p2, sizeof p2, "%s/%s", out, names[i]);
        CHECK(unlink(p2) == 0, "%s written into --out", names[i]);
    }
    rmdir(out);

    put_file(path, "{\"mode\": \"bogus\"}");
    st = lt_plot_run(run, NULL, &res, &err);
    CHECK(st != LT_OK && strstr(err.msg, "config.json") && strstr(err.msg, "bogus"), "bad mode: %s", err.msg);
    put_file(path, "{\"g\": -1}");
    st = lt_plot_run(run, NULL, &res, &err);
    CHECK(st != LT_OK && strstr(err.msg, "\"g\""), "bad g: %s", err.msg);
    put_file(path, "not json");
    st = lt_plot_run(run, NULL, &res, &err);
    CHECK(st != LT_OK && strstr(err.msg, "config.json"), "broken config: %s", err.msg);
    unlink(path);

    /* a malformed log line stops the plot, naming the line */
    snprintf(path, sizeof path, "%s/log.jsonl", run);
    put_file(path, "{\"epoch\": 1, \"test_acc\": 1, \"vth\": [1], \"rate\": [0]}\n{oops}\n");
    st = lt_plot_run(run, NULL, &res, &err);
    CHECK(st == LT_ERR_FORMAT && strstr(err.msg, "log.jsonl:2:"), "malformed line 2: %s", err.msg);
    unlink(path);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", run, names[i]);
        unlink(path);
    }
    CHECK(rmdir(run) == 0, "run directory holds only what the test made");
}

int main(void)
{
    check_begin("test_plot");
    snprintf(dir, sizeof dir, "/tmp/ltsnn-test-plot-%ld", (long)getpid());
    if (mkdir(dir, 0700) != 0) {
        perror(dir);
        return 2;
    }
    test_svg_writer();
    test_log_read();
    test_surrogate_formulas();
    test_plot_run();
    CHECK(rmdir(dir) == 0, "test directory %s empty at the end", dir);
    return check_done();
}
