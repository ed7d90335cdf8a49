/* cli_fig.h: what the figure commands share (cchc status, overdue, dossiers,
 * remediation, tasks, agents): their filter options, checked the same way
 * everywhere, and running one query of the views (013_figures.sql) into a
 * table, JSON or CSV (cli_out.h). */
#ifndef CLI_FIG_H
#define CLI_FIG_H

#include "cli_db.h"
#include "cli_out.h"

/* The options a command accepts (cli_fig_spec_t.accept). */
enum {
    CLI_FIG_PERIOD = 1u << 0,     /* --period P: a period id (any case), or an inspection's or
                                     task's code */
    CLI_FIG_TYPE = 1u << 1,       /* --type T (any case) */
    CLI_FIG_UNIT = 1u << 2,       /* --unit U: checked against the units */
    CLI_FIG_FIELD = 1u << 3,      /* --field F: a procedure field (any case) */
    CLI_FIG_DIMENSION = 1u << 4,  /* --dimension D: D1-D8, L1-L8, S1-S5 (any case) */
    CLI_FIG_INDEX = 1u << 5,      /* --index PAPI|PAR|SIPAS (any case) */
    CLI_FIG_STATUS = 1u << 6,     /* --status S: one of spec.statuses */
    CLI_FIG_INSPECTION = 1u << 7, /* --inspection CODE */
    CLI_FIG_BY = 1u << 8,         /* --by X: one of spec.bys, the first the default */
    CLI_FIG_ALL = 1u << 9,        /* --all */
    CLI_FIG_RATES = 1u << 10,     /* --rates */
    CLI_FIG_FINDINGS = 1u << 11,  /* --findings */
    CLI_FIG_OUT = 1u << 12,       /* --out FILE */
    CLI_FIG_SINCE = 1u << 13,     /* --since YYYY-MM-DD: from 00:00 that day, Vietnam time */
    CLI_FIG_ROLLUP = 1u << 14,    /* --rollup: a predecessor's rows under its last successor */
};

typedef struct {
    const char *name; /* the command, for messages */
    unsigned accept;
    const char *const *statuses; /* NULL-terminated; with CLI_FIG_STATUS */
    const char *const *bys;      /* NULL-terminated; with CLI_FIG_BY */
    void (*usage)(FILE *f);
} cli_fig_spec_t;

typedef struct {
    /* NULL when not given; period, type, field, dimension and index are
     * normalised (upper case) into the buffers below. */
    const char *period, *type, *unit, *field, *dimension, *index, *status, *inspection, *by, *out,
        *since;
    int all, rates, findings, rollup;
    cli_fmt_t fmt;
    char period_buf[72], type_buf[40], field_buf[72], dimension_buf[8], index_buf[8];
} cli_fig_opts_t;

/* Parses `cchc <command> [options]` (argv[0] the command). -1 to go on, or the
 * exit code (CLI_EXIT_OK after --help, CLI_EXIT_USAGE after saying what is
 * wrong and printing the usage). */
int cli_fig_parse(const cli_fig_spec_t *spec, int argc, char **argv, cli_fig_opts_t *o);

/* Connects (the schema checked) and checks --unit names a unit; with
 * --rollup, sets cchc.rollup for the session, so that the views (migration
 * 020) show a closed unit's rows under the last unit of its successor chain.
 * 0, or -1 after saying why. */
int cli_fig_connect(cli_ctx_t *ctx, const cli_fig_opts_t *o);

/* Runs sql (columns as cols describes them) and writes the figure to stdout
 * in o->fmt. Returns the exit code. */
int cli_fig_print(cli_ctx_t *ctx, const cli_fig_opts_t *o, const char *what,
                  const cli_out_col_t *cols, int ncols, const char *sql, int nparams,
                  const char *const *params, const char *empty);

/* --rollup, as every figure command that takes it documents it. */
#define CLI_FIG_USAGE_ROLLUP                                                                       \
    "  --rollup          a successor's rows include its predecessors' history: the rows of a\n"    \
    "                    closed unit are shown under the last unit of its successor chain\n"       \
    "                    (--unit names that successor)\n"

/* The same for a command whose rows are each of one unit. */
#define CLI_FIG_USAGE_ROLLUP_ROWS                                                                  \
    CLI_FIG_USAGE_ROLLUP "                    (and each row names the unit it is of: Đơn vị "  \
                         "gốc)\n"

/* The output options every figure command documents. */
#define CLI_FIG_USAGE_FORMATS                                                                      \
    "  --json            a JSON array (English keys, codes, UTC times)\n"                          \
    "  --csv             CSV for Excel: UTF-8 with a byte order mark, Vietnamese headers\n"

/* ---- figures more than one command shows ---------------------------------------------- */

/* Form 06 (cchc_dossiers), summed over d: the reporting units, then the
 * figures and their rates, as columns and as the SQL that gives them. */
#define CLI_FIG_FORM06_COLS                                                                        \
    {"units", "Số đơn vị", CLI_OUT_INT, 0, 0},                                                     \
        {"carried_over", "Tồn kỳ trước", CLI_OUT_INT, 0, 0},                                       \
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
