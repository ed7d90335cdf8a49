/* web_page.c: what the pages of cchc-web share (see web_page.h): the frame
 * of a page, escaping, figures as tables and as JSON, the period and type
 * every figure page is asked for. */
#include "web_page.h"
#include "cchc_clock.h"
#include "cchc_period.h"
#include "cli_export.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The navigation: path and Vietnamese name of each page. */
static const struct {
    const char *path, *name;
} s_nav[] = {
    {"/", "Tổng quan"},
    {"/status", "Nộp báo cáo"},
    {"/overdue", "Hồ sơ quá hạn"},
    {"/dossiers", "Số liệu hồ sơ"},
    {"/remediation", "Khắc phục sau kiểm tra"},
    {"/tasks", "Nhiệm vụ"},
    {"/agents", "Đồng bộ đơn vị"},
    {"/summary", "Báo cáo tổng hợp"},
};

int web_page_fail(web_page_t *p, int status, const char *vi, const char *en)
{
    p->fail = (web_refusal_t){status, vi, en};
    p->status = status;
    return -1;
}

int web_page_db_fail(web_page_t *p)
{
    return web_page_fail(p, 503, "chưa đọc được cơ sở dữ liệu, xin thử lại sau ít phút",
                         "the database cannot be read now; try again in a few minutes");
}

void web_page_text(web_page_t *p, const char *s)
{
    cli_export_html_text(p->body, s);
}

void web_page_begin(web_page_t *p, const char *active, const char *title)
{
    FILE *f = p->body;
    fputs("<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
          f);
    if (p->refresh_seconds > 0)
        fprintf(f, "<meta http-equiv=\"refresh\" content=\"%d\">\n", p->refresh_seconds);
    fputs("<title>", f);
    web_page_text(p, title);
    fprintf(f,
            " · CCHC</title>\n<link rel=\"stylesheet\" href=\"%s\">\n"
            "<link rel=\"icon\" href=\"%s\" type=\"image/svg+xml\">\n</head>\n<body>\n"
            "<header class=\"top\"><a class=\"brand\" href=\"/\">Theo dõi cải cách hành "
            "chính</a>\n<nav aria-label=\"Các trang\"><ul>\n",
            p->css_href, p->icon_href);
    for (size_t i = 0; i < sizeof s_nav / sizeof s_nav[0]; i++)
        fprintf(f, "<li><a href=\"%s\"%s>%s</a></li>\n", s_nav[i].path,
                active && strcmp(active, s_nav[i].path) == 0 ? " aria-current=\"page\"" : "",
                s_nav[i].name);
    fputs("</ul></nav></header>\n<main>\n<h1>", f);
    web_page_text(p, title);
    fputs("</h1>\n", f);
}

void web_page_end(web_page_t *p, const char *api_href)
{
    char now[40];
    int64_t ms = cchc_clock_now_ms();
    int y, m, d;
    cchc_day_to_ymd(cchc_day_of_instant(ms), &y, &m, &d);
    long long s = (ms + CCHC_CLOCK_VN_OFFSET_MS) / 1000 % 86400;
    snprintf(now, sizeof now, "%02d/%02d/%04d %02lld:%02lld", d, m, y, s / 3600, s / 60 % 60);
    FILE *f = p->body;
    fprintf(f, "</main>\n<footer>Số liệu lúc %s (giờ Việt Nam)", now);
    if (p->refresh_seconds > 0)
        fprintf(f, " · trang tự làm mới sau %d giây", p->refresh_seconds);
    if (api_href) {
        fputs(" · <a href=\"", f);
        web_page_text(p, api_href);
        fputs("\">JSON</a>", f);
    }
    fputs("</footer>\n</body>\n</html>\n", f);
}

void web_page_table(web_page_t *p, const cli_out_t *out)
{
    fputs("<div class=\"scroll\">\n", p->body);
    cli_export_html_table_classed(p->body, out);
    fputs("</div>\n", p->body);
}

void web_page_date(web_page_t *p, const char *iso)
{
    cchc_day_t day;
    if (!iso)
        return;
    if (cchc_day_parse(iso, &day) != 0) {
        web_page_text(p, iso);
        return;
    }
    int y, m, d;
    cchc_day_to_ymd(day, &y, &m, &d);
    fprintf(p->body, "%02d/%02d/%04d", d, m, y);
}

void web_page_href(char *buf, size_t len, const char *path, const web_pt_t *pt)
{
    snprintf(buf, len, "%s%s%s%s%s", path, pt->period[0] ? "?period=" : "", pt->period,
             pt->type[0] ? (pt->period[0] ? "&type=" : "?type=") : "", pt->type);
}

int web_page_col(const cli_out_t *out, const char *key)
{
    for (int c = 0; c < out->ncols; c++)
        if (strcmp(out->cols[c].key, key) == 0)
            return c;
    abort(); /* a programmer's mistake: the definitions are constant */
}

const char *web_page_cell(const cli_out_t *out, int row, const char *key)
{
    int c = web_page_col(out, key);
    return PQgetisnull(out->res, row, c) ? NULL : PQgetvalue(out->res, row, c);
}

int web_page_fig(web_page_t *p, const cli_figs_def_t *def, const char *const *params,
                 cli_out_t *out)
{
    PGresult *r =
        web_db_query(p->db, def->title ? def->title : "a figure", def->sql, def->nparams, params);
    if (!r)
        return web_page_db_fail(p);
    *out = (cli_out_t){.title = def->title, .cols = def->cols, .ncols = def->ncols, .res = r};
    return 0;
}

/* ---- JSON -------------------------------------------------------------------------------- */

void web_json_begin(web_page_t *p)
{
    fputs("{\n", p->body);
    p->json_members = 0;
}

void web_json_end(web_page_t *p)
{
    fputs("\n}\n", p->body);
}

static void s_json_key(web_page_t *p, const char *key)
{
    fprintf(p->body, "%s\"%s\": ", p->json_members++ ? ",\n" : "", key);
}

void web_json_str(web_page_t *p, const char *key, const char *value)
{
    s_json_key(p, key);
    json_t *v = value ? json_string(value) : NULL;
    char *text = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
    fputs(text ? text : "null", p->body);
    free(text);
    json_decref(v);
}

void web_json_fig(web_page_t *p, const char *key, const cli_out_t *out)
{
    s_json_key(p, key);
    cli_out_print(out, CLI_FMT_JSON, NULL, p->body);
}

/* ---- the period and the type ------------------------------------------------------------- */

/* The period every page shows first: the latest of a periodic type due by
 * today, else the next one due. $1 type or NULL. */
static const char s_current_sql[] =
    "SELECT p.period FROM periods p JOIN report_types t ON t.code = p.type_code "
    "AND t.content_kind = 'periodic' WHERE ($1::text IS NULL OR p.type_code = $1) "
    "ORDER BY p.due > cchc_today(), abs(p.due - cchc_today()), p.period LIMIT 1";

int web_page_period_type(web_page_t *p, web_pt_t *pt)
{
    memset(pt, 0, sizeof *pt);
    const char *period = web_target_get(p->target, "period");
    const char *type = web_target_get(p->target, "type");
    web_refusal_t why;
    if (period && web_value_period(period, pt->period, sizeof pt->period, &why) != 0)
        return web_page_fail(p, why.status, why.vi, why.en);
    if (type && web_value_type(type, pt->type, sizeof pt->type, &why) != 0)
        return web_page_fail(p, why.status, why.vi, why.en);
    const char *params[1] = {pt->type[0] ? pt->type : NULL};
    if (pt->type[0]) {
        PGresult *r =
            web_db_query(p->db, "could not read the report type",
                         "SELECT content_kind FROM report_types WHERE code = $1", 1, params);
        if (!r)
            return web_page_db_fail(p);
        int known = PQntuples(r) == 1, periodic = known && !strcmp(PQgetvalue(r, 0, 0), "periodic");
        PQclear(r);
        if (!known)
            return web_page_fail(p, 400, "không có loại báo cáo (type) này", "no such report type");
        if (!periodic)
            return web_page_fail(p, 400, "loại báo cáo (type) này không nộp theo kỳ",
                                 "this report type has no periods");
    }
    if (!pt->period[0]) {
        PGresult *r =
            web_db_query(p->db, "could not find the current period", s_current_sql, 1, params);
        if (!r)
            return web_page_db_fail(p);
        /* Checked like a period asked for: it goes into links, titles and a
         * file name. One that is not a period id is no current period. */
        if (PQntuples(r) == 1 &&
            web_value_period(PQgetvalue(r, 0, 0), pt->period, sizeof pt->period, &why) != 0)
            pt->period[0] = '\0';
        PQclear(r);
    }
    return 0;
}

int web_page_period_form(web_page_t *p, const char *action, const char *period, const char *type)
{
    PGresult *per = web_db_query(
        p->db, "could not list the periods",
        "SELECT p.period FROM periods p JOIN report_types t ON t.code = p.type_code "
        "AND t.content_kind = 'periodic' GROUP BY p.period ORDER BY max(p.due) DESC, p.period "
        "LIMIT 100",
        0, NULL);
    if (!per)
        return web_page_db_fail(p);
    PGresult *types = web_db_query(p->db, "could not list the report types",
                                   "SELECT code, name_vi FROM report_types "
                                   "WHERE content_kind = 'periodic' ORDER BY code",
                                   0, NULL);
    if (!types) {
        PQclear(per);
        return web_page_db_fail(p);
    }
    FILE *f = p->body;
    fprintf(f,
            "<form class=\"filter\" method=\"get\" action=\"%s\">\n<label>Kỳ báo cáo "
            "<select name=\"period\">\n",
            action);
    for (int i = 0; i < PQntuples(per); i++) {
        const char *v = PQgetvalue(per, i, 0);
        fputs("<option value=\"", f);
        web_page_text(p, v);
        fputs(period && strcmp(period, v) == 0 ? "\" selected>" : "\">", f);
        web_page_text(p, v);
        fputs("</option>\n", f);
    }
    fputs("</select></label>\n<label>Loại báo cáo <select name=\"type\">\n"
          "<option value=\"\">Tất cả</option>\n",
          f);
    for (int i = 0; i < PQntuples(types); i++) {
        const char *v = PQgetvalue(types, i, 0);
        fputs("<option value=\"", f);
        web_page_text(p, v);
        fputs(type && strcmp(type, v) == 0 ? "\" selected>" : "\">", f);
        web_page_text(p, v);
        fputs(" – ", f);
        web_page_text(p, PQgetvalue(types, i, 1));
        fputs("</option>\n", f);
    }
    fputs("</select></label>\n<button type=\"submit\">Xem</button>\n</form>\n", f);
    PQclear(per);
    PQclear(types);
    return 0;
}
