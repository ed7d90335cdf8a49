/* agt_link.c: DEALER socket, socket monitor, window and resend (see agt_link.h).
 *
 * Owns the ZeroMQ context and sockets and the window (agt_window): the ids
 * of the oldest heads of the queue (per report key, the lowest revision; one
 * row of a key in flight at most, so revisions go in order, one at a time),
 * at most [agent] window of them and window_bytes of payload (one report
 * always), each with the time it is due to be (re)sent. Payloads stay in the
 * outbox and are read when sent, so a big window costs a few bytes per
 * report, not a report per report.
 *
 * When a report is sent or resent:
 *   - on HANDSHAKE_SUCCEEDED (every (re)connect, including after a heartbeat
 *     timeout dropped a frozen or black-holed connection): Hello first, then a
 *     MetaRequest (agt_sync decides when one is due), then every report in the
 *     window, because whatever was in flight on the old connection may be lost;
 *   - when it enters the window (a new queued row, seen by polling the outbox
 *     every 500 ms: submit is another process);
 *   - when it has had no answer for resend_timeout_ms, doubling each time up to
 *     five minutes, plus up to a quarter of random jitter; forever;
 *   - after a transient Nack (BUSY), on a backoff of its own: 1 s doubling to
 *     30 s, plus jitter; the rest of the window goes on meanwhile.
 * Hello{agent_version, queue_depth, last_seq} also goes every [agent]
 * hello_interval_ms. `run --drain` ends once nothing is queued and one
 * metadata sync was answered; `sync` (sync_once) sends no report and ends
 * at the first metadata answer. A Notification is stored and acked by
 * agt_notify (the NotificationAck goes from here, at most one per 200 ms,
 * after Hello and MetaRequest), which also runs [agent] on_alert from this
 * loop. Which server of [server] endpoints it talks to, when it moves to the
 * next, and what status shows of it (the server, and while no connection
 * works, since when and the attempts) is agt_endpoints' business; the link
 * connects where it says (s_dial).
 * The server inserts idempotently on (unit, epoch, msg_id), so resending is
 * always safe. What an Ack or a Nack does to its report (delivered, refused,
 * superseded, held, or resent after BUSY) is agt_answer's. */
#include "agt_link.h"
#include "agt_answer.h"
#include "agt_endpoints.h"
#include "agt_link_socket.h"
#include "agt_notify.h"
#include "agt_sync.h"
#include "agt_window.h"

#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_keys.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_report.h"
#include "cchc_wire.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* The outbox is looked at when its files change (agt_outbox_watch_fd), and
 * every S_OUTBOX_IDLE_MS anyway; without a watch, every S_OUTBOX_POLL_MS. */
#define S_OUTBOX_POLL_MS 500
#define S_OUTBOX_IDLE_MS 30000
#define S_BACKOFF_CAP_MS (5 * 60 * 1000)
#define S_RETRY_BLOCKED_MS 100
#define S_RECV_PER_PASS 1000
#define S_RECONNECT_BASE_MS 1000
#define S_RECONNECT_CAP_MS 60000
/* libzmq dials again within 2 x ZMQ_RECONNECT_IVL (1 s plus up to 1 s of
 * jitter) of a lost connection, and says so (CONNECT_DELAYED, CONNECTED or
 * CONNECT_RETRIED); silence past this means it never will (see s_on_event). */
#define S_SILENT_REDIAL_MS 5000

struct agt_link_t {
    const agt_config_t *cfg; /* borrowed */
    agt_outbox_t *outbox;    /* borrowed */
    agt_sync_t *sync;        /* metadata sync: when to ask, what to keep */
    agt_notify_t *notify;    /* notifications: store, ack, on_alert */
    uint64_t epoch;
    void *ctx, *dealer, *monitor;
    int connected;
    int64_t next_hello;
    int64_t reconnect_at; /* monotonic ms of our own reconnect, INT64_MAX if none */
    unsigned hs_failures; /* handshakes failed in a row */
    unsigned drops;       /* connections dropped for good, each within a minute */
    int64_t connected_at; /* monotonic ms of the last handshake */
    int dropped;          /* reconnect_at is for a connection dropped for good */
    int no_reports;       /* sync_once: the window is neither filled nor sent */
    agt_link_seen_t seen; /* for agt_link_seen */
    int started;          /* a run began (the servers' liveness is counted from it) */
    agt_endpoints_t *eps; /* which server, when to move, what status shows */
    agt_window_t *win;    /* reports in flight */
    agt_answer_t *answer; /* what an Ack or a Nack does to its report */
};

/* Five minutes, or resend_timeout_ms when the configuration asks for longer. */
static int64_t s_resend_cap(const agt_link_t *self)
{
    int64_t t = self->cfg->resend_timeout_ms;
    return t > S_BACKOFF_CAP_MS ? t : S_BACKOFF_CAP_MS;
}

static void s_envelope_init(const agt_link_t *self, cchc_envelope_t *env, int64_t msg_id)
{
    *env = (cchc_envelope_t)CCHC__V1__ENVELOPE__INIT;
    env->protocol_version = CCHC_WIRE_PROTOCOL_VERSION;
    env->unit = self->cfg->unit;
    env->agent_epoch = self->epoch;
    env->msg_id = (uint64_t)msg_id;
    env->sent_at_ms = cchc_clock_now_ms();
}

/* Encodes and sends one Envelope without blocking. 0, CCHC_EAGAIN (not
 * connected, or the pipe is full), CCHC_ETOOBIG, CCHC_EENCODING or CCHC_EIO. */
static int s_send_envelope(agt_link_t *self, const cchc_envelope_t *env, size_t *len_out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = cchc_wire_encode(env, &buf, &len);
    if (rc != CCHC_OK)
        return rc;
    *len_out = len;
    if (len > (size_t)self->cfg->max_frame) {
        free(buf);
        return CCHC_ETOOBIG;
    }
    if (zmq_send(self->dealer, buf, len, ZMQ_DONTWAIT) < 0) {
        rc = (errno == EAGAIN || errno == EINTR) ? CCHC_EAGAIN : CCHC_EIO;
        if (rc == CCHC_EIO)
            CCHC_LOG(CCHC_LOG_ERROR, "send_failed", "err=\"%s\"", zmq_strerror(errno));
    }
    free(buf);
    return rc;
}

static int s_send_hello(agt_link_t *self)
{
    int64_t depth = 0;
    if (agt_outbox_queued_count(self->outbox, &depth) != CCHC_OK)
        depth = (int64_t)agt_window_len(self->win);
    Cchc__V1__Hello hello = CCHC__V1__HELLO__INIT;
    hello.agent_version = (char *)CCHC_VERSION;
    hello.queue_depth = (uint64_t)depth;
    hello.last_seq = agt_notify_last_seq(self->notify);
    cchc_envelope_t env;
    s_envelope_init(self, &env, 0);
    env.body_case = CCHC__V1__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    size_t len = 0;
    int rc = s_send_envelope(self, &env, &len);
    if (rc == CCHC_OK) {
        agt_notify_acked(self->notify, hello.last_seq, cchc_clock_mono_ms());
        CCHC_LOG(CCHC_LOG_DEBUG, "hello_sent", "queue_depth=%" PRId64 " last_seq=%" PRIu64, depth,
                 hello.last_seq);
    }
    return rc;
}

/* Tells the server every notification up to the highest stored is stored. */
static int s_send_notification_ack(agt_link_t *self)
{
    Cchc__V1__NotificationAck ack = CCHC__V1__NOTIFICATION_ACK__INIT;
    ack.seq = agt_notify_last_seq(self->notify);
    cchc_envelope_t env;
    s_envelope_init(self, &env, 0);
    env.body_case = CCHC__V1__ENVELOPE__BODY_NOTIFICATION_ACK;
    env.notification_ack = &ack;
    size_t len = 0;
    int rc = s_send_envelope(self, &env, &len);
    if (rc == CCHC_OK)
        CCHC_LOG(CCHC_LOG_DEBUG, "notification_ack_sent", "seq=%" PRIu64, ack.seq);
    return rc;
}

/* Asks for the unit's metadata unless the server's version is the one stored. */
static int s_send_meta_request(agt_link_t *self)
{
    Cchc__V1__MetaRequest req = CCHC__V1__META_REQUEST__INIT;
    req.version = agt_sync_version(self->sync);
    cchc_envelope_t env;
    s_envelope_init(self, &env, 0);
    env.body_case = CCHC__V1__ENVELOPE__BODY_META_REQUEST;
    env.meta_request = &req;
    size_t len = 0;
    return s_send_envelope(self, &env, &len);
}

/* Moves a row aside when this agent itself can never send it (its payload no
 * longer unpacks, or has outgrown max_frame), so it does not block the window
 * forever; the officer sees it in status with the reason. */
static void s_refuse_locally(agt_link_t *self, int64_t id, const char *reason)
{
    CCHC_LOG(CCHC_LOG_WARN, "refused", "id=%" PRId64 " reason=\"%s\"", id, reason);
    (void)agt_outbox_mark_refused(self->outbox, id, reason, NULL);
}

/* Sends the report of one window entry. 0 sent; CCHC_EAGAIN not now (stop this
 * pass); CCHC_ENOTFOUND the entry leaves the window; CCHC_EIO try again later. */
static int s_send_report(agt_link_t *self, agt_flight_t *f)
{
    uint8_t *payload = NULL;
    size_t plen = 0, len = 0;
    Cchc__V1__Report *report = NULL;
    cchc_envelope_t env;
    char err[256] = "", reason[320];
    int rc = agt_outbox_payload(self->outbox, f->id, &payload, &plen);
    if (rc != CCHC_OK)
        goto out;
    rc = cchc_wire_unpack_report(payload, plen, (size_t)self->cfg->max_frame, &report, err,
                                 sizeof err);
    if (rc != CCHC_OK) {
        if (rc == CCHC_ETOOBIG)
            snprintf(reason, sizeof reason, "AGENT_TOO_BIG: %s ([server] max_frame)", err);
        else
            snprintf(reason, sizeof reason,
                     "AGENT_UNREADABLE: the stored report does not unpack"
                     " (%s): %s",
                     cchc_strerror(rc), err);
        s_refuse_locally(self, f->id, reason);
        rc = CCHC_ENOTFOUND;
        goto out;
    }
    s_envelope_init(self, &env, f->id);
    env.body_case = CCHC__V1__ENVELOPE__BODY_REPORT;
    env.report = report;
    rc = s_send_envelope(self, &env, &len);
    if (rc == CCHC_ETOOBIG || rc == CCHC_EENCODING) {
        if (rc == CCHC_ETOOBIG)
            snprintf(reason, sizeof reason,
                     "AGENT_TOO_BIG: message of %zu bytes, over [server] max_frame %" PRId64, len,
                     self->cfg->max_frame);
        else
            snprintf(reason, sizeof reason, "AGENT_ENCODING: the report holds invalid UTF-8");
        s_refuse_locally(self, f->id, reason);
        rc = CCHC_ENOTFOUND;
        goto out;
    }
    if (rc != CCHC_OK)
        goto out;
    (void)agt_outbox_mark_sent(self->outbox, f->id, cchc_clock_now_ms());
    CCHC_LOG(CCHC_LOG_DEBUG, "sent", "id=%" PRId64 " bytes=%zu resends=%u", f->id, len, f->resends);
out:
    cchc_report_free(&report);
    free(payload);
    return rc;
}

/* Sends every entry that is due. Returns 1 when the socket would not take
 * more (try again shortly), else 0. */
static int s_send_due(agt_link_t *self, int64_t now)
{
    if (!self->connected)
        return 0;
    if (now >= self->next_hello) {
        if (s_send_hello(self) == CCHC_EAGAIN) {
            self->next_hello = now + S_RETRY_BLOCKED_MS;
            return 1;
        }
        self->next_hello = now + self->cfg->hello_interval_ms;
    }
    if (now >= agt_sync_due(self->sync)) {
        if (s_send_meta_request(self) == CCHC_EAGAIN) {
            agt_sync_defer(self->sync, now + S_RETRY_BLOCKED_MS);
            return 1;
        }
        agt_sync_requested(self->sync, now);
    }
    if (now >= agt_notify_ack_due(self->notify)) {
        uint64_t seq = agt_notify_last_seq(self->notify);
        int rc = s_send_notification_ack(self);
        if (rc == CCHC_EAGAIN) {
            agt_notify_defer(self->notify, now + S_RETRY_BLOCKED_MS);
            return 1;
        }
        /* Sent, or failed for good (logged): either way not again before
         * the next notification, Hello or connection. */
        agt_notify_acked(self->notify, seq, now);
    }
    size_t i = 0;
    while (!self->no_reports && i < agt_window_len(self->win)) {
        agt_flight_t *f = agt_window_at(self->win, i);
        if (f->due > now) {
            i++;
            continue;
        }
        int rc = s_send_report(self, f);
        if (rc == CCHC_EAGAIN)
            return 1;
        if (rc == CCHC_ENOTFOUND) {
            agt_window_remove(self->win, f);
            continue;
        }
        /* Sent, or the outbox could not be read (CCHC_EIO): either way the
         * report's timer starts again, and it is tried again, forever. */
        agt_window_sent(self->win, f, now, self->cfg->resend_timeout_ms, s_resend_cap(self));
        i++;
    }
    return 0;
}

/* One frame from the server. Anything that does not decode is logged and
 * dropped: the server is trusted to be well-meaning, not to be bug-free. */
static void s_handle_frame(agt_link_t *self, const uint8_t *data, size_t len)
{
    cchc_envelope_t *env = NULL;
    char err[256] = "";
    int rc = cchc_wire_decode(data, len, (size_t)self->cfg->max_frame, &env, err, sizeof err);
    if (rc != CCHC_OK) {
        CCHC_LOG(CCHC_LOG_WARN, "bad_frame", "bytes=%zu code=%s err=\"%s\"", len, cchc_strerror(rc),
                 err);
        cchc_wire_free(&env);
        return;
    }
    if (env->body_case == CCHC__V1__ENVELOPE__BODY_ACK && env->ack)
        agt_answer_ack(self->answer, env->ack);
    else if (env->body_case == CCHC__V1__ENVELOPE__BODY_NACK && env->nack)
        agt_answer_nack(self->answer, env->nack);
    else if (env->body_case == CCHC__V1__ENVELOPE__BODY_META && env->meta)
        agt_sync_handle_meta(self->sync, env->meta);
    else if (env->body_case == CCHC__V1__ENVELOPE__BODY_NOTIFICATION && env->notification)
        agt_notify_handle(self->notify, env->notification);
    else if (env->body_case == CCHC__V1__ENVELOPE__BODY_META_CHANGED && env->meta_changed)
        agt_sync_handle_changed(self->sync, env->meta_changed, cchc_clock_mono_ms());
    else
        CCHC_LOG(CCHC_LOG_DEBUG, "reply_ignored", "body=%d", (int)env->body_case);
    cchc_wire_free(&env);
}

/* Reads what the server sent, without blocking. Returns how many messages. */
static int s_recv_all(agt_link_t *self)
{
    int count = 0;
    zmq_msg_t msg;
    while (count < S_RECV_PER_PASS) {
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, self->dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            break;
        }
        count++;
        /* One frame per message: more frames are not ours to guess at. */
        if (zmq_msg_more(&msg)) {
            CCHC_LOG(CCHC_LOG_WARN, "bad_frame", "err=\"multipart message\"");
            while (zmq_msg_more(&msg)) {
                zmq_msg_close(&msg);
                zmq_msg_init(&msg);
                if (zmq_msg_recv(&msg, self->dealer, 0) < 0)
                    break;
            }
        } else {
            s_handle_frame(self, zmq_msg_data(&msg), zmq_msg_size(&msg));
        }
        zmq_msg_close(&msg);
    }
    if (count > 0) {
        char ms[32];
        snprintf(ms, sizeof ms, "%" PRId64, cchc_clock_now_ms());
        (void)agt_outbox_state_set(self->outbox, AGT_OUTBOX_LAST_CONTACT, ms);
    }
    return count;
}

/* A failed handshake is almost always a key problem, and the officer can only
 * fix it by talking to the district: say so, in the log and in status. */
static void s_handshake_failed(agt_link_t *self, uint16_t event, uint32_t value,
                               const char *endpoint)
{
    char detail[128], when[32], *text;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        snprintf(detail, sizeof detail, "kind=auth status=%u", value);
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        snprintf(detail, sizeof detail, "kind=protocol code=0x%x", value);
    else
        snprintf(detail, sizeof detail, "kind=no_detail err=\"%s\"", strerror((int)value));
    /* A reset or broken pipe mid-handshake is the link, not the key. */
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL &&
        (value == ECONNRESET || value == EPIPE || value == ETIMEDOUT || value == EAGAIN)) {
        CCHC_LOG(CCHC_LOG_WARN, "handshake_interrupted",
                 "endpoint=%s %s hint=\"the link dropped during the handshake; retrying\"",
                 endpoint, detail);
        cchc_clock_format_utc(cchc_clock_now_ms(), when, sizeof when);
        text = cchc_asprintf("%s link dropped during the handshake (%s): retrying", when, detail);
        (void)agt_outbox_state_set(self->outbox, AGT_OUTBOX_LAST_ERROR, text);
        free(text);
        return;
    }
    const char *also = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                           ? ""
                           : "; also check that [server] public_key is the district server's key";
    CCHC_LOG(CCHC_LOG_ERROR, "handshake_failed",
             "endpoint=%s %s hint=\"the server refused this agent's key: ask the district to "
             "register %s%s\"",
             endpoint, detail, self->cfg->public_key, also);
    cchc_clock_format_utc(cchc_clock_now_ms(), when, sizeof when);
    text = cchc_asprintf("%s handshake_failed %s: the server refused this agent's key: ask the "
                         "district to register %s%s",
                         when, detail, self->cfg->public_key, also);
    (void)agt_outbox_state_set(self->outbox, AGT_OUTBOX_LAST_ERROR, text);
    free(text);
}

/* A monitor event of the current server's connection. Liveness and the
 * attempts are agt_endpoints' (which says when to move); the link's own
 * state (connected, what a new connection sends first) is kept here. */
static void s_on_event(agt_link_t *self, uint16_t event, uint32_t value, const char *endpoint)
{
    int64_t now = cchc_clock_mono_ms();
    if (agt_endpoints_is_stale(self->eps, endpoint)) {
        /* A connection left behind by a move: its end is not news. */
        CCHC_LOG(CCHC_LOG_DEBUG, "socket_event_stale", "event=0x%x value=%u endpoint=%s", event,
                 value, endpoint);
        return;
    }
    switch (event) {
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        self->connected = 1;
        self->seen.connected = 1;
        self->hs_failures = 0;
        agt_answer_connected(self->answer);
        self->reconnect_at = INT64_MAX;
        self->dropped = 0;
        self->connected_at = now;
        agt_endpoints_connected(self->eps, now);
        CCHC_LOG(CCHC_LOG_INFO, "connected", "endpoint=%s in_flight=%zu", endpoint,
                 agt_window_len(self->win));
        /* After drops, the last error (its time in it) says why until a
         * connection lasts (self->drops is reset then). */
        if (!self->drops)
            (void)agt_outbox_state_set(self->outbox, AGT_OUTBOX_LAST_ERROR, NULL);
        /* Hello first, then MetaRequest (s_send_due sends them before
         * reports), then the window: whatever was in flight on the old
         * connection, to this server or another, may be lost. */
        self->next_hello = now;
        agt_sync_connected(self->sync, now);
        agt_notify_connected(self->notify);
        agt_window_resend_all(self->win, now);
        break;
    case ZMQ_EVENT_DISCONNECTED:
        CCHC_LOG(self->connected ? CCHC_LOG_WARN : CCHC_LOG_DEBUG, "disconnected", "endpoint=%s",
                 endpoint);
        agt_endpoints_attempt_event(self->eps, event, now);
        /* libzmq 4.3 drops a connection for good, without redialling,
         * when the agent's side finds a protocol error on it (a message
         * over [server] max_frame, a frame that does not decrypt: libzmq
         * PR #1043); only the DISCONNECTED says so. With a list of one,
         * dial again ourselves unless libzmq is seen redialling (the
         * events below cancel this); a list moves on by itself
         * (agt_endpoints). Repeated drops back off, up to a minute. */
        if (self->connected && agt_endpoints_count(self->eps) == 1 &&
            self->reconnect_at == INT64_MAX) {
            if (now - self->connected_at >= S_RECONNECT_CAP_MS)
                self->drops = 0;
            self->reconnect_at = now + agt_window_backoff(self->win, S_SILENT_REDIAL_MS,
                                                          self->drops++, S_RECONNECT_CAP_MS);
            self->dropped = 1;
        }
        self->connected = 0;
        agt_sync_disconnected(self->sync);
        agt_notify_disconnected(self->notify);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        self->connected = 0;
        self->seen.handshake_failed = 1;
        agt_endpoints_attempt_event(self->eps, event, now);
        agt_sync_disconnected(self->sync);
        agt_notify_disconnected(self->notify);
        s_handshake_failed(self, event, value, endpoint);
        /* libzmq 4.3 treats a failed handshake as a protocol error and drops
         * the connection for good; reconnect ourselves, unless libzmq is seen
         * retrying on its own (the events below cancel this). With several
         * servers, agt_endpoints moves to the next instead. */
        if (agt_endpoints_count(self->eps) == 1)
            self->reconnect_at = now + agt_window_backoff(self->win, S_RECONNECT_BASE_MS,
                                                          self->hs_failures++, S_RECONNECT_CAP_MS);
        break;
    case ZMQ_EVENT_CONNECTED:
    case ZMQ_EVENT_CONNECT_DELAYED:
    case ZMQ_EVENT_CONNECT_RETRIED:
        self->reconnect_at = INT64_MAX;
        self->dropped = 0;
        CCHC_LOG(CCHC_LOG_DEBUG, "socket_event", "event=0x%x value=%u endpoint=%s", event, value,
                 endpoint);
        agt_endpoints_attempt_event(self->eps, event, now);
        break;
    default:
        CCHC_LOG(CCHC_LOG_DEBUG, "socket_event", "event=0x%x value=%u endpoint=%s", event, value,
                 endpoint);
        break;
    }
}

/* Monitor events are two frames: 16-bit event and 32-bit value, then the
 * endpoint. */
static void s_monitor_drain(agt_link_t *self)
{
    zmq_msg_t msg;
    for (;;) {
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, self->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        uint16_t event = 0;
        uint32_t value = 0;
        char endpoint[256] = "";
        int ok = zmq_msg_size(&msg) == 6;
        if (ok) {
            memcpy(&event, zmq_msg_data(&msg), 2);
            memcpy(&value, (const char *)zmq_msg_data(&msg) + 2, 4);
        }
        while (zmq_msg_more(&msg)) {
            zmq_msg_close(&msg);
            zmq_msg_init(&msg);
            if (zmq_msg_recv(&msg, self->monitor, 0) < 0)
                break;
            size_t n = zmq_msg_size(&msg);
            n = n < sizeof endpoint - 1 ? n : sizeof endpoint - 1;
            memcpy(endpoint, zmq_msg_data(&msg), n);
            endpoint[n] = '\0';
        }
        zmq_msg_close(&msg);
        if (ok)
            s_on_event(self, event, value, endpoint);
    }
}

/* A start with a key other than the last one's: the reports held for the old
 * key go back to the queue (the officer installed the district's new key). */
static void s_key_check(agt_outbox_t *outbox, const char *pub)
{
    int changed = 0;
    int64_t requeued = 0;
    if (agt_outbox_key_changed(outbox, pub, &changed, &requeued) != CCHC_OK)
        return; /* logged by the outbox; held rows wait for the next start */
    if (changed)
        CCHC_LOG(requeued ? CCHC_LOG_WARN : CCHC_LOG_INFO, "key_changed",
                 "public_key=\"%.8s...\" requeued=%" PRId64, pub, requeued);
}

agt_link_t *agt_link_new(const agt_config_t *cfg, agt_outbox_t *outbox, char *err, size_t errlen)
{
    char server_pub[CCHC_KEY_Z85_LEN + 1], pub[CCHC_KEY_Z85_LEN + 1], sec[CCHC_KEY_Z85_LEN + 1];
    agt_link_t *self = NULL;
    if (agt_link_socket_keys(cfg, server_pub, pub, sec, err, errlen) != CCHC_OK)
        goto fail;
    self = cchc_calloc(1, sizeof *self);
    self->cfg = cfg;
    self->outbox = outbox;
    s_key_check(outbox, pub);
    self->epoch = agt_outbox_epoch(outbox);
    self->sync = agt_sync_new(outbox);
    self->notify = agt_notify_new(cfg, outbox);
    self->reconnect_at = INT64_MAX;
    self->win = agt_window_new((size_t)cfg->window, cfg->window_bytes,
                               self->epoch ^ (uint64_t)cchc_clock_mono_ms());
    self->eps = agt_endpoints_new(cfg, outbox, ~self->epoch ^ (uint64_t)cchc_clock_mono_ms());
    self->answer = agt_answer_new(self->epoch, self->win, outbox, cfg->public_key);
    self->ctx = zmq_ctx_new();
    self->dealer = self->ctx ? zmq_socket(self->ctx, ZMQ_DEALER) : NULL;
    self->monitor = self->ctx ? zmq_socket(self->ctx, ZMQ_PAIR) : NULL;
    if (!self->dealer || !self->monitor) {
        snprintf(err, errlen, "could not create the sockets: %s", zmq_strerror(errno));
        goto fail;
    }
    /* The monitor is attached before connecting so no event is missed. */
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://agt-link-monitor-%p", (void *)self);
    if (agt_link_socket_setup(self->dealer, self->monitor, ep, cfg,
                              agt_endpoints_current(self->eps), server_pub, pub, sec, err,
                              errlen) != CCHC_OK)
        goto fail;
    explicit_bzero(sec, sizeof sec);
    return self;
fail:
    explicit_bzero(sec, sizeof sec);
    agt_link_destroy(&self);
    return NULL;
}

void agt_link_destroy(agt_link_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    agt_link_t *self = *self_p;
    if (self->dealer)
        (void)zmq_socket_monitor(self->dealer, NULL, 0);
    if (self->monitor)
        zmq_close(self->monitor);
    if (self->dealer)
        zmq_close(self->dealer);
    /* Waits at most ZMQ_LINGER for unsent messages: everything is on disk. */
    while (self->ctx && zmq_ctx_term(self->ctx) != 0 && errno == EINTR)
        ;
    agt_sync_destroy(&self->sync);
    agt_notify_destroy(&self->notify);
    agt_answer_destroy(&self->answer);
    agt_window_destroy(&self->win);
    agt_endpoints_destroy(&self->eps);
    free(self);
    *self_p = NULL;
}

/* Drops whatever is left of the connection to from and dials the current
 * server (from itself, after a failed handshake with a list of one). A
 * connect refused at once (an endpoint libzmq cannot use) is a failed
 * attempt: with a list, the next move goes on; alone, it is tried again in
 * a minute. */
static void s_dial(agt_link_t *self, const char *from)
{
    const char *to = agt_endpoints_current(self->eps);
    self->reconnect_at = INT64_MAX;
    if (self->dropped) {
        char when[32], *text;
        CCHC_LOG(CCHC_LOG_WARN, "connection_dropped",
                 "endpoint=%s drops=%u max_frame=%" PRId64
                 " hint=\"the connection was dropped for good by this side (a protocol error: "
                 "most often a message from the server over [server] max_frame); dialling again\"",
                 to, self->drops, self->cfg->max_frame);
        cchc_clock_format_utc(cchc_clock_now_ms(), when, sizeof when);
        text = cchc_asprintf("%s connection dropped after a protocol error (a message over "
                             "[server] max_frame = %" PRId64 "?): dialling again",
                             when, self->cfg->max_frame);
        (void)agt_outbox_state_set(self->outbox, AGT_OUTBOX_LAST_ERROR, text);
        free(text);
    }
    self->dropped = 0;
    (void)zmq_disconnect(self->dealer, from);
    if (zmq_connect(self->dealer, to) != 0) {
        CCHC_LOG(CCHC_LOG_ERROR, "reconnect_failed", "endpoint=%s err=\"%s\"", to,
                 zmq_strerror(errno));
        agt_endpoints_attempt_event(self->eps, ZMQ_EVENT_CONNECT_RETRIED, cchc_clock_mono_ms());
        if (agt_endpoints_count(self->eps) == 1)
            self->reconnect_at = cchc_clock_mono_ms() + S_RECONNECT_CAP_MS;
        return;
    }
    CCHC_LOG(CCHC_LOG_INFO, "reconnect", "endpoint=%s failures=%u", to, self->hs_failures);
}

static int s_loop(agt_link_t *self, const agt_link_opts_t *opts);

int agt_link_run(agt_link_t *self, const agt_link_opts_t *opts)
{
    if (!self->started && !self->connected)
        agt_endpoints_down(self->eps, cchc_clock_mono_ms());
    self->started = 1;
    self->no_reports = opts->sync_once;
    int rc = s_loop(self, opts);
    agt_endpoints_stop(self->eps, cchc_clock_mono_ms());
    return rc;
}

void agt_link_seen(const agt_link_t *self, agt_link_seen_t *out)
{
    *out = self->seen;
    out->key_revoked = agt_answer_key_revoked(self->answer);
    out->attempts = agt_endpoints_attempts(self->eps);
    out->sync = agt_sync_outcome(self->sync);
}

static int s_loop(agt_link_t *self, const agt_link_opts_t *opts)
{
    int64_t start = cchc_clock_mono_ms();
    int64_t deadline = opts->timeout_ms > 0 ? start + opts->timeout_ms : INT64_MAX;
    int64_t next_poll = start;
    int watch = agt_outbox_watch_fd(self->outbox), trimmed = 0;
    char *servers = cchc_endpoints_join(&self->cfg->servers);
    CCHC_LOG(CCHC_LOG_INFO, "start",
             "unit=%s endpoint=%s endpoints=\"%s\" epoch=%016" PRIx64 " window=%" PRId64
             " window_bytes=%" PRId64 " heartbeat_ivl_ms=%" PRId64 " heartbeat_timeout_ms=%" PRId64,
             self->cfg->unit, agt_endpoints_current(self->eps), servers, self->epoch,
             self->cfg->window, self->cfg->window_bytes, self->cfg->heartbeat_ivl_ms,
             self->cfg->heartbeat_timeout_ms);
    free(servers);
    for (;;) {
        if (opts->stop && *opts->stop)
            return AGT_LINK_STOPPED;
        int64_t now = cchc_clock_mono_ms();
        if (now >= deadline)
            return AGT_LINK_TIMED_OUT;
        /* One metadata answer this run, or the key refused: nothing more to
         * wait for on that side. */
        int synced = agt_sync_outcome(self->sync) != AGT_SYNC_NONE;
        if (opts->sync_once && synced)
            return AGT_LINK_SYNCED;
        if (opts->sync_once && agt_answer_key_revoked(self->answer))
            return AGT_LINK_KEY_REVOKED;
        if (now >= next_poll) {
            if (!self->no_reports)
                (void)agt_window_fill(self->win, self->outbox, now);
            next_poll = now + (watch >= 0 ? S_OUTBOX_IDLE_MS : S_OUTBOX_POLL_MS);
            int64_t queued = 1;
            if (opts->drain && (synced || agt_answer_key_revoked(self->answer)) &&
                agt_outbox_queued_count(self->outbox, &queued) == CCHC_OK && queued == 0)
                return AGT_LINK_DRAINED;
        }
        if (now >= self->reconnect_at)
            s_dial(self, agt_endpoints_current(self->eps));
        const char *from = NULL;
        if (now >= agt_endpoints_due(self->eps) && agt_endpoints_tick(self->eps, now, &from))
            s_dial(self, from);
        agt_notify_tick(self->notify, now);
        int blocked = s_send_due(self, now);
        int64_t wake = next_poll < deadline ? next_poll : deadline;
        int64_t alert = agt_notify_wake(self->notify, now);
        wake = alert < wake ? alert : wake;
        wake = self->reconnect_at < wake ? self->reconnect_at : wake;
        int64_t eps_due = agt_endpoints_due(self->eps);
        wake = eps_due < wake ? eps_due : wake;
        if (self->connected) {
            wake = self->next_hello < wake ? self->next_hello : wake;
            wake = agt_sync_due(self->sync) < wake ? agt_sync_due(self->sync) : wake;
            int64_t ack = agt_notify_ack_due(self->notify);
            wake = ack < wake ? ack : wake;
            int64_t due = agt_window_next_due(self->win);
            wake = due < wake ? due : wake;
        }
        if (blocked && now + S_RETRY_BLOCKED_MS < wake)
            wake = now + S_RETRY_BLOCKED_MS;
        zmq_pollitem_t items[3] = {{self->dealer, 0, ZMQ_POLLIN, 0},
                                   {self->monitor, 0, ZMQ_POLLIN, 0},
                                   {NULL, watch, ZMQ_POLLIN, 0}};
        if (wake - now >= 1000 && !trimmed) {
            /* A quiet while ahead: what the sync and the sends freed goes
             * back to the system (the daemon lives for months on small
             * boxes). */
            malloc_trim(0);
            trimmed = 1;
        }
        int rcp = zmq_poll(items, watch >= 0 ? 3 : 2, wake > now ? (long)(wake - now) : 0);
        if (rcp < 0) {
            if (errno == EINTR)
                continue;
            CCHC_LOG(CCHC_LOG_ERROR, "poll_failed", "err=\"%s\"", zmq_strerror(errno));
            return CCHC_EIO;
        }
        /* Something happened (not another file of the outbox's directory
         * written, such as a log): the next quiet while trims again. */
        if ((items[0].revents | items[1].revents) & ZMQ_POLLIN)
            trimmed = 0;
        if (items[1].revents & ZMQ_POLLIN)
            s_monitor_drain(self);
        if (watch >= 0 && (items[2].revents & ZMQ_POLLIN) &&
            agt_outbox_watch_changed(self->outbox)) {
            next_poll = cchc_clock_mono_ms();
            trimmed = 0;
        }
        /* Answers free slots in the window (and may have emptied the queue a
         * drain waits for, or be the Meta it waits for): look again at once. */
        if ((items[0].revents & ZMQ_POLLIN) && s_recv_all(self) > 0)
            next_poll = cchc_clock_mono_ms();
    }
}
