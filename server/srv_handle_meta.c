/* srv_handle_meta.c: MetaRequest (an agent asks for its unit's metadata) and
 * MetaChanged (the server tells an agent to ask again).
 *
 * The metadata is one JSON document (cchc_unit_metadata_doc in SQL), the same
 * document validation reads as its context, kept per unit by srv_units and
 * versioned by the hash of its text: an agent that sends the version it
 * holds is told "unchanged". A request is answered from the kept document,
 * or once srv_units has read it. Owns, per request waiting for a read, an
 * s_pending_t (the peer's routing id and what to echo); nothing else. */
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "srv_handle.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    srv_handlers_t *h;
    uint64_t epoch, msg_id, version;
    char unit[64 + 1];
    size_t rid_len;
    uint8_t rid[];
} s_pending_t;

/* Packs an envelope from the server to peer and sends it. 0, CCHC_ETOOBIG
 * (not sent, logged), or what cchc_wire_encode / srv_router_send return. */
static int s_send(srv_handlers_t *h, const srv_peer_t *peer, Cchc__V1__Envelope *env)
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
                 srv_logstr(unit, sizeof unit, peer->principal), (int)env->body_case,
                 cchc_strerror(rc));
        return rc;
    }
    if (len > srv_router_max_frame(h->router)) {
        /* The agent keeps what it has and asks again later; a district's
         * document is a few tens of kilobytes, so this is a configuration
         * error worth an operator's attention. */
        CCHC_LOG(CCHC_LOG_ERROR, "meta_too_big", "unit=%s bytes=%zu max_frame=%zu",
                 srv_logstr(unit, sizeof unit, peer->principal), len,
                 srv_router_max_frame(h->router));
        free(buf);
        return CCHC_ETOOBIG;
    }
    rc = srv_router_send(h->router, peer, buf, len);
    free(buf);
    return rc;
}

/* Answers from the unit's kept document. */
static void s_answer(srv_handlers_t *h, const srv_peer_t *peer, uint64_t epoch, uint64_t msg_id,
                     uint64_t have)
{
    srv_counters_t *c = srv_router_counters(h->router);
    char unit[100];
    size_t len = 0;
    uint64_t version = 0;
    const char *doc = srv_units_doc(h->units, peer->principal, &len, &version);
    if (!doc)
        return; /* changed again meanwhile: the agent hears MetaChanged and asks again */
    Cchc__V1__Meta meta = CCHC__V1__META__INIT;
    meta.version = version;
    meta.unchanged = version == have;
    meta.document = meta.unchanged ? "" : (char *)doc;
    Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
    env.agent_epoch = epoch;
    env.msg_id = msg_id;
    env.body_case = CCHC__V1__ENVELOPE__BODY_META;
    env.meta = &meta;
    if (s_send(h, peer, &env) == 0) {
        if (meta.unchanged)
            c->meta_unchanged++;
        else
            c->meta_sent++;
        CCHC_LOG(CCHC_LOG_DEBUG, "meta_sent",
                 "unit=%s version=%016" PRIx64 " unchanged=%d bytes=%zu",
                 srv_logstr(unit, sizeof unit, peer->principal), version, (int)meta.unchanged,
                 meta.unchanged ? 0 : len);
    }
}

static void s_on_doc(void *arg, const char *unit, int ok)
{
    s_pending_t *p = arg;
    if (ok) {
        srv_peer_t peer = {.rid = p->rid, .rid_len = p->rid_len, .principal = p->unit};
        s_answer(p->h, &peer, p->epoch, p->msg_id, p->version);
    } else {
        /* No answer: the agent asks again on its next sync. */
        CCHC_LOG(CCHC_LOG_DEBUG, "meta_skipped", "unit=%s reason=db_lost", unit);
    }
    free(p);
}

void srv_handle_meta_request(srv_handlers_t *h, const srv_peer_t *peer,
                             const cchc_envelope_t *env)
{
    char unit[100], claimed[100];
    srv_router_counters(h->router)->meta_requests++;
    srv_logstr(unit, sizeof unit, peer->principal);
    /* The key decides whose metadata is sent; as in a Hello, an empty unit
     * is tolerated and another unit's code is not. No answer is defined for
     * a refusal: the agent's sync simply does not complete. */
    if (!peer->principal[0] || (env->unit && env->unit[0] && strcmp(env->unit, peer->principal))) {
        CCHC_LOG(CCHC_LOG_WARN, "unit_mismatch", "kind=meta_request unit=%s claimed=%s", unit,
                 srv_logstr(claimed, sizeof claimed, env->unit));
        srv_refusals_record(h->refusals, SRV_REFUSAL_UNIT_MISMATCH, peer->principal, peer->key_id,
                            env->unit, "meta_request");
        return;
    }
    if (strlen(peer->principal) > 64)
        return; /* no unit code is that long: CHECK of units.code */
    uint64_t have = env->meta_request ? env->meta_request->version : 0;
    size_t len;
    uint64_t version;
    if (srv_units_doc(h->units, peer->principal, &len, &version)) {
        s_answer(h, peer, env->agent_epoch, env->msg_id, have);
        return;
    }
    s_pending_t *p = cchc_calloc(1, sizeof *p + peer->rid_len);
    p->h = h;
    p->epoch = env->agent_epoch;
    p->msg_id = env->msg_id;
    p->version = have;
    snprintf(p->unit, sizeof p->unit, "%s", peer->principal);
    p->rid_len = peer->rid_len;
    memcpy(p->rid, peer->rid, peer->rid_len);
    srv_units_want(h->units, peer->principal, s_on_doc, p);
}

void srv_handle_meta_changed(srv_handlers_t *h, const char *unit)
{
    const uint8_t *rid;
    size_t rid_len;
    if (srv_peers_of_unit(h->peers, unit, &rid, &rid_len) != 0)
        return;
    /* Copies: a failed send may take the peer out of the table. */
    uint8_t rid_copy[256];
    char unit_copy[64 + 1];
    if (rid_len > sizeof rid_copy || strlen(unit) >= sizeof unit_copy)
        return;
    memcpy(rid_copy, rid, rid_len);
    memcpy(unit_copy, unit, strlen(unit) + 1);
    srv_peer_t peer = {.rid = rid_copy, .rid_len = rid_len, .principal = unit_copy};
    Cchc__V1__MetaChanged changed = CCHC__V1__META_CHANGED__INIT;
    Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
    env.body_case = CCHC__V1__ENVELOPE__BODY_META_CHANGED;
    env.meta_changed = &changed;
    if (s_send(h, &peer, &env) == 0)
        srv_router_counters(h->router)->meta_changed++;
}
