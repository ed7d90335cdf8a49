/* cli_exempt.c: `cchc exempt` (miễn nộp) and `cchc expectations`.
 *
 * The server keeps one expectation per (type, unit, period, subject): who must
 * report what by when, and how it went (DOMAIN.md section 3). An operator may
 * exempt a unit from one of them with a reason: a commune merged mid-period, a
 * task the plan dropped. Only an open expectation can be exempted:
 *
 *   state     event                                   next
 *   expected  cchc exempt                             exempt
 *   overdue   cchc exempt                             exempt
 *   (none)    cchc exempt, its due date is known      exempt (created here)
 *   on_time, late, exempt, cancelled: refused (met, or already closed)
 *
 * PERIOD is the period id for periodic types and the expectation's subject
 * (the inspection's or the task's code) for KHAC_PHUC / NV_KH kinds. The due
 * date of an expectation created here comes from periods.due, or the
 * inspection's remediation_due, or the plan task's due.
 *
 * expectations has no audit trigger (the server rewrites it all day), and
 * operators may not write it: the change, its audit_log row (before and after
 * as jsonb) and pg_notify('cchc_meta', 'expectations') are made by the
 * SECURITY DEFINER function cchc_exempt() (migration 012).
 *
 * `cchc exempt --unit U --all-open --reason TEXT` settles a closed unit
 * (DOMAIN.md section 1): every obligation it still has open (expected or
 * overdue, which its successor would otherwise owe in its place) becomes
 * exempt in one transaction, each with its audit row, through
 * cchc_exempt_closed() (migration 020). A unit open on the CLI's today is
 * refused: its obligations are its own, exempted one by one. */
#include "cli_db.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_period.h"
#include "cchc_wire.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define S_REASON_MIN 3
#define S_REASON_MAX 500
#define S_KEY_MAX 64

static const char *const s_statuses[] = {"expected", "on_time", "late",
                                         "overdue",  "exempt",  "cancelled"};
#define S_NSTATUSES (sizeof s_statuses / sizeof s_statuses[0])

typedef struct {
    const char *reason, *unit, *type, *period, *status;
    int list, json, all_open;
} s_opts_t;

static void s_exempt_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] exempt UNIT TYPE PERIOD --reason TEXT\n"
          "       cchc [-c admin.ini] exempt --unit UNIT --all-open --reason TEXT\n"
          "       cchc [-c admin.ini] exempt --list [--json]\n"
          "\n"
          "Miễn nộp: exempts UNIT from reporting TYPE for PERIOD (2024Q3, 2024S1, ...),\n"
          "or for KHAC_PHUC / NV_KH from the report on an inspection or task: PERIOD is\n"
          "then its code (KT-2024-05, NV-01). The expectation must still be open\n"
          "(expected or overdue); one that does not exist yet is created as exempt when\n"
          "its due date is known. --reason (at least 3 characters) is required; the\n"
          "change is written to the audit log ('cchc audit' shows it).\n"
          "  --unit UNIT --all-open\n"
          "          a closed unit (valid_to before today): exempts at once every obligation\n"
          "          it still has open (expected or overdue), which would otherwise pass to\n"
          "          its successor; one audit row each. Refused for a unit still open\n"
          "  --list  the exempt expectations, with reason and who exempted them\n"
          "  --json  with --list: a JSON array\n",
          f);
}

static void s_list_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] expectations [--unit UNIT] [--type TYPE]\n"
          "                 [--period PERIOD] [--status STATUS] [--json]\n"
          "\n"
          "Who must report what by when, and how it went (nghĩa vụ nộp báo cáo): unit,\n"
          "type, period or subject (inspection / task code), due date, status, when it\n"
          "was met and the report that met it, ordered by due date and unit.\n"
          "  --period PERIOD  a period id, or an inspection's or task's code\n"
          "  --status STATUS  expected, on_time, late, overdue, exempt or cancelled\n"
          "  --json           a JSON array\n",
          f);
}

static int s_on_opt(int c, const char *optarg, void *arg)
{
    s_opts_t *o = arg;
    switch (c) {
    case 'r':
        o->reason = optarg;
        break;
    case 'u':
        o->unit = optarg;
        break;
    case 't':
        o->type = optarg;
        break;
    case 'p':
        o->period = optarg;
        break;
    case 's':
        for (size_t i = 0; i < S_NSTATUSES; i++)
            if (strcmp(optarg, s_statuses[i]) == 0)
                o->status = optarg;
        if (!o->status) {
            fprintf(stderr,
                    "cchc: --status '%s' is not one of expected, on_time, late, overdue, "
                    "exempt, cancelled\n",
                    optarg);
            return CLI_EXIT_USAGE;
        }
        break;
    case 'l':
        o->list = 1;
        break;
    case 'A':
        o->all_open = 1;
        break;
    default:
        o->json = 1;
        break;
    }
    return 0;
}

/* Commands without a subcommand: the command's name plays that part for
 * cli_db_parse_opts, as in cli_audit.c. */
static int s_parse(int argc, char **argv, void (*usage)(FILE *), s_opts_t *o, int *nargs,
                   char ***args, char ***av_p)
{
    /* clang-format off */
    static const struct option opts[] = {
        {"reason", required_argument, NULL, 'r'},
        {"unit", required_argument, NULL, 'u'},
        {"type", required_argument, NULL, 't'},
        {"period", required_argument, NULL, 'p'},
        {"status", required_argument, NULL, 's'},
        {"list", no_argument, NULL, 'l'},
        {"all-open", no_argument, NULL, 'A'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* clang-format on */
    char **av = cchc_calloc((size_t)argc + 2, sizeof *av);
    av[0] = argv[0];
    for (int i = 0; i < argc; i++)
        av[i + 1] = argv[i];
    *av_p = av;
    return cli_db_parse_opts(argc + 1, av, opts, usage, s_on_opt, o, nargs, args);
}

/* ---- exempt ---------------------------------------------------------------------------- */

typedef struct {
    const char *unit, *type, *key; /* key: the period or the subject */
    const char *period, *subject;  /* one of them is key, the other "" */
    char *reason;
    char kind[32], grace[16];
} s_target_t;

/* The type's content kind decides whether key is a period or a subject.
 * 0, or the exit code after saying why. */
static int s_resolve_type(cli_ctx_t *ctx, s_target_t *t)
{
    PGresult *r = NULL;
    const char *params[1] = {t->type};
    if (cchc_wire_text_ok(t->type, strlen(t->type))) {
        r = cli_db_query(ctx, "could not look the report type up",
                         "SELECT content_kind, grace_days FROM report_types WHERE code = $1", 1,
                         params, PGRES_TUPLES_OK);
        if (!r)
            return CLI_EXIT_FAIL;
    }
    if (!r || PQntuples(r) != 1) {
        PQclear(r);
        fprintf(stderr, "cchc: unknown report type '%s': 'cchc type list' shows them\n", t->type);
        return CLI_EXIT_FAIL;
    }
    snprintf(t->kind, sizeof t->kind, "%s", PQgetvalue(r, 0, 0));
    snprintf(t->grace, sizeof t->grace, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    cchc_period_t period;
    if (strcmp(t->kind, "periodic") == 0) {
        if (cchc_period_parse(t->key, &period) != 0) {
            fprintf(stderr,
                    "cchc: '%s' is not a period id of a periodic type (2024Q3, 2024S1, 2024N9, "
                    "2024, 202406)\n",
                    t->key);
            return CLI_EXIT_USAGE;
        }
        t->period = t->key;
        t->subject = "";
    } else {
        t->period = "";
        t->subject = t->key;
    }
    return 0;
}

/* The due date of an expectation that does not exist yet, into due; 0, or
 * CLI_EXIT_FAIL after naming what is missing. */
static int s_due(cli_ctx_t *ctx, const s_target_t *t, char *due, size_t len)
{
    const char *sql, *params[2] = {t->type, t->key};
    int nparams = 2;
    if (strcmp(t->kind, "periodic") == 0) {
        sql = "SELECT due::text FROM periods WHERE type_code = $1 AND period = $2 "
              "AND due IS NOT NULL";
    } else if (strcmp(t->kind, "remediation") == 0) {
        sql = "SELECT remediation_due::text FROM inspections WHERE code = $1 AND unit_code = $2";
        params[0] = t->key;
        params[1] = t->unit;
    } else {
        sql = "SELECT due::text FROM plan_tasks WHERE code = $1";
        params[0] = t->key;
        nparams = 1;
    }
    PGresult *r =
        cli_db_query(ctx, "could not look the due date up", sql, nparams, params, PGRES_TUPLES_OK);
    if (!r)
        return CLI_EXIT_FAIL;
    int found = PQntuples(r) == 1;
    if (found)
        snprintf(due, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (found)
        return 0;
    fprintf(stderr,
            "cchc: %s has no expectation of %s %s yet, and its due date is unknown: ", t->unit,
            t->type, t->key);
    if (strcmp(t->kind, "periodic") == 0)
        fprintf(stderr,
                "the periods table has no due date for %s %s (the server records it with the "
                "period); try again once the server has computed the expectations\n",
                t->type, t->key);
    else if (strcmp(t->kind, "remediation") == 0)
        fprintf(stderr, "there is no inspection '%s' of %s ('cchc inspection list --unit %s')\n",
                t->key, t->unit, t->unit);
    else
        fprintf(stderr, "there is no task '%s' in the plan ('cchc plan list')\n", t->key);
    return CLI_EXIT_FAIL;
}

/* Marks or creates the expectation exempt through cchc_exempt() (migration
 * 012: it writes the change and its audit row, and notifies the server);
 * inside the caller's transaction. 0 or the exit code, after saying why. */
static int s_mark(cli_ctx_t *ctx, s_target_t *t, char *due, size_t len)
{
    int rc;
    for (int with_due = 0; with_due < 2; with_due++) {
        if (with_due && (rc = s_due(ctx, t, due, len)) != 0)
            return rc;
        const char *params[7] = {t->type,  t->unit,  t->period, t->subject, with_due ? due : NULL,
                                 t->grace, t->reason};
        PGresult *r = cli_db_query(ctx, "could not exempt the expectation",
                                   "SELECT outcome, status, coalesce(report_id::text, '-'), "
                                   "coalesce(exempt_reason, ''), due::text "
                                   "FROM cchc_exempt($1, $2, $3, $4, $5::date, $6::integer, $7)",
                                   7, params, PGRES_TUPLES_OK);
        if (!r)
            return CLI_EXIT_FAIL;
        if (PQntuples(r) != 1) {
            PQclear(r);
            fprintf(stderr, "cchc: cchc_exempt() gave no answer: is the database migrated?\n");
            return CLI_EXIT_FAIL;
        }
        const char *outcome = PQgetvalue(r, 0, 0), *status = PQgetvalue(r, 0, 1);
        if (strcmp(outcome, "exempt") == 0) {
            snprintf(due, len, "%s", PQgetvalue(r, 0, 4));
            PQclear(r);
            return 0;
        }
        if (strcmp(outcome, "no_due") == 0) {
            PQclear(r);
            continue;
        }
        if (strcmp(status, "on_time") == 0 || strcmp(status, "late") == 0)
            fprintf(stderr,
                    "cchc: %s %s of %s was already met (%s, report %s): there is nothing to "
                    "exempt\n",
                    t->type, t->key, t->unit, status, PQgetvalue(r, 0, 2));
        else if (strcmp(status, "exempt") == 0)
            fprintf(stderr, "cchc: %s %s of %s is already exempt (reason: %s)\n", t->type, t->key,
                    t->unit, PQgetvalue(r, 0, 3));
        else
            fprintf(stderr, "cchc: %s %s of %s is %s: it is no longer expected\n", t->type, t->key,
                    t->unit, status);
        PQclear(r);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_FAIL;
}

static int s_exempt(cli_ctx_t *ctx, s_target_t *t)
{
    char due[16] = "";
    size_t chars = 0;
    if (!(t->reason = cli_db_text_arg("--reason", t->reason, S_REASON_MAX)))
        return CLI_EXIT_USAGE;
    for (const char *p = t->reason; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    int rc = CLI_EXIT_USAGE;
    if (chars < S_REASON_MIN) {
        fprintf(stderr, "cchc: --reason must be at least %d characters\n", S_REASON_MIN);
        goto out;
    }
    if (strlen(t->key) > S_KEY_MAX || !cchc_wire_text_ok(t->key, strlen(t->key))) {
        fprintf(stderr, "cchc: PERIOD '%s' is not a period id nor an inspection or task code\n",
                t->key);
        goto out;
    }
    rc = CLI_EXIT_FAIL;
    if (cli_db_connect(ctx, 1) != 0 || cli_db_unit_known(ctx, t->unit) != 0 ||
        cli_db_begin(ctx) != 0)
        goto out;
    if ((rc = s_resolve_type(ctx, t)) != 0 || (rc = s_mark(ctx, t, due, sizeof due)) != 0) {
        cli_db_rollback(ctx);
        goto out;
    }
    rc = CLI_EXIT_FAIL;
    if (cli_db_commit(ctx) != 0)
        goto out;
    printf("%s %s of %s (due %s) is exempt (miễn nộp): %s\n", t->type, t->key, t->unit, due,
           t->reason);
    CCHC_LOG(CCHC_LOG_INFO, "expectation_exempt", "unit=%s type=%s key=%s due=%s", t->unit, t->type,
             t->key, due);
    rc = CLI_EXIT_OK;
out:
    free(t->reason);
    t->reason = NULL;
    return rc;
}

/* --unit U --all-open: every open obligation of a closed unit, exempt at
 * once (cchc_exempt_closed, migration 020). Returns the exit code. */
static int s_exempt_all(cli_ctx_t *ctx, const char *unit, const char *reason_arg)
{
    char *reason = cli_db_text_arg("--reason", reason_arg, S_REASON_MAX);
    if (!reason)
        return CLI_EXIT_USAGE;
    size_t chars = 0;
    for (const char *p = reason; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    int rc = CLI_EXIT_USAGE;
    PGresult *u = NULL, *r = NULL;
    if (chars < S_REASON_MIN) {
        fprintf(stderr, "cchc: --reason must be at least %d characters\n", S_REASON_MIN);
        goto out;
    }
    rc = CLI_EXIT_FAIL;
    if (cli_db_connect(ctx, 1) != 0 || cli_db_unit_known(ctx, unit) != 0)
        goto out;
    const char *p1[1] = {unit};
    u = cli_db_query(ctx, "could not look the unit up",
                     "SELECT coalesce(u.valid_to::text, ''), "
                     "coalesce(u.valid_to < cchc_today(), false), cchc_today()::text, "
                     "coalesce(u.successor, '') FROM units u WHERE u.code = $1",
                     1, p1, PGRES_TUPLES_OK);
    if (!u || PQntuples(u) != 1)
        goto out;
    if (strcmp(PQgetvalue(u, 0, 1), "t") != 0) {
        fprintf(stderr,
                "cchc: %s is not closed (%s%s, today %s): --all-open settles only the open "
                "obligations of a closed unit, which pass to its successor; exempt one of its "
                "own with 'cchc exempt %s TYPE PERIOD --reason TEXT'\n",
                unit, PQgetvalue(u, 0, 0)[0] ? "open until the end of " : "no valid_to",
                PQgetvalue(u, 0, 0), PQgetvalue(u, 0, 2), unit);
        goto out;
    }
    if (cli_db_begin(ctx) != 0)
        goto out;
    const char *p2[2] = {unit, reason};
    r = cli_db_query(ctx, "could not exempt the obligations",
                     "SELECT type_code, CASE WHEN subject <> '' THEN subject ELSE period END, "
                     "due::text, was FROM cchc_exempt_closed($1, $2)",
                     2, p2, PGRES_TUPLES_OK);
    if (!r) {
        cli_db_rollback(ctx);
        goto out;
    }
    if (cli_db_commit(ctx) != 0)
        goto out;
    for (int i = 0; i < PQntuples(r); i++)
        printf("  %s %s (due %s, was %s)\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
    printf("Đã miễn nộp %d nghĩa vụ còn mở của %s (đã đóng sau ngày %s): %s\n"
           "%d open obligation(s) of %s (closed after %s) are exempt%s%s: %s\n",
           PQntuples(r), unit, PQgetvalue(u, 0, 0), reason, PQntuples(r), unit, PQgetvalue(u, 0, 0),
           PQgetvalue(u, 0, 3)[0] ? "; none passes to " : "", PQgetvalue(u, 0, 3), reason);
    CCHC_LOG(CCHC_LOG_INFO, "expectations_exempt", "unit=%s count=%d", unit, PQntuples(r));
    rc = CLI_EXIT_OK;
out:
    PQclear(r);
    PQclear(u);
    free(reason);
    return rc;
}

#define S_KEY_SQL "CASE WHEN e.subject <> '' THEN e.subject ELSE e.period END"

/* Strings glued to macros: clang-format cannot lay them out. */
/* clang-format off */
static const char s_exempt_list_sql[] =
    "SELECT e.unit_code AS unit, e.type_code AS type, " S_KEY_SQL " AS period, "
    "e.due::text AS due, e.exempt_reason AS reason, "
    "(SELECT a.db_user FROM audit_log a WHERE a.table_name = 'expectations' "
    "AND a.after->>'id' = e.id::text ORDER BY a.id DESC LIMIT 1) AS by, "
    CLI_SQL_LOCAL("e.updated_at") " AS exempted_at "
    "FROM expectations e WHERE e.status = 'exempt' ORDER BY e.due, e.unit_code, e.type_code, "
    "e.period, e.subject";
static const char s_exempt_json_sql[] =
    "SELECT coalesce(json_agg(json_build_object('unit', e.unit_code, 'type', e.type_code, "
    "'period', e.period, 'subject', e.subject, 'due', e.due::text, 'reason', e.exempt_reason, "
    "'by', (SELECT a.db_user FROM audit_log a WHERE a.table_name = 'expectations' "
    "AND a.after->>'id' = e.id::text ORDER BY a.id DESC LIMIT 1), "
    "'exempted_at', " CLI_SQL_UTC("e.updated_at") ") "
    "ORDER BY e.due, e.unit_code, e.type_code, e.period, e.subject), '[]') "
    "FROM expectations e WHERE e.status = 'exempt'";
/* clang-format on */

int cli_exempt_run(cli_ctx_t *ctx, int argc, char **argv)
{
    s_opts_t o = {0};
    int nargs;
    char **args, **av;
    int rc = s_parse(argc, argv, s_exempt_usage, &o, &nargs, &args, &av);
    if (rc < 0 && o.all_open &&
        (!o.unit || nargs != 0 || o.list || o.json || o.type || o.period || o.status)) {
        fprintf(stderr, "cchc: exempt --all-open takes --unit UNIT and --reason TEXT, and no "
                        "other argument\n");
        s_exempt_usage(stderr);
        rc = CLI_EXIT_USAGE;
    } else if (rc < 0 && o.all_open && !o.reason) {
        fprintf(stderr, "cchc: exempt --all-open needs --reason TEXT (lý do miễn nộp), "
                        "for the audit log\n");
        s_exempt_usage(stderr);
        rc = CLI_EXIT_USAGE;
    } else if (rc < 0 && o.all_open) {
        rc = s_exempt_all(ctx, o.unit, o.reason);
    } else if (rc < 0 && o.unit) {
        fprintf(stderr, "cchc: exempt --unit goes with --all-open; one obligation is "
                        "'cchc exempt UNIT TYPE PERIOD --reason TEXT'\n");
        s_exempt_usage(stderr);
        rc = CLI_EXIT_USAGE;
    } else if (rc < 0 && (o.type || o.period || o.status)) {
        fprintf(stderr, "cchc: exempt takes only --reason, --list and --json\n");
        s_exempt_usage(stderr);
        rc = CLI_EXIT_USAGE;
    } else if (rc < 0 && o.list && (nargs != 0 || o.reason)) {
        fprintf(stderr, "cchc: exempt --list takes no arguments and no --reason\n");
        s_exempt_usage(stderr);
        rc = CLI_EXIT_USAGE;
    } else if (rc < 0 && o.list) {
        rc = cli_db_connect(ctx, 1) != 0 ? CLI_EXIT_FAIL
             : o.json ? cli_db_print_json(ctx, "could not list the exemptions", s_exempt_json_sql,
                                          0, NULL)
                      : cli_db_print_table(ctx, "could not list the exemptions", s_exempt_list_sql,
                                           0, NULL, "no exempt expectations");
    } else if (rc < 0 && (nargs != 3 || o.json)) {
        fprintf(stderr, "cchc: exempt needs UNIT, TYPE and PERIOD (or --list)\n");
        s_exempt_usage(stderr);
        rc = CLI_EXIT_USAGE;
    } else if (rc < 0 && !o.reason) {
        fprintf(stderr, "cchc: exempt needs --reason TEXT (lý do miễn nộp), "
                        "for the audit log\n");
        s_exempt_usage(stderr);
        rc = CLI_EXIT_USAGE;
    } else if (rc < 0) {
        s_target_t t = {.unit = args[0], .type = args[1], .key = args[2]};
        t.reason = (char *)o.reason;
        rc = s_exempt(ctx, &t);
    }
    free(av);
    return rc;
}

/* ---- expectations ---------------------------------------------------------------------- */

/* $1 unit, $2 type, $3 period or subject, $4 status; NULL: any. */
#define S_FILTER                                                                                   \
    "WHERE ($1::text IS NULL OR e.unit_code = $1) AND ($2::text IS NULL OR e.type_code = $2) "     \
    "AND ($3::text IS NULL OR e.period = $3 OR e.subject = $3) "                                   \
    "AND ($4::text IS NULL OR e.status = $4) "
#define S_ORDER "e.due, e.unit_code, e.type_code, e.period, e.subject"

/* clang-format off */
static const char s_expect_sql[] =
    "SELECT e.unit_code AS unit, e.type_code AS type, " S_KEY_SQL " AS period, "
    "e.due::text AS due, e.status, " CLI_SQL_LOCAL("e.met_at") " AS met_at, "
    "e.report_id AS report, e.exempt_reason AS note FROM expectations e " S_FILTER
    "ORDER BY " S_ORDER;
static const char s_expect_json_sql[] =
    "SELECT coalesce(json_agg(json_build_object('unit', e.unit_code, 'type', e.type_code, "
    "'period', e.period, 'subject', e.subject, 'due', e.due::text, "
    "'grace_days', e.grace_days, 'status', e.status, 'met_at', " CLI_SQL_UTC("e.met_at") ", "
    "'basis', e.basis, 'report_id', e.report_id, 'exempt_reason', e.exempt_reason) "
    "ORDER BY " S_ORDER "), '[]') FROM expectations e " S_FILTER;
/* clang-format on */

int cli_expectations_run(cli_ctx_t *ctx, int argc, char **argv)
{
    s_opts_t o = {0};
    int nargs;
    char **args, **av;
    int rc = s_parse(argc, argv, s_list_usage, &o, &nargs, &args, &av);
    free(av);
    if (rc >= 0)
        return rc;
    if (nargs != 0 || o.reason || o.list || o.all_open) {
        fprintf(stderr, "cchc: expectations takes only --unit, --type, --period, --status "
                        "and --json\n");
        s_list_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *texts[3] = {o.unit, o.type, o.period};
    for (int i = 0; i < 3; i++)
        if (texts[i] && !cchc_wire_text_ok(texts[i], strlen(texts[i]))) {
            fprintf(stderr, "cchc: '%s' is not valid UTF-8 text\n", texts[i]);
            return CLI_EXIT_USAGE;
        }
    if (cli_db_connect(ctx, 1) != 0 || (o.unit && cli_db_unit_known(ctx, o.unit) != 0))
        return CLI_EXIT_FAIL;
    const char *params[4] = {o.unit, o.type, o.period, o.status};
    if (o.json)
        return cli_db_print_json(ctx, "could not list the expectations", s_expect_json_sql, 4,
                                 params);
    return cli_db_print_table(ctx, "could not list the expectations", s_expect_sql, 4, params,
                              "no expectations match");
}
