/* cli_unit_import.c: `cchc unit import FILE.csv`.
 *
 * Units are data (DOMAIN.md section 1): the district loads them from a CSV file
 * in the format of deploy/data/units.csv. An import is all or nothing
 * (cli_csv_import): the file is read and checked whole, every bad row is
 * reported as FILE:LINE: reason, and only a clean file is written, in one
 * transaction that ends with NOTIFY cchc_units. (The server does not listen
 * on that channel: it hears of changed units from their audit trigger, on
 * cchc_meta.)
 *
 * Checks run in three passes, so that every problem is found in one run:
 *   1. each row alone, while libcsv parses (fields, UTF-8, code, name, kind, dates);
 *   2. rows against each other (duplicate codes);
 *   3. parent and successor against the file and the database (a reference
 *      must name a unit in one or the other), inside the transaction that then
 *      writes.
 * Parent and successor foreign keys are deferred, so rows may come in any order. */
#include "cli_csv.h"
#include "cli_db.h"
#include "cchc_mem.h"

#include <stdlib.h>
#include <string.h>

enum { F_CODE, F_NAME, F_KIND, F_PARENT, F_FROM, F_TO, F_SUCCESSOR, S_NFIELDS };
static const char *const s_fields[S_NFIELDS] = {"code",       "name",     "kind",     "parent",
                                                "valid_from", "valid_to", "successor"};
static const char *const s_kinds[] = {"district", "office",   "commune", "town",
                                      "ward",     "province", "other",   NULL};
/* The fields that name another unit. */
static const int s_refs[] = {F_PARENT, F_SUCCESSOR};
#define S_KINDS CLI_UNIT_KINDS
#define S_NAME_MAX 200 /* characters, as units.name's CHECK counts them */

/* Pass 1: one data row on its own (cli_csv_check_fn). */
static void s_check_row(cli_csv_t *csv, cli_csv_row_t *row, void *arg)
{
    char ex[72];
    const int line = row->line;
    const unsigned bad = row->bad;
    if (!(bad & 1u << F_CODE) && !*row->f[F_CODE])
        cli_csv_problem(csv, line, "code is empty: every unit needs one");
    else if (!(bad & 1u << F_CODE) && !cli_csv_unit_code_ok(row->f[F_CODE]))
        cli_csv_problem(csv, line,
                        "code '%s' is not valid: use 1 to 63 characters a-z, 0-9 or '-', "
                        "not starting with '-'",
                        cli_csv_excerpt(row->f[F_CODE], ex));
    if (*row->f[F_CODE] && !cli_csv_unit_code_ok(row->f[F_CODE]))
        row->bad |= 1u << F_CODE;
    if (!(bad & 1u << F_NAME) && !cli_csv_text(csv, row, F_NAME, 1, S_NAME_MAX))
        row->bad |= 1u << F_NAME;
    if (!(bad & 1u << F_KIND) && !cli_csv_one_of(row->f[F_KIND], s_kinds))
        cli_csv_problem(csv, line, "kind '%s' is not one of %s",
                        cli_csv_excerpt(row->f[F_KIND], ex), S_KINDS);
    for (size_t r = 0; r < sizeof s_refs / sizeof s_refs[0]; r++) {
        int i = s_refs[r];
        const char *ref = row->f[i];
        if (bad & 1u << i || !*ref)
            continue;
        if (!cli_csv_unit_code_ok(ref)) {
            cli_csv_problem(csv, line, "%s '%s' is not a valid unit code", s_fields[i],
                            cli_csv_excerpt(ref, ex));
            row->bad |= 1u << i;
        } else if (strcmp(ref, row->f[F_CODE]) == 0) {
            cli_csv_problem(csv, line, "%s is the unit itself", s_fields[i]);
            row->bad |= 1u << i;
        }
    }
    if (!(bad & 1u << F_FROM) && !*row->f[F_FROM])
        cli_csv_problem(csv, line,
                        "valid_from is empty: give the day the unit opened, as YYYY-MM-DD");
    else if (!(bad & 1u << F_FROM) && !cli_csv_date_ok(row->f[F_FROM]))
        cli_csv_problem(csv, line, "valid_from '%s' is not a valid date of the form YYYY-MM-DD",
                        cli_csv_excerpt(row->f[F_FROM], ex));
    if (!(bad & 1u << F_TO) && *row->f[F_TO] && !cli_csv_date_ok(row->f[F_TO]))
        cli_csv_problem(csv, line, "valid_to '%s' is not a valid date of the form YYYY-MM-DD",
                        cli_csv_excerpt(row->f[F_TO], ex));
    else if (!(bad & 1u << F_TO) && *row->f[F_TO] && cli_csv_date_ok(row->f[F_FROM]) &&
             strcmp(row->f[F_TO], row->f[F_FROM]) < 0)
        cli_csv_problem(csv, line, "valid_to %s is before valid_from %s", row->f[F_TO],
                        row->f[F_FROM]);
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Pass 3: references that are neither in the file nor among the database's
 * codes (db_codes, sorted by byte). */
static void s_check_units(cli_csv_t *csv, const PGresult *db_codes, void *arg)
{
    const char **codes = cchc_calloc(csv->nrows ? csv->nrows : 1, sizeof *codes);
    size_t n = 0;
    for (size_t i = 0; i < csv->nrows; i++)
        if (!(csv->rows[i].bad & 1u << F_CODE) && *csv->rows[i].f[F_CODE])
            codes[n++] = csv->rows[i].f[F_CODE];
    qsort(codes, n, sizeof *codes, s_cmp_str);
    for (size_t i = 0; i < csv->nrows; i++) {
        cli_csv_row_t *row = &csv->rows[i];
        for (size_t r = 0; r < sizeof s_refs / sizeof s_refs[0]; r++) {
            int fi = s_refs[r];
            const char *ref = row->f[fi];
            if (row->bad & 1u << fi || !*ref)
                continue;
            if (bsearch(&ref, codes, n, sizeof *codes, s_cmp_str) ||
                cli_db_sorted_has(db_codes, 0, ref))
                continue;
            cli_csv_problem(csv, row->line,
                            "%s '%s' is neither in this file nor in the database: "
                            "add it to the file",
                            s_fields[fi], ref);
        }
    }
    free(codes);
}

/* Only the facts the file carries are written; created_at stays. A unit that
 * did not change is not rewritten, so the summary can say so. */
static const char s_upsert_sql[] =
    "INSERT INTO units AS u (code, name, kind, parent, valid_from, valid_to, successor) "
    "VALUES ($1, $2, $3, $4, $5::date, $6::date, $7) "
    "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, "
    "parent = EXCLUDED.parent, valid_from = EXCLUDED.valid_from, "
    "valid_to = EXCLUDED.valid_to, successor = EXCLUDED.successor "
    "WHERE (u.name, u.kind, u.parent, u.valid_from, u.valid_to, u.successor) "
    "IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.parent, EXCLUDED.valid_from, "
    "EXCLUDED.valid_to, EXCLUDED.successor) "
    "RETURNING (xmax = 0)"; /* no row: unchanged; true: inserted; false: updated */

/* Writes one unit (cli_csv_import_t.write); an empty reference or end is NULL. */
static int s_write_row(cli_ctx_t *ctx, const cli_csv_row_t *row, const char *what, void *arg)
{
    char **f = row->f;
    const char *params[S_NFIELDS] = {
        f[F_CODE],
        f[F_NAME],
        f[F_KIND],
        *f[F_PARENT] ? f[F_PARENT] : NULL,
        f[F_FROM],
        *f[F_TO] ? f[F_TO] : NULL,
        *f[F_SUCCESSOR] ? f[F_SUCCESSOR] : NULL,
    };
    return cli_csv_upsert(ctx, what, s_upsert_sql, S_NFIELDS, params);
}

static const cli_csv_import_t s_import_spec = {
    .fields = s_fields,
    .nfields = S_NFIELDS,
    .check = s_check_row,
    .key = F_CODE,
    .key_label = "code",
    .item = "unit",
    .check_units = s_check_units,
    .write = s_write_row,
    /* Inside the transaction: listeners hear of it only if it commits. */
    .notify = "cchc_units",
    .things = "units",
    .event = "units_imported",
    .log_key = "units",
};

int cli_unit_import(cli_ctx_t *ctx, const char *path)
{
    return cli_csv_import(ctx, &s_import_spec, path);
}
