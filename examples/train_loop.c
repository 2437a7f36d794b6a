/* train_loop.c -- a training loop of your own with libltsnn's public step:
 * forward, head, backward, optimiser.  Trains the `small` preset on the
 * built-in demo data for one epoch and prints the test accuracy.
 *   cc train_loop.c $(pkg-config --cflags --libs ltsnn) -o train_loop */
#include <stdio.h>
#include <ltsnn.h>

int main(void)
{
    enum { T = 10, B = 16 };
    lt_err err = {0};
    lt_dataset train, test;
    lt_source_opts so = {.T = T, .limit = 800};
    if (lt_source_load("demo", &so, &train, &test, &err))
        return fprintf(stderr, "%s\n", err.msg), 1;
    lt_net_config nc = {.model = "small", .in_c = train.C, .in_h = train.H, .in_w = train.W, .T = T, .B = B,
                        .classes = train.classes, .train = 1};
    lt_neuron_default(&nc.neuron);
    lt_net *net;
    lt_head *head;
    lt_optim *opt;
    lt_optim_config oc;
    lt_optim_config_default(&oc);
    if (lt_net_create(&net, &nc, &err) || lt_head_classify(&head, net, 0.45f, 1, &err) ||
        lt_optim_create(&opt, net, &oc, &err))
        return fprintf(stderr, "%s\n", err.msg), 1;
    lt_net_init(net, 1);
    static float x[T * B * 2 * 32 * 32], dO[T * B * 10];
    int32_t y[B];
    lt_head_stats st = {0};
    for (size_t i = 0; i + B <= train.n; i += B) {
        for (int j = 0; j < B; j++) {
            lt_dataset_get(&train, i + j, x, T, B, j); /* sample i+j into slot j of x[T, B, C, H, W] */
            y[j] = train.labels[i + j];
        }
        lt_targets tg = {.b = B, .labels = y};
        const float *O = lt_net_forward(net, x, B, 1);
        lt_head_loss(head, dO, O, &tg, &st);
        lt_net_zero_grad(net);
        lt_net_backward(net, dO);
        lt_optim_step(opt);
    }
    lt_eval_result r;
    if (lt_evaluate_head(net, head, &test, &r, &err))
        return fprintf(stderr, "%s\n", err.msg), 1;
    printf("train loss %.4f, train acc %.1f%%, test %s %.1f%%\n", st.loss / st.seen, st.metric[0] / st.seen,
           r.name[0], r.value[0]);
    lt_optim_free(opt);
    lt_head_free(head);
    lt_net_free(net);
    lt_dataset_free(&train);
    lt_dataset_free(&test);
    return 0;
}
