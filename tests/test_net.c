/* test_net.c -- planning, counting, initialisation, checkpoints and the
 * optimiser of a whole network.  The wiring of forward/backward is checked
 * tensor by tensor against PyTorch in test_grad.sh. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ltsnn.h"

static lt_net *make(const char *model, int c, int h, int w, int classes, int T, int B, int train, int mode)
{
    lt_net_config cfg = {.model = model, .in_c = c, .in_h = h, .in_w = w, .classes = classes, .T = T, .B = B,
                         .train = train};
    lt_neuron_default(&cfg.neuron);
    cfg.neuron.mode = mode;
    lt_net *net = NULL;
    lt_err err = {0};
    CHECK(lt_net_create(&net, &cfg, &err) == LT_OK, "create %s: %s", model, err.msg);
    return net;
}

static void counts(void)
{
    /* METHOD.md §3 / the paper: VGG-9 at 2x48x48 has 7.07M parameters */
    struct { const char *m; size_t params, macs; int lif; } want[] = {
        {"vgg9", 7069588, 513299456, 10},   /* figures from the PyTorch reference (bench/ref) */
        {"vgg7", 1765587, 118704640, 9},
        {"mobilenet-light", 2432118, 39870976, 12},
        {"vgg11", 9268754, 1361654784, 8},
    };
    for (int i = 0; i < 4; i++) {
        lt_net *net = make(want[i].m, 2, 48, 48, 10, 1, 1, 0, 2);
        if (!net)
            continue;
        CHECK(lt_net_params(net) == want[i].params, "%s params %zu", want[i].m, lt_net_params(net));
        CHECK(lt_net_macs(net) == want[i].macs, "%s MACs %zu", want[i].m, lt_net_macs(net));
        CHECK(lt_net_n_lif(net) == want[i].lif, "%s LIF layers %d", want[i].m, lt_net_n_lif(net));
        lt_net_free(net);
    }
    lt_net *net = make("vgg9", 2, 48, 48, 0, 1, 1, 0, 2);
    const lt_named *w = lt_net_find(net, "blocks.13.fc.weight");
    CHECK(w && w->shape[0] == 512 && w->shape[1] == 4608, "flatten of 512x3x3 feeds FC512");
    CHECK(lt_net_find(net, "blocks.13.lif.vth") && !lt_net_find(net, "blocks.14.lif.vth"), "last FC has no LIF");
    CHECK(lt_net_find(net, "blocks.0.bn.running_var") != NULL, "BN buffers named");
    lt_net_free(net);
    net = make("mobilenet-light", 2, 48, 48, 10, 1, 1, 0, 2);
    w = lt_net_find(net, "blocks.1.dw.conv.weight");
    CHECK(w && w->shape[0] == 32 && w->shape[1] == 1 && w->shape[2] == 3, "depthwise weight [32,1,3,3]");
    w = lt_net_find(net, "blocks.1.pw.conv.weight");
    CHECK(w && w->shape[0] == 64 && w->shape[1] == 32 && w->shape[2] == 1, "pointwise weight [64,32,1,1]");
    lt_net_free(net);
    /* odd sizes floor; a model that does not fit is refused */
    net = make("4C3-AP2-AP2-FC3", 1, 7, 9, 0, 1, 1, 0, 2);
    w = net ? lt_net_find(net, "blocks.3.fc.weight") : NULL;
    CHECK(w && w->shape[1] == 4 * 1 * 2, "7x9 -> 3x4 -> 1x2 flattened to 8, got %lld", w ? (long long)w->shape[1] : -1);
    lt_net_free(net);
    lt_net_config cfg = {.model = "4C5-AP2-AP2-FC3", .in_c = 1, .in_h = 3, .in_w = 3, .T = 1, .B = 1};
    lt_neuron_default(&cfg.neuron);
    lt_err err = {0};
    CHECK(lt_net_create(&net, &cfg, &err) != LT_OK && strstr(err.msg, "pooling"), "too small input: %s", err.msg);
}

static void init_stats(void)
{
    /* METHOD.md §3: conv weights uniform in +-1/sqrt(fan_in) */
    lt_net *net = make("64C3-FC10", 32, 8, 8, 0, 1, 1, 0, 2);
    lt_net_init(net, 7);
    const lt_named *w = lt_net_find(net, "blocks.0.conv.weight");
    double bound = 1.0 / sqrt(32 * 9), mx = 0, s = 0, s2 = 0;
    for (size_t i = 0; i < w->numel; i++) {
        mx = fmax(mx, fabs(w->data[i]));
        s += w->data[i], s2 += w->data[i] * w->data[i];
    }
    double var = s2 / w->numel - (s / w->numel) * (s / w->numel);
    CHECK(mx <= bound && mx > 0.98 * bound, "max |w| %g vs bound %g", mx, bound);
    CHECK(fabs(var - bound * bound / 3) < 0.05 * bound * bound / 3, "variance %g vs %g", var, bound * bound / 3);
    CHECK(lt_net_find(net, "blocks.0.bn.weight")->data[5] == 1.0f, "gamma 1");
    CHECK(lt_net_find(net, "blocks.0.bn.running_var")->data[5] == 1.0f, "running var 1");
    CHECK(lt_net_vth(net, 0) == 1.0f, "threshold starts at 1");
    /* same seed, same weights */
    float a = w->data[17];
    lt_net_init(net, 8);
    CHECK(w->data[17] != a, "another seed differs");
    lt_net_init(net, 7);
    CHECK(w->data[17] == a, "same seed repeats");
    lt_net_free(net);
}

static void checkpoints(void)
{
    char path[256], path2[256];
    snprintf(path, sizeof path, "/tmp/ltsnn_test_net_%d.safetensors", (int)getpid());
    snprintf(path2, sizeof path2, "/tmp/ltsnn_test_net2_%d.safetensors", (int)getpid());
    lt_net *a = make("8C3-16DW-AP2-FC5", 2, 6, 6, 0, 2, 2, 0, 2), *b = make("8C3-16DW-AP2-FC5", 2, 6, 6, 0, 2, 2, 0, 2);
    lt_net_init(a, 1);
    lt_net_init(b, 2);
    lt_err err = {0};
    CHECK(lt_net_save(a, path, NULL, NULL, &err) == LT_OK, "%s", err.msg);
    CHECK(lt_net_load(b, path, &err) == LT_OK, "%s", err.msg);
    int same = 1;
    for (int i = 0; i < lt_net_n_named(a); i++)
        same &= !memcmp(lt_net_named(a, i)->data, lt_net_named(b, i)->data, lt_net_named(a, i)->numel * 4);
    CHECK(same, "round trip restores every tensor");
    /* the metadata gives back the model */
    lt_net_config cfg = {0};
    lt_neuron_default(&cfg.neuron);
    char model[512];
    CHECK(lt_ckpt_config(&cfg, model, sizeof model, path, &err) == LT_OK, "%s", err.msg);
    CHECK(!strcmp(model, "8C3-16DW-AP2-FC5") && cfg.in_c == 2 && cfg.in_h == 6 && cfg.classes == 5, "metadata %s",
          model);
    /* another model's file is refused by name */
    lt_net *c = make("8C3-AP2-FC5", 2, 6, 6, 0, 1, 1, 0, 2);
    CHECK(lt_net_load(c, path, &err) != LT_OK && strstr(err.msg, "is missing"), "mismatch: %s", err.msg);
    lt_net *d = make("8C3-16DW-AP2-FC7", 2, 6, 6, 0, 1, 1, 0, 2);
    CHECK(lt_net_load(d, path, &err) != LT_OK && strstr(err.msg, "blocks.3.fc.weight"), "shape: %s", err.msg);
    /* truncated file */
    FILE *f = fopen(path, "rb"), *g = fopen(path2, "wb");
    char buf[300];
    size_t n = fread(buf, 1, sizeof buf, f);
    fwrite(buf, 1, n, g);
    fclose(f);
    fclose(g);
    CHECK(lt_net_load(b, path2, &err) != LT_OK && strstr(err.msg, path2), "truncated: %s", err.msg);
    remove(path);
    remove(path2);
    lt_net_free(a);
    lt_net_free(b);
    lt_net_free(c);
    lt_net_free(d);
}

static void optimiser(void)
{
    lt_net *net = make("FC2", 1, 1, 1, 0, 1, 1, 1, 2);
    const lt_named *w = lt_net_find(net, "blocks.0.fc.weight"), *bias = lt_net_find(net, "blocks.0.fc.bias");
    lt_optim_config oc;
    lt_optim_config_default(&oc);
    oc.lr = 0.1f;
    lt_optim *o;
    lt_err err = {0};
    CHECK(lt_optim_create(&o, net, &oc, &err) == LT_OK, "%s", err.msg);
    w->data[0] = 1.0f, w->grad[0] = 0.5f, w->data[1] = -2.0f, w->grad[1] = 0.0f;
    bias->grad[0] = bias->grad[1] = 0;
    float b0 = bias->data[0];
    lt_optim_step(o);
    /* Adam step 1: m_hat = g, v_hat = g^2, so the step is lr * g/|g| = 0.1 */
    CHECK_CLOSE(w->data[0], 0.9, 1e-6, "adam step 1");
    CHECK(w->data[1] == -2.0f && bias->data[0] == b0, "zero gradient, no move");
    w->grad[0] = -1.0f;
    lt_optim_step(o);
    /* step 2 by hand: m = 0.9*0.05 + 0.1*(-1) = -0.055, v = 0.999*0.00025 + 0.001*1 = 0.00124975
     * m_hat = -0.055/0.19, v_hat = 0.00124975/0.001999; p += 0.1 * m_hat/sqrt(v_hat) */
    double mh = -0.055 / 0.19, vh = 0.00124975 / (1 - 0.999 * 0.999);
    CHECK_CLOSE(w->data[0], 0.9 - 0.1 * mh / (sqrt(vh) + 1e-8), 1e-5, "adam step 2");
    lt_optim_free(o);
    /* SGD with momentum 0.9: buf = g, then 0.9*g + g */
    oc.kind = LT_OPT_SGD;
    CHECK(lt_optim_create(&o, net, &oc, &err) == LT_OK, "%s", err.msg);
    w->data[0] = 1.0f, w->grad[0] = 0.5f;
    lt_optim_step(o);
    CHECK_CLOSE(w->data[0], 0.95, 1e-6, "sgd step 1");
    lt_optim_step(o);
    CHECK_CLOSE(w->data[0], 0.95 - 0.1 * 0.95, 1e-6, "sgd step 2");
    lt_optim_free(o);
    /* separate threshold lr, cosine schedule, fixed thresholds untouched */
    lt_net_free(net);
    net = make("FC3-FC2", 1, 1, 1, 0, 1, 1, 1, 2);
    lt_optim_config_default(&oc);
    oc.lr = 0.1f, oc.lr_vth = 0.0f, oc.cosine = 1, oc.total_steps = 4;
    CHECK(lt_optim_create(&o, net, &oc, &err) == LT_OK, "%s", err.msg);
    CHECK_CLOSE(lt_optim_lr(o), 0.1, 1e-7, "cosine starts at lr");
    lt_named const *v = lt_net_find(net, "blocks.0.lif.vth");
    v->grad[0] = 1.0f;
    lt_optim_step(o);
    CHECK(v->data[0] == 1.0f, "lr_vth 0 keeps the threshold");
    lt_optim_step(o);
    CHECK_CLOSE(lt_optim_lr(o), 0.05, 1e-6, "cosine at half way");
    lt_optim_free(o);
    lt_net_free(net);
    net = make("FC3-FC2", 1, 1, 1, 0, 1, 1, 1, 0);
    v = lt_net_find(net, "blocks.0.lif.vth");
    CHECK(v && v->grad == NULL, "fixed mode: the threshold has no gradient");
    lt_net_free(net);
}

static void forward_modes(void)
{
    /* eval-planned and train-planned nets agree in eval mode; repeated forwards are identical */
    lt_net *a = make("6C3-8DW-MP2-FC10", 2, 8, 8, 0, 3, 2, 1, 2), *b = make("6C3-8DW-MP2-FC10", 2, 8, 8, 0, 3, 2, 0, 2);
    lt_net_init(a, 3);
    lt_net_init(b, 3);
    float x[3 * 2 * 2 * 64];
    lt_rng r;
    lt_rng_seed(&r, 9);
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = lt_rng_uniform(&r) < 0.3 ? 1.0f : 0.0f;
    float oa[60], ob[60];
    memcpy(oa, lt_net_forward(a, x, 2, 0), sizeof oa);
    memcpy(ob, lt_net_forward(b, x, 2, 0), sizeof ob);
    CHECK(!memcmp(oa, ob, sizeof oa), "eval forward of train- and eval-planned nets");
    memcpy(ob, lt_net_forward(a, x, 2, 0), sizeof ob);
    CHECK(!memcmp(oa, ob, sizeof oa), "forward is repeatable");
    /* a smaller batch than planned: x for b = 1 is time-major [T, 1, ...] */
    float x1[3 * 2 * 64];
    for (int t = 0; t < 3; t++)
        memcpy(x1 + t * 128, x + t * 256, 128 * sizeof(float));
    const float *o1 = lt_net_forward(a, x1, 1, 0);
    int same = 1;
    for (int t = 0; t < 3; t++)
        for (int k = 0; k < 10; k++)
            same &= fabsf(o1[t * 10 + k] - oa[t * 20 + k]) < 1e-5f;
    CHECK(same, "batch of 1 equals the first sample of a batch of 2 in eval mode");
    lt_net_free(a);
    lt_net_free(b);
}

/* The memory plan of src/nn/net.c + plan.c, counted by hand for 4C3-FC3
 * on 1x4x4, T=2, batch 1 (2 frames; a conv output or spike tensor is 2*64 =
 * 128 floats, the logits 6, rounded up to 16).  Steps: forward of layer i
 * is i (conv 0, BN 1, LIF 2, FC 3), the head 4, backward of layer i is 8-i.
 * Training: the conv output A lives 0..7 (BN's backward reads it) and BN's
 * dx is written over it (to 8); the spikes S live 2..3 and are rebuilt for
 * the FC's backward at 5; the FC's dx (5..6) becomes the fused LIF's dx in
 * place (to 7); the LIF rebuilds u in a scratch at 6.  Packed: A at 0, S
 * at 128, its rebuilt copy at 128 (S is dead by then), the gradient at 256,
 * the u scratch at 128 (the copy is dead at 6), the logits at 256 (before
 * the gradient is born): 384, plus BN's mean/invstd/scale 12 = 396 floats.
 * Inference: the spikes are written over A (it dies at the LIF), the
 * logits next to it: 144 + 12 = 156.  The plain plan (keep_all: no fusion,
 * nothing rebuilt or in place, every output kept to the end in training)
 * packs A, the BN output, S, u, three gradients and the logits into 784 +
 * 12 = 796, and 256 + 12 = 268 in inference.
 *
 * 4C3-AP2-FC3 (pooled spikes 2*16 = 32, kept for the FC's backward; average
 * pooling does not read the spikes, so they are not rebuilt): training A
 * 0..10 with BN's dx, S 2..3, the pooled P 3..6, the logits 4..5, the FC's
 * dx 6..7, the pooling's dx 7..8 merged with the LIF's (to 9), the u
 * scratch at 8: 384 + 12 = 396; inference: A with S over it 0..3, P at 128
 * (3..4), the logits at 0 (A is dead): 160 + 12 = 172; plain 816 + 12 =
 * 828 and 256 + 12 = 268.  Parameters 36 + 8 + 1 + 195 = 240, BN buffers 8. */
static void memory_plan(void)
{
    const char *models[2] = {"4C3-FC3", "4C3-AP2-FC3"};
    const size_t want[2][2][2] = {{{156, 268}, {396, 796}}, {{172, 268}, {396, 828}}};
    for (int run = 0; run < 8; run++) {
        int mi = run / 4, train = run / 2 % 2, plain = run % 2;
        lt_err err = {0};
        lt_net_config nc = {.model = models[mi], .in_c = 1, .in_h = 4, .in_w = 4, .T = 2, .B = 1,
                            .train = train, .keep_all = plain};
        lt_neuron_default(&nc.neuron);
        for (int planned = 0; planned < 2; planned++) {
            nc.plan_only = planned;
            lt_net *n = NULL;
            CHECK(!lt_net_create(&n, &nc, &err), "create: %s", err.msg);
            if (!n)
                continue;
            lt_net_memory m;
            lt_net_memory_use(n, &m);
            CHECK(m.arena == want[mi][train][plain] * 4, "%s train %d plain %d planned-only %d: arena %zu bytes, "
                  "want %zu", models[mi], train, plain, planned, m.arena, want[mi][train][plain] * 4);
            size_t np = mi ? 36 + 8 + 1 + 16 * 3 + 3 : 240;
            CHECK(m.params == np * 4 && m.grads == (train ? np * 4 : 0) && m.buffers == 8 * 4,
                  "%s train %d: params %zu grads %zu buffers %zu bytes", models[mi], train, m.params, m.grads,
                  m.buffers);
            lt_net_free(n);
        }
    }
}

int main(void)
{
    check_begin("test_net");
    memory_plan();
    counts();
    init_stats();
    checkpoints();
    optimiser();
    forward_modes();
    return check_done();
}
