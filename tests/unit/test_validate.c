/* test_validate.c: the district's rules (DOMAIN.md section 5), each with a passing and a
 * failing case, asserting the exact code and JSON path; and survival of any report against
 * any context. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cchc_err.h"
#include "cchc_validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The metadata an agent of Sơn Động would hold in October 2024 (types as in
 * deploy/data/report-types.csv, the 2024 calendar of deploy/data/holidays.csv). */
static const char s_base_ctx[] =
    "{\"types\": ["
    " {\"code\": \"CCHC_DK\", \"name_vi\": \"Báo cáo định kỳ công tác cải cách hành chính\","
    "  \"content_kind\": \"periodic\", \"periods\": [\"Q1\", \"S1\", \"Q3\", \"Y\"],"
    "  \"cutoff_rule\": \"dec09\", \"due_rule\": \"wd_after_cutoff:2\", \"grace_days\": 0,"
    "  \"expiry_days\": 30, \"timeliness_basis\": \"received\", \"assigned\": true},"
    " {\"code\": \"KHAC_PHUC\", \"name_vi\": \"Báo cáo kết quả khắc phục sau kiểm tra\","
    "  \"content_kind\": \"remediation\", \"periods\": [], \"cutoff_rule\": \"none\","
    "  \"due_rule\": \"wd_after_event:15\", \"grace_days\": 0, \"expiry_days\": 0,"
    "  \"timeliness_basis\": \"received\", \"assigned\": true},"
    " {\"code\": \"NV_KH\", \"name_vi\": \"Báo cáo tiến độ thực hiện nhiệm vụ\","
    "  \"content_kind\": \"task_progress\", \"periods\": [], \"cutoff_rule\": \"none\","
    "  \"due_rule\": \"fixed\", \"grace_days\": 0, \"expiry_days\": 0,"
    "  \"timeliness_basis\": \"received\", \"assigned\": true}],"
    " \"calendar\": ["
    "  {\"date\": \"2024-01-01\", \"kind\": \"holiday\", \"note\": \"Tết Dương lịch\"},"
    "  {\"date\": \"2024-02-08\", \"kind\": \"holiday\"},"
    "  {\"date\": \"2024-02-09\", \"kind\": \"holiday\"},"
    "  {\"date\": \"2024-02-12\", \"kind\": \"holiday\"},"
    "  {\"date\": \"2024-02-13\", \"kind\": \"holiday\"},"
    "  {\"date\": \"2024-02-14\", \"kind\": \"holiday\"},"
    "  {\"date\": \"2024-04-18\", \"kind\": \"holiday\"},"
    "  {\"date\": \"2024-04-29\", \"kind\": \"swap_off\"},"
    "  {\"date\": \"2024-04-30\", \"kind\": \"holiday\"},"
    "  {\"date\": \"2024-05-01\", \"kind\": \"holiday\"},"
    "  {\"date\": \"2024-05-04\", \"kind\": \"swap_work\"},"
    "  {\"date\": \"2024-09-02\", \"kind\": \"holiday\"},"
    "  {\"date\": \"2024-09-03\", \"kind\": \"holiday\"}],"
    " \"inspections\": [{\"code\": \"KT-2024-05\", \"unit\": \"xa-yen-dinh\","
    "  \"team\": \"Đoàn kiểm tra CCHC huyện\", \"date\": \"2024-05-10\","
    "  \"conclusion\": \"12/TB-UBND 2024-05-15\", \"due\": \"2024-06-05\","
    "  \"status\": \"awaiting_remediation\", \"findings\": ["
    "   {\"no\": 1, \"text\": \"Chưa niêm yết đầy đủ thủ tục hành chính\"},"
    "   {\"no\": 2, \"text\": \"Chưa ban hành Phiếu xin lỗi cho hồ sơ quá hạn\"},"
    "   {\"no\": 3, \"text\": \"Báo cáo định kỳ gửi chậm\"},"
    "   {\"no\": 4, \"text\": \"Chưa có máy lấy số tự động\"}]},"
    "  {\"code\": \"KT-2024-07\", \"unit\": \"xa-van-son\", \"date\": \"2024-07-10\","
    "   \"findings\": [{\"no\": 1, \"text\": \"Sổ theo dõi hồ sơ ghi thiếu\"}]}],"
    " \"tasks\": ["
    "  {\"code\": \"KH87-07\", \"title\": \"Thu gom, xử lý rác thải sinh hoạt\","
    "   \"index\": \"PAPI\", \"dimension\": \"D7\", \"target\": \"improve\","
    "   \"lead\": [\"p-tnmt\"], \"support\": [\"@commune\", \"@town\"], \"due\": \"2024-10-31\"},"
    "  {\"code\": \"KH87-09\", \"title\": \"Công khai kết quả tuyển dụng công chức cấp xã\","
    "   \"lead\": [\"p-nv\"], \"support\": [], \"due\": \"2024-08-31\"}],"
    " \"settings\": {\"apology_slip\": \"error\"}}";

/* A context for unit (kind), with extra members (JSON object text) replacing the base's;
 * today 2024-10-01. */
static cchc_vctx_t *s_ctx(const char *unit, const char *kind, const char *extra)
{
    json_t *doc = json_loads(s_base_ctx, 0, NULL);
    assert_non_null(doc);
    if (unit)
        json_object_set_new(doc, "unit",
                            json_pack("{s:s, s:s, s:s, s:s}", "code", unit, "kind", kind,
                                      "valid_from", "2020-01-01", "valid_to", "2025-06-30"));
    if (extra) {
        json_error_t e;
        json_t *x = json_loads(extra, 0, &e);
        if (!x)
            fail_msg("extra context: %s", e.text);
        json_object_update(doc, x);
        json_decref(x);
    }
    char err[256] = "";
    cchc_vctx_t *c = cchc_vctx_new(doc, err, sizeof err);
    if (!c)
        fail_msg("context: %s", err);
    json_decref(doc);
    cchc_vctx_set_today(c, cchc_day_from_ymd(2024, 10, 1));
    return c;
}

static json_t *s_fixture(const char *name)
{
    char path[512];
    json_error_t e;
    snprintf(path, sizeof path, "%s/%s", CCHC_FIXTURES, name);
    json_t *j = json_load_file(path, 0, &e);
    if (!j)
        fail_msg("%s: %s", path, e.text);
    return j;
}

/* Takes the reference. */
static cchc_report_t *s_rep(json_t *j)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_report_t *r = NULL;
    if (cchc_report_from_json(j, &r, &f) != CCHC_OK)
        fail_msg("report: %s %s %s", f.v[0].code, f.v[0].path, f.v[0].msg_en);
    json_decref(j);
    cchc_findings_clear(&f);
    return r;
}

static cchc_report_t *s_rep_text(const char *text)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_report_t *r = NULL;
    if (cchc_report_from_text(text, strlen(text), &r, &f) != CCHC_OK)
        fail_msg("report: %s %s %s", f.v[0].code, f.v[0].path, f.v[0].msg_en);
    cchc_findings_clear(&f);
    return r;
}

static void s_dump(const cchc_findings_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        fprintf(stderr, "  %s %s %s | %s\n", f->v[i].code, f->v[i].path, f->v[i].msg_vi,
                f->v[i].msg_en);
}

static const cchc_finding_t *s_find(const cchc_findings_t *f, const char *code, const char *path)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].code, code) == 0 && (!path || strcmp(f->v[i].path, path) == 0))
            return &f->v[i];
    return NULL;
}

static const cchc_finding_t *s_has(const cchc_findings_t *f, const char *code, const char *path)
{
    const cchc_finding_t *x = s_find(f, code, path);
    if (!x) {
        s_dump(f);
        fail_msg("expected %s at %s", code, path ? path : "(any)");
    }
    return x;
}

static void s_hasnt(const cchc_findings_t *f, const char *code)
{
    if (s_find(f, code, NULL)) {
        s_dump(f);
        fail_msg("unexpected %s", code);
    }
}

/* Validates r (freed) against c, into f (cleared first). */
static void s_run(cchc_report_t *r, const cchc_vctx_t *c, cchc_findings_t *f)
{
    cchc_findings_clear(f);
    int n = cchc_validate(r, c, f);
    assert_int_equal((size_t)n, f->errors);
    cchc_report_free(&r);
}

/* The periodic fixture with one overdue entry's member set (value is JSON text). */
static cchc_report_t *s_periodic_with(size_t j, const char *member, const char *value)
{
    json_t *root = s_fixture("periodic.json");
    json_t *od = json_array_get(json_object_get(root, "overdue_dossiers"), j);
    if (value)
        json_object_set_new(od, member, json_loads(value, JSON_DECODE_ANY, NULL));
    else
        json_object_del(od, member);
    return s_rep(root);
}

static cchc_report_t *s_rem_with(size_t i, const char *member, const char *value)
{
    json_t *root = s_fixture("remediation.json");
    json_t *it = json_array_get(json_object_get(root, "items"), i);
    if (value)
        json_object_set_new(it, member, json_loads(value, JSON_DECODE_ANY, NULL));
    else
        json_object_del(it, member);
    return s_rep(root);
}

/* ---- the fixtures are clean ----------------------------------------------------------- */

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

static void test_survives_anything(void **state)
{
    static const char *const reports[] = {
        "{\"type\": \"CCHC_DK\", \"unit\": \"x\", \"period\": \"\"}",
        "{\"type\": \"CCHC_DK\", \"unit\": \"x\", \"period\": \"2024S1\", \"dossiers\": [],"
        " \"overdue_dossiers\": [{\"code\": \"A\", \"field\": \"F\"}]}",
        "{\"type\": \"KHAC_PHUC\", \"unit\": \"x\", \"inspection\": \"K\", \"items\": []}",
        "{\"type\": \"NV_KH\", \"unit\": \"x\", \"task\": \"T\", \"status\": \"s\"}",
    };
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    json_t *empty = json_object();
    cchc_vctx_t *c0 = cchc_vctx_new(empty, NULL, 0);
    json_decref(empty);
    assert_non_null(c0);
    cchc_vctx_t *c1 = s_ctx("x", "commune", NULL);
    for (size_t i = 0; i < sizeof reports / sizeof *reports; i++) {
        cchc_report_t *r = s_rep_text(reports[i]);
        cchc_findings_clear(&f);
        cchc_validate(r, c0, &f);
        cchc_validate(r, c1, &f);
        cchc_validate(r, NULL, &f);
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
    cchc_findings_clear(&f);
    cchc_validate(&r, c0, &f);
    cchc_validate(&r, c1, &f);
    cchc_validate(&r, NULL, &f);
    r.periodic = NULL; /* content case without content */
    cchc_validate(&r, c1, &f);
    s_has(&f, "E000", "$");
    r.content_case = CCHC__V1__REPORT__CONTENT_REMEDIATION;
    cchc_validate(&r, c1, &f);
    cchc_vctx_destroy(&c0);
    cchc_vctx_destroy(&c1);
    cchc_findings_clear(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_pass),
        cmocka_unit_test(test_e001_key_unit),
        cmocka_unit_test(test_e002_unit),
        cmocka_unit_test(test_e003_type),
        cmocka_unit_test(test_e004_period),
        cmocka_unit_test(test_e005_started),
        cmocka_unit_test(test_e006_e007_revisions),
        cmocka_unit_test(test_e010_counts),
        cmocka_unit_test(test_e011_e013_totals),
        cmocka_unit_test(test_w014_w015),
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
        cmocka_unit_test(test_context_shape),
        cmocka_unit_test(test_survives_anything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
