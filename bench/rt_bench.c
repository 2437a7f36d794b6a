/* rt_bench.c -- event-driven integer inference (runtime/ltsnn_rt.c) against
 * dense inference, per sample, as the firing rate grows (docs/benchmarks.md
 * "Event-driven inference").
 *
 * For each target rate r: random 4-bit weights (ltsnn's init), input frames
 * with a fraction r of ones, and every neuron layer's threshold set, layer
 * by layer, so that it fires at about r on that input (bisection on V over
 * the layer's own input currents); the net is exported and one sample at a
 * time runs through the runtime event-driven, one thread; its dense (gather)
 * oracle, which costs the same at every rate, is timed at the first rate
 * only, on --dense-samples samples (default 1; 0 skips it).  ltsnn's float inference (oneDNN, batch 1) is timed
 * on the same weights, with 1 thread and with --threads.  With --events
 * CACHE a frame cache gives the input instead (real recordings; the layers
 * are calibrated to the input's own event density).  Prints a JSON line
 * per point; --svg draws latency against the measured mean firing rate
 * with ltsnn's SVG writer, and the crossover (where event-driven matches
 * the float line), also for --torch-ms (PyTorch's latency, measured by
 * bench/bench_vs_torch.py, rate-independent: dense).  --save PREFIX writes
 * each calibrated model to PREFIX-MODEL-RATE.ltq.
 *
 * Build, from the repository root: make build/bench/rt_bench */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ltsnn.h"
#include "ltsnn_rt.h"
#include "nn/net.h"

#define MAXP 32

typedef struct point {
    double rate_target, rate_in, rate_mean; /* input density, mean over neuron layers (runtime's counts) */
    double ms_event, ms_dense, ms_float1, ms_floatN;
} point;

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* x[T, B, C, H, W]: a fraction r of ones, or the first B samples of d */
static void make_input(float *x, uint8_t *raw, const lt_dataset *d, int T, int B, size_t frame, double r, lt_rng *g)
{
    for (int b = 0; b < B; b++) {
        if (d)
            lt_dataset_get(d, (size_t)b % d->n, x, T, B, b);
        for (int t = 0; t < T; t++)
            for (size_t k = 0; k < frame; k++) {
                float *v = &x[((size_t)t * B + b) * frame + k];
                if (!d)
                    *v = lt_rng_uniform(g) < r ? 1.0f : 0.0f;
                raw[((size_t)b * T + t) * frame + k] = (uint8_t)(*v != 0.0f);
            }
    }
}

/* every neuron's V so that it fires at about r on x (in order: each layer sees the ones before it set) */
static void calibrate(lt_net *tw, const float *x, int B, double r)
{
    const int T = tw->cfg.T;
    for (int i = 0; i < tw->n_layers; i++) {
        lt_layer *l = &tw->layers[i];
        if (!(l->kind->flags & LT_KF_NEURON))
            continue;
        lt_net_forward(tw, x, B, 0);
        const float *cur = l->in[0] == 0 ? x : tw->tensors[l->in[0]].data;
        size_t M = (size_t)B * l->in_size, n = (size_t)T * M;
        float *s = malloc(n * sizeof *s);
        const lt_lif_opts *o = LT_CFG(l, lt_lif_opts);
        double lo = -20, hi = 10; /* log2 V */
        for (int it = 0; it < 30 && s; it++) {
            double mid = 0.5 * (lo + hi);
            lt_lif_forward(s, NULL, cur, (float)exp2(mid), o, T, M);
            size_t ones = 0;
            for (size_t k = 0; k < n; k++)
                ones += s[k] != 0;
            if ((double)ones / (double)n > r)
                lo = mid;
            else
                hi = mid;
        }
        l->p[0][0] = (float)exp2(0.5 * (lo + hi));
        free(s);
    }
}

/* ms per sample of the runtime on samples [T][frame] each */
static double time_runtime(lt_rt *rt, const uint8_t *raw, int S, int T, size_t frame, int dense, double *rate,
                           double *rate_in)
{
    double ms[256];
    uint64_t spikes = 0, neurons = 0;
    lt_rt_set_dense(rt, dense);
    for (int s = 0; s < S; s++) {
        lt_rt_reset(rt);
        double t0 = lt_time_s();
        for (int t = 0; t < T; t++)
            lt_rt_step(rt, raw + ((size_t)s * T + t) * frame);
        ms[s] = 1e3 * (lt_time_s() - t0);
        lt_rt_op_info oi;
        for (uint32_t i = 0; lt_rt_op(rt, i, &oi) == LT_RT_OK; i++)
            if (oi.type == LT_RT_OP_LIF)
                spikes += oi.spikes, neurons += (uint64_t)oi.c * oi.h * oi.w * (uint64_t)T;
    }
    if (rate)
        *rate = (double)spikes / (double)neurons;
    if (rate_in) {
        size_t ones = 0, n = (size_t)S * T * frame;
        for (size_t k = 0; k < n; k++)
            ones += raw[k];
        *rate_in = (double)ones / (double)n;
    }
    return median(ms, S);
}

static double time_float(lt_net *net, const float *x, int S, size_t frame, int T, int threads)
{
    double ms[256];
    float *one = malloc((size_t)T * frame * sizeof *one);
    lt_set_threads(threads);
    for (int s = -2; s < S; s++) { /* two warm-up runs */
        int b = s < 0 ? 0 : s % 8;
        for (int t = 0; t < T; t++)
            memcpy(one + (size_t)t * frame, x + ((size_t)t * 8 + b) * frame, frame * sizeof *one);
        double t0 = lt_time_s();
        lt_net_forward(net, one, 1, 0);
        if (s >= 0)
            ms[s] = 1e3 * (lt_time_s() - t0);
    }
    free(one);
    return median(ms, S);
}

/* the rate where the event-driven line meets a flat one (linear between points), NaN if it never does */
static double crossover(const point *p, int n, double flat)
{
    for (int i = 0; i + 1 < n; i++) {
        double a = p[i].ms_event - flat, b = p[i + 1].ms_event - flat;
        if (a <= 0 && b > 0)
            return p[i].rate_mean + (p[i + 1].rate_mean - p[i].rate_mean) * (-a) / (b - a);
    }
    return NAN;
}

int main(int argc, char **argv)
{
    const char *model = "vgg9", *svg = NULL, *events = NULL, *rates_s = "0.01,0.02,0.05,0.1,0.15,0.2,0.3";
    const char *save = NULL;
    int T = 10, S = 20, threads = 2, dense_s = 1;
    double torch_ms = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--model")) model = argv[i + 1];
        else if (!strcmp(argv[i], "--T")) T = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--samples")) S = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rates")) rates_s = argv[i + 1];
        else if (!strcmp(argv[i], "--svg")) svg = argv[i + 1];
        else if (!strcmp(argv[i], "--events")) events = argv[i + 1];
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--torch-ms")) torch_ms = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--save")) save = argv[i + 1];
        else if (!strcmp(argv[i], "--dense-samples")) dense_s = atoi(argv[i + 1]);
        else return fprintf(stderr, "rt_bench: unknown option %s\n", argv[i]), 2;
    }
    if (T < 1 || S < 1 || S > 256 || threads < 1)
        return fprintf(stderr, "rt_bench: need T >= 1, 1 <= samples <= 256, threads >= 1\n"), 2;
    double rates[MAXP];
    int nr = 0;
    for (const char *p = rates_s; *p && nr < MAXP; p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p))
        rates[nr++] = atof(p);
    lt_err err = {0};
    lt_dataset tr = {0}, te = {0};
    const lt_dataset *d = NULL;
    if (events) {
        lt_source_opts so = {.T = T};
        if (lt_source_load(events, &so, &tr, &te, &err))
            return fprintf(stderr, "rt_bench: %s\n", err.msg), 1;
        d = te.n ? &te : &tr;
        nr = 1;
    }
    int c = 2, h = 48, w = 48;
    lt_model_preset_input(model, &c, &h, &w);
    if (d)
        c = d->C, h = d->H, w = d->W;
    const size_t frame = (size_t)c * h * w;
    lt_net_config nc = {.model = model, .in_c = c, .in_h = h, .in_w = w, .classes = 10, .T = T, .B = 8, .wbits = 4,
                        .train = 1, .keep_all = 1};
    lt_neuron_default(&nc.neuron);
    lt_net_config fc = nc;
    fc.B = 1, fc.train = 0, fc.keep_all = 0;
    lt_net *tw, *fl;
    if (lt_net_create(&tw, &nc, &err) || lt_net_create(&fl, &fc, &err))
        return fprintf(stderr, "rt_bench: %s\n", err.msg), 1;
    lt_net_init(tw, 1);
    float *x = malloc((size_t)T * 8 * frame * sizeof *x), *xs = malloc((size_t)T * 8 * frame * sizeof *xs);
    uint8_t *raw = malloc((size_t)S * T * frame), *rawc = malloc((size_t)8 * T * frame);
    point pts[MAXP];
    lt_rng g;
    lt_rng_seed(&g, 7);
    for (int k = 0; k < nr; k++) {
        point *p = &pts[k];
        p->rate_target = rates[k];
        make_input(x, rawc, d, T, 8, frame, rates[k], &g);
        double din = 0;
        for (size_t q = 0; q < (size_t)8 * T * frame; q++)
            din += rawc[q];
        if (d)
            p->rate_target = din / (8.0 * T * frame);
        calibrate(tw, x, 8, p->rate_target);
        /* the timed samples: fresh ones of the same kind, or the recordings themselves */
        if (d) {
            float *one = malloc((size_t)T * frame * sizeof *one);
            for (int s = 0; s < S && one; s++) {
                lt_dataset_get(d, (size_t)s % d->n, one, T, 1, 0);
                for (size_t q = 0; q < (size_t)T * frame; q++)
                    raw[(size_t)s * T * frame + q] = (uint8_t)(one[q] != 0.0f);
            }
            free(one);
        } else {
            for (int s = 0; s < S; s += 8) {
                make_input(xs, rawc, NULL, T, 8, frame, p->rate_target, &g);
                for (int b = 0; b < 8 && s + b < S; b++)
                    memcpy(raw + (size_t)(s + b) * T * frame, rawc + (size_t)b * T * frame, (size_t)T * frame);
            }
        }
        uint8_t *buf;
        size_t len, need;
        lt_export_opts eo = {.in_max = 1, .in_scale = 1.0f};
        if (lt_net_export(tw, &eo, &buf, &len, &err))
            return fprintf(stderr, "rt_bench: %s\n", err.msg), 1;
        lt_rt_info info;
        lt_rt_arena_size(buf, len, &need, &info);
        if (save) { /* the calibrated model, for profiling the runtime on its own */
            char path[4096];
            snprintf(path, sizeof path, "%s-%s-%.3f.ltq", save, model, p->rate_target);
            if (lt_write_file(path, buf, len, &err))
                fprintf(stderr, "rt_bench: %s\n", err.msg);
        }
        void *arena = malloc(need);
        lt_rt *rt;
        if (!arena || lt_rt_init(&rt, arena, need, buf, len, NULL))
            return fprintf(stderr, "rt_bench: runtime\n"), 1;
        p->ms_event = time_runtime(rt, raw, S, T, frame, 0, &p->rate_mean, &p->rate_in);
        /* The dense oracle does the same work at every rate (~40 s a VGG-9 sample on 2 Xeon cores), so
         * it is timed once, at the first point, on --dense-samples samples (0: never); NaN elsewhere. */
        p->ms_dense = NAN;
        if (p == pts && dense_s > 0)
            p->ms_dense = time_runtime(rt, raw, dense_s < S ? dense_s : S, T, frame, 1, NULL, NULL);
        for (int i = 0; i < tw->n_named; i++)
            memcpy(fl->named[i].data, tw->named[i].data, tw->named[i].numel * sizeof(float));
        p->ms_float1 = time_float(fl, x, S, frame, T, 1);
        p->ms_floatN = time_float(fl, x, S, frame, T, threads);
        char dense[32] = "null"; /* JSON has no NaN */
        if (!isnan(p->ms_dense))
            snprintf(dense, sizeof dense, "%.3f", p->ms_dense);
        printf("{\"model\": \"%s\", \"T\": %d, \"input\": \"%s\", \"rate_target\": %.4f, \"rate_in\": %.4f, "
               "\"rate_mean\": %.4f, \"ms_event\": %.3f, \"ms_dense_int\": %s, \"ms_float_1thread\": %.3f, "
               "\"ms_float_%dthreads\": %.3f, \"samples\": %d, \"flash_bytes\": %zu, \"ram_bytes\": %zu}\n",
               model, T, d ? events : "random", p->rate_target, p->rate_in, p->rate_mean, p->ms_event, dense,
               p->ms_float1, threads, p->ms_floatN, S, len, need);
        fflush(stdout);
        free(arena);
        free(buf);
    }
    if (svg && nr > 1) {
        double X[MAXP], E[MAXP], D[MAXP], F1[MAXP], FN[MAXP], TT[MAXP];
        for (int k = 0; k < nr; k++)
            X[k] = pts[k].rate_mean, E[k] = pts[k].ms_event, D[k] = pts[k].ms_dense, F1[k] = pts[k].ms_float1,
            FN[k] = pts[k].ms_floatN, TT[k] = torch_ms > 0 ? torch_ms : NAN;
        char l1[64], l2[64], title[256];
        snprintf(l1, sizeof l1, "ltsnn float32, oneDNN, %d threads", threads);
        snprintf(l2, sizeof l2, "PyTorch float32 (reference)");
        double c1 = crossover(pts, nr, median(F1, nr)), cN = crossover(pts, nr, median(FN, nr));
        snprintf(title, sizeof title, "%s, T=%d, one sample; event-driven beats float32 below rate %.3f (1 thread), "
                 "%.3f (%d threads)", model, T, c1, cN, threads);
        /* the dense integer oracle (D) is in the JSON lines, not drawn: tens of times slower, it would flatten the rest */
        (void)D;
        lt_plot_series ser[4] = {
            {.label = "event-driven 4-bit integers (runtime, 1 thread)", .x = X, .y = E, .n = (size_t)nr, .color = 0},
            {.label = "ltsnn float32, oneDNN, 1 thread", .x = X, .y = F1, .n = (size_t)nr, .color = 2},
            {.label = l1, .x = X, .y = FN, .n = (size_t)nr, .dashed = 1, .color = 3},
            {.label = l2, .x = X, .y = TT, .n = torch_ms > 0 ? (size_t)nr : 0, .color = 4},
        };
        lt_plot_panel pan = {.title = title, .xlabel = "mean firing rate of the neuron layers",
                             .ylabel = "ms per sample (median)", .series = ser, .n_series = 4};
        lt_plot_figure fig = {.width = 900, .height = 520, .panels = &pan, .n_panels = 1};
        if (lt_svg_write(svg, &fig, &err))
            return fprintf(stderr, "rt_bench: %s\n", err.msg), 1;
        fprintf(stderr, "wrote %s (crossover %.3f against 1 float thread, %.3f against %d)\n", svg, c1, cN, threads);
    }
    lt_net_free(tw);
    lt_net_free(fl);
    lt_dataset_free(&tr);
    lt_dataset_free(&te);
    free(x), free(xs), free(raw), free(rawc);
    return 0;
}
