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

/* The rates under the table of units, one line per type and period shown. */
static int s_footer(cli_ctx_t *ctx, const char *const *params)
{
    PGresult *r = cli_db_query(ctx, "could not compute the rates", cli_figs_rates.sql,
                               cli_figs_rates.nparams, params, PGRES_TUPLES_OK);
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
        return cli_fig_print_def(ctx, &o, "could not compute the rates", &cli_figs_rates, params,
                                 "no expected reports match");
    rc = cli_fig_print_def(ctx, &o, "could not read the status",
                           o.rollup ? &cli_figs_status_rollup : &cli_figs_status, params,
                           "no expected reports match");
    if (rc == CLI_EXIT_OK && o.fmt == CLI_FMT_TABLE && !o.unit && !o.status)
        rc = s_footer(ctx, params);
    return rc;
}
