/* test_report.c: JSON report -> model -> wire -> model -> JSON, and the
 * structural findings an officer gets for a broken file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cchc_err.h"
#include "cchc_report.h"
#include "cchc_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *s_slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", CCHC_FIXTURES, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* The fixture survives JSON -> model -> packed -> model -> JSON unchanged. */
static void s_round_trip(const char *name, const char *kind)
{
    size_t len;
    char *text = s_slurp(name, &len);
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_report_t *r = NULL;
    int rc = cchc_report_from_text(text, len, &r, &f);
    if (rc != CCHC_OK)
        fail_msg("%s: %s %s %s", name, f.v[0].code, f.v[0].path, f.v[0].msg_en);
    assert_string_equal(cchc_report_kind(r), kind);
    uint8_t *buf;
    size_t blen;
    assert_int_equal(cchc_wire_pack_report(r, &buf, &blen), CCHC_OK);
    cchc_report_t *back = NULL;
    assert_int_equal(cchc_wire_unpack_report(buf, blen, 1 << 20, &back, NULL, 0), CCHC_OK);
    json_t *orig = json_loadb(text, len, 0, NULL);
    json_t *again = cchc_report_to_json(back);
    if (!json_equal(orig, again)) {
        char *a = json_dumps(orig, JSON_SORT_KEYS), *b = json_dumps(again, JSON_SORT_KEYS);
        fail_msg("%s: round trip differs:\n%s\n%s", name, a, b);
    }
    json_decref(orig);
    json_decref(again);
    cchc_report_free(&back);
    cchc_report_free(&r);
    assert_null(r);
    free(buf);
    free(text);
    cchc_findings_clear(&f);
}

static void test_fixtures_round_trip(void **state)
{
    s_round_trip("periodic.json", "periodic");
    s_round_trip("remediation.json", "remediation");
    s_round_trip("task_progress.json", "task_progress");
}

/* Returns the finding at path, or NULL. */
static const cchc_finding_t *s_at(const cchc_findings_t *f, const char *path)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].path, path) == 0)
            return &f->v[i];
    return NULL;
}

static void test_structural_findings(void **state)
{
    const char *text = "{\"type\": \"CCHC_DK\", \"unit\": 5, \"period\": \"2024Q1\","
                       " \"dossiers\": [{\"field\": \"HO_TICH\", \"carried_over\": -1,"
                       " \"new_online\": 2.5, \"new_direct_postal\": 1, \"resolved_early\": 1,"
                       " \"resolved_on_time\": 0, \"resolved_late\": 0,"
                       " \"pending_in_time\": 0}], \"colour\": \"red\"}";
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_report_t *r = NULL;
    assert_int_equal(cchc_report_from_text(text, strlen(text), &r, &f), CCHC_EINVAL);
    assert_null(r);
    const cchc_finding_t *x;
    assert_non_null(x = s_at(&f, "$.unit"));
    assert_string_equal(x->code, "E000");
    assert_non_null(x = s_at(&f, "$.dossiers[0].carried_over"));
    assert_string_equal(x->code, "E010");
    assert_non_null(x = s_at(&f, "$.dossiers[0].new_online"));
    assert_string_equal(x->code, "E010");
    assert_non_null(x = s_at(&f, "$.dossiers[0].pending_overdue")); /* missing */
    assert_string_equal(x->code, "E010");
    assert_non_null(x = s_at(&f, "$.colour"));
    assert_non_null(strstr(x->msg_vi, "colour"));
    assert_int_equal(f.errors, 5);
    cchc_findings_clear(&f);
}

static void test_syntax_error(void **state)
{
    const char *text = "{\n  \"type\": \"NV_KH\",\n  \"unit\" \"p-tp\"\n}";
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_report_t *r = NULL;
    assert_int_equal(cchc_report_from_text(text, strlen(text), &r, &f), CCHC_EINVAL);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.v[0].code, "E000");
    assert_non_null(strstr(f.v[0].msg_vi, "dòng 3"));
    cchc_findings_clear(&f);
}

static void test_invalid_utf8_and_nul(void **state)
{
    const char bad[] = "{\"type\": \"NV_KH\", \"unit\": \"p-tp\", \"task\": \"K\xc3\", "
                       "\"status\": \"done\"}";
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_report_t *r = NULL;
    assert_int_equal(cchc_report_from_text(bad, sizeof bad - 1, &r, &f), CCHC_EINVAL);
    assert_string_equal(f.v[0].code, "E050");
    cchc_findings_clear(&f);
    const char nul[] = "{\"type\": \"NV_KH\", \"unit\": \"p-tp\", \"task\": \"K\\u0000X\", "
                       "\"status\": \"done\"}";
    assert_int_equal(cchc_report_from_text(nul, sizeof nul - 1, &r, &f), CCHC_EINVAL);
    assert_string_equal(f.v[0].code, "E050");
    cchc_findings_clear(&f);
    /* A raw NUL byte inside a string (the parser calls it a control character). */
    const char raw[] = "{\"type\": \"NV_KH\", \"unit\": \"p-tp\", \"task\": \"K\0X\", "
                       "\"status\": \"done\"}";
    assert_int_equal(cchc_report_from_text(raw, sizeof raw - 1, &r, &f), CCHC_EINVAL);
    assert_string_equal(f.v[0].code, "E050");
    assert_non_null(strstr(f.v[0].msg_vi, "NUL"));
    cchc_findings_clear(&f);
}

static void test_nfc(void **state)
{
    /* "Xã" written decomposed: a + combining tilde (NFD), as a Windows tool may send */
    const char text[] = "{\"type\": \"NV_KH\", \"unit\": \"p-tp\", \"task\": \"T1\","
                        " \"status\": \"done\", \"result\": \"Xa\xcc\x83 An Ba\xcc\x81\"}";
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_report_t *r = NULL;
    assert_int_equal(cchc_report_from_text(text, sizeof text - 1, &r, &f), CCHC_OK);
    assert_string_equal(r->task_progress->result, "X\xc3\xa3 An B\xc3\xa1");
    assert_int_equal(r->revision, 1); /* default */
    cchc_report_free(&r);
    cchc_findings_clear(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_round_trip),
        cmocka_unit_test(test_structural_findings),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_invalid_utf8_and_nul),
        cmocka_unit_test(test_nfc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
