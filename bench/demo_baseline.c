/* demo_baseline.c -- how hard is the built-in demo data for a linear model?
 *
 * Generates the default demo train and test splits (lt_demo_opts_split) and
 * trains multinomial logistic regression (softmax regression, Adam,
 * standardised features) on three feature sets:
 *   sum:   per-pixel, per-polarity counts of event frames summed over time
 *          [2, H, W]  -- what the data is designed to defeat;
 *   grid:  per-frame, per-polarity counts in a 4x4 grid of cells [T, 2, 4, 4]
 *          -- coarse, but keeps the temporal order;
 *   full:  the whole binary frames [T, 2, H, W] -- keeps everything.
 * For each, a few learning rates and L2 weights are tried and the best test
 * accuracy over settings and epochs is reported (an optimistic number for
 * the baseline, so that it is not a strawman); the full frames get half the
 * epochs.  Prints one line per setting and a summary.
 *
 * Usage: demo_baseline [--n-train N] [--n-test N] [--T T] [--size S] [--epochs E]
 *                      [--sets sum,grid,full] [--dump PREFIX]
 * --dump writes PREFIX-{train,test}-{x,y}.u8 (frames as 0/1 bytes [n,T,2,H,W],
 * labels as bytes) for an outside check, e.g. a PyTorch SNN (docs/data.md). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ltsnn.h"

typedef struct feats {
    size_t n, F;
    float *x;   /* [n, F] */
    int32_t *y; /* [n] */
} feats;

enum { SET_SUM = 0, SET_GRID, SET_FULL };
static const char *set_names[] = {"sum", "grid", "full"};

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "demo_baseline: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

static void make_feats(feats *f, const lt_dataset *d, int set)
{
    int T = d->Ts, H = d->H, W = d->W, G = 4;
    size_t nel = (size_t)T * 2 * H * W;
    f->n = d->n;
    f->F = set == SET_SUM ? (size_t)2 * H * W : set == SET_GRID ? (size_t)T * 2 * G * G : nel;
    f->x = xmalloc(f->n * f->F * sizeof *f->x);
    f->y = xmalloc(f->n * sizeof *f->y);
    float *fr = xmalloc(nel * sizeof *fr);
    for (size_t i = 0; i < d->n; i++) {
        lt_dataset_get(d, i, fr, T, 1, 0);
        float *o = f->x + i * f->F;
        memset(o, 0, f->F * sizeof *o);
        f->y[i] = d->labels[i];
        for (int t = 0; t < T; t++)
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++) {
                        float v = fr[(((size_t)t * 2 + c) * H + y) * W + x];
                        if (set == SET_SUM)
                            o[((size_t)c * H + y) * W + x] += v;
                        else if (set == SET_GRID)
                            o[(((size_t)t * 2 + c) * G + y * G / H) * G + x * G / W] += v;
                        else
                            o[(((size_t)t * 2 + c) * H + y) * W + x] = v;
                    }
    }
    free(fr);
}

/* Standardise with the training set's mean and std (features that never vary get std 1). */
static void standardise(feats *tr, feats *te)
{
    for (size_t j = 0; j < tr->F; j++) {
        double s = 0, s2 = 0;
        for (size_t i = 0; i < tr->n; i++) {
            double v = tr->x[i * tr->F + j];
            s += v;
            s2 += v * v;
        }
        double m = s / (double)tr->n, var = s2 / (double)tr->n - m * m;
        double sd = var > 1e-12 ? sqrt(var) : 1.0;
        for (size_t i = 0; i < tr->n; i++)
            tr->x[i * tr->F + j] = (float)((tr->x[i * tr->F + j] - m) / sd);
        for (size_t i = 0; i < te->n; i++)
            te->x[i * te->F + j] = (float)((te->x[i * te->F + j] - m) / sd);
    }
}

static double accuracy(const feats *f, const float *Wt, const float *b, int K, float *logits)
{
    size_t ok = 0, B = 256;
    for (size_t i0 = 0; i0 < f->n; i0 += B) {
        size_t nb = f->n - i0 < B ? f->n - i0 : B;
        for (size_t i = 0; i < nb; i++)
            memcpy(logits + i * K, b, K * sizeof *b);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, K, (int)f->F, 1.0f, f->x + i0 * f->F,
                    (int)f->F, Wt, K, 1.0f, logits, K);
        for (size_t i = 0; i < nb; i++) {
            int best = 0;
            for (int k = 1; k < K; k++)
                if (logits[i * K + k] > logits[i * K + best])
                    best = k;
            ok += best == f->y[i0 + i];
        }
    }
    return (double)ok / (double)f->n;
}

/* Softmax regression with Adam on minibatches of 64; returns the best test
 * accuracy over epochs (and the train accuracy at that epoch). */
static double train_softmax(const feats *tr, const feats *te, int K, float lr, float l2, int epochs, uint64_t seed,
                            double *train_acc)
{
    size_t F = tr->F, P = F * K + K, B = 64;
    float *w = calloc(P, sizeof *w), *g = xmalloc(P * sizeof *g), *m = calloc(P, sizeof *m),
          *v = calloc(P, sizeof *v), *logits = xmalloc(256 * K * sizeof *logits), *dz = xmalloc(B * K * sizeof *dz);
    float *xb = xmalloc(B * F * sizeof *xb);
    uint32_t *perm = xmalloc(tr->n * sizeof *perm);
    if (!w || !m || !v) {
        fprintf(stderr, "demo_baseline: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < tr->n; i++)
        perm[i] = (uint32_t)i;
    lt_rng r;
    lt_rng_seed(&r, seed);
    float *Wt = w, *b = w + F * K, *gW = g, *gb = g + F * K;
    double best = 0, best_tr = 0;
    long step = 0;
    for (int ep = 0; ep < epochs; ep++) {
        lt_rng_shuffle_u32(&r, perm, tr->n);
        for (size_t i0 = 0; i0 + B <= tr->n; i0 += B) {
            for (size_t i = 0; i < B; i++) {
                memcpy(xb + i * F, tr->x + (size_t)perm[i0 + i] * F, F * sizeof *xb);
                memcpy(dz + i * K, b, K * sizeof *b);
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, K, (int)F, 1.0f, xb, (int)F, Wt, K, 1.0f,
                        dz, K);
            memset(gb, 0, K * sizeof *gb);
            for (size_t i = 0; i < B; i++) {
                float *z = dz + i * K, mx = z[0], s = 0;
                for (int k = 1; k < K; k++)
                    mx = z[k] > mx ? z[k] : mx;
                for (int k = 0; k < K; k++)
                    s += (z[k] = expf(z[k] - mx));
                for (int k = 0; k < K; k++) {
                    z[k] = (z[k] / s - (k == tr->y[perm[i0 + i]])) / (float)B;
                    gb[k] += z[k];
                }
            }
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)F, K, (int)B, 1.0f, xb, (int)F, dz, K, 0.0f,
                        gW, K);
            for (size_t j = 0; j < F * K; j++)
                gW[j] += l2 * Wt[j];
            step++;
            float c1 = 1.0f - powf(0.9f, (float)step), c2 = 1.0f - powf(0.999f, (float)step);
            for (size_t j = 0; j < P; j++) {
                m[j] = 0.9f * m[j] + 0.1f * g[j];
                v[j] = 0.999f * v[j] + 0.001f * g[j] * g[j];
                w[j] -= lr * (m[j] / c1) / (sqrtf(v[j] / c2) + 1e-8f);
            }
        }
        double acc = accuracy(te, Wt, b, K, logits);
        if (acc > best) {
            best = acc;
            best_tr = accuracy(tr, Wt, b, K, logits);
        }
    }
    *train_acc = best_tr;
    free(w), free(g), free(m), free(v), free(logits), free(dz), free(xb), free(perm);
    return best;
}

static void dump(const lt_dataset *d, const char *prefix, const char *split)
{
    char path[4096];
    size_t nel = (size_t)d->Ts * d->C * d->H * d->W;
    float *fr = xmalloc(nel * sizeof *fr);
    uint8_t *u = xmalloc(nel);
    snprintf(path, sizeof path, "%s-%s-x.u8", prefix, split);
    FILE *fx = fopen(path, "wb");
    snprintf(path, sizeof path, "%s-%s-y.u8", prefix, split);
    FILE *fy = fopen(path, "wb");
    if (!fx || !fy) {
        fprintf(stderr, "demo_baseline: cannot write %s\n", path);
        exit(1);
    }
    for (size_t i = 0; i < d->n; i++) {
        lt_dataset_get(d, i, fr, d->Ts, 1, 0);
        for (size_t k = 0; k < nel; k++)
            u[k] = fr[k] > 0.5f;
        fwrite(u, 1, nel, fx);
        fputc((int)d->labels[i], fy);
    }
    fclose(fx);
    fclose(fy);
    free(fr);
    free(u);
}

int main(int argc, char **argv)
{
    lt_demo_opts otr, ote;
    lt_demo_opts_split(&otr, 1);
    lt_demo_opts_split(&ote, 0);
    int epochs = 40;
    const char *sets = "sum,grid,full", *dump_prefix = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "demo_baseline: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--n-train"))
            otr.n = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--n-test"))
            ote.n = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--T"))
            otr.T = ote.T = atoi(v);
        else if (!strcmp(a, "--size"))
            otr.H = otr.W = ote.H = ote.W = atoi(v);
        else if (!strcmp(a, "--epochs"))
            epochs = atoi(v);
        else if (!strcmp(a, "--sets"))
            sets = v;
        else if (!strcmp(a, "--dump"))
            dump_prefix = v;
        else {
            fprintf(stderr, "demo_baseline: unknown flag %s\n", a);
            return 2;
        }
        i++;
    }
    lt_err err;
    lt_dataset dtr, dte;
    double t0 = lt_time_s();
    if (lt_demo_make(&dtr, &otr, &err) || lt_demo_make(&dte, &ote, &err)) {
        fprintf(stderr, "demo_baseline: %s\n", err.msg);
        return 1;
    }
    printf("demo data: train %zu (seed %llu), test %zu (seed %llu), T=%d %dx%d, made in %.2f s\n", dtr.n,
           (unsigned long long)otr.seed, dte.n, (unsigned long long)ote.seed, otr.T, otr.H, otr.W,
           lt_time_s() - t0);
    if (dump_prefix) {
        dump(&dtr, dump_prefix, "train");
        dump(&dte, dump_prefix, "test");
    }
    /* settings tried per feature set; the full frames are 10x larger, so fewer */
    const float lrs[3][4] = {{1e-4f, 3e-4f, 1e-3f, 3e-3f}, {1e-4f, 3e-4f, 1e-3f, 3e-3f}, {1e-4f, 3e-4f, 1e-3f, 0}};
    const float l2s[3][3] = {{0.0f, 1e-2f, 1e-1f}, {0.0f, 1e-2f, 1e-1f}, {0.0f, 1e-2f, -1}};
    double best_of[3] = {-1, -1, -1};
    for (int set = 0; set < 3; set++) {
        if (!strstr(sets, set_names[set]))
            continue;
        feats tr, te;
        make_feats(&tr, &dtr, set);
        make_feats(&te, &dte, set);
        standardise(&tr, &te);
        for (int a = 0; a < 4 && lrs[set][a] > 0; a++)
            for (int c = 0; c < 3 && l2s[set][c] >= 0; c++) {
                double tr_acc, acc = train_softmax(&tr, &te, LT_DEMO_CLASSES, lrs[set][a], l2s[set][c],
                                                   set == SET_FULL ? (epochs + 1) / 2 : epochs, 7, &tr_acc);
                printf("  %-4s features %6zu  lr %.0e  l2 %.0e: test %.1f%%  (train %.1f%%)\n", set_names[set],
                       tr.F, (double)lrs[set][a], (double)l2s[set][c], 100 * acc, 100 * tr_acc);
                fflush(stdout);
                if (acc > best_of[set])
                    best_of[set] = acc;
            }
        free(tr.x), free(tr.y), free(te.x), free(te.y);
    }
    printf("best test accuracy of softmax regression (chance 10%%):\n");
    for (int set = 0; set < 3; set++)
        if (best_of[set] >= 0)
            printf("  %-4s %.1f%%\n", set_names[set], 100 * best_of[set]);
    lt_dataset_free(&dtr);
    lt_dataset_free(&dte);
    return 0;
}
