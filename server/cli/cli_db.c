/* cli_db.c: the database session and the output helpers of cchc (see cli_db.h).
 *
 * One blocking connection per run: the CLI does a handful of statements and
 * exits, so there is nothing to gain from pipelining or pools. Every statement
 * goes through cli_db_query, which is where parameters are passed (never
 * spliced into SQL), the status is compared with the one exact value expected,
 * and the server's message reaches the operator. */
#include "cli_db.h"
#include "cchc_clock.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_wire.h"
#include "srv_migrate.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <utf8proc.h>

/* The district's civil time is UTC+7 all year (DESIGN.md "Time"). */

struct cli_table {
    int ncols;
    char **cells; /* (nrows + 1) * ncols, row 0 is the header */
    size_t nrows, cap;
};

/* Copies msg without its trailing newlines and spaces, which libpq adds. */
static void s_trim_copy(char *buf, size_t len, const char *msg)
{
    snprintf(buf, len, "%s", msg ? msg : "");
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
}

void cli_db_bad_option(int c, char **argv)
{
    if (c == ':')
        fprintf(stderr, "cchc: option '%s' needs a value\n", argv[optind - 1]);
    else if (optopt)
        fprintf(stderr, "cchc: unknown option '-%c'\n", optopt);
    else
        fprintf(stderr, "cchc: unknown option '%s'\n", argv[optind - 1]);
}

int cli_db_parse_opts(int argc, char **argv, const struct option *opts, void (*usage)(FILE *),
                      int (*on_opt)(int c, const char *optarg, void *arg), void *arg, int *nargs_p,
                      char ***args_p)
{
    if (argc < 2) {
        fprintf(stderr, "cchc: %s needs a subcommand\n", argv[0]);
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    int c;
    optind = 0;
    opterr = 0;
    /* argv[1], the subcommand, plays getopt's program name. */
    while ((c = getopt_long(argc - 1, argv + 1, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        if (c == '?' || c == ':') {
            cli_db_bad_option(c, argv + 1);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
        if (on_opt(c, optarg, arg) != 0) {
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    *nargs_p = argc - 1 - optind;
    *args_p = argv + 1 + optind;
    return -1;
}

/* Server notices ("relation ... already exists, skipping") are not for the
 * operator: they go to the debug log instead of libpq's default of stderr. */
static void s_on_notice(void *arg, const char *message)
{
    char msg[512];
    s_trim_copy(msg, sizeof msg, message);
    for (char *p = msg; *p; p++)
        if (*p == '"' || *p == '\n')
            *p = *p == '"' ? '\'' : ' ';
    CCHC_LOG(CCHC_LOG_DEBUG, "db_notice", "msg=\"%s\"", msg);
}

int cli_db_connect(cli_ctx_t *ctx, int check_schema)
{
    assert(ctx && !ctx->conn);
    /* dbname is expanded as a full conninfo string when it looks like one;
     * client_encoding comes after it so it always wins: names are UTF-8. */
    const char *keys[] = {"dbname", "fallback_application_name", "client_encoding", NULL};
    const char *vals[] = {ctx->conninfo ? ctx->conninfo : "", "cchc", "UTF8", NULL};
    ctx->conn = PQconnectdbParams(keys, vals, 1);
    if (!ctx->conn || PQstatus(ctx->conn) != CONNECTION_OK) {
        char msg[1024];
        s_trim_copy(msg, sizeof msg, ctx->conn ? PQerrorMessage(ctx->conn) : "out of memory");
        fprintf(stderr, "cchc: could not connect to the database: %s\n", msg);
        fprintf(stderr, "cchc: hint: set [database] conninfo in the file given with -c, "
                        "or the variables PGHOST, PGDATABASE and PGUSER\n");
        cli_db_close(ctx);
        return -1;
    }
    PQsetNoticeProcessor(ctx->conn, s_on_notice, NULL);
    /* The figures' views judge "today" by cchc_now(), which reads cchc.now:
     * the CLI's clock (injectable, like every program's), not the server's. */
    char now[40];
    cchc_clock_format_utc(cchc_clock_now_ms(), now, sizeof now);
    const char *np[1] = {now};
    PGresult *r = PQexecParams(ctx->conn, "SELECT set_config('cchc.now', $1, false)", 1, NULL, np,
                               NULL, NULL, 0);
    int set = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (!set) {
        char msg[1024];
        s_trim_copy(msg, sizeof msg, PQerrorMessage(ctx->conn));
        fprintf(stderr, "cchc: could not set up the session: %s\n", msg);
        cli_db_close(ctx);
        return -1;
    }
    if (check_schema) {
        char err[512];
        if (srv_migrate_check(ctx->conn, err, sizeof err) != 0) {
            fprintf(stderr, "cchc: %s\n", err);
            cli_db_close(ctx);
            return -1;
        }
    }
    return 0;
}

void cli_db_close(cli_ctx_t *ctx)
{
    if (ctx->conn)
        PQfinish(ctx->conn);
    ctx->conn = NULL;
}

/* The server's primary message, with its detail and hint when it sent them. */
static void s_print_error(cli_ctx_t *ctx, const char *what, const PGresult *r)
{
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[1024];
    if (primary) {
        s_trim_copy(msg, sizeof msg, primary);
        fprintf(stderr, "cchc: %s: %s\n", what, msg);
        const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
        const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
        if (detail)
            fprintf(stderr, "cchc: detail: %s\n", detail);
        if (hint)
            fprintf(stderr, "cchc: hint: %s\n", hint);
        return;
    }
    s_trim_copy(msg, sizeof msg, PQerrorMessage(ctx->conn));
    if (!*msg && r)
        snprintf(msg, sizeof msg, "unexpected result %s", PQresStatus(PQresultStatus(r)));
    fprintf(stderr, "cchc: %s: %s\n", what, msg);
}

PGresult *cli_db_query(cli_ctx_t *ctx, const char *what, const char *sql, int nparams,
                       const char *const *params, ExecStatusType expect)
{
    assert(ctx && ctx->conn && sql);
    PGresult *r = PQexecParams(ctx->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (r && PQresultStatus(r) == expect)
        return r;
    s_print_error(ctx, what, r);
    PQclear(r);
    return NULL;
}

int cli_db_exec(cli_ctx_t *ctx, const char *what, const char *sql, int nparams,
                const char *const *params)
{
    PGresult *r = cli_db_query(ctx, what, sql, nparams, params, PGRES_COMMAND_OK);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int cli_db_begin(cli_ctx_t *ctx)
{
    return cli_db_exec(ctx, "could not start a transaction", "BEGIN", 0, NULL);
}

int cli_db_commit(cli_ctx_t *ctx)
{
    return cli_db_exec(ctx, "could not commit", "COMMIT", 0, NULL);
}

void cli_db_rollback(cli_ctx_t *ctx)
{
    /* Quiet: the error that led here was shown; a dead connection rolls back anyway. */
    PQclear(PQexec(ctx->conn, "ROLLBACK"));
}

int64_t cli_db_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

PGresult *cli_db_unit_codes(cli_ctx_t *ctx)
{
    return cli_db_query(ctx, "could not read the units",
                        "SELECT code FROM units ORDER BY code COLLATE \"C\"", 0, NULL,
                        PGRES_TUPLES_OK);
}

int cli_db_sorted_has(const PGresult *r, int col, const char *s)
{
    int lo = 0, hi = PQntuples(r) - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(PQgetvalue(r, mid, col), s);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 0;
}

int cli_db_unit_known(cli_ctx_t *ctx, const char *unit)
{
    PGresult *r = NULL;
    const char *params[1] = {unit};
    if (cchc_wire_text_ok(unit, strlen(unit))) {
        r = cli_db_query(ctx, "could not look the unit up", "SELECT 1 FROM units WHERE code = $1",
                         1, params, PGRES_TUPLES_OK);
        if (!r)
            return -1;
    }
    int known = r && PQntuples(r) == 1;
    PQclear(r);
    if (!known) {
        fprintf(stderr, "cchc: unknown unit '%s': 'cchc unit list' shows the units\n", unit);
        return -1;
    }
    return 0;
}

int cli_db_make_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0755) == 0)
        return 0;
    if (errno != EEXIST) {
        fprintf(stderr, "cchc: could not create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "cchc: %s exists and is not a directory: give another --out\n", dir);
        return -1;
    }
    return 0;
}

char *cli_db_text_arg(const char *name, const char *s, size_t max_chars)
{
    char *nfc = NULL;
    if (cchc_wire_text_ok(s, strlen(s)))
        nfc = (char *)utf8proc_NFC((const utf8proc_uint8_t *)s);
    if (!nfc) {
        fprintf(stderr, "cchc: %s is not valid UTF-8 text\n", name);
        return NULL;
    }
    size_t chars = 0;
    int control = 0;
    for (const unsigned char *p = (const unsigned char *)nfc; *p; p++) {
        if ((*p & 0xC0) != 0x80)
            chars++;
        if (*p < 0x20 || *p == 0x7F)
            control = 1;
    }
    if (chars == 0 || chars > max_chars || control) {
        fprintf(stderr, "cchc: %s must be 1 to %zu characters without line breaks\n", name,
                max_chars);
        free(nfc);
        return NULL;
    }
    return nfc;
}

/* ---- tables ---------------------------------------------------------------------------- */

cli_table_t *cli_db_table_new(int ncols, const char *const *headers)
{
    assert(ncols > 0 && headers);
    cli_table_t *t = cchc_calloc(1, sizeof *t);
    t->ncols = ncols;
    t->cap = 16;
    t->cells = cchc_calloc(t->cap * (size_t)ncols, sizeof *t->cells);
    for (int c = 0; c < ncols; c++)
        t->cells[c] = cchc_strdup(headers[c]);
    return t;
}

void cli_db_table_add(cli_table_t *t, const char *const *cells)
{
    size_t rows = t->nrows + 1; /* with the header */
    if (rows == t->cap) {
        t->cap *= 2;
        t->cells = cchc_realloc(t->cells, t->cap * (size_t)t->ncols * sizeof *t->cells);
    }
    for (int c = 0; c < t->ncols; c++)
        t->cells[rows * (size_t)t->ncols + (size_t)c] =
            cchc_strdup(cells[c] && *cells[c] ? cells[c] : "-");
    t->nrows++;
}

/* Columns a terminal uses for s: code points by their width, so "Xã Đại Sơn"
 * counts 10, not its 14 bytes. Bytes that do not decode count one each. */
size_t cli_db_display_width(const char *s)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t width = 0;
    while (*p) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);
        if (n <= 0) {
            width++;
            p++;
            continue;
        }
        int w = utf8proc_charwidth(cp);
        width += w > 0 ? (size_t)w : 0;
        p += n;
    }
    return width;
}

void cli_db_table_print(const cli_table_t *t, FILE *f)
{
    size_t n = (size_t)t->ncols;
    size_t *widths = cchc_calloc(n, sizeof *widths);
    for (size_t r = 0; r <= t->nrows; r++)
        for (size_t c = 0; c < n; c++) {
            size_t w = cli_db_display_width(t->cells[r * n + c]);
            if (w > widths[c])
                widths[c] = w;
        }
    for (size_t r = 0; r <= t->nrows; r++) {
        for (size_t c = 0; c < n; c++) {
            const char *cell = t->cells[r * n + c];
            fputs(cell, f);
            if (c + 1 < n)
                fprintf(f, "%*s", (int)(widths[c] - cli_db_display_width(cell) + 2), "");
        }
        fputc('\n', f);
    }
    free(widths);
}

void cli_db_table_destroy(cli_table_t **t_p)
{
    if (!t_p || !*t_p)
        return;
    cli_table_t *t = *t_p;
    for (size_t i = 0; i < (t->nrows + 1) * (size_t)t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
    *t_p = NULL;
}

/* ---- JSON ------------------------------------------------------------------------------ */

json_t *cli_db_json_text(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return json_null();
    return json_string(PQgetvalue(r, row, col));
}

json_t *cli_db_json_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return json_null();
    return json_integer((json_int_t)cli_db_int(r, row, col));
}

int cli_db_json_print(json_t **v_p)
{
    assert(v_p && *v_p);
    int rc = json_dumpf(*v_p, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(*v_p);
    *v_p = NULL;
    if (rc != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
        fprintf(stderr, "cchc: could not write the output\n");
        return -1;
    }
    return 0;
}

json_t *cli_db_json_value(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return json_null();
    json_t *v = json_loads(PQgetvalue(r, row, col), JSON_DECODE_ANY, NULL);
    return v ? v : json_null();
}

int cli_db_print_json(cli_ctx_t *ctx, const char *what, const char *sql, int nparams,
                      const char *const *params)
{
    PGresult *r = cli_db_query(ctx, what, sql, nparams, params, PGRES_TUPLES_OK);
    if (!r)
        return CLI_EXIT_FAIL;
    json_t *v = PQntuples(r) == 1 ? cli_db_json_value(r, 0, 0) : json_null();
    PQclear(r);
    return cli_db_json_print(&v) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cli_db_print_table(cli_ctx_t *ctx, const char *what, const char *sql, int nparams,
                       const char *const *params, const char *empty)
{
    PGresult *r = cli_db_query(ctx, what, sql, nparams, params, PGRES_TUPLES_OK);
    if (!r)
        return CLI_EXIT_FAIL;
    int n = PQntuples(r), ncols = PQnfields(r);
    if (n == 0) {
        printf("%s\n", empty);
        PQclear(r);
        return CLI_EXIT_OK;
    }
    const char **cells = cchc_calloc((size_t)ncols, sizeof *cells);
    for (int c = 0; c < ncols; c++)
        cells[c] = PQfname(r, c);
    cli_table_t *t = cli_db_table_new(ncols, cells);
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < ncols; c++)
            cells[c] = PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
        cli_db_table_add(t, cells);
    }
    cli_db_table_print(t, stdout);
    cli_db_table_destroy(&t);
    free(cells);
    PQclear(r);
    return CLI_EXIT_OK;
}

static int s_json_opt(int c, const char *optarg, void *arg)
{
    (void)c;
    (void)optarg;
    *(int *)arg = 1; /* the only option: --json */
    return 0;
}

int cli_db_import_list_run(cli_ctx_t *ctx, int argc, char **argv, void (*usage)(FILE *),
                           int (*import)(cli_ctx_t *ctx, const char *path),
                           int (*list)(cli_ctx_t *ctx, int json))
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, nargs;
    char **args;
    int rc = cli_db_parse_opts(argc, argv, opts, usage, s_json_opt, &json, &nargs, &args);
    if (rc >= 0)
        return rc;
    const char *noun = argv[0], *verb = argv[1];
    if (strcmp(verb, "import") == 0 && nargs == 1 && !json)
        return import(ctx, args[0]);
    if (strcmp(verb, "list") == 0 && nargs == 0)
        return list(ctx, json);
    if (strcmp(verb, "import") == 0 && json)
        fprintf(stderr, "cchc: --json is for '%s list'; '%s import' prints one line\n", noun, noun);
    else if (strcmp(verb, "import") == 0)
        fprintf(stderr, "cchc: %s import needs exactly one FILE.csv\n", noun);
    else if (strcmp(verb, "list") == 0)
        fprintf(stderr, "cchc: %s list takes no arguments, only --json\n", noun);
    else
        fprintf(stderr, "cchc: unknown subcommand '%s %s'\n", noun, verb);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
