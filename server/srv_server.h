/* srv_server.h: the cchc-server object, its loop, and what handlers use.
 *
 * The server owns the zmq context, the ROUTER that agents connect to, the
 * ZAP handler, the database connection and the signal self-pipe, all driven
 * by one zmq_poll loop in one thread. Handlers (srv_handle_<kind>.c) get the
 * decoded envelope and the peer, and answer through srv_server_send/_nack. */
#ifndef SRV_SERVER_H
#define SRV_SERVER_H

#include "cchc_findings.h"
#include "cchc_wire.h"
#include "srv_config.h"
#include "srv_db.h"
#include "srv_map.h"
#include "srv_notify.h"
#include "srv_peers.h"

#include <stddef.h>
#include <stdint.h>

/* After a change is announced, wait this long for more before telling agents
 * (an import changes hundreds of rows, one NOTIFY each). */
#define SRV_SERVER_META_COALESCE_MS 200
/* How long the first connection to PostgreSQL may take, retries included. */
#define SRV_SERVER_DB_START_MS 30000

typedef struct srv_server srv_server_t;
typedef struct srv_batch srv_batch_t;
typedef struct srv_zap srv_zap_t;

/* What happened since start; logged (event=stats) every minute when it
 * changed, and at shutdown. */
typedef struct {
    unsigned long long received; /* messages read from the ROUTER */
    unsigned long long hellos;
    unsigned long long reports;    /* Report messages received */
    unsigned long long stored;     /* rows inserted (accepted or rejected) */
    unsigned long long accepted;   /* of which accepted */
    unsigned long long rejected;   /* of which rejected, with their findings */
    unsigned long long duplicates; /* acks for a row stored before */
    unsigned long long acked;      /* Acks sent */
    unsigned long long nack_unit_mismatch;
    unsigned long long nack_invalid;
    unsigned long long nack_unsupported;
    unsigned long long nack_malformed;
    unsigned long long nack_busy;
    unsigned long long ignored;     /* Ack/Nack sent to us: answers are never answered */
    unsigned long long send_failed; /* peer gone or its queue full */
    unsigned long long meta_requests;
    unsigned long long meta_sent;            /* Meta with the document */
    unsigned long long meta_unchanged;       /* Meta saying "you have it" */
    unsigned long long meta_changed;         /* MetaChanged sent, one per peer */
    unsigned long long refused_busy_pending; /* NACK_BUSY: max_pending reached */
    unsigned long long refused_busy_peer;    /* NACK_BUSY: peer_max_inflight reached */
    unsigned long long refused_busy_db;      /* NACK_BUSY: database not connected */
    unsigned long long refused_oversize;     /* frames over max_frame that we saw */
    unsigned long long batches;              /* batches started */
    unsigned long long batch_rows;           /* reports in them */
    unsigned long long batch_splits;         /* a failed segment split in halves */
    unsigned long long db_reconnects;        /* async reconnects completed */
    unsigned long long resent_batches;       /* segments resent after a reconnect */
    unsigned long long refused_principal;    /* a body this principal may not send */
    unsigned long long refused_revoked;      /* a message on a revoked or expired key */
} srv_counters_t;

/* Who sent a message: its routing id on the ROUTER and the unit code that
 * ZAP gave its key ("" if none). Borrowed for the duration of a call. */
typedef struct {
    const uint8_t *rid;
    size_t rid_len;
    const char *principal;
    const char *key_id; /* SRV_ZAP_KEY_ID_PROP of its connection, or NULL */
} srv_peer_t;

/* Connects to the database (retrying up to SRV_SERVER_DB_START_MS), applies
 * migrations, loads the key cache, binds the ZAP handler then the ROUTER.
 * secret_z85 is the server's secret key (copied into the socket only).
 * NULL on failure, err says what and why. */
srv_server_t *srv_server_new(const srv_config_t *cfg, const char *secret_z85, char *err,
                             size_t errlen);
/* Fails what is still queued (NACK_BUSY), closes sockets, disconnects. */
void srv_server_destroy(srv_server_t **self_p);

/* Runs until SIGTERM/SIGINT and a drain of queued work (bounded by
 * shutdown_grace_ms). 0 on a clean stop, CCHC_EIO if the loop failed. */
int srv_server_run(srv_server_t *self);

/* For handlers. Borrowed. */
srv_db_t *srv_server_db(srv_server_t *self);
/* The key cache, borrowed. */
srv_zap_t *srv_server_zap(srv_server_t *self);
srv_counters_t *srv_server_counters(srv_server_t *self);
srv_peers_t *srv_server_peers(srv_server_t *self);
srv_batch_t *srv_server_batch(srv_server_t *self);
/* Notification delivery (srv_notify). */
srv_notify_t *srv_server_notify(srv_server_t *self);
/* Per unit code: monotonic ms when its contact row was last written. */
srv_map_t *srv_server_contacts(srv_server_t *self);
/* max_pending: also the bound on other database work queued. */
size_t srv_server_max_pending(const srv_server_t *self);
/* The largest frame we send or receive, bytes. */
size_t srv_server_max_frame(const srv_server_t *self);

/* The detail of NACK_KEY_REVOKED: what happened and what to do, in
 * Vietnamese and English, for the peers older than that reason too. */
#define SRV_KEY_REVOKED_DETAIL                                                                     \
    "Khoá đã bị thu hồi hoặc hết hạn, máy chủ không nhận tin này: "            \
    "đề nghị Phòng Nội vụ cấp khoá mới (key revoked or expired, "                   \
    "nothing was stored: ask the district for a new key)"

/* Sends one frame to a peer without blocking. A peer that is gone or slow
 * is logged and counted, not fatal: the agent resends. A peer that is gone
 * (EHOSTUNREACH) leaves the peer table. 0 or CCHC_EAGAIN. */
int srv_server_send(srv_server_t *self, const srv_peer_t *peer, const uint8_t *buf, size_t len);
/* Packs and sends an Ack with its warnings (may be NULL); counts it. */
void srv_server_ack(srv_server_t *self, const srv_peer_t *peer, uint64_t epoch, uint64_t msg_id,
                    int64_t report_id, int duplicate, const cchc_findings_t *warnings);
/* Packs and sends a Nack (findings may be NULL); counts it by reason. */
void srv_server_nack(srv_server_t *self, const srv_peer_t *peer, uint64_t epoch, uint64_t msg_id,
                     Cchc__V1__NackReason reason, const char *detail,
                     const cchc_findings_t *findings);

/* Formats untrusted text as one log value: bare when it is a plain token,
 * else quoted with quotes, backslashes and control bytes escaped; cut to
 * fit buf. Returns buf. */
const char *srv_server_logstr(char *buf, size_t len, const char *s);

/* One handler per message kind. env and peer are borrowed for the call. */
void srv_handle_hello(srv_server_t *self, const srv_peer_t *peer, const cchc_envelope_t *env);
void srv_handle_report(srv_server_t *self, const srv_peer_t *peer, const cchc_envelope_t *env);
void srv_handle_meta_request(srv_server_t *self, const srv_peer_t *peer,
                             const cchc_envelope_t *env);

/* Any message from unit: records the contact (last_seen, on the server's
 * injectable clock), at most once per SRV_CONTACT_EVERY_MS per unit by now_ms,
 * the monotonic clock (srv_handle_hello.c). */
void srv_handle_contact(srv_server_t *self, const char *unit, int64_t now_ms);
#define SRV_CONTACT_EVERY_MS 10000

/* Notifications: an agent's NotificationAck, a subscriber's Replay
 * (srv_server.c, handed to srv_notify). */
void srv_handle_notification_ack(srv_server_t *self, const srv_peer_t *peer,
                                 const cchc_envelope_t *env);
void srv_handle_replay(srv_server_t *self, const srv_peer_t *peer, const cchc_envelope_t *env);

/* Sends MetaChanged to every peer in the table (srv_handle_meta.c). */
void srv_handle_meta_broadcast(srv_server_t *self);

#endif
