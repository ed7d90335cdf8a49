/* srv_main.c: cchc-server's entry point.
 *
 * Parses arguments, loads server.ini and the server's keys, starts logging,
 * builds the server, runs it and destroys it; nothing else. Exit codes:
 * 0 clean stop, 1 runtime failure (database, bind, loop), 2 usage or
 * configuration error. */
#include "cchc_err.h"
#include "cchc_keys.h"
#include "cchc_log.h"
#include "cchc_clock.h"
#include "srv_config.h"
#include "srv_metrics.h"
#include "srv_sched.h"
#include "srv_router.h"
#include "srv_server.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define S_EXIT_OK 0
#define S_EXIT_RUNTIME 1
#define S_EXIT_USAGE 2

static void s_usage(FILE *f, int full)
{
    fprintf(f, "usage: cchc-server -c FILE         run the district server\n"
               "       cchc-server --keygen PREFIX  write PREFIX.pub and PREFIX.key, print the "
               "public key\n"
               "       cchc-server -c FILE --tick-at ISO8601  run one scheduler tick and exit\n"
               "       cchc-server -c FILE --check-config  check FILE and exit\n"
               "       cchc-server --config-keys | --help | --version\n");
    if (!full) {
        fprintf(f, "try 'cchc-server --help' for more\n");
        return;
    }
    fprintf(f, "\n"
               "options:\n"
               "  -c, --config FILE   server configuration (INI)\n"
               "      --keygen PREFIX make a CURVE key pair for the server\n"
               "      --tick-at TIME  migrate, run one scheduler tick at TIME\n"
               "                      (2024-09-18T08:00:00+07:00 or ms) and exit; no sockets\n"
               "      --check-config  read FILE as the server would (every key known, every\n"
               "                      value valid) and exit: 0 if it is, 2 naming the file and\n"
               "                      line if not; reads no key file, connects to nothing\n"
               "      --config-keys   print every configuration key as section.key=default\n"
               "                      (section.key alone when required), one per line\n"
               "  -h, --help          show this help\n"
               "  -V, --version       show the version\n"
               "\n"
               "At start (and with --tick-at) it applies the schema migrations of this build\n"
               "and refuses, exit 1, a database newer than this build or one whose applied\n"
               "migrations were edited since (their sha256 differs): see 'cchc migrate --help'.\n"
               "\n"
               "configuration keys ([section] name = default):\n");
    srv_config_describe(f);
    fprintf(f, "\nexit status: 0 clean stop, 1 runtime failure, 2 usage or configuration "
               "error\n");
}

static int s_keygen(const char *prefix)
{
    char pub[CCHC_KEY_Z85_LEN + 1], sec[CCHC_KEY_Z85_LEN + 1], err[512] = "";
    int rc = cchc_keys_generate(pub, sec);
    if (rc == 0)
        rc = cchc_keys_write_pair(prefix, pub, sec, err, sizeof err);
    explicit_bzero(sec, sizeof sec);
    if (rc != 0) {
        fprintf(stderr, "cchc-server: could not make key pair \"%s\": %s\n", prefix,
                err[0] ? err : cchc_strerror(rc));
        return S_EXIT_RUNTIME;
    }
    printf("%s\n", pub);
    return S_EXIT_OK;
}

/* Reads both keys and checks that they are one pair: a server whose public
 * key is not the one agents hold would refuse every handshake, silently. */
static int s_read_keys(const srv_config_t *cfg, char sec[CCHC_KEY_Z85_LEN + 1])
{
    char pub[CCHC_KEY_Z85_LEN + 1], derived[CCHC_KEY_Z85_LEN + 1], err[512] = "";
    if (cchc_keys_read(cfg->public_key, 0, pub, err, sizeof err) != 0 ||
        cchc_keys_read(cfg->secret_key, 1, sec, err, sizeof err) != 0) {
        fprintf(stderr, "cchc-server: %s\n", err);
        return CCHC_EINVAL;
    }
    if (cchc_keys_public_of(sec, derived) != 0 || strcmp(derived, pub) != 0) {
        fprintf(stderr, "cchc-server: %s and %s are not one key pair\n", cfg->public_key,
                cfg->secret_key);
        return CCHC_EINVAL;
    }
    return CCHC_OK;
}

/* --tick-at: migrations, one tick at that instant (waiting for a tick that
 * holds the lock, so that the instant is not lost), "tick at=... inserted=N". */
static int s_tick_at(const srv_config_t *cfg, const char *when)
{
    int64_t at;
    char err[1024] = "", at_s[32];
    if (cchc_clock_parse(when, &at) != 0) {
        fprintf(stderr, "cchc-server: --tick-at: not an instant: %s\n", when);
        return S_EXIT_USAGE;
    }
    srv_sched_t *sched = srv_sched_new(cfg, err, sizeof err);
    if (!sched) {
        fprintf(stderr, "cchc-server: %s\n", err);
        return S_EXIT_USAGE;
    }
    srv_sched_result_t res;
    int rc = srv_sched_connect(sched, 1, err, sizeof err);
    if (rc == 0)
        rc = srv_sched_tick(sched, at, 60000, &res, err, sizeof err);
    srv_sched_destroy(&sched);
    if (rc != 0) {
        fprintf(stderr, "cchc-server: tick failed: %s\n", err);
        return S_EXIT_RUNTIME;
    }
    cchc_clock_format_utc(at, at_s, sizeof at_s);
    printf("tick at=%s skipped=%d inserted=%ld expectations=%ld overdue_marked=%ld "
           "approaching=%ld today=%ld overdue=%ld digest=%ld escalated=%ld silent=%ld\n",
           at_s, res.skipped, res.inserted, res.expectations, res.marked_overdue,
           res.rules[SRV_SCHED_APPROACHING], res.rules[SRV_SCHED_TODAY],
           res.rules[SRV_SCHED_OVERDUE], res.rules[SRV_SCHED_DIGEST],
           res.rules[SRV_SCHED_ESCALATED], res.rules[SRV_SCHED_SILENT]);
    return res.skipped ? S_EXIT_RUNTIME : S_EXIT_OK;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},  {"keygen", required_argument, NULL, 'k'},
        {"tick-at", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {"check-config", no_argument, NULL, 'C'},
        {"config-keys", no_argument, NULL, 'K'},   {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *keygen = NULL, *tick_at = NULL;
    int c, check = 0;
    while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'k':
            keygen = optarg;
            break;
        case 't':
            tick_at = optarg;
            break;
        case 'h':
            s_usage(stdout, 1);
            return S_EXIT_OK;
        case 'V':
            printf("cchc-server %s\n", CCHC_VERSION);
            return S_EXIT_OK;
        case 'C':
            check = 1;
            break;
        case 'K':
            cchc_config_list_keys(srv_config_table, srv_config_table_len, stdout);
            return S_EXIT_OK;
        default:
            s_usage(stderr, 0);
            return S_EXIT_USAGE;
        }
    }
    if (optind < argc || (config && keygen) || (!config && !keygen) || (tick_at && !config) ||
        (check && (!config || tick_at))) {
        s_usage(stderr, 0);
        return S_EXIT_USAGE;
    }
    if (keygen)
        return s_keygen(keygen);

    cchc_log_set_ident("cchc-server");
    srv_config_t cfg;
    char err[1024] = "", sec[CCHC_KEY_Z85_LEN + 1] = "";
    if (srv_config_load(&cfg, config, err, sizeof err) != 0) {
        fprintf(stderr, "cchc-server: %s\n", err);
        srv_config_free(&cfg);
        return S_EXIT_USAGE;
    }
    cchc_log_level = cfg.log_level;
    if (srv_metrics_check(cfg.metrics_listen, err, sizeof err) != 0) {
        fprintf(stderr, "cchc-server: %s: %s\n", config, err);
        srv_config_free(&cfg);
        return S_EXIT_USAGE;
    }
    if (check) {
        printf("%s: configuration ok\n", config);
        srv_config_free(&cfg);
        return S_EXIT_OK;
    }
    if (tick_at) {
        int rc = s_tick_at(&cfg, tick_at);
        srv_config_free(&cfg);
        return rc;
    }
    if (s_read_keys(&cfg, sec) != 0) {
        explicit_bzero(sec, sizeof sec);
        srv_config_free(&cfg);
        return S_EXIT_USAGE;
    }
    CCHC_LOG(CCHC_LOG_INFO, "starting", "version=%s config=%s", CCHC_VERSION, config);
    srv_server_t *server = srv_server_new(&cfg, sec, err, sizeof err);
    explicit_bzero(sec, sizeof sec);
    int rc = S_EXIT_RUNTIME;
    if (!server) {
        char msg[1100];
        CCHC_LOG(CCHC_LOG_ERROR, "start_failed", "err=%s", srv_logstr(msg, sizeof msg, err));
    } else if (srv_server_run(server) == 0) {
        rc = S_EXIT_OK;
    }
    srv_server_destroy(&server);
    srv_config_free(&cfg);
    return rc;
}
