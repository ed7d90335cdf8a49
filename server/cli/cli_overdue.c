/* cli_overdue.c: `cchc overdue`, every dossier handled past its deadline.
 *
 * The seed's first rule: every overdue dossier is explained, with its cause
 * and its remedy. This lists them across the district from the accepted
 * latest revision of each periodic report (view cchc_overdue_dossiers): unit,
 * dossier code, procedure, dates, cause, remedy and apology slip. The text
 * table cuts long causes and remedies; --json and --csv carry them whole. */
#include "cli_fig.h"

static void s_usage(FILE *f)
{
    fputs(
        "usage: cchc [-c admin.ini] overdue [--period P] [--type T] [--unit U] [--field F]\n"
        "                 [--rollup] [--json | --csv]\n"
        "\n"
        "Every dossier resolved late or still pending past its deadline (hồ sơ quá hạn),\n"
        "from the latest accepted revision of each periodic report: unit, dossier code,\n"
        "field, procedure, received, due and resolved dates, working days late, cause,\n"
        "remedy and apology slip (Phiếu xin lỗi: number, date, new appointment).\n"
        "  --period P   a period id such as 2024S1 (any case)\n"
        "  --type T     a periodic report type (CCHC_DK)\n"
        "  --unit U     one unit\n"
        "  --field F    one procedure field, such as HO_TICH (any case)\n" CLI_FIG_USAGE_ROLLUP_ROWS
            CLI_FIG_USAGE_FORMATS,
        f);
}

static const cli_fig_spec_t s_spec = {
    .name = "overdue",
    .accept = CLI_FIG_PERIOD | CLI_FIG_TYPE | CLI_FIG_UNIT | CLI_FIG_FIELD | CLI_FIG_ROLLUP,
    .usage = s_usage,
};

static const cli_out_col_t s_cols[] = {
    {"type", "Loại báo cáo", CLI_OUT_TEXT, 0, 0},
    {"period", "Kỳ", CLI_OUT_TEXT, 0, 0},
    {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},
    CLI_FIG_OVERDUE_COLS,
    {"report_id", "Báo cáo", CLI_OUT_INT, 0, 0},
    /* With --rollup only (the last column): the unit the row is of. */
    {"source_unit", "Đơn vị gốc", CLI_OUT_TEXT, 0, 0},
};

#define S_SQL(extra)                                                                               \
    "SELECT o.type_code, o.period, o.unit_code, o.unit_name, " CLI_FIG_OVERDUE_SELECT ", "         \
    "o.report_id" extra " FROM cchc_overdue_dossiers o "                                           \
    "WHERE ($1::text IS NULL OR upper(o.period) = $1) AND ($2::text IS NULL OR o.type_code = $2) " \
    "AND ($3::text IS NULL OR o.unit_code = $3) AND ($4::text IS NULL OR upper(o.field) = $4) "    \
    "ORDER BY o.type_code, o.period, o.unit_code, o.source_unit, o.seq"
static const char s_sql[] = S_SQL("");
static const char s_rollup_sql[] = S_SQL(", o.source_unit");

int cli_overdue_run(cli_ctx_t *ctx, int argc, char **argv)
{
    cli_fig_opts_t o;
    int rc = cli_fig_parse(&s_spec, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (cli_fig_connect(ctx, &o) != 0)
        return CLI_EXIT_FAIL;
    const char *params[4] = {o.period, o.type, o.unit, o.field};
    return cli_fig_print(ctx, &o, "could not list the overdue dossiers", s_cols,
                         (int)(sizeof s_cols / sizeof s_cols[0]) - (o.rollup ? 0 : 1),
                         o.rollup ? s_rollup_sql : s_sql, 4, params, "no overdue dossiers match");
}
