/* agt_notify.h: the unit's notifications, as the agent receives them.
 *
 * Notifications are rows first (DESIGN.md "Messaging"): the server pushes
 * each one over the agent's connection with its sequence number; the agent
 * stores it (agt_outbox_notif_*), acks the highest sequence it has stored
 * (NotificationAck, at most one per 200 ms), and says the same number in
 * every Hello (last_seq), so that after a reconnect the server replays what
 * the agent missed. For each newly stored notification the officer's
 * [agent] on_alert command runs, one at a time, in a child process the link's
 * loop reaps without blocking (killed after 30 s; a failure is logged and not
 * retried). agt_link owns the socket and calls in here; this module never
 * sends anything itself. */
#ifndef AGT_NOTIFY_H
#define AGT_NOTIFY_H

#include "agt_config.h"
#include "agt_outbox.h"

#include "cchc/v1/cchc.pb-c.h"

#include <jansson.h>
#include <stdint.h>

typedef struct agt_notify_t agt_notify_t;

/* cfg and outbox are borrowed and must outlive the notifier. Reads the
 * highest stored sequence, and schedules the alerts left pending by an
 * earlier run. */
agt_notify_t *agt_notify_new(const agt_config_t *cfg, agt_outbox_t *outbox);
/* Kills a command still running (its row stays pending: it runs again at the
 * next start). Accepts NULL and sets *self_p to NULL. */
void agt_notify_destroy(agt_notify_t **self_p);

/* The highest sequence stored: what Hello.last_seq and NotificationAck carry. */
uint64_t agt_notify_last_seq(const agt_notify_t *self);

/* A Notification from the server. Stored unless its
 * sequence is already; a new one is queued for on_alert. */
void agt_notify_handle(agt_notify_t *self, const Cchc__V1__Notification *n);

/* Monotonic ms at which a NotificationAck is due; INT64_MAX when nothing
 * new was stored since the last one or while disconnected. */
int64_t agt_notify_ack_due(const agt_notify_t *self);
/* The server was told seq (an ack or a Hello) at now. */
void agt_notify_acked(agt_notify_t *self, uint64_t seq, int64_t now);
/* The socket would not take the ack: try again at `when`. */
void agt_notify_defer(agt_notify_t *self, int64_t when);
void agt_notify_connected(agt_notify_t *self);
void agt_notify_disconnected(agt_notify_t *self);

/* Reaps a finished command, kills one over its time, starts the next. Call
 * from the loop; never blocks. */
void agt_notify_tick(agt_notify_t *self, int64_t now);
/* Monotonic ms by which agt_notify_tick wants to be called; INT64_MAX: never. */
int64_t agt_notify_wake(const agt_notify_t *self, int64_t now);

/* A stored notification as JSON (new reference): facts parsed when they are
 * JSON, times as ms. What on_alert reads on stdin and notifications --json
 * prints. */
json_t *agt_notify_to_json(const agt_notif_t *n);

#endif
