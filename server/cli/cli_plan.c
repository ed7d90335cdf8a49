/* cli_plan.c: `cchc plan import FILE.csv` and `cchc plan list`.
 *
 * The plan's task table (DOMAIN.md section 7): each task of Plan 87/KH-UBND
 * with its index and dimension (PAPI D1-D8, PAR INDEX L1-L8, SIPAS S1-S5),
 * target, lead and supporting units, and deadline. The import takes the
 * format of deploy/data/plan-tasks.csv, is all or nothing (cli_csv.h), checks
 * every value against plan_tasks' CHECK constraints and every unit named
 * against the database, and upserts by code; a task that did not change is
 * not rewritten, so importing twice leaves no audit rows. */
#include "cli_csv.h"
#include "cli_db.h"

#include <getopt.h>
#include <string.h>

enum { F_CODE, F_TITLE, F_INDEX, F_DIM, F_TARGET, F_LEAD, F_SUPPORT, F_DUE, S_NFIELDS };
static const char *const s_fields[S_NFIELDS] = {"code",   "title", "index",   "dimension",
                                                "target", "lead",  "support", "due"};
static const char *const s_groups[] = {"district", "office",   "commune", "town",
                                       "ward",     "province", "other",   NULL};
static const char *const s_targets[] = {"maintain", "improve", NULL};
#define S_TITLE_MAX 1000

/* The dimensions of each index: a letter and 1..max. */
static const struct {
    const char *index;
    char letter;
    int max;
} s_indices[] = {{"PAPI", 'D', 8}, {"PAR", 'L', 8}, {"SIPAS", 'S', 5}};
#define S_NINDICES (sizeof s_indices / sizeof s_indices[0])

/* plan_tasks.code's CHECK: ^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$ */
static int s_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 32 || s[0] == '.' || s[0] == '_' || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

static void s_check_index(cli_csv_t *csv, cli_csv_row_t *row)
{
    char ex[72];
    char **f = row->f;
    if (row->bad & 1u << F_INDEX)
        return;
    size_t k = 0;
    while (k < S_NINDICES && strcmp(f[F_INDEX], s_indices[k].index) != 0)
        k++;
    if (k == S_NINDICES) {
        cli_csv_problem(csv, row->line, "index '%s' is not one of PAPI, PAR, SIPAS",
                        cli_csv_excerpt(f[F_INDEX], ex));
        return;
    }
    if (row->bad & 1u << F_DIM)
        return;
    const char *d = f[F_DIM];
    if (!(strlen(d) == 2 && d[0] == s_indices[k].letter && d[1] >= '1' &&
          d[1] <= '0' + s_indices[k].max))
        cli_csv_problem(csv, row->line, "dimension '%s' is not a dimension of %s: use %c1 to %c%d",
                        cli_csv_excerpt(d, ex), s_indices[k].index, s_indices[k].letter,
                        s_indices[k].letter, s_indices[k].max);
}

/* Pass 1: one row on its own (cli_csv_check_fn). */
static void s_check_row(cli_csv_t *csv, cli_csv_row_t *row, void *arg)
{
    char ex[72];
    char **f = row->f;
    if (!(row->bad & 1u << F_CODE) && !s_code_ok(f[F_CODE])) {
        cli_csv_problem(csv, row->line,
                        "code '%s' is not valid: use 1 to 32 characters A-Z, a-z, 0-9, '.', "
                        "'_' or '-', starting with a letter or digit",
                        cli_csv_excerpt(f[F_CODE], ex));
        row->bad |= 1u << F_CODE;
    }
    if (!(row->bad & 1u << F_TITLE) && !cli_csv_text(csv, row, F_TITLE, 1, S_TITLE_MAX))
        row->bad |= 1u << F_TITLE;
    s_check_index(csv, row);
    if (!(row->bad & 1u << F_TARGET) && !cli_csv_one_of(f[F_TARGET], s_targets))
        cli_csv_problem(csv, row->line, "target '%s' is not one of maintain, improve",
                        cli_csv_excerpt(f[F_TARGET], ex));
    if (!(row->bad & 1u << F_LEAD))
        cli_csv_targets(csv, row, F_LEAD, s_groups, 1);
    if (!(row->bad & 1u << F_SUPPORT))
        cli_csv_targets(csv, row, F_SUPPORT, s_groups, 0);
    if (!(row->bad & 1u << F_DUE) && !cli_csv_date_ok(f[F_DUE]))
        cli_csv_problem(csv, row->line, "due '%s' is not a valid date of the form YYYY-MM-DD",
                        cli_csv_excerpt(f[F_DUE], ex));
    if (row->bad & (1u << F_LEAD | 1u << F_SUPPORT))
        return;
    char **lead, **support;
    size_t nl = cli_csv_split(f[F_LEAD], &lead), ns = cli_csv_split(f[F_SUPPORT], &support);
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < nl; j++)
            if (strcmp(support[i], lead[j]) == 0)
                cli_csv_problem(csv, row->line, "'%s' is both lead and support", lead[j]);
    cli_csv_split_free(lead, nl);
    cli_csv_split_free(support, ns);
}

static const char s_upsert_sql[] =
    "INSERT INTO plan_tasks AS t (code, title, index_name, dimension, target, lead, support, due) "
    "VALUES ($1, $2, $3, $4, $5, string_to_array($6, ','), string_to_array($7, ','), $8::date) "
    "ON CONFLICT (code) DO UPDATE SET title = EXCLUDED.title, index_name = EXCLUDED.index_name, "
    "dimension = EXCLUDED.dimension, target = EXCLUDED.target, lead = EXCLUDED.lead, "
    "support = EXCLUDED.support, due = EXCLUDED.due "
    "WHERE (t.title, t.index_name, t.dimension, t.target, t.lead, t.support, t.due) "
    "IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.index_name, EXCLUDED.dimension, "
    "EXCLUDED.target, EXCLUDED.lead, EXCLUDED.support, EXCLUDED.due) "
    "RETURNING (xmax = 0)"; /* no row: unchanged; true: inserted; false: updated */

/* Writes one task (cli_csv_import_t.write). */
static int s_write_row(cli_ctx_t *ctx, const cli_csv_row_t *row, const char *what, void *arg)
{
    char **f = row->f;
    const char *params[S_NFIELDS] = {f[F_CODE],   f[F_TITLE], f[F_INDEX],   f[F_DIM],
                                     f[F_TARGET], f[F_LEAD],  f[F_SUPPORT], f[F_DUE]};
    return cli_csv_upsert(ctx, what, s_upsert_sql, S_NFIELDS, params);
}

/* Pass 3: lead and support name only units the database knows. */
static void s_check_units(cli_csv_t *csv, const PGresult *unit_codes, void *arg)
{
    for (size_t i = 0; i < csv->nrows; i++) {
        cli_csv_targets_known(csv, &csv->rows[i], F_LEAD, unit_codes);
        cli_csv_targets_known(csv, &csv->rows[i], F_SUPPORT, unit_codes);
    }
}

static const cli_csv_import_t s_import_spec = {
    .fields = s_fields,
    .nfields = S_NFIELDS,
    .check = s_check_row,
    .key = F_CODE,
    .key_label = "code",
    .item = "task",
    .check_units = s_check_units,
    .write = s_write_row,
    .things = "plan tasks",
    .event = "plan_imported",
    .log_key = "tasks",
};

static int s_import(cli_ctx_t *ctx, const char *path)
{
    return cli_csv_import(ctx, &s_import_spec, path);
}

static int s_list(cli_ctx_t *ctx, int json)
{
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    if (json)
        return cli_db_print_json(
            ctx, "could not list the plan's tasks",
            "SELECT coalesce(json_agg(json_build_object('code', code, 'title', title, 'index', "
            "index_name, 'dimension', dimension, 'target', target, 'lead', lead, 'support', "
            "support, 'due', due::text) ORDER BY code), '[]') FROM plan_tasks",
            0, NULL);
    return cli_db_print_table(ctx, "could not list the plan's tasks",
                              "SELECT code, index_name AS index, dimension, target, "
                              "array_to_string(lead, ',') AS lead, "
                              "array_to_string(support, ',') AS support, due::text AS due, title "
                              "FROM plan_tasks ORDER BY code",
                              0, NULL,
                              "no plan tasks yet: load them with 'cchc plan import FILE.csv'");
}

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] plan import FILE.csv\n"
          "       cchc [-c admin.ini] plan list [--json]\n"
          "\n"
          "import  adds or updates the tasks of the plan's task table (by code) from a UTF-8\n"
          "        CSV file whose header is exactly\n"
          "        code,title,index,dimension,target,lead,support,due\n"
          "        (the format of deploy/data/plan-tasks.csv). index is PAPI (dimension\n"
          "        D1-D8), PAR (L1-L8) or SIPAS (S1-S5); target maintain or improve; lead\n"
          "        (required) and support are comma lists of unit codes or @kind groups\n"
          "        (@commune, @town, @office, ...); due is YYYY-MM-DD. All or nothing: any\n"
          "        bad row is reported as FILE:LINE: reason and nothing is written.\n"
          "list    shows the tasks; --json for a JSON array.\n",
          f);
}

int cli_plan_run(cli_ctx_t *ctx, int argc, char **argv)
{
    return cli_db_import_list_run(ctx, argc, argv, s_usage, s_import, s_list);
}
