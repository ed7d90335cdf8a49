/* cli_type.c: `cchc type import FILE.csv` and `cchc type list`.
 *
 * Report types are data (DOMAIN.md section 2): what is reported, how often, by
 * when and by whom. The import takes the format of deploy/data/report-types.csv
 * and is all or nothing (cli_csv.h): every value is checked against the
 * CHECK constraints of report_types and type_assignments before anything is
 * written, so the operator sees every bad row at once, named by its line,
 * instead of the database's first refusal. Each type is upserted and its
 * assignments replaced by the file's; a type that did not change is not
 * rewritten, so importing the same file twice leaves no audit rows. */
#include "cli_csv.h"
#include "cli_db.h"
#include "cchc_mem.h"
#include "cchc_period.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum {
    F_CODE,
    F_NAME,
    F_KIND,
    F_PTYPE,
    F_PERIODS,
    F_CUTOFF,
    F_DUE,
    F_GRACE,
    F_EXPIRY,
    F_BASIS,
    F_ASSIGNED,
    S_NFIELDS
};
static const char *const s_fields[S_NFIELDS] = {
    "code",     "name_vi",    "content_kind", "period_type",      "periods",    "cutoff_rule",
    "due_rule", "grace_days", "expiry_days",  "timeliness_basis", "assigned_to"};
static const char *const s_kinds[] = {"periodic", "remediation", "task_progress", NULL};
static const char *const s_ptypes[] = {"month", "quarter", "half", "nine", "year",
                                       "mixed", "event",   "task", NULL};
static const char *const s_periods[] = {"M", "Q1", "Q2", "Q3", "Q4", "S1", "S2", "N9", "Y", NULL};
static const char *const s_cutoffs[] = {"dec09", "calendar", "none", NULL};
static const char *const s_bases[] = {"received", "sealed", NULL};
static const char *const s_groups[] = {"district", "office", "commune",   "town",      "ward",
                                       "province", "other",  "inspected", "task_lead", NULL};
#define S_NAME_MAX 300

/* report_types.code's CHECK: ^[A-Z][A-Z0-9_]{0,31}$ */
static int s_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 32 || s[0] < 'A' || s[0] > 'Z')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* s is word, optionally followed by ':' and 1..maxd digits (required if !optional). */
static int s_word_digits(const char *s, const char *word, int maxd, int optional)
{
    size_t w = strlen(word);
    if (strncmp(s, word, w) != 0)
        return 0;
    s += w;
    if (!*s)
        return optional;
    if (*s++ != ':')
        return 0;
    size_t n = strlen(s);
    if (n < 1 || n > (size_t)maxd)
        return 0;
    return strspn(s, "0123456789") == n;
}

/* report_types.due_rule's CHECK, and cchc_due_rule_parse's own reading of it. */
static int s_due_rule_ok(const char *s)
{
    cchc_due_rule_t rule;
    int shape = s_word_digits(s, "wd_after_cutoff", 3, 1) ||
                s_word_digits(s, "day_of_month", 2, 0) ||
                s_word_digits(s, "wd_after_event", 3, 1) || strcmp(s, "fixed") == 0 ||
                (strncmp(s, "fixed:", 6) == 0 && cli_csv_date_ok(s + 6));
    return shape && cchc_due_rule_parse(s, &rule) == 0;
}

/* The periods list: codes of s_periods, each once; rewritten without spaces. */
static void s_check_periods(cli_csv_t *csv, cli_csv_row_t *row)
{
    char **items, ex[72];
    size_t n = cli_csv_split(row->f[F_PERIODS], &items);
    int ok = 1;
    for (size_t k = 0; k < n; k++) {
        int dup = 0;
        for (size_t j = 0; j < k; j++)
            dup |= strcmp(items[j], items[k]) == 0;
        if (!cli_csv_one_of(items[k], s_periods)) {
            cli_csv_problem(csv, row->line,
                            "periods: '%s' is not one of M, Q1, Q2, Q3, Q4, S1, S2, N9, Y",
                            cli_csv_excerpt(items[k], ex));
            ok = 0;
        } else if (dup) {
            cli_csv_problem(csv, row->line, "periods names '%s' twice", items[k]);
            ok = 0;
        }
    }
    if (ok) {
        size_t len = 1;
        for (size_t k = 0; k < n; k++)
            len += strlen(items[k]) + 1;
        char *canon = cchc_calloc(1, len);
        for (size_t k = 0; k < n; k++) {
            if (k)
                strcat(canon, ",");
            strcat(canon, items[k]);
        }
        free(row->f[F_PERIODS]);
        row->f[F_PERIODS] = canon;
    } else {
        row->bad |= 1u << F_PERIODS;
    }
    cli_csv_split_free(items, n);
}

/* A word field against its list; reports "<field> 'X' is not one of <choices>". */
static void s_check_word(cli_csv_t *csv, cli_csv_row_t *row, int i, const char *const *words,
                         const char *choices)
{
    char ex[72];
    if (row->bad & 1u << i || cli_csv_one_of(row->f[i], words))
        return;
    cli_csv_problem(csv, row->line, "%s '%s' is not one of %s", s_fields[i],
                    cli_csv_excerpt(row->f[i], ex), choices);
    row->bad |= 1u << i;
}

/* Pass 1: one row on its own (cli_csv_check_fn). */
static void s_check_row(cli_csv_t *csv, cli_csv_row_t *row, void *arg)
{
    char ex[72];
    const int line = row->line;
    char **f = row->f;
    if (!(row->bad & 1u << F_CODE) && !s_code_ok(f[F_CODE])) {
        cli_csv_problem(csv, line,
                        "code '%s' is not valid: use 1 to 32 characters A-Z, 0-9 or '_', "
                        "starting with a letter",
                        cli_csv_excerpt(f[F_CODE], ex));
        row->bad |= 1u << F_CODE;
    }
    if (!(row->bad & 1u << F_NAME) && !cli_csv_text(csv, row, F_NAME, 1, S_NAME_MAX))
        row->bad |= 1u << F_NAME;
    s_check_word(csv, row, F_KIND, s_kinds, "periodic, remediation, task_progress");
    s_check_word(csv, row, F_PTYPE, s_ptypes,
                 "month, quarter, half, nine, year, mixed, event, task");
    if (!(row->bad & 1u << F_PERIODS))
        s_check_periods(csv, row);
    s_check_word(csv, row, F_CUTOFF, s_cutoffs, "dec09, calendar, none");
    if (!(row->bad & 1u << F_DUE) && !s_due_rule_ok(f[F_DUE])) {
        cli_csv_problem(csv, line,
                        "due_rule '%s' is not valid: use wd_after_cutoff[:N], day_of_month:D, "
                        "wd_after_event[:N] or fixed[:YYYY-MM-DD]",
                        cli_csv_excerpt(f[F_DUE], ex));
        row->bad |= 1u << F_DUE;
    }
    if (!(row->bad & 1u << F_GRACE) && !cli_csv_int_ok(f[F_GRACE], 0, 365))
        cli_csv_problem(csv, line, "grace_days '%s' is not a whole number from 0 to 365",
                        cli_csv_excerpt(f[F_GRACE], ex));
    if (!(row->bad & 1u << F_EXPIRY) && !cli_csv_int_ok(f[F_EXPIRY], 0, 3650))
        cli_csv_problem(csv, line, "expiry_days '%s' is not a whole number from 0 to 3650",
                        cli_csv_excerpt(f[F_EXPIRY], ex));
    s_check_word(csv, row, F_BASIS, s_bases, "received, sealed");
    if (!(row->bad & 1u << F_ASSIGNED))
        cli_csv_targets(csv, row, F_ASSIGNED, s_groups, 0);

    /* Coherence: event and task types have no periods; the others need some,
     * and a due rule counted from the cut-off needs periods to cut. */
    if (row->bad & (1u << F_PTYPE | 1u << F_PERIODS | 1u << F_DUE))
        return;
    int eventlike = strcmp(f[F_PTYPE], "event") == 0 || strcmp(f[F_PTYPE], "task") == 0;
    if (eventlike && *f[F_PERIODS])
        cli_csv_problem(csv, line, "periods must be empty for period_type %s", f[F_PTYPE]);
    else if (!eventlike && !*f[F_PERIODS])
        cli_csv_problem(csv, line, "periods is empty: period_type %s needs a list such as Q1,S1",
                        f[F_PTYPE]);
    if (eventlike && (strncmp(f[F_DUE], "wd_after_cutoff", 15) == 0 ||
                      strncmp(f[F_DUE], "day_of_month", 12) == 0))
        cli_csv_problem(csv, line, "due_rule %s needs periods; period_type %s has none", f[F_DUE],
                        f[F_PTYPE]);
}

static const char s_upsert_sql[] =
    "INSERT INTO report_types AS t (code, name_vi, content_kind, period_type, periods, "
    "cutoff_rule, due_rule, grace_days, expiry_days, timeliness_basis) "
    "VALUES ($1, $2, $3, $4, string_to_array($5, ','), $6, $7, $8::int, $9::int, $10) "
    "ON CONFLICT (code) DO UPDATE SET name_vi = EXCLUDED.name_vi, "
    "content_kind = EXCLUDED.content_kind, period_type = EXCLUDED.period_type, "
    "periods = EXCLUDED.periods, cutoff_rule = EXCLUDED.cutoff_rule, "
    "due_rule = EXCLUDED.due_rule, grace_days = EXCLUDED.grace_days, "
    "expiry_days = EXCLUDED.expiry_days, timeliness_basis = EXCLUDED.timeliness_basis, "
    "updated_at = now() "
    "WHERE (t.name_vi, t.content_kind, t.period_type, t.periods, t.cutoff_rule, t.due_rule, "
    "t.grace_days, t.expiry_days, t.timeliness_basis) IS DISTINCT FROM "
    "(EXCLUDED.name_vi, EXCLUDED.content_kind, EXCLUDED.period_type, EXCLUDED.periods, "
    "EXCLUDED.cutoff_rule, EXCLUDED.due_rule, EXCLUDED.grace_days, EXCLUDED.expiry_days, "
    "EXCLUDED.timeliness_basis) "
    "RETURNING (xmax = 0)"; /* no row: unchanged; true: inserted; false: updated */

/* Writes one type and replaces its assignments with the file's
 * (cli_csv_import_t.write): a type whose row did not change but whose
 * assignments did counts as updated. */
static int s_write_row(cli_ctx_t *ctx, const cli_csv_row_t *row, const char *what, void *arg)
{
    char **f = row->f;
    const char *params[10] = {f[F_CODE],   f[F_NAME], f[F_KIND],  f[F_PTYPE],  f[F_PERIODS],
                              f[F_CUTOFF], f[F_DUE],  f[F_GRACE], f[F_EXPIRY], f[F_BASIS]};
    int state = cli_csv_upsert(ctx, what, s_upsert_sql, 10, params);
    if (state < 0)
        return -1;
    const char *ap[2] = {f[F_CODE], f[F_ASSIGNED]};
    PGresult *r = cli_db_query(ctx, what,
                               "WITH d AS (DELETE FROM type_assignments WHERE type_code = $1 "
                               "AND NOT (target = ANY (string_to_array($2, ','))) RETURNING 1), "
                               "i AS (INSERT INTO type_assignments (type_code, target) "
                               "SELECT $1, unnest(string_to_array($2, ',')) "
                               "ON CONFLICT DO NOTHING RETURNING 1) "
                               "SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM i)",
                               2, ap, PGRES_TUPLES_OK);
    if (!r)
        return -1;
    if (state == 0 && cli_db_int(r, 0, 0) > 0)
        state = 2;
    PQclear(r);
    return state;
}

/* Pass 3: assigned_to names only units the database knows. */
static void s_check_units(cli_csv_t *csv, const PGresult *unit_codes, void *arg)
{
    for (size_t i = 0; i < csv->nrows; i++)
        cli_csv_targets_known(csv, &csv->rows[i], F_ASSIGNED, unit_codes);
}

static const cli_csv_import_t s_import_spec = {
    .fields = s_fields,
    .nfields = S_NFIELDS,
    .check = s_check_row,
    .key = F_CODE,
    .key_label = "code",
    .item = "report type",
    .check_units = s_check_units,
    .write = s_write_row,
    .things = "report types",
    .event = "types_imported",
    .log_key = "types",
};

static int s_import(cli_ctx_t *ctx, const char *path)
{
    return cli_csv_import(ctx, &s_import_spec, path);
}

/* Strings glued to macros: clang-format cannot lay them out. */
/* clang-format off */
static const char s_list_json_sql[] =
    "SELECT coalesce(json_agg(json_build_object('code', t.code, 'name_vi', t.name_vi, "
    "'content_kind', t.content_kind, 'period_type', t.period_type, 'periods', t.periods, "
    "'cutoff_rule', t.cutoff_rule, 'due_rule', t.due_rule, 'grace_days', t.grace_days, "
    "'expiry_days', t.expiry_days, 'timeliness_basis', t.timeliness_basis, "
    "'assigned_to', coalesce((SELECT array_agg(a.target ORDER BY a.target) "
    "FROM type_assignments a WHERE a.type_code = t.code), '{}'), "
    "'updated_at', " CLI_SQL_UTC("t.updated_at") ") ORDER BY t.code), '[]') "
    "FROM report_types t";
/* clang-format on */

static int s_list(cli_ctx_t *ctx, int json)
{
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    if (json)
        return cli_db_print_json(ctx, "could not list the report types", s_list_json_sql, 0, NULL);
    return cli_db_print_table(
        ctx, "could not list the report types",
        "SELECT t.code, t.content_kind AS kind, t.period_type, "
        "array_to_string(t.periods, ',') AS periods, t.cutoff_rule AS cutoff, t.due_rule, "
        "t.grace_days AS grace, t.expiry_days AS expiry, t.timeliness_basis AS basis, "
        "(SELECT string_agg(a.target, ',' ORDER BY a.target) FROM type_assignments a "
        "WHERE a.type_code = t.code) AS assigned_to, t.name_vi "
        "FROM report_types t ORDER BY t.code",
        0, NULL, "no report types yet: load them with 'cchc type import FILE.csv'");
}

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] type import FILE.csv\n"
          "       cchc [-c admin.ini] type list [--json]\n"
          "\n"
          "import  adds or updates report types (by code) from a UTF-8 CSV file whose header\n"
          "        is exactly code,name_vi,content_kind,period_type,periods,cutoff_rule,\n"
          "        due_rule,grace_days,expiry_days,timeliness_basis,assigned_to\n"
          "        (the format of deploy/data/report-types.csv). periods: a comma list of\n"
          "        M, Q1-Q4, S1, S2, N9, Y; due_rule: wd_after_cutoff[:N], day_of_month:D,\n"
          "        wd_after_event[:N] or fixed[:YYYY-MM-DD]; assigned_to: a comma list of\n"
          "        @district, @office, @commune, @town, @ward, @province, @other,\n"
          "        @inspected, @task_lead or unit codes; it replaces the type's assignments.\n"
          "        All or nothing: any bad row is reported as FILE:LINE: reason and nothing\n"
          "        is written. Importing twice is harmless.\n"
          "list    shows the report types and who must submit them; --json for a JSON array.\n",
          f);
}

int cli_type_run(cli_ctx_t *ctx, int argc, char **argv)
{
    return cli_db_import_list_run(ctx, argc, argv, s_usage, s_import, s_list);
}
