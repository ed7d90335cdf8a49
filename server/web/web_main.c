/* web_main.c: cchc-web's entry point, the district's read-only dashboard.
 *
 * Parses arguments, loads web.ini, starts logging, starts the HTTP server
 * and waits for SIGTERM or SIGINT; or, with --hash-password, reads a password
 * from standard input and prints its hash for [web] auth_hash. Exit codes:
 * 0 clean stop, 1 runtime failure (the port, the password), 2 usage or
 * configuration error. */
#include "cchc_log.h"
#include "cchc_sdnotify.h"
#include "web_auth.h"
#include "web_config.h"
#include "web_server.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define S_EXIT_OK 0
#define S_EXIT_RUNTIME 1
#define S_EXIT_USAGE 2

static void s_usage(FILE *f, int full)
{
    fputs("usage: cchc-web [-c web.ini]      serve the district's dashboard\n"
          "       cchc-web -c web.ini --check-config  check web.ini and exit\n"
          "       cchc-web --hash-password  read a password on stdin, print its hash\n"
          "       cchc-web --config-keys | --help | --version\n",
          f);
    if (!full) {
        fputs("try 'cchc-web --help' for more\n", f);
        return;
    }
    fputs("\n"
          "A read-only web dashboard, in Vietnamese, of the figures cchc prints: who has\n"
          "reported (the status matrix and its rates), overdue dossiers, dossier figures\n"
          "with a chart, remediation, the plan's tasks, the agents' sync health and the\n"
          "consolidated report with its .xlsx. Every page is also JSON under /api/.\n"
          "It reads PostgreSQL as cchc_viewer (SET ROLE at connection) and writes nothing.\n"
          "\n"
          "pages: /  /status?period=P&type=T  /overdue?period=P  /dossiers?period=P\n"
          "       /remediation  /tasks?year=Y  /agents  /summary?period=P\n"
          "       /summary.xlsx?period=P  and each under /api (/api/status?period=P ...)\n"
          "\n"
          "options:\n"
          "  -c, --config FILE   web.ini (without it: the defaults and the PG* variables)\n"
          "      --hash-password read a password from standard input (one line; not shown\n"
          "                      on a terminal) and print its yescrypt hash for\n"
          "                      [web] auth_hash\n"
          "      --check-config  with -c: read web.ini as cchc-web would (every key known,\n"
          "                      every value valid, the hash readable) and exit: 0 if it\n"
          "                      is, 2 naming the file and the key if not; binds nothing,\n"
          "                      connects to nothing\n"
          "      --config-keys   print every configuration key as section.key=default, one\n"
          "                      per line\n"
          "  -h, --help          show this help\n"
          "  -V, --version       show the version\n"
          "\n"
          "configuration keys ([section] name = default):\n",
          f);
    web_config_describe(f);
    fputs("\nexit status: 0 clean stop, 1 runtime failure, 2 usage or configuration error\n", f);
}

/* --hash-password: one line from stdin (echo off on a terminal). */
static int s_hash_password(void)
{
    char line[512], hash[256], err[256];
    int tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        fputs("Mật khẩu (password): ", stderr);
    } else {
        tty = 0;
    }
    char *got = fgets(line, sizeof line, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got) {
        fprintf(stderr, "cchc-web: no password on standard input: "
                        "echo 'the password' | cchc-web --hash-password\n");
        return S_EXIT_RUNTIME;
    }
    size_t n = strlen(line);
    if (n == sizeof line - 1 && line[n - 1] != '\n') {
        fprintf(stderr, "cchc-web: the password is too long (at most %zu bytes)\n",
                sizeof line - 2);
        return S_EXIT_RUNTIME;
    }
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    int rc = web_auth_hash_password(line, hash, sizeof hash, err, sizeof err);
    explicit_bzero(line, sizeof line);
    if (rc != 0) {
        fprintf(stderr, "cchc-web: could not hash the password: %s\n", err);
        return S_EXIT_RUNTIME;
    }
    printf("%s\n", hash);
    return S_EXIT_OK;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"hash-password", no_argument, NULL, 'P'},
        {"check-config", no_argument, NULL, 'C'},
        {"config-keys", no_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    int c, hash = 0, check = 0;
    cchc_log_set_ident("cchc-web");
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'P':
            hash = 1;
            break;
        case 'C':
            check = 1;
            break;
        case 'K':
            web_config_list_keys(stdout);
            return S_EXIT_OK;
        case 'h':
            s_usage(stdout, 1);
            return S_EXIT_OK;
        case 'V':
            printf("cchc-web %s\n", CCHC_VERSION);
            return S_EXIT_OK;
        case ':':
            fprintf(stderr, "cchc-web: option '%s' needs a value\n", argv[optind - 1]);
            s_usage(stderr, 0);
            return S_EXIT_USAGE;
        default:
            fprintf(stderr, "cchc-web: unknown option '%s'\n", argv[optind - 1]);
            s_usage(stderr, 0);
            return S_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cchc-web: unexpected argument '%s'\n", argv[optind]);
        s_usage(stderr, 0);
        return S_EXIT_USAGE;
    }
    if (hash && (check || config)) {
        fprintf(stderr, "cchc-web: --hash-password takes no other option\n");
        return S_EXIT_USAGE;
    }
    if (hash)
        return s_hash_password();
    if (check && !config) {
        fprintf(stderr, "cchc-web: --check-config takes -c web.ini\n");
        return S_EXIT_USAGE;
    }

    web_config_t cfg;
    char err[512] = "";
    if (web_config_load(&cfg, config, err, sizeof err) != 0) {
        fprintf(stderr, "cchc-web: %s\n", err[0] ? err : "could not load the configuration");
        web_config_free(&cfg);
        return S_EXIT_USAGE;
    }
    if (check) {
        printf("%s: configuration ok\n", config);
        web_config_free(&cfg);
        return S_EXIT_OK;
    }
    cchc_log_level = cfg.log_level;

    /* SIGTERM and SIGINT are waited for here; blocked before the HTTP thread
     * starts, so that it inherits the mask and never takes them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    web_t *web = web_new(&cfg, err, sizeof err);
    if (!web) {
        CCHC_LOG(CCHC_LOG_ERROR, "start", "err=\"%s\"", err);
        fprintf(stderr, "cchc-web: %s\n", err);
        web_config_free(&cfg);
        return S_EXIT_RUNTIME;
    }
    if (cchc_sdnotify_send(CCHC_SDNOTIFY_READY, "serving %s", cfg.listen) < 0)
        CCHC_LOG(CCHC_LOG_WARN, "sd_notify_failed", "err=\"%s\"", strerror(errno));
    int sig = 0;
    sigwait(&stop, &sig);
    CCHC_LOG(CCHC_LOG_INFO, "stopping", "signal=%d", sig);
    cchc_sdnotify_send(CCHC_SDNOTIFY_STOPPING, "stopping");
    web_destroy(&web);
    web_config_free(&cfg);
    return S_EXIT_OK;
}
