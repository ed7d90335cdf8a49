/* srv_refusals.h: the principals the server refused, written to the table
 * refusals (migration 015) for `cchc refusals`.
 *
 * A refusal of an authenticated principal (a unit's agent, a subscriber) is
 * counted here per (kind, principal) and per minute of the server's clock:
 * the first of a minute is written at once, the others are added to its row
 * by a flush at most every SRV_REFUSALS_FLUSH_MS. A flood therefore costs one
 * row a minute and one statement a flush per principal, whatever its rate.
 * Writes are fire and forget on the server's connection, skipped while the
 * database is down or its queue is full (the count waits for the next flush,
 * and is dropped when its minute is over). Runs on the loop thread. */
#ifndef SRV_REFUSALS_H
#define SRV_REFUSALS_H

#include "srv_db.h"

#include <stddef.h>
#include <stdint.h>

/* The migration's kinds (refusals.kind), in its order. */
typedef enum {
    SRV_REFUSAL_UNIT_MISMATCH, /* an agent's message for another unit */
    SRV_REFUSAL_KEY_REVOKED,   /* a message on a key revoked since its handshake */
    SRV_REFUSAL_KEY_EXPIRED,   /* a message or a handshake on an expired key */
    SRV_REFUSAL_TOPIC_OUTSIDE, /* a subscriber's topic outside its grant */
    SRV_REFUSAL_NOT_ALLOWED,   /* a message this principal may not send */
    SRV_REFUSAL_UNIT_CLOSED,   /* a message or a handshake on a key of a unit closed for longer
                                  than [units] closed_key_grace_days (migration 020) */
} srv_refusal_kind_t;

/* How often counts held since the first refusal of a minute are written. */
#define SRV_REFUSALS_FLUSH_MS 1000

typedef struct srv_refusals srv_refusals_t;

/* db is borrowed; max_pending: no write is queued while the connection has
 * that many segments queued (reports come first). */
srv_refusals_t *srv_refusals_new(srv_db_t *db, size_t max_pending);
/* Forgets what is not written yet. */
void srv_refusals_destroy(srv_refusals_t **self_p);

/* Counts one refusal of principal (a unit code or "sub:<name>"; "" is not
 * recorded). key_id: the connection's SRV_ZAP_KEY_ID_PROP ("a12", "s3") or
 * NULL; claimed: the other unit or the topic, or NULL; message: what was
 * sent ("report", "handshake"...), or NULL. Strings are copied, untrusted
 * text made safe (cut, control characters replaced). */
void srv_refusals_record(srv_refusals_t *self, srv_refusal_kind_t kind, const char *principal,
                         const char *key_id, const char *claimed, const char *message);

/* The name of a message body (Envelope.body_case), for `message`. Borrowed. */
const char *srv_refusals_body_name(int body_case);

/* Monotonic ms of the next flush, or -1 when nothing waits. */
int64_t srv_refusals_next_timer(const srv_refusals_t *self);
/* Writes the counts held when their flush is due (now_ms: monotonic). */
void srv_refusals_on_timer(srv_refusals_t *self, int64_t now_ms);
/* Writes every count held now (the server is stopping). */
void srv_refusals_flush(srv_refusals_t *self);

#endif
