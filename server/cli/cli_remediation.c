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

static const cli_out_col_t s_cols[] = {CLI_FIG_REMEDIATION_COLS};

/* $1 inspection, $2 unit; the total row over the same inspections. */
static const char s_sql[] =
    "WITH x AS (SELECT * FROM cchc_remediation x WHERE ($1::text IS NULL OR x.inspection = $1) "
    "AND ($2::text IS NULL OR x.unit_code = $2)) " CLI_FIG_REMEDIATION_SELECT;

static const cli_out_col_t s_finding_cols[] = {
    {"inspection", "Mã kiểm tra", CLI_OUT_TEXT, 0, 0},
    {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},
    {"finding_no", "Tồn tại số", CLI_OUT_INT, 0, 0},
    {"finding", "Tồn tại, hạn chế", CLI_OUT_TEXT, 0, 40},
    {"status", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"status_vi", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"actions", "Kết quả khắc phục", CLI_OUT_TEXT, 0, 40},
    {"evidence", "Minh chứng", CLI_OUT_TEXT, 0, 30},
    {"cause", "Nguyên nhân", CLI_OUT_TEXT, 0, 40},
    {"plan", "Kế hoạch", CLI_OUT_TEXT, 0, 40},
    {"expected_by", "Dự kiến hoàn thành", CLI_OUT_DATE, 0, 0},
    {"report_id", "Báo cáo", CLI_OUT_INT, 0, 0},
    {"revision", "Lần", CLI_OUT_INT, 0, 0},
};

static const char s_finding_sql[] =
    "SELECT f.inspection, f.unit_code, f.unit_name, f.finding_no, f.finding, f.status, "
    "f.status_vi, f.actions, f.evidence, f.cause, f.plan, f.expected_by::text, f.report_id, "
    "f.revision FROM cchc_remediation_findings f "
    "WHERE ($1::text IS NULL OR f.inspection = $1) AND ($2::text IS NULL OR f.unit_code = $2) "
    "AND ($3::text IS NULL OR f.status = $3) "
    "ORDER BY f.conclusion_date, f.inspection, f.finding_no";

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
        return cli_fig_print(ctx, &o, "could not list the findings", s_finding_cols,
                             (int)(sizeof s_finding_cols / sizeof s_finding_cols[0]), s_finding_sql,
                             3, params, "no findings match");
    return cli_fig_print(ctx, &o, "could not list the remediation", s_cols,
                         (int)(sizeof s_cols / sizeof s_cols[0]), s_sql, 2, params,
                         "no inspections match: 'cchc inspection add' records one");
}
