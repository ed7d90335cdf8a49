/* srv_server.c: the server object and its single zmq_poll loop.
 *
 * Owns the zmq context, the router (the ROUTER agents talk to), the ZAP
 * handler (srv_zap), the database connection (srv_db), the units' metadata
 * (srv_units), the batch, notification delivery, the peer table, the
 * counters' log line, /metrics (srv_metrics: its own thread, fed a snapshot
 * from here) and the self-pipe that SIGTERM/SIGINT write to. One
 * thread does everything but the scheduler's ticks: a poll waits on the
 * ROUTER, the ZAP socket, the PostgreSQL socket (a raw fd, re-read every turn
 * since a reconnect changes it), the self-pipe and the scheduler's answer
 * pipe, with a timeout taken from the next timer (reconnect backoff, batch,
 * metadata reads, notification fetch, peer pruning, metrics snapshot,
 * shutdown deadline).
 *
 * Each frame is decoded once here (s_dispatch), its principal checked, and
 * handed to the handler of its kind (srv_handle_<kind>.c) with
 * srv_handlers_t, the parts a handler may use. Parts report back through
 * hooks set here: the router's gone peers leave the peer table; a committed
 * batch and a scheduler tick make notify look for new rows; a unit whose
 * metadata document changed is sent MetaChanged.
 *
 * Metadata: the database NOTIFYs cchc_meta when an operator changes what
 * agents sync, naming the unit when the change is about one; srv_units reads
 * again the documents concerned of connected agents and tells us which
 * really changed. After a reconnect every document is read again, since
 * notifications sent while we were away are lost.
 *
 * The scheduler (srv_sched) ticks in a thread of its own on its own
 * connection; the loop polls the pipe it answers on. A cchc_meta change asks
 * it for a tick soon; the first signal stops it, and the loop joins it on exit.
 *
 * The principal decides what a message may be: a subscriber ("sub:<name>")
 * may only send Replay and NotificationAck, an agent anything but Replay; the
 * rest is answered NACK_UNSUPPORTED and counted (refused_principal).
 *
 * Shutdown: the first signal stops reading the ROUTER; the loop goes on
 * until every report taken is answered and every database job finished, or
 * shutdown_grace_ms pass (a second signal cuts the wait short). What is left
 * is answered NACK_BUSY, so agents keep it and resend.
 *
 * Under systemd (Type=notify, cchc_sdnotify) the server says what it is doing
 * at each step of the start (STATUS=), READY=1 only once PostgreSQL answered,
 * the migrations are applied, the keys loaded, the ROUTER bound and the
 * signals caught, then a STATUS= line with the counters when they change
 * (with the stats log line), and STOPPING=1 at the first signal. */
#include "srv_server.h"
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_sdnotify.h"
#include "srv_batch.h"
#include "srv_handle.h"
#include "srv_metrics.h"
#include "srv_migrate.h"
#include "srv_sched.h"
#include "srv_zap.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define S_KEYS_CHANNEL "cchc_keys"
#define S_META_CHANNEL "cchc_meta"
/* How often silent peers are looked for. */
#define S_PRUNE_EVERY_MS 60000
/* Messages read from the ROUTER per turn, so that database results and
 * handshakes are not starved by a flood. */
#define S_READ_BATCH 256
/* How often the counters are logged (when they changed). */
#define S_STATS_EVERY_MS 60000

struct srv_server {
    void *ctx;
    srv_router_t *router;
    srv_zap_t *zap;
    srv_db_t *db;
    srv_notify_t *notify;
    srv_units_t *units;
    char *endpoint;
    int64_t grace_ms;
    srv_config_t cfg; /* the numbers only: its strings are not kept */
    srv_batch_t *batch;
    srv_map_t *contacts;
    srv_refusals_t *refusals;
    int wake[2]; /* self-pipe: the signal handler writes, the loop reads */
    int reload_inflight, reload_again;
    srv_peers_t *peers;
    int64_t prune_due_ms;  /* monotonic */
    int64_t stats_due_ms;  /* monotonic */
    srv_counters_t logged; /* as of the last stats line */
    srv_notify_stats_t logged_notify;
    srv_sched_t *sched; /* deadlines and reminders (srv_sched.c) */
    srv_handlers_t h;   /* what the handlers get */
    srv_metrics_t *metrics; /* /metrics (srv_metrics.c); NULL when off */
};

/* The handler can only reach a global; set before it is installed. */
static volatile sig_atomic_t s_wake_fd = -1;

static void s_on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    if (s_wake_fd >= 0 && write(s_wake_fd, &c, 1) < 0) {
        /* Pipe full: a wake-up is already pending, which is all we need. */
    }
    errno = saved;
}

/* ---- key cache reloads ------------------------------------------------------ */

static void s_reload_keys(srv_server_t *self);

static void s_on_keys(srv_db_t *db, int rc, const PGresult *res, void *arg)
{
    srv_server_t *self = arg;
    self->reload_inflight = 0;
    if (rc == 0 && srv_zap_load(self->zap, res) != 0) {
        char msg[300];
        CCHC_LOG(CCHC_LOG_ERROR, "keys_reload", "err=%s",
                 srv_logstr(msg, sizeof msg, PQresultErrorMessage(res)));
    }
    if (self->reload_again) {
        self->reload_again = 0;
        s_reload_keys(self);
    }
}

/* One reload at a time; a change noticed during one asks for another, since
 * the running SELECT may have missed it. If the database is down, the
 * reconnect reloads anyway. */
static void s_reload_keys(srv_server_t *self)
{
    if (self->reload_inflight) {
        self->reload_again = 1;
        return;
    }
    if (srv_db_submit(self->db, SRV_ZAP_KEYS_SQL, 0, NULL, NULL, NULL, s_on_keys, self) == 0)
        self->reload_inflight = 1;
}

/* NOTIFY cchc_meta's payload: "<table>" or "<table>:<unit>". */
static void s_meta_changed(srv_server_t *self, const char *extra)
{
    const char *colon = extra ? strchr(extra, ':') : NULL;
    srv_units_changed(self->units, colon && colon[1] ? colon + 1 : NULL);
}

static void s_on_notify(const char *channel, const char *extra, void *arg)
{
    srv_server_t *self = arg;
    char what[100];
    CCHC_LOG(CCHC_LOG_DEBUG, "db_notify", "channel=%s extra=%s", channel,
             srv_logstr(what, sizeof what, extra));
    if (strcmp(channel, S_KEYS_CHANNEL) == 0) {
        s_reload_keys(self);
    } else if (strcmp(channel, S_META_CHANNEL) == 0) {
        s_meta_changed(self, extra);
        srv_sched_kick(self->sched);
        /* Subscribers have no trigger of their own: a change to them comes
         * as cchc_keys (the CLI) or cchc_meta. */
        s_reload_keys(self);
    }
}

static void s_on_connect(void *arg)
{
    srv_server_t *self = arg;
    srv_router_counters(self->router)->db_reconnects++;
    s_reload_keys(self);
    srv_units_on_connect(self->units);
    if (self->notify)
        srv_notify_on_connect(self->notify);
}

/* A handshake on an expired key, or on a key of a unit closed past its
 * grace: its principal is refused (srv_zap). */
static void s_on_key_refused(void *arg, srv_zap_key_state_t state, const char *principal,
                             const char *key_id)
{
    srv_server_t *self = arg;
    srv_refusals_record(self->refusals,
                        state == SRV_ZAP_KEY_CLOSED ? SRV_REFUSAL_UNIT_CLOSED
                                                    : SRV_REFUSAL_KEY_EXPIRED,
                        principal, key_id, NULL, "handshake");
}

/* The batch refused a report of a unit its sender does not answer for. */
static void s_on_mismatch(void *arg, const srv_report_t *r)
{
    srv_server_t *self = arg;
    srv_peer_t peer = srv_report_peer(r);
    srv_refusals_record(self->refusals, SRV_REFUSAL_UNIT_MISMATCH, peer.principal, peer.key_id,
                        srv_report_unit(r), "report");
}

/* ---- the parts' hooks ---------------------------------------------------------------------- */

static void s_on_gone(void *arg, const uint8_t *rid, size_t len)
{
    srv_peers_remove(((srv_server_t *)arg)->peers, rid, len);
}

/* A batch committed: it wrote receipts. */
static void s_on_commit(void *arg)
{
    srv_server_t *self = arg;
    if (self->notify)
        srv_notify_kick(self->notify);
}

static int s_is_connected(void *arg, const char *unit)
{
    const uint8_t *rid;
    size_t len;
    return srv_peers_of_unit(((srv_server_t *)arg)->peers, unit, &rid, &len) == 0;
}

static void s_on_unit_changed(void *arg, const char *unit)
{
    srv_handle_meta_changed(&((srv_server_t *)arg)->h, unit);
}

/* ---- construction ------------------------------------------------------------ */

/* Notification delivery and the last seq to publish after; the scheduler
 * tells it when a tick committed notifications. */
static int s_notify_open(srv_server_t *self, const srv_config_t *cfg, char *err, size_t errlen)
{
    /* A subscriber's unacked pushes, and a replay segment on top, must fit
     * in the ROUTER's queue for it (srv_router's SNDHWM): past that,
     * sends fail and the session is dropped instead of catching up. */
    size_t hwm = 2 * (size_t)cfg->peer_max_inflight + 1000, pending = (size_t)cfg->sub_max_pending;
    if (pending + SRV_NOTIFY_BATCH > hwm) {
        pending = hwm - SRV_NOTIFY_BATCH;
        CCHC_LOG(CCHC_LOG_WARN, "config_clamped",
                 "key=subscriber_max_pending value=%lld used=%zu reason=\"over the send queue of "
                 "2 * peer_max_inflight + 1000, less a replay segment\"",
                 (long long)cfg->sub_max_pending, pending);
    }
    self->notify = srv_notify_new(self->router, self->db, self->zap, pending);
    self->h.notify = self->notify;
    srv_sched_on_committed(srv_notify_committed, self->notify);
    return srv_notify_start(self->notify, srv_db_conn(self->db), err, errlen);
}

srv_server_t *srv_server_new(const srv_config_t *cfg, const char *secret_z85, char *err,
                             size_t errlen)
{
    char msg[512] = "";
    srv_server_t *self = cchc_calloc(1, sizeof *self);
    self->endpoint = cchc_strdup(cfg->endpoint);
    self->grace_ms = cfg->shutdown_grace_ms;
    self->cfg = *cfg;
    self->cfg.endpoint = self->cfg.public_key = self->cfg.secret_key = self->cfg.conninfo = NULL;
    self->contacts = srv_map_new();
    self->wake[0] = self->wake[1] = -1;
    self->peers = srv_peers_new();
    self->prune_due_ms = cchc_clock_mono_ms() + S_PRUNE_EVERY_MS;
    self->stats_due_ms = cchc_clock_mono_ms() + S_STATS_EVERY_MS;
    self->ctx = zmq_ctx_new();
    if (!self->ctx) {
        snprintf(err, errlen, "could not create zmq context: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    if (zmq_ctx_set(self->ctx, ZMQ_IO_THREADS, (int)cfg->io_threads) != 0 ||
        zmq_ctx_set(self->ctx, ZMQ_MAX_SOCKETS, 1024) != 0) {
        snprintf(err, errlen, "could not set the zmq context's options: %s",
                 zmq_strerror(zmq_errno()));
        goto fail;
    }
    static const char *const channels[] = {S_KEYS_CHANNEL, S_META_CHANNEL, NULL};
    srv_db_hooks_t hooks = {.listen_channels = channels,
                            .on_notify = s_on_notify,
                            .on_connect = s_on_connect,
                            .arg = self};
    self->db = srv_db_new(cfg->conninfo, &hooks);
    srv_db_set_query_timeout(self->db, cfg->query_timeout_ms);
    self->refusals = srv_refusals_new(self->db, (size_t)cfg->max_pending);
    srv_units_hooks_t uh = {
        .is_connected = s_is_connected, .on_changed = s_on_unit_changed, .arg = self};
    self->units = srv_units_new(self->db, &uh);
    cchc_sdnotify_send(NULL, "connecting to PostgreSQL (trying for up to %d s)",
                       SRV_SERVER_DB_START_MS / 1000);
    if (srv_db_connect(self->db, SRV_SERVER_DB_START_MS, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "could not connect to PostgreSQL within %d s: %s",
                 SRV_SERVER_DB_START_MS / 1000, msg);
        goto fail;
    }
    PGconn *conn = srv_db_conn(self->db);
    int applied = 0;
    cchc_sdnotify_send(NULL, "checking the schema and applying migrations (up to %d)",
                       srv_migrate_latest());
    if (srv_migrate_apply(conn, &applied, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "could not migrate the database: %s", msg);
        goto fail;
    }
    CCHC_LOG(CCHC_LOG_INFO, "db_ready", "schema=%d applied=%d", srv_migrate_latest(), applied);
    if (!(self->sched = srv_sched_new(cfg, err, errlen)))
        goto fail;

    /* ZAP before any CURVE bind, then the keys, then the ROUTER: no agent
     * can connect before we can tell who it is. */
    self->zap = srv_zap_new(self->ctx, err, errlen);
    if (!self->zap)
        goto fail;
    srv_zap_on_refused(self->zap, s_on_key_refused, self);
    srv_zap_set_closed_grace(self->zap, cfg->closed_grace_days * 86400000LL);
    PGresult *r = PQexec(conn, SRV_ZAP_KEYS_SQL);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && srv_zap_load(self->zap, r) == 0;
    if (!ok)
        snprintf(err, errlen, "could not load agent keys: %s", PQerrorMessage(conn));
    PQclear(r);
    if (!ok)
        goto fail;
    cchc_sdnotify_send(NULL, "binding %s", cfg->endpoint);
    if (!(self->router = srv_router_new(self->ctx, cfg, secret_z85, err, errlen)))
        goto fail;
    srv_router_on_gone(self->router, s_on_gone, self);
    srv_batch_hooks_t bh = {.on_commit = s_on_commit, .on_mismatch = s_on_mismatch, .arg = self};
    self->batch = srv_batch_new(self->router, self->units, cfg, &bh);
    if (srv_batch_connect(self->batch, SRV_SERVER_DB_START_MS, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "could not connect to PostgreSQL: %s", msg);
        goto fail;
    }
    /* The documents are read on the store lanes' connections too while they
     * have no batch: a storm's 10,000 MetaRequests were one backend's work.
     * The first SRV_UNITS_READERS_MAX - 1 lanes only (store_connections goes
     * to 16): more readers than cores would not read faster. */
    for (size_t k = 0; k < srv_batch_dbs(self->batch) && k + 1 < SRV_UNITS_READERS_MAX; k++)
        srv_units_add_reader(self->units, srv_batch_db(self->batch, k));
    self->h = (srv_handlers_t){.router = self->router,
                               .db = self->db,
                               .batch = self->batch,
                               .units = self->units,
                               .zap = self->zap,
                               .refusals = self->refusals,
                               .peers = self->peers,
                               .contacts = self->contacts,
                               .max_pending = (size_t)cfg->max_pending,
                               .max_clock_skew_ms = cfg->max_clock_skew_ms};
    if (s_notify_open(self, cfg, err, errlen) != 0)
        goto fail;
    srv_metrics_sources_t ms = {self->router, self->notify, self->zap,
                                self->peers,  self->batch,  self->sched};
    if (cfg->metrics_listen && cfg->metrics_listen[0] &&
        !(self->metrics = srv_metrics_new(cfg->metrics_listen, &ms, err, errlen)))
        goto fail;
    if (srv_sched_start(self->sched, err, errlen) != 0)
        goto fail;
    if (srv_db_start(self->db, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "could not make the database connection nonblocking: %s", msg);
        goto fail;
    }
    return self;
fail:
    srv_server_destroy(&self);
    return NULL;
}

void srv_server_destroy(srv_server_t **self_p)
{
    assert(self_p);
    srv_server_t *self = *self_p;
    if (!self)
        return;
    /* The threads first: /metrics reads the parts, the scheduler may be
     * ticking. */
    srv_metrics_destroy(&self->metrics);
    srv_sched_join(self->sched);
    /* Reports and jobs still queued are answered while the ROUTER is open. */
    srv_batch_destroy(&self->batch);
    if (self->db)
        srv_db_abandon(self->db);
    srv_units_destroy(&self->units);
    if (self->notify)
        srv_sched_on_committed(NULL, NULL);
    srv_notify_destroy(&self->notify);
    srv_router_destroy(&self->router);
    srv_zap_destroy(&self->zap);
    srv_sched_destroy(&self->sched);
    srv_refusals_destroy(&self->refusals);
    srv_db_destroy(&self->db);
    srv_peers_destroy(&self->peers);
    srv_map_destroy(&self->contacts);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    for (int i = 0; i < 2; i++)
        if (self->wake[i] >= 0)
            close(self->wake[i]);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

/* ---- the loop ------------------------------------------------------------------- */

/* One message from a peer: decode it once, refuse what cannot be trusted, and
 * pass the rest to its handler. Never trusts, never asserts on, input. */
static void s_dispatch(srv_server_t *self, const srv_peer_t *peer, const uint8_t *data, size_t len,
                       size_t extra_frames, int key_ok)
{
    char why[256] = "", unit[100];
    srv_router_t *router = self->router;
    srv_counters_t *c = srv_router_counters(router);
    size_t max_frame = srv_router_max_frame(router);
    srv_logstr(unit, sizeof unit, peer->principal);
    c->received++;
    if (extra_frames) {
        snprintf(why, sizeof why, "one frame per message expected, got %zu", extra_frames + 1);
        CCHC_LOG(CCHC_LOG_WARN, "malformed", "unit=%s bytes=%zu err=\"%s\"", unit, len, why);
        srv_router_nack(router, peer, 0, 0, CCHC__V1__NACK_REASON__NACK_MALFORMED, why, NULL);
        return;
    }
    cchc_envelope_t *env = NULL;
    if (len > max_frame)
        c->refused_oversize++;
    int rc = cchc_wire_decode(data, len, max_frame, &env, why, sizeof why);
    if (rc == CCHC_EUNSUPPORTED && env) {
        CCHC_LOG(CCHC_LOG_WARN, "unsupported", "unit=%s msg_id=%llu err=\"%s\"", unit,
                 (unsigned long long)env->msg_id, why);
        srv_router_nack(router, peer, env->agent_epoch, env->msg_id,
                        CCHC__V1__NACK_REASON__NACK_UNSUPPORTED, why, NULL);
        cchc_wire_free(&env);
        return;
    }
    if (rc != 0) {
        /* Nothing in the frame can be trusted, not even its msg_id. */
        CCHC_LOG(CCHC_LOG_WARN, "malformed", "unit=%s bytes=%zu code=%s err=\"%s\"", unit, len,
                 cchc_strerror(rc), why);
        srv_router_nack(router, peer, 0, 0, CCHC__V1__NACK_REASON__NACK_MALFORMED,
                        why[0] ? why : cchc_strerror(rc), NULL);
        cchc_wire_free(&env);
        return;
    }
    /* The handshake was fine, but the key may have been revoked or have
     * expired since: the connection stays open, its messages do not count.
     * KEY_REVOKED tells an agent to keep the report for its next key; the
     * detail tells an older peer, which does not know the reason, in both
     * languages. */
    if (!key_ok) {
        srv_zap_key_state_t st = srv_zap_key_state(self->zap, peer->key_id, cchc_clock_now_ms());
        c->refused_revoked++;
        CCHC_LOG(CCHC_LOG_WARN, "key_refused", "unit=%s msg_id=%llu reason=%s", unit,
                 (unsigned long long)env->msg_id,
                 st == SRV_ZAP_KEY_EXPIRED  ? "expired"
                 : st == SRV_ZAP_KEY_CLOSED ? "unit_closed"
                                            : "revoked");
        srv_refusals_record(self->refusals,
                            st == SRV_ZAP_KEY_EXPIRED  ? SRV_REFUSAL_KEY_EXPIRED
                            : st == SRV_ZAP_KEY_CLOSED ? SRV_REFUSAL_UNIT_CLOSED
                                                       : SRV_REFUSAL_KEY_REVOKED,
                            peer->principal, peer->key_id, NULL,
                            srv_refusals_body_name(env->body_case));
        srv_router_nack(
            router, peer, env->agent_epoch, env->msg_id, CCHC__V1__NACK_REASON__NACK_KEY_REVOKED,
            st == SRV_ZAP_KEY_CLOSED ? SRV_KEY_CLOSED_DETAIL : SRV_KEY_REVOKED_DETAIL, NULL);
        cchc_wire_free(&env);
        return;
    }
    /* A subscriber may ask for notifications and ack them, nothing else;
     * an agent may not ask for other units' notifications. */
    int subscriber = srv_notify_is_subscriber(peer->principal);
    int allowed = subscriber ? env->body_case == CCHC__V1__ENVELOPE__BODY_REPLAY ||
                                   env->body_case == CCHC__V1__ENVELOPE__BODY_NOTIFICATION_ACK
                             : env->body_case != CCHC__V1__ENVELOPE__BODY_REPLAY;
    if (!allowed) {
        c->refused_principal++;
        CCHC_LOG(CCHC_LOG_WARN, "not_allowed", "principal=%s body=%d", unit, (int)env->body_case);
        srv_refusals_record(self->refusals, SRV_REFUSAL_NOT_ALLOWED, peer->principal, peer->key_id,
                            NULL, srv_refusals_body_name(env->body_case));
        srv_router_nack(router, peer, env->agent_epoch, env->msg_id,
                        CCHC__V1__NACK_REASON__NACK_UNSUPPORTED, "not allowed for this principal",
                        NULL);
        cchc_wire_free(&env);
        return;
    }
    srv_handlers_t *h = &self->h;
    switch (env->body_case) {
    case CCHC__V1__ENVELOPE__BODY_HELLO:
        srv_handle_hello(h, peer, env);
        break;
    case CCHC__V1__ENVELOPE__BODY_NOTIFICATION_ACK:
        srv_handle_notification_ack(h, peer, env);
        break;
    case CCHC__V1__ENVELOPE__BODY_REPLAY:
        srv_handle_replay(h, peer, env);
        break;
    case CCHC__V1__ENVELOPE__BODY_REPORT:
        srv_handle_report(h, peer, &env, data, len); /* may keep env */
        break;
    case CCHC__V1__ENVELOPE__BODY_META_REQUEST:
        srv_handle_meta_request(h, peer, env);
        break;
    case CCHC__V1__ENVELOPE__BODY_ACK:
    case CCHC__V1__ENVELOPE__BODY_NACK:
    case CCHC__V1__ENVELOPE__BODY_META:
    case CCHC__V1__ENVELOPE__BODY_META_CHANGED:
    case CCHC__V1__ENVELOPE__BODY_NOTIFICATION:
    case CCHC__V1__ENVELOPE__BODY_REPLAY_END:
        /* An answer (or an announcement, which only the server makes) is
         * never answered, so two confused peers cannot loop. */
        c->ignored++;
        CCHC_LOG(CCHC_LOG_DEBUG, "ignored", "unit=%s body=%d", unit, (int)env->body_case);
        break;
    default:
        CCHC_LOG(CCHC_LOG_WARN, "unsupported", "unit=%s body=%d", unit, (int)env->body_case);
        srv_router_nack(router, peer, env->agent_epoch, env->msg_id,
                        CCHC__V1__NACK_REASON__NACK_UNSUPPORTED, "unknown message body", NULL);
        break;
    }
    cchc_wire_free(&env);
}

static void s_read_router(srv_server_t *self)
{
    void *router = srv_router_socket(self->router);
    for (int i = 0; i < S_READ_BATCH; i++) {
        zmq_msg_t rid, msg;
        zmq_msg_init(&rid);
        if (zmq_msg_recv(&rid, router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&rid);
            if (zmq_errno() != EAGAIN && zmq_errno() != EINTR)
                CCHC_LOG(CCHC_LOG_ERROR, "recv", "err=\"%s\"", zmq_strerror(zmq_errno()));
            return;
        }
        zmq_msg_init(&msg);
        /* A ROUTER always prefixes the routing id; the rest of a multipart
         * message is already queued, so these reads do not wait. */
        if (!zmq_msg_more(&rid) || zmq_msg_recv(&msg, router, 0) < 0) {
            zmq_msg_close(&msg);
            zmq_msg_close(&rid);
            continue;
        }
        size_t extra = 0;
        int more = zmq_msg_more(&msg);
        while (more) {
            zmq_msg_t x;
            zmq_msg_init(&x);
            more = zmq_msg_recv(&x, router, 0) >= 0 && zmq_msg_more(&x);
            zmq_msg_close(&x);
            extra++;
        }
        const char *user = zmq_msg_gets(&msg, "User-Id");
        srv_peer_t peer = {.rid = zmq_msg_data(&rid),
                           .rid_len = zmq_msg_size(&rid),
                           .principal = user ? user : "",
                           .key_id = zmq_msg_gets(&msg, SRV_ZAP_KEY_ID_PROP)};
        /* Checked per message, not only at the handshake: a key revoked or
         * expired while its connection is open is refused from then on. */
        int key_ok =
            peer.principal[0] && srv_zap_key_valid(self->zap, peer.key_id, cchc_clock_now_ms());
        /* Any message proves the agent is there, whatever it says.
         * Subscribers are no unit: no contact row, no MetaChanged. */
        if (key_ok && !srv_notify_is_subscriber(peer.principal)) {
            int64_t now = cchc_clock_mono_ms();
            srv_peers_touch(self->peers, peer.rid, peer.rid_len, peer.principal, now);
            srv_handle_contact(&self->h, peer.principal, now);
        }
        s_dispatch(self, &peer, zmq_msg_data(&msg), zmq_msg_size(&msg), extra,
                   key_ok || !peer.principal[0]);
        zmq_msg_close(&msg);
        zmq_msg_close(&rid);
    }
}

static int s_signals(srv_server_t *self, int install, struct sigaction old[3])
{
    static const int sigs[3] = {SIGTERM, SIGINT, SIGPIPE};
    if (!install) {
        for (int i = 0; i < 3; i++)
            sigaction(sigs[i], &old[i], NULL);
        s_wake_fd = -1;
        return CCHC_OK;
    }
    if (pipe(self->wake) != 0) {
        CCHC_LOG(CCHC_LOG_ERROR, "pipe", "err=\"%s\"", strerror(errno));
        return CCHC_EIO;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(self->wake[i], F_SETFL, fcntl(self->wake[i], F_GETFL) | O_NONBLOCK);
        fcntl(self->wake[i], F_SETFD, FD_CLOEXEC);
    }
    s_wake_fd = self->wake[1];
    for (int i = 0; i < 3; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sigemptyset(&sa.sa_mask);
        /* A peer closing a socket must not kill us; libpq and libzmq see
         * EPIPE instead. */
        sa.sa_handler = sigs[i] == SIGPIPE ? SIG_IGN : s_on_signal;
        sa.sa_flags = SA_RESTART;
        sigaction(sigs[i], &sa, &old[i]);
    }
    return CCHC_OK;
}

/* True when the self-pipe had something (a signal arrived). */
static int s_drain_wake(srv_server_t *self)
{
    char buf[64];
    int got = 0;
    while (read(self->wake[0], buf, sizeof buf) > 0)
        got = 1;
    return got;
}

static void s_log_counters(srv_server_t *self)
{
    const srv_counters_t *c = srv_router_counters(self->router);
    unsigned long long zap_ok = 0, zap_refused = 0;
    srv_zap_stats(self->zap, &zap_ok, &zap_refused);
    const srv_notify_stats_t *ns = srv_notify_stats(self->notify);
    CCHC_LOG(
        CCHC_LOG_INFO, "stats",
        "received=%llu hellos=%llu reports=%llu stored=%llu duplicates=%llu acked=%llu "
        "nack_unit_mismatch=%llu nack_invalid=%llu nack_unsupported=%llu "
        "nack_malformed=%llu nack_busy=%llu nack_key_revoked=%llu ignored=%llu send_failed=%llu "
        "accepted=%llu rejected=%llu meta_requests=%llu meta_sent=%llu "
        "meta_unchanged=%llu meta_changed=%llu zap_accepted=%llu zap_refused=%llu "
        "refused_busy_pending=%llu refused_busy_peer=%llu refused_busy_db=%llu "
        "refused_oversize=%llu batches=%llu batch_rows=%llu batch_splits=%llu "
        "db_reconnects=%llu resent_batches=%llu refused_principal=%llu refused_revoked=%llu "
        "notify_published=%llu notify_pushed=%llu notify_replayed=%llu notify_replays=%llu "
        "notify_acks=%llu notify_ack_writes=%llu notify_dropped=%llu "
        "notify_unsendable=%llu notify_lagging=%llu notify_refused_topic=%llu "
        "notify_revoked=%llu subscribers=%llu notify_last_seq=%llu pending=%zu",
        c->received, c->hellos, c->reports, c->stored, c->duplicates, c->acked,
        c->nack_unit_mismatch, c->nack_invalid, c->nack_unsupported, c->nack_malformed,
        c->nack_busy, c->nack_key_revoked, c->ignored, c->send_failed, c->accepted, c->rejected,
        c->meta_requests, c->meta_sent, c->meta_unchanged, c->meta_changed, zap_ok, zap_refused,
        c->refused_busy_pending, c->refused_busy_peer, c->refused_busy_db, c->refused_oversize,
        c->batches, c->batch_rows, c->batch_splits, c->db_reconnects, c->resent_batches,
        c->refused_principal, c->refused_revoked, ns->published, ns->pushed, ns->replayed,
        ns->replays, ns->acks, ns->ack_writes, ns->dropped, ns->oversize, ns->lagging,
        ns->refused_topic, ns->revoked, ns->sub_sessions,
        (unsigned long long)srv_notify_last_published(self->notify),
        srv_batch_pending(self->batch));
    self->logged = *c;
    self->logged_notify = *ns;
}

/* STATUS= for `systemctl status`: what an operator asks first (is it
 * serving, how many agents, is anything stuck). Sent with the stats line, so
 * at most once a minute. */
static void s_sd_status(srv_server_t *self)
{
    const srv_counters_t *c = srv_router_counters(self->router);
    cchc_sdnotify_send(NULL,
                       "serving on %s: %zu agents heard from in the last %d min; since start "
                       "%llu reports stored, %llu refused, %llu answered busy; %zu pending",
                       self->endpoint, srv_peers_count(self->peers), SRV_PEERS_IDLE_MS / 60000,
                       c->stored, c->rejected, c->nack_busy, srv_batch_pending(self->batch));
}

/* The server's own timers, after the database's. */
static void s_on_timers(srv_server_t *self, int64_t now)
{
    srv_units_on_timer(self->units, now);
    if (now >= self->prune_due_ms) {
        self->prune_due_ms = now + S_PRUNE_EVERY_MS;
        size_t gone = srv_peers_prune(self->peers, now);
        if (gone)
            CCHC_LOG(CCHC_LOG_DEBUG, "peers_pruned", "gone=%zu left=%zu", gone,
                     srv_peers_count(self->peers));
    }
    srv_refusals_on_timer(self->refusals, now);
    srv_metrics_on_timer(self->metrics, now);
    if (now >= self->stats_due_ms) {
        self->stats_due_ms = now + S_STATS_EVERY_MS;
        if (memcmp(&self->logged, srv_router_counters(self->router), sizeof self->logged) != 0 ||
            memcmp(&self->logged_notify, srv_notify_stats(self->notify),
                   sizeof self->logged_notify) != 0) {
            s_log_counters(self);
            s_sd_status(self);
        }
    }
}

int srv_server_run(srv_server_t *self)
{
    struct sigaction old[3];
    if (s_signals(self, 1, old) != 0)
        return CCHC_EIO;
    /* Only now: a supervisor (or a test) that waits for this line may signal
     * at once, and a SIGINT before the handler would be lost (a background
     * job of a non-interactive shell starts with SIGINT ignored). */
    CCHC_LOG(CCHC_LOG_INFO, "listening", "endpoint=%s max_frame=%zu keys=%zu io_threads=%lld",
             self->endpoint, srv_router_max_frame(self->router), srv_zap_count(self->zap),
             (long long)self->cfg.io_threads);
    /* Ready: the database answered and is migrated (srv_server_new), the
     * ROUTER is bound and a SIGTERM from now on drains. */
    if (cchc_sdnotify_send(CCHC_SDNOTIFY_READY,
                           "listening on %s; schema %d; %zu agent keys; waiting for agents",
                           self->endpoint, srv_migrate_latest(), srv_zap_count(self->zap)) < 0)
        CCHC_LOG(CCHC_LOG_WARN, "sd_notify", "err=\"could not notify the service manager: %s\"",
                 strerror(errno));
    int rc = CCHC_OK, draining = 0;
    int64_t deadline = -1;
    unsigned long long acked_before = 0;
    size_t abandoned = 0;
    for (;;) {
        zmq_pollitem_t items[5 + SRV_STORE_CONNECTIONS_MAX];
        int n = 0, i_router = -1, i_db = -1, i_sched = -1, i_store[SRV_STORE_CONNECTIONS_MAX];
        items[n++] = (zmq_pollitem_t){.fd = self->wake[0], .events = ZMQ_POLLIN};
        items[n++] = (zmq_pollitem_t){.socket = srv_zap_socket(self->zap), .events = ZMQ_POLLIN};
        if (!draining) {
            i_router = n;
            items[n++] =
                (zmq_pollitem_t){.socket = srv_router_socket(self->router), .events = ZMQ_POLLIN};
        }
        int fd;
        short events;
        srv_db_pollfd(self->db, &fd, &events);
        if (fd >= 0) {
            i_db = n;
            items[n++] = (zmq_pollitem_t){.fd = fd, .events = events};
        }
        size_t nstore = srv_batch_dbs(self->batch);
        for (size_t k = 0; k < nstore; k++) {
            srv_db_pollfd(srv_batch_db(self->batch, k), &fd, &events);
            i_store[k] = fd >= 0 ? n : -1;
            if (fd >= 0)
                items[n++] = (zmq_pollitem_t){.fd = fd, .events = events};
        }
        if (srv_sched_fd(self->sched) >= 0) {
            i_sched = n;
            items[n++] = (zmq_pollitem_t){.fd = srv_sched_fd(self->sched), .events = ZMQ_POLLIN};
        }
        int64_t now = cchc_clock_mono_ms(), next = srv_db_next_timer(self->db);
        for (size_t k = 0; k < nstore; k++) {
            int64_t t = srv_db_next_timer(srv_batch_db(self->batch, k));
            if (t >= 0 && (next < 0 || t < next))
                next = t;
        }
        int64_t mine[8] = {draining ? deadline : -1,
                           srv_units_next_timer(self->units),
                           self->prune_due_ms,
                           self->stats_due_ms,
                           srv_batch_next_timer(self->batch),
                           draining ? -1 : srv_notify_next_timer(self->notify),
                           srv_refusals_next_timer(self->refusals),
                           srv_metrics_next_timer(self->metrics)};
        for (int k = 0; k < 8; k++)
            if (mine[k] >= 0 && (next < 0 || mine[k] < next))
                next = mine[k];
        long timeout = next < 0 ? -1 : next <= now ? 0 : (long)(next - now);
        if (zmq_poll(items, n, timeout) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            CCHC_LOG(CCHC_LOG_ERROR, "poll", "err=\"%s\"", zmq_strerror(zmq_errno()));
            rc = CCHC_EIO;
            break;
        }
        if ((items[0].revents & ZMQ_POLLIN) && s_drain_wake(self)) {
            if (draining) {
                CCHC_LOG(CCHC_LOG_WARN, "shutdown_forced", "pending=%zu",
                         srv_batch_pending(self->batch));
                cchc_sdnotify_send(NULL,
                                   "stopping now (second signal): %zu pending reports "
                                   "answered busy, the agents resend them",
                                   srv_batch_pending(self->batch));
                deadline = cchc_clock_mono_ms();
            } else {
                draining = 1;
                deadline = cchc_clock_mono_ms() + self->grace_ms;
                acked_before = srv_router_counters(self->router)->acked;
                CCHC_LOG(CCHC_LOG_INFO, "draining", "pending=%zu grace_ms=%lld",
                         srv_batch_pending(self->batch), (long long)self->grace_ms);
                cchc_sdnotify_send(CCHC_SDNOTIFY_STOPPING,
                                   "stopping: storing and answering %zu pending reports "
                                   "(for up to %lld ms)",
                                   srv_batch_pending(self->batch), (long long)self->grace_ms);
                srv_batch_drain(self->batch);
                srv_sched_stop(self->sched);
                /* The counts held go out with the rest of the drain. */
                srv_refusals_flush(self->refusals);
            }
        }
        if (i_db >= 0 && items[i_db].revents)
            srv_db_on_ready(self->db, items[i_db].revents);
        for (size_t k = 0; k < nstore; k++)
            if (i_store[k] >= 0 && items[i_store[k]].revents)
                srv_db_on_ready(srv_batch_db(self->batch, k), items[i_store[k]].revents);
        if (items[1].revents & ZMQ_POLLIN)
            srv_zap_handle(self->zap);
        if (i_sched >= 0 && (items[i_sched].revents & ZMQ_POLLIN))
            srv_sched_on_ready(self->sched);
        if (i_router >= 0 && !draining && (items[i_router].revents & ZMQ_POLLIN))
            s_read_router(self);
        now = cchc_clock_mono_ms();
        srv_db_on_timer(self->db, now);
        for (size_t k = 0; k < nstore; k++)
            srv_db_on_timer(srv_batch_db(self->batch, k), now);
        srv_batch_on_timer(self->batch, now);
        s_on_timers(self, now);
        if (!draining)
            srv_notify_on_timer(self->notify, now);
        if (draining && srv_batch_pending(self->batch) == 0 && srv_db_pending(self->db) == 0)
            break;
        if (draining && now >= deadline) {
            abandoned = srv_batch_pending(self->batch);
            srv_batch_abandon(self->batch);
            break;
        }
    }
    srv_sched_join(self->sched);
    if (rc == CCHC_OK)
        CCHC_LOG(CCHC_LOG_INFO, "shutdown", "acked=%llu drained=%llu abandoned=%zu",
                 srv_router_counters(self->router)->acked,
                 srv_router_counters(self->router)->acked - acked_before, abandoned);
    s_log_counters(self);
    s_signals(self, 0, old);
    return rc;
}
