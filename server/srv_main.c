/* srv_main.c: cchc-server's entry point.
 *
 * Parses arguments, loads server.ini and the server's keys, starts logging,
 * builds the server, runs it and destroys it; nothing else. Exit codes:
 * 0 clean stop, 1 runtime failure (database, bind, loop), 2 usage or
 * configuration error. */
#include "cchc_err.h"
#include "cchc_keys.h"
#include "cchc_log.h"
#include "srv_config.h"
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
               "       cchc-server --help | --version\n");
    if (!full) {
        fprintf(f, "try 'cchc-server --help' for more\n");
        return;
    }
    fprintf(f, "\n"
               "options:\n"
               "  -c, --config FILE   server configuration (INI)\n"
               "      --keygen PREFIX make a CURVE key pair for the server\n"
               "  -h, --help          show this help\n"
               "  -V, --version       show the version\n"
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

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"keygen", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *keygen = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'k':
            keygen = optarg;
            break;
        case 'h':
            s_usage(stdout, 1);
            return S_EXIT_OK;
        case 'V':
            printf("cchc-server %s\n", CCHC_VERSION);
            return S_EXIT_OK;
        default:
            s_usage(stderr, 0);
            return S_EXIT_USAGE;
        }
    }
    if (optind < argc || (config && keygen) || (!config && !keygen)) {
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
        CCHC_LOG(CCHC_LOG_ERROR, "start_failed", "err=%s", srv_server_logstr(msg, sizeof msg, err));
    } else if (srv_server_run(server) == 0) {
        rc = S_EXIT_OK;
    }
    srv_server_destroy(&server);
    srv_config_free(&cfg);
    return rc;
}
