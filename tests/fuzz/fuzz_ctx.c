/* fuzz_ctx.c: validation contexts for the fuzz harnesses (see fuzz_ctx.h). */
#include "fuzz_ctx.h"

#include <jansson.h>

/* The metadata the server would hold for Vân Sơn in October 2024: the three types of
 * deploy/data/report-types.csv, a few 2024 calendar days, inspection KT-2024-05 of
 * xa-yen-dinh (4 findings) and task KH87-07 led by p-tnmt. */
static const char s_real_doc[] =
    "{\"unit\": {\"code\": \"xa-van-son\", \"kind\": \"commune\","
    "  \"valid_from\": \"2020-01-01\", \"valid_to\": null},"
    " \"types\": ["
    " {\"code\": \"CCHC_DK\", \"name_vi\": \"Báo cáo định kỳ công tác cải cách hành chính\","
    "  \"content_kind\": \"periodic\", \"periods\": [\"Q1\", \"S1\", \"Q3\", \"Y\"],"
    "  \"cutoff_rule\": \"dec09\", \"due_rule\": \"wd_after_cutoff:2\", \"grace_days\": 0,"
    "  \"expiry_days\": 30, \"timeliness_basis\": \"received\", \"assigned\": true},"
    " {\"code\": \"KHAC_PHUC\", \"name_vi\": \"Báo cáo kết quả khắc phục sau kiểm tra\","
    "  \"content_kind\": \"remediation\", \"periods\": [], \"cutoff_rule\": \"none\","
    "  \"due_rule\": \"wd_after_event:15\", \"grace_days\": 0, \"expiry_days\": 0,"
    "  \"timeliness_basis\": \"received\", \"assigned\": true},"
    " {\"code\": \"NV_KH\", \"name_vi\": \"Báo cáo tiến độ thực hiện nhiệm vụ Kế hoạch 87/KH-UBND\","
    "  \"content_kind\": \"task_progress\", \"periods\": [], \"cutoff_rule\": \"none\","
    "  \"due_rule\": \"fixed\", \"grace_days\": 0, \"expiry_days\": 0,"
    "  \"timeliness_basis\": \"received\", \"assigned\": true}],"
    " \"calendar\": ["
    "  {\"date\": \"2024-01-01\", \"kind\": \"holiday\", \"note\": \"Tết Dương lịch\"},"
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
    "   {\"no\": 4, \"text\": \"Chưa có máy lấy số tự động\"}]}],"
    " \"tasks\": ["
    "  {\"code\": \"KH87-07\", \"title\": \"Thu gom, xử lý rác thải sinh hoạt\","
    "   \"index\": \"PAPI\", \"dimension\": \"D7\", \"target\": \"improve\","
    "   \"lead\": [\"p-tnmt\"], \"support\": [\"@commune\", \"@town\"], \"due\": \"2024-10-31\","
    "   \"assigned\": true}],"
    " \"revisions\": [{\"type\": \"CCHC_DK\", \"period\": \"2024Q3\", \"subject\": \"\","
    "  \"revision\": 1, \"locked\": false, \"first_received\": \"2024-09-16\"}],"
    " \"previous\": {\"type\": \"CCHC_DK\", \"period\": \"2024S1\", \"pending\": {\"HO_TICH\": 7}},"
    " \"settings\": {\"apology_slip\": \"error\"}}";

static cchc_vctx_t *s_empty;
static cchc_vctx_t *s_real;

static cchc_vctx_t *s_build(const char *text)
{
    json_error_t e;
    json_t *doc = json_loads(text, 0, &e);
    if (!doc) {
        fprintf(stderr, "fuzz context JSON: %s (line %d)\n", e.text, e.line);
        abort();
    }
    char err[256] = "";
    cchc_vctx_t *c = cchc_vctx_new(doc, err, sizeof err);
    json_decref(doc);
    if (!c) {
        fprintf(stderr, "fuzz context: %s\n", err);
        abort();
    }
    return c;
}

const cchc_vctx_t *cchc_fuzz_ctx_empty(void)
{
    if (!s_empty)
        s_empty = s_build("{}");
    return s_empty;
}

const cchc_vctx_t *cchc_fuzz_ctx_real(void)
{
    if (!s_real) {
        s_real = s_build(s_real_doc);
        cchc_vctx_set_key_unit(s_real, "xa-van-son");
        cchc_vctx_set_today(s_real, cchc_day_from_ymd(2024, 10, 1));
    }
    return s_real;
}

void cchc_fuzz_validate_both(const cchc_report_t *r)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    int errors = cchc_validate(r, cchc_fuzz_ctx_empty(), &f);
    FUZZ_CHECK(errors >= 0 && (size_t)errors <= f.errors);
    cchc_findings_clear(&f);
    errors = cchc_validate(r, cchc_fuzz_ctx_real(), &f);
    FUZZ_CHECK(errors >= 0 && (size_t)errors <= f.errors);
    json_t *j = cchc_findings_to_json(&f);
    FUZZ_CHECK(j != NULL);
    json_decref(j);
    cchc_findings_clear(&f);
}
