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
          "                 [--by field|unit|unit-field] [--json | --csv]\n"
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
          "unit-field)\n" CLI_FIG_USAGE_FORMATS,
          f);
}

static const cli_fig_spec_t s_spec = {
    .name = "dossiers",
    .accept = CLI_FIG_PERIOD | CLI_FIG_TYPE | CLI_FIG_UNIT | CLI_FIG_FIELD | CLI_FIG_BY,
    .bys = s_bys,
    .usage = s_usage,
};

enum { C_UNIT = 2, C_UNIT_NAME, C_FIELD, C_UNITS, S_NCOLS = 22 };
static const cli_out_col_t s_cols[S_NCOLS] = {
    {"type", "Loại báo cáo", CLI_OUT_TEXT, 0, 0},
    {"period", "Kỳ", CLI_OUT_TEXT, 0, 0},
    {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},
    {"field", "Lĩnh vực", CLI_OUT_TEXT, 0, 0},
    {"units", "Số đơn vị", CLI_OUT_INT, 0, 0},
    {"carried_over", "Tồn kỳ trước", CLI_OUT_INT, 0, 0},
    {"new_online", "Mới trực tuyến", CLI_OUT_INT, 0, 0},
    {"new_direct_postal", "Mới trực tiếp, bưu chính", CLI_OUT_INT, 0, 0},
    {"new_total", "Tổng mới", CLI_OUT_INT, CLI_OUT_JSON_ONLY, 0},
    {"received", "Tổng tiếp nhận", CLI_OUT_INT, 0, 0},
    {"resolved_early", "Giải quyết trước hạn", CLI_OUT_INT, 0, 0},
    {"resolved_on_time", "Giải quyết đúng hạn", CLI_OUT_INT, 0, 0},
    {"resolved_late", "Giải quyết quá hạn", CLI_OUT_INT, 0, 0},
    {"resolved", "Tổng đã giải quyết", CLI_OUT_INT, 0, 0},
    {"pending_in_time", "Đang giải quyết trong hạn", CLI_OUT_INT, 0, 0},
    {"pending_overdue", "Đang giải quyết quá hạn", CLI_OUT_INT, 0, 0},
    {"pending", "Tổng đang giải quyết", CLI_OUT_INT, 0, 0},
    {"on_time_rate", "Tỷ lệ đúng hạn (%)", CLI_OUT_NUM, 0, 0},
    {"online_share", "Tỷ lệ trực tuyến (%)", CLI_OUT_NUM, 0, 0},
    {"overdue_backlog", "Tồn quá hạn", CLI_OUT_INT, CLI_OUT_JSON_ONLY, 0},
    {"total", "Tổng", CLI_OUT_BOOL, CLI_OUT_TOTAL, 0},
};

/* $1 period, $2 type, $3 unit, $4 field; NULL: any. Then one grouping per
 * --by and the total per period over the same rows. */
#define S_ROWS                                                                                     \
    "WITH d AS (SELECT * FROM cchc_dossiers d WHERE ($1::text IS NULL OR upper(d.period) = $1) "   \
    "AND ($2::text IS NULL OR d.type_code = $2) AND ($3::text IS NULL OR d.unit_code = $3) "       \
    "AND ($4::text IS NULL OR upper(d.field) = $4)) "
#define S_SUMS                                                                                     \
    "count(DISTINCT d.unit_code), sum(d.carried_over), sum(d.new_online), "                        \
    "sum(d.new_direct_postal), sum(d.new_total), sum(d.received), sum(d.resolved_early), "         \
    "sum(d.resolved_on_time), sum(d.resolved_late), sum(d.resolved), sum(d.pending_in_time), "     \
    "sum(d.pending_overdue), sum(d.pending), "                                                     \
    "cchc_rate(sum(d.resolved_early + d.resolved_on_time), sum(d.resolved)), "                     \
    "cchc_rate(sum(d.new_online), sum(d.new_total)), sum(d.pending_overdue)"
#define S_TOTAL                                                                                    \
    "UNION ALL SELECT d.type_code, d.period, NULL, NULL, NULL, " S_SUMS ", true "                  \
    "FROM d GROUP BY d.type_code, d.period ORDER BY 1, 2, 22, 3, 5"

static const char *const s_sql[] = {
    /* field */
    S_ROWS "SELECT d.type_code, d.period, NULL, NULL, d.field, " S_SUMS ", false "
           "FROM d GROUP BY d.type_code, d.period, d.field " S_TOTAL,
    /* unit */
    S_ROWS "SELECT d.type_code, d.period, d.unit_code, min(d.unit_name), NULL, " S_SUMS ", false "
           "FROM d GROUP BY d.type_code, d.period, d.unit_code " S_TOTAL,
    /* unit-field */
    S_ROWS "SELECT d.type_code, d.period, d.unit_code, min(d.unit_name), d.field, " S_SUMS
           ", false FROM d GROUP BY d.type_code, d.period, d.unit_code, d.field " S_TOTAL,
};

int cli_dossiers_run(cli_ctx_t *ctx, int argc, char **argv)
{
    cli_fig_opts_t o;
    int rc = cli_fig_parse(&s_spec, argc, argv, &o);
    if (rc >= 0)
        return rc;
    int by = strcmp(o.by, "field") == 0 ? 0 : strcmp(o.by, "unit") == 0 ? 1 : 2;
    if ((by == 0 && o.unit) || (by == 1 && o.field)) {
        fprintf(stderr, "cchc: dossiers --by %s sums %s: use --by unit-field to see %s\n", o.by,
                by == 0 ? "every unit" : "every field",
                by == 0 ? "one unit's fields" : "one field per unit");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    /* The columns of this --by: a field table names no unit, a unit table no field. */
    cli_out_col_t cols[S_NCOLS];
    memcpy(cols, s_cols, sizeof cols);
    if (by == 0)
        cols[C_UNIT].flags = cols[C_UNIT_NAME].flags = CLI_OUT_JSON_ONLY;
    if (by == 1)
        cols[C_FIELD].flags = CLI_OUT_JSON_ONLY;
    if (by == 2)
        cols[C_UNITS].flags = CLI_OUT_JSON_ONLY;
    if (cli_fig_connect(ctx, &o) != 0)
        return CLI_EXIT_FAIL;
    const char *params[4] = {o.period, o.type, o.unit, o.field};
    return cli_fig_print(ctx, &o, "could not read the dossier figures", cols, S_NCOLS, s_sql[by], 4,
                         params, "no dossier figures match");
}
