/* srv_notify.h: delivery of notifications (rows first, then pushed).
 *
 * Notifications are rows of the notifications table, numbered in commit
 * order. This module reads them back and delivers them, missing nothing:
 *   - the publisher keeps last_published (max(seq) at start, so a restart
 *     does not republish history) and, whenever new rows may exist (a kick
 *     from the scheduler or a committed report batch, and a poll every
 *     SRV_NOTIFY_POLL_MS), fetches the rows after it in seq order,
 *     SRV_NOTIFY_BATCH per segment, and pushes each over the ROUTER to every
 *     agent session of the recipient unit and every subscriber session whose
 *     topics match;
 *   - an agent's Hello{last_seq} opens (or renews) its session and replays,
 *     from the table, every notification of its unit after last_seq, in
 *     order, a segment at a time, before live pushes resume for it;
 *   - an agent's NotificationAck{seq} moves unit_contacts.last_seq forward,
 *     coalesced per unit, written at most every SRV_NOTIFY_ACK_EVERY_MS;
 *   - a subscriber's Replay{since_seq, topics} is answered with every
 *     notification after since_seq whose topic starts with one of the
 *     requested prefixes and one of the subscriber's own, in seq order,
 *     then ReplayEnd{last_seq}: the highest seq the replay covered. With
 *     follow set it opens (or renews) a subscriber session: after the
 *     ReplayEnd the matching rows are pushed live. The subscriber acks by
 *     seq (NotificationAck); at most max_pending pushed rows may wait for
 *     its ack. A session at its limit stops being pushed to and catches up
 *     from the table instead, a segment at a time as the acks come in
 *     (counted: lagging). A requested prefix that shares nothing with the
 *     subscriber's own is refused (CCHC_EPERM: NACK_INVALID, counted). Each
 *     push checks the subscriber's key: a revoked key ends its session.
 * Subscribers get notifications over the ROUTER, not a PUB socket: a PUB
 * cannot filter subscriptions per principal, nor end one subscriber's feed
 * when its key is revoked, nor say whom it dropped copies for (and
 * XPUB_MANUAL, which could filter, has a use-after-free on pipes that end
 * before their subscription is read in libzmq 4.3.4, fixed in 4.3.5).
 * Sends never block (ZMQ_DONTWAIT). A push that cannot be queued drops the
 * session (an agent's next Hello, a subscriber's next Replay, replays what
 * it missed); a one-shot replay that cannot be queued is abandoned without
 * ReplayEnd (the subscriber asks again). */
#ifndef SRV_NOTIFY_H
#define SRV_NOTIFY_H

#include "cchc_wire.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* Rows read per segment, by the publisher and by each replay. */
#define SRV_NOTIFY_BATCH 500
/* Fallback poll for new rows. */
#define SRV_NOTIFY_POLL_MS 1000
/* unit_contacts.last_seq is written at most this often. */
#define SRV_NOTIFY_ACK_EVERY_MS 1000
/* Subscriber replays running at once; more are answered NACK_BUSY. */
#define SRV_NOTIFY_MAX_REPLAYS 64
/* A Replay may name this many topic prefixes of at most this many bytes. */
#define SRV_NOTIFY_MAX_TOPICS 64
#define SRV_NOTIFY_MAX_TOPIC_LEN 200
/* Pushed rows a subscriber may leave unacknowledged, by default. */
#define SRV_NOTIFY_SUB_MAX_PENDING 1000
/* ZAP User-Id prefix of subscribers ("sub:<name>"); units have none. */
#define SRV_NOTIFY_SUB_PREFIX "sub:"

typedef struct srv_notify srv_notify_t;
typedef struct srv_router srv_router_t;
typedef struct srv_db srv_db_t;
typedef struct srv_zap srv_zap_t;

/* What the module did since start (logged with the server's stats). */
typedef struct {
    unsigned long long published;   /* rows read by the publisher */
    unsigned long long pushed;      /* live pushes to agents and subscribers */
    unsigned long long replayed;    /* rows sent in replays (agents and subscribers) */
    unsigned long long replays;     /* replays started */
    unsigned long long acks;        /* NotificationAck received */
    unsigned long long ack_writes;  /* unit_contacts updates committed */
    unsigned long long dropped;     /* sessions dropped: a send failed or key revoked */
    unsigned long long oversize;    /* rows too large for a frame: not sent */
    unsigned long long lagging;     /* subscriber sessions that hit max_pending */
    unsigned long long refused_topic; /* Replays asking only outside their topics */
    unsigned long long revoked;     /* subscriber sessions ended by a revoked key */
    unsigned long long sub_sessions; /* subscriber sessions open now */
} srv_notify_stats_t;

/* router (pushes, answers), db and zap (subscribers' keys) are borrowed;
 * sub_max_pending: pushed rows a subscriber may leave unacknowledged. */
srv_notify_t *srv_notify_new(srv_router_t *router, srv_db_t *db, srv_zap_t *zap,
                             size_t sub_max_pending);
/* Frees sessions and pending acks. Jobs on the database must have been
 * failed first (srv_db_abandon). */
void srv_notify_destroy(srv_notify_t **self_p);

/* Reads max(seq) on the blocking start-up connection: publishing starts
 * after it. 0 or CCHC_EIO with err set. */
int srv_notify_start(srv_notify_t *self, PGconn *conn, char *err, size_t errlen);

/* New rows may exist (a scheduler tick or a report batch committed). Cheap:
 * the fetch happens at the next srv_notify_on_timer, once per turn. */
void srv_notify_kick(srv_notify_t *self);
/* The same, with the signature a generic "committed" hook takes (arg is
 * the srv_notify_t); for srv_sched_on_committed. */
void srv_notify_committed(void *arg);
/* The database connection is back: fetch, and write pending acks. */
void srv_notify_on_connect(srv_notify_t *self);

/* Monotonic ms of the next timer, or -1. */
int64_t srv_notify_next_timer(const srv_notify_t *self);
/* Runs due work: fetch, ack writes, session pruning. */
void srv_notify_on_timer(srv_notify_t *self, int64_t now_ms);

/* Handlers, called by the server's dispatch for the right principal only.
 * rid/principal are borrowed for the call. */
void srv_notify_hello(srv_notify_t *self, const uint8_t *rid, size_t rid_len, const char *unit,
                      uint64_t last_seq);
void srv_notify_ack(srv_notify_t *self, const uint8_t *rid, size_t rid_len, const char *unit,
                    uint64_t seq);
/* own: the subscriber's topic prefixes (borrowed); key_id: its key's
 * SRV_ZAP_KEY_ID_PROP, checked on every push. Returns 0 when the replay
 * started (or one is running for this session); CCHC_EAGAIN (too many
 * replays or database down: answer NACK_BUSY), CCHC_EINVAL (too many or too
 * long prefixes) or CCHC_EPERM (no requested prefix meets its own): answer
 * NACK_INVALID. */
int srv_notify_replay(srv_notify_t *self, const uint8_t *rid, size_t rid_len, const char *principal,
                      const char *key_id, const Cchc__V1__Replay *req, const char *const *own,
                      size_t n_own);
/* A subscriber's NotificationAck: frees room under max_pending. */
void srv_notify_sub_ack(srv_notify_t *self, const uint8_t *rid, size_t rid_len, uint64_t seq);
/* The index of the first requested prefix that shares no topic with any
 * own prefix (neither starts with the other), or -1 when all do. */
int srv_notify_topic_outside(const char *const *want, size_t n_want, const char *const *own,
                             size_t n_own);
/* True when topic starts with one of the n prefixes. */
int srv_notify_topic_match(const char *topic, const char *const *prefixes, size_t n);

/* True when principal is a subscriber's ZAP User-Id. */
int srv_notify_is_subscriber(const char *principal);

const srv_notify_stats_t *srv_notify_stats(const srv_notify_t *self);
/* Highest seq published so far. */
uint64_t srv_notify_last_published(const srv_notify_t *self);

#endif
