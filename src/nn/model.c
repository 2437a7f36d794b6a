/* model.c -- model strings in the paper's Table 3 notation (METHOD.md §3).
 *
 * A model is a dash-separated list of tokens: kCn (conv n x n, k filters),
 * kDW (MobileNet block), AP2 / MP2 (pooling), FCn (linear).  Presets expand
 * to such strings.  Errors name the token, its position and what was
 * expected.  This file knows nothing about memory or layers. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ltsnn/nn.h"

static const struct {
    const char *name, *model;
} presets[] = {
    {"vgg7", "32C3-32C3-AP2-64C3-64C3-AP2-128C3-128C3-AP2-256C3-256C3-AP2-FC256-FC10"},
    {"vgg9", "32C3-64C3-64C3-AP2-128C3-128C3-AP2-256C3-256C3-AP2-512C3-512C3-AP2-FC512-FC10"},
    {"vgg11", "64C3-128C3-AP2-256C3-256C3-AP2-512C3-512C3-AP2-512C3-512C3-AP2-FC10"},
    {"mobilenet-light", "32C3-64DW-64DW-AP2-128DW-128DW-AP2-256DW-AP2-FC256-FC10"},
    {"mobilenet_light", "32C3-64DW-64DW-AP2-128DW-128DW-AP2-256DW-AP2-FC256-FC10"},
    {"yolov2", "32C3-MP2-64C3-MP2-128C3-64C1-128C3-MP2-256C3-128C1-256C3-MP2-512C3-256C1-512C3-256C1-MP2-"
               "1024C3-512C1-1024C3-AP2-FC512-FC576"},
    /* ltsnn's own small preset for the built-in demo data (not in the paper) */
    {"small", "16C3-AP2-32C3-AP2-64C3-AP2-FC128-FC10"},
    {"fmnist", "32C3-32C3-AP2-64C3-64C3-AP2-FC256-FC10"},
};

const char *lt_model_preset(const char *name)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(presets[i].name, name))
            return presets[i].model;
    return NULL;
}

/* Reads a positive decimal number of at most 6 digits. */
static int read_num(const char *s, size_t len, int *out)
{
    if (len == 0 || len > 6)
        return 0;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    if (v <= 0)
        return 0;
    *out = v;
    return 1;
}

static lt_status parse_token(lt_token *t, const char *s, size_t len, size_t pos, lt_err *err)
{
    const char *expect = "expected kCn (e.g. 32C3), kDW (e.g. 64DW), AP2, MP2 or FCn (e.g. FC10)";
    if (len == 3 && !strncmp(s, "AP2", 3)) {
        t->kind = LT_TOK_AP2, t->n = 0, t->k = 2;
        return LT_OK;
    }
    if (len == 3 && !strncmp(s, "MP2", 3)) {
        t->kind = LT_TOK_MP2, t->n = 0, t->k = 2;
        return LT_OK;
    }
    if (len > 2 && !strncmp(s, "FC", 2)) {
        if (!read_num(s + 2, len - 2, &t->n))
            return lt_err_set(err, LT_ERR_PARSE, "model string: token '%.*s' at position %zu: expected FC then a "
                              "positive number of outputs (e.g. FC10)", (int)len, s, pos);
        t->kind = LT_TOK_FC, t->k = 0;
        return LT_OK;
    }
    /* kCn or kDW: a number, then C or DW */
    size_t i = 0;
    while (i < len && isdigit((unsigned char)s[i]))
        i++;
    if (i == 0 || i == len)
        return lt_err_set(err, LT_ERR_PARSE, "model string: token '%.*s' at position %zu: %s", (int)len, s, pos,
                          expect);
    if (!read_num(s, i, &t->n))
        return lt_err_set(err, LT_ERR_PARSE, "model string: token '%.*s' at position %zu: channel count must be "
                          "1 to 999999", (int)len, s, pos);
    if (len - i == 2 && s[i] == 'D' && s[i + 1] == 'W') {
        t->kind = LT_TOK_DW, t->k = 3;
        return LT_OK;
    }
    if (s[i] == 'C') {
        if (!read_num(s + i + 1, len - i - 1, &t->k) || t->k > 31)
            return lt_err_set(err, LT_ERR_PARSE, "model string: token '%.*s' at position %zu: expected a kernel "
                              "size 1..31 after 'C' (e.g. 32C3)", (int)len, s, pos);
        t->kind = LT_TOK_CONV;
        return LT_OK;
    }
    return lt_err_set(err, LT_ERR_PARSE, "model string: token '%.*s' at position %zu: %s", (int)len, s, pos,
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
        if (spec->tok[i].kind == LT_TOK_FC && spec->tok[i + 1].kind != LT_TOK_FC)
            return lt_err_set(err, LT_ERR_PARSE, "model string '%s': token %d: only FC tokens may follow an FC "
                              "token (the features are flattened)", s, i + 2);
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
    for (int i = 0; i < spec->n_tok && o < len; i++) {
        const lt_token *t = &spec->tok[i];
        const char *dash = i ? "-" : "";
        int w = 0;
        switch (t->kind) {
        case LT_TOK_CONV: w = snprintf(buf + o, len - o, "%s%dC%d", dash, t->n, t->k); break;
        case LT_TOK_DW: w = snprintf(buf + o, len - o, "%s%dDW", dash, t->n); break;
        case LT_TOK_AP2: w = snprintf(buf + o, len - o, "%sAP2", dash); break;
        case LT_TOK_MP2: w = snprintf(buf + o, len - o, "%sMP2", dash); break;
        case LT_TOK_FC: w = snprintf(buf + o, len - o, "%sFC%d", dash, t->n); break;
        }
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
    n->mode = 2; /* sgp */
    n->window = 0;
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
            n->mode = i;
            return LT_OK;
        }
    return lt_err_set(err, LT_ERR_ARG, "unknown threshold mode '%s' (expected fixed, stsg, sgp, penalty_all, "
                      "sgp_stsg or dsr)", name);
}

lt_status lt_neuron_set_window(lt_neuron *n, const char *name, lt_err *err)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, window_names[i])) {
            n->window = i;
            return LT_OK;
        }
    return lt_err_set(err, LT_ERR_ARG, "unknown SGP window '%s' (expected sigmoid, arctan, triangle or "
                      "piecewise)", name);
}
