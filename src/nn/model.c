/* model.c -- model strings in the paper's Table 3 notation (METHOD.md §3),
 * presets, and the neuron options.
 *
 * A model is a dash-separated list of tokens; each token is claimed by one
 * row of the block table (blocks.c: kCn, kDW, AP2, MP2, FCn, Rk, GAP), which
 * parses and prints it.  Presets expand to such strings.  Errors name the
 * token, its position and what was expected.  This file knows nothing about
 * memory or layers. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "nn/net.h"

/* presets and the input each was made for (METHOD.md §3, §6) */
static const struct {
    const char *name, *model;
    int c, h, w;
} presets[] = {
    {"vgg7", "32C3-32C3-AP2-64C3-64C3-AP2-128C3-128C3-AP2-256C3-256C3-AP2-FC256-FC10", 2, 48, 48},
    {"vgg9", "32C3-64C3-64C3-AP2-128C3-128C3-AP2-256C3-256C3-AP2-512C3-512C3-AP2-FC512-FC10", 2, 48, 48},
    {"vgg11", "64C3-128C3-AP2-256C3-256C3-AP2-512C3-512C3-AP2-512C3-512C3-AP2-FC10", 2, 48, 48},
    {"mobilenet-light", "32C3-64DW-64DW-AP2-128DW-128DW-AP2-256DW-AP2-FC256-FC10", 2, 48, 48},
    {"mobilenet_light", "32C3-64DW-64DW-AP2-128DW-128DW-AP2-256DW-AP2-FC256-FC10", 2, 48, 48},
    {"yolov2", "32C3-MP2-64C3-MP2-128C3-64C1-128C3-MP2-256C3-128C1-256C3-MP2-512C3-256C1-512C3-256C1-MP2-"
               "1024C3-512C1-1024C3-AP2-FC512-FC576", 2, 128, 160},
    /* tdBN's ResNet-19 (the paper's Table 4, CIFAR-10 row; --bn td by default) */
    {"resnet19", "128C3-R128-R128-R128-R256s2-R256-R256-R512s2-R512-GAP-FC256-FC10", 3, 32, 32},
    /* ltsnn's own: the demo data's default, and two for 28x28 Fashion-MNIST (the
     * residual one with an identity and a strided conv shortcut, about the cost
     * of "fmnist"; docs/method.md) */
    {"small", "16C3-AP2-32C3-AP2-64C3-AP2-FC128-FC10", 2, 32, 32},
    {"fmnist", "32C3-32C3-AP2-64C3-64C3-AP2-FC256-FC10", 1, 28, 28},
    {"fmnist-res", "32C3-R32-R64s2-AP2-FC256-FC10", 1, 28, 28},
};

static int preset_index(const char *name)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(presets[i].name, name))
            return (int)i;
    return -1;
}

const char *lt_model_preset(const char *name)
{
    int i = preset_index(name);
    return i < 0 ? NULL : presets[i].model;
}

int lt_model_preset_input(const char *name, int *c, int *h, int *w)
{
    int i = preset_index(name);
    if (i < 0)
        return 0;
    *c = presets[i].c, *h = presets[i].h, *w = presets[i].w;
    return 1;
}

const char *lt_token_kind_name(int kind)
{
    return kind >= 0 && kind < lt_n_block_kinds ? lt_block_kinds[kind]->syntax : "?";
}

/* One token: the first row of the block table that claims it. */
static lt_status parse_token(lt_token *t, const char *s, size_t len, size_t pos, lt_err *err)
{
    for (int k = 0; k < lt_n_block_kinds; k++) {
        int r = lt_block_kinds[k]->parse(t, s, len, pos, err);
        if (r < 0)
            return err->status ? err->status : LT_ERR_PARSE;
        if (r > 0) {
            t->kind = k;
            t->pos = (int)pos;
            return LT_OK;
        }
    }
    char expect[512];
    size_t o = 0;
    expect[0] = 0;
    for (int k = 0; k < lt_n_block_kinds && o < sizeof expect; k++)
        o += (size_t)snprintf(expect + o, sizeof expect - o, "%s%s", k == 0 ? "" : k + 1 == lt_n_block_kinds ? " or " : ", ",
                              lt_block_kinds[k]->syntax);
    return lt_err_set(err, LT_ERR_PARSE, "model string: token '%.*s' at position %zu: expected %s", (int)len, s, pos,
                      expect);
}

lt_status lt_model_parse(lt_model_spec *spec, const char *model, int classes, lt_err *err)
{
    if (!model || !*model)
        return lt_err_set(err, LT_ERR_PARSE, "model string is empty (give a preset such as vgg9 or a string "
                          "such as 32C3-AP2-FC10)");
    const char *preset = lt_model_preset(model);
    const char *s = preset ? preset : model;
    spec->n_tok = 0;
    size_t pos = 0, n = strlen(s), last_pos = 0;
    while (pos <= n) {
        size_t e = pos;
        while (e < n && s[e] != '-')
            e++;
        if (e == pos)
            return lt_err_set(err, LT_ERR_PARSE, "model string '%s': empty token at position %zu (two dashes, or "
                              "a dash at the start or end)", s, pos + 1);
        if (spec->n_tok >= LT_MAX_TOKENS)
            return lt_err_set(err, LT_ERR_PARSE, "model string: more than %d tokens", LT_MAX_TOKENS);
        lt_status st = parse_token(&spec->tok[spec->n_tok], s + pos, e - pos, pos + 1, err);
        if (st)
            return st;
        spec->n_tok++;
        last_pos = pos;
        pos = e + 1;
    }
    lt_token *last = &spec->tok[spec->n_tok - 1];
    if (last->kind != LT_TOK_FC)
        return lt_err_set(err, LT_ERR_PARSE, "model string '%s': the last token must be FCn (the logits), "
                          "found '%s' at position %zu", s, s + last_pos, last_pos + 1);
    for (int i = 0; i + 1 < spec->n_tok; i++) {
        if (lt_block_kinds[spec->tok[i].kind]->flattens && !lt_block_kinds[spec->tok[i + 1].kind]->flattens)
            return lt_err_set(err, LT_ERR_PARSE, "model string '%s': token %d: only FC tokens may follow an FC "
                              "token (the features are flattened)", s, i + 2);
    }
    for (int i = 0; i < spec->n_tok; i++) {
        const lt_block_kind *k = lt_block_kinds[spec->tok[i].kind];
        lt_status st = k->check ? k->check(spec, i, err) : LT_OK;
        if (st)
            return st;
    }
    if (classes > 0) {
        if (preset)
            last->n = classes;
        else if (last->n != classes)
            return lt_err_set(err, LT_ERR_SHAPE, "model string ends with FC%d but the class count is %d", last->n,
                              classes);
    }
    return LT_OK;
}

void lt_model_format(const lt_model_spec *spec, char *buf, size_t len)
{
    size_t o = 0;
    if (len)
        buf[0] = 0;
    for (int i = 0; i < spec->n_tok && o + 1 < len; i++) {
        if (i)
            buf[o++] = '-', buf[o] = 0;
        int w = lt_block_kinds[spec->tok[i].kind]->format(&spec->tok[i], buf + o, len - o);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

/* ---- neuron options ---- */
static const char *mode_names[] = {"fixed", "stsg", "sgp", "penalty_all", "sgp_stsg", "dsr"};
static const char *window_names[] = {"sigmoid", "arctan", "triangle", "piecewise"};

void lt_neuron_default(lt_neuron *n)
{
    n->lam = 0.5f;
    n->g = 1.0f;
    n->alpha = 0.3f;
    n->mode = LT_MODE_SGP;
    n->window = LT_WIN_SIGMOID;
    n->soft_reset = 0;
    n->detach_reset = 0;
    n->vth_init = 1.0f;
}

const char *lt_mode_name(int mode)
{
    return mode >= 0 && mode < 6 ? mode_names[mode] : "?";
}

const char *lt_window_name(int w)
{
    return w >= 0 && w < 4 ? window_names[w] : "?";
}

lt_status lt_neuron_set_mode(lt_neuron *n, const char *name, lt_err *err)
{
    for (int i = 0; i < 6; i++)
        if (!strcmp(name, mode_names[i])) {
            n->mode = (lt_vth_mode)i;
            return LT_OK;
        }
    return lt_err_set(err, LT_ERR_ARG, "unknown threshold mode '%s' (expected fixed, stsg, sgp, penalty_all, "
                      "sgp_stsg or dsr)", name);
}

lt_status lt_neuron_set_window(lt_neuron *n, const char *name, lt_err *err)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, window_names[i])) {
            n->window = (lt_window)i;
            return LT_OK;
        }
    return lt_err_set(err, LT_ERR_ARG, "unknown SGP window '%s' (expected sigmoid, arctan, triangle or "
                      "piecewise)", name);
}

/* The one list of options that define a net beyond its string and input:
 * checkpoints' metadata, config.json and the resume check all write these. */
int lt_net_options(const lt_neuron *n, int bn, lt_kv kv[LT_NET_OPTIONS])
{
    int i = 0;
    kv[i].key = "mode", snprintf(kv[i].val, sizeof kv[i].val, "%s", lt_mode_name(n->mode)), i++;
    kv[i].key = "window", snprintf(kv[i].val, sizeof kv[i].val, "%s", lt_window_name(n->window)), i++;
    kv[i].key = "lam", snprintf(kv[i].val, sizeof kv[i].val, "%.9g", n->lam), i++;
    kv[i].key = "g", snprintf(kv[i].val, sizeof kv[i].val, "%.9g", n->g), i++;
    kv[i].key = "alpha", snprintf(kv[i].val, sizeof kv[i].val, "%.9g", n->alpha), i++;
    kv[i].key = "reset", snprintf(kv[i].val, sizeof kv[i].val, "%s", n->soft_reset ? "soft" : "hard"), i++;
    kv[i].key = "detach_reset", snprintf(kv[i].val, sizeof kv[i].val, "%s", n->detach_reset ? "true" : "false"), i++;
    kv[i].key = "bn", snprintf(kv[i].val, sizeof kv[i].val, "%s", bn == LT_BN_TD ? "td" : "standard"), i++;
    return i;
}

static lt_status read_float(float *out, const char *key, const char *val, lt_err *err)
{
    char *end;
    float v = strtof(val, &end);
    if (!*val || *end || !isfinite(v))
        return lt_err_set(err, LT_ERR_FORMAT, "option %s: '%s' is not a number", key, val);
    *out = v;
    return LT_OK;
}

lt_status lt_net_option_set(lt_neuron *n, int *bn, const char *key, const char *val, int *known, lt_err *err)
{
    *known = 1;
    if (!strcmp(key, "mode"))
        return lt_neuron_set_mode(n, val, err);
    if (!strcmp(key, "window"))
        return lt_neuron_set_window(n, val, err);
    if (!strcmp(key, "lam"))
        return read_float(&n->lam, key, val, err);
    if (!strcmp(key, "g"))
        return read_float(&n->g, key, val, err);
    if (!strcmp(key, "alpha"))
        return read_float(&n->alpha, key, val, err);
    if (!strcmp(key, "reset")) {
        if (strcmp(val, "soft") && strcmp(val, "hard"))
            return lt_err_set(err, LT_ERR_FORMAT, "option reset: '%s' is neither hard nor soft", val);
        n->soft_reset = !strcmp(val, "soft");
        return LT_OK;
    }
    if (!strcmp(key, "detach_reset")) {
        n->detach_reset = !strcmp(val, "1") || !strcmp(val, "true") || !strcmp(val, "True");
        return LT_OK;
    }
    if (!strcmp(key, "bn")) {
        if (strcmp(val, "td") && strcmp(val, "standard"))
            return lt_err_set(err, LT_ERR_FORMAT, "option bn: '%s' is neither standard nor td", val);
        *bn = !strcmp(val, "td") ? LT_BN_TD : LT_BN_STANDARD;
        return LT_OK;
    }
    *known = 0;
    return LT_OK;
}

/* The whole list: the neuron's and bn (above), then the weight precision
 * (METHOD.md §7: "32" for float32, else "4" or "8"), then the options of
 * issue 18's rows (the first threshold, BN's affine, and the authors'
 * recipe's net shape).  LT_NET_OPTIONS counts them all. */
int lt_net_config_options(const lt_net_config *c, lt_kv kv[LT_NET_OPTIONS])
{
    int i = lt_net_options(&c->neuron, c->bn, kv);
    kv[i].key = "wbits", snprintf(kv[i].val, sizeof kv[i].val, "%d", c->wbits ? c->wbits : 32), i++;
    kv[i].key = "vth_init", snprintf(kv[i].val, sizeof kv[i].val, "%.9g", c->neuron.vth_init), i++;
    kv[i].key = "bn_affine", snprintf(kv[i].val, sizeof kv[i].val, "%s", c->bn_fixed_affine ? "off" : "on"), i++;
    kv[i].key = "fc_spikes", snprintf(kv[i].val, sizeof kv[i].val, "%d", c->fc_analog ? 0 : 1), i++;
    kv[i].key = "first_vth_fixed", snprintf(kv[i].val, sizeof kv[i].val, "%s", c->first_vth_fixed ? "true" : "false"),
        i++;
    return i;
}

int lt_net_config_option_is_default(const lt_kv *kv)
{
    lt_net_config d = {0};
    lt_neuron_default(&d.neuron);
    lt_kv dk[LT_NET_OPTIONS];
    int n = lt_net_config_options(&d, dk);
    for (int i = 0; i < n; i++)
        if (!strcmp(dk[i].key, kv->key))
            return !strcmp(dk[i].val, kv->val);
    return 0;
}

/* val is on (1) or off (0), into *out; inverted when off_is_one (a config field that is 1 for "off") */
static lt_status read_switch(int *out, const char *key, const char *val, const char *on, const char *off,
                             int off_is_one, lt_err *err)
{
    int v;
    if (!strcmp(val, on))
        v = 1;
    else if (!strcmp(val, off))
        v = 0;
    else
        return lt_err_set(err, LT_ERR_FORMAT, "option %s: '%s' is neither %s nor %s", key, val, on, off);
    *out = off_is_one ? !v : v;
    return LT_OK;
}

lt_status lt_net_config_option_set(lt_net_config *c, const char *key, const char *val, int *known, lt_err *err)
{
    *known = 1;
    if (!strcmp(key, "vth_init")) {
        float v = 0;
        lt_status st = read_float(&v, key, val, err);
        if (!st && !(v > 0))
            st = lt_err_set(err, LT_ERR_FORMAT, "option vth_init: %s is not > 0", val);
        if (!st)
            c->neuron.vth_init = v;
        return st;
    }
    if (!strcmp(key, "bn_affine"))
        return read_switch(&c->bn_fixed_affine, key, val, "on", "off", 1, err);
    if (!strcmp(key, "fc_spikes"))
        return read_switch(&c->fc_analog, key, val, "1", "0", 1, err);
    if (!strcmp(key, "first_vth_fixed"))
        return read_switch(&c->first_vth_fixed, key, val, "true", "false", 0, err);
    if (strcmp(key, "wbits"))
        return lt_net_option_set(&c->neuron, &c->bn, key, val, known, err);
    if (!strcmp(val, "32"))
        c->wbits = 0;
    else if (!strcmp(val, "4") || !strcmp(val, "8"))
        c->wbits = atoi(val);
    else
        return lt_err_set(err, LT_ERR_FORMAT, "option wbits: '%s' is not 4, 8 or 32 (SAWB is pinned for 4 and 8 "
                          "bits, METHOD.md §7)", val);
    return LT_OK;
}
