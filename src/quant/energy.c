/* energy.c -- operation counts and the energy estimate of a float net on
 * data (METHOD.md §10): MACs of layers fed analog values, SOPs (nonzero
 * inputs x the outputs each reaches) of layers fed spikes, firing rates,
 * E = 4.6 pJ * MACs + 0.9 pJ * SOPs; and the "twin" both this file and
 * qmodel.c run: a copy of a net planned with every tensor kept, so that
 * each layer's input and each neuron's spikes can be read after a
 * forward.  The integer model's counts come from the runtime (qmodel.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ltsnn/quant.h"
#include "ltsnn/train.h"
#include "quant/quant.h"

lt_status lt_q_twin(lt_net **twin, const lt_net *net, int T, int B, lt_err *err)
{
    lt_net_config c = net->cfg;
    c.model = net->model;
    c.T = T, c.B = B;
    c.train = 1, c.keep_all = 1, c.plan_only = 0; /* planned for training: nothing reused, every tensor kept */
    lt_status st = lt_net_create(twin, &c, err);
    if (st)
        return st;
    /* the same model string and options: the named tensors correspond one to one */
    for (int i = 0; i < net->n_named; i++)
        memcpy((*twin)->named[i].data, net->named[i].data, net->named[i].numel * sizeof(float));
    return LT_OK;
}

/* layer l's first input in a twin's last forward (x: the network input) */
static const float *layer_input(const lt_net *net, const lt_layer *l, const float *x)
{
    return l->in[0] == 0 ? x : net->tensors[l->in[0]].data;
}

void lt_energy_free(lt_energy *e)
{
    free(e->row);
    memset(e, 0, sizeof *e);
}

static void row_init(lt_energy_row *r, const lt_layer *l)
{
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", l->name);
    snprintf(r->kind, sizeof r->kind, "%s", l->kind->name);
}

/* the rows: weighted layers and neurons, in order */
static int is_row(const lt_layer *l) { return l->kind->sops || (l->kind->flags & LT_KF_NEURON); }

void lt_energy_total(lt_energy *e)
{
    e->macs = e->sops = 0;
    for (int i = 0; i < e->n; i++)
        e->macs += e->row[i].macs, e->sops += e->row[i].sops;
    e->pj = LT_PJ_PER_MAC * e->macs + LT_PJ_PER_SOP * e->sops;
}

lt_status lt_net_energy(const lt_net *net, const lt_dataset *d, lt_energy *e, lt_err *err)
{
    memset(e, 0, sizeof *e);
    const int T = net->cfg.T, B = net->cfg.B;
    lt_status st = lt_check_data(net, d, "energy", err);
    if (st)
        return st;
    lt_net *tw = NULL;
    float *x = NULL;
    char *analog = NULL;
    double *ones = NULL;
    if ((st = lt_q_twin(&tw, net, T, B, err)))
        return st;
    const size_t frame = (size_t)net->cfg.in_c * net->cfg.in_h * net->cfg.in_w;
    x = lt_alloc((size_t)T * B * frame * sizeof(float));
    analog = calloc((size_t)tw->n_tensors, 1);
    ones = calloc((size_t)tw->n_layers, sizeof *ones);
    int n = 0;
    for (int i = 0; i < tw->n_layers; i++)
        n += is_row(&tw->layers[i]);
    e->row = calloc((size_t)(n ? n : 1), sizeof *e->row);
    if (!x || !analog || !ones || !e->row) {
        st = lt_err_set(err, LT_ERR_NOMEM, "out of memory for the energy count");
        goto done;
    }
    /* analog values: the input when the data stores 8-bit values (images,
     * count frames), and what pooling makes of them; spikes are not */
    analog[0] = d->bits == 8;
    for (int i = 0; i < tw->n_layers; i++) {
        const lt_layer *l = &tw->layers[i];
        int a = 0;
        for (int k = 0; k < l->n_in; k++)
            a |= analog[l->in[k]];
        analog[l->out] = (l->kind->flags & LT_KF_NEURON) ? 0 : (char)a;
    }
    e->n = n, e->T = T, e->samples = d->n;
    for (int i = 0, r = 0; i < tw->n_layers; i++)
        if (is_row(&tw->layers[i]))
            row_init(&e->row[r++], &tw->layers[i]);
    for (size_t s = 0; s < d->n; s += (size_t)B) {
        int b = (int)(d->n - s < (size_t)B ? d->n - s : (size_t)B);
        for (int j = 0; j < b; j++)
            lt_dataset_get(d, s + (size_t)j, x, T, b, j);
        lt_net_forward(tw, x, b, 0);
        for (int i = 0, r = 0; i < tw->n_layers; i++) {
            const lt_layer *l = &tw->layers[i];
            if (!is_row(l))
                continue;
            lt_energy_row *row = &e->row[r++];
            if (l->kind->flags & LT_KF_NEURON) {
                const float *y = tw->tensors[l->out].data;
                size_t m = (size_t)T * b * l->out_size, nz = 0;
                for (size_t k = 0; k < m; k++)
                    nz += y[k] != 0.0f;
                ones[i] += (double)nz;
            } else if ((row->analog = analog[l->in[0]])) {
                row->macs += (double)l->kind->macs(l) * T * b; /* dense: every value is multiplied */
            } else {
                row->sops += l->kind->sops(l, layer_input(tw, l, x), T, b);
            }
        }
    }
    for (int i = 0, r = 0; i < tw->n_layers; i++) {
        const lt_layer *l = &tw->layers[i];
        if (!is_row(l))
            continue;
        lt_energy_row *row = &e->row[r++];
        row->macs /= (double)d->n, row->sops /= (double)d->n;
        if (l->kind->flags & LT_KF_NEURON)
            row->rate = ones[i] / ((double)d->n * T * (double)l->out_size);
    }
    lt_energy_total(e);
done:
    if (st)
        lt_energy_free(e);
    lt_net_free(tw);
    lt_free(x);
    free(analog);
    free(ones);
    return st;
}
