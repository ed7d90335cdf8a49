/* cli_remediation.c: `cchc remediation`, how far each inspection's
 * remediation has come.
 *
 * The seed's second rule: a remediation report answers every finding of its
 * inspection, remedied or not, and why. Per inspection (view
 * cchc_remediation): findings remedied, in progress, not remedied, not yet
 * answered, and completion = remedied / findings, with a total row. With
 * --findings, per finding (view cchc_remediation_findings): its status from
 * the latest accepted remediation report, what was done and the evidence, or
 * the cause, the plan and the expected date. */
#include "cli_fig.h"

static const char *const s_statuses[] = {"remedied", "in_progress", "not_remedied", "open", NULL};

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] remediation [--inspection CODE] [--unit U] [--findings]\n"
          "                 [--status S] [--rollup] [--json | --csv]\n"
          "\n"
          "Remediation after inspections (khắc phục sau kiểm tra): per inspection, its\n"
          "findings remedied, in progress, not remedied and not yet answered, completion\n"
          "rate = remedied / findings (percent), and how its remediation report went.\n"
          "  --findings          one row per finding: status from the latest accepted\n"
          "                      remediation report, actions and evidence, or cause, plan\n"
          "                      and expected date\n"
          "  --status S          with --findings: remedied, in_progress, not_remedied or\n"
          "                      open (no report answers it yet)\n"
          "  --inspection CODE   one inspection\n"
          "  --unit U            the inspections of one unit\n" CLI_FIG_USAGE_ROLLUP
              CLI_FIG_USAGE_FORMATS,
          f);
}

static const cli_fig_spec_t s_spec = {
    .name = "remediation",
    .accept =
        CLI_FIG_INSPECTION | CLI_FIG_UNIT | CLI_FIG_STATUS | CLI_FIG_FINDINGS | CLI_FIG_ROLLUP,
    .statuses = s_statuses,
    .usage = s_usage,
};

int cli_remediation_run(cli_ctx_t *ctx, int argc, char **argv)
{
    cli_fig_opts_t o;
    int rc = cli_fig_parse(&s_spec, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.status && !o.findings) {
        fprintf(stderr, "cchc: remediation --status is a finding's status: add --findings\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (cli_fig_connect(ctx, &o) != 0)
        return CLI_EXIT_FAIL;
    const char *params[3] = {o.inspection, o.unit, o.status};
    if (o.findings)
        return cli_fig_print_def(ctx, &o, "could not list the findings", &cli_figs_findings, params,
                                 "no findings match");
    return cli_fig_print_def(ctx, &o, "could not list the remediation", &cli_figs_remediation,
                             params, "no inspections match: 'cchc inspection add' records one");
}
