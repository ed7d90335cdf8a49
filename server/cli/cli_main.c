/* cli_main.c: cchc, the operator CLI: arguments, configuration, dispatch.
 *
 * Only this file knows the global options and admin.ini; each command lives
 * in its own cli_<command>.c and gets the session (cli_ctx_t) and its own
 * argv. Configuration is defaults < admin.ini (-c); without -c only the
 * defaults apply, so the standard PG* environment variables work alone.
 *
 * Exit codes: 0 ok, 1 failure (the message says what and how to fix it),
 * 2 usage or configuration error. */
#include "cli_db.h"
#include "cchc_config.h"
#include "cchc_endpoints.h"
#include "cchc_log.h"

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *conninfo;
    int log_level;
    /* [watch]: cchc watch only; handed to it as options (s_watch_run). */
    char *watch_endpoint, *watch_endpoints, *watch_server_key, *watch_public_key, *watch_secret_key;
    /* [server]: the defaults of key issue / key rotate / subscriber add. */
    char *server_key, *server_endpoint, *server_endpoints;
    /* Resolved from the pairs endpoint/endpoints (s_resolve), "a, b". */
    char *server_list, *watch_list;
} s_config_t;

static const cchc_cfg_entry_t s_config_table[] = {
    {"database", "conninfo", CCHC_CFG_STRING, "", 0, 0, offsetof(s_config_t, conninfo),
     "libpq connection string; empty: the PG* environment variables"},
    {"log", "level", CCHC_CFG_LOGLEVEL, "warn", 0, 0, offsetof(s_config_t, log_level),
     "debug, info, warn or error"},
    {"server", "public_key", CCHC_CFG_PATH, "", 0, 0, offsetof(s_config_t, server_key),
     "the server's public key file: copied into bundles by key issue/rotate, subscriber add"},
    {"server", "endpoints", CCHC_CFG_STRING, "", 0, 0, offsetof(s_config_t, server_endpoints),
     "the servers as agents reach them (tcp://A:7470, tcp://B:7470), written into bundles"},
    {"server", "endpoint", CCHC_CFG_STRING, "", 0, 0, offsetof(s_config_t, server_endpoint),
     "one server (the older key; not with endpoints); neither set: tcp://127.0.0.1:7470"},
    {"watch", "endpoints", CCHC_CFG_STRING, "", 0, 0, offsetof(s_config_t, watch_endpoints),
     "cchc watch: the servers' ROUTER endpoints, tried in this order"},
    {"watch", "endpoint", CCHC_CFG_STRING, "", 0, 0, offsetof(s_config_t, watch_endpoint),
     "cchc watch: one server (not with endpoints); neither set: tcp://127.0.0.1:7470"},
    {"watch", "server_key", CCHC_CFG_PATH, "", 0, 0, offsetof(s_config_t, watch_server_key),
     "cchc watch: the server's public key file"},
    {"watch", "public_key", CCHC_CFG_PATH, "", 0, 0, offsetof(s_config_t, watch_public_key),
     "cchc watch: the subscriber's public key file"},
    {"watch", "secret_key", CCHC_CFG_PATH, "", 0, 0, offsetof(s_config_t, watch_secret_key),
     "cchc watch: the subscriber's secret key file (mode 0600)"},
};
#define S_CONFIG_N (sizeof s_config_table / sizeof s_config_table[0])

typedef struct {
    const char *name;
    int (*run)(cli_ctx_t *ctx, int argc, char **argv);
} s_command_t;

/* cchc watch (cli_watch.c): [watch] goes first as options, so that the
 * command line, after it, overrides. */
static const s_config_t *s_watch_cfg;
static int s_watch_run(cli_ctx_t *ctx, int argc, char **argv)
{
    const s_config_t *c = s_watch_cfg;
    const char *pre[] = {
        "--config-endpoints", c->watch_list,       "--server-key", c->watch_server_key,
        "--public-key",       c->watch_public_key, "--secret-key", c->watch_secret_key,
    };
    size_t npre = sizeof pre / sizeof pre[0];
    char **v = calloc((size_t)argc + npre + 1, sizeof *v);
    if (!v)
        return CLI_EXIT_FAIL;
    v[0] = argv[0];
    for (size_t i = 0; i < npre; i++)
        v[1 + i] = (char *)(pre[i] ? pre[i] : "");
    for (int i = 1; i < argc; i++)
        v[npre + (size_t)i] = argv[i];
    int rc = cli_watch_run(ctx, argc + (int)npre, v);
    free(v);
    return rc;
}

static const s_command_t s_commands[] = {
    {"migrate", cli_migrate_run},
    {"unit", cli_unit_run},
    {"key", cli_key_run},
    {"report", cli_report_run},
    {"type", cli_type_run},
    {"calendar", cli_calendar_run},
    {"plan", cli_plan_run},
    {"inspection", cli_inspection_run},
    {"finding", cli_finding_run},
    {"audit", cli_audit_run},
    {"exempt", cli_exempt_run},
    {"expectations", cli_expectations_run},
    {"silence", cli_silence_run},
    {"subscriber", cli_subscriber_run},
    {"watch", s_watch_run},
    {"status", cli_status_run},
    {"overdue", cli_overdue_run},
    {"dossiers", cli_dossiers_run},
    {"remediation", cli_remediation_run},
    {"tasks", cli_tasks_run},
    {"agents", cli_agents_run},
    {"refusals", cli_refusals_run},
    {"summary", cli_summary_run},
    {"period", cli_period_run},
};

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] <command> ...\n"
          "\n"
          "The operator CLI of the CCHC reporting network: works on the district's\n"
          "PostgreSQL database directly.\n"
          "\n"
          "commands:\n"
          "  migrate                       apply the schema migrations of this build\n"
          "  unit import FILE.csv          add or update units from a CSV file (all or nothing)\n"
          "  unit list [--json]            list the units and their active keys\n"
          "  key add UNIT PUBLIC_KEY_FILE  register the CURVE public key of a unit's agent\n"
          "  key issue UNIT --out DIR [--server-key FILE] [--endpoint tcp://HOST:PORT[,...]]\n"
          "                                make, register and write an agent's key bundle\n"
          "  key rotate UNIT --out DIR [--server-key FILE] [--overlap-hours N]\n"
          "                                a new bundle; the old keys expire after N hours\n"
          "  key revoke ID|KEY|UNIT        refuse a key (its id in 'key list', or the key) or a\n"
          "                                unit's keys from now on; also --id ID, --unit UNIT\n"
          "  key list [--unit U] [--json]  list the agents' keys and their state\n"
          "  report list [--unit U] [--type T] [--period P] [--status S] [--limit N] [--json]\n"
          "                                list the newest reports received\n"
          "  report show ID [--json]       one report: header, findings, body\n"
          "  type import FILE.csv          add or update report types (all or nothing)\n"
          "  type list [--json]            list the report types and their assignments\n"
          "  calendar import FILE.csv      add or update holidays and swapped days\n"
          "  calendar list [--year YYYY] [--json]\n"
          "                                list the working-day calendar\n"
          "  plan import FILE.csv          add or update the plan's tasks (all or nothing)\n"
          "  plan list [--json]            list the plan's tasks\n"
          "  inspection add UNIT --team TEXT --date DAY --conclusion NUMBER/DAY\n"
          "                 [--due DAY] [--code CODE]   (or --conclusion 'NUMBER ngày D/M/YYYY',\n"
          "                 or --conclusion-number NUMBER --conclusion-date DAY)\n"
          "                                record an inspection and its remediation due date\n"
          "  inspection show CODE [--json] an inspection, its findings and remediation reports\n"
          "  inspection list [--unit U] [--json]\n"
          "                                list the inspections and their progress\n"
          "  finding add INSPECTION TEXT   add the next finding to an inspection\n"
          "  audit [--since DAY] [--table T] [--json]\n"
          "                                the changes operators made (audit log)\n"
          "  watch [--topic PREFIX]... [--json] [--exec CMD] [--state FILE]\n"
          "        [--endpoint E[,E...]]     follow notifications as a subscriber ([watch]);\n"
          "                                with several servers, resumes on another if one dies\n"
          "  expectations [--unit U] [--type T] [--period P] [--status S] [--json]\n"
          "                                who must report what by when, and how it went\n"
          "  exempt UNIT TYPE PERIOD --reason TEXT\n"
          "                                exempt a unit from one expected report (audited)\n"
          "  exempt --list [--json]        list the exempt expectations\n"
          "  period lock TYPE PERIOD --reason TEXT\n"
          "                                lock a period to revisions (E006) and end its\n"
          "                                reopenings (audited)\n"
          "  period reopen TYPE PERIOD [--unit U] --until DAY --reason TEXT\n"
          "                                let revisions of a locked or expired period through\n"
          "                                until a day, for a unit or every unit (audited)\n"
          "  period list [--type T] [--year YYYY] [--json]\n"
          "                                the periods: cut-off, due date, lock, reopenings\n"
          "  silence add [--unit U] [--kind K] --until DAY --reason TEXT\n"
          "                                silence notifications until a day; prints its id\n"
          "  silence list [--all] [--json] list the active (or all) silences\n"
          "  silence remove ID             end a silence now\n"
          "  subscriber add NAME --topics PREFIX,... (--key FILE.pub | --out DIR)\n"
          "                                register a notification subscriber and its key\n"
          "  subscriber list [--json]      list the subscribers\n"
          "  subscriber revoke NAME        refuse a subscriber's key from now on\n"
          "  refusals [--since DAY] [--json|--csv]\n"
          "                                what the server refused from known agents and\n"
          "                                subscribers: another unit, a revoked or expired\n"
          "                                key, a topic outside the grant; counted per minute\n"
          "\n"
          "figures (each takes --json or --csv; '<command> --help' lists its filters):\n"
          "  status [--period P] [--rates] who has reported, on time or late; the rates\n"
          "  overdue [--period P]          every overdue dossier, its cause and remedy\n"
          "  dossiers [--period P] [--by field|unit|unit-field]\n"
          "                                the dossier figures (Form 06) and their rates\n"
          "  remediation [--findings]      remediation per inspection, or per finding\n"
          "  tasks [--by task|unit|dimension]\n"
          "                                the plan's tasks: done, overdue, in progress\n"
          "  agents [--all]                the agents' last contact, queue, refusals\n"
          "  summary --period P --out FILE.xlsx|FILE.html\n"
          "                                the consolidated report of a period, for the province\n"
          "\n"
          "options:\n"
          "  -c, --config FILE   read admin.ini (without it: defaults and PG* variables)\n"
          "      --check-config  with -c: check admin.ini (every key known, every value valid)\n"
          "                      and exit: 0 if it is, 2 naming the file and line if not\n"
          "      --config-keys   print every admin.ini key as section.key=default, one per line\n"
          "  -h, --help          show this help; '<command> --help' shows a command's\n"
          "  -V, --version       show the version\n"
          "\n"
          "admin.ini:\n",
          f);
    cchc_config_describe(s_config_table, S_CONFIG_N, f);
    fputs("\nexit status: 0 ok, 1 failure, 2 usage or configuration error\n", f);
}

/* The list of a section's endpoint/endpoints pair, "a, b" (caller frees);
 * "" when neither is set and there is no default. NULL after saying why. */
static char *s_resolve(const char *file, const char *section, const char *one, const char *list,
                       const char *def)
{
    char err[512] = "";
    cchc_endpoints_t l = {0};
    if (!(one && *one) && !(list && *list) && !def)
        return strdup("");
    if (cchc_endpoints_from_config(file, section, one, list, def, &l, err, sizeof err) != 0) {
        fprintf(stderr, "cchc: %s\n", err);
        return NULL;
    }
    char *text = cchc_endpoints_join(&l);
    cchc_endpoints_free(&l);
    return text;
}

/* Loads admin.ini (or only the defaults). 0, or -1 after printing the reason. */
static int s_load_config(const char *path, s_config_t *cfg)
{
    char err[512] = "";
    int rc = path ? cchc_config_load(path, s_config_table, S_CONFIG_N, cfg, err, sizeof err)
                  : cchc_config_defaults(s_config_table, S_CONFIG_N, cfg, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "cchc: %s\n", *err ? err : "could not load the configuration");
        return -1;
    }
    const char *file = path ? path : "admin.ini";
    cfg->server_list = s_resolve(file, "server", cfg->server_endpoint, cfg->server_endpoints, NULL);
    cfg->watch_list = cfg->server_list ? s_resolve(file, "watch", cfg->watch_endpoint,
                                                   cfg->watch_endpoints, "tcp://127.0.0.1:7470")
                                       : NULL;
    return cfg->server_list && cfg->watch_list ? 0 : -1;
}

static void s_free_config(s_config_t *cfg)
{
    free(cfg->server_list);
    free(cfg->watch_list);
    cchc_config_free(s_config_table, S_CONFIG_N, cfg);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {"check-config", no_argument, NULL, 'C'},
        {"config-keys", no_argument, NULL, 'K'},  {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    int c, check = 0;

    cchc_log_set_ident("cchc");
    opterr = 0;
    /* "+": stop at the command, whose options are its own. */
    while ((c = getopt_long(argc, argv, "+:c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'h':
            s_usage(stdout);
            return CLI_EXIT_OK;
        case 'V':
            printf("cchc %s\n", CCHC_VERSION);
            return CLI_EXIT_OK;
        case 'C':
            check = 1;
            break;
        case 'K':
            cchc_config_list_keys(s_config_table, S_CONFIG_N, stdout);
            return CLI_EXIT_OK;
        default:
            cli_db_bad_option(c, argv);
            s_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (check) {
        s_config_t cfg = {0};
        int rc = CLI_EXIT_USAGE;
        if (!config_path || optind < argc)
            fprintf(stderr, "cchc: --check-config takes -c admin.ini and no command\n");
        else if (s_load_config(config_path, &cfg) == 0) {
            printf("%s: configuration ok\n", config_path);
            rc = CLI_EXIT_OK;
        }
        s_free_config(&cfg);
        return rc;
    }
    if (optind >= argc) {
        fprintf(stderr, "cchc: no command given\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }

    const s_command_t *cmd = NULL;
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (strcmp(argv[optind], s_commands[i].name) == 0)
            cmd = &s_commands[i];
    if (!cmd) {
        fprintf(stderr, "cchc: unknown command '%s'\n", argv[optind]);
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }

    s_config_t cfg = {0};
    if (s_load_config(config_path, &cfg) != 0) {
        s_free_config(&cfg);
        return CLI_EXIT_USAGE;
    }
    cchc_log_level = cfg.log_level;
    s_watch_cfg = &cfg;

    cli_ctx_t ctx = {.conninfo = cfg.conninfo,
                     .conn = NULL,
                     .server_key = cfg.server_key ? cfg.server_key : "",
                     .server_endpoint = cfg.server_list};
    int rc = cmd->run(&ctx, argc - optind, argv + optind);
    cli_db_close(&ctx);
    s_free_config(&cfg);
    return rc;
}
