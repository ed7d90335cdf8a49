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
    /* admin.ini [server]: what issued bundles point at ("": not set). */
    const char *server_key;      /* the server's public key file */
    const char *server_endpoint; /* the servers as agents reach them: "a" or "a, b" */
} cli_ctx_t;

/* ---- commands (cli_<command>.c): argv[0] is the command name ------------------------ */

int cli_migrate_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_unit_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_key_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_report_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_type_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_calendar_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_plan_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_inspection_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_finding_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_audit_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_exempt_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_expectations_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_silence_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_subscriber_run(cli_ctx_t *ctx, int argc, char **argv);
/* `cchc period lock|reopen|list` (cli_period.c): E006's lock and its reopenings. */
int cli_period_run(cli_ctx_t *ctx, int argc, char **argv);
/* The figures (cli_fig.h): read the views of 013_figures.sql. */
int cli_status_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_overdue_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_dossiers_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_remediation_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_tasks_run(cli_ctx_t *ctx, int argc, char **argv);
int cli_agents_run(cli_ctx_t *ctx, int argc, char **argv);
/* `cchc refusals` (cli_refusals.c): the principals the server refused (015). */
int cli_refusals_run(cli_ctx_t *ctx, int argc, char **argv);
/* `cchc summary` (cli_summary.c): the consolidated report, .xlsx or .html. */
int cli_summary_run(cli_ctx_t *ctx, int argc, char **argv);
/* `cchc watch`: the subscriber (the only command speaking ZeroMQ). */
int cli_watch_run(cli_ctx_t *ctx, int argc, char **argv);

/* Parses the options of `cchc <command> <subcommand> ...` (argv[0] the command,
 * argv[1] the subcommand or --help) with getopt_long: -h/--help print usage
 * on stdout; an unknown option or a missing value prints the problem and the
 * usage on stderr. Every other option goes to on_opt(c, optarg, arg), which
 * returns 0 or CLI_EXIT_USAGE after saying why. Returns -1 to go on, with the
 * positional arguments after the subcommand in *args_p / *nargs_p; otherwise
 * the exit code to return (CLI_EXIT_OK after --help). */
struct option;
/* `cchc <noun> import FILE.csv | list [--json]` (unit, type, plan): parses
 * and dispatches, with the usage and the errors every such command gives. */
int cli_db_import_list_run(cli_ctx_t *ctx, int argc, char **argv, void (*usage)(FILE *),
                           int (*import)(cli_ctx_t *ctx, const char *path),
                           int (*list)(cli_ctx_t *ctx, int json));
int cli_db_parse_opts(int argc, char **argv, const struct option *opts, void (*usage)(FILE *),
                      int (*on_opt)(int c, const char *optarg, void *arg), void *arg, int *nargs_p,
                      char ***args_p);

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

/* Every unit code, sorted by byte (COLLATE "C", as strcmp), for
 * cli_db_sorted_has. NULL after printing the reason. */
PGresult *cli_db_unit_codes(cli_ctx_t *ctx);
/* True when column col of r, sorted by byte, holds s (binary search). */
int cli_db_sorted_has(const PGresult *r, int col, const char *s);
/* 0 if the unit exists, else -1 after saying so (or why it could not tell). */
int cli_db_unit_known(cli_ctx_t *ctx, const char *unit);

/* The --out directory of a command that writes files (key issue and rotate,
 * subscriber add): made with mode 0755 (less the umask) when it does not
 * exist; its parent must. 0, or -1 after saying why. */
int cli_db_make_dir(const char *dir);

/* An operator's text from the command line, for a column of at most max_chars
 * characters: valid UTF-8, normalised to NFC, 1 to max_chars characters, no
 * control character. The NFC copy (caller frees), or NULL after saying what is
 * wrong with `name`. */
char *cli_db_text_arg(const char *name, const char *s, size_t max_chars);

/* ---- output -------------------------------------------------------------------------- */

/* Text tables: cells are copied; columns are padded by display width, so
 * names with diacritics line up. NULL and empty cells print as "-". */
typedef struct cli_table cli_table_t;
cli_table_t *cli_db_table_new(int ncols, const char *const *headers);
void cli_db_table_add(cli_table_t *t, const char *const *cells);
void cli_db_table_print(const cli_table_t *t, FILE *f);
void cli_db_table_destroy(cli_table_t **t_p);
/* Columns a terminal uses for UTF-8 text: "Xã Đại Sơn" is 10, not its 14 bytes. */
size_t cli_db_display_width(const char *s);

/* JSON values of a column: a string, or an integer, or null when NULL. New references. */
json_t *cli_db_json_text(const PGresult *r, int row, int col);
json_t *cli_db_json_int(const PGresult *r, int row, int col);
/* SQL expressions for a timestamptz column: Vietnam civil time as the text
 * tables show it ("2024-05-15 08:00:00 +07"), and UTC as JSON carries it
 * ("2024-05-15T01:00:00.000Z"), as cchc_clock_format_local/_utc do. */
#define CLI_SQL_LOCAL(col)                                                                         \
    "to_char((" col " AT TIME ZONE 'UTC') + interval '7 hours', 'YYYY-MM-DD HH24:MI:SS') || ' "    \
    "+07'"
#define CLI_SQL_UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* Runs sql and prints its rows as a text table headed by the column names
 * (or `empty` when there are none). Returns the exit code. */
int cli_db_print_table(cli_ctx_t *ctx, const char *what, const char *sql, int nparams,
                       const char *const *params, const char *empty);
/* Runs sql, whose one row and column is a JSON text built by the server
 * (json_agg / json_build_object), and prints it. Returns the exit code. */
int cli_db_print_json(cli_ctx_t *ctx, const char *what, const char *sql, int nparams,
                      const char *const *params);
/* The JSON in column col of r (null when NULL or unreadable). New reference. */
json_t *cli_db_json_value(const PGresult *r, int row, int col);

/* Prints a JSON value on stdout (indented, UTF-8 kept) and takes ownership of it.
 * 0, or -1 if stdout could not be written. */
int cli_db_json_print(json_t **v_p);

#endif
