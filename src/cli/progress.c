/* progress.c -- the training progress display: a redrawn bar on a terminal,
 * plain lines (about ten per epoch) when stderr is a file or pipe. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/progress.h"

static void hms(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

/* A head other than classification: its loss parts and first two metrics
 * (a detector: coord, obj, noobj, cls; avg IoU and recall like darknet's
 * region log), and its evaluation results by name. */
static int head_text(char *buf, size_t cap, const lt_progress *p, int with_eval)
{
    const lt_head_kind *k = p->head;
    const lt_head_stats *s = p->stats;
    double seen = s && s->seen ? (double)s->seen : 1.0;
    int o = snprintf(buf, cap, "loss %.4f", p->phase == 2 ? p->train_loss : p->loss);
    for (int i = 0; s && i < k->n_parts && (size_t)o < cap; i++)
        o += snprintf(buf + o, cap - (size_t)o, "%s%s %.3f", i ? " " : " (", k->part[i], s->part[i] / seen);
    if (s && k->n_parts && (size_t)o < cap)
        o += snprintf(buf + o, cap - (size_t)o, ")");
    for (int i = 0; s && i < k->n_metrics && i < 2 && (size_t)o < cap; i++)
        o += snprintf(buf + o, cap - (size_t)o, "  %s %.3f", k->metric[i], s->metric[i] / seen);
    for (int i = 0; with_eval && p->eval && i < p->eval->n && p->eval->value[0] >= 0 && (size_t)o < cap; i++)
        o += snprintf(buf + o, cap - (size_t)o, "%s%s %.4f", i ? "  " : "  | eval ", p->eval->name[i],
                      p->eval->value[i]);
    return o;
}

void cli_progress(void *vctx, const lt_progress *p)
{
    cli_progress_ctx *c = vctx;
    char eta[32], el[32], txt[512];
    if (p->head && strcmp(p->head->name, "classify")) {
        /* plain lines, on a terminal too: the parts do not fit a redrawn bar */
        if (p->phase == 0) {
            hms(eta, sizeof eta, p->eta_s);
            long step = p->batches / 10 > 0 ? p->batches / 10 : 1;
            head_text(txt, sizeof txt, p, 0);
            if (p->batch % step == 0 && p->batch != p->batches)
                fprintf(stderr, "epoch %d/%d  batch %ld/%ld  %.1f samples/s  %s  ETA %s\n", p->epoch, p->epochs,
                        p->batch, p->batches, p->samples_per_s, txt, eta);
        } else if (p->phase == 2) {
            hms(el, sizeof el, p->elapsed_s);
            head_text(txt, sizeof txt, p, 1);
            fprintf(stderr, "epoch %d/%d  %s%s  %.1fs (%.1f samples/s)  [%s]\n", p->epoch, p->epochs, txt,
                    p->best ? " (best)" : "", p->epoch_s, p->samples_per_s, el);
            if (p->warning)
                fprintf(stderr, "warning: epoch %d: %s\n", p->epoch, p->warning);
        }
        return;
    }
    if (p->phase == 0) {
        hms(eta, sizeof eta, p->eta_s);
        if (c->tty) {
            int width = 24, fill = (int)(width * p->batch / (p->batches ? p->batches : 1));
            char bar[32];
            for (int i = 0; i < width; i++)
                bar[i] = i < fill ? '#' : '.';
            bar[width] = 0;
            fprintf(stderr, "\repoch %d/%d [%s] %ld/%ld  %.0f samples/s  loss %.4f  acc %.1f%%  ETA %s   ",
                    p->epoch, p->epochs, bar, p->batch, p->batches, p->samples_per_s, p->loss, p->acc, eta);
            fflush(stderr);
        } else {
            long step = p->batches / 10 > 0 ? p->batches / 10 : 1;
            if (p->batch % step == 0 && p->batch != p->batches)
                fprintf(stderr, "epoch %d/%d  batch %ld/%ld  %.0f samples/s  loss %.4f  acc %.1f%%  ETA %s\n",
                        p->epoch, p->epochs, p->batch, p->batches, p->samples_per_s, p->loss, p->acc, eta);
        }
    } else if (p->phase == 1) {
        if (c->tty) {
            fprintf(stderr, "\repoch %d/%d evaluating...%60s", p->epoch, p->epochs, "");
            fflush(stderr);
        }
    } else {
        hms(el, sizeof el, p->elapsed_s);
        if (c->tty)
            fprintf(stderr, "\r%100s\r", "");
        if (p->test_acc >= 0)
            fprintf(stderr, "epoch %d/%d  loss %.4f  train %.2f%%  test %.2f%%%s  %.1fs (%.0f samples/s)  [%s]\n",
                    p->epoch, p->epochs, p->train_loss, p->train_acc, p->test_acc, p->best ? " (best)" : "",
                    p->epoch_s, p->samples_per_s, el);
        else
            fprintf(stderr, "epoch %d/%d  loss %.4f  train %.2f%%  %.1fs (%.0f samples/s)  [%s]\n", p->epoch,
                    p->epochs, p->train_loss, p->train_acc, p->epoch_s, p->samples_per_s, el);
        if (p->warning)
            fprintf(stderr, "warning: epoch %d: %s\n", p->epoch, p->warning);
    }
}

void cli_progress_init(cli_progress_ctx *c) { c->tty = isatty(2); }
