/* srv_config.c: the declarative table of server.ini (see srv_config.h).
 *
 * Owns nothing at run time: the table is constant and the strings it loads
 * belong to the caller's srv_config_t until srv_config_free. */
#include "srv_config.h"

#include <string.h>

#define S_ENTRY(sec, key, type, def, lo, hi, member, help)                                         \
    {                                                                                              \
        (sec), (key), (type), (def), (lo), (hi), offsetof(srv_config_t, member), (help)            \
    }

const cchc_cfg_entry_t srv_config_table[] = {
    S_ENTRY("server", "endpoint", CCHC_CFG_STRING, "tcp://*:7470", 0, 0, endpoint,
            "ZeroMQ endpoint the ROUTER binds"),
    S_ENTRY("server", "public_key", CCHC_CFG_PATH, NULL, 0, 0, public_key,
            "server CURVE public key file (Z85), given to agents"),
    S_ENTRY("server", "secret_key", CCHC_CFG_PATH, NULL, 0, 0, secret_key,
            "server CURVE secret key file (Z85, mode 0600)"),
    S_ENTRY("server", "max_frame", CCHC_CFG_INT, "1048576", 1024, 67108864, max_frame,
            "largest accepted frame in bytes; larger ones are refused, far larger drop the peer"),
    S_ENTRY("server", "shutdown_grace_ms", CCHC_CFG_INT, "10000", 0, 3600000, shutdown_grace_ms,
            "on SIGTERM, how long queued reports may take to be stored and acked"),
    S_ENTRY("server", "batch_max_rows", CCHC_CFG_INT, "200", 1, 5000, batch_max_rows,
            "reports stored in one transaction (group commit) at most"),
    S_ENTRY("server", "batch_max_delay_ms", CCHC_CFG_INT, "5", 0, 1000, batch_max_delay_ms,
            "under load, longest a report waits for others to fill its batch (none after a "
            "batch of under an eighth of batch_max_rows)"),
    S_ENTRY("server", "max_pending", CCHC_CFG_INT, "10000", 10, 1000000, max_pending,
            "reports received and not yet answered, all agents; more are answered busy"),
    S_ENTRY("server", "peer_max_inflight", CCHC_CFG_INT, "1000", 1, 100000, peer_max_inflight,
            "reports received and not yet answered from one connection; more are answered busy"),
    S_ENTRY("server", "subscriber_max_pending", CCHC_CFG_INT, "1000", 1000, 1000000,
            sub_max_pending,
            "notifications pushed to a subscriber and not yet acked; past it, it catches up "
            "from the table as it acks"),
    S_ENTRY("server", "io_threads", CCHC_CFG_INT, "1", 1, 16, io_threads,
            "libzmq I/O threads (CURVE and framing): one handles about ten thousand quiet "
            "agents; more for a storm of connections on a machine with cores to spare"),
    S_ENTRY("server", "heartbeat_ivl_ms", CCHC_CFG_INT, "10000", 100, 600000, heartbeat_ivl_ms,
            "TCP keepalive probe interval towards agents"),
    S_ENTRY("server", "heartbeat_timeout_ms", CCHC_CFG_INT, "30000", 300, 600000,
            heartbeat_timeout_ms,
            "silence before the first TCP keepalive probe (3 unanswered: closed)"),
    S_ENTRY("database", "conninfo", CCHC_CFG_STRING, "", 0, 0, conninfo,
            "libpq connection string; empty uses the PG* environment variables; a primary and "
            "its standby as host=a,b port=p1,p2 target_session_attrs=read-write: a promotion is "
            "followed (docs/replication.md)"),
    S_ENTRY("database", "store_connections", CCHC_CFG_INT, "2", 1, SRV_STORE_CONNECTIONS_MAX,
            store_connections,
            "connections that store reports, each a batch at a time (a unit's unanswered "
            "reports on the same one; all on the first at light load); about one per core "
            "PostgreSQL may use"),
    S_ENTRY("database", "query_timeout_ms", CCHC_CFG_INT, "60000", 0, 3600000, query_timeout_ms,
            "a statement unanswered this long means a hung connection: cancel, reconnect, "
            "resend (0: wait forever)"),
    S_ENTRY("scheduler", "enabled", CCHC_CFG_BOOL, "true", 0, 0, sched_enabled,
            "run the deadline scheduler (expectations and reminders) in this server"),
    S_ENTRY("scheduler", "tick_interval_ms", CCHC_CFG_INT, "60000", 100, 3600000, tick_interval_ms,
            "how often the scheduler looks for what came due"),
    S_ENTRY("scheduler", "start_date", CCHC_CFG_STRING, "2024-01-01", 0, 0, start_date,
            "expectations are made only for due dates on or after this day (YYYY-MM-DD)"),
    S_ENTRY("scheduler", "approaching_at", CCHC_CFG_STRING, "08:00", 0, 0, approaching_at,
            "local time (HH:MM) of deadline.approaching reminders"),
    S_ENTRY("scheduler", "today_at", CCHC_CFG_STRING, "07:30", 0, 0, today_at,
            "local time (HH:MM) of deadline.today reminders"),
    S_ENTRY("scheduler", "overdue_at", CCHC_CFG_STRING, "08:00", 0, 0, overdue_at,
            "local time (HH:MM) of overdue notices, digests and escalations"),
    S_ENTRY("scheduler", "overdue_repeat_wd", CCHC_CFG_INT, "5", 1, 365, overdue_repeat_wd,
            "an overdue notice is repeated every this many working days"),
    S_ENTRY("scheduler", "escalate_after_wd", CCHC_CFG_INT, "3", 1, 365, escalate_after_wd,
            "working days overdue before leadership is told"),
    S_ENTRY("scheduler", "silent_hours", CCHC_CFG_INT, "48", 1, 8760, silent_hours,
            "an agent not heard from this long raises agent.silent"),
    S_ENTRY("scheduler", "max_clock_skew_ms", CCHC_CFG_INT, "300000", 0, 86400000,
            max_clock_skew_ms,
            "a sealed time is trusted when the agent's clock is this close to the server's"),
    S_ENTRY("units", "closed_key_grace_days", CCHC_CFG_INT, "30", 0, 3650, closed_grace_days,
            "a closed unit's keys keep working this many days after its valid_to (its agent "
            "flushes its queue), then are refused"),
    S_ENTRY("metrics", "listen", CCHC_CFG_STRING, "", 0, 0, metrics_listen,
            "HOST:PORT that serves /metrics to Prometheus (e.g. 127.0.0.1:9470); empty: off"),
    S_ENTRY("log", "level", CCHC_CFG_LOGLEVEL, "info", 0, 0, log_level,
            "debug, info, warn or error"),
};

const size_t srv_config_table_len = sizeof srv_config_table / sizeof srv_config_table[0];

int srv_config_load(srv_config_t *cfg, const char *path, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    return cchc_config_load(path, srv_config_table, srv_config_table_len, cfg, err, errlen);
}

void srv_config_free(srv_config_t *cfg)
{
    cchc_config_free(srv_config_table, srv_config_table_len, cfg);
    memset(cfg, 0, sizeof *cfg);
}

void srv_config_describe(FILE *f)
{
    cchc_config_describe(srv_config_table, srv_config_table_len, f);
}
