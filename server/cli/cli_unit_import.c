/* cli_unit_import.c: `cchc unit import FILE.csv`.
 *
 * Units are data (DOMAIN.md section 1): the district loads them from a CSV file
 * in the format of deploy/data/units.csv. An import is all or nothing: the file
 * is read and checked whole, every bad row is reported as FILE:LINE: reason,
 * and only a clean file is written, in one transaction that ends with
 * NOTIFY cchc_units so the server recomputes what derives from units.
 *
 * Checks run in three passes, so that every problem is found in one run:
 *   1. each row alone, while libcsv parses (fields, UTF-8, code, name, kind, dates);
 *   2. rows against each other (duplicate codes, references within the file);
 *   3. rows against the database (parent/successor not in the file), inside the
 *      transaction that then writes.
 * Parent and successor foreign keys are deferred, so rows may come in any order. */
#include "cli_db.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_wire.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

enum { F_CODE, F_NAME, F_KIND, F_PARENT, F_FROM, F_TO, F_SUCCESSOR, S_NFIELDS };
static const char *const s_fields[S_NFIELDS] = {"code",       "name",     "kind",     "parent",
                                                "valid_from", "valid_to", "successor"};
/* The fields that name another unit. */
static const int s_refs[] = {F_PARENT, F_SUCCESSOR};
#define S_HEADER CLI_UNIT_CSV_HEADER
#define S_KINDS CLI_UNIT_KINDS
#define S_NAME_MAX 200 /* characters, as units.name's CHECK counts them */
#define S_CSV_OPTS (CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)

typedef struct {
    int line;
    char *f[S_NFIELDS];
    unsigned bad; /* bit i: field i failed its own check, skip checks built on it */
} s_row_t;

typedef struct {
    int line;
    size_t seq; /* keeps problems of one line in the order they were found */
    char *msg;
} s_problem_t;

typedef struct {
    const char *path;
    char *field[S_NFIELDS]; /* the record being parsed */
    size_t flen[S_NFIELDS];
    size_t nfields;
    int record_line; /* line where that record began; 0 between records */
    int header_done, stop;
    s_row_t *rows;
    size_t nrows, rows_cap;
    s_problem_t *problems;
    size_t nproblems, problems_cap;
} s_import_t;

static void s_problem(s_import_t *imp, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_problem(s_import_t *imp, int line, const char *fmt, ...)
{
    if (imp->nproblems == imp->problems_cap) {
        imp->problems_cap = imp->problems_cap ? imp->problems_cap * 2 : 16;
        imp->problems = cchc_realloc(imp->problems, imp->problems_cap * sizeof *imp->problems);
    }
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    imp->problems[imp->nproblems] =
        (s_problem_t){.line = line, .seq = imp->nproblems, .msg = cchc_strdup(buf)};
    imp->nproblems++;
}

/* A value quoted in a message: at most 60 bytes, cut on a character boundary. */
static const char *s_excerpt(const char *s, char buf[72])
{
    size_t n = strlen(s);
    if (n <= 60)
        return s;
    n = 60;
    while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    snprintf(buf, 72, "%.*s...", (int)n, s);
    return buf;
}

/* units.code's CHECK: ^[a-z0-9][a-z0-9-]{0,62}$ */
static int s_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 63 || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

/* YYYY-MM-DD naming a day that exists (no 2025-02-30). */
static int s_date_ok(const char *s)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] + (m == 2 && leap);
}

static int s_kind_ok(const char *s)
{
    static const char *const kinds[] = {"district", "office",   "commune", "town",
                                        "ward",     "province", "other"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(s, kinds[i]) == 0)
            return 1;
    return 0;
}

/* Normalises the name to NFC (DOMAIN.md: names with diacritics are NFC, so
 * the same name typed on two machines compares equal) and checks it. */
static int s_check_name(s_import_t *imp, s_row_t *row)
{
    char *nfc = (char *)utf8proc_NFC((const utf8proc_uint8_t *)row->f[F_NAME]);
    if (!nfc) {
        s_problem(imp, row->line, "name is not valid UTF-8 text: save the file as UTF-8");
        return 0;
    }
    free(row->f[F_NAME]);
    row->f[F_NAME] = nfc;
    size_t chars = 0;
    int control = 0;
    for (const unsigned char *p = (const unsigned char *)nfc; *p; p++) {
        if ((*p & 0xC0) != 0x80)
            chars++;
        if (*p < 0x20 || *p == 0x7F)
            control = 1;
    }
    if (chars == 0)
        s_problem(imp, row->line, "name is empty");
    else if (chars > S_NAME_MAX)
        s_problem(imp, row->line, "name is %zu characters long; at most %d are allowed", chars,
                  S_NAME_MAX);
    else if (control)
        s_problem(imp, row->line, "name contains a line break or another control character");
    else
        return 1;
    return 0;
}

/* Pass 1: one data row on its own. The row is kept even when bad, so that its
 * code still counts for duplicates and references. */
static void s_check_row(s_import_t *imp, int line)
{
    char ex[72];
    if (imp->nfields != S_NFIELDS) {
        s_problem(imp, line, "expected %d fields (%s), found %zu", S_NFIELDS, S_HEADER,
                  imp->nfields);
        return;
    }
    if (imp->nrows == imp->rows_cap) {
        imp->rows_cap = imp->rows_cap ? imp->rows_cap * 2 : 64;
        imp->rows = cchc_realloc(imp->rows, imp->rows_cap * sizeof *imp->rows);
    }
    s_row_t *row = &imp->rows[imp->nrows++];
    *row = (s_row_t){.line = line};
    for (int i = 0; i < S_NFIELDS; i++) {
        row->f[i] = imp->field[i];
        imp->field[i] = NULL;
        if (!cchc_wire_text_ok(row->f[i], imp->flen[i])) {
            s_problem(imp, line,
                      "%s is not valid UTF-8 text (or holds a NUL byte): "
                      "save the file as UTF-8",
                      s_fields[i]);
            row->bad |= 1u << i;
        }
    }
    const unsigned bad = row->bad;
    if (!(bad & 1u << F_CODE) && !*row->f[F_CODE])
        s_problem(imp, line, "code is empty: every unit needs one");
    else if (!(bad & 1u << F_CODE) && !s_code_ok(row->f[F_CODE]))
        s_problem(imp, line,
                  "code '%s' is not valid: use 1 to 63 characters a-z, 0-9 or '-', "
                  "not starting with '-'",
                  s_excerpt(row->f[F_CODE], ex));
    if (*row->f[F_CODE] && !s_code_ok(row->f[F_CODE]))
        row->bad |= 1u << F_CODE;
    if (!(bad & 1u << F_NAME) && !s_check_name(imp, row))
        row->bad |= 1u << F_NAME;
    if (!(bad & 1u << F_KIND) && !s_kind_ok(row->f[F_KIND]))
        s_problem(imp, line, "kind '%s' is not one of %s", s_excerpt(row->f[F_KIND], ex), S_KINDS);
    for (size_t r = 0; r < sizeof s_refs / sizeof s_refs[0]; r++) {
        int i = s_refs[r];
        const char *ref = row->f[i];
        if (bad & 1u << i || !*ref)
            continue;
        if (!s_code_ok(ref)) {
            s_problem(imp, line, "%s '%s' is not a valid unit code", s_fields[i],
                      s_excerpt(ref, ex));
            row->bad |= 1u << i;
        } else if (strcmp(ref, row->f[F_CODE]) == 0) {
            s_problem(imp, line, "%s is the unit itself", s_fields[i]);
            row->bad |= 1u << i;
        }
    }
    if (!(bad & 1u << F_FROM) && !*row->f[F_FROM])
        s_problem(imp, line, "valid_from is empty: give the day the unit opened, as YYYY-MM-DD");
    else if (!(bad & 1u << F_FROM) && !s_date_ok(row->f[F_FROM]))
        s_problem(imp, line, "valid_from '%s' is not a valid date of the form YYYY-MM-DD",
                  s_excerpt(row->f[F_FROM], ex));
    if (!(bad & 1u << F_TO) && *row->f[F_TO] && !s_date_ok(row->f[F_TO]))
        s_problem(imp, line, "valid_to '%s' is not a valid date of the form YYYY-MM-DD",
                  s_excerpt(row->f[F_TO], ex));
    else if (!(bad & 1u << F_TO) && *row->f[F_TO] && s_date_ok(row->f[F_FROM]) &&
             strcmp(row->f[F_TO], row->f[F_FROM]) < 0)
        s_problem(imp, line, "valid_to %s is before valid_from %s", row->f[F_TO], row->f[F_FROM]);
}

static void s_drop_record(s_import_t *imp)
{
    for (int i = 0; i < S_NFIELDS; i++) {
        free(imp->field[i]);
        imp->field[i] = NULL;
    }
    imp->nfields = 0;
    imp->record_line = 0;
}

/* libcsv callback: one field. Only the first S_NFIELDS are kept; the rest are counted. */
static void s_on_field(void *data, size_t len, void *arg)
{
    s_import_t *imp = arg;
    if (!imp->stop && imp->nfields < S_NFIELDS) {
        char *copy = cchc_malloc(len + 1);
        if (len)
            memcpy(copy, data, len);
        copy[len] = '\0';
        imp->field[imp->nfields] = copy;
        imp->flen[imp->nfields] = len;
    }
    imp->nfields++;
}

/* libcsv callback: end of a record. The first one must be the header. */
static void s_on_record(int term, void *arg)
{
    s_import_t *imp = arg;
    if (imp->stop) {
        s_drop_record(imp);
        return;
    }
    if (!imp->header_done) {
        int ok = imp->nfields == S_NFIELDS;
        for (int i = 0; ok && i < S_NFIELDS; i++)
            ok = strcmp(imp->field[i], s_fields[i]) == 0;
        if (!ok) {
            s_problem(imp, imp->record_line, "expected the header '%s'", S_HEADER);
            imp->stop = 1;
        }
        imp->header_done = 1;
    } else {
        s_check_row(imp, imp->record_line);
    }
    s_drop_record(imp);
}

static int s_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* Reads and checks path (passes 1 and 2 need no database). Lines are fed to
 * libcsv one at a time, which is how a record learns the line it began on.
 * 0, or -1 if the file could not be read at all (already reported). */
static int s_read_file(s_import_t *imp)
{
    FILE *f = fopen(imp->path, "rb");
    if (!f) {
        fprintf(stderr, "cchc: could not open file \"%s\": %s\n", imp->path, strerror(errno));
        return -1;
    }
    struct csv_parser p;
    if (csv_init(&p, S_CSV_OPTS) != 0) {
        fclose(f);
        fprintf(stderr, "cchc: out of memory\n");
        return -1;
    }
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    int line = 0;
    while (!imp->stop && (n = getline(&buf, &cap, f)) > 0) {
        const char *s = buf;
        size_t len = (size_t)n;
        line++;
        /* Spreadsheets often save a byte order mark first; it is not part of the header. */
        if (line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            len -= 3;
        }
        if (!imp->record_line && !s_blank(s, len))
            imp->record_line = line;
        if (csv_parse(&p, s, len, s_on_field, s_on_record, imp) != len) {
            /* Report, then start afresh on the next line so later rows are checked too. */
            s_problem(imp, line,
                      "malformed CSV (%s): a quote inside an unquoted field, "
                      "or text after a closing quote",
                      csv_strerror(csv_error(&p)));
            csv_free(&p);
            csv_init(&p, S_CSV_OPTS);
            s_drop_record(imp);
            imp->header_done = 1;
        }
    }
    int read_failed = ferror(f);
    if (!imp->stop && csv_fini(&p, s_on_field, s_on_record, imp) != 0)
        s_problem(imp, imp->record_line ? imp->record_line : line,
                  "a quoted field is not closed before the end of the file");
    s_drop_record(imp);
    csv_free(&p);
    free(buf);
    fclose(f);
    if (read_failed) {
        fprintf(stderr, "cchc: could not read file \"%s\": %s\n", imp->path, strerror(errno));
        return -1;
    }
    if (!imp->header_done) {
        fprintf(stderr, "cchc: %s: the file is empty; expected the header '%s'\n", imp->path,
                S_HEADER);
        return -1;
    }
    return 0;
}

static int s_cmp_row_code_only(const void *a, const void *b)
{
    const s_row_t *x = *(const s_row_t *const *)a, *y = *(const s_row_t *const *)b;
    return strcmp(x->f[F_CODE], y->f[F_CODE]);
}

/* By code, then by line, so the first of duplicates comes first. */
static int s_cmp_row_code(const void *a, const void *b)
{
    const s_row_t *x = *(const s_row_t *const *)a, *y = *(const s_row_t *const *)b;
    int c = strcmp(x->f[F_CODE], y->f[F_CODE]);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int s_cmp_problem(const void *a, const void *b)
{
    const s_problem_t *x = a, *y = b;
    if (x->line != y->line)
        return (x->line > y->line) - (x->line < y->line);
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Passes 2 and 3: duplicates within the file, then references that are
 * neither in the file nor among db_codes (sorted with strcmp, as are the rows). */
static void s_check_references(s_import_t *imp, char **db_codes, size_t ndb)
{
    s_row_t **idx = cchc_calloc(imp->nrows, sizeof *idx);
    size_t n = 0;
    for (size_t i = 0; i < imp->nrows; i++)
        if (!(imp->rows[i].bad & 1u << F_CODE) && *imp->rows[i].f[F_CODE])
            idx[n++] = &imp->rows[i];
    qsort(idx, n, sizeof *idx, s_cmp_row_code);
    for (size_t i = 1; i < n; i++)
        if (strcmp(idx[i]->f[F_CODE], idx[i - 1]->f[F_CODE]) == 0) {
            size_t first = i - 1;
            while (first > 0 && strcmp(idx[first - 1]->f[F_CODE], idx[i]->f[F_CODE]) == 0)
                first--;
            s_problem(imp, idx[i]->line, "duplicate code '%s': it is already on line %d",
                      idx[i]->f[F_CODE], idx[first]->line);
        }
    for (size_t i = 0; i < imp->nrows; i++) {
        s_row_t *row = &imp->rows[i];
        for (size_t r = 0; r < sizeof s_refs / sizeof s_refs[0]; r++) {
            int fi = s_refs[r];
            if (row->bad & 1u << fi || !*row->f[fi])
                continue;
            s_row_t key = {.f = {[F_CODE] = row->f[fi]}}, *kp = &key;
            const char *ref = row->f[fi];
            if (bsearch(&kp, idx, n, sizeof *idx, s_cmp_row_code_only) ||
                bsearch(&ref, db_codes, ndb, sizeof *db_codes, s_cmp_str))
                continue;
            s_problem(imp, row->line,
                      "%s '%s' is neither in this file nor in the database: "
                      "add it to the file",
                      s_fields[fi], ref);
        }
    }
    free(idx);
}

static void s_import_free(s_import_t *imp)
{
    s_drop_record(imp);
    for (size_t i = 0; i < imp->nrows; i++)
        for (int f = 0; f < S_NFIELDS; f++)
            free(imp->rows[i].f[f]);
    free(imp->rows);
    for (size_t i = 0; i < imp->nproblems; i++)
        free(imp->problems[i].msg);
    free(imp->problems);
}

static void s_print_problems(s_import_t *imp)
{
    qsort(imp->problems, imp->nproblems, sizeof *imp->problems, s_cmp_problem);
    for (size_t i = 0; i < imp->nproblems; i++)
        fprintf(stderr, "%s:%d: %s\n", imp->path, imp->problems[i].line, imp->problems[i].msg);
    fprintf(stderr,
            "cchc: %s: %zu problem%s; nothing was imported: correct the file and "
            "import it again\n",
            imp->path, imp->nproblems, imp->nproblems == 1 ? "" : "s");
}

/* Only the facts the file carries are written; last_seen and created_at stay. */
static const char s_upsert_sql[] =
    "INSERT INTO units (code, name, kind, parent, valid_from, valid_to, successor) "
    "VALUES ($1, $2, $3, $4, $5::date, $6::date, $7) "
    "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, "
    "parent = EXCLUDED.parent, valid_from = EXCLUDED.valid_from, "
    "valid_to = EXCLUDED.valid_to, successor = EXCLUDED.successor "
    "RETURNING (xmax = 0)"; /* true when the row was inserted, not updated */

/* Writes every row; the caller holds the transaction. 0 or -1 (reported). */
static int s_write_rows(cli_ctx_t *ctx, s_import_t *imp, size_t *added, size_t *updated)
{
    int progress = isatty(STDERR_FILENO) && imp->nrows >= 500;
    for (size_t i = 0; i < imp->nrows; i++) {
        char **f = imp->rows[i].f;
        const char *params[S_NFIELDS] = {
            f[F_CODE],
            f[F_NAME],
            f[F_KIND],
            *f[F_PARENT] ? f[F_PARENT] : NULL,
            f[F_FROM],
            *f[F_TO] ? f[F_TO] : NULL,
            *f[F_SUCCESSOR] ? f[F_SUCCESSOR] : NULL,
        };
        char *what = cchc_asprintf("%s:%d: could not store unit '%s'", imp->path, imp->rows[i].line,
                                   f[F_CODE]);
        PGresult *r = cli_db_query(ctx, what, s_upsert_sql, S_NFIELDS, params, PGRES_TUPLES_OK);
        free(what);
        if (!r)
            return -1;
        if (strcmp(PQgetvalue(r, 0, 0), "t") == 0)
            (*added)++;
        else
            (*updated)++;
        PQclear(r);
        if (progress && (i % 100 == 0 || i + 1 == imp->nrows))
            fprintf(stderr, "\rcchc: importing units: %zu/%zu", i + 1, imp->nrows);
    }
    if (progress)
        fputc('\n', stderr);
    return 0;
}

int cli_unit_import(cli_ctx_t *ctx, const char *path)
{
    s_import_t imp = {.path = path};
    PGresult *codes = NULL;
    char **db_codes = NULL;
    int in_tx = 0, rc = CLI_EXIT_FAIL;
    size_t added = 0, updated = 0;

    if (s_read_file(&imp) != 0 || imp.stop)
        goto out;
    if (cli_db_connect(ctx, 1) != 0 || cli_db_begin(ctx) != 0)
        goto out;
    in_tx = 1;
    /* Byte order, to match strcmp in s_check_references. */
    codes = cli_db_query(ctx, "could not read the units",
                         "SELECT code FROM units "
                         "ORDER BY code COLLATE \"C\"",
                         0, NULL, PGRES_TUPLES_OK);
    if (!codes)
        goto out;
    size_t ndb = (size_t)PQntuples(codes);
    db_codes = cchc_calloc(ndb, sizeof *db_codes);
    for (size_t i = 0; i < ndb; i++)
        db_codes[i] = PQgetvalue(codes, (int)i, 0);
    s_check_references(&imp, db_codes, ndb);
    if (imp.nproblems)
        goto out;
    if (s_write_rows(ctx, &imp, &added, &updated) != 0)
        goto out;
    /* Inside the transaction: listeners hear of it only if it commits. */
    if (cli_db_exec(ctx, "could not notify the server", "NOTIFY cchc_units", 0, NULL) != 0)
        goto out;
    in_tx = 0;
    if (cli_db_commit(ctx) != 0)
        goto out;
    printf("imported %zu units (%zu new, %zu updated)\n", imp.nrows, added, updated);
    CCHC_LOG(CCHC_LOG_INFO, "units_imported", "file=\"%s\" units=%zu new=%zu updated=%zu", path,
             imp.nrows, added, updated);
    rc = CLI_EXIT_OK;
out:
    if (in_tx)
        cli_db_rollback(ctx);
    if (imp.nproblems)
        s_print_problems(&imp);
    free(db_codes);
    PQclear(codes);
    s_import_free(&imp);
    return rc;
}
