/* srv_peers.h: the agents connected to the ROUTER, for messages the server
 * starts (MetaChanged).
 *
 * A ROUTER does not say who is connected; the table learns it from traffic:
 * every message from an agent records its routing id, its unit and when it
 * was heard. An entry goes when a send to it fails with EHOSTUNREACH (the
 * connection is gone) or when the agent has been silent for
 * SRV_PEERS_IDLE_MS (agents send Hello as a heartbeat far more often). */
#ifndef SRV_PEERS_H
#define SRV_PEERS_H

#include <stddef.h>
#include <stdint.h>

/* An agent silent this long is taken for gone. */
#define SRV_PEERS_IDLE_MS (10 * 60 * 1000)

typedef struct srv_peers srv_peers_t;

srv_peers_t *srv_peers_new(void);
void srv_peers_destroy(srv_peers_t **self_p);

/* Records a message from rid (unit copied), heard at now_ms (monotonic).
 * Cost: a hash lookup, whatever the number of agents. */
void srv_peers_touch(srv_peers_t *self, const uint8_t *rid, size_t rid_len, const char *unit,
                     int64_t now_ms);
/* Forgets rid; nothing happens when it is not known. */
void srv_peers_remove(srv_peers_t *self, const uint8_t *rid, size_t rid_len);
/* Forgets every peer silent for SRV_PEERS_IDLE_MS at now_ms; returns how many. */
size_t srv_peers_prune(srv_peers_t *self, int64_t now_ms);

size_t srv_peers_count(const srv_peers_t *self);
/* The routing id (borrowed until the table next changes) of unit's latest
 * connection. 0, or -1 when none is known. */
int srv_peers_of_unit(const srv_peers_t *self, const char *unit, const uint8_t **rid,
                      size_t *rid_len);
/* What rid's agent last said it still has to send (Hello.queue_depth);
 * nothing happens when rid is not known. */
void srv_peers_set_queued(srv_peers_t *self, const uint8_t *rid, size_t rid_len, uint64_t queued);
/* The sum and the largest of those over the peers (0 when none). Walks the
 * table: for /metrics, a few times a second at most. */
void srv_peers_queued(const srv_peers_t *self, uint64_t *sum, uint64_t *max);
/* The i-th peer (i < count), borrowed until the table next changes. */
void srv_peers_get(const srv_peers_t *self, size_t i, const uint8_t **rid, size_t *rid_len,
                   const char **unit);

#endif
