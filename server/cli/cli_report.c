/* cli_report.c: `cchc report list`, the reports the server has stored.
 *
 * Read only: the server is the only writer of reports. Newest first, so the
 * operator sees what just arrived; a limit keeps a large table from flooding
 * the terminal, and the CLI says when it cut the list short. agent_epoch is
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
    fputs("usage: cchc [-c admin.ini] report list [--unit UNIT] [--limit N] [--json]\n"
          "\n"
          "Lists the reports received, newest first.\n"
          "  --unit UNIT   only this unit's reports\n"
          "  --limit N     at most N reports (default 100, at most 1000000)\n"
          "  --json        a JSON array instead of a table\n",
          f);
}

/* 0 if the unit exists, else CLI_EXIT_FAIL after saying so. */
static int s_unit_known(cli_ctx_t *ctx, const char *unit)
{
    PGresult *r = NULL;
    const char *params[1] = {unit};
    if (cchc_wire_text_ok(unit, strlen(unit))) {
        r = cli_db_query(ctx, "could not look the unit up", "SELECT 1 FROM units WHERE code = $1",
                         1, params, PGRES_TUPLES_OK);
        if (!r)
            return CLI_EXIT_FAIL;
    }
    int known = r && PQntuples(r) == 1;
    PQclear(r);
    if (!known) {
        fprintf(stderr, "cchc: unknown unit '%s': 'cchc unit list' shows the units\n", unit);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static json_t *s_row_json(const PGresult *r, int i, const char *const *cols, const char *epoch)
{
    char when[32];
    json_t *o = json_object();
    json_object_set_new(o, cols[0], cli_db_json_int(r, i, 0));
    for (int c = 1; c <= 3; c++)
        json_object_set_new(o, cols[c], cli_db_json_text(r, i, c));
    json_object_set_new(o, cols[4], cli_db_json_int(r, i, 4));
    json_object_set_new(o, cols[5], cli_db_json_text(r, i, 5));
    cchc_clock_format_utc(cli_db_int(r, i, 6), when, sizeof when);
    json_object_set_new(o, cols[6], json_string(when));
    json_object_set_new(o, cols[7], json_string(epoch));
    json_object_set_new(o, cols[8], cli_db_json_int(r, i, 8));
    return o;
}

static int s_list(cli_ctx_t *ctx, const char *unit, long limit, int json)
{
    static const char *const cols[] = {"id",   "unit",        "type",        "period", "revision",
                                       "kind", "received_at", "agent_epoch", "msg_id"};
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    if (unit && s_unit_known(ctx, unit) != 0)
        return CLI_EXIT_FAIL;
    /* One row more than asked, to know whether the list was cut. */
    char lim[24];
    snprintf(lim, sizeof lim, "%ld", limit + 1);
    const char *params[2] = {unit, lim};
    PGresult *r =
        cli_db_query(ctx, "could not list the reports",
                     "SELECT id, unit_code, report_type, period, revision, content_kind, "
                     "(extract(epoch FROM received_at) * 1000)::int8, agent_epoch, msg_id "
                     "FROM reports WHERE $1::text IS NULL OR unit_code = $1 "
                     "ORDER BY received_at DESC, id DESC LIMIT $2::int8",
                     2, params, PGRES_TUPLES_OK);
    if (!r)
        return CLI_EXIT_FAIL;
    int n = PQntuples(r), rc = CLI_EXIT_OK;
    int more = n > limit;
    if (more)
        n = (int)limit;
    json_t *arr = json ? json_array() : NULL;
    cli_table_t *t = json || n == 0 ? NULL : cli_db_table_new(9, cols);
    for (int i = 0; i < n; i++) {
        char epoch[20], when[32];
        snprintf(epoch, sizeof epoch, "%016" PRIx64, (uint64_t)cli_db_int(r, i, 7));
        if (arr) {
            json_array_append_new(arr, s_row_json(r, i, cols, epoch));
            continue;
        }
        const char *cells[9];
        for (int c = 0; c < 9; c++)
            cells[c] = PQgetvalue(r, i, c);
        cchc_clock_format_local(cli_db_int(r, i, 6), when, sizeof when);
        cells[6] = when;
        cells[7] = epoch;
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
        printf("no reports%s%s\n", unit ? " from " : "", unit ? unit : "");
    }
    if (more)
        fprintf(stderr, "cchc: only the newest %ld shown; --limit N shows more\n", limit);
    return rc;
}

int cli_report_run(cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"unit", required_argument, NULL, 'u'},
        {"limit", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2) {
        fprintf(stderr, "cchc: report needs a subcommand: list\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        s_usage(stdout);
        return CLI_EXIT_OK;
    }
    const char *unit = NULL;
    long limit = S_LIMIT_DEFAULT;
    int json = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc - 1, argv + 1, ":h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'h':
            s_usage(stdout);
            return CLI_EXIT_OK;
        case 'u':
            unit = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'n':
            errno = 0;
            limit = strtol(optarg, &end, 10);
            if (end == optarg || *end || errno || limit < 1 || limit > S_LIMIT_MAX) {
                fprintf(stderr, "cchc: --limit must be a whole number from 1 to %d, not '%s'\n",
                        S_LIMIT_MAX, optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        default:
            cli_db_bad_option(c, argv + 1);
            s_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (strcmp(argv[1], "list") != 0) {
        fprintf(stderr, "cchc: unknown subcommand 'report %s'\n", argv[1]);
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "cchc: report list takes no arguments, only options\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return s_list(ctx, unit, limit, json);
}
