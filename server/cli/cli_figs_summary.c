/* cli_figs_summary.c: the consolidated report (báo cáo tổng hợp) that the
 * district forwards to the province (DOMAIN.md section 9): its six tables
 * and their loading, for `cchc summary` (.xlsx, .html) and cchc-web
 * (/summary, /summary.xlsx, /api/summary). See cli_figs.h.
 *
 * Six tables, each one query of the views (013_figures.sql) and each ending
 * with its total row:
 *
 *   sheet              what                                       from
 *   -----------------  -----------------------------------------  -----------------------
 *   Hoàn thành         units x status of the period, with the     cchc_status,
 *                      reporting and on-time rates                cchc_completeness
 *   Hồ sơ (Mẫu 06)     the district's Form 06 totals per field    cchc_dossiers
 *   Hồ sơ quá hạn      every overdue dossier, cause and remedy    cchc_overdue_dossiers
 *   Khắc phục          remediation per inspection concluded by    cchc_remediation
 *                      the period's cut-off end and not closed
 *                      before its start
 *   Nhiệm vụ           the plan's tasks of the period's year per  cchc_tasks
 *                      index dimension, maintain and improve
 *                      side by side
 *   Chưa báo cáo       the units that have not reported           cchc_status
 *
 * Statuses are as of now (the injectable clock). The period is every
 * periodic type's that has it, or the given type's. */
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_mem.h"
#include "cchc_period.h"
#include "cli_figs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_N(a) ((int)(sizeof(a) / sizeof(a)[0]))

/* $1 period (upper case), $2 type or NULL, for the periodic types. */
#define S_PERIODIC(a)                                                                              \
    a ".content_kind = 'periodic' AND upper(" a ".period) = $1 AND ($2::text IS NULL OR " a        \
      ".type_code = $2)"

/* ---- 1. completeness --------------------------------------------------------------------- */

static const cli_out_col_t s_status_cols[] = {
    {"no", "STT", CLI_OUT_INT, 0, 0},
    {"type", "Loại báo cáo", CLI_OUT_TEXT, 0, 0},
    {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},
    {"due", "Hạn nộp", CLI_OUT_DATE, 0, 0},
    {"expected", "Phải nộp", CLI_OUT_INT, 0, 0},
    {"reported", "Đã nộp", CLI_OUT_INT, 0, 0},
    {"on_time", "Đúng hạn", CLI_OUT_INT, 0, 0},
    {"late", "Chậm hạn", CLI_OUT_INT, 0, 0},
    {"overdue", "Quá hạn", CLI_OUT_INT, 0, 0},
    {"not_yet_due", "Chưa đến hạn", CLI_OUT_INT, 0, 0},
    {"exempt", "Miễn nộp", CLI_OUT_INT, 0, 0},
    {"met_on", "Ngày nộp", CLI_OUT_DATE, 0, 0},
    {"working_days_late", "Số ngày làm việc chậm", CLI_OUT_INT, 0, 0},
    {"reporting_rate", "Tỷ lệ báo cáo (%)", CLI_OUT_NUM, 0, 0},
    {"on_time_rate", "Tỷ lệ đúng hạn (%)", CLI_OUT_NUM, 0, 0},
    {"total", "Tổng", CLI_OUT_BOOL, CLI_OUT_TOTAL, 0},
};

/* A unit per row, 1 under its status; the total row of each type sums them
 * and carries the rates of cchc_completeness. */
static const char s_status_sql[] =
    "SELECT * FROM (SELECT row_number() OVER (ORDER BY s.type_code, s.unit_code), s.type_code, "
    "s.unit_code, s.unit_name, s.due::text, "
    "CASE WHEN s.status <> 'exempt' THEN 1 END, "
    "CASE WHEN s.status IN ('on_time', 'late') THEN 1 END, "
    "CASE WHEN s.status = 'on_time' THEN 1 END, CASE WHEN s.status = 'late' THEN 1 END, "
    "CASE WHEN s.status = 'overdue' THEN 1 END, CASE WHEN s.status = 'not_yet_due' THEN 1 END, "
    "CASE WHEN s.status = 'exempt' THEN 1 END, s.met_on::text, nullif(s.wd_late, 0), "
    "NULL::numeric, NULL::numeric, false AS total FROM cchc_status s WHERE " S_PERIODIC(
        "s") " "
             "UNION ALL SELECT NULL, c.type_code, NULL, NULL, min(c.due)::text, sum(c.expected), "
             "sum(c.reported), sum(c.on_time), sum(c.late), sum(c.overdue), sum(c.not_yet_due), "
             "sum(c.exempt), NULL, NULL, cchc_rate(sum(c.reported), sum(c.expected)), "
             "cchc_rate(sum(c.on_time), sum(c.expected)), true FROM cchc_completeness c "
             "WHERE " S_PERIODIC("c") " GROUP BY c.type_code) x ORDER BY 2, 17, 3";

/* ---- 2. Form 06 -------------------------------------------------------------------------- */

static const cli_out_col_t s_dossier_cols[] = {
    {"type", "Loại báo cáo", CLI_OUT_TEXT, 0, 0},
    {"field", "Lĩnh vực", CLI_OUT_TEXT, 0, 0},
    CLI_FIG_FORM06_COLS,
    {"total", "Tổng", CLI_OUT_BOOL, CLI_OUT_TOTAL, 0},
};

static const char s_dossier_sql[] =
    "WITH d AS (SELECT d.* FROM cchc_dossiers d WHERE upper(d.period) = $1 "
    "AND ($2::text IS NULL OR d.type_code = $2)) "
    "SELECT d.type_code, d.field, " CLI_FIG_FORM06_SUMS ", false FROM d "
    "GROUP BY d.type_code, d.field UNION ALL SELECT d.type_code, NULL, " CLI_FIG_FORM06_SUMS ", "
    "true FROM d GROUP BY d.type_code ORDER BY 1, 19, 2";

/* ---- 3. overdue dossiers ----------------------------------------------------------------- */

static const cli_out_col_t s_overdue_cols[] = {
    {"no", "STT", CLI_OUT_INT, 0, 0},
    {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},
    CLI_FIG_OVERDUE_COLS,
    {"total", "Tổng", CLI_OUT_BOOL, CLI_OUT_TOTAL, 0},
};

/* The total row counts the dossiers under STT. */
static const char s_overdue_sql[] =
    "WITH o AS (SELECT o.* FROM cchc_overdue_dossiers o WHERE upper(o.period) = $1 "
    "AND ($2::text IS NULL OR o.type_code = $2)) "
    "SELECT * FROM (SELECT row_number() OVER (ORDER BY o.unit_code, o.seq), o.unit_code, "
    "o.unit_name, " CLI_FIG_OVERDUE_SELECT ", false AS total FROM o "
    "UNION ALL SELECT count(*), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, true FROM o HAVING count(*) > 0) x "
    "ORDER BY 18, 1";

/* ---- 4. remediation ---------------------------------------------------------------------- */

static const cli_out_col_t s_remediation_cols[] = {CLI_FIG_REMEDIATION_COLS};

/* Inspections concluded by the period's cut-off end and not closed before
 * its start (the earliest window of the periodic types with that period). */
static const char s_remediation_sql[] =
    "WITH p AS (SELECT min(p.cutoff_start) AS a, max(p.cutoff_end) AS b FROM periods p "
    "JOIN report_types t ON t.code = p.type_code AND t.content_kind = 'periodic' "
    "WHERE upper(p.period) = $1 AND ($2::text IS NULL OR p.type_code = $2)), "
    "x AS (SELECT x.* FROM cchc_remediation x, p WHERE x.conclusion_date <= p.b "
    "AND (x.inspection_status <> 'closed' OR x.conclusion_date >= "
    "p.a)) " CLI_FIG_REMEDIATION_SELECT;

/* ---- 5. tasks ---------------------------------------------------------------------------- */

static const cli_out_col_t s_task_cols[] = {
    {"index", "Chỉ số", CLI_OUT_TEXT, 0, 0},
    {"dimension", "Nội dung", CLI_OUT_TEXT, 0, 0},
    {"maintain_tasks", "Duy trì: số nhiệm vụ", CLI_OUT_INT, 0, 0},
    {"maintain_done", "Duy trì: hoàn thành", CLI_OUT_INT, 0, 0},
    {"maintain_overdue", "Duy trì: quá hạn", CLI_OUT_INT, 0, 0},
    {"maintain_in_progress", "Duy trì: đang thực hiện", CLI_OUT_INT, 0, 0},
    {"maintain_done_rate", "Duy trì: tỷ lệ hoàn thành (%)", CLI_OUT_NUM, 0, 0},
    {"improve_tasks", "Cải thiện: số nhiệm vụ", CLI_OUT_INT, 0, 0},
    {"improve_done", "Cải thiện: hoàn thành", CLI_OUT_INT, 0, 0},
    {"improve_overdue", "Cải thiện: quá hạn", CLI_OUT_INT, 0, 0},
    {"improve_in_progress", "Cải thiện: đang thực hiện", CLI_OUT_INT, 0, 0},
    {"improve_done_rate", "Cải thiện: tỷ lệ hoàn thành (%)", CLI_OUT_NUM, 0, 0},
    {"total", "Tổng", CLI_OUT_BOOL, CLI_OUT_TOTAL, 0},
};

#define S_TASK_SIDE(t)                                                                             \
    "count(*) FILTER (WHERE k.target = '" t "'), "                                                 \
    "count(*) FILTER (WHERE k.target = '" t "' AND k.state = 'done'), "                            \
    "count(*) FILTER (WHERE k.target = '" t "' AND k.state = 'overdue'), "                         \
    "count(*) FILTER (WHERE k.target = '" t "' AND k.state = 'in_progress'), "                     \
    "cchc_rate(count(*) FILTER (WHERE k.target = '" t "' AND k.state = 'done'), "                  \
    "count(*) FILTER (WHERE k.target = '" t "'))"

/* The tasks due in the period's year ($1, its only parameter). */
static const char s_task_sql[] =
    "WITH k AS (SELECT * FROM cchc_tasks k WHERE extract(year FROM k.due) = $1::int) "
    "SELECT k.index_name, k.dimension, " S_TASK_SIDE("maintain") ", " S_TASK_SIDE(
        "improve") ", "
                   "false FROM k GROUP BY k.index_name, k.dimension "
                   "UNION ALL SELECT NULL, NULL, " S_TASK_SIDE("maintain") ", " S_TASK_SIDE(
                       "improve") ", true "
                                  "FROM k HAVING count(*) > 0 ORDER BY 13, 1, 2";

/* ---- 6. not reported --------------------------------------------------------------------- */

static const cli_out_col_t s_missing_cols[] = {
    {"no", "STT", CLI_OUT_INT, 0, 0},
    {"type", "Loại báo cáo", CLI_OUT_TEXT, 0, 0},
    {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_kind", "Loại đơn vị", CLI_OUT_TEXT, 0, 0},
    {"due", "Hạn nộp", CLI_OUT_DATE, 0, 0},
    {"status_vi", "Tình trạng", CLI_OUT_TEXT, 0, 0},
    {"working_days_late", "Số ngày làm việc quá hạn", CLI_OUT_INT, 0, 0},
    {"total", "Tổng", CLI_OUT_BOOL, CLI_OUT_TOTAL, 0},
};

/* The total row counts the units under STT. */
static const char s_missing_sql[] = "WITH s AS (SELECT s.* FROM cchc_status s WHERE " S_PERIODIC(
    "s") " "
         "AND s.status IN ('overdue', 'not_yet_due')) "
         "SELECT * FROM (SELECT row_number() OVER (ORDER BY s.type_code, s.unit_code), "
         "s.type_code, "
         "s.unit_code, s.unit_name, cchc_label_vi(s.unit_kind), s.due::text, s.status_vi, "
         "s.wd_late, false AS total FROM s UNION ALL SELECT count(*), NULL, NULL, NULL, NULL, "
         "NULL, "
         "NULL, NULL, true FROM s HAVING count(*) > 0) x ORDER BY 9, 1";

/* ---- the report -------------------------------------------------------------------------- */

#define S_TABLE(title, cols, sql, nparams)                                                         \
    {                                                                                              \
        title, cols, S_N(cols), sql, nparams                                                       \
    }
const cli_figs_def_t cli_figs_summary[CLI_FIGS_SUMMARY_TABLES] = {
    S_TABLE("Hoàn thành", s_status_cols, s_status_sql, 2),
    S_TABLE("Hồ sơ (Mẫu 06)", s_dossier_cols, s_dossier_sql, 2),
    S_TABLE("Hồ sơ quá hạn", s_overdue_cols, s_overdue_sql, 2),
    S_TABLE("Khắc phục", s_remediation_cols, s_remediation_sql, 2),
    S_TABLE("Nhiệm vụ", s_task_cols, s_task_sql, 1),
    S_TABLE("Chưa báo cáo", s_missing_cols, s_missing_sql, 2),
};

const char *const cli_figs_summary_keys[CLI_FIGS_SUMMARY_TABLES] = {
    "completeness", "dossiers", "overdue", "remediation", "tasks", "not_reported",
};

/* The period's facts for the page's header: the types, the window, the due
 * date, the types' names. No row when no periodic type has the period. */
static const char s_period_sql[] =
    "SELECT string_agg(DISTINCT p.type_code, ', '), cchc_dmy(min(p.cutoff_start)), "
    "cchc_dmy(max(p.cutoff_end)), cchc_dmy(min(p.due)), string_agg(DISTINCT t.name_vi, '; ') "
    "FROM periods p JOIN report_types t ON t.code = p.type_code "
    "AND t.content_kind = 'periodic' WHERE upper(p.period) = $1 "
    "AND ($2::text IS NULL OR p.type_code = $2) HAVING count(*) > 0";

int cli_figs_summary_load(cli_figs_summary_t *s, const char *period, const char *type,
                          cli_figs_query_fn q, void *arg)
{
    memset(s, 0, sizeof *s);
    char year[8];
    snprintf(year, sizeof year, "%.4s", period);
    const char *params[3] = {period, type, year};
    s->period = q(arg, "could not read the period", s_period_sql, 2, params);
    if (!s->period)
        return -1;
    if (PQntuples(s->period) == 0)
        return CCHC_ENOTFOUND;
    for (int i = 0; i < CLI_FIGS_SUMMARY_TABLES; i++) {
        const cli_figs_def_t *t = &cli_figs_summary[i];
        int tasks = i == CLI_FIGS_SUMMARY_TASKS;
        s->res[i] = q(arg, "could not compute the summary", t->sql, t->nparams,
                      tasks ? params + 2 : params);
        if (!s->res[i])
            return -1;
        s->outs[i] =
            (cli_out_t){.title = t->title, .cols = t->cols, .ncols = t->ncols, .res = s->res[i]};
    }
    /* "dd/mm/yyyy HH:MM", Vietnam time */
    char now[40];
    int64_t ms = cchc_clock_now_ms();
    int y, m, d;
    cchc_day_to_ymd(cchc_day_of_instant(ms), &y, &m, &d);
    long long sec = (ms + CCHC_CLOCK_VN_OFFSET_MS) / 1000 % 86400;
    snprintf(now, sizeof now, "%02d/%02d/%04d %02lld:%02lld", d, m, y, sec / 3600, sec / 60 % 60);
    const PGresult *per = s->period;
    s->title = cchc_asprintf("Báo cáo tổng hợp công tác cải cách hành chính kỳ %s", period);
    s->subject = cchc_asprintf("%.199s", PQgetvalue(per, 0, 4));
    s->lines[0] = cchc_asprintf("%s (%s)", PQgetvalue(per, 0, 4), PQgetvalue(per, 0, 0));
    s->lines[1] =
        cchc_asprintf("Số liệu từ ngày %s đến ngày %s; hạn nộp báo cáo %s.", PQgetvalue(per, 0, 1),
                      PQgetvalue(per, 0, 2), PQgetvalue(per, 0, 3));
    s->lines[2] = cchc_asprintf("Tình hình tính đến %s.", now);
    return 0;
}

void cli_figs_summary_free(cli_figs_summary_t *s)
{
    for (int i = 0; i < CLI_FIGS_SUMMARY_TABLES; i++)
        PQclear(s->res[i]);
    PQclear(s->period);
    free(s->title);
    free(s->subject);
    for (int i = 0; i < 3; i++)
        free(s->lines[i]);
    memset(s, 0, sizeof *s);
}
