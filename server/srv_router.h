/* srv_router.h: the ROUTER that agents and subscribers connect to, and
 * everything sent on it.
 *
 * Owns the socket, the counters of what came and went, and the three ways
 * out: send a frame, Ack a report, Nack a message. The server makes it and
 * reads it in its loop; the handlers, the batch and notify are handed it
 * (borrowed) to answer through, so that none of them reaches back into the
 * loop. A peer found gone on send (EHOSTUNREACH) is told to the on_gone hook. */
#ifndef SRV_ROUTER_H
#define SRV_ROUTER_H

#include "cchc_findings.h"
#include "cchc_wire.h"
#include "srv_config.h"
#include "srv_hist.h"

#include <stddef.h>
#include <stdint.h>

typedef struct srv_router srv_router_t;

/* Error codes E000..E(SRV_REFUSED_CODES - 1) counted one by one in
 * refused_code; any other code in its last slot. */
#define SRV_REFUSED_CODES 100

/* What happened since start; logged (event=stats) every minute when it
 * changed, and at shutdown, and shown by /metrics (srv_metrics.c). */
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
    unsigned long long nack_key_revoked;
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
    unsigned long long store_reconnects;     /* of db_reconnects, the store connections' */
    /* Nacks INVALID carrying an error finding of that code (once per Nack). */
    unsigned long long refused_code[SRV_REFUSED_CODES + 1];
    srv_hist_t batch_reports; /* reports per batch */
    srv_hist_t batch_commit;  /* seconds from a batch's start to each commit of it */
} srv_counters_t;

/* Who sent a message: its routing id on the ROUTER and the principal that
 * ZAP gave its key ("" if none). Borrowed for the duration of a call. */
typedef struct {
    const uint8_t *rid;
    size_t rid_len;
    const char *principal;
    const char *key_id; /* SRV_ZAP_KEY_ID_PROP of its connection, or NULL */
} srv_peer_t;

/* Makes the ROUTER on zmq_ctx with cfg's socket options, and binds it.
 * The ZAP handler must be in place first. NULL with err on failure. */
srv_router_t *srv_router_new(void *zmq_ctx, const srv_config_t *cfg, const char *secret_z85,
                             char *err, size_t errlen);
/* Closes the socket (what is queued goes within its linger). */
void srv_router_destroy(srv_router_t **self_p);

/* The socket, borrowed: the loop polls and reads it. */
void *srv_router_socket(srv_router_t *self);
srv_counters_t *srv_router_counters(srv_router_t *self);
/* The largest frame we send or receive, bytes. */
size_t srv_router_max_frame(const srv_router_t *self);
/* Tells fn (rid borrowed) when a send finds a peer gone. */
void srv_router_on_gone(srv_router_t *self, void (*fn)(void *arg, const uint8_t *rid, size_t len),
                        void *arg);

/* Sends one frame to a peer without blocking. A peer that is gone or slow
 * is logged and counted, not fatal: the agent resends. 0 or CCHC_EAGAIN. */
int srv_router_send(srv_router_t *self, const srv_peer_t *peer, const uint8_t *buf, size_t len);
/* Packs and sends an Ack with its warnings (may be NULL); counts it. */
void srv_router_ack(srv_router_t *self, const srv_peer_t *peer, uint64_t epoch, uint64_t msg_id,
                    int64_t report_id, int duplicate, const cchc_findings_t *warnings);
/* Packs and sends a Nack (findings may be NULL); counts it by reason. */
void srv_router_nack(srv_router_t *self, const srv_peer_t *peer, uint64_t epoch, uint64_t msg_id,
                     Cchc__V1__NackReason reason, const char *detail,
                     const cchc_findings_t *findings);

/* Formats untrusted text as one log value: bare when it is a plain token,
 * else quoted with quotes, backslashes and control bytes escaped; cut to
 * fit buf (at least 8 bytes). Returns buf. */
const char *srv_logstr(char *buf, size_t len, const char *s);

/* The detail of NACK_KEY_REVOKED: what happened and what to do, in
 * Vietnamese and English, for the peers older than that reason too. */
#define SRV_KEY_REVOKED_DETAIL                                                                     \
    "Khoá đã bị thu hồi hoặc hết hạn, máy chủ không nhận tin này: "                                \
    "đề nghị Phòng Nội vụ cấp khoá mới (key revoked or expired, "                                  \
    "nothing was stored: ask the district for a new key)"
/* The same for a key of a unit closed longer than [units] closed_key_grace_days. */
#define SRV_KEY_CLOSED_DETAIL                                                                      \
    "Đơn vị đã giải thể hoặc sáp nhập, hết thời gian dùng khoá: máy chủ không nhận tin này; "      \
    "báo cáo còn nợ do đơn vị kế thừa nộp thay (the unit closed and its keys' grace is over, "     \
    "nothing was stored: its successor submits what it still owed)"

#endif
