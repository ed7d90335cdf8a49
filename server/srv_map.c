/* srv_map.c: byte string to int64 hash map (see srv_map.h).
 *
 * Owns its buckets and entries; each entry holds a copy of its key. */
#include "srv_map.h"
#include "cchc_mem.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_entry {
    struct s_entry *next;
    uint64_t hash;
    int64_t value;
    size_t len;
    unsigned char key[];
} s_entry_t;

struct srv_map {
    s_entry_t **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
};

/* FNV-1a: keys are short (a routing id, a unit code). */
static uint64_t s_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

srv_map_t *srv_map_new(void)
{
    srv_map_t *self = cchc_calloc(1, sizeof *self);
    self->nbuckets = 64;
    self->buckets = cchc_calloc(self->nbuckets, sizeof *self->buckets);
    return self;
}

void srv_map_destroy(srv_map_t **self_p)
{
    assert(self_p);
    srv_map_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->nbuckets; i++) {
        s_entry_t *e = self->buckets[i];
        while (e) {
            s_entry_t *next = e->next;
            free(e);
            e = next;
        }
    }
    free(self->buckets);
    free(self);
    *self_p = NULL;
}

/* The link that points at key's entry (or the NULL at the end of its chain). */
static s_entry_t **s_find(const srv_map_t *self, const void *key, size_t len, uint64_t h)
{
    s_entry_t **link = &self->buckets[h & (self->nbuckets - 1)];
    while (*link &&
           !((*link)->hash == h && (*link)->len == len && memcmp((*link)->key, key, len) == 0))
        link = &(*link)->next;
    return link;
}

static void s_grow(srv_map_t *self)
{
    size_t n = self->nbuckets * 2;
    s_entry_t **b = cchc_calloc(n, sizeof *b);
    for (size_t i = 0; i < self->nbuckets; i++) {
        s_entry_t *e = self->buckets[i];
        while (e) {
            s_entry_t *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(self->buckets);
    self->buckets = b;
    self->nbuckets = n;
}

int64_t srv_map_get(const srv_map_t *self, const void *key, size_t len, int64_t def)
{
    s_entry_t *e = *s_find(self, key, len, s_hash(key, len));
    return e ? e->value : def;
}

void srv_map_set(srv_map_t *self, const void *key, size_t len, int64_t value)
{
    uint64_t h = s_hash(key, len);
    s_entry_t **link = s_find(self, key, len, h);
    if (*link) {
        (*link)->value = value;
        return;
    }
    s_entry_t *e = cchc_malloc(sizeof *e + len);
    e->next = NULL;
    e->hash = h;
    e->value = value;
    e->len = len;
    memcpy(e->key, key, len);
    *link = e;
    if (++self->count > self->nbuckets)
        s_grow(self);
}

int64_t srv_map_add(srv_map_t *self, const void *key, size_t len, int64_t delta)
{
    uint64_t h = s_hash(key, len);
    s_entry_t **link = s_find(self, key, len, h);
    int64_t sum = (*link ? (*link)->value : 0) + delta;
    if (sum != 0) {
        srv_map_set(self, key, len, sum);
    } else if (*link) {
        s_entry_t *e = *link;
        *link = e->next;
        free(e);
        self->count--;
    }
    return sum;
}

void srv_map_remove(srv_map_t *self, const void *key, size_t len)
{
    s_entry_t **link = s_find(self, key, len, s_hash(key, len));
    if (*link) {
        s_entry_t *e = *link;
        *link = e->next;
        free(e);
        self->count--;
    }
}

size_t srv_map_count(const srv_map_t *self)
{
    return self->count;
}
