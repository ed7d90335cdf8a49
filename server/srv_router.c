/* srv_router.c: the ROUTER and what is sent on it (see srv_router.h).
 *
 * Sends never block (ZMQ_DONTWAIT with ROUTER_MANDATORY): a peer gone is
 * EHOSTUNREACH, a full queue EAGAIN; both are counted and logged, and the
 * sender's own protocol (the agent's resend, the subscriber's Replay)
 * recovers what was not sent. */
#include "srv_router.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "srv_zap.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* Frames up to this much over max_frame still reach us, to be answered and
 * counted; libzmq drops a connection that sends a larger one. */
#define S_OVERSIZE_SLACK 65536

struct srv_router {
    void *sock;
    size_t max_frame;
    srv_counters_t counters;
    void (*on_gone)(void *arg, const uint8_t *rid, size_t len);
    void *gone_arg;
};

const char *srv_logstr(char *buf, size_t len, const char *s)
{
    assert(len >= 8);
    s = s ? s : "";
    int plain = *s != '\0';
    for (const char *p = s; *p && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                strchr("._:/@+-,*", *p) != NULL;
    if (plain && strlen(s) < len) {
        memcpy(buf, s, strlen(s) + 1);
        return buf;
    }
    size_t o = 0;
    buf[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (o + 9 > len) { /* room for \xNN, "...", the quote and NUL */
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (*p == '"' || *p == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", *p);
        } else {
            buf[o++] = (char)*p;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

srv_router_t *srv_router_new(void *zmq_ctx, const srv_config_t *cfg, const char *secret_z85,
                             char *err, size_t errlen)
{
    srv_router_t *self = cchc_calloc(1, sizeof *self);
    self->max_frame = (size_t)cfg->max_frame;
    int one = 1, backlog = 4096, linger = 2000;
    /* A dead peer (its host gone, its link cut) is found by TCP keepalive:
     * the first probe after heartbeat_timeout_ms of silence, then one every
     * heartbeat_ivl_ms, three unanswered and the connection is closed. Not by
     * ZMTP heartbeats: libzmq keeps every connection's heartbeat timers in one
     * ordered map per I/O thread, and cancels one (at every PONG, and every
     * message after a PING) by walking the map from its start. With 10,000
     * agents that walk was 75 % of the I/O thread (perf: _Rb_tree_increment),
     * the thread saturated by heartbeats alone, and new connections waited
     * minutes for their handshake. Keepalive lives in the kernel and costs
     * the I/O thread nothing. The agents keep their ZMTP heartbeats (one
     * connection each): that is how an agent finds a frozen server. */
    int ka_idle = (int)((cfg->heartbeat_timeout_ms + 999) / 1000);
    int ka_intvl = (int)((cfg->heartbeat_ivl_ms + 999) / 1000), ka_cnt = 3;
    /* Per peer: room for an answer to every report it may have in flight,
     * and more, so that answers are never dropped by the queue. */
    int sndhwm = 2 * (int)cfg->peer_max_inflight + 1000;
    int64_t maxmsg = (int64_t)self->max_frame + S_OVERSIZE_SLACK;
    self->sock = zmq_socket(zmq_ctx, ZMQ_ROUTER);
    if (!self->sock) {
        snprintf(err, errlen, "could not create ROUTER socket: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    /* The Z85 key as text, NUL included: libzmq decodes a 41-byte value. */
    struct {
        int opt;
        const void *val;
        size_t len;
        const char *name;
    } opts[] = {
        {ZMQ_CURVE_SERVER, &one, sizeof one, "ZMQ_CURVE_SERVER"},
        {ZMQ_CURVE_SECRETKEY, secret_z85, strlen(secret_z85) + 1, "ZMQ_CURVE_SECRETKEY"},
        {ZMQ_ZAP_DOMAIN, SRV_ZAP_DOMAIN, strlen(SRV_ZAP_DOMAIN), "ZMQ_ZAP_DOMAIN"},
        {ZMQ_ROUTER_MANDATORY, &one, sizeof one, "ZMQ_ROUTER_MANDATORY"},
        {ZMQ_SNDHWM, &sndhwm, sizeof sndhwm, "ZMQ_SNDHWM"},
        {ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg, "ZMQ_MAXMSGSIZE"},
        {ZMQ_BACKLOG, &backlog, sizeof backlog, "ZMQ_BACKLOG"},
        {ZMQ_LINGER, &linger, sizeof linger, "ZMQ_LINGER"},
        {ZMQ_TCP_KEEPALIVE, &one, sizeof one, "ZMQ_TCP_KEEPALIVE"},
        {ZMQ_TCP_KEEPALIVE_IDLE, &ka_idle, sizeof ka_idle, "ZMQ_TCP_KEEPALIVE_IDLE"},
        {ZMQ_TCP_KEEPALIVE_INTVL, &ka_intvl, sizeof ka_intvl, "ZMQ_TCP_KEEPALIVE_INTVL"},
        {ZMQ_TCP_KEEPALIVE_CNT, &ka_cnt, sizeof ka_cnt, "ZMQ_TCP_KEEPALIVE_CNT"},
    };
    srv_zap_enforce_domain(self->sock);
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        if (zmq_setsockopt(self->sock, opts[i].opt, opts[i].val, opts[i].len) != 0) {
            snprintf(err, errlen, "could not set %s: %s", opts[i].name, zmq_strerror(zmq_errno()));
            goto fail;
        }
    }
    if (zmq_bind(self->sock, cfg->endpoint) != 0) {
        snprintf(err, errlen, "could not bind %s: %s", cfg->endpoint, zmq_strerror(zmq_errno()));
        goto fail;
    }
    return self;
fail:
    srv_router_destroy(&self);
    return NULL;
}

void srv_router_destroy(srv_router_t **self_p)
{
    srv_router_t *self = *self_p;
    if (!self)
        return;
    if (self->sock)
        zmq_close(self->sock);
    free(self);
    *self_p = NULL;
}

void *srv_router_socket(srv_router_t *self)
{
    return self->sock;
}

srv_counters_t *srv_router_counters(srv_router_t *self)
{
    return &self->counters;
}

size_t srv_router_max_frame(const srv_router_t *self)
{
    return self->max_frame;
}

void srv_router_on_gone(srv_router_t *self, void (*fn)(void *arg, const uint8_t *rid, size_t len),
                        void *arg)
{
    self->on_gone = fn;
    self->gone_arg = arg;
}

int srv_router_send(srv_router_t *self, const srv_peer_t *peer, const uint8_t *buf, size_t len)
{
    if (zmq_send(self->sock, peer->rid, peer->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0 &&
        zmq_send(self->sock, buf, len, ZMQ_DONTWAIT) >= 0)
        return CCHC_OK;
    int err = zmq_errno();
    char unit[100];
    self->counters.send_failed++;
    CCHC_LOG(CCHC_LOG_WARN, "send_failed", "unit=%s err=\"%s\"",
             srv_logstr(unit, sizeof unit, peer->principal), zmq_strerror(err));
    /* The connection is gone (ROUTER_MANDATORY says so); a reconnect comes
     * with a new routing id and is recorded by its first message. */
    if (err == EHOSTUNREACH && self->on_gone)
        self->on_gone(self->gone_arg, peer->rid, peer->rid_len);
    return CCHC_EAGAIN;
}

void srv_router_ack(srv_router_t *self, const srv_peer_t *peer, uint64_t epoch, uint64_t msg_id,
                    int64_t report_id, int duplicate, const cchc_findings_t *warnings)
{
    cchc_findings_t none = CCHC_FINDINGS_INIT;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cchc_wire_pack_ack(peer->principal, epoch, msg_id, report_id, duplicate,
                           warnings ? warnings : &none, &buf, &len) != 0) {
        CCHC_LOG(CCHC_LOG_ERROR, "pack_ack", "msg_id=%llu", (unsigned long long)msg_id);
        return;
    }
    if (srv_router_send(self, peer, buf, len) == 0)
        self->counters.acked++;
    free(buf);
}

/* Counts a refusal under each error code it carries, once per code (a
 * report with three E017 findings is one E017 refusal). */
static void s_count_codes(srv_counters_t *c, const cchc_findings_t *f)
{
    unsigned char seen[SRV_REFUSED_CODES + 1] = {0};
    for (size_t i = 0; f && i < f->n; i++) {
        const char *code = f->v[i].code;
        if (code[0] != 'E')
            continue;
        size_t k = SRV_REFUSED_CODES;
        if (strlen(code) == 4 && code[1] == '0' && code[2] >= '0' && code[2] <= '9' &&
            code[3] >= '0' && code[3] <= '9')
            k = (size_t)((code[2] - '0') * 10 + (code[3] - '0'));
        if (!seen[k]++)
            c->refused_code[k]++;
    }
}

void srv_router_nack(srv_router_t *self, const srv_peer_t *peer, uint64_t epoch, uint64_t msg_id,
                     Cchc__V1__NackReason reason, const char *detail,
                     const cchc_findings_t *findings)
{
    srv_counters_t *c = &self->counters;
    unsigned long long *count[] = {
        [CCHC__V1__NACK_REASON__NACK_UNIT_MISMATCH] = &c->nack_unit_mismatch,
        [CCHC__V1__NACK_REASON__NACK_INVALID] = &c->nack_invalid,
        [CCHC__V1__NACK_REASON__NACK_UNSUPPORTED] = &c->nack_unsupported,
        [CCHC__V1__NACK_REASON__NACK_MALFORMED] = &c->nack_malformed,
        [CCHC__V1__NACK_REASON__NACK_BUSY] = &c->nack_busy,
        [CCHC__V1__NACK_REASON__NACK_KEY_REVOKED] = &c->nack_key_revoked,
    };
    if ((size_t)reason < sizeof count / sizeof count[0] && count[reason])
        (*count[reason])++;
    if (reason == CCHC__V1__NACK_REASON__NACK_INVALID)
        s_count_codes(c, findings);
    cchc_findings_t none = CCHC_FINDINGS_INIT;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = cchc_wire_pack_nack(peer->principal, epoch, msg_id, reason, detail ? detail : "",
                                 findings ? findings : &none, &buf, &len);
    if (rc != 0) {
        /* The detail may quote the peer's bytes; the reason alone still tells
         * the agent what to do with the message. */
        rc = cchc_wire_pack_nack(peer->principal, epoch, msg_id, reason, "", &none, &buf, &len);
    }
    if (rc != 0) {
        CCHC_LOG(CCHC_LOG_ERROR, "pack_nack", "msg_id=%llu err=%s", (unsigned long long)msg_id,
                 cchc_strerror(rc));
        return;
    }
    srv_router_send(self, peer, buf, len);
    free(buf);
}
