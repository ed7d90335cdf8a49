/* srv_peers.c: the table of connected agents (see srv_peers.h).
 *
 * Owns an array of entries, each with a copy of the routing id and the unit
 * code. Order is not kept: removal moves the last entry into the hole. */
#include "srv_peers.h"
#include "cchc_mem.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *rid;
    size_t rid_len;
    char *unit;
    int64_t heard_ms;
} s_entry_t;

struct srv_peers {
    s_entry_t *v;
    size_t n, cap;
};

srv_peers_t *srv_peers_new(void)
{
    return cchc_calloc(1, sizeof(srv_peers_t));
}

static void s_drop(srv_peers_t *self, size_t i)
{
    free(self->v[i].rid);
    free(self->v[i].unit);
    self->v[i] = self->v[--self->n];
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
    free(self);
    *self_p = NULL;
}

static size_t s_find(const srv_peers_t *self, const uint8_t *rid, size_t rid_len)
{
    for (size_t i = 0; i < self->n; i++)
        if (self->v[i].rid_len == rid_len && memcmp(self->v[i].rid, rid, rid_len) == 0)
            return i;
    return self->n;
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
    } else if (strcmp(self->v[i].unit, unit) != 0) {
        /* A routing id is per connection and a connection has one key; this
         * only happens if libzmq reuses an id, and then the newest wins. */
        free(self->v[i].unit);
        self->v[i].unit = cchc_strdup(unit);
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
