/* test_fast_net.c -- the network's memory plan (src/nn/net.c): BN fused
 * into the LIF input, spikes and u rebuilt in backward, gradients written
 * over dy and over kept conv outputs, u written over its input in inference.
 *
 * Checks, on a model with every layer kind (conv, BN, LIF, depthwise,
 * pointwise, both poolings, FC with LIF): an inference net and a training
 * net with the same weights give the same logits bit for bit in eval mode;
 * the train-mode forward is repeatable; forward + backward twice gives the
 * same gradients bit for bit (the rebuilding is exact and leaves no state
 * behind); and against the oracle, a net planned the plain way
 * (lt_net_config.keep_all: no fusion, every output, spike and membrane kept,
 * nothing in place), the same logits, loss and every gradient bit for bit,
 * for inference and training; a smaller batch than planned runs. */
#include "check.h"
#include "kernels/kernels.h"
#include "ltsnn.h"
#include "nn/net.h"

#include <string.h>

#define MODEL "6C3-MP2-8DW-AP2-10C3-FC12-FC5"
enum { T = 3, B = 4, H = 12, K = 5 };

static lt_net *make(int train, int keep_all)
{
    lt_err err = {0};
    lt_net_config nc = {.model = MODEL, .in_c = 2, .in_h = H, .in_w = H, .classes = 0, .T = T, .B = B, .train = train,
                        .keep_all = keep_all};
    lt_neuron_default(&nc.neuron);
    lt_net *n = NULL;
    CHECK(!lt_net_create(&n, &nc, &err), "create: %s", err.msg);
    if (n)
        lt_net_init(n, 9);
    return n;
}

/* a low threshold so every layer fires */
static void low_vth(lt_net *n)
{
    for (int i = 0; i < lt_net_n_named(n); i++) {
        const lt_named *t = lt_net_named(n, i);
        if (t->is_vth)
            t->data[0] = 0.3f;
    }
}

static double loss_of(lt_net *n, const float *x, const int32_t *y, int b, float *dO)
{
    const float *O = lt_net_forward(n, x, b, 1);
    return lt_loss_forward_backward(dO, O, y, 0.5f, 0.45f, 1, T, b, K).loss;
}

int main(void)
{
    check_begin("test_fast_net");
    lt_rng rng;
    lt_rng_seed(&rng, 5);
    size_t nx = (size_t)T * B * 2 * H * H;
    float *x = malloc(nx * sizeof(float)), *dO = malloc((size_t)T * B * K * sizeof(float));
    int32_t y[B] = {0, 3, 1, 4};
    for (size_t i = 0; i < nx; i++)
        x[i] = lt_rng_uniform(&rng) < 0.3 ? 1.0f : 0.0f;
    lt_net *tr = make(1, 0), *in = make(0, 0);
    if (!tr || !in)
        return check_done();
    low_vth(tr);
    low_vth(in);
    CHECK(lt_net_n_named(tr) == lt_net_n_named(in), "same tensors");

    /* eval logits: inference net vs training net */
    size_t no = (size_t)T * B * K;
    float *o1 = malloc(no * sizeof(float)), *o2 = malloc(no * sizeof(float));
    memcpy(o1, lt_net_forward(in, x, B, 0), no * sizeof(float));
    memcpy(o2, lt_net_forward(tr, x, B, 0), no * sizeof(float));
    CHECK(!memcmp(o1, o2, no * sizeof(float)), "eval logits differ between inference and training nets");
    int nz = 0;
    for (int k = 0; k < lt_net_n_lif(in); k++)
        nz += lt_net_rate(in, k) > 0.0;
    CHECK(nz >= lt_net_n_lif(in) - 1, "only %d of %d LIF layers fired in eval", nz, lt_net_n_lif(in));

    /* train forward repeatable; forward + backward twice gives the same bytes */
    loss_of(tr, x, y, B, dO);
    memcpy(o1, lt_net_forward(tr, x, B, 1), no * sizeof(float));
    loss_of(tr, x, y, B, dO);
    float *g1 = NULL;
    size_t ng = 0;
    for (int i = 0; i < lt_net_n_named(tr); i++)
        if (lt_net_named(tr, i)->grad)
            ng += lt_net_named(tr, i)->numel;
    g1 = malloc(ng * sizeof(float));
    lt_net_zero_grad(tr);
    lt_net_backward(tr, dO);
    size_t at = 0;
    for (int i = 0; i < lt_net_n_named(tr); i++) {
        const lt_named *t = lt_net_named(tr, i);
        if (t->grad)
            memcpy(g1 + at, t->grad, t->numel * sizeof(float)), at += t->numel;
    }
    loss_of(tr, x, y, B, dO); /* backward used up the saved tensors: forward again */
    lt_net_zero_grad(tr);
    lt_net_backward(tr, dO);
    at = 0;
    int same = 1;
    double gabs = 0;
    for (int i = 0; i < lt_net_n_named(tr); i++) {
        const lt_named *t = lt_net_named(tr, i);
        if (!t->grad)
            continue;
        same &= !memcmp(g1 + at, t->grad, t->numel * sizeof(float));
        for (size_t j = 0; j < t->numel; j++)
            gabs += fabs(t->grad[j]);
        at += t->numel;
    }
    CHECK(same, "a second backward from the same forward changed the gradients");
    CHECK(gabs > 0, "all gradients zero");

    /* the oracle: a net planned the plain way (every spike and u kept),
     * same weights, same batch: logits and every gradient bit for bit */
    lt_net *pl = make(1, 1);
    lt_net *pin = make(0, 1);
    if (pl && pin) {
        low_vth(pl);
        low_vth(pin);
        memcpy(o1, lt_net_forward(pin, x, B, 0), no * sizeof(float));
        memcpy(o2, lt_net_forward(in, x, B, 0), no * sizeof(float));
        CHECK(!memcmp(o1, o2, no * sizeof(float)), "inference logits differ from the plain plan");
        float *dO2 = malloc(no * sizeof(float));
        double l1 = loss_of(tr, x, y, B, dO), l2 = loss_of(pl, x, y, B, dO2);
        CHECK(l1 == l2 && !memcmp(dO, dO2, no * sizeof(float)), "train loss %.9g vs plain %.9g", l1, l2);
        lt_net_zero_grad(tr);
        lt_net_backward(tr, dO);
        lt_net_zero_grad(pl);
        lt_net_backward(pl, dO2);
        for (int q = 0; q < lt_net_n_named(tr); q++) {
            const lt_named *a = lt_net_named(tr, q), *b = lt_net_named(pl, q);
            if (a->grad)
                CHECK(b->grad && !memcmp(a->grad, b->grad, a->numel * sizeof(float)),
                      "%s: gradient differs from the plain plan", a->name);
        }
        free(dO2);
    }
    lt_net_free(pl);
    lt_net_free(pin);

    /* a batch smaller than planned */
    const float *O = lt_net_forward(tr, x, 2, 1);
    lt_loss_forward_backward(dO, O, y, 0.5f, 0.45f, 1, T, 2, K);
    lt_net_zero_grad(tr);
    lt_net_backward(tr, dO);
    CHECK(isfinite(lt_net_named(tr, 0)->grad[0]), "b < B backward");

    free(x), free(dO), free(o1), free(o2), free(g1);
    lt_net_free(tr);
    lt_net_free(in);
    return check_done();
}
