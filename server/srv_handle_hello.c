/* srv_handle_hello.c: Hello, sent by an agent on every (re)connect and as a
 * heartbeat.
 *
 * Logs who is there and how much it still has to send, and records
 * units.last_seen. Owns nothing past the call: the UPDATE is fire and forget
 * (a missed last_seen is harmless; the next Hello writes it). No reply. */
#include "cchc_log.h"
#include "srv_server.h"

#include <string.h>

#define S_LAST_SEEN_SQL "UPDATE units SET last_seen = now() WHERE code = $1"

static void s_on_last_seen(srv_db_t *db, int rc, const PGresult *res, void *arg)
{
    if (rc != 0 || PQresultStatus(res) == PGRES_COMMAND_OK)
        return;
    char msg[300];
    CCHC_LOG(CCHC_LOG_WARN, "last_seen_failed", "err=%s",
             srv_server_logstr(msg, sizeof msg, PQresultErrorMessage(res)));
}

void srv_handle_hello(srv_server_t *self, const srv_peer_t *peer, const cchc_envelope_t *env)
{
    const Cchc__V1__Hello *h = env->hello;
    char unit[100], version[100], claimed[100];
    srv_server_counters(self)->hellos++;
    srv_server_logstr(unit, sizeof unit, peer->principal);
    srv_server_logstr(version, sizeof version, h && h->agent_version ? h->agent_version : "");
    /* An empty unit in a Hello is tolerated; another unit's code is not. */
    if (!peer->principal[0] || (env->unit && env->unit[0] && strcmp(env->unit, peer->principal))) {
        CCHC_LOG(CCHC_LOG_WARN, "unit_mismatch", "kind=hello unit=%s claimed=%s", unit,
                 srv_server_logstr(claimed, sizeof claimed, env->unit));
        return;
    }
    CCHC_LOG(CCHC_LOG_INFO, "hello", "unit=%s version=%s queue_depth=%llu", unit, version,
             (unsigned long long)(h ? h->queue_depth : 0));
    srv_db_t *db = srv_server_db(self);
    if (srv_db_pending(db) >= SRV_SERVER_MAX_PENDING)
        return; /* reports first; last_seen can wait for the next Hello */
    const char *params[1] = {peer->principal};
    if (srv_db_submit(db, S_LAST_SEEN_SQL, 1, params, NULL, NULL, s_on_last_seen, NULL) != 0)
        CCHC_LOG(CCHC_LOG_DEBUG, "last_seen_skipped", "unit=%s reason=db_down", unit);
}
