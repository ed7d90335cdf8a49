/* srv_notify.h: delivery of notifications (rows first, then pushed).
 *
 * Notifications are rows of the notifications table, numbered in commit
 * order. This module reads them back and delivers them, missing nothing:
 *   - the publisher keeps last_published (max(seq) at start, so a restart
 *     does not republish history) and, whenever new rows may exist (a kick
 *     from the scheduler or a committed report batch, and a poll every
 *     SRV_NOTIFY_POLL_MS), fetches the rows after it in seq order,
 *     SRV_NOTIFY_BATCH per segment, and for each: publishes it on the CURVE
 *     PUB socket as [topic][Envelope{notification}], and pushes it over the
 *     ROUTER to every agent session of the recipient unit;
 *   - an agent's Hello{last_seq} opens (or renews) its session and replays,
 *     from the table, every notification of its unit after last_seq, in
 *     order, a segment at a time, before live pushes resume for it;
 *   - an agent's NotificationAck{seq} moves unit_contacts.last_seq forward,
 *     coalesced per unit, written at most every SRV_NOTIFY_ACK_EVERY_MS;
 *   - a subscriber's Replay{since_seq, topics} is answered with every
 *     notification after since_seq whose topic starts with one of the
 *     requested prefixes and one of the subscriber's own, in seq order,
 *     then ReplayEnd{last_seq}: the highest seq the replay covered.
 * Sends never block (ZMQ_DONTWAIT). A push that cannot be queued drops the
 * agent's session (its next Hello replays what it missed); a replay that
 * cannot be queued is abandoned without ReplayEnd (the subscriber asks
 * again). */
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
/* ZAP User-Id prefix of subscribers ("sub:<name>"); units have none. */
#define SRV_NOTIFY_SUB_PREFIX "sub:"

typedef struct srv_notify srv_notify_t;
typedef struct srv_server srv_server_t;
typedef struct srv_db srv_db_t;

/* What the module did since start (logged with the server's stats). */
typedef struct {
    unsigned long long published;   /* rows sent on the PUB socket */
    unsigned long long pushed;      /* live pushes to agents */
    unsigned long long replayed;    /* rows sent in replays (agents and subscribers) */
    unsigned long long replays;     /* replays started */
    unsigned long long acks;        /* NotificationAck received */
    unsigned long long ack_writes;  /* unit_contacts updates committed */
    unsigned long long pub_dropped; /* PUB sends that failed */
    unsigned long long oversize;    /* rows too large for a frame: not sent */
} srv_notify_stats_t;

/* Creates the PUB socket (CURVE server, secret_z85 copied into it, ZAP
 * domain SRV_ZAP_DOMAIN_PUB) and binds pub_endpoint ("" disables the PUB).
 * An address in use is not fatal: the bind is retried every few seconds,
 * since PUB only carries copies. NULL on any other failure, err says why. */
srv_notify_t *srv_notify_new(srv_server_t *server, void *ctx, const char *pub_endpoint,
                             const char *secret_z85, char *err, size_t errlen);
/* Closes the socket, frees sessions and pending acks. Jobs on the database
 * must have been failed first (srv_db_abandon). */
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
/* Runs due work: fetch, ack writes, session pruning, PUB re-bind. */
void srv_notify_on_timer(srv_notify_t *self, int64_t now_ms);

/* Handlers, called by the server's dispatch for the right principal only.
 * rid/principal are borrowed for the call. */
void srv_notify_hello(srv_notify_t *self, const uint8_t *rid, size_t rid_len, const char *unit,
                      uint64_t last_seq);
void srv_notify_ack(srv_notify_t *self, const uint8_t *rid, size_t rid_len, const char *unit,
                    uint64_t seq);
/* own: the subscriber's topic prefixes (borrowed). Returns 0 when the
 * replay started; CCHC_EAGAIN (too many replays or database down: answer
 * NACK_BUSY) or CCHC_EINVAL (too many or too long prefixes: NACK_INVALID). */
int srv_notify_replay(srv_notify_t *self, const uint8_t *rid, size_t rid_len, const char *principal,
                      const Cchc__V1__Replay *req, const char *const *own, size_t n_own);

/* True when principal is a subscriber's ZAP User-Id. */
int srv_notify_is_subscriber(const char *principal);

const srv_notify_stats_t *srv_notify_stats(const srv_notify_t *self);
/* Highest seq published so far. */
uint64_t srv_notify_last_published(const srv_notify_t *self);

#endif
