/* validate_support.h: contexts, fixtures and assertions shared by the
 * validation tests (test_validate.c, test_validate_content.c). Included once
 * per test program; everything is file-static. */
#ifndef VALIDATE_SUPPORT_H
#define VALIDATE_SUPPORT_H
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
static __attribute__((unused)) cchc_vctx_t *s_ctx(const char *unit, const char *kind,
                                                  const char *extra)
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

static __attribute__((unused)) json_t *s_fixture(const char *name)
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
static __attribute__((unused)) cchc_report_t *s_rep(json_t *j)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_report_t *r = NULL;
    if (cchc_report_from_json(j, &r, &f) != CCHC_OK)
        fail_msg("report: %s %s %s", f.v[0].code, f.v[0].path, f.v[0].msg_en);
    json_decref(j);
    cchc_findings_clear(&f);
    return r;
}

static __attribute__((unused)) cchc_report_t *s_rep_text(const char *text)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_report_t *r = NULL;
    if (cchc_report_from_text(text, strlen(text), &r, &f) != CCHC_OK)
        fail_msg("report: %s %s %s", f.v[0].code, f.v[0].path, f.v[0].msg_en);
    cchc_findings_clear(&f);
    return r;
}

static __attribute__((unused)) void s_dump(const cchc_findings_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        fprintf(stderr, "  %s %s %s | %s\n", f->v[i].code, f->v[i].path, f->v[i].msg_vi,
                f->v[i].msg_en);
}

static __attribute__((unused)) const cchc_finding_t *s_find(const cchc_findings_t *f,
                                                            const char *code, const char *path)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].code, code) == 0 && (!path || strcmp(f->v[i].path, path) == 0))
            return &f->v[i];
    return NULL;
}

static __attribute__((unused)) const cchc_finding_t *s_has(const cchc_findings_t *f,
                                                           const char *code, const char *path)
{
    const cchc_finding_t *x = s_find(f, code, path);
    if (!x) {
        s_dump(f);
        fail_msg("expected %s at %s", code, path ? path : "(any)");
    }
    return x;
}

static __attribute__((unused)) void s_hasnt(const cchc_findings_t *f, const char *code)
{
    if (s_find(f, code, NULL)) {
        s_dump(f);
        fail_msg("unexpected %s", code);
    }
}

/* Validates r (freed) against c, into f (cleared first). */
static __attribute__((unused)) void s_run(cchc_report_t *r, const cchc_vctx_t *c,
                                          cchc_findings_t *f)
{
    cchc_findings_clear(f);
    int n = cchc_validate(r, c, f);
    assert_int_equal((size_t)n, f->errors);
    cchc_report_free(&r);
}

/* The periodic fixture with one overdue entry's member set (value is JSON text). */
static __attribute__((unused)) cchc_report_t *s_periodic_with(size_t j, const char *member,
                                                              const char *value)
{
    json_t *root = s_fixture("periodic.json");
    json_t *od = json_array_get(json_object_get(root, "overdue_dossiers"), j);
    if (value)
        json_object_set_new(od, member, json_loads(value, JSON_DECODE_ANY, NULL));
    else
        json_object_del(od, member);
    return s_rep(root);
}

static __attribute__((unused)) cchc_report_t *s_rem_with(size_t i, const char *member,
                                                         const char *value)
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

#endif
