/* checkpoint.c -- a net's named tensors to and from safetensors files
 * (docs/checkpoints.md).  Weights and BN statistics go under their
 * PyTorch-style names; optimiser state under "optim." (weight loaders skip
 * it); the model, input shape, class count and neuron options go into
 * __metadata__ as strings. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ltsnn/io.h"
#include "nn/net.h"
#include "nn/optim.h"

/* tracked >= 0: PyTorch's layout (lt_net_save_torch): every BN also gets
 * num_batches_tracked, an I64 scalar; no optimiser state. */
static lt_status save(const lt_net *net, const char *path, const char *const *extra_meta, const lt_optim *opt,
                      int64_t tracked, lt_err *err)
{
    lt_st_writer *w = lt_stw_new();
    if (!w)
        return lt_err_set(err, LT_ERR_NOMEM, "out of memory");
    lt_status st = LT_OK;
    char buf[64];
    char (*names)[96] = NULL;
    const lt_net_config *c = &net->cfg;
    assert(!c->plan_only);

    if (tracked >= 0 && !(names = calloc((size_t)net->n_named + 1, sizeof *names)))
        st = lt_err_set(err, LT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < net->n_named && !st; i++) {
        const lt_named *nm = &net->named[i];
        st = lt_stw_add(w, nm->name, LT_F32, nm->ndim, nm->shape, nm->data, err);
        /* nn.BatchNorm2d's counter sits after its running_var in a state_dict */
        size_t len = strlen(nm->name), suf = strlen(".running_var");
        if (!st && tracked >= 0 && len > suf && !strcmp(nm->name + len - suf, ".running_var")) {
            snprintf(names[i], sizeof names[0], "%.*s.num_batches_tracked", (int)(len - suf), nm->name);
            st = lt_stw_add(w, names[i], LT_I64, 0, NULL, &tracked, err);
        }
    }
    if (!st && opt) {
        /* per-tensor moment names keep the state readable without knowing the layout */
        names = calloc((size_t)net->n_named * 2 + 1, sizeof *names);
        if (!names)
            st = lt_err_set(err, LT_ERR_NOMEM, "out of memory");
        for (int i = 0; i < net->n_named && !st; i++) {
            const lt_named *nm = &net->named[i];
            if (!nm->grad)
                continue;
            size_t off = (size_t)(nm->data - net->params);
            int64_t shape[1] = {(int64_t)nm->numel};
            snprintf(names[2 * i], sizeof names[0], "optim.m.%s", nm->name);
            st = lt_stw_add(w, names[2 * i], LT_F32, 1, shape, opt->m + off, err);
            if (!st && opt->v) {
                snprintf(names[2 * i + 1], sizeof names[0], "optim.v.%s", nm->name);
                st = lt_stw_add(w, names[2 * i + 1], LT_F32, 1, shape, opt->v + off, err);
            }
        }
        if (!st)
            st = lt_stw_meta(w, "optim", opt->cfg.kind == LT_OPT_ADAM ? "adam" : "sgd", err);
        snprintf(buf, sizeof buf, "%ld", opt->step);
        if (!st)
            st = lt_stw_meta(w, "optim_step", buf, err);
    }
    if (!st)
        st = lt_stw_meta(w, "format", tracked >= 0 ? "ltsnn-torch-1" : "ltsnn-1", err);
    if (!st)
        st = lt_stw_meta(w, "model", net->model, err);
    snprintf(buf, sizeof buf, "%dx%dx%d", c->in_c, c->in_h, c->in_w);
    if (!st)
        st = lt_stw_meta(w, "input", buf, err);
    snprintf(buf, sizeof buf, "%d", net->K);
    if (!st)
        st = lt_stw_meta(w, "classes", buf, err);
    snprintf(buf, sizeof buf, "%d", c->T);
    if (!st)
        st = lt_stw_meta(w, "T", buf, err);
    lt_kv kv[LT_NET_OPTIONS];
    int nkv = lt_net_config_options(c, kv);
    for (int i = 0; i < nkv && !st; i++)
        st = lt_stw_meta(w, kv[i].key, kv[i].val, err);
    for (int i = 0; extra_meta && extra_meta[i] && extra_meta[i + 1] && !st; i += 2)
        st = lt_stw_meta(w, extra_meta[i], extra_meta[i + 1], err);
    if (!st)
        st = lt_stw_write(w, path, err);
    lt_stw_free(w);
    free(names);
    return st;
}

lt_status lt_net_save(const lt_net *net, const char *path, const char *const *extra_meta, const lt_optim *opt,
                      lt_err *err)
{
    return save(net, path, extra_meta, opt, -1, err);
}

lt_status lt_net_save_torch(const lt_net *net, const char *path, int64_t batches_tracked, lt_err *err)
{
    return save(net, path, NULL, NULL, batches_tracked < 0 ? 0 : batches_tracked, err);
}

/* shape of a named tensor against a file's; thresholds may be [] or [1] */
static int same_shape(const lt_named *nm, const lt_st_tensor *t)
{
    if (nm->is_vth)
        return t->numel == 1 && t->ndim <= 1;
    if (t->ndim != nm->ndim)
        return 0;
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] != nm->shape[d])
            return 0;
    return 1;
}

static void shape_str(char *buf, size_t len, int ndim, const int64_t *shape)
{
    size_t o = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < ndim && o < len; d++)
        o += (size_t)snprintf(buf + o, len - o, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (o < len)
        snprintf(buf + o, len - o, "]");
}

/* Every tensor of the net in the file, shaped as the net needs, float;
 * nothing else in it but optimiser state. */
static lt_status check_tensors(const lt_net *net, const lt_st_file *fp, const char *path, lt_err *err)
{
    lt_status st = LT_OK;
    for (int i = 0; i < net->n_named && !st; i++) {
        const lt_named *nm = &net->named[i];
        const lt_st_tensor *t = lt_st_find(fp, nm->name);
        if (!t) {
            st = lt_err_set(err, LT_ERR_SHAPE, "%s: tensor '%s' is missing (the file does not hold model %s)",
                            path, nm->name, net->model);
        } else if (!same_shape(nm, t)) {
            char a[96], b[96];
            shape_str(a, sizeof a, t->ndim, t->shape);
            shape_str(b, sizeof b, nm->ndim, nm->shape);
            st = lt_err_set(err, LT_ERR_SHAPE, "%s: tensor '%s' has shape %s, model %s needs %s", path, nm->name, a,
                            net->model, b);
        } else if (t->dtype != LT_F32 && t->dtype != LT_F64 && t->dtype != LT_F16 && t->dtype != LT_BF16) {
            st = lt_err_set(err, LT_ERR_FORMAT, "%s: tensor '%s' has dtype %s, expected a float type", path,
                            nm->name, lt_dtype_name(t->dtype));
        }
    }
    /* anything else that is not optimiser state means the file is for another model */
    for (size_t i = 0; i < fp->n && !st; i++) {
        const char *name = fp->t[i].name;
        if (strncmp(name, "optim.", 6) && !lt_net_find(net, name))
            st = lt_err_set(err, LT_ERR_SHAPE, "%s: tensor '%s' is not part of model %s", path, name, net->model);
    }
    return st;
}

lt_status lt_net_load(lt_net *net, const char *path, lt_err *err)
{
    lt_st_file f;
    lt_status st = lt_st_read(&f, path, err);
    if (st)
        return st;
    /* check every name and shape first, so a refused file leaves the net as it was */
    st = check_tensors(net, &f, path, err);
    for (int i = 0; i < net->n_named && !st; i++)
        st = lt_st_get_f32(&f, net->named[i].name, net->named[i].data, net->named[i].numel, err);
    lt_st_free(&f);
    return st;
}

lt_status lt_optim_load(lt_optim *o, const char *path, lt_err *err)
{
    lt_st_file f;
    lt_status st = lt_st_read(&f, path, err);
    if (st)
        return st;
    const char *kind = lt_st_meta(&f, "optim"), *step = lt_st_meta(&f, "optim_step");
    const char *want = o->cfg.kind == LT_OPT_ADAM ? "adam" : "sgd";
    char name[128];
    if (!kind || !step) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: no optimiser state (metadata 'optim' and 'optim_step'); was it "
                        "written by ltsnn train?", path);
        goto done;
    }
    if (strcmp(kind, want)) {
        st = lt_err_set(err, LT_ERR_ARG, "%s: holds %s optimiser state, but the run uses %s", path, kind, want);
        goto done;
    }
    char *end;
    long nstep = strtol(step, &end, 10);
    if (!*step || *end || nstep < 0) {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: metadata optim_step '%s' is not a step count", path, step);
        goto done;
    }
    /* check every moment tensor first, so a refused file leaves the optimiser as it was */
    for (int pass = 0; pass < 2 && !st; pass++)
        for (int i = 0; i < o->net->n_named && !st; i++) {
            const lt_named *nm = &o->net->named[i];
            if (!nm->grad)
                continue;
            size_t off = (size_t)(nm->data - o->net->params);
            for (int mv = 0; mv < (o->v ? 2 : 1) && !st; mv++) {
                snprintf(name, sizeof name, "optim.%c.%s", mv ? 'v' : 'm', nm->name);
                const lt_st_tensor *t = lt_st_find(&f, name);
                if (pass == 0 && (!t || t->numel != nm->numel))
                    st = lt_err_set(err, LT_ERR_SHAPE, "%s: optimiser tensor '%s' is %s (needs %zu values)", path,
                                    name, t ? "the wrong size" : "missing", nm->numel);
                else if (pass == 1)
                    st = lt_st_get_f32(&f, name, (mv ? o->v : o->m) + off, nm->numel, err);
            }
        }
    if (!st)
        o->step = nstep;
done:
    lt_st_free(&f);
    return st;
}

lt_status lt_ckpt_config(lt_net_config *cfg, char *model_buf, size_t model_len, const char *path, lt_err *err)
{
    lt_st_file f;
    lt_status st = lt_st_read(&f, path, err);
    if (st)
        return st;
    const char *v;
    if ((v = lt_st_meta(&f, "model"))) {
        snprintf(model_buf, model_len, "%s", v);
        cfg->model = model_buf;
    } else {
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: __metadata__ has no 'model' (the model string)", path);
        goto done;
    }
    if ((v = lt_st_meta(&f, "input"))) {
        int c, h, w;
        if (sscanf(v, "%dx%dx%d", &c, &h, &w) != 3 || c < 1 || h < 1 || w < 1) {
            st = lt_err_set(err, LT_ERR_FORMAT, "%s: metadata input '%s' is not CxHxW", path, v);
            goto done;
        }
        cfg->in_c = c, cfg->in_h = h, cfg->in_w = w;
    }
    if ((v = lt_st_meta(&f, "classes"))) {
        char *end;
        long k = strtol(v, &end, 10);
        if (!*v || *end || k < 1 || k > 1000000) {
            st = lt_err_set(err, LT_ERR_FORMAT, "%s: metadata classes '%s' is not a class count", path, v);
            goto done;
        }
        cfg->classes = (int)k;
    }
    if ((v = lt_st_meta(&f, "T")) && atoi(v) > 0)
        cfg->T = atoi(v);
    lt_kv kv[LT_NET_OPTIONS];
    int nkv = lt_net_config_options(cfg, kv), known;
    for (int i = 0; i < nkv; i++)
        if ((v = lt_st_meta(&f, kv[i].key)) && (st = lt_net_config_option_set(cfg, kv[i].key, v, &known, err))) {
            lt_err_prefix(err, "%s: metadata: ", path);
            goto done;
        }
    if (!(cfg->neuron.lam >= 0 && cfg->neuron.lam <= 1) || !(cfg->neuron.g > 0) ||
        !(cfg->neuron.alpha > 0 && cfg->neuron.alpha <= 1))
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: metadata neuron options out of range (need 0 <= lam <= 1, g > 0, "
                        "0 < alpha <= 1; got lam %g, g %g, alpha %g)", path, cfg->neuron.lam, cfg->neuron.g,
                        cfg->neuron.alpha);
    else if (cfg->in_c < 1 || cfg->in_h < 1 || cfg->in_w < 1)
        st = lt_err_set(err, LT_ERR_FORMAT, "%s: __metadata__ has no 'input' (the input shape CxHxW)", path);
    if (!st) {
        /* the tensors against a planned-only net: nothing allocated for a model the file does not hold */
        lt_net_config pc = *cfg;
        pc.plan_only = 1, pc.T = 1, pc.B = 1, pc.max_memory = 0;
        lt_net *pn = NULL;
        if (!(st = lt_net_create(&pn, &pc, err)))
            st = check_tensors(pn, &f, path, err);
        else
            lt_err_prefix(err, "%s: metadata model: ", path);
        lt_net_free(pn);
    }
done:
    lt_st_free(&f);
    return st;
}
