/* test_validate.c: the district's rules (DOMAIN.md section 5), each with a passing and a
 * failing case, asserting the exact code and JSON path; and survival of any report against
 * any context. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "validate_support.h"

static void test_fixtures_pass(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    cchc_vctx_set_key_unit(c, "xa-van-son");
    s_run(s_rep(s_fixture("periodic.json")), c, &f);
    if (f.n)
        s_dump(&f);
    assert_int_equal(f.n, 0);
    cchc_vctx_destroy(&c);
    assert_null(c);

    c = s_ctx("xa-yen-dinh", "commune", NULL);
    s_run(s_rep(s_fixture("remediation.json")), c, &f);
    if (f.n)
        s_dump(&f);
    assert_int_equal(f.n, 0);
    cchc_vctx_destroy(&c);

    c = s_ctx("p-tnmt", "office", NULL);
    s_run(s_rep(s_fixture("task_progress.json")), c, &f);
    if (f.n)
        s_dump(&f);
    assert_int_equal(f.n, 0);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

/* ---- E001-E007 ------------------------------------------------------------------------ */

static void test_e001_key_unit(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    cchc_vctx_set_key_unit(c, "xa-yen-dinh");
    s_run(s_rep(s_fixture("periodic.json")), c, &f);
    s_has(&f, "E001", "$.unit");
    assert_int_equal(f.errors, 1);
    cchc_vctx_set_key_unit(c, "xa-van-son");
    s_run(s_rep(s_fixture("periodic.json")), c, &f);
    assert_int_equal(f.errors, 0);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

/* A successor's context (DOMAIN.md section 1): 07621 answers for xa-van-son,
 * here closed on 2024-06-30 with its 2024S1 report open; today 2024-10-01. */
static const char s_heir_ctx[] =
    "{\"unit\": {\"code\": \"07621\", \"kind\": \"commune\", \"valid_from\": \"2024-07-01\"},"
    " \"predecessors\": [{\"unit\": {\"code\": \"xa-van-son\", \"kind\": \"commune\","
    "  \"name\": \"Xã Vân Sơn\", \"valid_from\": \"2020-01-01\", \"valid_to\": \"2024-06-30\"},"
    "  \"successor\": \"07621\","
    "  \"obligations\": [{\"type\": \"CCHC_DK\", \"period\": \"2024S1\", \"subject\": \"\","
    "                   \"due\": \"2024-06-18\", \"grace_days\": 0}],"
    "  \"inspections\": [], \"tasks\": [], \"revisions\": []}]}";

static void test_e001_predecessor(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    char err[256] = "";
    cchc_vctx_t *heir = s_ctx(NULL, NULL, s_heir_ctx);
    cchc_vctx_set_key_unit(heir, "07621");
    assert_true(cchc_vctx_answers_for(heir, "xa-van-son"));
    assert_false(cchc_vctx_answers_for(heir, "xa-an-ba"));
    assert_null(cchc_vctx_for_predecessor(heir, "xa-an-ba"));
    /* In its own context, 07621 may not send xa-van-son's report. */
    s_run(s_rep(s_fixture("periodic.json")), heir, &f);
    s_has(&f, "E001", "$.unit");
    /* In the predecessor's: the obligation it left open, after its closure. */
    cchc_vctx_t *c = cchc_vctx_for_predecessor(heir, "xa-van-son");
    assert_non_null(c);
    s_run(s_rep(s_fixture("periodic.json")), c, &f);
    s_hasnt(&f, "E001");
    s_hasnt(&f, "E002");
    s_hasnt(&f, "E003");
    assert_int_equal(f.errors, 0);
    /* Not an obligation it left open (2024Q1). */
    json_t *j = s_fixture("periodic.json");
    json_object_set_new(j, "period", json_string("2024Q1"));
    s_run(s_rep(j), c, &f);
    assert_non_null(strstr(s_has(&f, "E001", "$.unit")->msg_en, "only the reports it still owed"));
    /* Before its closure it sends its own. */
    cchc_vctx_set_today(c, cchc_day_from_ymd(2024, 6, 20));
    s_run(s_rep(s_fixture("periodic.json")), c, &f);
    assert_non_null(
        strstr(s_has(&f, "E001", "$.unit")->msg_en, "is open until the end of 2024-06-30"));
    cchc_vctx_set_today(c, cchc_day_from_ymd(2024, 10, 1));
    /* Another key than the heir's. */
    cchc_vctx_set_key_unit(c, "xa-an-ba");
    s_run(s_rep(s_fixture("periodic.json")), c, &f);
    s_has(&f, "E001", "$.unit");
    cchc_vctx_set_key_unit(c, "07621");
    /* The report's overlay on it: a revision stored since (E007), no leak. */
    json_t *extra = json_loads("{\"revisions\": [{\"type\": \"CCHC_DK\", \"period\": "
                               "\"2024S1\", \"subject\": \"\", \"revision\": 1}]}",
                               0, NULL);
    cchc_vctx_t *o = cchc_vctx_for_report(c, extra, err, sizeof err);
    assert_non_null(o);
    s_run(s_rep(s_fixture("periodic.json")), o, &f);
    s_has(&f, "E007", "$.revision");
    s_hasnt(&f, "E001");
    cchc_vctx_destroy(&o);
    json_decref(extra);
    cchc_vctx_destroy(&c);
    cchc_vctx_destroy(&heir);
    /* A predecessor entry of the wrong shape is refused, named. */
    json_t *bad = json_loads("{\"predecessors\": [{\"unit\": 5}]}", 0, NULL);
    assert_null(cchc_vctx_new(bad, err, sizeof err));
    assert_non_null(strstr(err, "predecessors[0]"));
    json_decref(bad);
    cchc_findings_clear(&f);
}

static void test_e002_unit(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    /* an agent that never synced: an empty document says nothing about units */
    json_t *empty = json_object();
    char err[128];
    cchc_vctx_t *none = cchc_vctx_new(empty, err, sizeof err);
    json_decref(empty);
    s_run(s_rep(s_fixture("periodic.json")), none, &f);
    assert_int_equal(f.errors, 0);
    cchc_vctx_destroy(&none);
    cchc_vctx_t *c = s_ctx("xa-yen-dinh", "commune", NULL); /* another unit's metadata */
    s_run(s_rep(s_fixture("periodic.json")), c, &f);
    s_has(&f, "E002", "$.unit");
    /* both messages name the unit (the English one once read an unfilled buffer) */
    for (size_t i = 0; i < f.n; i++) {
        if (strcmp(f.v[i].code, "E002") == 0) {
            assert_non_null(strstr(f.v[i].msg_vi, "\"xa-van-son\""));
            assert_non_null(strstr(f.v[i].msg_en, "\"xa-van-son\""));
        }
    }
    cchc_vctx_destroy(&c);
    c = s_ctx(NULL, NULL, "{\"unit\": null}");
    s_run(s_rep(s_fixture("periodic.json")), c, &f);
    s_has(&f, "E002", "$.unit");
    cchc_vctx_destroy(&c);
    /* closed before the S1 cut-off end (2024-06-14) */
    c = s_ctx(NULL, NULL,
              "{\"unit\": {\"code\": \"xa-van-son\", \"kind\": \"commune\","
              " \"valid_from\": \"2020-01-01\", \"valid_to\": \"2024-03-31\"}}");
    s_run(s_rep(s_fixture("periodic.json")), c, &f);
    s_has(&f, "E002", "$.unit");
    assert_int_equal(f.errors, 1);
    cchc_vctx_destroy(&c);
    /* open on the cut-off end, even if closed by "today" */
    c = s_ctx(NULL, NULL,
              "{\"unit\": {\"code\": \"xa-van-son\", \"kind\": \"commune\","
              " \"valid_from\": \"2020-01-01\", \"valid_to\": \"2024-06-30\"}}");
    s_run(s_rep(s_fixture("periodic.json")), c, &f);
    assert_int_equal(f.errors, 0);
    cchc_vctx_destroy(&c);
    /* a remediation report is judged on the unit as it was at the inspection's
     * conclusion: closed since 2025-06-30, it may still answer a 2024 inspection */
    c = s_ctx("xa-yen-dinh", "commune", NULL);
    cchc_vctx_set_today(c, cchc_day_from_ymd(2026, 11, 25));
    s_run(s_rep(s_fixture("remediation.json")), c, &f);
    for (size_t i = 0; i < f.n; i++)
        assert_string_not_equal(f.v[i].code, "E002");
    cchc_vctx_destroy(&c);
    /* no period: today (2024-10-01) decides */
    c = s_ctx(NULL, NULL,
              "{\"unit\": {\"code\": \"p-tnmt\", \"kind\": \"office\","
              " \"valid_from\": \"2020-01-01\", \"valid_to\": \"2024-09-30\"}}");
    s_run(s_rep(s_fixture("task_progress.json")), c, &f);
    s_has(&f, "E002", "$.unit");
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static void test_e003_type(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    json_t *j = s_fixture("periodic.json");
    json_object_set_new(j, "type", json_string("CCHC_XX"));
    s_run(s_rep(j), c, &f);
    s_has(&f, "E003", "$.type");
    j = s_fixture("periodic.json");
    json_object_set_new(j, "type", json_string("KHAC_PHUC")); /* remediation type */
    s_run(s_rep(j), c, &f);
    s_has(&f, "E003", "$.type");
    cchc_vctx_destroy(&c);
    c = s_ctx("xa-van-son", "commune",
              "{\"types\": [{\"code\": \"CCHC_DK\", \"content_kind\": \"periodic\","
              " \"periods\": [\"S1\"], \"cutoff_rule\": \"dec09\", \"assigned\": false}]}");
    s_run(s_rep(s_fixture("periodic.json")), c, &f);
    s_has(&f, "E003", "$.type");
    assert_int_equal(f.errors, 1);
    cchc_vctx_destroy(&c);
    /* not synced yet: no types, no E003-E006 */
    c = s_ctx("xa-van-son", "commune", "{\"types\": []}");
    j = s_fixture("periodic.json");
    json_object_set_new(j, "type", json_string("CCHC_XX"));
    s_run(s_rep(j), c, &f);
    assert_int_equal(f.errors, 0);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static void test_e004_period(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    json_t *j = s_fixture("periodic.json");
    json_object_set_new(j, "period", json_string("2024Q2")); /* not one of the type's */
    s_run(s_rep(j), c, &f);
    s_has(&f, "E004", "$.period");
    j = s_fixture("periodic.json");
    json_object_set_new(j, "period", json_string("2024H1"));
    s_run(s_rep(j), c, &f);
    s_has(&f, "E004", "$.period");
    j = s_fixture("periodic.json");
    json_object_set_new(j, "period", json_string("2024Q3"));
    s_run(s_rep(j), c, &f);
    s_hasnt(&f, "E004");
    cchc_vctx_destroy(&c);
    c = s_ctx("p-tnmt", "office", NULL);
    j = s_fixture("task_progress.json");
    json_object_set_new(j, "period", json_string("2024Q3"));
    s_run(s_rep(j), c, &f);
    s_has(&f, "E004", "$.period");
    cchc_vctx_destroy(&c);

    /* Before the first sync (no types) the period id's syntax still counts,
     * and a report of another kind still has no period; only "one of the
     * type's periods" needs the district's data. */
    json_t *empty = json_object();
    c = cchc_vctx_new(empty, NULL, 0);
    json_decref(empty);
    assert_non_null(c);
    j = s_fixture("periodic.json");
    json_object_set_new(j, "period", json_string("2024Q5"));
    s_run(s_rep(j), c, &f);
    s_has(&f, "E004", "$.period");
    assert_int_equal(f.errors, 1);
    j = s_fixture("periodic.json");
    json_object_set_new(j, "period", json_string("2024Q2")); /* well formed: the server decides */
    s_run(s_rep(j), c, &f);
    assert_int_equal(f.errors, 0);
    j = s_fixture("remediation.json");
    json_object_set_new(j, "period", json_string("2024S1"));
    s_run(s_rep(j), c, &f);
    s_has(&f, "E004", "$.period");
    assert_int_equal(f.errors, 1);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static void test_e005_started(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    cchc_report_t *r = s_rep(s_fixture("periodic.json")); /* S1: cut-off from 2023-12-15 */
    cchc_vctx_set_today(c, cchc_day_from_ymd(2023, 12, 14));
    cchc_findings_clear(&f);
    cchc_validate(r, c, &f);
    s_has(&f, "E005", "$.period");
    cchc_vctx_set_today(c, cchc_day_from_ymd(2023, 12, 15));
    s_run(r, c, &f);
    s_hasnt(&f, "E005");
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static void test_e006_e007_revisions(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
#define S_REV1(locked)                                                                             \
    "{\"revisions\": [{\"type\": \"CCHC_DK\", \"period\": \"2024S1\", \"subject\": \"\","          \
    " \"revision\": 1, \"locked\": " locked ", \"first_received\": \"2024-06-17\"}]}"
    const char *buf = S_REV1("true");
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", buf);
    json_t *j = s_fixture("periodic.json");
    json_object_set_new(j, "revision", json_integer(2));
    s_run(s_rep(j), c, &f);
    s_has(&f, "E006", "$.period");
    s_hasnt(&f, "E007");
    cchc_vctx_destroy(&c);

    /* due 2024-06-18 (2 working days after 2024-06-14) + 30 days = 2024-07-18 */
    buf = S_REV1("false");
    c = s_ctx("xa-van-son", "commune", buf);
    j = s_fixture("periodic.json");
    json_object_set_new(j, "revision", json_integer(2));
    cchc_report_t *r = s_rep(j);
    cchc_findings_clear(&f);
    cchc_validate(r, c, &f);
    s_has(&f, "E006", "$.period");
    cchc_vctx_set_today(c, cchc_day_from_ymd(2024, 7, 18));
    cchc_findings_clear(&f);
    cchc_validate(r, c, &f);
    assert_int_equal(f.errors, 0);
    r->revision = 1; /* not newer than the stored one */
    cchc_findings_clear(&f);
    cchc_validate(r, c, &f);
    s_has(&f, "E007", "$.revision");
    assert_int_equal(f.errors, 1);
    r->revision = 0;
    s_run(r, c, &f);
    s_has(&f, "E007", "$.revision");
    cchc_vctx_destroy(&c);

    /* a task's revision is per task (subject) */
    c = s_ctx("p-tnmt", "office",
              "{\"revisions\": [{\"type\": \"NV_KH\", \"period\": \"\", \"subject\": \"KH87-07\","
              " \"revision\": 3}]}");
    s_run(s_rep(s_fixture("task_progress.json")), c, &f);
    s_has(&f, "E007", "$.revision");
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

/* E006 and a reopening (cchc period reopen): "reopened_until" on the stored
 * revision lets a revision through, past the lock and the expiry alike,
 * until that day inclusive. 2024S1 is due 2024-06-18; with expiry_days 30 its
 * revisions end on 2024-07-18. */
static cchc_findings_t s_rev2_findings(const char *locked, const char *reopened_until,
                                       cchc_day_t today)
{
    char doc[512];
    snprintf(doc, sizeof doc,
             "{\"revisions\": [{\"type\": \"CCHC_DK\", \"period\": \"2024S1\", \"subject\": \"\","
             " \"revision\": 1, \"locked\": %s, \"first_received\": \"2024-06-17\"%s%s%s}]}",
             locked, reopened_until ? ", \"reopened_until\": \"" : "",
             reopened_until ? reopened_until : "", reopened_until ? "\"" : "");
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", doc);
    cchc_vctx_set_today(c, today);
    json_t *j = s_fixture("periodic.json");
    json_object_set_new(j, "revision", json_integer(2));
    s_run(s_rep(j), c, &f);
    cchc_vctx_destroy(&c);
    return f;
}

static void test_e006_reopened(void **state)
{
    cchc_day_t jul1 = cchc_day_from_ymd(2024, 7, 1), oct1 = cchc_day_from_ymd(2024, 10, 1);

    /* locked (not yet expired): E006 */
    cchc_findings_t f = s_rev2_findings("true", NULL, jul1);
    s_has(&f, "E006", "$.period");
    cchc_findings_clear(&f);

    /* locked and reopened until today: let through, nothing else wrong */
    f = s_rev2_findings("true", "2024-07-01", jul1);
    s_hasnt(&f, "E006");
    assert_int_equal(f.errors, 0);
    cchc_findings_clear(&f);

    /* locked, the reopening ended yesterday: E006, naming that day */
    f = s_rev2_findings("true", "2024-06-30", jul1);
    const cchc_finding_t *x = s_has(&f, "E006", "$.period");
    assert_non_null(strstr(x->msg_vi, "2024-06-30"));
    assert_non_null(strstr(x->msg_en, "2024-06-30"));
    cchc_findings_clear(&f);

    /* expired (not locked): E006; reopened past today: let through */
    f = s_rev2_findings("false", NULL, oct1);
    s_has(&f, "E006", "$.period");
    cchc_findings_clear(&f);
    f = s_rev2_findings("false", "2024-10-15", oct1);
    s_hasnt(&f, "E006");
    assert_int_equal(f.errors, 0);
    cchc_findings_clear(&f);
    f = s_rev2_findings("false", "2024-09-30", oct1);
    s_has(&f, "E006", "$.period");
    cchc_findings_clear(&f);

    /* locked, expired and reopened: both are lifted */
    f = s_rev2_findings("true", "2024-10-01", oct1);
    s_hasnt(&f, "E006");
    cchc_findings_clear(&f);

    /* without a today the reopening cannot be judged: the lock stands */
    f = s_rev2_findings("true", "2024-10-01", CCHC_DAY_NONE);
    s_has(&f, "E006", "$.period");
    cchc_findings_clear(&f);
}

/* ---- E010-E016: counts ------------------------------------------------------------------ */

static void test_e010_counts(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    cchc_report_t *r = s_rep(s_fixture("periodic.json"));
    r->periodic->dossiers[1]->carried_over = -5; /* only a wire report can carry this */
    r->periodic->communication[0]->count = 100000001;
    s_run(r, c, &f);
    s_has(&f, "E010", "$.dossiers[1].carried_over");
    s_has(&f, "E010", "$.communication[0].count");
    s_hasnt(&f, "W014"); /* no sums over bad counts */
    cchc_vctx_destroy(&c);

    c = s_ctx("p-tnmt", "office", NULL);
    json_t *j = s_fixture("task_progress.json");
    json_object_set_new(j, "percent", json_integer(101));
    s_run(s_rep(j), c, &f);
    s_has(&f, "E010", "$.percent");
    j = s_fixture("task_progress.json");
    json_object_set_new(j, "percent", json_integer(100));
    s_run(s_rep(j), c, &f);
    assert_int_equal(f.errors, 0);
    cchc_vctx_destroy(&c);

    c = s_ctx("xa-yen-dinh", "commune", NULL);
    s_run(s_rem_with(0, "finding", "0"), c, &f);
    s_has(&f, "E010", "$.items[0].finding");
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static cchc_report_t *s_row_with(const char *member, json_int_t value)
{
    json_t *root = s_fixture("periodic.json");
    json_t *row = json_array_get(json_object_get(root, "dossiers"), 0);
    json_object_set_new(row, member, json_integer(value));
    return s_rep(root);
}

static void test_e011_e013_totals(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    s_run(s_row_with("received", 82), c, &f);
    assert_int_equal(f.n, 0);
    s_run(s_row_with("received", 81), c, &f);
    s_has(&f, "E011", "$.dossiers[0].received");
    s_run(s_row_with("resolved", 75), c, &f);
    assert_int_equal(f.n, 0);
    s_run(s_row_with("resolved", 70), c, &f);
    s_has(&f, "E012", "$.dossiers[0].resolved");
    s_run(s_row_with("pending", 7), c, &f);
    assert_int_equal(f.n, 0);
    s_run(s_row_with("pending", 8), c, &f);
    s_has(&f, "E013", "$.dossiers[0].pending");
    assert_int_equal(f.errors, 1);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

static void test_w014_w015(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *c = s_ctx("xa-van-son", "commune", NULL);
    s_run(s_row_with("pending_in_time", 5), c, &f); /* 82 != 75 + 6 */
    s_has(&f, "W014", "$.dossiers[0]");
    assert_int_equal(f.errors, 0);
    json_t *root = s_fixture("periodic.json");
    json_t *row = json_array_get(json_object_get(root, "dossiers"), 0);
    json_object_set_new(row, "pending_in_time", json_integer(5));
    json_object_set_new(row, "comment", json_string("01 hồ sơ chuyển cơ quan khác giải quyết"));
    s_run(s_rep(root), c, &f);
    s_hasnt(&f, "W014");
    cchc_vctx_destroy(&c);

    c = s_ctx("xa-van-son", "commune",
              "{\"previous\": {\"type\": \"CCHC_DK\", \"period\": \"2024Q1\","
              " \"pending\": {\"HO_TICH\": 4, \"CHUNG_THUC\": 0}}}");
    s_run(s_rep(s_fixture("periodic.json")), c, &f);
    assert_int_equal(f.n, 0);
    cchc_vctx_destroy(&c);
    c = s_ctx("xa-van-son", "commune",
              "{\"previous\": {\"type\": \"CCHC_DK\", \"period\": \"2024Q1\","
              " \"pending\": {\"HO_TICH\": 5}}}");
    s_run(s_rep(s_fixture("periodic.json")), c, &f);
    s_has(&f, "W015", "$.dossiers[0].carried_over");
    assert_int_equal(f.errors, 0);
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
}

/* DOMAIN.md: Vân Sơn, Hộ tịch needs exactly 4 overdue entries; with 3 it is refused. */
static void test_context_shape(void **state)
{
    static const struct {
        const char *doc, *err;
    } cases[] = {
        {"{\"types\": [{\"code\": \"A\"}, {\"code\": \"B\"}, {\"code\": \"C\", \"periods\": 3}]}",
         "types[2].periods: expected an array of strings"},
        {"{\"types\": {}}", "types: expected an array of objects"},
        {"{\"calendar\": [{\"date\": \"2024-02-30\", \"kind\": \"holiday\"}]}",
         "calendar[0].date: expected a date YYYY-MM-DD"},
        {"{\"unit\": 5}", "unit: expected an object or null"},
        {"{\"inspections\": [{\"code\": \"K\", \"findings\": [{\"no\": \"1\"}]}]}",
         "inspections[0].findings[0].no: expected an integer"},
        {"{\"settings\": {\"apology_slip\": \"maybe\"}}", "settings.apology_slip"},
        {"{\"revisions\": [{\"type\": \"CCHC_DK\", \"reopened_until\": \"2024-13-01\"}]}",
         "revisions[0].reopened_until: expected a date YYYY-MM-DD"},
        {"[]", "document: expected an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *doc = json_loads(cases[i].doc, JSON_DECODE_ANY, NULL);
        char err[256] = "";
        assert_non_null(doc);
        cchc_vctx_t *c = cchc_vctx_new(doc, err, sizeof err);
        json_decref(doc);
        assert_null(c);
        if (!strstr(err, cases[i].err))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].err);
    }
    json_t *doc = json_loads(s_base_ctx, 0, NULL);
    cchc_vctx_t *c = cchc_vctx_new(doc, NULL, 0);
    json_decref(doc);
    assert_non_null(c);
    /* the calendar of the document: 2024-05-04 is a worked Saturday */
    assert_true(cchc_calendar_is_working(cchc_vctx_calendar(c), cchc_day_from_ymd(2024, 5, 4)));
    cchc_vctx_destroy(&c);
    cchc_vctx_destroy(&c); /* accepts NULL */
}

/* cchc_vctx_for_report: the server keeps a unit's context and adds what one
 * report needs, read fresh: the stored revision of its key replaces the
 * unit's (none known: E007 from the overlay's), and an inspection named by the
 * report replaces the unit's of the same code (a finding added since). The
 * base is untouched and outlives the overlay. */
static void test_overlay(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_vctx_t *base = s_ctx("xa-van-son", "commune", "{}");
    json_t *extra = json_loads("{\"revisions\": [{\"type\": \"CCHC_DK\", \"period\": "
                               "\"2024S1\", \"subject\": \"\", \"revision\": 4}]}",
                               0, NULL);
    char err[200];
    cchc_vctx_t *c = cchc_vctx_for_report(base, extra, err, sizeof err);
    assert_non_null(c);
    json_t *j = s_fixture("periodic.json");
    json_object_set_new(j, "revision", json_integer(3));
    cchc_report_t *r = s_rep(j);
    cchc_validate(r, c, &f);
    s_has(&f, "E007", "$.revision");
    cchc_findings_clear(&f);
    cchc_validate(r, base, &f); /* the base knows no stored revision */
    s_hasnt(&f, "E007");
    cchc_findings_clear(&f);
    cchc_vctx_destroy(&c);
    json_decref(extra);
    cchc_report_free(&r);

    /* KT-2024-05 with a fifth finding: the remediation fixture answers four. */
    cchc_vctx_t *yd = s_ctx("xa-yen-dinh", "commune", "{}");
    j = s_fixture("remediation.json");
    r = s_rep(j);
    cchc_validate(r, yd, &f);
    assert_int_equal(f.errors, 0);
    cchc_findings_clear(&f);
    extra = json_loads("{\"inspections\": [{\"code\": \"KT-2024-05\", \"unit\": "
                       "\"xa-yen-dinh\", \"date\": \"2024-05-10\", \"due\": \"2024-06-05\","
                       " \"findings\": [{\"no\": 1, \"text\": \"a\"}, {\"no\": 2, \"text\": "
                       "\"b\"}, {\"no\": 3, \"text\": \"c\"}, {\"no\": 4, \"text\": \"d\"}, "
                       "{\"no\": 5, \"text\": \"e\"}]}]}",
                       0, NULL);
    c = cchc_vctx_for_report(yd, extra, err, sizeof err);
    assert_non_null(c);
    cchc_validate(r, c, &f);
    s_has(&f, "E041", "$.items");
    cchc_vctx_destroy(&c);
    cchc_findings_clear(&f);
    /* A bad extra is refused, and nothing leaks. */
    json_decref(extra);
    extra = json_loads("{\"revisions\": [{\"type\": 7}]}", 0, NULL);
    assert_null(cchc_vctx_for_report(yd, extra, err, sizeof err));
    json_decref(extra);
    cchc_report_free(&r);
    cchc_vctx_destroy(&yd);
    cchc_vctx_destroy(&base);
}

/* Tasks are found by code among thousands (a binary search of the NFC
 * code), the first of equal codes winning, a decomposed code finding its
 * composed task; an overlay's own task shadows the base's of that code, and
 * the base's others are still found through it. */
static void s_task_e060(const cchc_vctx_t *c, const char *task, int want)
{
    json_t *j = s_fixture("task_progress.json");
    json_object_set_new(j, "unit", json_string("xa-van-son"));
    json_object_set_new(j, "task", json_string(task));
    cchc_report_t *r = s_rep(j);
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_validate(r, c, &f);
    if ((s_find(&f, "E060", "$.task") != NULL) != want) {
        s_dump(&f);
        fail_msg("task %s: E060 %s", task, want ? "expected" : "not expected");
    }
    cchc_findings_clear(&f);
    cchc_report_free(&r);
}

static void test_task_lookup(void **state)
{
    (void)state;
    json_t *tasks = json_array();
    for (int i = 1; i <= 3000; i++) {
        char code[16];
        snprintf(code, sizeof code, "T-%04d", i);
        json_array_append_new(tasks, json_pack("{s:s, s:[s], s:[], s:s}", "code", code, "lead",
                                               "xa-van-son", "support", "due", "2024-12-14"));
    }
    /* T-0007 again, not the unit's: the first one counts. */
    json_array_append_new(tasks, json_pack("{s:s, s:[s], s:[], s:s}", "code", "T-0007", "lead",
                                           "p-nv", "support", "due", "2024-12-14"));
    /* "NV-Đổi-mới" composed (NFC). */
    json_array_append_new(tasks, json_pack("{s:s, s:[s], s:[], s:s}", "code",
                                           "NV-\xc4\x90\xe1\xbb\x95i-m\xe1\xbb\x9bi", "lead",
                                           "xa-van-son", "support", "due", "2024-12-14"));
    json_t *doc = json_pack("{s:o}", "tasks", tasks);
    char *text = json_dumps(doc, 0);
    cchc_vctx_t *base = s_ctx("xa-van-son", "commune", text);
    free(text);
    json_decref(doc);
    s_task_e060(base, "T-0001", 0);
    s_task_e060(base, "T-2999", 0);
    s_task_e060(base, "T-3000", 0);
    s_task_e060(base, "T-0007", 0);
    s_task_e060(base, "T-3001", 1);
    s_task_e060(base, "T-", 1);
    s_task_e060(base, "KH87-07", 1); /* the base document's tasks were replaced */
    /* decomposed: D-stroke, o + circumflex + hook above, o + horn + acute */
    s_task_e060(base, "NV-\xc4\x90o\xcc\x82\xcc\x89i-mo\xcc\x9b\xcc\x81i", 0);
    s_task_e060(base, "NV-\xc4\x90o\xcc\x82\xcc\x89i-mo\xcc\x9b", 1);

    json_t *extra = json_loads("{\"tasks\": [{\"code\": \"T-2999\", \"lead\": [\"p-nv\"], "
                               "\"support\": [], \"due\": \"2024-12-14\"}]}",
                               0, NULL);
    char err[200];
    cchc_vctx_t *c = cchc_vctx_for_report(base, extra, err, sizeof err);
    assert_non_null(c);
    s_task_e060(c, "T-2999", 1); /* its own: not the unit's */
    s_task_e060(c, "T-0005", 0); /* the base's */
    s_task_e060(c, "T-3001", 1);
    s_task_e060(base, "T-2999", 0); /* the base unchanged */
    cchc_vctx_destroy(&c);
    json_decref(extra);
    cchc_vctx_destroy(&base);
}

/* Malformed reports and degenerate contexts: no crash, and each broken
 * report is refused with the error that names what is wrong, whatever the
 * context (empty, a unit's, none at all). */
static void s_expect(const cchc_report_t *r, const cchc_vctx_t *c, const char *code,
                     const char *path)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_validate(r, c, &f);
    assert_true(f.errors >= 1);
    s_has(&f, code, path);
    cchc_findings_clear(&f);
}

static void test_survives_anything(void **state)
{
    (void)state;
    /* offline: the rule needs no district data, so it fires with an empty
     * context and with none as well */
    static const struct {
        const char *text, *code, *path;
        int offline;
    } reports[] = {
        /* a periodic report without its period */
        {"{\"type\": \"CCHC_DK\", \"unit\": \"x\", \"period\": \"\"}", "E004", "$.period", 1},
        /* an overdue dossier with no cause nor remedy */
        {"{\"type\": \"CCHC_DK\", \"unit\": \"x\", \"period\": \"2024S1\", \"dossiers\": [],"
         " \"overdue_dossiers\": [{\"code\": \"A\", \"field\": \"F\"}]}",
         "E017", "$.overdue_dossiers[0].cause", 1},
        /* a remediation report for an inspection the district does not have */
        {"{\"type\": \"KHAC_PHUC\", \"unit\": \"x\", \"inspection\": \"K\", \"items\": []}", "E040",
         NULL, 0},
        /* task progress with a status that is none of the statuses */
        {"{\"type\": \"NV_KH\", \"unit\": \"x\", \"task\": \"T\", \"status\": \"s\"}", "E000",
         "$.status", 1},
    };
    json_t *empty = json_object();
    cchc_vctx_t *c0 = cchc_vctx_new(empty, NULL, 0);
    json_decref(empty);
    assert_non_null(c0);
    cchc_vctx_t *c1 = s_ctx("x", "commune", NULL);
    for (size_t i = 0; i < sizeof reports / sizeof *reports; i++) {
        cchc_report_t *r = s_rep_text(reports[i].text);
        s_expect(r, c1, reports[i].code, reports[i].path);
        for (int k = 0; k < 2; k++) {
            cchc_findings_t f = CCHC_FINDINGS_INIT;
            cchc_validate(r, k ? NULL : c0, &f);
            if (reports[i].offline)
                s_has(&f, reports[i].code, reports[i].path);
            else
                s_hasnt(&f, reports[i].code);
            cchc_findings_clear(&f);
        }
        cchc_report_free(&r);
    }
    /* a hand-made report: NULL strings, NULL sub-messages and entries */
    Cchc__V1__Report r;
    Cchc__V1__Periodic p;
    Cchc__V1__DossierRow *rows[1] = {NULL};
    Cchc__V1__OverdueDossier od, *ods[2] = {&od, NULL};
    cchc__v1__report__init(&r);
    cchc__v1__periodic__init(&p);
    cchc__v1__overdue_dossier__init(&od);
    r.type = r.unit = r.period = NULL;
    od.code = od.field = od.cause = od.remedy = od.due = od.received = od.resolved = NULL;
    p.dossiers = rows;
    p.n_dossiers = 1;
    p.overdue_dossiers = ods;
    p.n_overdue_dossiers = 2;
    r.content_case = CCHC__V1__REPORT__CONTENT_PERIODIC;
    r.periodic = &p;
    s_expect(&r, c0, "E004", "$.period");
    s_expect(&r, NULL, "E004", "$.period");
    s_expect(&r, c1, "E003", "$.type");
    s_expect(&r, c1, "E017", "$.overdue_dossiers[0].cause");
    s_expect(&r, NULL, "E017", "$.overdue_dossiers[0].remedy");
    r.periodic = NULL; /* content case without content */
    s_expect(&r, c1, "E000", "$");
    r.content_case = CCHC__V1__REPORT__CONTENT_REMEDIATION;
    s_expect(&r, c1, "E000", "$");
    cchc_vctx_destroy(&c0);
    cchc_vctx_destroy(&c1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_pass),    cmocka_unit_test(test_e001_key_unit),
        cmocka_unit_test(test_e001_predecessor), cmocka_unit_test(test_e002_unit),
        cmocka_unit_test(test_e003_type),        cmocka_unit_test(test_e004_period),
        cmocka_unit_test(test_e005_started),     cmocka_unit_test(test_e006_e007_revisions),
        cmocka_unit_test(test_e006_reopened),    cmocka_unit_test(test_e010_counts),
        cmocka_unit_test(test_e011_e013_totals), cmocka_unit_test(test_w014_w015),
        cmocka_unit_test(test_context_shape),    cmocka_unit_test(test_survives_anything),
        cmocka_unit_test(test_overlay),          cmocka_unit_test(test_task_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
