/* srv_map.h: a small hash map from a byte string to an int64, for counts and
 * times kept per peer or per unit (routing ids, unit codes).
 *
 * Chained, grown by doubling; a key is copied. Cost: O(1) expected per call.
 * Used for counts (reports in flight per routing id), times (a unit's last
 * contact written) and indexes into arrays (srv_peers, srv_notify's sessions). */
#ifndef SRV_MAP_H
#define SRV_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct srv_map srv_map_t;

srv_map_t *srv_map_new(void);
void srv_map_destroy(srv_map_t **self_p);

/* The value of key, or def when it is absent. */
int64_t srv_map_get(const srv_map_t *self, const void *key, size_t len, int64_t def);
/* Sets key to value (the key is copied on first use). */
void srv_map_set(srv_map_t *self, const void *key, size_t len, int64_t value);
/* Adds delta to key's value (absent: 0) and returns the sum; a sum of 0
 * removes the key, so the map holds only non-zero counts. */
int64_t srv_map_add(srv_map_t *self, const void *key, size_t len, int64_t delta);
/* Forgets key; nothing happens when it is absent. */
void srv_map_remove(srv_map_t *self, const void *key, size_t len);
/* Keys held. */
size_t srv_map_count(const srv_map_t *self);

#endif
