/* test_validate_content.c: the rules on a report's content (E016-E060):
 * each code with a passing and a failing case, exact code and path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "validate_support.h"

static void test_e016_every_overdue_explained(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    json_t *root = s_fixture("periodic.json");
    json_array_remove(json_object_get(root, "overdue_dossiers"), 2);
    s_run(s_rep(root), c, &f);
    const cchc_finding_t *x = s_has(&f, "E016", "$.dossiers[0].field");
    assert_non_null(strstr(x->msg_vi, "HO_TICH"));
    assert_int_equal(f.errors, 1);

    /* an entry in a field without a row */
    root = s_fixture("periodic.json");
    json_t *od = json_array_get(json_object_get(root, "overdue_dossiers"), 0);
    json_object_set_new(od, "field", json_string("DAT_DAI"));
    s_run(s_rep(root), c, &f);
    s_has(&f, "E016", "$.overdue_dossiers[0].field");
    s_has(&f, "E016", "$.dossiers[0].field"); /* HO_TICH now has 3 */
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

/* ---- E017-E021: overdue dossiers -------------------------------------------------------- */

static void test_e017_is_specific(void **state)
{
    assert_false(cchc_validate_is_specific(NULL));
    assert_false(cchc_validate_is_specific(""));
    assert_false(cchc_validate_is_specific("   "));
    assert_false(cchc_validate_is_specific("-"));
    assert_false(cchc_validate_is_specific("không"));
    assert_false(cchc_validate_is_specific("Đang xử lý")); /* 10 characters, a placeholder */
    assert_false(cchc_validate_is_specific("  ĐANG XỬ LÝ.  "));
    assert_false(cchc_validate_is_specific("Đang giải quyết"));
    assert_false(cchc_validate_is_specific("<nguyên nhân cụ thể>"));
    /* "Mất điện." is 9 characters (14 bytes): refused */
    assert_int_equal(strlen("Mất điện."), 14);
    assert_false(cchc_validate_is_specific("Mất điện."));
    /* "Thiếu giấy" is 10 characters: accepted, also with white space around */
    assert_true(cchc_validate_is_specific("Thiếu giấy"));
    assert_true(cchc_validate_is_specific("  Thiếu giấy \n"));
    /* NFD: "Mất điện." decomposed is 13 code points, but 9 characters after NFC */
    assert_false(cchc_validate_is_specific("Ma\xcc\x82\xcc\x81t \xc4\x91ie\xcc\x82\xcc\xa3n."));
    /* NFD "Thiếu giấy": 14 code points, 10 characters */
    assert_true(cchc_validate_is_specific("Thie\xcc\x82\xcc\x81u gia\xcc\x82\xcc\x81y"));
    assert_false(cchc_validate_is_specific("\xc3\x28 invalid utf-8 text"));
    /* Long texts take the way without normalising: the same answers. */
    assert_true(cchc_validate_is_specific("Mất kết nối phần mềm hộ tịch dùng chung."));
    assert_false(cchc_validate_is_specific("  <nguyên nhân cụ thể của việc chậm trễ hồ sơ>  "));
    assert_false(cchc_validate_is_specific("\xc3\x28 invalid utf-8 text, long enough to pass"));
    /* "a" and 29 acute accents: at least 1 character without normalising, so
     * the slow way decides; NFC composes one (29 code points left): specific */
    char marks[1 + 29 * 2 + 1] = "a";
    for (int i = 0; i < 29; i++)
        memcpy(marks + 1 + 2 * i, "\xcc\x81", 2);
    marks[sizeof marks - 1] = '\0';
    assert_true(cchc_validate_is_specific(marks));
    /* 13 Hangul syllables written as 26 jamo (L V): 13 characters after NFC, specific */
    char jamo[26 * 3 + 1];
    for (int i = 0; i < 13; i++)
        memcpy(jamo + 6 * i, "\xe1\x84\x80\xe1\x85\xa1", 6); /* U+1100 U+1161 */
    jamo[sizeof jamo - 1] = '\0';
    assert_true(cchc_validate_is_specific(jamo));
    /* 8 of them: 8 characters after NFC, though 16 code points: too short */
    jamo[8 * 6] = '\0';
    assert_false(cchc_validate_is_specific(jamo));
}

static void test_e017_cause_remedy(void **state)
{
    static const char *const bad[] = {"\"-\"", "\"không\"", "\"Đang xử lý\"", "\"Mất điện.\"",
                                      "\"\""};
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        s_run(s_periodic_with(0, "cause", bad[k]), c, &f);
        const cchc_finding_t *x = s_has(&f, "E017", "$.overdue_dossiers[0].cause");
        assert_non_null(strstr(x->msg_vi, "000.26.35.H03-240402-0007"));
        assert_int_equal(f.errors, 1);
    }
    s_run(s_periodic_with(1, "remedy", NULL), c, &f);
    s_has(&f, "E017", "$.overdue_dossiers[1].remedy");
    s_run(s_periodic_with(0, "cause", "\"Thiếu giấy\""), c, &f);
    assert_int_equal(f.n, 0);
    /* NFD in the file: counted in characters after NFC */
    s_run(s_periodic_with(0, "cause", "\"Ma\xcc\x82\xcc\x81t \xc4\x91ie\xcc\x82\xcc\xa3n.\""), c,
          &f);
    s_has(&f, "E017", "$.overdue_dossiers[0].cause");
    s_run(s_periodic_with(0, "cause", "\"Thie\xcc\x82\xcc\x81u gia\xcc\x82\xcc\x81y\""), c, &f);
    assert_int_equal(f.n, 0);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

/* A unit code written decomposed in the metadata and in the key still names the report's unit. */
static void test_nfd_unit(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    const char *nfd = "xa\xcc\x83-va\xcc\x82n-so\xcc\x9bn"; /* "xã-vân-sơn" in NFD */
    cchc_vctx_t *c = s_ctx(nfd, "commune", NULL);
    cchc_vctx_set_key_unit(c, nfd);
    json_t *j = s_fixture("periodic.json");
    json_object_set_new(j, "unit", json_string("xã-vân-sơn"));
    s_run(s_rep(j), c, &f);
    assert_int_equal(f.n, 0);
    j = s_fixture("periodic.json");
    json_object_set_new(j, "unit", json_string("xa-van-son"));
    s_run(s_rep(j), c, &f);
    s_has(&f, "E001", "$.unit");
    s_has(&f, "E002", "$.unit");
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static void test_e018_apology(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    s_run(s_periodic_with(3, "apology", NULL), c, &f);
    s_has(&f, "E018", "$.overdue_dossiers[3].apology");
    assert_int_equal(f.errors, 1);
    s_run(s_periodic_with(3, "apology", "{\"date\": \"2024-06-12\", \"new_due\": \"2024-06-20\"}"),
          c, &f);
    s_has(&f, "E018", "$.overdue_dossiers[3].apology.number");
    assert_int_equal(f.errors, 1);
    cchc_vctx_destroy(&c);
    c = s_ctx("xa-van-son", "commune", "{\"settings\": {\"apology_slip\": \"warning\"}}");
    s_run(s_periodic_with(3, "apology", NULL), c, &f);
    s_has(&f, "W018", "$.overdue_dossiers[3].apology");
    assert_int_equal(f.errors, 0);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static void test_e020_reschedule(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    /* dossier 0: due 2024-04-05, resolved 2024-04-09 */
    s_run(s_periodic_with(0, "apology",
                          "{\"number\": \"01/PXL-UBND\", \"date\": \"2024-04-04\","
                          " \"new_due\": \"2024-04-05\"}"),
          c, &f);
    s_has(&f, "E020", "$.overdue_dossiers[0].apology.new_due");
    s_run(s_periodic_with(0, "apology",
                          "{\"number\": \"01/PXL-UBND\", \"date\": \"2024-04-04\","
                          " \"new_due\": \"2024-04-08\"}"),
          c, &f);
    s_has(&f, "E020", "$.overdue_dossiers[0].resolved");
    assert_int_equal(f.errors, 1);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static void test_e021_dates(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    s_run(s_periodic_with(0, "received", "\"2024-04-06\""), c, &f); /* after due 04-05 */
    s_has(&f, "E021", "$.overdue_dossiers[0].due");
    s_run(s_periodic_with(0, "received", "\"2024-02-30\""), c, &f);
    s_has(&f, "E021", "$.overdue_dossiers[0].received");
    s_run(s_periodic_with(0, "resolved", "\"2024-04-05\""), c, &f); /* not late */
    s_has(&f, "E021", "$.overdue_dossiers[0].resolved");
    /* pending, but not yet due at the cut-off end 2024-06-14 */
    s_run(s_periodic_with(3, "due", "\"2024-06-14\""), c, &f);
    s_has(&f, "E021", "$.overdue_dossiers[3].due");
    /* resolved after the cut-off end: next period's */
    s_run(s_periodic_with(3, "resolved", "\"2024-06-17\""), c, &f);
    s_has(&f, "E021", "$.overdue_dossiers[3].resolved");
    s_run(s_periodic_with(3, "due", NULL), c, &f);
    s_has(&f, "E021", "$.overdue_dossiers[3].due");
    s_run(s_periodic_with(3, "resolved", "\"2024-06-14\""), c, &f);
    assert_int_equal(f.n, 0);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

/* ---- E030, W031 ----------------------------------------------------------------------- */

static void test_e030_narrative(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    json_t *j = s_fixture("periodic.json");
    json_object_del(j, "narrative");
    s_run(s_rep(j), c, &f);
    s_has(&f, "E030", "$.narrative.results");
    s_has(&f, "E030", "$.narrative.shortcomings");
    s_has(&f, "E030", "$.narrative.causes");
    s_has(&f, "E030", "$.narrative.next_tasks");
    assert_int_equal(f.errors, 4);
    j = s_fixture("periodic.json");
    json_t *n = json_object_get(j, "narrative");
    json_object_del(n, "proposals");
    json_object_set_new(n, "causes", json_string("  "));
    s_run(s_rep(j), c, &f);
    s_has(&f, "E030", "$.narrative.causes");
    assert_int_equal(f.errors, 1);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static cchc_report_t *s_doc_with(const char *member, const char *value)
{
    json_t *j = s_fixture("periodic.json");
    json_object_set_new(json_object_get(j, "document"), member, json_string(value));
    return s_rep(j);
}

static void test_w031_document(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    s_run(s_doc_with("number", "52/UBND"), c, &f);
    s_has(&f, "W031", "$.document.number");
    assert_int_equal(f.errors, 0);
    s_run(s_doc_with("number", "52/BC-ĐU"), c, &f);
    assert_int_equal(f.n, 0);
    s_run(s_doc_with("number", "7/BC-UBND.VP"), c, &f);
    assert_int_equal(f.n, 0);
    s_run(s_doc_with("signer", ""), c, &f);
    s_has(&f, "W031", "$.document.signer");
    s_run(s_doc_with("date", "17/06/2024"), c, &f);
    s_has(&f, "E021", "$.document.date");
    json_t *j = s_fixture("periodic.json");
    json_object_del(j, "document");
    s_run(s_rep(j), c, &f);
    s_has(&f, "W031", "$.document");
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

/* ---- E040-W043: remediation ---------------------------------------------------------------- */

static void test_e040_inspection(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-yen-dinh", "commune", NULL);
    json_t *j = s_fixture("remediation.json");
    json_object_set_new(j, "inspection", json_string("KT-2099-01"));
    s_run(s_rep(j), c, &f);
    s_has(&f, "E040", "$.inspection");
    s_hasnt(&f, "E041");
    j = s_fixture("remediation.json");
    json_object_set_new(j, "inspection", json_string("KT-2024-07")); /* Vân Sơn's */
    s_run(s_rep(j), c, &f);
    const cchc_finding_t *x = s_has(&f, "E040", "$.inspection");
    assert_non_null(strstr(x->msg_vi, "đơn vị khác"));
    assert_int_equal(f.errors, 1);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static void test_e041_every_finding_once(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-yen-dinh", "commune", NULL);
    /* finding 4 missing */
    json_t *j = s_fixture("remediation.json");
    json_array_remove(json_object_get(j, "items"), 3);
    s_run(s_rep(j), c, &f);
    const cchc_finding_t *x = s_has(&f, "E041", "$.items");
    assert_non_null(strstr(x->msg_vi, "số 4"));
    assert_non_null(strstr(x->msg_vi, "máy lấy số"));
    assert_int_equal(f.errors, 1);
    /* finding 2 answered twice */
    j = s_fixture("remediation.json");
    json_t *items = json_object_get(j, "items");
    json_array_append_new(items, json_deep_copy(json_array_get(items, 1)));
    s_run(s_rep(j), c, &f);
    s_has(&f, "E041", "$.items[4].finding");
    assert_int_equal(f.errors, 1);
    /* finding 9 does not exist (and finding 1 is then missing) */
    s_run(s_rem_with(0, "finding", "9"), c, &f);
    s_has(&f, "E041", "$.items[0].finding");
    s_has(&f, "E041", "$.items");
    assert_int_equal(f.errors, 2);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static void test_e042_not_remedied(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-yen-dinh", "commune", NULL);
    s_run(s_rem_with(3, "cause", "\"chưa rõ\""), c, &f);
    s_has(&f, "E042", "$.items[3].cause");
    assert_int_equal(f.errors, 1);
    s_run(s_rem_with(2, "plan", NULL), c, &f);
    s_has(&f, "E042", "$.items[2].plan");
    assert_int_equal(f.errors, 1);
    s_run(s_rem_with(2, "expected_by", "\"2024-13-01\""), c, &f);
    s_has(&f, "E042", "$.items[2].expected_by");
    assert_int_equal(f.errors, 1);
    s_run(s_rem_with(3, "expected_by", NULL), c, &f);
    s_has(&f, "E042", "$.items[3].expected_by");
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static void test_w043_remedied(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-yen-dinh", "commune", NULL);
    s_run(s_rem_with(0, "evidence", NULL), c, &f);
    s_has(&f, "W043", "$.items[0].evidence");
    assert_int_equal(f.errors, 0);
    s_run(s_rem_with(1, "actions", "\"\""), c, &f);
    s_has(&f, "W043", "$.items[1].actions");
    assert_int_equal(f.errors, 0);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static void test_e000_status(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-yen-dinh", "commune", NULL);
    s_run(s_rem_with(0, "status", "\"done\""), c, &f);
    s_has(&f, "E000", "$.items[0].status");
    cchc_vctx_destroy(&c);
    c = s_ctx("p-tnmt", "office", NULL);
    json_t *j = s_fixture("task_progress.json");
    json_object_set_new(j, "status", json_string("finished"));
    s_run(s_rep(j), c, &f);
    s_has(&f, "E000", "$.status");
    assert_int_equal(f.errors, 1);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

/* ---- E050, E060 -------------------------------------------------------------------------------
 */

static void test_e050_text(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    cchc_report_t *r = s_rep(s_fixture("periodic.json"));
    Cchc__V1__OverdueDossier *o = r->periodic->overdue_dossiers[1];
    free(o->remedy);
    o->remedy = strdup("Trang b\xe1\xbb mạng dự phòng"); /* truncated sequence */
    free(o->procedure);
    o->procedure = malloc(CCHC_REPORT_MAX_TEXT + 2);
    memset(o->procedure, 'a', CCHC_REPORT_MAX_TEXT + 1);
    o->procedure[CCHC_REPORT_MAX_TEXT + 1] = '\0';
    s_run(r, c, &f);
    s_has(&f, "E050", "$.overdue_dossiers[1].remedy");
    s_has(&f, "E050", "$.overdue_dossiers[1].procedure");
    s_has(&f, "E017", "$.overdue_dossiers[1].remedy");
    cchc_vctx_destroy(&c);

    c = s_ctx("p-tnmt", "office", NULL);
    r = s_rep(s_fixture("task_progress.json"));
    Cchc__V1__TaskProgress *t = r->task_progress;
    size_t n = CCHC_REPORT_MAX_ITEMS + 1;
    t->evidence = realloc(t->evidence, n * sizeof *t->evidence);
    for (size_t i = t->n_evidence; i < n; i++)
        t->evidence[i] = strdup("x");
    t->n_evidence = n;
    s_run(r, c, &f);
    s_has(&f, "E050", "$.evidence");
    assert_int_equal(f.errors, 1);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static void test_e060_task(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("p-tnmt", "office", NULL);
    json_t *j = s_fixture("task_progress.json");
    json_object_set_new(j, "task", json_string("KH87-99"));
    s_run(s_rep(j), c, &f);
    s_has(&f, "E060", "$.task");
    j = s_fixture("task_progress.json");
    json_object_set_new(j, "task", json_string("KH87-09")); /* lead p-nv */
    s_run(s_rep(j), c, &f);
    s_has(&f, "E060", "$.task");
    assert_int_equal(f.errors, 1);
    cchc_vctx_destroy(&c);
    /* a commune supports KH87-07 through "@commune" */
    c = s_ctx("xa-van-son", "commune", NULL);
    j = s_fixture("task_progress.json");
    json_object_set_new(j, "unit", json_string("xa-van-son"));
    s_run(s_rep(j), c, &f);
    assert_int_equal(f.errors, 0);
    cchc_vctx_destroy(&c);
    /* an office does not */
    c = s_ctx("p-tp", "office", NULL);
    j = s_fixture("task_progress.json");
    json_object_set_new(j, "unit", json_string("p-tp"));
    s_run(s_rep(j), c, &f);
    s_has(&f, "E060", "$.task");
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

/* ---- context shape and survival ----------------------------------------------------------------
 */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e016_every_overdue_explained),
        cmocka_unit_test(test_e017_is_specific),
        cmocka_unit_test(test_e017_cause_remedy),
        cmocka_unit_test(test_nfd_unit),
        cmocka_unit_test(test_e018_apology),
        cmocka_unit_test(test_e020_reschedule),
        cmocka_unit_test(test_e021_dates),
        cmocka_unit_test(test_e030_narrative),
        cmocka_unit_test(test_w031_document),
        cmocka_unit_test(test_e040_inspection),
        cmocka_unit_test(test_e041_every_finding_once),
        cmocka_unit_test(test_e042_not_remedied),
        cmocka_unit_test(test_w043_remedied),
        cmocka_unit_test(test_e000_status),
        cmocka_unit_test(test_e050_text),
        cmocka_unit_test(test_e060_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
