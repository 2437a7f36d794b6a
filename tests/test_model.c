/* test_model.c -- model strings: presets expand, strings print back
 * unchanged, malformed strings are refused with the token, its position and
 * what was expected. */
#include <string.h>

#include "check.h"
#include "ltsnn.h"

static void roundtrip(const char *s)
{
    lt_model_spec sp;
    lt_err err = {0};
    char buf[1024];
    CHECK(lt_model_parse(&sp, s, 0, &err) == LT_OK, "%s: %s", s, err.msg);
    lt_model_format(&sp, buf, sizeof buf);
    CHECK(!strcmp(buf, s), "printed back as %s", buf);
}

static void refused(const char *s, int classes, const char *needle)
{
    lt_model_spec sp;
    lt_err err = {0};
    lt_status st = lt_model_parse(&sp, s, classes, &err);
    CHECK(st != LT_OK, "'%s' was accepted", s);
    CHECK(strstr(err.msg, needle) != NULL, "'%s': message '%s' lacks '%s'", s, err.msg, needle);
}

int main(void)
{
    check_begin("test_model");
    roundtrip("32C3-64C3-64C3-AP2-128C3-128C3-AP2-256C3-256C3-AP2-512C3-512C3-AP2-FC512-FC10");
    roundtrip("32C3-64DW-64DW-AP2-128DW-128DW-AP2-256DW-AP2-FC256-FC10");
    roundtrip("4C5-MP2-FC3");
    roundtrip("FC10");

    lt_model_spec sp;
    lt_err err = {0};
    char buf[1024];
    CHECK(lt_model_parse(&sp, "vgg9", 0, &err) == LT_OK, "%s", err.msg);
    lt_model_format(&sp, buf, sizeof buf);
    CHECK(!strcmp(buf, "32C3-64C3-64C3-AP2-128C3-128C3-AP2-256C3-256C3-AP2-512C3-512C3-AP2-FC512-FC10"), "%s", buf);
    CHECK(sp.n_tok == 15, "vgg9 has %d tokens", sp.n_tok);
    CHECK(lt_model_parse(&sp, "mobilenet_light", 101, &err) == LT_OK, "%s", err.msg);
    CHECK(sp.tok[sp.n_tok - 1].n == 101, "classes replace a preset's last FC: %d", sp.tok[sp.n_tok - 1].n);
    CHECK(lt_model_parse(&sp, "mobilenet-light", 0, &err) == LT_OK && sp.tok[1].kind == LT_TOK_DW, "alias");
    CHECK(lt_model_parse(&sp, "yolov2", 0, &err) == LT_OK && sp.tok[sp.n_tok - 1].n == 576, "yolov2");
    CHECK(lt_model_parse(&sp, "vgg7", 0, &err) == LT_OK && sp.tok[0].n == 32 && sp.tok[0].k == 3, "vgg7");
    CHECK(lt_model_parse(&sp, "vgg11", 0, &err) == LT_OK && sp.tok[0].n == 64, "vgg11");
    CHECK(lt_model_parse(&sp, "32C3-FC10", 10, &err) == LT_OK, "explicit string with matching classes");

    refused("", 0, "empty");
    refused("32C3--FC10", 0, "position 6");
    refused("32C3-FC10-", 0, "empty token");
    refused("32X3-FC10", 0, "'32X3' at position 1");
    refused("32C3-64C-FC10", 0, "'64C' at position 6");
    refused("32C3-AP3-FC10", 0, "'AP3' at position 6");
    refused("32C3-FC-FC10", 0, "'FC' at position 6");
    refused("32C3-FC0", 0, "FC0");
    refused("32C3-AP2", 0, "last token must be FCn");
    refused("32C3-FC10-AP2-FC3", 0, "only FC tokens may follow");
    refused("32C3-FC10", 7, "class count is 7");
    refused("0C3-FC10", 0, "channel count");
    refused("vgg99", 0, "position 1");
    return check_done();
}
