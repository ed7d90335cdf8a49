/* cli_figs.h: the district's figures, each defined once: the query of the
 * views (013_figures.sql) and the columns that describe its result
 * (cli_out.h). cchc's figure commands (cli_status.c ... cli_summary.c) print
 * them as tables, JSON or CSV; cchc-web (server/web) shows the same
 * definitions as pages and /api/ JSON, so the two cannot disagree.
 *
 * Nothing here talks to a terminal or exits: the definitions are constant,
 * and the consolidated report's loader runs its queries through a function
 * the program gives it (which says why a query failed, its own way). This
 * library is cchc_figs in CMake: cli_out.c, cli_export.c, cli_figs.c and
 * cli_figs_summary.c. */
#ifndef CLI_FIGS_H
#define CLI_FIGS_H

#include "cli_out.h"

#include <libpq-fe.h>

/* One figure: its result's columns and the statement that gives it. Every
 * parameter is text, a NULL parameter meaning "any" unless said otherwise. */
typedef struct {
    const char *title; /* sheet and section name (the consolidated report), else NULL */
    const cli_out_col_t *cols;
    int ncols;
    const char *sql;
    int nparams;
} cli_figs_def_t;

/* ---- who has reported (cchc status) ---------------------------------------------------- */

/* One row per expectation: $1 period or subject (upper case), $2 type, $3 unit,
 * $4 status. Ordered by due date, type, period, unit. */
extern const cli_figs_def_t cli_figs_status;
/* The same rolled up (SET cchc.rollup = on, 020): a last column names the unit
 * each row is of (source_unit). */
extern const cli_figs_def_t cli_figs_status_rollup;
/* One row per type and period: counts per status and the rates; $1, $2 as above. */
extern const cli_figs_def_t cli_figs_rates;

/* ---- dossiers (cchc overdue, cchc dossiers) ------------------------------------------------ */

/* Every overdue dossier: $1 period (upper case), $2 type, $3 unit, $4 field (upper case). */
extern const cli_figs_def_t cli_figs_overdue;
/* The same rolled up, with the unit each row is of last (source_unit). */
extern const cli_figs_def_t cli_figs_overdue_rollup;
/* Form 06 summed per --by, each table ending with its total per period:
 * $1 period, $2 type, $3 unit, $4 field, as cli_figs_overdue. */
enum { CLI_FIGS_BY_FIELD, CLI_FIGS_BY_UNIT, CLI_FIGS_BY_UNIT_FIELD };
extern const cli_figs_def_t cli_figs_dossiers[3];

/* ---- remediation (cchc remediation) ------------------------------------------------------- */

/* Per inspection, with a total row: $1 inspection, $2 unit. */
extern const cli_figs_def_t cli_figs_remediation;
/* Per finding: $1 inspection, $2 unit, $3 status. */
extern const cli_figs_def_t cli_figs_findings;

/* ---- the plan's tasks (cchc tasks) ----------------------------------------------------------- */

/* CLI_FIGS_TASKS_BY_TASK: $1 index, $2 dimension, $3 state.
 * CLI_FIGS_TASKS_BY_UNIT: the same and $4 unit.
 * CLI_FIGS_TASKS_BY_DIMENSION: $1 index, $2 dimension; a total row. */
enum { CLI_FIGS_TASKS_BY_TASK, CLI_FIGS_TASKS_BY_UNIT, CLI_FIGS_TASKS_BY_DIMENSION };
extern const cli_figs_def_t cli_figs_tasks[3];

/* ---- agents (cchc agents) ----------------------------------------------------------------------
 */

/* One row per unit, the longest silent first: $1 unit, $2 "t" to show units
 * not open today too (never NULL). */
extern const cli_figs_def_t cli_figs_agents;

/* ---- the consolidated report (cchc summary) ------------------------------------------------ */

/* Its six tables, in order: $1 period (upper case), $2 type; except the
 * tasks' (CLI_FIGS_SUMMARY_TASKS), whose only parameter is the year. */
enum { CLI_FIGS_SUMMARY_TASKS = 4, CLI_FIGS_SUMMARY_TABLES = 6 };
extern const cli_figs_def_t cli_figs_summary[CLI_FIGS_SUMMARY_TABLES];
/* The JSON names of the six tables (cchc-web's /api/summary). */
extern const char *const cli_figs_summary_keys[CLI_FIGS_SUMMARY_TABLES];

/* Runs one statement for the loader: the rows (PGRES_TUPLES_OK), the caller's
 * to PQclear; or NULL once the function has said why, its own way (`what`
 * names what failed, e.g. "could not compute the summary"). */
typedef PGresult *(*cli_figs_query_fn)(void *arg, const char *what, const char *sql, int nparams,
                                       const char *const *params);

/* A period's consolidated report, read. */
typedef struct {
    PGresult *period; /* one row: types, cut-off start and end, due (dd/mm/yyyy), type names */
    PGresult *res[CLI_FIGS_SUMMARY_TABLES];
    cli_out_t outs[CLI_FIGS_SUMMARY_TABLES]; /* the six figures over res */
    char *title;    /* "Báo cáo tổng hợp công tác cải cách hành chính kỳ 2024S1" */
    char *subject;  /* the types' names, for the workbook's properties */
    char *lines[3]; /* the page's subtitle: types, window and due date, "as of" */
} cli_figs_summary_t;

/* Reads the consolidated report of period (a period id, upper case) for
 * every periodic type that has it, or only type (NULL: every one), as of
 * the injectable clock. 0; CCHC_ENOTFOUND when no periodic type has that
 * period (nothing said: the caller words it); -1 when a query failed (q said
 * why). s is to be released with cli_figs_summary_free in every case. */
int cli_figs_summary_load(cli_figs_summary_t *s, const char *period, const char *type,
                          cli_figs_query_fn q, void *arg);
void cli_figs_summary_free(cli_figs_summary_t *s);

/* ---- building blocks of the definitions ------------------------------------------------------ */

/* Form 06 (cchc_dossiers), summed over d: the reporting units, then the
 * figures and their rates, as columns and as the SQL that gives them. */
#define CLI_FIG_FORM06_COLS {"units", "Số đơn vị", CLI_OUT_INT, 0, 0}, CLI_FIG_FORM06_FIGURE_COLS
#define CLI_FIG_FORM06_FIGURE_COLS                                                                 \
    {"carried_over", "Tồn kỳ trước", CLI_OUT_INT, 0, 0},                                           \
        {"new_online", "Mới trực tuyến", CLI_OUT_INT, 0, 0},                                       \
        {"new_direct_postal", "Mới trực tiếp, bưu chính", CLI_OUT_INT, 0, 0},                      \
        {"new_total", "Tổng mới", CLI_OUT_INT, CLI_OUT_JSON_ONLY, 0},                              \
        {"received", "Tổng tiếp nhận", CLI_OUT_INT, 0, 0},                                         \
        {"resolved_early", "Giải quyết trước hạn", CLI_OUT_INT, 0, 0},                             \
        {"resolved_on_time", "Giải quyết đúng hạn", CLI_OUT_INT, 0, 0},                            \
        {"resolved_late", "Giải quyết quá hạn", CLI_OUT_INT, 0, 0},                                \
        {"resolved", "Tổng đã giải quyết", CLI_OUT_INT, 0, 0},                                     \
        {"pending_in_time", "Đang giải quyết trong hạn", CLI_OUT_INT, 0, 0},                       \
        {"pending_overdue", "Đang giải quyết quá hạn", CLI_OUT_INT, 0, 0},                         \
        {"pending", "Tổng đang giải quyết", CLI_OUT_INT, 0, 0},                                    \
        {"on_time_rate", "Tỷ lệ đúng hạn (%)", CLI_OUT_NUM, 0, 0},                                 \
        {"online_share", "Tỷ lệ trực tuyến (%)", CLI_OUT_NUM, 0, 0},                               \
    {                                                                                              \
        "overdue_backlog", "Tồn quá hạn", CLI_OUT_INT, CLI_OUT_JSON_ONLY, 0                        \
    }
#define CLI_FIG_FORM06_SUMS                                                                        \
    "count(DISTINCT d.unit_code), sum(d.carried_over), sum(d.new_online), "                        \
    "sum(d.new_direct_postal), sum(d.new_total), sum(d.received), sum(d.resolved_early), "         \
    "sum(d.resolved_on_time), sum(d.resolved_late), sum(d.resolved), sum(d.pending_in_time), "     \
    "sum(d.pending_overdue), sum(d.pending), "                                                     \
    "cchc_rate(sum(d.resolved_early + d.resolved_on_time), sum(d.resolved)), "                     \
    "cchc_rate(sum(d.new_online), sum(d.new_total)), sum(d.pending_overdue)"

/* An overdue dossier (cchc_overdue_dossiers o), from its code to its apology slip. */
#define CLI_FIG_OVERDUE_COLS                                                                       \
    {"dossier_code", "Mã hồ sơ", CLI_OUT_TEXT, 0, 0}, {"field", "Lĩnh vực", CLI_OUT_TEXT, 0, 0},   \
        {"procedure", "Thủ tục", CLI_OUT_TEXT, 0, 30},                                             \
        {"received", "Ngày tiếp nhận", CLI_OUT_DATE, 0, 0},                                        \
        {"due", "Hạn trả kết quả", CLI_OUT_DATE, 0, 0},                                            \
        {"resolved", "Ngày trả kết quả", CLI_OUT_DATE, 0, 0},                                      \
        {"state", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},                               \
        {"state_vi", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},                           \
        {"working_days_late", "Số ngày làm việc quá hạn", CLI_OUT_INT, 0, 0},                      \
        {"cause", "Nguyên nhân", CLI_OUT_TEXT, 0, 40},                                             \
        {"remedy", "Biện pháp khắc phục", CLI_OUT_TEXT, 0, 40},                                    \
        {"apology_number", "Phiếu xin lỗi số", CLI_OUT_TEXT, 0, 0},                                \
        {"apology_date", "Ngày phiếu", CLI_OUT_DATE, 0, 0},                                        \
    {                                                                                              \
        "apology_new_due", "Hẹn trả lại", CLI_OUT_DATE, 0, 0                                       \
    }
#define CLI_FIG_OVERDUE_SELECT                                                                     \
    "o.dossier_code, o.field, o.procedure, o.received::text, o.due::text, o.resolved::text, "      \
    "o.state, o.state_vi, o.wd_late, o.cause, o.remedy, o.apology_number, o.apology_date::text, "  \
    "o.apology_new_due::text"

/* Remediation per inspection (cchc_remediation rows in x), with the total row
 * over them: the columns, and the query once x is defined. */
#define CLI_FIG_REMEDIATION_COLS                                                                   \
    {"inspection", "Mã kiểm tra", CLI_OUT_TEXT, 0, 0}, {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},  \
        {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},                                               \
        {"inspected_on", "Ngày kiểm tra", CLI_OUT_DATE, 0, 0},                                     \
        {"conclusion_number", "Thông báo kết luận", CLI_OUT_TEXT, 0, 0},                           \
        {"conclusion_date", "Ngày kết luận", CLI_OUT_DATE, 0, 0},                                  \
        {"remediation_due", "Hạn báo cáo khắc phục", CLI_OUT_DATE, 0, 0},                          \
        {"findings", "Số tồn tại", CLI_OUT_INT, 0, 0},                                             \
        {"remedied", "Đã khắc phục", CLI_OUT_INT, 0, 0},                                           \
        {"in_progress", "Đang khắc phục", CLI_OUT_INT, 0, 0},                                      \
        {"not_remedied", "Chưa khắc phục", CLI_OUT_INT, 0, 0},                                     \
        {"open", "Chưa trả lời", CLI_OUT_INT, 0, 0},                                               \
        {"completion_rate", "Tỷ lệ hoàn thành (%)", CLI_OUT_NUM, 0, 0},                            \
        {"report_status", "Báo cáo khắc phục", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},                \
        {"report_status_vi", "Báo cáo khắc phục", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},            \
        {"report_id", "Báo cáo", CLI_OUT_INT, 0, 0},                                               \
        {"team", "Đoàn kiểm tra", CLI_OUT_TEXT, 0, 30},                                            \
    {                                                                                              \
        "total", "Tổng", CLI_OUT_BOOL, CLI_OUT_TOTAL, 0                                            \
    }
#define CLI_FIG_REMEDIATION_SELECT                                                                 \
    "SELECT x.inspection, x.unit_code, x.unit_name, x.inspected_on::text, x.conclusion_number, "   \
    "x.conclusion_date::text, x.remediation_due::text, x.findings, x.remedied, x.in_progress, "    \
    "x.not_remedied, x.open, x.completion_rate, x.report_status, x.report_status_vi, "             \
    "x.report_id, x.team, false FROM x "                                                           \
    "UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, sum(x.findings), "                 \
    "sum(x.remedied), sum(x.in_progress), sum(x.not_remedied), sum(x.open), "                      \
    "cchc_rate(sum(x.remedied), sum(x.findings)), NULL, NULL, NULL, NULL, true FROM x "            \
    "HAVING count(*) > 0 ORDER BY 18, 6, 1"

#endif
