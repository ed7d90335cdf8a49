/* agt_endpoints.h: which district server agt_link talks to, when it moves to
 * another, and what `status` shows of it (internal to agt_link).
 *
 * [server] endpoints lists the servers (one for the older [server] endpoint).
 * The link is connected to one at a time: the first at start, and the next
 * (cchc_endpoints_next) when the current one stops answering. It owns the
 * records status reads: AGT_OUTBOX_SERVER (the server connected to or last
 * tried, and the list) and AGT_OUTBOX_UNREACHABLE (while no connection
 * works: since when, the attempts, the last one). The socket stays
 * agt_link's: this module says when to move, the link moves. */
#ifndef AGT_ENDPOINTS_H
#define AGT_ENDPOINTS_H

#include "agt_config.h"
#include "agt_outbox.h"

#include <stddef.h>
#include <stdint.h>

typedef struct agt_endpoints_t agt_endpoints_t;

/* cfg and outbox are borrowed and must outlive it; seed makes the backoff's
 * jitter differ between agents. */
agt_endpoints_t *agt_endpoints_new(const agt_config_t *cfg, agt_outbox_t *outbox, uint64_t seed);
/* Accepts NULL and sets *self_p to NULL. */
void agt_endpoints_destroy(agt_endpoints_t **self_p);

/* The endpoint to be connected to (borrowed), and how many are listed. */
const char *agt_endpoints_current(const agt_endpoints_t *self);
size_t agt_endpoints_count(const agt_endpoints_t *self);
/* Connection attempts in the current stretch without a connection. */
uint64_t agt_endpoints_attempts(const agt_endpoints_t *self);

/* The run starts unconnected, or the connection was lost, at mono (monotonic
 * ms): the current server gets a chance to answer again before a move. */
void agt_endpoints_down(agt_endpoints_t *self, int64_t mono);
/* A handshake succeeded with the current server: the unreachable record goes
 * and the server record says connected. */
void agt_endpoints_connected(agt_endpoints_t *self, int64_t mono);
/* A socket monitor event (ZMQ_EVENT_*) about a connection attempt: counts
 * attempts, and a failed one (refused, a failed or interrupted handshake)
 * makes the current server one to move away from. */
void agt_endpoints_attempt_event(agt_endpoints_t *self, uint16_t event, int64_t mono);
/* True when a monitor event names a listed server other than the current:
 * an event of a connection left behind by a move, to be ignored. */
int agt_endpoints_is_stale(const agt_endpoints_t *self, const char *event_endpoint);

/* When agt_endpoints_tick has something to do next (a move or a record to
 * write); INT64_MAX when nothing. */
int64_t agt_endpoints_due(const agt_endpoints_t *self);
/* Does what is due at mono. Returns 1 when the link must move: disconnect
 * *from (borrowed until the next move) and connect agt_endpoints_current(). */
int agt_endpoints_tick(agt_endpoints_t *self, int64_t mono, const char **from);
/* The end of a run: the records are written as they stand. */
void agt_endpoints_stop(agt_endpoints_t *self, int64_t mono);

#endif
