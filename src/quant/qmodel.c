/* qmodel.c -- integer .ltq models inside ltsnn: load and check one (the
 * runtime's own validation, turned into messages with the file and byte
 * offset), and evaluate it on a dataset through the runtime, optionally
 * against the float net it came from: spike agreement per neuron layer,
 * prediction agreement, and the integer model's operation counts (METHOD.md
 * §10).  The integer work is the runtime's (runtime/ltsnn_rt.c, the same
 * code a device runs); samples are spread over threads, one runtime per
 * thread, and every count is an integer sum, so results do not depend on
 * the thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "ltsnn/io.h"
#include "ltsnn/quant.h"
#include "ltsnn/train.h"
#include "ltsnn_rt.h"
#include "quant/quant.h"

struct lt_qmodel {
    uint8_t *buf;
    size_t len;
    char what[512];
    lt_rt_info info;
    float in_scale;
    char model[1024];
    char data[256];
    int n_lif;
};

int lt_qmodel_sniff(const char *path)
{
    FILE *f = fopen(path, "rb");
    char m[4] = {0};
    int ok = f && fread(m, 1, 4, f) == 4 && !memcmp(m, "LTQM", 4);
    if (f)
        fclose(f);
    return ok;
}

void lt_qmodel_free(lt_qmodel *m)
{
    if (!m)
        return;
    free(m->buf);
    free(m);
}

/* "key=value" lines of the metadata (validated in length by the runtime) */
static void read_meta(lt_qmodel *m)
{
    const uint8_t *b = m->buf;
    size_t n = (size_t)b[52] | (size_t)b[53] << 8 | (size_t)b[54] << 16 | (size_t)b[55] << 24;
    const char *s = (const char *)b + 60, *end = s + n;
    m->in_scale = 1.0f;
    while (s < end) {
        const char *e = memchr(s, '\n', (size_t)(end - s));
        if (!e)
            e = end;
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (eq) {
            size_t kl = (size_t)(eq - s), vl = (size_t)(e - eq - 1);
            char val[1024];
            snprintf(val, sizeof val, "%.*s", (int)(vl < sizeof val - 1 ? vl : sizeof val - 1), eq + 1);
            if (kl == 11 && !memcmp(s, "input_scale", 11)) {
                float v = strtof(val, NULL);
                if (v > 0)
                    m->in_scale = v;
            } else if (kl == 5 && !memcmp(s, "model", 5)) {
                snprintf(m->model, sizeof m->model, "%s", val);
            } else if (kl == 4 && !memcmp(s, "data", 4)) {
                snprintf(m->data, sizeof m->data, "%.255s", val);
            }
        }
        s = e + 1;
    }
}

lt_status lt_qmodel_open(lt_qmodel **out, const uint8_t *buf, size_t len, const char *what, lt_err *err)
{
    *out = NULL;
    lt_qmodel *m = calloc(1, sizeof *m);
    if (!m || !(m->buf = malloc(len ? len : 1))) {
        free(m);
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory for %s", what);
    }
    memcpy(m->buf, buf, len);
    m->len = len;
    snprintf(m->what, sizeof m->what, "%s", what);
    size_t need;
    int rs = lt_rt_arena_size(m->buf, len, &need, &m->info);
    if (rs) {
        lt_status st = rs == LT_RT_EVERSION || rs == LT_RT_EOP ? LT_ERR_UNSUPPORTED : LT_ERR_FORMAT;
        lt_err_set(err, st, "%s: byte %zu: %s", what, m->info.err_offset,
                   m->info.err_what[0] ? m->info.err_what : lt_rt_strerror(rs));
        lt_qmodel_free(m);
        return st;
    }
    read_meta(m);
    /* count the neuron ops once, on a runtime of its own */
    void *arena = malloc(need);
    lt_rt *rt;
    if (!arena || lt_rt_init(&rt, arena, need, m->buf, len, NULL)) {
        free(arena);
        lt_qmodel_free(m);
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory for %s's runtime (%zu bytes)", what, need);
    }
    lt_rt_op_info oi;
    for (uint32_t i = 0; i < m->info.n_ops; i++)
        if (!lt_rt_op(rt, i, &oi) && oi.type == LT_RT_OP_LIF)
            m->n_lif++;
    free(arena);
    *out = m;
    return LT_OK;
}

lt_status lt_qmodel_load(lt_qmodel **m, const char *path, lt_err *err)
{
    void *buf;
    size_t len;
    lt_status st = lt_read_file(path, &buf, &len, (size_t)1 << 32, err);
    if (st)
        return st;
    st = lt_qmodel_open(m, buf, len, path, err);
    free(buf);
    return st;
}

void lt_qmodel_get_info(const lt_qmodel *m, lt_qmodel_info *in)
{
    memset(in, 0, sizeof *in);
    in->in_c = (int)m->info.in_c, in->in_h = (int)m->info.in_h, in->in_w = (int)m->info.in_w;
    in->in_max = (int)m->info.in_max;
    in->in_scale = m->in_scale;
    in->classes = (int)m->info.classes, in->T = (int)m->info.T;
    in->n_ops = (int)m->info.n_ops, in->n_lif = m->n_lif;
    in->file_bytes = m->info.flash_bytes;
    in->arena_bytes = m->info.arena_bytes;
    in->persistent_bytes = m->info.persistent_bytes;
    snprintf(in->model, sizeof in->model, "%s", m->model);
    snprintf(in->data, sizeof in->data, "%s", m->data);
}

void lt_qeval_free(lt_qeval *r)
{
    free(r->confusion);
    free(r->pred);
    free(r->logit_sums);
    free(r->layer);
    lt_energy_free(&r->energy);
    memset(r, 0, sizeof *r);
}

/* ---------------- evaluation ---------------- */

/* one worker: a runtime and its counts */
typedef struct worker {
    void *arena;
    lt_rt *rt;
    uint8_t *frame;         /* [C*H*W] raw input values */
    uint64_t *agree, *total, *ones_i, *ones_f; /* [n_ops] */
    uint64_t *work, *active; /* [n_ops]: CONV/LINEAR updates, active inputs; LIF spikes */
    /* the float spikes the tap compares with, for the current sample and step */
    const float *const *fl; /* [n_ops]: neuron ops' float outputs [T*b, C, H, W] (NULL: not compared) */
    int b, j, t;
} worker;

static void tap(void *ctx, const lt_rt *rt, uint32_t op)
{
    worker *w = ctx;
    const float *f = w->fl ? w->fl[op] : NULL;
    const uint8_t *s = lt_rt_spikes(rt, op);
    if (!f || !s)
        return;
    lt_rt_op_info oi;
    lt_rt_op(rt, op, &oi);
    const uint32_t C = oi.c, HW = oi.h * oi.w, n = C * HW;
    const float *fs = f + ((size_t)w->t * (size_t)w->b + (size_t)w->j) * n;
    uint64_t agree = 0, oi_ = 0, of = 0;
    for (uint32_t i = 0; i < n; i++) {
        int a = s[i], b = fs[(i % C) * HW + i / C] != 0.0f; /* [h][w][c] against [c][h][w] */
        agree += a == b, oi_ += (uint64_t)a, of += (uint64_t)b;
    }
    w->agree[op] += agree, w->total[op] += n, w->ones_i[op] += oi_, w->ones_f[op] += of;
}

/* the stored values of sample i's frame at step t */
static void raw_frame(uint8_t *dst, const lt_dataset *d, size_t i, int t)
{
    const size_t n = (size_t)d->C * d->H * d->W, at = (size_t)(d->Ts == 1 ? 0 : t) * n;
    const uint8_t *s = d->data + i * d->sample_bytes;
    if (d->bits == 8) {
        memcpy(dst, s + at, n);
        return;
    }
    for (size_t k = 0; k < n; k++)
        dst[k] = (uint8_t)(s[(at + k) >> 3] >> ((at + k) & 7) & 1u);
}

static void worker_free(worker *w)
{
    free(w->arena);
    free(w->frame);
    free(w->agree);
}

static int worker_init(worker *w, const lt_qmodel *m, size_t need)
{
    memset(w, 0, sizeof *w);
    uint32_t no = m->info.n_ops;
    w->arena = malloc(need);
    w->frame = malloc((size_t)m->info.in_c * m->info.in_h * m->info.in_w);
    w->agree = calloc(6 * (size_t)no, sizeof(uint64_t));
    if (!w->arena || !w->frame || !w->agree || lt_rt_init(&w->rt, w->arena, need, m->buf, m->len, NULL))
        return 0;
    w->total = w->agree + no, w->ones_i = w->total + no, w->ones_f = w->ones_i + no;
    w->work = w->ones_f + no, w->active = w->work + no;
    lt_rt_set_tap(w->rt, tap, w);
    return 1;
}

/* METHOD.md §10's counting on the runtime's numbers: which ops are fed
 * analog values (the input when it is not binary, and its pooling) */
static void energy_rows(lt_qeval *r, const lt_qmodel *m, lt_rt *rt, const worker *ws, int nw, int T)
{
    const uint32_t no = m->info.n_ops;
    char analog[LT_RT_MAX_TENSORS] = {0};
    analog[0] = m->info.in_max > 1;
    lt_energy *e = &r->energy;
    e->row = calloc(no, sizeof *e->row);
    if (!e->row)
        return;
    e->T = T, e->samples = r->samples;
    for (uint32_t i = 0; i < no; i++) {
        lt_rt_op_info oi;
        lt_rt_op(rt, i, &oi);
        if (oi.out < LT_RT_MAX_TENSORS)
            analog[oi.out] = oi.type != LT_RT_OP_LIF && analog[oi.in0];
        if (oi.type != LT_RT_OP_CONV && oi.type != LT_RT_OP_LINEAR && oi.type != LT_RT_OP_LIF)
            continue;
        lt_energy_row *row = &e->row[e->n++];
        snprintf(row->name, sizeof row->name, "%.*s", (int)(oi.name_len < 79 ? oi.name_len : 79), oi.name);
        snprintf(row->kind, sizeof row->kind, "%s", oi.type == LT_RT_OP_CONV ? "conv"
                                                    : oi.type == LT_RT_OP_LINEAR ? "linear" : "lif");
        uint64_t work = 0;
        for (int k = 0; k < nw; k++)
            work += ws[k].work[i];
        const double S = r->samples ? (double)r->samples : 1.0;
        if (oi.type == LT_RT_OP_LIF)
            row->rate = (double)work / (S * T * (double)oi.c * oi.h * oi.w);
        else if ((row->analog = analog[oi.in0]))
            row->macs = (double)oi.dense_macs * T;
        else
            row->sops = (double)work / S;
    }
    lt_energy_total(e);
}

/* float neuron outputs of the twin, by the integer op's name and shape */
static lt_status match_float(const lt_net *tw, lt_rt *rt, const lt_qmodel *m, const float **fl, lt_err *err)
{
    for (uint32_t i = 0; i < m->info.n_ops; i++) {
        lt_rt_op_info oi;
        lt_rt_op(rt, i, &oi);
        fl[i] = NULL;
        if (oi.type != LT_RT_OP_LIF)
            continue;
        const lt_layer *l = NULL;
        for (int k = 0; k < tw->n_layers && !l; k++)
            if (strlen(tw->layers[k].name) == oi.name_len && !memcmp(tw->layers[k].name, oi.name, oi.name_len))
                l = &tw->layers[k];
        if (!l || !(l->kind->flags & LT_KF_NEURON) || (uint32_t)l->out_c != oi.c || (uint32_t)l->out_h != oi.h ||
            (uint32_t)l->out_w != oi.w)
            return lt_err_set(err, LT_ERR_SHAPE, "%s: neuron op '%.*s' (%ux%ux%u) has no counterpart in the float "
                              "model %s", m->what, (int)oi.name_len, oi.name, oi.c, oi.h, oi.w, tw->model);
        fl[i] = tw->tensors[l->out].data;
    }
    return LT_OK;
}

lt_status lt_qmodel_evaluate(const lt_qmodel *m, const lt_dataset *d, const lt_net *ref, int T, lt_qeval *r,
                             lt_err *err)
{
    memset(r, 0, sizeof *r);
    const lt_rt_info *mi = &m->info;
    const int K = (int)mi->classes;
    T = T > 0 ? T : (int)mi->T > 0 ? (int)mi->T : 1;
    lt_status st = lt_dataset_check_T(d, T, err);
    if (st)
        return st;
    if (d->n == 0)
        return lt_err_set(err, LT_ERR_ARG, "%s: the data is empty", m->what);
    if ((uint32_t)d->C != mi->in_c || (uint32_t)d->H != mi->in_h || (uint32_t)d->W != mi->in_w)
        return lt_err_set(err, LT_ERR_SHAPE, "%s: the data has frames %dx%dx%d, the model takes %ux%ux%u", m->what,
                          d->C, d->H, d->W, mi->in_c, mi->in_h, mi->in_w);
    if (d->classes > K)
        return lt_err_set(err, LT_ERR_SHAPE, "%s: the data has %d classes, the model %d", m->what, d->classes, K);
    if (fabs((double)d->scale / m->in_scale - 1.0) > 1e-6)
        return lt_err_set(err, LT_ERR_SHAPE, "%s: the model takes stored values scaled by %g, this data stores "
                          "values scaled by %g (export with the --input that matches the data)", m->what,
                          (double)m->in_scale, (double)d->scale);
    if (ref && (ref->cfg.in_c != d->C || ref->cfg.in_h != d->H || ref->cfg.in_w != d->W || ref->K != K))
        return lt_err_set(err, LT_ERR_SHAPE, "%s: the float model %s does not have the integer model's input and "
                          "classes", m->what, ref->model);
    const int nw = lt_get_threads() > 0 ? lt_get_threads() : 1;
    const int B = ref ? ref->cfg.B : 64;
    const uint32_t no = mi->n_ops;
    worker *ws = calloc((size_t)nw, sizeof *ws);
    lt_net *tw = NULL;
    float *x = NULL;
    const float *O = NULL;
    const float **fl = NULL;
    int32_t *pf = NULL, *pi = NULL;
    r->confusion = calloc((size_t)K * K, sizeof *r->confusion);
    r->pred = calloc(d->n ? d->n : 1, sizeof *r->pred);
    r->logit_sums = calloc((d->n ? d->n : 1) * (size_t)K, sizeof *r->logit_sums);
    r->logit_shift = mi->logit_shift;
    r->layer = calloc(no, sizeof *r->layer);
    fl = calloc(no, sizeof *fl);
    pf = calloc((size_t)B, sizeof *pf);
    pi = calloc((size_t)B, sizeof *pi);
    if (!ws || !r->confusion || !r->pred || !r->logit_sums || !r->layer || !fl || !pf || !pi) {
        st = lt_err_set(err, LT_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int k = 0; k < nw; k++)
        if (!worker_init(&ws[k], m, mi->arena_bytes)) {
            st = lt_err_set(err, LT_ERR_NOMEM, "out of memory for %d runtimes of %zu bytes", nw, mi->arena_bytes);
            goto done;
        }
    if (ref) {
        const size_t frame = (size_t)d->C * d->H * d->W;
        if ((st = lt_q_twin(&tw, ref, T, B, err)) || (st = match_float(tw, ws[0].rt, m, fl, err)))
            goto done;
        if (!(x = lt_alloc((size_t)T * B * frame * sizeof(float)))) {
            st = lt_err_set(err, LT_ERR_NOMEM, "out of memory");
            goto done;
        }
        r->compared = 1;
    }
    r->T = T, r->classes = K, r->samples = d->n;
    size_t correct = 0, correct_f = 0, bad_sample = (size_t)-1;
    int bad_rs = 0;
    for (size_t s0 = 0; s0 < d->n && bad_sample == (size_t)-1; s0 += (size_t)B) {
        const int b = (int)(d->n - s0 < (size_t)B ? d->n - s0 : (size_t)B);
        if (ref) {
            for (int j = 0; j < b; j++)
                lt_dataset_get(d, s0 + (size_t)j, x, T, b, j);
            O = lt_net_forward(tw, x, b, 0);
            lt_predict(pf, O, T, b, K);
        }
        double t0 = lt_time_s();
        long j;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nw)
        for (j = 0; j < b; j++) {
            int id = 0;
#ifdef _OPENMP
            id = omp_get_thread_num();
#endif
            worker *w = &ws[id];
            w->fl = ref ? fl : NULL, w->b = b, w->j = (int)j;
            lt_rt_reset(w->rt);
            int rs = 0;
            for (int t = 0; t < T && !rs; t++) {
                raw_frame(w->frame, d, s0 + (size_t)j, t);
                w->t = t;
                rs = lt_rt_step(w->rt, w->frame);
            }
            if (rs) {
#pragma omp critical
                if (s0 + (size_t)j < bad_sample)
                    bad_sample = s0 + (size_t)j, bad_rs = rs;
                continue;
            }
            pi[j] = (int32_t)lt_rt_predict(w->rt);
            r->pred[s0 + (size_t)j] = pi[j];
            memcpy(r->logit_sums + (s0 + (size_t)j) * (size_t)K, lt_rt_logit_sums(w->rt), (size_t)K * sizeof(int64_t));
            for (uint32_t i = 0; i < no; i++) {
                lt_rt_op_info oi;
                lt_rt_op(w->rt, i, &oi);
                w->work[i] += oi.type == LT_RT_OP_LIF ? oi.spikes : oi.updates;
                w->active[i] += oi.active_in;
            }
        }
        r->seconds += lt_time_s() - t0;
        for (int j2 = 0; j2 < b; j2++) {
            int y = d->labels[s0 + (size_t)j2];
            correct += pi[j2] == y;
            if (y >= 0 && y < K)
                r->confusion[(size_t)y * K + pi[j2]]++;
            if (ref) {
                correct_f += pf[j2] == y;
                r->pred_agree += pf[j2] == pi[j2];
            }
        }
    }
    if (bad_sample != (size_t)-1) {
        st = lt_err_set(err, LT_ERR_SHAPE, "%s: sample %zu: %s (the model takes values up to %u; export with the "
                        "--input that matches the data)", m->what, bad_sample, lt_rt_strerror(bad_rs), mi->in_max);
        goto done;
    }
    r->acc = 100.0 * (double)correct / (double)d->n;
    r->acc_float = 100.0 * (double)correct_f / (double)d->n;
    for (uint32_t i = 0; i < no; i++) {
        lt_rt_op_info oi;
        lt_rt_op(ws[0].rt, i, &oi);
        if (oi.type != LT_RT_OP_LIF)
            continue;
        lt_qlayer_agree *q = &r->layer[r->n_layers++];
        snprintf(q->name, sizeof q->name, "%.*s", (int)(oi.name_len < 79 ? oi.name_len : 79), oi.name);
        for (int k = 0; k < nw; k++)
            q->total += ws[k].total[i], q->agree += ws[k].agree[i], q->ones_int += ws[k].ones_i[i],
                q->ones_float += ws[k].ones_f[i];
        r->spikes_total += q->total, r->spikes_agree += q->agree;
    }
    energy_rows(r, m, ws[0].rt, ws, nw, T);
    if (!r->energy.row)
        st = lt_err_set(err, LT_ERR_NOMEM, "out of memory");
done:
    for (int k = 0; ws && k < nw; k++)
        worker_free(&ws[k]);
    free(ws);
    free(fl);
    free(pf);
    free(pi);
    lt_free(x);
    lt_net_free(tw);
    if (st)
        lt_qeval_free(r);
    return st;
}
