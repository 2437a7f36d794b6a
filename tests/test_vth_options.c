/* test_vth_options.c -- issue 18's net and optimiser options, on a small net
 * with hand-set gradients (the steps are checked against their formulas,
 * not against ltsnn's own arithmetic path):
 *  - thresholds stepped by plain SGD move by exactly lr_vth * g while the
 *    weights keep Adam; threshold weight decay touches thresholds only;
 *  - bn_fixed_affine: BN's gamma and beta are held at 1 and 0 by the
 *    optimiser (no step, no decay, no moment), everything else steps;
 *  - fc_analog: one LIF fewer per hidden FC; first_vth_fixed: the first
 *    LIF has no threshold gradient and keeps its init through training
 *    steps, refused under dsr;
 *  - the options go to the metadata list and come back, and only
 *    non-defaults are "not default". */
#include <string.h>

#include "check.h"
#include "ltsnn.h"

static lt_net *make(const char *model, int fixed_affine, int analog, int first_fixed, lt_vth_mode mode,
                    float vth_init, lt_err *err)
{
    lt_net_config c = {.model = model, .in_c = 1, .in_h = 6, .in_w = 6, .T = 2, .B = 2, .train = 1,
                       .bn_fixed_affine = fixed_affine, .fc_analog = analog, .first_vth_fixed = first_fixed};
    lt_neuron_default(&c.neuron);
    c.neuron.mode = mode;
    c.neuron.vth_init = vth_init;
    lt_net *n = NULL;
    if (lt_net_create(&n, &c, err))
        return NULL;
    lt_net_init(n, 7);
    return n;
}

/* every gradient set to g (thresholds to gv) */
static void set_grads(lt_net *n, float g, float gv)
{
    for (int i = 0; i < lt_net_n_named(n); i++) {
        const lt_named *nm = lt_net_named(n, i);
        for (size_t j = 0; nm->grad && j < nm->numel; j++)
            nm->grad[j] = nm->is_vth ? gv : g;
    }
}

/* copy of every named tensor's data, in order */
static float *snapshot(const lt_net *n)
{
    size_t tot = 0;
    for (int i = 0; i < lt_net_n_named(n); i++)
        tot += lt_net_named(n, i)->numel;
    float *s = malloc(tot * sizeof(float)), *p = s;
    for (int i = 0; s && i < lt_net_n_named(n); i++) {
        memcpy(p, lt_net_named(n, i)->data, lt_net_named(n, i)->numel * sizeof(float));
        p += lt_net_named(n, i)->numel;
    }
    return s;
}

static int is_bn_affine(const char *name)
{
    return strstr(name, ".bn.weight") || strstr(name, ".bn.bias");
}

static void test_vth_sgd(void)
{
    lt_err err = {0};
    lt_net *n = make("4C3-FC5-FC3", 0, 0, 0, LT_MODE_SGP, 1.25f, &err);
    CHECK(n, "%s", err.msg);
    if (!n)
        return;
    lt_optim_config oc;
    lt_optim_config_default(&oc);
    oc.lr_vth = 0.5f;
    oc.vth_sgd = 1;
    lt_optim *o = NULL;
    CHECK(lt_optim_create(&o, n, &oc, &err) == LT_OK, "%s", err.msg);
    float *before = snapshot(n);
    const float gv = 0.375f, lr_vth = 0.5f;
    set_grads(n, 0.2f, gv);
    lt_optim_step(o);
    size_t k = 0;
    int nv = 0;
    for (int i = 0; i < lt_net_n_named(n); i++) {
        const lt_named *nm = lt_net_named(n, i);
        if (nm->is_vth) {
            /* plain SGD: V - lr_vth * g, exactly (no Adam normalisation, no momentum) */
            CHECK(before[k] == 1.25f && nm->data[0] == before[k] - lr_vth * gv, "%s: %.9g -> %.9g, want %.9g",
                  nm->name, before[k], nm->data[0], before[k] - lr_vth * gv);
            nv++;
        } else if (!nm->is_buffer) {
            /* Adam's first step moves every parameter by about lr (1e-3), not lr_vth * g */
            CHECK(check_close(before[k] - nm->data[0], 1e-3, 1e-3), "%s: Adam's first step %.9g", nm->name,
                  before[k] - nm->data[0]);
        }
        k += nm->numel;
    }
    CHECK(nv == 2, "thresholds seen: %d", nv);
    /* a second step: SGD again (no momentum buffer in the threshold's step) */
    float v0 = lt_net_vth(n, 0);
    set_grads(n, 0.2f, gv);
    lt_optim_step(o);
    CHECK(lt_net_vth(n, 0) == v0 - lr_vth * gv, "second step %.9g -> %.9g", v0, lt_net_vth(n, 0));
    lt_optim_free(o);

    /* threshold weight decay alone (zero gradients, Adam for everything): only V moves */
    lt_optim_config_default(&oc);
    oc.wd_vth = 0.1f;
    CHECK(lt_optim_create(&o, n, &oc, &err) == LT_OK, "%s", err.msg);
    free(before);
    before = snapshot(n);
    set_grads(n, 0.0f, 0.0f);
    lt_optim_step(o);
    k = 0;
    for (int i = 0; i < lt_net_n_named(n); i++) {
        const lt_named *nm = lt_net_named(n, i);
        if (nm->is_vth)
            CHECK(nm->data[0] < before[k] && check_close(before[k] - nm->data[0], 1e-3, 1e-3),
                  "%s decayed by Adam's step: %.9g -> %.9g", nm->name, before[k], nm->data[0]);
        else
            CHECK(!memcmp(nm->data, before + k, nm->numel * sizeof(float)), "%s moved under threshold decay",
                  nm->name);
        k += nm->numel;
    }
    lt_optim_free(o);
    /* and under plain SGD: V - lr_vth * wd * V exactly */
    oc.vth_sgd = 1;
    oc.lr_vth = 0.5f;
    CHECK(lt_optim_create(&o, n, &oc, &err) == LT_OK, "%s", err.msg);
    v0 = lt_net_vth(n, 1);
    set_grads(n, 0.0f, 0.0f);
    lt_optim_step(o);
    CHECK(lt_net_vth(n, 1) == v0 - 0.5f * (0.0f + 0.1f * v0), "decay by SGD %.9g -> %.9g", v0, lt_net_vth(n, 1));
    lt_optim_free(o);
    free(before);
    lt_net_free(n);
}

static void test_bn_affine(int fixed_affine)
{
    lt_err err = {0};
    lt_net *n = make("4C3-AP2-FC3", fixed_affine, 0, 0, LT_MODE_SGP, 1.0f, &err);
    CHECK(n, "%s", err.msg);
    if (!n)
        return;
    lt_optim_config oc;
    lt_optim_config_default(&oc);
    oc.weight_decay = 0.5f;
    lt_optim *o = NULL;
    CHECK(lt_optim_create(&o, n, &oc, &err) == LT_OK, "%s", err.msg);
    for (int s = 0; s < 3; s++) {
        set_grads(n, 0.3f, 0.1f);
        lt_optim_step(o);
    }
    int seen = 0;
    for (int i = 0; i < lt_net_n_named(n); i++) {
        const lt_named *nm = lt_net_named(n, i);
        if (!is_bn_affine(nm->name)) {
            if (!nm->is_buffer)
                CHECK(nm->held == 0, "%s held", nm->name);
            continue;
        }
        seen++;
        float want = strstr(nm->name, "weight") ? 1.0f : 0.0f;
        int all = 1;
        for (size_t j = 0; j < nm->numel; j++)
            all &= nm->data[j] == want;
        CHECK(nm->held == fixed_affine && nm->grad, "%s: held %d, gradient %p", nm->name, nm->held,
              (void *)nm->grad);
        if (fixed_affine)
            CHECK(all, "%s left %g after 3 steps (bn_fixed_affine)", nm->name, (double)want);
        else
            CHECK(!all, "%s did not move (learned affine)", nm->name);
    }
    CHECK(seen == 2, "BN affine tensors seen: %d", seen);
    lt_optim_free(o);
    lt_net_free(n);
}

static void test_net_shape(void)
{
    lt_err err = {0};
    lt_net *a = make("4C3-FC8-FC6-FC3", 0, 0, 0, LT_MODE_SGP, 1.0f, &err);
    lt_net *b = make("4C3-FC8-FC6-FC3", 0, 1, 1, LT_MODE_SGP_STSG, 0.75f, &err);
    CHECK(a && b, "%s", err.msg);
    if (!a || !b)
        goto done;
    /* two hidden FCs: one LIF fewer each */
    CHECK(lt_net_n_lif(a) == 3 && lt_net_n_lif(b) == 1, "LIFs: %d spiking FCs, %d analog", lt_net_n_lif(a),
          lt_net_n_lif(b));
    CHECK(lt_net_find(b, "blocks.1.lif.vth") == NULL && lt_net_find(a, "blocks.1.lif.vth") != NULL,
          "hidden FC's LIF present only when FCs spike");
    const lt_named *v0 = lt_net_find(b, "blocks.0.lif.vth");
    CHECK(v0 && v0->grad == NULL && v0->data[0] == 0.75f, "first threshold: no gradient, at its init");
    /* training steps through forward, backward and Adam: the first V stays exactly */
    float x[2 * 2 * 36], dO[2 * 2 * 3];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = (float)((i * 7) % 5) * 0.6f;
    lt_optim_config oc;
    lt_optim_config_default(&oc);
    oc.lr = 0.05f;
    lt_optim *o = NULL;
    CHECK(lt_optim_create(&o, b, &oc, &err) == LT_OK, "%s", err.msg);
    for (int s = 0; s < 3 && o; s++) {
        const float *O = lt_net_forward(b, x, 2, 1);
        for (int i = 0; i < 12; i++)
            dO[i] = O[i] - (float)(i % 3);
        lt_net_zero_grad(b);
        lt_net_backward(b, dO);
        lt_optim_step(o);
    }
    CHECK(v0 && v0->data[0] == 0.75f, "first V after training steps: %.9g", v0 ? v0->data[0] : -1.0);
    lt_optim_free(o);
    /* dsr has no fixed first threshold */
    lt_net *c = make("4C3-FC3", 0, 0, 1, LT_MODE_DSR, 1.0f, &err);
    CHECK(!c && strstr(err.msg, "dsr"), "dsr with a fixed first threshold: %s", err.msg);
    lt_net_free(c);
done:
    lt_net_free(a);
    lt_net_free(b);
}

static void test_options(void)
{
    lt_net_config c = {0}, d = {0};
    lt_neuron_default(&c.neuron);
    lt_neuron_default(&d.neuron);
    lt_kv kv[LT_NET_OPTIONS];
    int n = lt_net_config_options(&c, kv), nondef = 0;
    CHECK(n == LT_NET_OPTIONS, "options listed: %d", n);
    for (int i = 8; i < n; i++)
        nondef += !lt_net_config_option_is_default(&kv[i]);
    CHECK(nondef == 0, "defaults: %d not default", nondef);
    c.neuron.vth_init = 0.25f, c.bn_fixed_affine = 1, c.fc_analog = 1, c.first_vth_fixed = 1;
    n = lt_net_config_options(&c, kv);
    lt_err err = {0};
    int known = 0;
    for (int i = 0; i < n; i++) {
        if (i >= 9)
            CHECK(!lt_net_config_option_is_default(&kv[i]), "%s=%s reads as default", kv[i].key, kv[i].val);
        CHECK(lt_net_config_option_set(&d, kv[i].key, kv[i].val, &known, &err) == LT_OK && known, "%s=%s: %s",
              kv[i].key, kv[i].val, err.msg);
    }
    CHECK(d.neuron.vth_init == 0.25f && d.bn_fixed_affine && d.fc_analog && d.first_vth_fixed,
          "options back: vth_init %g bn_fixed_affine %d fc_analog %d first_vth_fixed %d", d.neuron.vth_init,
          d.bn_fixed_affine, d.fc_analog, d.first_vth_fixed);
    CHECK(lt_net_config_option_set(&d, "vth_init", "0", &known, &err) != LT_OK && strstr(err.msg, "vth_init"),
          "vth_init 0 refused: %s", err.msg);
    CHECK(lt_net_config_option_set(&d, "bn_affine", "maybe", &known, &err) != LT_OK && strstr(err.msg, "bn_affine"),
          "bn_affine maybe refused: %s", err.msg);
}

int main(void)
{
    check_begin("test_vth_options");
    lt_set_threads(1);
    test_vth_sgd();
    test_bn_affine(1);
    test_bn_affine(0);
    test_net_shape();
    test_options();
    return check_done();
}
