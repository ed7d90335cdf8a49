/* srv_handle_hello.c: Hello, sent by an agent on every (re)connect and as a
 * heartbeat (every 60 s), and the contact bookkeeping of every message.
 *
 * A Hello upserts the unit's row of unit_contacts: last_seen, the agent's
 * version, how many reports it still has to send, the last notification
 * sequence it holds, and its clock's skew from ours (Envelope.sent_at_ms
 * minus cchc_clock_now_ms; NULL when it sent no time). A Report writes the
 * skew too, in its own transaction (cchc_store_report, 007). Any other
 * message only moves last_seen, at most once per SRV_CONTACT_EVERY_MS per
 * unit, to keep the write rate low whatever the traffic. Both writes are fire and forget, a segment
 * of their own on the server's connection: a missed one is harmless, the next message writes it.
 * Owns nothing past the call; the map of last writes is the server's. No reply, but Hello.last_seq
 * starts the replay of the unit's notifications after it (srv_notify_hello). */
#include "cchc_clock.h"
#include "cchc_log.h"
#include "srv_handle.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* $5: the agent's clock minus ours (ms), NULL when the Hello carried none;
 * $6: our clock (ms, injectable like every instant the server writes): the
 * contact and the skew's measure. */
#define S_HELLO_SQL                                                                                \
    "INSERT INTO unit_contacts AS c (unit_code, last_seen, agent_version, queue_depth, last_seq, " \
    "clock_skew_ms, clock_checked_at) VALUES ($1, to_timestamp($6::bigint / 1000.0), $2, "         \
    "$3::bigint, $4::bigint, $5::bigint, to_timestamp($6::bigint / 1000.0)) ON CONFLICT "          \
    "(unit_code) DO UPDATE SET last_seen = EXCLUDED.last_seen, "                                   \
    "agent_version = EXCLUDED.agent_version, queue_depth = EXCLUDED.queue_depth, last_seq = "      \
    "EXCLUDED.last_seq, clock_skew_ms = EXCLUDED.clock_skew_ms, clock_checked_at = "               \
    "EXCLUDED.clock_checked_at"
/* Instants beyond this (year 9999) are no clock reading: no skew from them. */
#define S_MAX_INSTANT_MS 253402300799999LL
/* $2: our clock (ms), like every other instant the server writes. */
#define S_TOUCH_SQL                                                                                \
    "INSERT INTO unit_contacts AS c (unit_code, last_seen) VALUES ($1, "                           \
    "to_timestamp($2::bigint / 1000.0)) ON CONFLICT (unit_code) DO UPDATE SET last_seen = "        \
    "EXCLUDED.last_seen"

static void s_on_written(srv_db_t *db, int rc, const PGresult *res, void *arg)
{
    (void)db;
    (void)arg;
    if (rc != 0 || PQresultStatus(res) == PGRES_COMMAND_OK)
        return;
    char msg[300];
    CCHC_LOG(CCHC_LOG_WARN, "contact_failed", "err=%s",
             srv_logstr(msg, sizeof msg, PQresultErrorMessage(res)));
}

/* Queues one contact write unless other database work is backed up
 * (reports come first). 0 when queued. */
static int s_write(srv_handlers_t *h, const char *sql, int n, const char *const *params)
{
    if (srv_db_pending(h->db) >= h->max_pending)
        return -1;
    return srv_db_submit(h->db, sql, n, params, NULL, NULL, s_on_written, NULL);
}

void srv_handle_contact(srv_handlers_t *h, const char *unit, int64_t now_ms)
{
    srv_map_t *seen = h->contacts;
    int64_t last = srv_map_get(seen, unit, strlen(unit), INT64_MIN);
    if (last != INT64_MIN && now_ms - last < SRV_CONTACT_EVERY_MS)
        return;
    char now_s[24];
    snprintf(now_s, sizeof now_s, "%" PRId64, cchc_clock_now_ms());
    const char *params[2] = {unit, now_s};
    if (s_write(h, S_TOUCH_SQL, 2, params) == 0)
        srv_map_set(seen, unit, strlen(unit), now_ms);
}

void srv_handle_hello(srv_handlers_t *h, const srv_peer_t *peer, const cchc_envelope_t *env)
{
    const Cchc__V1__Hello *hello = env->hello;
    char unit[100], version[100], claimed[100];
    srv_router_counters(h->router)->hellos++;
    srv_logstr(unit, sizeof unit, peer->principal);
    srv_logstr(version, sizeof version, hello && hello->agent_version ? hello->agent_version : "");
    /* An empty unit in a Hello is tolerated; another unit's code is not. */
    if (!peer->principal[0] || (env->unit && env->unit[0] && strcmp(env->unit, peer->principal))) {
        CCHC_LOG(CCHC_LOG_WARN, "unit_mismatch", "kind=hello unit=%s claimed=%s", unit,
                 srv_logstr(claimed, sizeof claimed, env->unit));
        srv_refusals_record(h->refusals, SRV_REFUSAL_UNIT_MISMATCH, peer->principal,
                            peer->key_id, env->unit, "hello");
        return;
    }
    uint64_t depth = hello ? hello->queue_depth : 0, last_seq = hello ? hello->last_seq : 0;
    srv_peers_set_queued(h->peers, peer->rid, peer->rid_len, depth);
    CCHC_LOG(CCHC_LOG_INFO, "hello", "unit=%s version=%s queue_depth=%" PRIu64, unit, version,
             depth);
    /* bigint columns: clamp what a uint64 could hold beyond them. */
    char depth_s[24], seq_s[24];
    snprintf(depth_s, sizeof depth_s, "%" PRIu64, depth > INT64_MAX ? (uint64_t)INT64_MAX : depth);
    snprintf(seq_s, sizeof seq_s, "%" PRIu64,
             last_seq > INT64_MAX ? (uint64_t)INT64_MAX : last_seq);
    const char *agent_version = hello && hello->agent_version ? hello->agent_version : "";
    /* The agent's clock against ours, kept for the sealed-time basis. */
    char skew_s[24], now_s[24];
    int64_t now_ms = cchc_clock_now_ms();
    int has_skew = env->sent_at_ms > 0 && env->sent_at_ms <= S_MAX_INSTANT_MS && now_ms > 0 &&
                   now_ms <= S_MAX_INSTANT_MS;
    snprintf(skew_s, sizeof skew_s, "%" PRId64, has_skew ? env->sent_at_ms - now_ms : 0);
    snprintf(now_s, sizeof now_s, "%" PRId64, now_ms);
    const char *params[6] = {peer->principal,          agent_version, depth_s, seq_s,
                             has_skew ? skew_s : NULL, now_s};
    if (s_write(h, S_HELLO_SQL, 6, params) != 0)
        CCHC_LOG(CCHC_LOG_DEBUG, "contact_skipped", "unit=%s reason=db_busy_or_down", unit);
    /* Send it what it has missed, then keep it live (srv_notify). */
    srv_notify_hello(h->notify, peer->rid, peer->rid_len, peer->principal, last_seq);
}
