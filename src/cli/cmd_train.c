/* cmd_train.c -- `ltsnn train`: flags -> data, net, optimiser -> lt_train.
 * With no --data it trains the `small` preset on the built-in demo data.
 * Under mpirun (or srun) each process is a rank of a data-parallel group
 * (ltsnn/dist.h): rank 0 chooses the run folder and prints, errors are
 * agreed on so every rank stops with the message. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "ltsnn.h"

/* --bn: standard or td */
int cli_bn_flag(const char *verb, int *bn, const char *v)
{
    if (strcmp(v, "standard") && strcmp(v, "td")) {
        fprintf(stderr, "ltsnn %s: --bn must be standard or td, not '%s'\n", verb, v);
        return 2;
    }
    *bn = !strcmp(v, "td") ? LT_BN_TD : LT_BN_STANDARD;
    return 0;
}

/* resnet19 is tdBN's net: td by default (METHOD.md §3) */
int cli_default_bn(const char *model) { return model && !strcmp(model, "resnet19") ? LT_BN_TD : LT_BN_STANDARD; }

/* neuron flags shared by train, grad and bench */
int cli_neuron_flags(const char *verb, lt_neuron *n, const char *mode, const char *window, const char *reset)
{
    lt_err err = {0};
    if ((mode && lt_neuron_set_mode(n, mode, &err)) || (window && lt_neuron_set_window(n, window, &err))) {
        fprintf(stderr, "ltsnn %s: %s\n", verb, err.msg);
        return 2;
    }
    if (reset) {
        if (strcmp(reset, "hard") && strcmp(reset, "soft")) {
            fprintf(stderr, "ltsnn %s: --reset must be hard or soft, not '%s'\n", verb, reset);
            return 2;
        }
        n->soft_reset = !strcmp(reset, "soft");
    }
    if (!(n->lam >= 0 && n->lam <= 1) || !(n->g > 0) || !(n->alpha > 0 && n->alpha <= 1)) {
        fprintf(stderr, "ltsnn %s: need 0 <= --lam <= 1, --g > 0 and 0 < --alpha <= 1\n", verb);
        return 2;
    }
    return 0;
}

/* A resumed run keeps its weight precision: the checkpoint's metadata wbits
 * (absent: 32) must be the --wbits of this run. */
static lt_status check_resume_wbits(const char *path, int wbits, lt_err *err)
{
    lt_st_file f;
    lt_status st = lt_st_read(&f, path, err);
    if (st)
        return st;
    const char *v = lt_st_meta(&f, "wbits");
    int have = v ? atoi(v) : 32;
    if (have != wbits)
        st = lt_err_set(err, LT_ERR_ARG, "%s: was trained with --wbits %d; resume with the same --wbits (this run: "
                        "%d)", path, have, wbits);
    lt_st_free(&f);
    return st;
}

int cmd_train(int argc, char **argv)
{
    const char *data = "demo", *model = NULL, *out = NULL, *resume = NULL, *mode = NULL, *window = NULL;
    const char *reset = NULL, *optim = "adam", *loss = "tet", *bn = NULL, *on_nan = "stop";
    const char *grid = NULL, *anchors = NULL, *det_loss = NULL, *filter = NULL;
    const char *vth_optim = "same", *bn_affine = "on", *recipe = "default", *fc_spikes = NULL;
    int T = 0, batch = 16, epochs = 0, threads = 0, detach = 0, cosine = 0, force = 0, max_mib = 0, sync_bn = 0, wbits = 32;
    uint64_t seed = 0;
    size_t limit = 0;
    int limit_i = 0;
    float lr = 1e-3f, lr_vth = -1, beta = 0.45f, wd = 0, wd_vth = 0, momentum = 0.9f, minutes = 0, bucket_mb = 4;
    lt_neuron nr;
    lt_neuron_default(&nr);
    cli_opt opts[] = {
        {"--data", CLI_STR, &data, "demo (default), fashion-mnist, n-fashion-mnist, or a cache from ltsnn data prepare", 0, 0, 0},
        {"--model", CLI_STR, &model, "preset or model string (default: small for demo, fmnist for Fashion-MNIST, else vgg9)", 0, 0, 0},
        {"--T", CLI_INT, &T, "time steps (default: the data's frames; 4 for static images)", 0, 1, 10000},
        {"--batch", CLI_INT, &batch, "batch size (default 16)", 0, 1, 65536},
        {"--epochs", CLI_INT, &epochs, "epochs (default 3 for demo, 10 otherwise)", 0, 1, 1000000},
        {"--lr", CLI_FLOAT, &lr, "learning rate (default 1e-3)", 0, 0, 1e30},
        {"--lr-vth", CLI_FLOAT, &lr_vth, "threshold learning rate (default: --lr)", 0, 0, 1e30},
        {"--vth-optim", CLI_STR, &vth_optim, "thresholds stepped like the weights (same, default) or by plain SGD "
         "(sgd: V -= lr_vth * dL/dV, no momentum) while the weights keep --optim", 0, 0, 0},
        {"--wd-vth", CLI_FLOAT, &wd_vth, "weight decay on the thresholds only (default 0)", 0, 0, 1e30},
        {"--optim", CLI_STR, &optim, "adam (default) or sgd", 0, 0, 0},
        {"--momentum", CLI_FLOAT, &momentum, "SGD momentum (default 0.9)", 0, 0, 0.999999},
        {"--wd", CLI_FLOAT, &wd, "weight decay on conv/linear weights (default 0)", 0, 0, 1e30},
        {"--cosine", CLI_BOOL, &cosine, "cosine learning-rate schedule to 0 over the run", 0, 0, 0},
        {"--beta", CLI_FLOAT, &beta, "CE weight in the loss, 1-beta on the MSE term (default 0.45)", 0, 0, 1},
        {"--loss", CLI_STR, &loss, "tet (per-step CE, default) or mean (CE of time-averaged logits)", 0, 0, 0},
        {"--grid", CLI_STR, &grid, "detection: the head's cells RxC (default 6x8)", 0, 0, 0},
        {"--anchors", CLI_STR, &anchors, "detection: anchors found by k-means on the training boxes (a count, default "
         "2) or given in cells aw0,ah0,aw1,ah1,... (default on --resume: the checkpoint's)", 0, 0, 0},
        {"--det-loss", CLI_STR, &det_loss, "detection: mean (the loss of the time-averaged output, default) or tet "
         "(at every step)", 0, 0, 0},
        {"--filter", CLI_STR, &filter, "detection: the Prophesee filter of the evaluation: toolbox (default), paper "
         "or none", 0, 0, 0},
        {"--mode", CLI_STR, &mode, "threshold mode: fixed stsg sgp (default) penalty_all sgp_stsg dsr", 0, 0, 0},
        {"--window", CLI_STR, &window, "SGP window: sigmoid (default) arctan triangle piecewise", 0, 0, 0},
        {"--lam", CLI_FLOAT, &nr.lam, "leak factor (default 0.5)", 0, 0, 1},
        {"--g", CLI_FLOAT, &nr.g, "surrogate width (default 1)", 0, 1e-6, 1e30},
        {"--alpha", CLI_FLOAT, &nr.alpha, "DSR alpha (default 0.3)", 0, 1e-6, 1},
        {"--reset", CLI_STR, &reset, "hard (default) or soft", 0, 0, 0},
        {"--vth-init", CLI_FLOAT, &nr.vth_init, "initial threshold of every LIF, > 0 (default 1; with --resume the "
         "checkpoint's thresholds, but it must be the value of the run resumed)", 0, 0, 1e30},
        {"--bn", CLI_STR, &bn, "standard, or td: threshold-dependent BN (default: td for resnet19, else standard)", 0, 0, 0},
        {"--bn-affine", CLI_STR, &bn_affine, "on (default): BN learns gamma and beta; off: they stay at 1 and 0",
         0, 0, 0},
        {"--recipe", CLI_STR, &recipe, "default, or authors: the authors' released code (beta 0.9 unless --beta, "
         "Omega from the previous batch, the first LIF's threshold fixed, hidden FC layers without spikes; "
         "docs/method.md §4)", 0, 0, 0},
        {"--fc-spikes", CLI_STR, &fc_spikes, "on (default): a hidden FC block (every FCn but the last) ends in a LIF; "
         "off: it is linear only and the next FC reads its analog output (as --recipe authors has it)", 0, 0, 0},
        {"--detach-reset", CLI_BOOL, &detach, "no gradient through the reset term", 0, 0, 0},
        {"--wbits", CLI_INT, &wbits, "conv weight bits: 32 (default, float32), 4 or 8 (SAWB, METHOD.md §7)", 0, 1, 32},
        {"--seed", CLI_U64, &seed, "seed for initialisation, shuffling and generated data (default 0)", 0, 0, 0},
        {"--threads", CLI_INT, &threads, "worker threads (default: all cores)", 0, 1, 1024},
        {"--limit", CLI_INT, &limit_i, "generated data: at most this many training samples, and limit/5 test samples",
         0, 1, 2147483647},
        {"--minutes", CLI_FLOAT, &minutes, "stop training after this many minutes (then evaluate and save)", 0, 1e-3, 1e9},
        {"--out", CLI_STR, &out, "run folder (default: a new runs/run-DATE-TIME, linked as runs/latest; with "
         "--resume, the checkpoint's folder)", 0, 0, 0},
        {"--force", CLI_BOOL, &force, "start a new run in a folder that holds one (its run files are removed first)",
         0, 0, 0},
        {"--resume", CLI_STR, &resume, "continue from a run's last.safetensors (in its folder unless --out)", 0, 0, 0},
        {"--on-nan", CLI_STR, &on_nan, "stop (default: a non-finite loss or gradient stops, keeping the last good "
         "checkpoint) or skip (drop such a batch, counted in the log)", 0, 0, 0},
        {"--max-memory", CLI_INT, &max_mib, "MiB the net may plan (default: the memory available, shared by the "
         "ranks on a node)", 0, 1, 1 << 30},
        {"--sync-bn", CLI_BOOL, &sync_bn, lt_dist_built() ? "under mpirun: BN statistics over the whole global batch "
         "(default: each rank's slice)" : "under mpirun: BN statistics over the whole global batch (this ltsnn "
         "was built without MPI)", 0, 0, 0},
        {"--bucket-mb", CLI_FLOAT, &bucket_mb, "under mpirun: gradients exchanged in buckets of this many MB while "
         "backward runs (default 4; 0: one exchange after it)", 0, 0, 1e6},
        {0},
    };
    const char *pos[1];
    int np;
    int r = cli_parse("train", "[--data SRC] [--model M] [options]", argc, argv, 2, opts, pos, 0, &np);
    if (r)
        return r == 1 ? 0 : r;
    nr.detach_reset = detach;
    if ((r = cli_neuron_flags("train", &nr, mode, window, reset)))
        return r;
    int bn_v = 0;
    if (bn && (r = cli_bn_flag("train", &bn_v, bn)))
        return r;
    if (!(nr.vth_init > 0)) {
        fprintf(stderr, "ltsnn train: --vth-init must be > 0, not %g\n", nr.vth_init);
        return 2;
    }
    if (strcmp(vth_optim, "same") && strcmp(vth_optim, "sgd")) {
        fprintf(stderr, "ltsnn train: --vth-optim must be same or sgd, not '%s'\n", vth_optim);
        return 2;
    }
    if (strcmp(bn_affine, "on") && strcmp(bn_affine, "off")) {
        fprintf(stderr, "ltsnn train: --bn-affine must be on or off, not '%s'\n", bn_affine);
        return 2;
    }
    const int authors = !strcmp(recipe, "authors");
    if (!authors && strcmp(recipe, "default")) {
        fprintf(stderr, "ltsnn train: --recipe must be default or authors, not '%s'\n", recipe);
        return 2;
    }
    if (authors && nr.mode == LT_MODE_DSR) {
        fprintf(stderr, "ltsnn train: --recipe authors fixes the first LIF's threshold, which the dsr mode does not "
                "define (its spikes are V); use another --mode\n");
        return 2;
    }
    if (fc_spikes && strcmp(fc_spikes, "on") && strcmp(fc_spikes, "off")) {
        fprintf(stderr, "ltsnn train: --fc-spikes must be on or off, not '%s'\n", fc_spikes);
        return 2;
    }
    if (authors && fc_spikes && !strcmp(fc_spikes, "on")) {
        fprintf(stderr, "ltsnn train: --recipe authors has hidden FC layers without spikes; it cannot be used with "
                "--fc-spikes on\n");
        return 2;
    }
    const int fc_analog = authors || (fc_spikes && !strcmp(fc_spikes, "off"));
    if (authors && !cli_seen(opts, "--beta"))
        beta = 0.9f; /* the authors' MSE weight 0.1 (METHOD.md §4's note) */
    if (strcmp(optim, "adam") && strcmp(optim, "sgd")) {
        fprintf(stderr, "ltsnn train: --optim must be adam or sgd, not '%s'\n", optim);
        return 2;
    }
    if (strcmp(loss, "tet") && strcmp(loss, "mean")) {
        fprintf(stderr, "ltsnn train: --loss must be tet or mean, not '%s'\n", loss);
        return 2;
    }
    if (strcmp(on_nan, "stop") && strcmp(on_nan, "skip")) {
        fprintf(stderr, "ltsnn train: --on-nan must be stop or skip, not '%s'\n", on_nan);
        return 2;
    }
    if (force && resume) {
        fprintf(stderr, "ltsnn train: --force starts a new run; it cannot be used with --resume\n");
        return 2;
    }
    limit = (size_t)limit_i;

    lt_err err = {0};
    /* one rank of a group when mpirun started several, else alone */
    int env_rank;
    lt_dist_launched(&env_rank);
    lt_dist *dist = NULL;
    if (lt_dist_init(&dist, &err)) {
        if (env_rank == 0)
            fprintf(stderr, "ltsnn train: %s\n", err.msg);
        return 1;
    }
    const int rank = lt_dist_rank(dist), ranks = lt_dist_size(dist), node_ranks = lt_dist_node_ranks(dist);
    if (threads > 0)
        lt_set_threads(threads);
    else if (node_ranks > 1) /* the node's cores shared by its ranks */
        lt_set_threads(lt_get_threads() / node_ranks > 1 ? lt_get_threads() / node_ranks : 1);
    /* the run folder: one run each (cli_run_folder); rank 0 alone chooses and writes it */
    char outbuf[4096];
    int folder_rc = rank == 0 ? cli_run_folder("train", outbuf, sizeof outbuf, out, resume, force) : 0;
    out = rank == 0 ? outbuf : NULL;
    if (rank == 0)
        cli_warn_split_file("train", data);

    lt_dataset tr = {0}, te = {0};
    lt_net *net = NULL;
    int rc = 1;
    lt_source_opts so = {.T = T, .limit = limit, .seed = seed};
    int is_demo = !strcmp(data, "demo"), is_fm = strstr(data, "fashion-mnist") == data ||
                                                  strstr(data, "n-fashion-mnist") == data;
    lt_status st = LT_OK;
    if (folder_rc) { /* cli_run_folder said why */
        st = lt_err_set(&err, LT_ERR_ARG, "rank 0 could not open the run folder");
    } else {
        if (rank == 0)
            fprintf(stderr, "loading %s ...\n", data);
        st = lt_source_load(data, &so, &tr, &te, &err);
    }
    if (!T)
        T = tr.Ts > 1 ? tr.Ts : 4;
    if (!epochs)
        epochs = is_demo ? 3 : 10;
    /* the head follows the data: boxes train a detector (METHOD.md §9) */
    const int detect = !st && tr.task == LT_TASK_DETECT;
    if (!model)
        model = is_demo ? "small" : is_fm ? "fmnist" : detect ? "yolov2" : "vgg9";
    lt_det_head_config dc;
    lt_det_head_config_default(&dc);
    int kmeans = dc.A, classes = 0;
    double anchor_iou = -1;
    if (!st && !detect && (grid || anchors || det_loss || filter))
        st = lt_err_set(&err, LT_ERR_ARG, "--grid, --anchors, --det-loss and --filter are for detection data; %s "
                        "holds labels (a classification dataset)", data);
    if (!st && detect && authors)
        st = lt_err_set(&err, LT_ERR_ARG, "--recipe authors is the authors' classification code (its Omega is the "
                        "classification loss's); %s is a detection dataset", data);
    if (!st && detect && (cli_seen(opts, "--beta") || cli_seen(opts, "--loss")))
        st = lt_err_set(&err, LT_ERR_ARG, "--beta and --loss are the classification loss's; %s is a detection "
                        "dataset (its loss form is --det-loss mean|tet)", data);
    if (!st && detect) {
        int found = 0;
        dc.C = tr.classes;
        if (resume && !(st = lt_det_head_config_read(&dc, resume, 0, &found, &err)) && found)
            kmeans = 0; /* the checkpoint's anchors, unless flags say otherwise (then the resume check refuses) */
        if (!st && cli_det_flags("train", &dc, &kmeans, grid, anchors, det_loss, filter)) {
            folder_rc = 2;
            st = lt_err_set(&err, LT_ERR_ARG, "bad detection flags");
        }
        /* anchors by k-means on the training boxes, deterministic: a fixed
         * seed, so runs of other --seed values share them (docs/detection.md) */
        if (!st && kmeans)
            st = lt_det_anchors_dataset(dc.anchors, &anchor_iou, &tr, dc.grid, dc.A, 1, &err);
        classes = (int)lt_det_outputs(dc.grid, dc.A, dc.C);
        lt_model_spec spec;
        if (!st && !lt_model_preset(model) && !lt_model_parse(&spec, model, 0, &err) &&
            spec.tok[spec.n_tok - 1].n != classes)
            st = lt_err_set(&err, LT_ERR_SHAPE, "--model %s ends with FC%d; a detector with a %dx%d grid, %d anchors "
                            "and %d classes needs FC%d (Sh x Sw x (5A + C) outputs)", model,
                            spec.tok[spec.n_tok - 1].n, dc.grid[0], dc.grid[1], dc.A, dc.C, classes);
    }

    lt_net_config nc = {.model = model, .in_c = tr.C, .in_h = tr.H, .in_w = tr.W, .classes = 0, .T = T,
                        .B = batch, .neuron = nr, .train = 1, .bn = bn ? bn_v : cli_default_bn(model),
                        .wbits = wbits, .bn_fixed_affine = !strcmp(bn_affine, "off"), .fc_analog = fc_analog,
                        .first_vth_fixed = authors, .max_memory = max_mib ? (size_t)max_mib << 20 : lt_mem_available() / (size_t)node_ranks};
    /* a preset takes the data's class count (a detector's outputs); an explicit string must agree */
    if (lt_model_preset(model))
        nc.classes = detect ? classes : tr.classes;
    if (!st)
        st = lt_net_create(&net, &nc, &err);
    lt_head *head = NULL;
    if (!st && detect)
        st = lt_head_detect(&head, net, &dc, &err);
    if (!st && authors && !(st = lt_head_classify(&head, net, beta, !strcmp(loss, "tet"), &err)))
        lt_head_classify_omega_previous(head, 1); /* reset at each epoch's start (lt_train) */
    /* every rank stops here if any failed, with its message (printed once) */
    if (lt_dist_agree(dist, st, &err)) {
        if (rank == 0 && !folder_rc)
            fprintf(stderr, "ltsnn train: %s\n", err.msg);
        rc = folder_rc ? folder_rc : 1;
        goto done;
    }
    if (resume && check_resume_wbits(resume, wbits, &err)) {
        fprintf(stderr, "ltsnn train: %s\n", err.msg);
        goto done;
    }
    lt_net_init(net, seed);
    lt_train_config tc;
    lt_train_config_default(&tc);
    tc.epochs = epochs;
    tc.batch = batch;
    tc.seed = seed;
    tc.beta = beta;
    tc.tet = !strcmp(loss, "tet");
    tc.optim.kind = strcmp(optim, "sgd") ? LT_OPT_ADAM : LT_OPT_SGD;
    tc.optim.lr = lr;
    tc.optim.lr_vth = lr_vth;
    tc.optim.vth_sgd = !strcmp(vth_optim, "sgd");
    tc.optim.wd_vth = wd_vth;
    tc.optim.momentum = momentum;
    tc.optim.weight_decay = wd;
    tc.optim.cosine = cosine;
    tc.out_dir = out;
    tc.resume = resume;
    tc.max_seconds = minutes * 60.0;
    tc.data_name = data;
    tc.stop = &cli_stop;
    tc.on_nan = !strcmp(on_nan, "skip") ? LT_ON_NAN_SKIP : LT_ON_NAN_STOP;
    char data_opts[64];
    snprintf(data_opts, sizeof data_opts, "limit=%zu", limit);
    tc.data_opts = data_opts;
    tc.dist = dist;
    tc.sync_bn = sync_bn;
    tc.bucket_mb = bucket_mb;
    tc.head = head;
    char mstr[4096];
    lt_net_expanded_model(net, mstr, sizeof mstr);
    if (rank == 0) {
        fprintf(stderr, "model %s (%zu parameters), input %dx%dx%d, T=%d, %d classes\n", mstr, lt_net_params(net),
                tr.C, tr.H, tr.W, T, lt_net_classes(net));
        char lossw[32] = "detection loss"; /* beta weighs the classification loss only */
        if (!detect)
            snprintf(lossw, sizeof lossw, "beta %.2f", beta);
        fprintf(stderr, "data %s: %zu train, %zu test samples; mode %s, window %s, %s BN, %s, %s, batch %d, "
                "%d threads\n", data, tr.n, te.n, lt_mode_name(nr.mode), lt_window_name(nr.window),
                nc.bn == LT_BN_TD ? "td" : "standard", lossw, optim, batch, lt_get_threads());
        if (authors || fc_analog || strcmp(vth_optim, "same") || wd_vth > 0 || nr.vth_init != 1.0f ||
            nc.bn_fixed_affine)
            fprintf(stderr, "recipe %s; thresholds from %g, stepped by %s (wd %g); BN affine %s; hidden FC spikes %s\n",
                    recipe, nr.vth_init, strcmp(vth_optim, "sgd") ? optim : "plain sgd", wd_vth, bn_affine,
                    fc_analog ? "off" : "on");
        if (detect) {
            char at[32 * LT_DET_MAX_ANCHORS];
            lt_det_anchors_format(at, sizeof at, dc.anchors, dc.A, &err);
            fprintf(stderr, "detection head: grid %dx%d, %d anchors %s (cells; %s), %d classes, loss %s; evaluated on "
                    "%zu samples with the %s filter\n", dc.grid[0], dc.grid[1], dc.A, at, kmeans ? "k-means on the "
                    "training boxes" : cli_seen(opts, "--anchors") ? "given" : "the checkpoint's", dc.C,
                    lt_det_loss_mode_name(dc.mode), te.n, dc.filter.name);
            if (anchor_iou >= 0)
                fprintf(stderr, "anchors: %" PRIu64 " training boxes, mean IoU with their best anchor %.3f\n",
                        (uint64_t)tr.box_start[tr.n], anchor_iou);
        }
        if (ranks > 1)
            fprintf(stderr, "data-parallel: %d ranks of %d threads, %s BN, gradient buckets of %g MB\n", ranks,
                    lt_get_threads(), sync_bn ? "synchronised" : "per-rank", bucket_mb);
    }
    cli_progress_ctx pc;
    cli_progress_init(&pc);
    cli_catch_signals(1);
    /* lt_train's errors are agreed by every rank: rank 0 prints */
    st = lt_train(net, &tr, te.n ? &te : NULL, &tc, rank == 0 ? cli_progress : NULL, &pc, &err);
    cli_catch_signals(0);
    if (st == LT_ERR_INTERRUPTED) {
        if (rank == 0)
            fprintf(stderr, "\nltsnn train: %s\nresume with the same flags and --resume %s/last.safetensors\n",
                    err.msg, out);
        rc = 130;
        goto done;
    }
    if (st) {
        if (rank == 0)
            fprintf(stderr, "\nltsnn train: %s\n", err.msg);
        goto done;
    }
    if (rank == 0)
        fprintf(stderr, "run directory: %s (log.jsonl, best.safetensors, last.safetensors)\n", out);
    rc = 0;
done:
    lt_head_free(head);
    lt_net_free(net);
    lt_dataset_free(&tr);
    lt_dataset_free(&te);
    lt_dist_free(dist);
    return rc;
}
