/* cli_csv.h: the CSV reader and the import driver that every `cchc ... import`
 * shares.
 *
 * An import is all or nothing: the whole file is read and checked before
 * anything is written, every bad row is reported as FILE:LINE: reason (sorted
 * by line, in the order found within a line), and only a clean file is
 * written, in one transaction. This module owns the parsing (libcsv, strict,
 * one line at a time so that each record knows the line it began on), the
 * header check, the field count and UTF-8 checks, the problem list, small
 * value checks that more than one import needs, and the sequence of an import
 * (cli_csv_import): read, check, connect, check against the database, write,
 * commit, count. What a row means and how it is stored is the import's own
 * business: it gets each row through callbacks. */
#ifndef CLI_CSV_H
#define CLI_CSV_H

#include "cli_db.h"

#include <libpq-fe.h>
#include <stddef.h>

#define CLI_CSV_MAX_FIELDS 16

typedef struct {
    int line;     /* where the record began */
    char **f;     /* nfields NUL-terminated values, owned by the reader */
    unsigned bad; /* bit i: field i failed its own check; skip checks built on it */
} cli_csv_row_t;

typedef struct cli_csv cli_csv_t;

/* Checks one row on its own (pass 1), reporting with cli_csv_problem. Called
 * only for rows with the right number of fields; fields that are not valid
 * UTF-8 are already reported and marked bad. The callback may replace a value
 * (free it, store a malloc'd one). */
typedef void (*cli_csv_check_fn)(cli_csv_t *csv, cli_csv_row_t *row, void *arg);

typedef struct {
    int line;
    size_t seq; /* keeps problems of one line in the order they were found */
    char *msg;
} cli_csv_problem_t;

struct cli_csv {
    /* set by cli_csv_init */
    const char *path;
    const char *const *fields;
    int nfields;
    char *header; /* the fields joined by ',' */
    cli_csv_check_fn check;
    void *arg;
    /* results */
    cli_csv_row_t *rows; /* every data row with the right number of fields, bad or not */
    size_t nrows, rows_cap;
    cli_csv_problem_t *problems;
    size_t nproblems, problems_cap;
    /* parser state */
    char *field[CLI_CSV_MAX_FIELDS];
    size_t flen[CLI_CSV_MAX_FIELDS];
    size_t nf;
    int record_line, header_done, stop;
};

/* fields (borrowed, nfields <= CLI_CSV_MAX_FIELDS) is the exact header. */
void cli_csv_init(cli_csv_t *csv, const char *path, const char *const *fields, int nfields,
                  cli_csv_check_fn check, void *arg);
/* Reads and checks the whole file. 0 when every row was read (problems may
 * have been found: see nproblems); -1 when the file could not be read or its
 * header is wrong (said on stderr, or recorded as a problem). */
int cli_csv_read(cli_csv_t *csv);
/* Prints the problems sorted by line, and the line saying nothing was imported. */
void cli_csv_print_problems(cli_csv_t *csv);
void cli_csv_free(cli_csv_t *csv);

void cli_csv_problem(cli_csv_t *csv, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- value checks ------------------------------------------------------------------ */

/* A value quoted in a message: at most 60 bytes, cut on a character boundary. */
const char *cli_csv_excerpt(const char *s, char buf[72]);
/* YYYY-MM-DD naming a day that exists (no 2025-02-30). */
int cli_csv_date_ok(const char *s);
/* units.code's CHECK: ^[a-z0-9][a-z0-9-]{0,62}$ */
int cli_csv_unit_code_ok(const char *s);
/* s is one of the NULL-terminated words. */
int cli_csv_one_of(const char *s, const char *const *words);
/* A whole number in [lo, hi] written in plain decimal digits. */
int cli_csv_int_ok(const char *s, long lo, long hi);

/* Normalises field i of row to NFC (DOMAIN.md: text is NFC, so the same name
 * typed on two machines compares equal) and checks it has min_chars (0 or 1)
 * to max_chars characters and no control character. 1 if good; else reports
 * "<field> is empty" or the like and returns 0. */
int cli_csv_text(cli_csv_t *csv, cli_csv_row_t *row, int i, size_t min_chars, size_t max_chars);

/* Reports every row whose field i repeats an earlier row's, as
 * "duplicate <label> 'X': it is already on line N". Rows with field i bad or
 * empty are skipped. */
void cli_csv_check_duplicates(cli_csv_t *csv, int i, const char *label);

/* ---- lists of units and groups ----------------------------------------------------- */

/* Splits a comma list; items are trimmed of spaces, empty ones kept as "".
 * "" gives no items. Returns the count; free with cli_csv_split_free. */
size_t cli_csv_split(const char *s, char ***items_p);
void cli_csv_split_free(char **items, size_t n);

/* Pass 1: field i is a comma list of targets: "@kind" with kind among groups
 * (NULL-terminated words after the '@') or unit codes, each once; at least
 * one when required. Rewrites it to its canonical form "a,b" (no spaces), so
 * SQL can split it at ','. Reports problems and marks the field bad. */
void cli_csv_targets(cli_csv_t *csv, cli_csv_row_t *row, int i, const char *const *groups,
                     int required);
/* Pass 3: the unit codes of a good target list (field i) must be among
 * known_units, column 0 sorted by byte (cli_db_unit_codes). */
void cli_csv_targets_known(cli_csv_t *csv, cli_csv_row_t *row, int i, const PGresult *known_units);

/* ---- the import driver ------------------------------------------------------------- */

/* What one import is made of; the driver does the rest (cli_csv_import). arg
 * goes to every callback. */
typedef struct {
    const char *const *fields; /* the exact header (borrowed) */
    int nfields;
    /* Pass 1: one row on its own, while the file is parsed. */
    cli_csv_check_fn check;
    /* Pass 2: rows against each other. Field key must not repeat, reported as
     * "duplicate <key_label> 'X'". The key also names a row that could not be
     * stored: "could not store <item> 'X'" (or <item> X when key_bare, for
     * values such as dates that read as themselves). */
    int key;
    const char *key_label;
    const char *item;
    int key_bare;
    /* Pass 3, or NULL for none: rows against the database's units (every
     * code, sorted by byte: cli_db_unit_codes), inside the transaction that
     * then writes. Reports with cli_csv_problem. */
    void (*check_units)(cli_csv_t *csv, const PGresult *unit_codes, void *arg);
    /* Writes one row of a clean file; the driver holds the transaction. what
     * is the message prefix for a failure ("FILE:LINE: could not store ...").
     * Returns 0 when the row was unchanged, 1 new, 2 updated, or -1 after
     * saying why (cli_db_query does). */
    int (*write)(cli_ctx_t *ctx, const cli_csv_row_t *row, const char *what, void *arg);
    /* After the rows, inside the transaction, or NULL: a channel to notify,
     * so that listeners hear of the import only if it commits. */
    const char *notify;
    /* The summary line "imported N <things> (a new, b updated, c unchanged)",
     * the event logged ("<event> file=... <log_key>=N new=a updated=b"), and
     * the progress line shown on a terminal for long files. */
    const char *things;
    const char *event;
    const char *log_key;
    void *arg;
} cli_csv_import_t;

/* Imports the file at path as spec says, in this order:
 *   1. read the file, checking each row on its own (pass 1);
 *   2. check rows against each other (pass 2); with problems and no pass 3,
 *      stop here without touching the database;
 *   3. connect, BEGIN, and check rows against the database's units (pass 3),
 *      so that one run reports every problem, file and database alike;
 *   4. with any problem: ROLLBACK, print them all, write nothing;
 *   5. write each row, NOTIFY, COMMIT, print the summary and log the event.
 * A row that cannot be written rolls everything back. Returns the exit code
 * (CLI_EXIT_OK, or CLI_EXIT_FAIL after saying why). */
int cli_csv_import(cli_ctx_t *ctx, const cli_csv_import_t *spec, const char *path);

/* For write callbacks: runs an upsert whose one column is RETURNING (xmax = 0)
 * and which returns no row when it changed nothing (ON CONFLICT ... WHERE ...
 * IS DISTINCT FROM ...). 0 unchanged, 1 new, 2 updated, or -1 (reported as
 * "<what>: <server message>"). */
int cli_csv_upsert(cli_ctx_t *ctx, const char *what, const char *sql, int nparams,
                   const char *const *params);

#endif
