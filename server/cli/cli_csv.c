/* cli_csv.c: the CSV reader and the import driver of the imports (see cli_csv.h).
 *
 * Lines are fed to libcsv one at a time, which is how a record learns the line
 * it began on; a malformed line is reported and parsing starts afresh on the
 * next one, so later rows are still checked. Only the first nfields fields of
 * a record are kept; the rest are counted, to say how many there were. */
#include "cli_csv.h"
#include "cli_db.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_wire.h"

#include <assert.h>
#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

#define S_CSV_OPTS (CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)

void cli_csv_init(cli_csv_t *csv, const char *path, const char *const *fields, int nfields,
                  cli_csv_check_fn check, void *arg)
{
    assert(nfields > 0 && nfields <= CLI_CSV_MAX_FIELDS);
    *csv =
        (cli_csv_t){.path = path, .fields = fields, .nfields = nfields, .check = check, .arg = arg};
    size_t len = 1;
    for (int i = 0; i < nfields; i++)
        len += strlen(fields[i]) + 1;
    csv->header = cchc_calloc(1, len);
    for (int i = 0; i < nfields; i++) {
        if (i)
            strcat(csv->header, ",");
        strcat(csv->header, fields[i]);
    }
}

void cli_csv_problem(cli_csv_t *csv, int line, const char *fmt, ...)
{
    if (csv->nproblems == csv->problems_cap) {
        csv->problems_cap = csv->problems_cap ? csv->problems_cap * 2 : 16;
        csv->problems = cchc_realloc(csv->problems, csv->problems_cap * sizeof *csv->problems);
    }
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    csv->problems[csv->nproblems] =
        (cli_csv_problem_t){.line = line, .seq = csv->nproblems, .msg = cchc_strdup(buf)};
    csv->nproblems++;
}

/* ---- parsing ------------------------------------------------------------------------- */

/* A record with the right number of fields becomes a row: UTF-8 first, then
 * the import's own checks. The row is kept even when bad, so that its key
 * still counts for duplicates and references. */
static void s_check_row(cli_csv_t *csv, int line)
{
    if (csv->nf != (size_t)csv->nfields) {
        cli_csv_problem(csv, line, "expected %d fields (%s), found %zu", csv->nfields, csv->header,
                        csv->nf);
        return;
    }
    if (csv->nrows == csv->rows_cap) {
        csv->rows_cap = csv->rows_cap ? csv->rows_cap * 2 : 64;
        csv->rows = cchc_realloc(csv->rows, csv->rows_cap * sizeof *csv->rows);
    }
    cli_csv_row_t *row = &csv->rows[csv->nrows++];
    *row = (cli_csv_row_t){.line = line, .f = cchc_calloc((size_t)csv->nfields, sizeof(char *))};
    for (int i = 0; i < csv->nfields; i++) {
        row->f[i] = csv->field[i];
        csv->field[i] = NULL;
        if (!cchc_wire_text_ok(row->f[i], csv->flen[i])) {
            cli_csv_problem(csv, line,
                            "%s is not valid UTF-8 text (or holds a NUL byte): "
                            "save the file as UTF-8",
                            csv->fields[i]);
            row->bad |= 1u << i;
        }
    }
    csv->check(csv, row, csv->arg);
}

static void s_drop_record(cli_csv_t *csv)
{
    for (int i = 0; i < csv->nfields; i++) {
        free(csv->field[i]);
        csv->field[i] = NULL;
    }
    csv->nf = 0;
    csv->record_line = 0;
}

/* libcsv callback: one field. */
static void s_on_field(void *data, size_t len, void *arg)
{
    cli_csv_t *csv = arg;
    if (!csv->stop && csv->nf < (size_t)csv->nfields) {
        char *copy = cchc_malloc(len + 1);
        if (len)
            memcpy(copy, data, len);
        copy[len] = '\0';
        csv->field[csv->nf] = copy;
        csv->flen[csv->nf] = len;
    }
    csv->nf++;
}

/* libcsv callback: end of a record. The first one must be the header. */
static void s_on_record(int term, void *arg)
{
    cli_csv_t *csv = arg;
    if (csv->stop) {
        s_drop_record(csv);
        return;
    }
    if (!csv->header_done) {
        int ok = csv->nf == (size_t)csv->nfields;
        for (int i = 0; ok && i < csv->nfields; i++)
            ok = strcmp(csv->field[i], csv->fields[i]) == 0;
        if (!ok) {
            cli_csv_problem(csv, csv->record_line, "expected the header '%s'", csv->header);
            csv->stop = 1;
        }
        csv->header_done = 1;
    } else {
        s_check_row(csv, csv->record_line);
    }
    s_drop_record(csv);
}

static int s_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

int cli_csv_read(cli_csv_t *csv)
{
    FILE *f = fopen(csv->path, "rb");
    if (!f) {
        fprintf(stderr, "cchc: could not open file \"%s\": %s\n", csv->path, strerror(errno));
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
    while (!csv->stop && (n = getline(&buf, &cap, f)) > 0) {
        const char *s = buf;
        size_t len = (size_t)n;
        line++;
        /* Spreadsheets often save a byte order mark first; it is not part of the header. */
        if (line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            len -= 3;
        }
        if (!csv->record_line && !s_blank(s, len))
            csv->record_line = line;
        if (csv_parse(&p, s, len, s_on_field, s_on_record, csv) != len) {
            cli_csv_problem(csv, line,
                            "malformed CSV (%s): a quote inside an unquoted field, "
                            "or text after a closing quote",
                            csv_strerror(csv_error(&p)));
            csv_free(&p);
            csv_init(&p, S_CSV_OPTS);
            s_drop_record(csv);
            csv->header_done = 1;
        }
    }
    int read_failed = ferror(f);
    if (!csv->stop && csv_fini(&p, s_on_field, s_on_record, csv) != 0)
        cli_csv_problem(csv, csv->record_line ? csv->record_line : line,
                        "a quoted field is not closed before the end of the file");
    s_drop_record(csv);
    csv_free(&p);
    free(buf);
    fclose(f);
    if (read_failed) {
        fprintf(stderr, "cchc: could not read file \"%s\": %s\n", csv->path, strerror(errno));
        return -1;
    }
    if (!csv->header_done) {
        fprintf(stderr, "cchc: %s: the file is empty; expected the header '%s'\n", csv->path,
                csv->header);
        return -1;
    }
    return csv->stop ? -1 : 0;
}

static int s_cmp_problem(const void *a, const void *b)
{
    const cli_csv_problem_t *x = a, *y = b;
    if (x->line != y->line)
        return (x->line > y->line) - (x->line < y->line);
    return (x->seq > y->seq) - (x->seq < y->seq);
}

void cli_csv_print_problems(cli_csv_t *csv)
{
    qsort(csv->problems, csv->nproblems, sizeof *csv->problems, s_cmp_problem);
    for (size_t i = 0; i < csv->nproblems; i++)
        fprintf(stderr, "%s:%d: %s\n", csv->path, csv->problems[i].line, csv->problems[i].msg);
    fprintf(stderr,
            "cchc: %s: %zu problem%s; nothing was imported: correct the file and "
            "import it again\n",
            csv->path, csv->nproblems, csv->nproblems == 1 ? "" : "s");
}

void cli_csv_free(cli_csv_t *csv)
{
    s_drop_record(csv);
    for (size_t i = 0; i < csv->nrows; i++) {
        for (int f = 0; f < csv->nfields; f++)
            free(csv->rows[i].f[f]);
        free(csv->rows[i].f);
    }
    free(csv->rows);
    for (size_t i = 0; i < csv->nproblems; i++)
        free(csv->problems[i].msg);
    free(csv->problems);
    free(csv->header);
    csv->rows = NULL;
    csv->problems = NULL;
    csv->header = NULL;
    csv->nrows = csv->nproblems = 0;
}

/* ---- value checks ---------------------------------------------------------------------- */

const char *cli_csv_excerpt(const char *s, char buf[72])
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

int cli_csv_date_ok(const char *s)
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

int cli_csv_unit_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 63 || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

int cli_csv_one_of(const char *s, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strcmp(s, words[i]) == 0)
            return 1;
    return 0;
}

int cli_csv_int_ok(const char *s, long lo, long hi)
{
    size_t n = strlen(s);
    if (n < 1 || n > 9)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    long v = strtol(s, NULL, 10);
    return v >= lo && v <= hi;
}

int cli_csv_text(cli_csv_t *csv, cli_csv_row_t *row, int i, size_t min_chars, size_t max_chars)
{
    const char *name = csv->fields[i];
    char *nfc = (char *)utf8proc_NFC((const utf8proc_uint8_t *)row->f[i]);
    if (!nfc) {
        cli_csv_problem(csv, row->line, "%s is not valid UTF-8 text: save the file as UTF-8", name);
        return 0;
    }
    free(row->f[i]);
    row->f[i] = nfc;
    size_t chars = 0;
    int control = 0;
    for (const unsigned char *p = (const unsigned char *)nfc; *p; p++) {
        if ((*p & 0xC0) != 0x80)
            chars++;
        if (*p < 0x20 || *p == 0x7F)
            control = 1;
    }
    if (chars < min_chars)
        cli_csv_problem(csv, row->line, "%s is empty", name);
    else if (chars > max_chars)
        cli_csv_problem(csv, row->line, "%s is %zu characters long; at most %zu are allowed", name,
                        chars, max_chars);
    else if (control)
        cli_csv_problem(csv, row->line, "%s contains a line break or another control character",
                        name);
    else
        return 1;
    return 0;
}

typedef struct {
    const char *key;
    int line;
} s_key_t;

static int s_cmp_key(const void *a, const void *b)
{
    const s_key_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

void cli_csv_check_duplicates(cli_csv_t *csv, int i, const char *label)
{
    s_key_t *keys = cchc_calloc(csv->nrows ? csv->nrows : 1, sizeof *keys);
    size_t n = 0;
    for (size_t r = 0; r < csv->nrows; r++)
        if (!(csv->rows[r].bad & 1u << i) && *csv->rows[r].f[i])
            keys[n++] = (s_key_t){csv->rows[r].f[i], csv->rows[r].line};
    qsort(keys, n, sizeof *keys, s_cmp_key);
    size_t first = 0;
    for (size_t k = 1; k < n; k++) {
        if (strcmp(keys[k].key, keys[first].key) != 0) {
            first = k;
            continue;
        }
        cli_csv_problem(csv, keys[k].line, "duplicate %s '%s': it is already on line %d", label,
                        keys[k].key, keys[first].line);
    }
    free(keys);
}

/* ---- lists of units and groups ----------------------------------------------------- */

size_t cli_csv_split(const char *s, char ***items_p)
{
    size_t n = 0;
    char **items = NULL;
    if (*s) {
        for (const char *p = s;; p++) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            while (len && p[len - 1] == ' ')
                len--;
            while (len && *p == ' ') {
                p++;
                len--;
            }
            items = cchc_realloc(items, (n + 1) * sizeof *items);
            items[n++] = cchc_strndup(p, len);
            if (!end)
                break;
            p = end;
        }
    }
    *items_p = items;
    return n;
}

void cli_csv_split_free(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

void cli_csv_targets(cli_csv_t *csv, cli_csv_row_t *row, int i, const char *const *groups,
                     int required)
{
    char **items, ex[72];
    size_t n = cli_csv_split(row->f[i], &items);
    const char *name = csv->fields[i];
    size_t len = 1;
    int ok = 1;
    if (n == 0 && required) {
        cli_csv_problem(csv, row->line, "%s is empty: name at least one unit or @group", name);
        ok = 0;
    }
    for (size_t k = 0; k < n; k++) {
        const char *t = items[k];
        len += strlen(t) + 1;
        int dup = 0;
        for (size_t j = 0; j < k; j++)
            dup |= strcmp(items[j], t) == 0;
        if (!*t) {
            cli_csv_problem(csv, row->line, "%s has an empty item: remove the extra ','", name);
            ok = 0;
        } else if (t[0] == '@' && !cli_csv_one_of(t + 1, groups)) {
            char known[256] = "";
            for (size_t g = 0; groups[g]; g++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s@%s",
                         g ? ", " : "", groups[g]);
            cli_csv_problem(csv, row->line, "%s: '%s' is not a group; use one of %s", name,
                            cli_csv_excerpt(t, ex), known);
            ok = 0;
        } else if (t[0] != '@' && !cli_csv_unit_code_ok(t)) {
            cli_csv_problem(csv, row->line,
                            "%s: '%s' is neither a unit code (a-z, 0-9, '-') nor an @group", name,
                            cli_csv_excerpt(t, ex));
            ok = 0;
        } else if (dup) {
            cli_csv_problem(csv, row->line, "%s names '%s' twice", name, t);
            ok = 0;
        }
    }
    if (ok) {
        char *canon = cchc_calloc(1, len);
        for (size_t k = 0; k < n; k++) {
            if (k)
                strcat(canon, ",");
            strcat(canon, items[k]);
        }
        free(row->f[i]);
        row->f[i] = canon;
    } else {
        row->bad |= 1u << i;
    }
    cli_csv_split_free(items, n);
}

void cli_csv_targets_known(cli_csv_t *csv, cli_csv_row_t *row, int i, const PGresult *known_units)
{
    if (row->bad & 1u << i)
        return;
    char **items;
    size_t n = cli_csv_split(row->f[i], &items);
    for (size_t k = 0; k < n; k++)
        if (items[k][0] != '@' && !cli_db_sorted_has(known_units, 0, items[k]))
            cli_csv_problem(csv, row->line,
                            "%s: unit '%s' is not in the database: import it first with "
                            "'cchc unit import'",
                            csv->fields[i], items[k]);
    cli_csv_split_free(items, n);
}

/* ---- the import driver ------------------------------------------------------------- */

int cli_csv_upsert(cli_ctx_t *ctx, const char *what, const char *sql, int nparams,
                   const char *const *params)
{
    PGresult *r = cli_db_query(ctx, what, sql, nparams, params, PGRES_TUPLES_OK);
    if (!r)
        return -1;
    int state = PQntuples(r) == 0 ? 0 : strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? 1 : 2;
    PQclear(r);
    return state;
}

/* Writes every row of a clean file; the caller holds the transaction. counts
 * is indexed by the state each write returns. A long file shows its progress
 * on a terminal, where a silent minute looks like a hang. 0 or -1 (reported). */
static int s_write_rows(cli_ctx_t *ctx, const cli_csv_import_t *spec, const cli_csv_t *csv,
                        size_t counts[3])
{
    int progress = isatty(STDERR_FILENO) && csv->nrows >= 500;
    const char *quote = spec->key_bare ? "" : "'";
    for (size_t i = 0; i < csv->nrows; i++) {
        const cli_csv_row_t *row = &csv->rows[i];
        char *what = cchc_asprintf("%s:%d: could not store %s %s%s%s", csv->path, row->line,
                                   spec->item, quote, row->f[spec->key], quote);
        int state = spec->write(ctx, row, what, spec->arg);
        free(what);
        if (state < 0)
            return -1;
        assert(state <= 2);
        counts[state]++;
        if (progress && (i % 100 == 0 || i + 1 == csv->nrows))
            fprintf(stderr, "\rcchc: importing %s: %zu/%zu", spec->things, i + 1, csv->nrows);
    }
    if (progress)
        fputc('\n', stderr);
    return 0;
}

int cli_csv_import(cli_ctx_t *ctx, const cli_csv_import_t *spec, const char *path)
{
    cli_csv_t csv;
    PGresult *codes = NULL;
    int in_tx = 0, rc = CLI_EXIT_FAIL;
    size_t counts[3] = {0, 0, 0}; /* unchanged, new, updated */

    cli_csv_init(&csv, path, spec->fields, spec->nfields, spec->check, spec->arg);
    if (cli_csv_read(&csv) != 0)
        goto out;
    cli_csv_check_duplicates(&csv, spec->key, spec->key_label);
    /* Without a pass 3 the database has nothing to add to a bad file's
     * problems; with one, it is asked even so, or the operator would see
     * its problems only after correcting the others. */
    if (csv.nproblems && !spec->check_units)
        goto out;
    if (cli_db_connect(ctx, 1) != 0 || cli_db_begin(ctx) != 0)
        goto out;
    in_tx = 1;
    if (spec->check_units) {
        if (!(codes = cli_db_unit_codes(ctx)))
            goto out;
        spec->check_units(&csv, codes, spec->arg);
    }
    if (csv.nproblems)
        goto out;
    if (s_write_rows(ctx, spec, &csv, counts) != 0)
        goto out;
    if (spec->notify) {
        const char *params[1] = {spec->notify};
        PGresult *r = cli_db_query(ctx, "could not notify the server", "SELECT pg_notify($1, '')",
                                   1, params, PGRES_TUPLES_OK);
        if (!r)
            goto out;
        PQclear(r);
    }
    in_tx = 0;
    if (cli_db_commit(ctx) != 0)
        goto out;
    printf("imported %zu %s (%zu new, %zu updated, %zu unchanged)\n", csv.nrows, spec->things,
           counts[1], counts[2], counts[0]);
    CCHC_LOG(CCHC_LOG_INFO, spec->event, "file=\"%s\" %s=%zu new=%zu updated=%zu", path,
             spec->log_key, csv.nrows, counts[1], counts[2]);
    rc = CLI_EXIT_OK;
out:
    if (in_tx)
        cli_db_rollback(ctx);
    if (csv.nproblems)
        cli_csv_print_problems(&csv);
    PQclear(codes);
    cli_csv_free(&csv);
    return rc;
}
