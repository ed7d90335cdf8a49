/* cli_dossiers.c: `cchc dossiers`, the one-stop dossier figures (Form 06).
 *
 * The figures of the accepted latest revision of each periodic report (view
 * cchc_dossiers: a revised report counts once, with its latest figures),
 * summed per procedure field for the district (the default), per unit, or
 * per unit and field, each table ending with its total per period. Every
 * rate is computed here from the sums, never taken from a report:
 * on-time rate = (early + on time) / resolved, online share = online / new. */
#include "cli_fig.h"

#include <string.h>

static const char *const s_bys[] = {"field", "unit", "unit-field", NULL};

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] dossiers [--period P] [--type T] [--unit U] [--field F]\n"
          "                 [--by field|unit|unit-field] [--rollup] [--json | --csv]\n"
          "\n"
          "The district's dossier figures (Form 06, one-stop shop): received (carried over,\n"
          "new online, new direct or postal), resolved early / on time / late, pending in\n"
          "time / overdue, on-time rate = (early + on time) / resolved, online share =\n"
          "online / new, overdue backlog = pending overdue. Only the latest accepted\n"
          "revision of each report counts. Each table ends with its total per period.\n"
          "  --by field       the district's totals per field (default)\n"
          "  --by unit        each unit's totals over its fields\n"
          "  --by unit-field  each unit's figures per field\n"
          "  --period P       a period id such as 2024S1 (any case)\n"
          "  --type T         a periodic report type (CCHC_DK)\n"
          "  --unit U         one unit (with --by unit or unit-field)\n"
          "  --field F        one field such as HO_TICH (with --by field or "
          "unit-field)\n" CLI_FIG_USAGE_ROLLUP CLI_FIG_USAGE_FORMATS,
          f);
}

static const cli_fig_spec_t s_spec = {
    .name = "dossiers",
    .accept =
        CLI_FIG_PERIOD | CLI_FIG_TYPE | CLI_FIG_UNIT | CLI_FIG_FIELD | CLI_FIG_BY | CLI_FIG_ROLLUP,
    .bys = s_bys,
    .usage = s_usage,
};

int cli_dossiers_run(cli_ctx_t *ctx, int argc, char **argv)
{
    cli_fig_opts_t o;
    int rc = cli_fig_parse(&s_spec, argc, argv, &o);
    if (rc >= 0)
        return rc;
    int by = strcmp(o.by, "field") == 0  ? CLI_FIGS_BY_FIELD
             : strcmp(o.by, "unit") == 0 ? CLI_FIGS_BY_UNIT
                                         : CLI_FIGS_BY_UNIT_FIELD;
    if ((by == 0 && o.unit) || (by == 1 && o.field)) {
        fprintf(stderr, "cchc: dossiers --by %s sums %s: use --by unit-field to see %s\n", o.by,
                by == 0 ? "every unit" : "every field",
                by == 0 ? "one unit's fields" : "one field per unit");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (cli_fig_connect(ctx, &o) != 0)
        return CLI_EXIT_FAIL;
    const char *params[4] = {o.period, o.type, o.unit, o.field};
    return cli_fig_print_def(ctx, &o, "could not read the dossier figures", &cli_figs_dossiers[by],
                             params, "no dossier figures match");
}
