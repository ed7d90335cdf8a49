/* web_page_status.c: the overview (/) and the status matrix (/status), and
 * their JSON (/api/, /api/status).
 *
 * Both read cli_figs_rates and cli_figs_status (cchc status --rates, cchc
 * status): the reporting rate = reported / expected and the on-time rate =
 * on time / expected, exempt units not expected, as the views compute them.
 * The matrix has a row per unit and a column per status, the unit's status
 * marked and coloured (and written, for a screen reader), the totals of the
 * type and period last. */
#include "web_page.h"

#include <stdio.h>
#include <string.h>

/* The five statuses of cchc_status, in the matrix's order, with their names. */
static const struct {
    const char *code, *vi;
} s_statuses[] = {
    {"on_time", "Đúng hạn"},         {"late", "Chậm hạn"},   {"overdue", "Quá hạn"},
    {"not_yet_due", "Chưa đến hạn"}, {"exempt", "Miễn nộp"},
};
#define S_NSTATUS (sizeof s_statuses / sizeof s_statuses[0])

/* The cards of one row of rates: the two rates, reported of expected, overdue. */
static void s_cards(web_page_t *p, const cli_out_t *rates, int i)
{
    FILE *f = p->body;
    const char *rr = web_page_cell(rates, i, "reporting_rate");
    const char *ot = web_page_cell(rates, i, "on_time_rate");
    fputs("<div class=\"cards\">\n<div class=\"card\"><span>Tỷ lệ báo cáo</span><b>", f);
    web_page_text(p, rr ? rr : "-");
    fputs(rr ? " %" : "", f);
    fputs("</b></div>\n<div class=\"card\"><span>Tỷ lệ đúng hạn</span><b>", f);
    web_page_text(p, ot ? ot : "-");
    fputs(ot ? " %" : "", f);
    fputs("</b></div>\n<div class=\"card\"><span>Đã nộp / phải nộp</span><b>", f);
    web_page_text(p, web_page_cell(rates, i, "reported"));
    fputs(" / ", f);
    web_page_text(p, web_page_cell(rates, i, "expected"));
    fputs("</b></div>\n<div class=\"card\"><span>Quá hạn</span><b>", f);
    web_page_text(p, web_page_cell(rates, i, "overdue"));
    fputs("</b></div>\n</div>\n", f);
}

/* ---- / ----------------------------------------------------------------------------------- */

static const struct {
    const char *path, *name, *what;
} s_pages[] = {
    {"/status", "Tình hình nộp báo cáo",
     "đơn vị × tình trạng (đúng hạn, chậm hạn, quá hạn, chưa đến hạn, miễn nộp), tỷ lệ"},
    {"/overdue", "Hồ sơ quá hạn", "từng hồ sơ giải quyết quá hạn, nguyên nhân, biện pháp"},
    {"/dossiers", "Số liệu hồ sơ (Mẫu 06)",
     "tiếp nhận, giải quyết theo đơn vị; biểu đồ tỷ lệ đúng hạn so với bình quân huyện"},
    {"/remediation", "Khắc phục sau kiểm tra", "tồn tại đã khắc phục, đang khắc phục, chưa"},
    {"/tasks", "Nhiệm vụ Kế hoạch", "theo nội dung chỉ số, duy trì và cải thiện"},
    {"/agents", "Đồng bộ đơn vị", "liên lạc lần cuối, hàng chờ, lệch đồng hồ, báo cáo bị từ chối"},
    {"/summary", "Báo cáo tổng hợp", "sáu biểu của kỳ, tải về tệp Excel"},
};

int web_page_overview(web_page_t *p)
{
    web_pt_t pt;
    if (web_page_period_type(p, &pt) != 0)
        return -1;
    cli_out_t rates = {0};
    const char *params[2] = {pt.period, NULL};
    if (pt.period[0] && web_page_fig(p, &cli_figs_rates, params, &rates) != 0)
        return -1;
    if (p->api) {
        web_json_begin(p);
        web_json_str(p, "period", pt.period[0] ? pt.period : NULL);
        if (rates.res)
            web_json_fig(p, "rates", &rates);
        web_json_end(p);
        PQclear((PGresult *)rates.res);
        return 0;
    }
    FILE *f = p->body;
    web_page_begin(p, "/", "Tổng quan công tác cải cách hành chính");
    if (!pt.period[0]) {
        fputs("<p class=\"lead\">Chưa có kỳ báo cáo nào: máy chủ ghi các kỳ khi đã có loại báo "
              "cáo và đơn vị.</p>\n",
              f);
    } else {
        fputs("<h2>Kỳ báo cáo ", f);
        web_page_text(p, pt.period);
        fputs("</h2>\n", f);
        for (int i = 0; i < PQntuples(rates.res); i++) {
            fputs("<p class=\"lead\">", f);
            web_page_text(p, web_page_cell(&rates, i, "type"));
            fputs(" · hạn nộp ", f);
            web_page_date(p, web_page_cell(&rates, i, "due"));
            fputs("</p>\n", f);
            s_cards(p, &rates, i);
        }
        if (PQntuples(rates.res) == 0)
            fputs("<p class=\"lead\">Chưa có đơn vị nào phải nộp báo cáo kỳ này.</p>\n", f);
    }
    fputs("<h2>Các trang</h2>\n<ul class=\"pages\">\n", f);
    for (size_t i = 0; i < sizeof s_pages / sizeof s_pages[0]; i++)
        fprintf(f, "<li><a href=\"%s\">%s</a>: %s</li>\n", s_pages[i].path, s_pages[i].name,
                s_pages[i].what);
    fputs("</ul>\n<p class=\"lead\">Mỗi trang cũng có dạng JSON dưới /api/ (ví dụ "
          "<a href=\"/api/status\">/api/status</a>).</p>\n",
          f);
    web_page_end(p, "/api/");
    PQclear((PGresult *)rates.res);
    return 0;
}

/* ---- /status ----------------------------------------------------------------------------- */

/* The matrix of one type and period: rows of st whose type and period are
 * those of rates row r, then the totals of that row. */
static void s_matrix(web_page_t *p, const cli_out_t *st, const cli_out_t *rates, int r)
{
    FILE *f = p->body;
    const char *type = web_page_cell(rates, r, "type");
    const char *period = web_page_cell(rates, r, "period");
    fputs("<h2>", f);
    web_page_text(p, type);
    fputs(" · hạn nộp ", f);
    web_page_date(p, web_page_cell(rates, r, "due"));
    fputs("</h2>\n", f);
    s_cards(p, rates, r);
    fputs("<div class=\"scroll\">\n<table class=\"matrix\" data-type=\"", f);
    web_page_text(p, type);
    fputs("\">\n<thead><tr><th class=\"unit\" scope=\"col\">Đơn vị</th>", f);
    for (size_t k = 0; k < S_NSTATUS; k++)
        fprintf(f, "<th class=\"st\" scope=\"col\">%s</th>", s_statuses[k].vi);
    fputs("<th class=\"x\" scope=\"col\">Ngày nộp</th><th class=\"x\" scope=\"col\">Số ngày "
          "làm việc chậm</th><th class=\"x\" scope=\"col\">Căn cứ</th><th class=\"why\" "
          "scope=\"col\">Lý do miễn</th></tr></thead>\n<tbody>\n",
          f);
    for (int i = 0; i < PQntuples(st->res); i++) {
        const char *t = web_page_cell(st, i, "type"), *per = web_page_cell(st, i, "period");
        if (!t || strcmp(t, type) != 0 || !per || !period || strcmp(per, period) != 0)
            continue;
        const char *status = web_page_cell(st, i, "status");
        const char *unit = web_page_cell(st, i, "unit");
        fputs("<tr data-unit=\"", f);
        web_page_text(p, unit);
        fputs("\" data-status=\"", f);
        web_page_text(p, status);
        fputs("\"><th class=\"unit\" scope=\"row\">", f);
        web_page_text(p, web_page_cell(st, i, "unit_name"));
        fputs("</th>", f);
        for (size_t k = 0; k < S_NSTATUS; k++) {
            if (status && strcmp(status, s_statuses[k].code) == 0) {
                fprintf(f, "<td class=\"m %s on\">●<span class=\"sr\"> ", s_statuses[k].code);
                web_page_text(p, web_page_cell(st, i, "status_vi"));
                fputs("</span></td>", f);
            } else {
                fputs("<td class=\"m\"></td>", f);
            }
        }
        fputs("<td class=\"d\">", f);
        web_page_date(p, web_page_cell(st, i, "met_on"));
        fputs("</td><td class=\"n\">", f);
        web_page_text(p, web_page_cell(st, i, "working_days_late"));
        fputs("</td><td class=\"d\">", f);
        web_page_text(p, web_page_cell(st, i, "basis_vi"));
        fputs("</td><td class=\"why\">", f);
        web_page_text(p, web_page_cell(st, i, "exempt_reason"));
        fputs("</td></tr>\n", f);
    }
    fputs("<tr class=\"total\"><th class=\"unit\" scope=\"row\">Tổng cộng</th>", f);
    for (size_t k = 0; k < S_NSTATUS; k++) {
        fputs("<td class=\"m n\">", f);
        web_page_text(p, web_page_cell(rates, r, s_statuses[k].code));
        fputs("</td>", f);
    }
    fputs("<td colspan=\"4\">Phải nộp ", f);
    web_page_text(p, web_page_cell(rates, r, "expected"));
    fputs("</td></tr>\n</tbody>\n</table>\n</div>\n", f);
}

int web_page_status(web_page_t *p)
{
    web_pt_t pt;
    if (web_page_period_type(p, &pt) != 0)
        return -1;
    const char *params[4] = {pt.period[0] ? pt.period : NULL, pt.type[0] ? pt.type : NULL, NULL,
                             NULL};
    cli_out_t rates = {0}, st = {0};
    if (pt.period[0] && (web_page_fig(p, &cli_figs_rates, params, &rates) != 0 ||
                         web_page_fig(p, &cli_figs_status, params, &st) != 0)) {
        PQclear((PGresult *)rates.res);
        return -1;
    }
    int rc = 0;
    if (p->api) {
        web_json_begin(p);
        web_json_str(p, "period", pt.period[0] ? pt.period : NULL);
        web_json_str(p, "type", pt.type[0] ? pt.type : NULL);
        if (rates.res) {
            web_json_fig(p, "rates", &rates);
            web_json_fig(p, "status", &st);
        }
        web_json_end(p);
        goto out;
    }
    char title[96];
    snprintf(title, sizeof title, "Tình hình nộp báo cáo%s%s", pt.period[0] ? " kỳ " : "",
             pt.period);
    web_page_begin(p, "/status", title);
    if ((rc = web_page_period_form(p, "/status", pt.period, pt.type)) != 0)
        goto out;
    FILE *f = p->body;
    fputs("<ul class=\"legend\" aria-label=\"Chú giải\">", f);
    for (size_t k = 0; k < S_NSTATUS; k++)
        fprintf(f, "<li class=\"key %s\">● %s</li>", s_statuses[k].code, s_statuses[k].vi);
    fputs("</ul>\n", f);
    if (!rates.res || PQntuples(rates.res) == 0)
        fputs("<p class=\"lead\">Không có đơn vị nào phải nộp báo cáo kỳ này.</p>\n", f);
    for (int r = 0; rates.res && r < PQntuples(rates.res); r++)
        s_matrix(p, &st, &rates, r);
    char api[96];
    web_page_href(api, sizeof api, "/api/status", &pt);
    web_page_end(p, api);
out:
    PQclear((PGresult *)rates.res);
    PQclear((PGresult *)st.res);
    return rc;
}
