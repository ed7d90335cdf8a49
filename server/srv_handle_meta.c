/* srv_handle_meta.c: MetaRequest (an agent asks for its unit's metadata) and
 * MetaChanged (the server tells agents to ask again).
 *
 * The metadata is one JSON document made by the database
 * (cchc_unit_metadata in sql/003_functions.sql), the same document
 * validation reads as its context. Its version is the 64-bit FNV-1a hash of
 * its text, so the server keeps no state per agent: an agent that sends the
 * version it holds is told "unchanged". Owns, per request in flight, an
 * s_pending_t (the peer's routing id and what to echo); nothing else. */
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "srv_server.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define S_META_SQL "SELECT cchc_unit_metadata($1)::text"

typedef struct {
    srv_server_t *server;
    char *unit;
    uint64_t epoch, msg_id, version;
    size_t rid_len;
    uint8_t rid[];
} s_pending_t;

/* FNV-1a, 64 bits: stable across builds and machines, which a version an
 * agent keeps across upgrades needs. 0 means "I have nothing", so it is
 * never a version. */
static uint64_t s_version(const char *text, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)text[i];
        h *= 0x100000001b3ULL;
    }
    return h ? h : 1;
}

/* Packs an envelope from the server to unit and sends it. 0, CCHC_ETOOBIG
 * (not sent, logged), or what cchc_wire_encode / srv_server_send return. */
static int s_send(srv_server_t *self, const srv_peer_t *peer, Cchc__V1__Envelope *env)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char unit[100];
    env->protocol_version = CCHC_WIRE_PROTOCOL_VERSION;
    env->unit = (char *)peer->principal;
    env->sent_at_ms = cchc_clock_now_ms();
    int rc = cchc_wire_encode(env, &buf, &len);
    if (rc != 0) {
        CCHC_LOG(CCHC_LOG_ERROR, "meta_pack", "unit=%s body=%d err=%s",
                 srv_server_logstr(unit, sizeof unit, peer->principal), (int)env->body_case,
                 cchc_strerror(rc));
        return rc;
    }
    if (len > srv_server_max_frame(self)) {
        /* The agent keeps what it has and asks again later; a district's
         * document is a few tens of kilobytes, so this is a configuration
         * error worth an operator's attention. */
        CCHC_LOG(CCHC_LOG_ERROR, "meta_too_big", "unit=%s bytes=%zu max_frame=%zu",
                 srv_server_logstr(unit, sizeof unit, peer->principal), len,
                 srv_server_max_frame(self));
        free(buf);
        return CCHC_ETOOBIG;
    }
    rc = srv_server_send(self, peer, buf, len);
    free(buf);
    return rc;
}

static void s_on_meta(srv_db_t *db, int rc, const PGresult *res, void *arg)
{
    s_pending_t *p = arg;
    srv_server_t *self = p->server;
    srv_counters_t *c = srv_server_counters(self);
    srv_peer_t peer = {.rid = p->rid, .rid_len = p->rid_len, .principal = p->unit};
    char unit[100], msg[300];
    srv_server_logstr(unit, sizeof unit, p->unit);
    if (rc != 0) {
        /* No answer: the agent asks again on its next sync. */
        CCHC_LOG(CCHC_LOG_DEBUG, "meta_skipped", "unit=%s reason=db_lost", unit);
        goto out;
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        CCHC_LOG(CCHC_LOG_ERROR, "meta_query", "unit=%s err=%s", unit,
                 srv_server_logstr(msg, sizeof msg,
                                   PQresultStatus(res) == PGRES_TUPLES_OK
                                       ? "cchc_unit_metadata returned no document"
                                       : PQresultErrorMessage(res)));
        goto out;
    }
    const char *doc = PQgetvalue(res, 0, 0);
    Cchc__V1__Meta meta = CCHC__V1__META__INIT;
    meta.version = s_version(doc, (size_t)PQgetlength(res, 0, 0));
    meta.unchanged = meta.version == p->version;
    meta.document = meta.unchanged ? "" : (char *)doc;
    Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
    env.agent_epoch = p->epoch;
    env.msg_id = p->msg_id;
    env.body_case = CCHC__V1__ENVELOPE__BODY_META;
    env.meta = &meta;
    if (s_send(self, &peer, &env) == 0) {
        if (meta.unchanged)
            c->meta_unchanged++;
        else
            c->meta_sent++;
        CCHC_LOG(CCHC_LOG_INFO, "meta_sent", "unit=%s version=%016" PRIx64 " unchanged=%d bytes=%d",
                 unit, meta.version, (int)meta.unchanged,
                 meta.unchanged ? 0 : PQgetlength(res, 0, 0));
    }
out:
    free(p->unit);
    free(p);
}

void srv_handle_meta_request(srv_server_t *self, const srv_peer_t *peer, const cchc_envelope_t *env)
{
    char unit[100], claimed[100];
    srv_server_counters(self)->meta_requests++;
    srv_server_logstr(unit, sizeof unit, peer->principal);
    /* The key decides whose metadata is sent; as in a Hello, an empty unit
     * is tolerated and another unit's code is not. No answer is defined for
     * a refusal: the agent's sync simply does not complete. */
    if (!peer->principal[0] || (env->unit && env->unit[0] && strcmp(env->unit, peer->principal))) {
        CCHC_LOG(CCHC_LOG_WARN, "unit_mismatch", "kind=meta_request unit=%s claimed=%s", unit,
                 srv_server_logstr(claimed, sizeof claimed, env->unit));
        srv_refusals_record(srv_server_refusals(self), SRV_REFUSAL_UNIT_MISMATCH, peer->principal,
                            peer->key_id, env->unit, "meta_request");
        return;
    }
    srv_db_t *db = srv_server_db(self);
    if (!srv_db_ready(db) || srv_db_pending(db) >= srv_server_max_pending(self)) {
        CCHC_LOG(CCHC_LOG_DEBUG, "meta_skipped", "unit=%s reason=%s", unit,
                 srv_db_ready(db) ? "queue_full" : "db_down");
        return;
    }
    s_pending_t *p = cchc_malloc(sizeof *p + peer->rid_len);
    p->server = self;
    p->unit = cchc_strdup(peer->principal);
    p->epoch = env->agent_epoch;
    p->msg_id = env->msg_id;
    p->version = env->meta_request ? env->meta_request->version : 0;
    p->rid_len = peer->rid_len;
    memcpy(p->rid, peer->rid, peer->rid_len);
    const char *params[1] = {peer->principal};
    if (srv_db_submit(db, S_META_SQL, 1, params, NULL, NULL, s_on_meta, p) != 0) {
        free(p->unit);
        free(p);
    }
}

void srv_handle_meta_broadcast(srv_server_t *self)
{
    srv_peers_t *peers = srv_server_peers(self);
    size_t sent = 0, peers_before = srv_peers_count(peers);
    /* A failed send may remove its peer (srv_server_send), which moves the
     * last entry into its place: walk from the end so none is skipped. */
    for (size_t i = srv_peers_count(peers); i-- > 0;) {
        if (i >= srv_peers_count(peers))
            continue;
        const uint8_t *rid;
        size_t rid_len;
        const char *unit;
        srv_peers_get(peers, i, &rid, &rid_len, &unit);
        /* Copies: the entry may go while we send. */
        uint8_t rid_copy[256];
        char unit_copy[64 + 1];
        if (rid_len > sizeof rid_copy || strlen(unit) >= sizeof unit_copy)
            continue; /* a routing id is at most 255 bytes; a unit code 63 */
        memcpy(rid_copy, rid, rid_len);
        memcpy(unit_copy, unit, strlen(unit) + 1);
        srv_peer_t peer = {.rid = rid_copy, .rid_len = rid_len, .principal = unit_copy};
        Cchc__V1__MetaChanged changed = CCHC__V1__META_CHANGED__INIT;
        Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
        env.body_case = CCHC__V1__ENVELOPE__BODY_META_CHANGED;
        env.meta_changed = &changed;
        if (s_send(self, &peer, &env) == 0)
            sent++;
    }
    srv_server_counters(self)->meta_changed += sent;
    CCHC_LOG(CCHC_LOG_INFO, "meta_changed", "peers=%zu sent=%zu", peers_before, sent);
}
