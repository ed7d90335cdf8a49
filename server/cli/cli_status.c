/* cli_status.c: `cchc status`, who has reported and who is late.
 *
 * One row per expectation (view cchc_status): on time, late, overdue, not yet
 * due or exempt, with the basis of the judgement and the working days late.
 * --rates gives one row per type and period instead (view
 * cchc_completeness): reporting rate = reported / expected and on-time rate
 * = on time / expected, expected counting no exempt unit (DOMAIN.md
 * section 9). The text table of units ends with those rates, so that the
 * question "who has reported for 2024S1, and how many" has one answer. */
#include "cli_fig.h"

#include <stdlib.h>
#include <string.h>

static const char *const s_statuses[] = {"on_time",     "late",   "overdue",
                                         "not_yet_due", "exempt", NULL};

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] status [--period P] [--type T] [--unit U] [--status S]\n"
          "                 [--rates] [--rollup] [--json | --csv]\n"
          "\n"
          "Who has reported, and who is late (tình hình nộp báo cáo): one row per unit and\n"
          "expected report, with its due date, its status (on_time đúng hạn, late chậm hạn,\n"
          "overdue quá hạn, not_yet_due chưa đến hạn, exempt miễn nộp), the day it was met,\n"
          "the basis (receipt or sealed time) and the working days late. The table ends\n"
          "with the reporting and on-time rates of the periods shown.\n"
          "  --period P   a period id such as 2024S1 (any case), or an inspection's or task's\n"
          "               code for KHAC_PHUC / NV_KH\n"
          "  --type T     a report type (CCHC_DK, KHAC_PHUC, NV_KH)\n"
          "  --unit U     one unit\n"
          "  --status S   on_time, late, overdue, not_yet_due or exempt\n"
          "  --rates      one row per type and period: expected (exempt units left out),\n"
          "               reported, each status, reporting rate and on-time rate in "
          "percent\n" CLI_FIG_USAGE_ROLLUP_ROWS CLI_FIG_USAGE_FORMATS,
          f);
}

static const cli_fig_spec_t s_spec = {
    .name = "status",
    .accept = CLI_FIG_PERIOD | CLI_FIG_TYPE | CLI_FIG_UNIT | CLI_FIG_STATUS | CLI_FIG_RATES |
              CLI_FIG_ROLLUP,
    .statuses = s_statuses,
    .usage = s_usage,
};

/* $1 period or subject (upper case), $2 type, $3 unit, $4 status; NULL: any. */
#define S_WHERE                                                                                    \
    "WHERE ($1::text IS NULL OR upper(s.period) = $1 OR upper(s.subject) = $1) "                   \
    "AND ($2::text IS NULL OR s.type_code = $2) "

static const cli_out_col_t s_cols[] = {
    {"type", "Loại báo cáo", CLI_OUT_TEXT, 0, 0},
    {"period", "Kỳ", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"subject", "Đối tượng", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"what", "Kỳ / đối tượng", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},
    {"due", "Hạn nộp", CLI_OUT_DATE, 0, 0},
    {"status", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"status_vi", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"met_at", "Thời điểm nộp", CLI_OUT_TIME, CLI_OUT_JSON_ONLY, 0},
    {"met_on", "Ngày nộp", CLI_OUT_DATE, CLI_OUT_HUMAN_ONLY, 0},
    {"basis", "Căn cứ", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"basis_vi", "Căn cứ", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"working_days_late", "Số ngày làm việc chậm", CLI_OUT_INT, 0, 0},
    {"report_id", "Báo cáo", CLI_OUT_INT, 0, 0},
    {"exempt_reason", "Lý do miễn", CLI_OUT_TEXT, 0, 40},
    /* With --rollup only (the last column): the unit the row is of. */
    {"source_unit", "Đơn vị gốc", CLI_OUT_TEXT, 0, 0},
};

#define S_SQL(extra)                                                                               \
    "SELECT s.type_code, s.period, s.subject, s.what, s.unit_code, s.unit_name, s.due::text, "     \
    "s.status, s.status_vi, (extract(epoch FROM s.met_at) * 1000)::int8, s.met_on::text, "         \
    "s.basis, cchc_label_vi(s.basis), s.wd_late, s.report_id, s.exempt_reason" extra " "           \
    "FROM cchc_status s " S_WHERE "AND ($3::text IS NULL OR s.unit_code = $3) "                    \
    "AND ($4::text IS NULL OR s.status = $4) "                                                     \
    "ORDER BY s.due, s.type_code, s.what, s.unit_code, s.source_unit"
static const char s_sql[] = S_SQL("");
static const char s_rollup_sql[] = S_SQL(", s.source_unit");

static const cli_out_col_t s_rate_cols[] = {
    {"type", "Loại báo cáo", CLI_OUT_TEXT, 0, 0},
    {"period", "Kỳ", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"subject", "Đối tượng", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"what", "Kỳ / đối tượng", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"due", "Hạn nộp", CLI_OUT_DATE, 0, 0},
    {"expected", "Phải nộp", CLI_OUT_INT, 0, 0},
    {"reported", "Đã nộp", CLI_OUT_INT, 0, 0},
    {"on_time", "Đúng hạn", CLI_OUT_INT, 0, 0},
    {"late", "Chậm hạn", CLI_OUT_INT, 0, 0},
    {"overdue", "Quá hạn", CLI_OUT_INT, 0, 0},
    {"not_yet_due", "Chưa đến hạn", CLI_OUT_INT, 0, 0},
    {"exempt", "Miễn nộp", CLI_OUT_INT, 0, 0},
    {"reporting_rate", "Tỷ lệ báo cáo (%)", CLI_OUT_NUM, 0, 0},
    {"on_time_rate", "Tỷ lệ đúng hạn (%)", CLI_OUT_NUM, 0, 0},
};

static const char s_rate_sql[] =
    "SELECT s.type_code, s.period, s.subject, s.what, s.due::text, s.expected, s.reported, "
    "s.on_time, s.late, s.overdue, s.not_yet_due, s.exempt, s.reporting_rate, s.on_time_rate "
    "FROM cchc_completeness s " S_WHERE "ORDER BY s.due, s.type_code, s.what";

#define S_N(a) ((int)(sizeof(a) / sizeof(a)[0]))

/* The rates under the table of units, one line per type and period shown. */
static int s_footer(cli_ctx_t *ctx, const char *const *params)
{
    PGresult *r =
        cli_db_query(ctx, "could not compute the rates", s_rate_sql, 2, params, PGRES_TUPLES_OK);
    if (!r)
        return CLI_EXIT_FAIL;
    if (PQntuples(r) > 0)
        putchar('\n');
    for (int i = 0; i < PQntuples(r); i++) {
        const char *v[14];
        for (int c = 0; c < 14; c++)
            v[c] = PQgetisnull(r, i, c) ? "-" : PQgetvalue(r, i, c);
        printf("%s %s: %s phải nộp, %s đã nộp (tỷ lệ báo cáo %s%%), %s đúng hạn (tỷ lệ đúng hạn "
               "%s%%), %s chậm hạn, %s quá hạn, %s chưa đến hạn, %s miễn nộp\n",
               v[0], v[3], v[5], v[6], v[12], v[7], v[13], v[8], v[9], v[10], v[11]);
    }
    PQclear(r);
    return CLI_EXIT_OK;
}

int cli_status_run(cli_ctx_t *ctx, int argc, char **argv)
{
    cli_fig_opts_t o;
    int rc = cli_fig_parse(&s_spec, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.rates && (o.unit || o.status)) {
        fprintf(stderr, "cchc: status --rates counts every unit: it takes --period and --type, "
                        "not --unit or --status\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (cli_fig_connect(ctx, &o) != 0)
        return CLI_EXIT_FAIL;
    const char *params[4] = {o.period, o.type, o.unit, o.status};
    if (o.rates)
        return cli_fig_print(ctx, &o, "could not compute the rates", s_rate_cols, S_N(s_rate_cols),
                             s_rate_sql, 2, params, "no expected reports match");
    rc = cli_fig_print(ctx, &o, "could not read the status", s_cols,
                       S_N(s_cols) - (o.rollup ? 0 : 1), o.rollup ? s_rollup_sql : s_sql, 4, params,
                       "no expected reports match");
    if (rc == CLI_EXIT_OK && o.fmt == CLI_FMT_TABLE && !o.unit && !o.status)
        rc = s_footer(ctx, params);
    return rc;
}
