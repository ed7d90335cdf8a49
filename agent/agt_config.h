/* agt_config.h: what every part of cchc-agent is given.
 *
 * Owns the agent's configuration (agent.ini, read through one declarative
 * cchc_cfg_entry_t table) and declares the officer subcommands, which
 * agt_main.c dispatches to once the configuration is loaded. A relative path
 * in agent.ini is taken relative to agent.ini's directory (cchc_config). */
#ifndef AGT_CONFIG_H
#define AGT_CONFIG_H

#include "cchc_config.h"
#include "cchc_endpoints.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    /* [agent] */
    char *unit;                 /* this agent's unit code, e.g. xa-van-son */
    char *outbox;               /* SQLite outbox file */
    char *public_key;           /* own CURVE public key file (Z85) */
    char *secret_key;           /* own CURVE secret key file (Z85, mode 0600) */
    int64_t resend_timeout_ms;  /* first resend of an unanswered report */
    int64_t window;             /* reports in flight at most */
    int64_t window_bytes;       /* payload bytes in flight at most (one report always may) */
    int64_t hello_interval_ms;  /* Hello on connect, then every this long */
    int64_t max_outbox_reports; /* queued rows at most: submit refuses beyond */
    int64_t max_outbox_bytes;   /* queued payload bytes at most */
    char *on_alert;             /* shell command run for each new notification; "" none */
    /* [server] */
    char *server_endpoint;        /* the old key: one server, e.g. tcp://district.example:7470 */
    char *server_endpoints;       /* the servers, commas and/or spaces between them */
    cchc_endpoints_t servers;     /* resolved from the two above (never empty once loaded) */
    char *server_public_key;      /* the server's CURVE public key file */
    int64_t max_frame;            /* largest frame either way, bytes */
    int64_t heartbeat_ivl_ms;     /* ZMTP heartbeat interval */
    int64_t heartbeat_timeout_ms; /* no traffic this long: the connection is dropped */
    /* [log] */
    int log_level; /* CCHC_LOG_* */
} agt_config_t;

/* Loads defaults, then the file at path, into cfg (zeroed first). Returns 0,
 * CCHC_EIO (cannot read) or CCHC_EINVAL; err says which file and line. */
int agt_config_load(const char *path, agt_config_t *cfg, char *err, size_t errlen);
/* Overrides one key from "section.key=value" (a command-line --set). */
int agt_config_override(agt_config_t *cfg, const char *assignment, char *err, size_t errlen);
/* Frees the strings cfg owns; cfg can be loaded again. Accepts a zeroed cfg. */
void agt_config_free(agt_config_t *cfg);
/* Prints every key with its default and help to f (for --help). */
void agt_config_describe(FILE *f);
/* Prints every key as "section.key=default" ("section.key" when required),
 * one per line, to f (for --config-keys). */
void agt_config_list_keys(FILE *f);

/* The officer subcommands. Each gets the loaded configuration (borrowed) and
 * its own arguments (argv[0] is the command name), prints its messages, and
 * returns the process exit code: 0 ok, 1 refused or failed, 2 usage, 3 the
 * drain timed out (run only). */
int agt_cmd_submit(const agt_config_t *cfg, int argc, char **argv);
int agt_cmd_run(const agt_config_t *cfg, int argc, char **argv);
int agt_cmd_status(const agt_config_t *cfg, int argc, char **argv);
int agt_cmd_keygen(const agt_config_t *cfg, int argc, char **argv);
int agt_cmd_template(const agt_config_t *cfg, int argc, char **argv);
int agt_cmd_inspections(const agt_config_t *cfg, int argc, char **argv);
int agt_cmd_tasks(const agt_config_t *cfg, int argc, char **argv);
int agt_cmd_notifications(const agt_config_t *cfg, int argc, char **argv);
int agt_cmd_deadlines(const agt_config_t *cfg, int argc, char **argv);
int agt_cmd_sync(const agt_config_t *cfg, int argc, char **argv);

/* For the commands that run the link (run, sync): installs the SIGTERM and
 * SIGINT handlers and returns the flag they set (agt_link_opts_t.stop); and
 * reads "--timeout SEC" (a number of seconds above 0) into ms. */
volatile sig_atomic_t *agt_cmd_signals(void);
int agt_cmd_parse_seconds(const char *text, int64_t *ms_out);

/* Exit codes, shared by main and the commands. */
enum {
    AGT_EXIT_OK = 0,
    AGT_EXIT_FAILED = 1,
    AGT_EXIT_USAGE = 2,
    AGT_EXIT_TIMEOUT = 3,
};

#endif
