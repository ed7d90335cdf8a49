/* agt_window.h: the window of reports in flight (internal to agt_link).
 *
 * Which queued rows are on the wire now, how many bytes they weigh, and when
 * each is due to be (re)sent. Bounded by [agent] window (reports) and
 * window_bytes (payload bytes), filled from the oldest heads of the queue
 * (agt_outbox_queued_heads: per report key, the lowest revision), never with
 * two rows of one report key, and never so small that no report can be in
 * flight. So the revisions of one report go one at a time, in revision order:
 * the next is sent only once the server has answered the one before, and a
 * resend (after a reconnect, a timeout or BUSY) cannot put an older revision
 * behind a newer one. Payloads stay in the outbox. */
#ifndef AGT_WINDOW_H
#define AGT_WINDOW_H

#include "agt_outbox.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t id;       /* outbox row id, the Envelope's msg_id */
    uint64_t key;     /* hash of its report key (type, unit, period, subject) */
    int64_t bytes;    /* payload length, counted against window_bytes */
    int64_t due;      /* monotonic ms when it is (re)sent next */
    unsigned resends; /* sends on this connection, for the resend backoff */
    unsigned busy;    /* transient Nacks in a row, for the BUSY backoff */
} agt_flight_t;

typedef struct agt_window_t agt_window_t;

/* A window of at most max_reports rows and max_bytes payload bytes (at least
 * one row whatever its size). seed makes the jitter differ between agents. */
agt_window_t *agt_window_new(size_t max_reports, int64_t max_bytes, uint64_t seed);
/* Accepts NULL and sets *self_p to NULL. */
void agt_window_destroy(agt_window_t **self_p);

/* Reports and payload bytes in flight. */
size_t agt_window_len(const agt_window_t *self);
int64_t agt_window_bytes(const agt_window_t *self);
/* The i-th entry, by ascending id (borrowed: valid until the window changes). */
agt_flight_t *agt_window_at(agt_window_t *self, size_t i);
/* The entry of row id, or NULL when it is not in flight (borrowed). */
agt_flight_t *agt_window_find(agt_window_t *self, int64_t id);
/* Takes f (an entry of this window) out of it. */
void agt_window_remove(agt_window_t *self, agt_flight_t *f);

/* Adds the oldest heads of the queue not yet in flight, in id order, while
 * both limits allow, skipping a head whose report key has a row in flight
 * already; each is due at now. Returns how many were added, or a negative
 * CCHC_E* code when the outbox cannot be read (nothing changes). */
int agt_window_fill(agt_window_t *self, agt_outbox_t *outbox, int64_t now);

/* f was just sent at now: it is due again after the resend backoff,
 * timeout_ms doubling with every resend up to cap_ms, plus jitter. The timer
 * restarts with every send, and it never gives up. */
void agt_window_sent(agt_window_t *self, agt_flight_t *f, int64_t now, int64_t timeout_ms,
                     int64_t cap_ms);
/* f was answered "busy, retry later": it is due after 1 s doubling with every
 * busy answer in a row up to 30 s, plus jitter. Returns the delay in ms. The
 * other entries keep their own timers. */
int64_t agt_window_busy(agt_window_t *self, agt_flight_t *f, int64_t now);
/* A new connection: whatever was in flight on the old one may be lost, so
 * every entry is due at now and its backoffs start again. */
void agt_window_resend_all(agt_window_t *self, int64_t now);
/* The earliest due time, INT64_MAX when the window is empty. */
int64_t agt_window_next_due(const agt_window_t *self);

/* base * 2^step, capped at cap, plus up to a quarter more at random so that
 * agents that lost the server together do not all come back in the same
 * second. */
int64_t agt_window_backoff(agt_window_t *self, int64_t base, unsigned step, int64_t cap);

#endif
