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

int cli_overdue_run(cli_ctx_t *ctx, int argc, char **argv)
{
    cli_fig_opts_t o;
    int rc = cli_fig_parse(&s_spec, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (cli_fig_connect(ctx, &o) != 0)
        return CLI_EXIT_FAIL;
    const char *params[4] = {o.period, o.type, o.unit, o.field};
    return cli_fig_print_def(ctx, &o, "could not list the overdue dossiers",
                             o.rollup ? &cli_figs_overdue_rollup : &cli_figs_overdue,
                             params, "no overdue dossiers match");
}
