/* srv_peers.c: the table of connected agents (see srv_peers.h).
 *
 * Owns an array of entries, each with a copy of the routing id and the unit
 * code and the agent's last queue depth, and two indexes into it: routing
 * id -> entry, unit -> its latest entry (index + 1 in srv_map). Order is not
 * kept: removal moves the last entry into the hole and mends both indexes.
 * Every call is O(1) expected, but pruning and srv_peers_queued, which walk
 * the table. */
#include "srv_peers.h"
#include "cchc_mem.h"
#include "srv_map.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *rid;
    size_t rid_len;
    char *unit;
    int64_t heard_ms;
    uint64_t queued; /* Hello.queue_depth, 0 until one came */
} s_entry_t;

struct srv_peers {
    s_entry_t *v;
    size_t n, cap;
    srv_map_t *by_rid, *by_unit; /* index + 1 */
};

srv_peers_t *srv_peers_new(void)
{
    srv_peers_t *self = cchc_calloc(1, sizeof(srv_peers_t));
    self->by_rid = srv_map_new();
    self->by_unit = srv_map_new();
    return self;
}

static void s_unindex_unit(srv_peers_t *self, size_t i)
{
    const char *u = self->v[i].unit;
    if (srv_map_get(self->by_unit, u, strlen(u), 0) == (int64_t)i + 1)
        srv_map_remove(self->by_unit, u, strlen(u));
}

static void s_drop(srv_peers_t *self, size_t i)
{
    s_unindex_unit(self, i);
    srv_map_remove(self->by_rid, self->v[i].rid, self->v[i].rid_len);
    free(self->v[i].rid);
    free(self->v[i].unit);
    size_t last = --self->n;
    if (i == last)
        return;
    self->v[i] = self->v[last];
    s_entry_t *e = &self->v[i];
    srv_map_set(self->by_rid, e->rid, e->rid_len, (int64_t)i + 1);
    if (srv_map_get(self->by_unit, e->unit, strlen(e->unit), 0) == (int64_t)last + 1)
        srv_map_set(self->by_unit, e->unit, strlen(e->unit), (int64_t)i + 1);
}

void srv_peers_destroy(srv_peers_t **self_p)
{
    assert(self_p);
    srv_peers_t *self = *self_p;
    if (!self)
        return;
    while (self->n)
        s_drop(self, self->n - 1);
    free(self->v);
    srv_map_destroy(&self->by_rid);
    srv_map_destroy(&self->by_unit);
    free(self);
    *self_p = NULL;
}

static size_t s_find(const srv_peers_t *self, const uint8_t *rid, size_t rid_len)
{
    int64_t i = srv_map_get(self->by_rid, rid, rid_len, 0);
    return i > 0 ? (size_t)i - 1 : self->n;
}

void srv_peers_touch(srv_peers_t *self, const uint8_t *rid, size_t rid_len, const char *unit,
                     int64_t now_ms)
{
    size_t i = s_find(self, rid, rid_len);
    if (i == self->n) {
        if (self->n == self->cap) {
            self->cap = self->cap ? self->cap * 2 : 64;
            self->v = cchc_realloc(self->v, self->cap * sizeof *self->v);
        }
        s_entry_t *e = &self->v[self->n++];
        e->rid = cchc_malloc(rid_len ? rid_len : 1);
        memcpy(e->rid, rid, rid_len);
        e->rid_len = rid_len;
        e->unit = cchc_strdup(unit);
        e->queued = 0;
        srv_map_set(self->by_rid, rid, rid_len, (int64_t)i + 1);
        srv_map_set(self->by_unit, unit, strlen(unit), (int64_t)i + 1);
    } else if (strcmp(self->v[i].unit, unit) != 0) {
        /* A routing id is per connection and a connection has one key; this
         * only happens if libzmq reuses an id, and then the newest wins. */
        s_unindex_unit(self, i);
        free(self->v[i].unit);
        self->v[i].unit = cchc_strdup(unit);
        srv_map_set(self->by_unit, unit, strlen(unit), (int64_t)i + 1);
    }
    self->v[i].heard_ms = now_ms;
}

void srv_peers_remove(srv_peers_t *self, const uint8_t *rid, size_t rid_len)
{
    size_t i = s_find(self, rid, rid_len);
    if (i < self->n)
        s_drop(self, i);
}

size_t srv_peers_prune(srv_peers_t *self, int64_t now_ms)
{
    size_t dropped = 0;
    for (size_t i = self->n; i-- > 0;) {
        if (now_ms - self->v[i].heard_ms >= SRV_PEERS_IDLE_MS) {
            s_drop(self, i);
            dropped++;
        }
    }
    return dropped;
}

int srv_peers_of_unit(const srv_peers_t *self, const char *unit, const uint8_t **rid,
                      size_t *rid_len)
{
    int64_t i = srv_map_get(self->by_unit, unit, strlen(unit), 0);
    if (i <= 0)
        return -1;
    *rid = self->v[i - 1].rid;
    *rid_len = self->v[i - 1].rid_len;
    return 0;
}

void srv_peers_set_queued(srv_peers_t *self, const uint8_t *rid, size_t rid_len, uint64_t queued)
{
    size_t i = s_find(self, rid, rid_len);
    if (i < self->n)
        self->v[i].queued = queued;
}

void srv_peers_queued(const srv_peers_t *self, uint64_t *sum, uint64_t *max)
{
    uint64_t s = 0, m = 0;
    for (size_t i = 0; i < self->n; i++) {
        uint64_t q = self->v[i].queued;
        s = q > UINT64_MAX - s ? UINT64_MAX : s + q;
        if (q > m)
            m = q;
    }
    *sum = s;
    *max = m;
}

size_t srv_peers_count(const srv_peers_t *self)
{
    return self->n;
}

void srv_peers_get(const srv_peers_t *self, size_t i, const uint8_t **rid, size_t *rid_len,
                   const char **unit)
{
    assert(i < self->n);
    *rid = self->v[i].rid;
    *rid_len = self->v[i].rid_len;
    *unit = self->v[i].unit;
}
