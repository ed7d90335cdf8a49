/* cli_report.c: `cchc report list` and `cchc report show`, the reports the
 * server has stored.
 *
 * Read only: the server is the only writer of reports. Every revision is a
 * row: accepted, rejected (kept with its findings) or superseded by a later
 * accepted one. The list is newest first, so the operator sees what just
 * arrived; a limit keeps a large table from flooding the terminal, and the
 * CLI says when it cut the list short. `show` prints one report whole: its
 * header, the findings of its validation and its decoded body. agent_epoch is
 * shown in hex, the way agents print it; in JSON too, since a 64-bit value
 * does not survive a JavaScript number. */
#include "cli_db.h"
#include "cchc_clock.h"
#include "cchc_wire.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define S_LIMIT_DEFAULT 100
#define S_LIMIT_MAX 1000000

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] report list [--unit UNIT] [--type T] [--period P]\n"
          "                 [--status S] [--limit N] [--json]\n"
          "       cchc [-c admin.ini] report show ID [--json]\n"
          "\n"
          "list   the reports received, newest first, with their status.\n"
          "  --unit UNIT   only this unit's reports\n"
          "  --type T      only reports of this type (CCHC_DK, KHAC_PHUC, NV_KH; any case)\n"
          "  --period P    only reports of this period (2024S1; any case), or on this\n"
          "                inspection or task (KT-2024-05, KH87-03)\n"
          "  --status S    only reports accepted, rejected or superseded\n"
          "  --limit N     at most N reports (default 100, at most 1000000)\n"
          "  --json        a JSON array instead of a table\n"
          "show   one report: its header, its findings and its decoded body;\n"
          "       --json prints them as one JSON object.\n",
          f);
}

/* Columns of s_list's query, in order. */
enum {
    C_ID,
    C_UNIT,
    C_TYPE,
    C_PERIOD,
    C_REVISION,
    C_STATUS,
    C_KIND,
    C_RECEIVED,
    C_EPOCH,
    C_MSG,
    C_SUBJECT,
    S_NCOLS
};

static json_t *s_row_json(const PGresult *r, int i, const char *const *cols, const char *epoch)
{
    char when[32];
    json_t *o = json_object();
    json_object_set_new(o, cols[C_ID], cli_db_json_int(r, i, C_ID));
    for (int c = C_UNIT; c <= C_PERIOD; c++)
        json_object_set_new(o, cols[c], cli_db_json_text(r, i, c));
    json_object_set_new(o, cols[C_SUBJECT], cli_db_json_text(r, i, C_SUBJECT));
    json_object_set_new(o, cols[C_REVISION], cli_db_json_int(r, i, C_REVISION));
    json_object_set_new(o, cols[C_STATUS], cli_db_json_text(r, i, C_STATUS));
    json_object_set_new(o, cols[C_KIND], cli_db_json_text(r, i, C_KIND));
    cchc_clock_format_utc(cli_db_int(r, i, C_RECEIVED), when, sizeof when);
    json_object_set_new(o, cols[C_RECEIVED], json_string(when));
    json_object_set_new(o, cols[C_EPOCH], json_string(epoch));
    json_object_set_new(o, cols[C_MSG], cli_db_json_int(r, i, C_MSG));
    return o;
}

typedef struct {
    const char *unit, *status, *type, *period;
    long limit;
    int json;
    char type_buf[40], period_buf[72];
} s_opts_t;

static int s_list(cli_ctx_t *ctx, const s_opts_t *o)
{
    static const char *const cols[S_NCOLS] = {"id",          "unit",   "type",   "period",
                                              "revision",    "status", "kind",   "received_at",
                                              "agent_epoch", "msg_id", "subject"};
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    const char *unit = o->unit, *status = o->status;
    long limit = o->limit;
    int json = o->json;
    if (unit && cli_db_unit_known(ctx, unit) != 0)
        return CLI_EXIT_FAIL;
    /* One row more than asked, to know whether the list was cut. */
    char lim[24];
    snprintf(lim, sizeof lim, "%ld", limit + 1);
    const char *params[5] = {unit, lim, status, o->type, o->period};
    PGresult *r =
        cli_db_query(ctx, "could not list the reports",
                     "SELECT id, unit_code, report_type, period, revision, status, content_kind, "
                     "(extract(epoch FROM received_at) * 1000)::int8, agent_epoch, msg_id, "
                     "subject FROM reports WHERE ($1::text IS NULL OR unit_code = $1) "
                     "AND ($3::text IS NULL OR status = $3) "
                     "AND ($4::text IS NULL OR report_type = $4) "
                     "AND ($5::text IS NULL OR upper(period) = $5 OR upper(subject) = $5) "
                     "ORDER BY received_at DESC, id DESC LIMIT $2::int8",
                     5, params, PGRES_TUPLES_OK);
    if (!r)
        return CLI_EXIT_FAIL;
    int n = PQntuples(r), rc = CLI_EXIT_OK;
    int more = n > limit;
    if (more)
        n = (int)limit;
    json_t *arr = json ? json_array() : NULL;
    /* The table shows the subject (inspection, task) where there is no period. */
    cli_table_t *t = json || n == 0 ? NULL : cli_db_table_new(C_SUBJECT, cols);
    for (int i = 0; i < n; i++) {
        char epoch[20], when[32];
        snprintf(epoch, sizeof epoch, "%016" PRIx64, (uint64_t)cli_db_int(r, i, C_EPOCH));
        if (arr) {
            json_array_append_new(arr, s_row_json(r, i, cols, epoch));
            continue;
        }
        const char *cells[S_NCOLS];
        for (int c = 0; c < S_NCOLS; c++)
            cells[c] = PQgetvalue(r, i, c);
        if (!*cells[C_PERIOD])
            cells[C_PERIOD] = cells[C_SUBJECT];
        cchc_clock_format_local(cli_db_int(r, i, C_RECEIVED), when, sizeof when);
        cells[C_RECEIVED] = when;
        cells[C_EPOCH] = epoch;
        cli_db_table_add(t, cells);
    }
    PQclear(r);
    if (arr) {
        if (cli_db_json_print(&arr) != 0)
            rc = CLI_EXIT_FAIL;
    } else if (t) {
        cli_db_table_print(t, stdout);
        cli_db_table_destroy(&t);
    } else {
        printf("no reports%s%s%s%s\n", status ? " " : "", status ? status : "",
               unit ? " from " : "", unit ? unit : "");
    }
    if (more)
        fprintf(stderr, "cchc: only the newest %ld shown; --limit N shows more\n", limit);
    return rc;
}

/* ---- show ------------------------------------------------------------------------------ */

/* Strings glued to macros: clang-format cannot lay them out. */
/* clang-format off */
static const char s_show_sql[] =
    "SELECT json_build_object('id', id, 'unit', unit_code, 'type', report_type, "
    "'content_kind', content_kind, 'period', period, 'subject', subject, 'revision', revision, "
    "'status', status, "
    "'received_at', " CLI_SQL_UTC("received_at") ", "
    "'first_received_at', " CLI_SQL_UTC("first_received_at") ", "
    "'sealed_at', " CLI_SQL_UTC("sealed_at") ", "
    "'superseded_by', superseded_by, 'agent_epoch', lpad(to_hex(agent_epoch), 16, '0'), "
    "'msg_id', msg_id, 'findings', findings, 'body', body), "
    CLI_SQL_LOCAL("received_at") ", "
    CLI_SQL_LOCAL("first_received_at") ", "
    CLI_SQL_LOCAL("sealed_at") " "
    "FROM reports WHERE id = $1::int8";
/* clang-format on */

/* A field of o as text for the header ("-" when null). */
static const char *s_field(json_t *o, const char *key, char *buf, size_t len)
{
    json_t *v = json_object_get(o, key);
    if (json_is_string(v))
        return *json_string_value(v) ? json_string_value(v) : "-";
    if (json_is_integer(v)) {
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    return "-";
}

static void s_print_report(const PGresult *r, json_t *o)
{
    char b[6][32];
    const char *local[3];
    for (int c = 0; c < 3; c++)
        local[c] = PQgetisnull(r, 0, c + 1) ? "-" : PQgetvalue(r, 0, c + 1);
    printf("report             %s\n"
           "unit               %s\n"
           "type               %s (%s)\n"
           "period             %s\n"
           "subject            %s\n"
           "revision           %s\n"
           "status             %s%s%s\n"
           "received_at        %s\n"
           "first_received_at  %s\n"
           "sealed_at          %s\n"
           "agent_epoch        %s\n"
           "msg_id             %s\n",
           s_field(o, "id", b[0], 32), s_field(o, "unit", b[1], 32), s_field(o, "type", b[1], 32),
           s_field(o, "content_kind", b[1], 32), s_field(o, "period", b[1], 32),
           s_field(o, "subject", b[1], 32), s_field(o, "revision", b[2], 32),
           s_field(o, "status", b[1], 32),
           json_is_integer(json_object_get(o, "superseded_by")) ? " by report " : "",
           json_is_integer(json_object_get(o, "superseded_by"))
               ? s_field(o, "superseded_by", b[3], 32)
               : "",
           local[0], local[1], local[2], s_field(o, "agent_epoch", b[1], 32),
           s_field(o, "msg_id", b[4], 32));
    json_t *findings = json_object_get(o, "findings"), *f;
    size_t k;
    printf("\nfindings:\n");
    if (json_array_size(findings) == 0)
        printf("none\n");
    static const char *const fcols[] = {"code", "path", "message"};
    cli_table_t *t = json_array_size(findings) ? cli_db_table_new(3, fcols) : NULL;
    json_array_foreach(findings, k, f)
    {
        const char *cells[3] = {json_string_value(json_object_get(f, "code")),
                                json_string_value(json_object_get(f, "path")),
                                json_string_value(json_object_get(f, "message_vi"))};
        cli_db_table_add(t, cells);
    }
    if (t)
        cli_db_table_print(t, stdout);
    cli_db_table_destroy(&t);
    printf("\nbody:\n");
    json_dumpf(json_object_get(o, "body"), stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("\n");
}

static int s_show(cli_ctx_t *ctx, const char *id, int json)
{
    char *end;
    errno = 0;
    long long v = strtoll(id, &end, 10);
    if (end == id || *end || errno || v < 1) {
        fprintf(stderr, "cchc: report show needs a report id (a whole number), not '%s'\n", id);
        return CLI_EXIT_USAGE;
    }
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    const char *params[1] = {id};
    PGresult *r =
        cli_db_query(ctx, "could not read the report", s_show_sql, 1, params, PGRES_TUPLES_OK);
    if (!r)
        return CLI_EXIT_FAIL;
    if (PQntuples(r) != 1) {
        PQclear(r);
        fprintf(stderr, "cchc: no report %s: 'cchc report list' shows the reports\n", id);
        return CLI_EXIT_FAIL;
    }
    json_t *o = cli_db_json_value(r, 0, 0);
    int rc = CLI_EXIT_OK;
    if (json) {
        rc = cli_db_json_print(&o) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    } else {
        s_print_report(r, o);
        json_decref(o);
        if (fflush(stdout) != 0)
            rc = CLI_EXIT_FAIL;
    }
    PQclear(r);
    return rc;
}

/* s in upper case into buf (len bytes); -1 when it does not fit or is not
 * printable ASCII, as period, type and subject codes are. */
static int s_upper(const char *s, char *buf, size_t len)
{
    size_t n = strlen(s);
    if (n == 0 || n >= len)
        return -1;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i < n && (c < 0x21 || c > 0x7E))
            return -1;
        buf[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    return 0;
}

static int s_on_opt(int c, const char *optarg, void *arg)
{
    static const char *const statuses[] = {"accepted", "rejected", "superseded"};
    s_opts_t *o = arg;
    char *end;
    switch (c) {
    case 'u':
        o->unit = optarg;
        return 0;
    case 'j':
        o->json = 1;
        return 0;
    case 't':
        if (s_upper(optarg, o->type_buf, sizeof o->type_buf) != 0) {
            fprintf(stderr, "cchc: --type '%s' is not a report type code ('cchc type list')\n",
                    optarg);
            return CLI_EXIT_USAGE;
        }
        o->type = o->type_buf;
        return 0;
    case 'p':
        if (s_upper(optarg, o->period_buf, sizeof o->period_buf) != 0) {
            fprintf(stderr,
                    "cchc: --period '%s' is not a period id (2024S1) nor an inspection "
                    "or task code\n",
                    optarg);
            return CLI_EXIT_USAGE;
        }
        o->period = o->period_buf;
        return 0;
    case 's':
        for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
            if (strcmp(optarg, statuses[i]) == 0) {
                o->status = optarg;
                return 0;
            }
        fprintf(stderr, "cchc: --status must be accepted, rejected or superseded, not '%s'\n",
                optarg);
        return CLI_EXIT_USAGE;
    default: /* 'n' */
        errno = 0;
        o->limit = strtol(optarg, &end, 10);
        if (end == optarg || *end || errno || o->limit < 1 || o->limit > S_LIMIT_MAX) {
            fprintf(stderr, "cchc: --limit must be a whole number from 1 to %d, not '%s'\n",
                    S_LIMIT_MAX, optarg);
            return CLI_EXIT_USAGE;
        }
        return 0;
    }
}

int cli_report_run(cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"unit", required_argument, NULL, 'u'},   {"limit", required_argument, NULL, 'n'},
        {"type", required_argument, NULL, 't'},   {"period", required_argument, NULL, 'p'},
        {"status", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    s_opts_t o = {.limit = S_LIMIT_DEFAULT};
    int nargs;
    char **args;
    int rc = cli_db_parse_opts(argc, argv, opts, s_usage, s_on_opt, &o, &nargs, &args);
    if (rc >= 0)
        return rc;
    int list_opts = o.unit || o.status || o.type || o.period || o.limit != S_LIMIT_DEFAULT;
    if (strcmp(argv[1], "list") == 0 && nargs == 0)
        return s_list(ctx, &o);
    if (strcmp(argv[1], "show") == 0 && nargs == 1 && !list_opts)
        return s_show(ctx, args[0], o.json);
    if (strcmp(argv[1], "list") == 0)
        fprintf(stderr, "cchc: report list takes no arguments, only options\n");
    else if (strcmp(argv[1], "show") == 0)
        fprintf(stderr, "cchc: report show takes one report ID, and only --json\n");
    else
        fprintf(stderr, "cchc: unknown subcommand 'report %s'\n", argv[1]);
    s_usage(stderr);
    return CLI_EXIT_USAGE;
}
