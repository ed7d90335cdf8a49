/* cli_export.c: figures as an .xlsx workbook and as one HTML page (see
 * cli_export.h).
 *
 * libxlsxwriter writes the whole file at workbook_close; it is written beside
 * the target and renamed over it, so an operator never finds half a workbook
 * where the last good one was. Cells are written by their column's type:
 * worksheet_write_string never makes a formula, so text from a report cannot
 * become one. */
#include "cli_export.h"
#include "cchc_clock.h"
#include "cchc_mem.h"
#include "cchc_period.h"
#include "cli_db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define S_COL_MAX_WIDTH 50 /* characters: longer text wraps */

/* ---- xlsx ---------------------------------------------------------------------------- */

typedef struct {
    lxw_format *head, *text, *wrap, *num, *rate, *date, *time;
    lxw_format *t_text, *t_num, *t_rate; /* total rows */
} s_formats_t;

static lxw_format *s_format(lxw_workbook *wb, int bold, const char *num, int wrap)
{
    lxw_format *f = workbook_add_format(wb);
    if (bold)
        format_set_bold(f);
    if (num)
        format_set_num_format(f, num);
    if (wrap)
        format_set_text_wrap(f);
    format_set_align(f, LXW_ALIGN_VERTICAL_TOP);
    return f;
}

static void s_formats(lxw_workbook *wb, s_formats_t *f)
{
    f->head = s_format(wb, 1, NULL, 1);
    format_set_bg_color(f->head, 0xDDEBF7);
    format_set_border(f->head, LXW_BORDER_THIN);
    f->text = s_format(wb, 0, NULL, 0);
    f->wrap = s_format(wb, 0, NULL, 1);
    f->num = s_format(wb, 0, "0", 0);
    f->rate = s_format(wb, 0, "0.00", 0);
    f->date = s_format(wb, 0, "dd/mm/yyyy", 0);
    f->time = s_format(wb, 0, "dd/mm/yyyy hh:mm", 0);
    f->t_text = s_format(wb, 1, NULL, 0);
    f->t_num = s_format(wb, 1, "0", 0);
    f->t_rate = s_format(wb, 1, "0.00", 0);
}

/* An instant (ms) as Vietnam civil date and time. */
static lxw_datetime s_local(long long ms)
{
    cchc_day_t day = cchc_day_of_instant(ms);
    long long s = (ms + CCHC_CLOCK_VN_OFFSET_MS) / 1000 % 86400;
    if (s < 0)
        s += 86400;
    lxw_datetime dt = {0};
    cchc_day_to_ymd(day, &dt.year, &dt.month, &dt.day);
    dt.hour = (int)(s / 3600);
    dt.min = (int)(s / 60 % 60);
    dt.sec = (double)(s % 60);
    return dt;
}

/* Writes cell (i, c) of out at (row, col). */
static lxw_error s_xlsx_cell(lxw_worksheet *ws, const s_formats_t *f, const cli_out_t *out, int i,
                             int c, lxw_row_t row, lxw_col_t col, int total)
{
    const PGresult *r = out->res;
    const cli_out_col_t *k = &out->cols[c];
    char buf[64];
    if (PQgetisnull(r, i, c)) {
        const char *label = cli_out_cell(out, i, c, buf, sizeof buf);
        return label ? worksheet_write_string(ws, row, col, label, f->t_text) : LXW_NO_ERROR;
    }
    const char *v = PQgetvalue(r, i, c);
    switch (k->type) {
    case CLI_OUT_INT:
        return worksheet_write_number(ws, row, col, strtod(v, NULL), total ? f->t_num : f->num);
    case CLI_OUT_NUM:
        return worksheet_write_number(ws, row, col, strtod(v, NULL), total ? f->t_rate : f->rate);
    case CLI_OUT_DATE: {
        cchc_day_t day;
        if (cchc_day_parse(v, &day) != 0)
            return worksheet_write_string(ws, row, col, v, f->text);
        lxw_datetime dt = {0};
        cchc_day_to_ymd(day, &dt.year, &dt.month, &dt.day);
        return worksheet_write_datetime(ws, row, col, &dt, f->date);
    }
    case CLI_OUT_TIME: {
        lxw_datetime dt = s_local(strtoll(v, NULL, 10));
        return worksheet_write_datetime(ws, row, col, &dt, f->time);
    }
    default:
        return worksheet_write_string(ws, row, col, cli_out_cell(out, i, c, buf, sizeof buf),
                                      total          ? f->t_text
                                      : k->max_width ? f->wrap
                                                     : f->text);
    }
}

static lxw_error s_xlsx_sheet(lxw_workbook *wb, const s_formats_t *f, const cli_out_t *out)
{
    lxw_worksheet *ws = workbook_add_worksheet(wb, out->title);
    if (!ws)
        return LXW_ERROR_SHEETNAME_ALREADY_USED;
    const PGresult *r = out->res;
    int n = PQntuples(r);
    lxw_col_t col = 0;
    lxw_error e = LXW_NO_ERROR;
    for (int c = 0; c < out->ncols && !e; c++) {
        if (!cli_out_human(&out->cols[c]))
            continue;
        size_t width = cli_db_display_width(out->cols[c].label) / 2 + 2;
        e = worksheet_write_string(ws, 0, col, out->cols[c].label, f->head);
        for (int i = 0; i < n && !e; i++) {
            char buf[64];
            const char *v = cli_out_cell(out, i, c, buf, sizeof buf);
            size_t w = v ? cli_db_display_width(v) + 2 : 0;
            if (out->cols[c].type == CLI_OUT_DATE || out->cols[c].type == CLI_OUT_TIME)
                w = out->cols[c].type == CLI_OUT_DATE ? 12 : 17;
            if (w > width)
                width = w;
            e = s_xlsx_cell(ws, f, out, i, c, (lxw_row_t)(i + 1), col, cli_out_is_total(out, i));
        }
        if (!e)
            e = worksheet_set_column(
                ws, col, col, (double)(width > S_COL_MAX_WIDTH ? S_COL_MAX_WIDTH : width), NULL);
        col++;
    }
    if (e)
        return e;
    worksheet_set_row(ws, 0, 32, NULL);
    worksheet_freeze_panes(ws, 1, 0);
    if (col > 0)
        e = worksheet_autofilter(ws, 0, 0, (lxw_row_t)(n > 0 ? n : 1), (lxw_col_t)(col - 1));
    return e;
}

int cli_export_xlsx(const char *path, const char *title, const char *subject, const cli_out_t *outs,
                    int n, char *err, size_t errlen)
{
    char *tmp = cchc_asprintf("%s.tmp-%ld", path, (long)getpid());
    lxw_workbook *wb = workbook_new(tmp);
    int rc = -1;
    if (!wb) {
        snprintf(err, errlen, "could not create file \"%s\": %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    lxw_doc_properties props = {.title = (char *)title,
                                .subject = (char *)subject,
                                .author = "cchc",
                                .comments = "cchc summary"};
    workbook_set_properties(wb, &props);
    s_formats_t f;
    s_formats(wb, &f);
    lxw_error e = LXW_NO_ERROR;
    for (int i = 0; i < n && !e; i++)
        if ((e = s_xlsx_sheet(wb, &f, &outs[i])) != LXW_NO_ERROR)
            snprintf(err, errlen, "could not write sheet \"%s\": %s", outs[i].title,
                     lxw_strerror(e));
    lxw_error ce = workbook_close(wb);
    if (!e && ce)
        snprintf(err, errlen, "could not write file \"%s\": %s", tmp, lxw_strerror(ce));
    else if (!e && rename(tmp, path) != 0)
        snprintf(err, errlen, "could not rename \"%s\" to \"%s\": %s", tmp, path, strerror(errno));
    else if (!e)
        rc = 0;
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* ---- HTML ---------------------------------------------------------------------------- */

void cli_export_html_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* A cell for the page: dates as the district writes them (dd/mm/yyyy).
 * With classes, every cell says what it holds (n number, d date or time,
 * c a short text such as a code or a name, w a long text to wrap), for a
 * page's style sheet; without, only numbers do (the printed report). */
static void s_html_cell(FILE *f, const cli_out_t *out, int i, int c, int classes)
{
    char buf[64];
    const char *v = cli_out_cell(out, i, c, buf, sizeof buf);
    cli_out_type_t t = out->cols[c].type;
    int num = t == CLI_OUT_INT || t == CLI_OUT_NUM;
    if (num)
        fputs("<td class=\"n\">", f);
    else if (!classes)
        fputs("<td>", f);
    else if (t == CLI_OUT_DATE || t == CLI_OUT_TIME)
        fputs("<td class=\"d\">", f);
    else
        fputs(out->cols[c].max_width ? "<td class=\"w\">" : "<td class=\"c\">", f);
    cchc_day_t day;
    if (v && t == CLI_OUT_DATE && cchc_day_parse(v, &day) == 0) {
        int y, m, d;
        cchc_day_to_ymd(day, &y, &m, &d);
        fprintf(f, "%02d/%02d/%04d", d, m, y);
    } else if (v && t == CLI_OUT_TIME && strlen(v) >= 16) {
        /* "YYYY-MM-DD HH:MM" */
        fprintf(f, "%.2s/%.2s/%.4s %.5s", v + 8, v + 5, v, v + 11);
    } else {
        cli_export_html_text(f, v ? v : "");
    }
    fputs("</td>", f);
}

static void s_html_table(FILE *f, const cli_out_t *out, int classes)
{
    int n = PQntuples(out->res);
    fputs("<table>\n<thead><tr>", f);
    for (int c = 0; c < out->ncols; c++)
        if (cli_out_human(&out->cols[c])) {
            fputs("<th>", f);
            cli_export_html_text(f, out->cols[c].label);
            fputs("</th>", f);
        }
    fputs("</tr></thead>\n<tbody>\n", f);
    for (int i = 0; i < n; i++) {
        fputs(cli_out_is_total(out, i) ? "<tr class=\"total\">" : "<tr>", f);
        for (int c = 0; c < out->ncols; c++)
            if (cli_out_human(&out->cols[c]))
                s_html_cell(f, out, i, c, classes);
        fputs("</tr>\n", f);
    }
    if (n == 0)
        fputs("<tr><td class=\"none\">Không có số liệu.</td></tr>\n", f);
    fputs("</tbody>\n</table>\n", f);
}

void cli_export_html_table(FILE *f, const cli_out_t *out)
{
    s_html_table(f, out, 0);
}

void cli_export_html_table_classed(FILE *f, const cli_out_t *out)
{
    s_html_table(f, out, 1);
}

static const char s_style[] =
    "body{font-family:'Times New Roman',Times,serif;font-size:12pt;margin:1.5em;color:#111}"
    "h1{font-size:16pt;text-align:center;text-transform:uppercase;margin:0 0 .3em}"
    "header p{text-align:center;margin:.1em 0}"
    "h2{font-size:13pt;margin:1.4em 0 .4em;break-after:avoid}"
    "table{border-collapse:collapse;width:100%;font-size:9.5pt}"
    "th,td{border:1px solid #444;padding:2px 4px;vertical-align:top}"
    "th{background:#e8eef7}td.n{text-align:right;white-space:nowrap}"
    "tr.total td{font-weight:bold;background:#f4f4f4}td.none{font-style:italic}"
    "thead{display:table-header-group}tr{break-inside:avoid}"
    "@page{size:A4 landscape;margin:12mm}"
    "@media print{body{margin:0}section{break-inside:auto}}";

int cli_export_html(FILE *f, const char *title, const char *const *subtitle, int nsub,
                    const cli_out_t *outs, int n)
{
    fputs("<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    cli_export_html_text(f, title);
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1>", s_style);
    cli_export_html_text(f, title);
    fputs("</h1>\n", f);
    for (int i = 0; i < nsub; i++) {
        fputs("<p>", f);
        cli_export_html_text(f, subtitle[i]);
        fputs("</p>\n", f);
    }
    fputs("</header>\n", f);
    for (int i = 0; i < n; i++) {
        fprintf(f, "<section>\n<h2>%d. ", i + 1);
        cli_export_html_text(f, outs[i].title);
        fputs("</h2>\n", f);
        cli_export_html_table(f, &outs[i]);
        fputs("</section>\n", f);
    }
    fputs("</body>\n</html>\n", f);
    return ferror(f) ? -1 : 0;
}
