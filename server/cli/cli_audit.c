/* cli_audit.c: `cchc audit`, the changes operators made, from audit_log.
 *
 * The trigger function cchc_audit() (migration 002) records every insert,
 * update and delete of the operators' tables with the database login and the
 * row before and after; 002, 005 and 014 attach it to the tables, and
 * cchc_exempt() (012) writes the rows of expectations itself. The log is
 * append-only. This command only reads it, oldest first. The text table is
 * compact: the row's key, and for an update only the columns that changed
 * (old -> new); --json gives the whole rows. */
#include "cli_db.h"
#include "cchc_mem.h"
#include "cchc_period.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* Every table whose changes land in audit_log: those with the cchc_audit
 * trigger, and expectations (cchc_exempt). The one list that --help prints
 * and --table accepts; test_operator_ux checks it against the triggers. */
static const char *const s_tables[] = {
    "units",         "agent_keys",        "report_types",        "type_assignments", "periods",
    "calendar_days", "inspections",       "inspection_findings", "plan_tasks",       "silences",
    "subscribers",   "period_reopenings", "expectations"};
#define S_NTABLES (sizeof s_tables / sizeof s_tables[0])

/* Writes s_tables as a comma-separated list, lines broken before `width`
 * columns and indented by `indent` after the first. */
static void s_tables_print(FILE *f, size_t col, size_t indent, size_t width)
{
    for (size_t i = 0; i < S_NTABLES; i++) {
        size_t w = strlen(s_tables[i]) + (i + 1 < S_NTABLES ? 1 : 0);
        if (i > 0 && col + 1 + w > width) {
            fprintf(f, "\n%*s", (int)indent, "");
            col = indent;
        } else if (i > 0) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%s%s", s_tables[i], i + 1 < S_NTABLES ? "," : "");
        col += w;
    }
}

/* The filter shared by both outputs: $1 a day (from 00:00 Vietnam time), $2 a table. */
#define S_WHERE                                                                                    \
    "WHERE ($1::date IS NULL OR at >= ($1::date::timestamp - interval '7 hours') "                 \
    "AT TIME ZONE 'UTC') AND ($2::text IS NULL OR table_name = $2) "

/* Strings glued to macros: clang-format cannot lay them out. */
/* clang-format off */
static const char s_json_sql[] =
    "SELECT coalesce(json_agg(json_build_object('id', id, 'at', " CLI_SQL_UTC("at") ", "
    "'db_user', db_user, 'table', table_name, 'op', op, 'before', before, 'after', after) "
    "ORDER BY id), '[]') FROM audit_log " S_WHERE;

/* key: what identifies the row in each audited table; change: the columns an
 * update changed, or the whole row inserted or deleted, cut at 160 characters. */
static const char s_text_sql[] =
    "SELECT " CLI_SQL_LOCAL("at") " AS at, db_user, table_name AS table, op, "
    "CASE WHEN table_name = 'period_reopenings' THEN (x->>'type_code') || ' ' || "
    "(x->>'period') || ' ' || coalesce(x->>'unit_code', '*') || ' #' || (x->>'id') ELSE "
    "coalesce(x->>'code', x->>'day', (x->>'type_code') || ' ' || (x->>'target'), "
    "(x->>'inspection_id') || '#' || (x->>'no'), (x->>'type_code') || ' ' || (x->>'period'), "
    "x->>'id') END AS key, "
    "CASE WHEN length(c) > 160 THEN left(c, 159) || '…' ELSE c END AS change "
    "FROM (SELECT id, at, db_user, table_name, op, coalesce(after, before) AS x, "
    "CASE op WHEN 'UPDATE' THEN (SELECT string_agg(a.key || ': ' || "
    "coalesce(b.value::text, 'null') || ' -> ' || a.value::text, ', ' ORDER BY a.key) "
    "FROM jsonb_each(after) a LEFT JOIN jsonb_each(before) b ON b.key = a.key "
    "WHERE b.value IS DISTINCT FROM a.value) "
    "ELSE coalesce(after, before)::text END AS c FROM audit_log " S_WHERE ") l ORDER BY id";
/* clang-format on */

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] audit [--since YYYY-MM-DD] [--table TABLE] [--json]\n"
          "\n"
          "Shows the changes made to the operators' tables, oldest first: when, by which\n"
          "database login, the table, the operation, the row and what changed.\n"
          "  --since DAY    only changes from that day on (Vietnam time)\n"
          "  --table TABLE  only that table: ",
          f);
    s_tables_print(f, 33, 17, 80);
    fputs("\n"
          "  --json         a JSON array with the whole rows before and after\n",
          f);
}

typedef struct {
    const char *since, *table;
    int json;
} s_opts_t;

static int s_on_opt(int c, const char *optarg, void *arg)
{
    s_opts_t *o = arg;
    cchc_day_t day;
    if (c == 'j') {
        o->json = 1;
    } else if (c == 's') {
        if (cchc_day_parse(optarg, &day) != 0) {
            fprintf(stderr, "cchc: --since '%s' is not a valid date of the form YYYY-MM-DD\n",
                    optarg);
            return CLI_EXIT_USAGE;
        }
        o->since = optarg;
    } else {
        for (size_t i = 0; i < S_NTABLES; i++)
            if (strcmp(optarg, s_tables[i]) == 0)
                o->table = optarg;
        if (!o->table) {
            fprintf(stderr,
                    "cchc: --table '%s' is not an audited table; the audited tables: ", optarg);
            s_tables_print(stderr, 80, 0, 100000);
            fputc('\n', stderr);
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

int cli_audit_run(cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},
        {"table", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* `audit` has no subcommand: its name plays that part for cli_db_parse_opts. */
    char **av = cchc_calloc((size_t)argc + 2, sizeof *av);
    av[0] = argv[0];
    for (int i = 0; i < argc; i++)
        av[i + 1] = argv[i];
    s_opts_t o = {NULL, NULL, 0};
    int nargs;
    char **args;
    int rc = cli_db_parse_opts(argc + 1, av, opts, s_usage, s_on_opt, &o, &nargs, &args);
    free(av);
    if (rc >= 0)
        return rc;
    if (nargs != 0) {
        fprintf(stderr, "cchc: audit takes no arguments, only options\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    const char *params[2] = {o.since, o.table};
    if (o.json)
        return cli_db_print_json(ctx, "could not read the audit log", s_json_sql, 2, params);
    return cli_db_print_table(ctx, "could not read the audit log", s_text_sql, 2, params,
                              "no changes recorded");
}
