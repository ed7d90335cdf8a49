/* web_page_figs.c: the pages of the other figures, each the same
 * definition as a cchc command (cli_figs.h) and its JSON under /api/:
 *
 *   page           what                                        as
 *   -------------  ------------------------------------------  --------------------------
 *   /overdue       every overdue dossier of a period, cause    cchc overdue --period P
 *                  and remedy
 *   /dossiers      Form 06 per unit, with a bar chart of       cchc dossiers --by unit,
 *                  on-time rates against the district's        --by field
 *                  average; per field for the district
 *   /remediation   per inspection, then per finding            cchc remediation [--findings]
 *   /tasks         a year's tasks per index dimension,         the summary's Nhiệm vụ,
 *                  maintain and improve side by side; then     cchc tasks
 *                  every task
 *   /agents        the agents' sync health, oldest contact     cchc agents
 *                  first */
#include "cchc_clock.h"
#include "cchc_period.h"
#include "web_chart.h"
#include "web_page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_clear(cli_out_t *outs, int n)
{
    for (int i = 0; i < n; i++)
        PQclear((PGresult *)outs[i].res);
}

/* ---- /overdue ---------------------------------------------------------------------------- */

int web_page_overdue(web_page_t *p)
{
    web_pt_t pt;
    if (web_page_period_type(p, &pt) != 0)
        return -1;
    const char *params[4] = {pt.period[0] ? pt.period : NULL, pt.type[0] ? pt.type : NULL, NULL,
                             NULL};
    cli_out_t od = {0};
    if (pt.period[0] && web_page_fig(p, &cli_figs_overdue, params, &od) != 0)
        return -1;
    int rc = 0;
    if (p->api) {
        web_json_begin(p);
        web_json_str(p, "period", pt.period[0] ? pt.period : NULL);
        web_json_str(p, "type", pt.type[0] ? pt.type : NULL);
        if (od.res)
            web_json_fig(p, "overdue", &od);
        web_json_end(p);
        goto out;
    }
    char title[96];
    snprintf(title, sizeof title, "Hồ sơ quá hạn%s%s", pt.period[0] ? " kỳ " : "", pt.period);
    web_page_begin(p, "/overdue", title);
    if ((rc = web_page_period_form(p, "/overdue", pt.period, pt.type)) != 0)
        goto out;
    fprintf(p->body,
            "<p class=\"lead\">%d hồ sơ giải quyết quá hạn hoặc đang quá hạn, theo bản báo cáo "
            "được nhận mới nhất của mỗi đơn vị; mỗi hồ sơ có nguyên nhân, biện pháp khắc phục và "
            "Phiếu xin lỗi.</p>\n",
            od.res ? PQntuples(od.res) : 0);
    if (od.res)
        web_page_table(p, &od);
    char api[96];
    web_page_href(api, sizeof api, "/api/overdue", &pt);
    web_page_end(p, api);
out:
    s_clear(&od, 1);
    return rc;
}

/* ---- /dossiers --------------------------------------------------------------------------- */

/* The chart of each total row of units (one per type and period): its units'
 * on-time rates, the line at the total's. */
static void s_charts(web_page_t *p, const cli_out_t *units)
{
    int n = PQntuples(units->res), charts = 0;
    web_bar_t *bars = calloc((size_t)(n > 0 ? n : 1), sizeof *bars);
    for (int t = 0; t < n; t++) {
        if (!cli_out_is_total(units, t))
            continue;
        const char *type = web_page_cell(units, t, "type");
        const char *period = web_page_cell(units, t, "period");
        int k = 0;
        for (int i = 0; i < n; i++)
            if (!cli_out_is_total(units, i) && !strcmp(web_page_cell(units, i, "type"), type) &&
                !strcmp(web_page_cell(units, i, "period"), period))
                bars[k++] = (web_bar_t){web_page_cell(units, i, "unit_name"),
                                        web_page_cell(units, i, "on_time_rate")};
        const char *avg = web_page_cell(units, t, "on_time_rate");
        char id[32], title[160], avg_label[64];
        snprintf(id, sizeof id, "chart-%d", ++charts);
        snprintf(title, sizeof title,
                 "Tỷ lệ hồ sơ giải quyết đúng hạn (%%) theo đơn vị, %s %s; bình quân huyện %s",
                 type, period, avg ? avg : "-");
        snprintf(avg_label, sizeof avg_label, "Bình quân huyện %s %%", avg ? avg : "-");
        fputs("<figure class=\"chart\">\n", p->body);
        web_chart_bars(p->body, id, title, bars, k, avg, avg_label);
        fputs("<figcaption>", p->body);
        web_page_text(p, type);
        fputs(" ", p->body);
        web_page_text(p, period);
        fputs(": tỷ lệ đúng hạn = (giải quyết trước hạn + đúng hạn) / đã giải quyết. Cột cam: "
              "thấp hơn bình quân của huyện (đường đứt đoạn).</figcaption>\n</figure>\n",
              p->body);
    }
    free(bars);
}

int web_page_dossiers(web_page_t *p)
{
    web_pt_t pt;
    if (web_page_period_type(p, &pt) != 0)
        return -1;
    const char *params[4] = {pt.period[0] ? pt.period : NULL, pt.type[0] ? pt.type : NULL, NULL,
                             NULL};
    cli_out_t f[2] = {{0}};
    if (pt.period[0] &&
        (web_page_fig(p, &cli_figs_dossiers[CLI_FIGS_BY_UNIT], params, &f[0]) != 0 ||
         web_page_fig(p, &cli_figs_dossiers[CLI_FIGS_BY_FIELD], params, &f[1]) != 0)) {
        s_clear(f, 2);
        return -1;
    }
    int rc = 0;
    if (p->api) {
        web_json_begin(p);
        web_json_str(p, "period", pt.period[0] ? pt.period : NULL);
        web_json_str(p, "type", pt.type[0] ? pt.type : NULL);
        if (f[0].res) {
            web_json_fig(p, "units", &f[0]);
            web_json_fig(p, "fields", &f[1]);
        }
        web_json_end(p);
        goto out;
    }
    char title[96];
    snprintf(title, sizeof title, "Số liệu hồ sơ (Mẫu 06)%s%s", pt.period[0] ? " kỳ " : "",
             pt.period);
    web_page_begin(p, "/dossiers", title);
    if ((rc = web_page_period_form(p, "/dossiers", pt.period, pt.type)) != 0)
        goto out;
    if (!f[0].res || PQntuples(f[0].res) == 0) {
        fputs("<p class=\"lead\">Chưa có số liệu hồ sơ của kỳ này: chưa đơn vị nào có báo cáo "
              "được nhận.</p>\n",
              p->body);
    } else {
        fputs("<h2>Tỷ lệ giải quyết đúng hạn theo đơn vị</h2>\n", p->body);
        s_charts(p, &f[0]);
        fputs("<h2>Theo đơn vị</h2>\n", p->body);
        web_page_table(p, &f[0]);
        fputs("<h2>Theo lĩnh vực, toàn huyện</h2>\n", p->body);
        web_page_table(p, &f[1]);
    }
    char api[96];
    web_page_href(api, sizeof api, "/api/dossiers", &pt);
    web_page_end(p, api);
out:
    s_clear(f, 2);
    return rc;
}

/* ---- /remediation ------------------------------------------------------------------------ */

int web_page_remediation(web_page_t *p)
{
    const char *params[3] = {NULL, NULL, NULL};
    cli_out_t f[2] = {{0}};
    if (web_page_fig(p, &cli_figs_remediation, params, &f[0]) != 0)
        return -1;
    if (web_page_fig(p, &cli_figs_findings, params, &f[1]) != 0) {
        s_clear(f, 1);
        return -1;
    }
    if (p->api) {
        web_json_begin(p);
        web_json_fig(p, "inspections", &f[0]);
        web_json_fig(p, "findings", &f[1]);
        web_json_end(p);
    } else {
        web_page_begin(p, "/remediation", "Khắc phục sau kiểm tra");
        fputs("<p class=\"lead\">Tỷ lệ hoàn thành = tồn tại đã khắc phục / số tồn tại; tình "
              "trạng mỗi tồn tại theo báo cáo khắc phục được nhận mới nhất.</p>\n"
              "<h2>Theo cuộc kiểm tra</h2>\n",
              p->body);
        web_page_table(p, &f[0]);
        fputs("<h2>Theo từng tồn tại</h2>\n", p->body);
        web_page_table(p, &f[1]);
        web_page_end(p, "/api/remediation");
    }
    s_clear(f, 2);
    return 0;
}

/* ---- /tasks ------------------------------------------------------------------------------ */

int web_page_tasks(web_page_t *p)
{
    int year;
    const char *y = web_target_get(p->target, "year");
    web_refusal_t why;
    if (y && web_value_year(y, &year, &why) != 0)
        return web_page_fail(p, why.status, why.vi, why.en);
    if (!y) {
        int m, d;
        cchc_day_to_ymd(cchc_day_of_instant(cchc_clock_now_ms()), &year, &m, &d);
    }
    char ys[8];
    snprintf(ys, sizeof ys, "%d", year);
    const char *yp[1] = {ys};
    const char *params[3] = {NULL, NULL, NULL};
    cli_out_t f[2] = {{0}};
    if (web_page_fig(p, &cli_figs_summary[CLI_FIGS_SUMMARY_TASKS], yp, &f[0]) != 0)
        return -1;
    if (web_page_fig(p, &cli_figs_tasks[CLI_FIGS_TASKS_BY_TASK], params, &f[1]) != 0) {
        s_clear(f, 1);
        return -1;
    }
    int rc = 0;
    if (p->api) {
        web_json_begin(p);
        web_json_str(p, "year", ys);
        web_json_fig(p, "dimensions", &f[0]);
        web_json_fig(p, "tasks", &f[1]);
        web_json_end(p);
        goto out;
    }
    char title[96];
    snprintf(title, sizeof title, "Nhiệm vụ Kế hoạch năm %d", year);
    web_page_begin(p, "/tasks", title);
    PGresult *years = web_db_query(
        p->db, "could not list the plan's years",
        "SELECT DISTINCT extract(year FROM due)::int FROM plan_tasks ORDER BY 1 DESC", 0, NULL);
    if (!years) {
        rc = web_page_db_fail(p);
        goto out;
    }
    fputs("<form class=\"filter\" method=\"get\" action=\"/tasks\">\n<label>Năm "
          "<select name=\"year\">\n",
          p->body);
    for (int i = 0; i < PQntuples(years); i++) {
        const char *v = PQgetvalue(years, i, 0);
        fprintf(p->body, "<option value=\"%s\"%s>%s</option>\n", v,
                strcmp(v, ys) == 0 ? " selected" : "", v);
    }
    fputs("</select></label>\n<button type=\"submit\">Xem</button>\n</form>\n", p->body);
    PQclear(years);
    fputs("<p class=\"lead\">Một đơn vị chủ trì chỉ hoàn thành nhiệm vụ khi báo cáo mới nhất "
          "nhận được đến hạn ghi hoàn thành; quá hạn mà chưa như vậy là quá hạn.</p>\n"
          "<h2>Theo nội dung chỉ số: duy trì và cải thiện</h2>\n",
          p->body);
    web_page_table(p, &f[0]);
    fputs("<h2>Từng nhiệm vụ của Kế hoạch</h2>\n", p->body);
    web_page_table(p, &f[1]);
    char api[32];
    snprintf(api, sizeof api, "/api/tasks?year=%d", year);
    web_page_end(p, api);
out:
    s_clear(f, 2);
    return rc;
}

/* ---- /agents ----------------------------------------------------------------------------- */

int web_page_agents(web_page_t *p)
{
    const char *params[2] = {NULL, "f"};
    cli_out_t a = {0};
    if (web_page_fig(p, &cli_figs_agents, params, &a) != 0)
        return -1;
    if (p->api) {
        web_json_begin(p);
        web_json_fig(p, "agents", &a);
        web_json_end(p);
        s_clear(&a, 1);
        return 0;
    }
    int n = PQntuples(a.res), never = 0, silent = 0, refused = 0;
    for (int i = 0; i < n; i++) {
        never += web_page_cell(&a, i, "last_seen") == NULL;
        silent += web_page_cell(&a, i, "silent_since") != NULL;
        const char *r = web_page_cell(&a, i, "refused_open");
        refused += r && strcmp(r, "0") != 0;
    }
    web_page_begin(p, "/agents", "Tình trạng đồng bộ của các đơn vị");
    fprintf(p->body,
            "<div class=\"cards\">\n<div class=\"card\"><span>Đơn vị đang hoạt động</span>"
            "<b>%d</b></div>\n<div class=\"card\"><span>Chưa liên lạc lần nào</span><b>%d</b>"
            "</div>\n<div class=\"card\"><span>Im lặng quá lâu</span><b>%d</b></div>\n"
            "<div class=\"card\"><span>Có báo cáo bị từ chối chưa sửa</span><b>%d</b></div>\n"
            "</div>\n<p class=\"lead\">Đơn vị liên lạc lâu nhất lên đầu; hàng chờ và lệch đồng "
            "hồ là điều máy trạm báo ở lần liên lạc cuối.</p>\n",
            n, never, silent, refused);
    web_page_table(p, &a);
    web_page_end(p, "/api/agents");
    s_clear(&a, 1);
    return 0;
}
