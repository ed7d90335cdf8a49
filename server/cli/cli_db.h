/* cli_db.h: what the commands of cchc share.
 *
 * The session (config and one blocking libpq connection), helpers that run a
 * parameterised statement and check its status exactly, and the output
 * helpers (an aligned text table for people, JSON for scripts). Every helper
 * that fails has already told the operator why on stderr, so a command only
 * has to map the failure to its exit code.
 *
 * The command entry points live here too: one cli_<command>.c per command,
 * dispatched by cli_main.c. */
#ifndef CLI_DB_H
#define CLI_DB_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes that scripts can test. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,  /* the database or a file said no; the message says why */
    CLI_EXIT_USAGE = 2, /* bad arguments or configuration */
};

typedef struct {
    const char *conninfo; /* borrowed from the config; "" means the PG* variables */
    PGconn *conn;         /* NULL until cli_db_connect */
} cli_ctx_t;

/* ---- commands (cli_<command>.c): argv[0] is the command name ------------------------ */

int cli_migrate_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_unit_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_key_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_report_run(cli_ctx_t *ctx, int argc, char **argv);

/* Prints what getopt_long found wrong with a command's options: c is what it
 * returned (':' for a missing value, '?' for an unknown option). */
void cli_db_bad_option(int c, char **argv);

/* cli_unit_import.c: `cchc unit import FILE.csv`; returns the exit code. */
#define CLI_UNIT_CSV_HEADER "code,name,kind,parent,valid_from,valid_to,successor"
#define CLI_UNIT_KINDS "district, office, commune, town, ward, province, other"
int cli_unit_import(cli_ctx_t *ctx, const char *path);

/* ---- session ------------------------------------------------------------------------- */

/* Connects (client encoding UTF-8) and, when check_schema is true, makes sure
 * the schema is exactly this build's. 0, or -1 after printing the reason. */
int cli_db_connect(cli_ctx_t *ctx, int check_schema);
/* Closes the connection; safe to call twice. */
void cli_db_close(cli_ctx_t *ctx);

/* Runs sql with text parameters (a NULL entry is SQL NULL) and returns the
 * result if its status is exactly `expect`. Otherwise prints
 * "cchc: <what>: <server message>", clears the result and returns NULL.
 * The caller PQclears what it gets. */
PGresult *cli_db_query(cli_ctx_t *ctx, const char *what, const char *sql, int nparams,
                       const char *const *params, ExecStatusType expect);
/* cli_db_query for statements without rows (PGRES_COMMAND_OK). 0 or -1. */
int cli_db_exec(cli_ctx_t *ctx, const char *what, const char *sql, int nparams,
                const char *const *params);
/* BEGIN / COMMIT; ROLLBACK is quiet, since it follows an error already shown. */
int cli_db_begin(cli_ctx_t *ctx);
int cli_db_commit(cli_ctx_t *ctx);
void cli_db_rollback(cli_ctx_t *ctx);

/* Value of a column as int64 (0 when NULL). Assumes an integer column. */
int64_t cli_db_int(const PGresult *r, int row, int col);

/* ---- output -------------------------------------------------------------------------- */


/* Text tables: cells are copied; columns are padded by display width, so
 * names with diacritics line up. NULL and empty cells print as "-". */
typedef struct cli_table cli_table_t;
cli_table_t *cli_db_table_new(int ncols, const char *const *headers);
void cli_db_table_add(cli_table_t *t, const char *const *cells);
void cli_db_table_print(const cli_table_t *t, FILE *f);
void cli_db_table_destroy(cli_table_t **t_p);

/* JSON values of a column: a string, or an integer, or null when NULL. New references. */
json_t *cli_db_json_text(const PGresult *r, int row, int col);
json_t *cli_db_json_int(const PGresult *r, int row, int col);
/* Prints a JSON value on stdout (indented, UTF-8 kept) and takes ownership of it.
 * 0, or -1 if stdout could not be written. */
int cli_db_json_print(json_t **v_p);

#endif
