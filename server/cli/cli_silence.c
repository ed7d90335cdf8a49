/* cli_silence.c: `cchc silence add|list|remove`, quieting notifications.
 *
 * An operator silences a unit, a notification kind, or one kind for one unit,
 * until a day, with a reason (DOMAIN.md section 8): a commune whose office is
 * being rebuilt, a known outage. The server skips what a silence covers; the
 * notifications table itself is never touched. A silence ends on its own the
 * day after `until`, or early by `silence remove`, which only sets removed_at:
 * rows are kept, and the silences_audit trigger (migration 005) records every
 * change with the database login, so this file writes no audit rows itself.
 *
 * Lifecycle: active (until >= current_date, removed_at NULL) -> expired (the
 * day passes) or removed (cchc silence remove). */
#include "cli_db.h"
#include "cchc_log.h"
#include "cchc_period.h"
#include "cchc_wire.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define S_REASON_MIN 3
#define S_REASON_MAX 500

/* The kinds of the CHECK of notifications.kind (migration 005). */
static const char *const s_kinds[] = {
    "deadline.approaching", "deadline.today",  "report.overdue",  "report.escalated",
    "report.accepted",      "report.rejected", "report.resolved", "remediation.due",
    "remediation.overdue",  "task.due",        "task.overdue",    "agent.silent",
    "digest.overdue"};
#define S_NKINDS (sizeof s_kinds / sizeof s_kinds[0])

typedef struct {
    const char *unit, *kind, *until, *reason;
    int all, json;
} s_opts_t;

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] silence add [--unit UNIT] [--kind KIND] --until YYYY-MM-DD\n"
          "                 --reason TEXT\n"
          "       cchc [-c admin.ini] silence list [--all] [--json]\n"
          "       cchc [-c admin.ini] silence remove ID\n"
          "\n"
          "Tạm dừng thông báo (silences): the server sends no notification of KIND\n"
          "about UNIT until the end of the day --until (Vietnam time).\n"
          "silence add     at least one of --unit and --kind; --reason of at least 3\n"
          "                characters is required. Prints the silence's id alone.\n"
          "silence list    the active silences; --all adds expired and removed ones.\n"
          "silence remove  ends a silence now (it stays listed with --all).\n"
          "\n"
          "kinds: deadline.approaching, deadline.today, report.overdue, report.escalated,\n"
          "       report.accepted, report.rejected, report.resolved, remediation.due,\n"
          "       remediation.overdue, task.due, task.overdue, agent.silent, digest.overdue\n"
          "Every change is written to the audit log ('cchc audit' shows it).\n",
          f);
}

static int s_on_opt(int c, const char *optarg, void *arg)
{
    s_opts_t *o = arg;
    switch (c) {
    case 'u':
        o->unit = optarg;
        break;
    case 'k':
        o->kind = optarg;
        break;
    case 't':
        o->until = optarg;
        break;
    case 'r':
        o->reason = optarg;
        break;
    case 'a':
        o->all = 1;
        break;
    default:
        o->json = 1;
        break;
    }
    return 0;
}

static int s_kind_ok(const char *kind)
{
    for (size_t i = 0; i < S_NKINDS; i++)
        if (strcmp(kind, s_kinds[i]) == 0)
            return 1;
    return 0;
}

/* The checks that need no database: CLI_EXIT_USAGE after saying why, or 0. */
static int s_add_check(const s_opts_t *o, char **reason)
{
    cchc_day_t until;
    if (!o->unit && !o->kind) {
        fprintf(stderr, "cchc: silence add needs --unit, --kind or both\n");
        return CLI_EXIT_USAGE;
    }
    if (o->kind && !s_kind_ok(o->kind)) {
        fprintf(stderr,
                "cchc: --kind '%s' is not a notification kind (see 'cchc silence --help')\n",
                o->kind);
        return CLI_EXIT_USAGE;
    }
    if (!o->until || cchc_day_parse(o->until, &until) != 0) {
        fprintf(stderr, "cchc: silence add needs --until YYYY-MM-DD, a valid date%s%s%s\n",
                o->until ? " ('" : "", o->until ? o->until : "", o->until ? "' is not)" : "");
        return CLI_EXIT_USAGE;
    }
    if (!o->reason) {
        fprintf(stderr, "cchc: silence add needs --reason TEXT (lý do), for the audit log\n");
        return CLI_EXIT_USAGE;
    }
    if (!(*reason = cli_db_text_arg("--reason", o->reason, S_REASON_MAX)))
        return CLI_EXIT_USAGE;
    size_t chars = 0;
    for (const char *p = *reason; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    if (chars < S_REASON_MIN) {
        fprintf(stderr, "cchc: --reason must be at least %d characters\n", S_REASON_MIN);
        free(*reason);
        *reason = NULL;
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static int s_add(cli_ctx_t *ctx, const s_opts_t *o)
{
    char *reason = NULL;
    int rc = s_add_check(o, &reason);
    if (rc != 0)
        return rc;
    rc = CLI_EXIT_FAIL;
    PGresult *r = NULL;
    if (cli_db_connect(ctx, 1) != 0 || (o->unit && cli_db_unit_known(ctx, o->unit) != 0))
        goto out;
    const char *params[4] = {o->unit, o->kind, o->until, reason};
    /* The date check and the insert in one statement: current_date cannot
     * move between them. No row: the day is in the past. */
    r = cli_db_query(ctx, "could not add the silence",
                     "INSERT INTO silences (unit_code, kind, until, reason) "
                     "SELECT $1, $2, $3::date, $4 WHERE $3::date >= current_date "
                     "RETURNING id",
                     4, params, PGRES_TUPLES_OK);
    if (!r)
        goto out;
    if (PQntuples(r) != 1) {
        PQclear(r);
        r = cli_db_query(ctx, "could not read the date", "SELECT current_date::text", 0, NULL,
                         PGRES_TUPLES_OK);
        if (r)
            fprintf(stderr, "cchc: --until %s is in the past (the database's date is %s)\n",
                    o->until, PQgetvalue(r, 0, 0));
        goto out;
    }
    printf("%s\n", PQgetvalue(r, 0, 0));
    CCHC_LOG(CCHC_LOG_INFO, "silence_added", "id=%s unit=%s kind=%s until=%s", PQgetvalue(r, 0, 0),
             o->unit ? o->unit : "-", o->kind ? o->kind : "-", o->until);
    rc = CLI_EXIT_OK;
out:
    PQclear(r);
    free(reason);
    return rc;
}

/* Strings glued to macros: clang-format cannot lay them out. */
/* clang-format off */
#define S_STATE                                                                                    \
    "CASE WHEN removed_at IS NOT NULL THEN 'removed' WHEN until < current_date THEN 'expired' "    \
    "ELSE 'active' END"
#define S_WHERE "WHERE $1::boolean OR (removed_at IS NULL AND until >= current_date) "
static const char s_list_sql[] =
    "SELECT id, coalesce(unit_code, '*') AS unit, coalesce(kind, '*') AS kind, "
    "until::text AS until, " S_STATE " AS state, reason, created_by AS by, "
    CLI_SQL_LOCAL("created_at") " AS created_at, "
    CLI_SQL_LOCAL("removed_at") " AS removed_at "
    "FROM silences " S_WHERE "ORDER BY id";
static const char s_list_json_sql[] =
    "SELECT coalesce(json_agg(json_build_object('id', id, 'unit', unit_code, 'kind', kind, "
    "'until', until::text, 'state', " S_STATE ", 'reason', reason, 'created_by', created_by, "
    "'created_at', " CLI_SQL_UTC("created_at") ", 'removed_at', " CLI_SQL_UTC("removed_at") ") "
    "ORDER BY id), '[]') FROM silences " S_WHERE;
/* clang-format on */

static int s_list(cli_ctx_t *ctx, const s_opts_t *o)
{
    const char *params[1] = {o->all ? "true" : "false"};
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    if (o->json)
        return cli_db_print_json(ctx, "could not list the silences", s_list_json_sql, 1, params);
    return cli_db_print_table(ctx, "could not list the silences", s_list_sql, 1, params,
                              o->all ? "no silences recorded" : "no active silences");
}

static int s_remove(cli_ctx_t *ctx, const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 18 || strspn(id, "0123456789") != n) {
        fprintf(stderr, "cchc: silence id '%s' is not a number: 'cchc silence list' shows them\n",
                id);
        return CLI_EXIT_USAGE;
    }
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    const char *params[1] = {id};
    PGresult *r = cli_db_query(ctx, "could not remove the silence",
                               "UPDATE silences SET removed_at = now() "
                               "WHERE id = $1::bigint AND removed_at IS NULL RETURNING id",
                               1, params, PGRES_TUPLES_OK);
    if (!r)
        return CLI_EXIT_FAIL;
    int removed = PQntuples(r) == 1;
    PQclear(r);
    if (removed) {
        printf("silence %s removed\n", id);
        CCHC_LOG(CCHC_LOG_INFO, "silence_removed", "id=%s", id);
        return CLI_EXIT_OK;
    }
    r = cli_db_query(ctx, "could not look the silence up",
                     "SELECT " CLI_SQL_LOCAL("removed_at") " FROM silences WHERE id = $1::bigint",
                     1, params, PGRES_TUPLES_OK);
    if (!r)
        return CLI_EXIT_FAIL;
    if (PQntuples(r) == 1)
        fprintf(stderr, "cchc: silence %s was already removed at %s\n", id, PQgetvalue(r, 0, 0));
    else
        fprintf(stderr, "cchc: unknown silence %s: 'cchc silence list --all' shows them\n", id);
    PQclear(r);
    return CLI_EXIT_FAIL;
}

int cli_silence_run(cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"unit", required_argument, NULL, 'u'},  {"kind", required_argument, NULL, 'k'},
        {"until", required_argument, NULL, 't'}, {"reason", required_argument, NULL, 'r'},
        {"all", no_argument, NULL, 'a'},         {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    s_opts_t o = {0};
    int nargs;
    char **args;
    int rc = cli_db_parse_opts(argc, argv, opts, s_usage, s_on_opt, &o, &nargs, &args);
    if (rc >= 0)
        return rc;
    const char *verb = argv[1];
    int add_opts = o.unit || o.kind || o.until || o.reason;
    if (strcmp(verb, "add") == 0 && nargs == 0 && !o.all && !o.json)
        return s_add(ctx, &o);
    if (strcmp(verb, "list") == 0 && nargs == 0 && !add_opts)
        return s_list(ctx, &o);
    if (strcmp(verb, "remove") == 0 && nargs == 1 && !add_opts && !o.all && !o.json)
        return s_remove(ctx, args[0]);
    if (strcmp(verb, "add") == 0 || strcmp(verb, "list") == 0 || strcmp(verb, "remove") == 0)
        fprintf(stderr, "cchc: wrong arguments or options for 'silence %s'\n", verb);
    else
        fprintf(stderr, "cchc: unknown subcommand 'silence %s'\n", verb);
    s_usage(stderr);
    return CLI_EXIT_USAGE;
}
