/* agt_config.c: the agent's configuration table (agent.ini).
 *
 * Owns the one declarative table of keys, defaults and bounds; loading,
 * checking and error messages with file and line are cchc_config's job. The
 * only rules added here are those the table cannot say: a unit code is not
 * empty, and [server] endpoint and endpoints are not both set (the list the
 * link uses, cfg->servers, is resolved from them: cchc_endpoints). */
#include "agt_config.h"

#include "cchc_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(member) offsetof(agt_config_t, member)
#define S_DEFAULT_ENDPOINT "tcp://127.0.0.1:7470"

static const cchc_cfg_entry_t s_table[] = {
    {"agent", "unit", CCHC_CFG_STRING, NULL, 0, 0, S(unit),
     "this agent's unit code, as the district registered it"},
    {"agent", "outbox", CCHC_CFG_PATH, "outbox.db", 0, 0, S(outbox),
     "SQLite file keeping every report until the server answers"},
    {"agent", "public_key", CCHC_CFG_PATH, "agent.pub", 0, 0, S(public_key),
     "this agent's CURVE public key (give it to the district)"},
    {"agent", "secret_key", CCHC_CFG_PATH, "agent.key", 0, 0, S(secret_key),
     "this agent's CURVE secret key (mode 0600, never shared)"},
    {"agent", "resend_timeout_ms", CCHC_CFG_INT, "30000", 100, 3600000, S(resend_timeout_ms),
     "resend an unanswered report after this long (then backoff)"},
    {"agent", "window", CCHC_CFG_INT, "32", 1, 10000, S(window), "reports in flight at most"},
    {"agent", "window_bytes", CCHC_CFG_INT, "4194304", 1024, 1073741824, S(window_bytes),
     "report bytes in flight at most (one report is always allowed)"},
    {"agent", "hello_interval_ms", CCHC_CFG_INT, "60000", 1000, 3600000, S(hello_interval_ms),
     "Hello (version, queue depth) on connect and then this often"},
    {"agent", "max_outbox_reports", CCHC_CFG_INT, "100000", 1, 100000000, S(max_outbox_reports),
     "reports waiting to be sent at most; submit refuses beyond"},
    {"agent", "max_outbox_bytes", CCHC_CFG_INT, "1073741824", 1024, 1099511627776LL,
     S(max_outbox_bytes), "bytes of reports waiting to be sent at most; submit refuses beyond"},
    {"agent", "on_alert", CCHC_CFG_STRING, "", 0, 0, S(on_alert),
     "shell command run (/bin/sh -c) for each new notification: JSON on stdin, env CCHC_KIND,"
     " CCHC_SEQ; killed after 30 s"},
    {"server", "endpoints", CCHC_CFG_STRING, "", 0, 0, S(server_endpoints),
     "the district's servers, tried in this order (tcp://A:7470, tcp://B:7470); the agent "
     "moves to the next when one stops answering"},
    {"server", "endpoint", CCHC_CFG_STRING, "", 0, 0, S(server_endpoint),
     "one server (the older key; not with endpoints); neither set: " S_DEFAULT_ENDPOINT},
    {"server", "public_key", CCHC_CFG_PATH, "server.pub", 0, 0, S(server_public_key),
     "the district server's CURVE public key"},
    {"server", "max_frame", CCHC_CFG_INT, "1048576", 1024, 67108864, S(max_frame),
     "largest message either way, in bytes"},
    {"server", "heartbeat_ivl_ms", CCHC_CFG_INT, "10000", 100, 600000, S(heartbeat_ivl_ms),
     "ZMTP heartbeat interval"},
    {"server", "heartbeat_timeout_ms", CCHC_CFG_INT, "30000", 300, 600000, S(heartbeat_timeout_ms),
     "drop and redial a connection silent for this long"},
    {"log", "level", CCHC_CFG_LOGLEVEL, "warn", 0, 0, S(log_level), "debug, info, warn or error"},
};

#define S_TABLE_LEN (sizeof s_table / sizeof s_table[0])

/* cfg->servers from [server] endpoint and endpoints; where names the file. */
static int s_resolve_servers(agt_config_t *cfg, const char *where, char *err, size_t errlen)
{
    return cchc_endpoints_from_config(where, "server", cfg->server_endpoint, cfg->server_endpoints,
                                      S_DEFAULT_ENDPOINT, &cfg->servers, err, errlen);
}

int agt_config_load(const char *path, agt_config_t *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    int rc = cchc_config_load(path, s_table, S_TABLE_LEN, cfg, err, errlen);
    if (rc != CCHC_OK)
        return rc;
    if (!cfg->unit || !*cfg->unit) {
        snprintf(err, errlen, "%s: [agent] unit must not be empty", path);
        return CCHC_EINVAL;
    }
    return s_resolve_servers(cfg, path, err, errlen);
}

int agt_config_override(agt_config_t *cfg, const char *assignment, char *err, size_t errlen)
{
    char section[64], name[64];
    const char *dot = strchr(assignment, '.');
    const char *eq = strchr(assignment, '=');
    if (!dot || !eq || dot > eq || (size_t)(dot - assignment) >= sizeof section ||
        (size_t)(eq - dot - 1) >= sizeof name) {
        snprintf(err, errlen, "--set \"%s\": expected SECTION.KEY=VALUE", assignment);
        return CCHC_EINVAL;
    }
    memcpy(section, assignment, (size_t)(dot - assignment));
    section[dot - assignment] = '\0';
    memcpy(name, dot + 1, (size_t)(eq - dot - 1));
    name[eq - dot - 1] = '\0';
    int rc = cchc_config_set(s_table, S_TABLE_LEN, cfg, section, name, eq + 1, err, errlen);
    if (rc == CCHC_OK && (!cfg->unit || !*cfg->unit)) {
        snprintf(err, errlen, "--set: [agent] unit must not be empty");
        return CCHC_EINVAL;
    }
    /* The command line's server (or list) replaces the file's, whichever
     * key either used. */
    if (rc == CCHC_OK && strcmp(section, "server") == 0 &&
        (strcmp(name, "endpoint") == 0 || strcmp(name, "endpoints") == 0)) {
        char **other =
            strcmp(name, "endpoint") == 0 ? &cfg->server_endpoints : &cfg->server_endpoint;
        free(*other);
        *other = NULL;
        rc = s_resolve_servers(cfg, "--set", err, errlen);
    }
    return rc;
}

void agt_config_free(agt_config_t *cfg)
{
    cchc_endpoints_free(&cfg->servers);
    cchc_config_free(s_table, S_TABLE_LEN, cfg);
    memset(cfg, 0, sizeof *cfg);
}

void agt_config_describe(FILE *f)
{
    cchc_config_describe(s_table, S_TABLE_LEN, f);
}

void agt_config_list_keys(FILE *f)
{
    cchc_config_list_keys(s_table, S_TABLE_LEN, f);
}
