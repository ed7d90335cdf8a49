/* srv_dbhosts.c: a multi-host conninfo taken apart (see srv_dbhosts.h).
 *
 * Owns libpq's parse of the conninfo (PQconninfoParse), the host, hostaddr
 * and port lists split at their commas, and the parameter arrays handed out
 * by srv_dbhosts_params. Nothing here connects or logs. */
#include "srv_dbhosts.h"
#include "cchc_mem.h"

#include <assert.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

enum { S_HOST, S_HOSTADDR, S_PORT, S_NLISTS };

static const char *const s_list_key[S_NLISTS] = {"host", "hostaddr", "port"};
static const char *const s_list_env[S_NLISTS] = {"PGHOST", "PGHOSTADDR", "PGPORT"};

typedef struct {
    char **items; /* NULL: the list is not given */
    size_t n;
} s_list_t;

struct srv_dbhosts {
    PQconninfoOption *opts;
    s_list_t lists[S_NLISTS];
    size_t nhosts;
    const char **keys, **vals; /* srv_dbhosts_params's arrays */
    size_t cap;
};

/* "a,b,,c" into its items (an empty one stays empty: libpq's default for
 * that entry). */
static void s_split(s_list_t *list, const char *text)
{
    list->n = 1;
    for (const char *p = text; *p; p++)
        list->n += *p == ',';
    list->items = cchc_calloc(list->n, sizeof *list->items);
    const char *start = text;
    for (size_t i = 0; i < list->n; i++) {
        const char *end = strchr(start, ',');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        list->items[i] = cchc_strndup(start, len);
        start = end ? end + 1 : start + len;
    }
}

/* The option's value as libpq would take it: the conninfo's, else the
 * environment's; NULL when neither says. */
static const char *s_value(const PQconninfoOption *opts, const char *key, const char *env)
{
    for (const PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, key) == 0 && o->val)
            return o->val;
    const char *v = env ? getenv(env) : NULL;
    return v && *v ? v : NULL;
}

srv_dbhosts_t *srv_dbhosts_new(const char *conninfo)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo ? conninfo : "", &errmsg);
    if (!opts) {
        PQfreemem(errmsg);
        return NULL;
    }
    /* A service file may name the hosts, and it comes before the
     * environment: leave that to libpq. */
    if (s_value(opts, "service", "PGSERVICE")) {
        PQconninfoFree(opts);
        return NULL;
    }
    srv_dbhosts_t *self = cchc_calloc(1, sizeof *self);
    self->opts = opts;
    for (int k = 0; k < S_NLISTS; k++) {
        const char *v = s_value(opts, s_list_key[k], s_list_env[k]);
        if (v)
            s_split(&self->lists[k], v);
    }
    const s_list_t *host = &self->lists[S_HOST], *addr = &self->lists[S_HOSTADDR],
                   *port = &self->lists[S_PORT];
    self->nhosts = host->items ? host->n : addr->items ? addr->n : 0;
    /* The checks libpq makes (connectOptions2), so that a split never hides
     * one of its errors. */
    int ok = self->nhosts >= 2 && (!addr->items || addr->n == self->nhosts) &&
             (!port->items || port->n == 1 || port->n == self->nhosts);
    if (!ok)
        srv_dbhosts_destroy(&self);
    return self;
}

void srv_dbhosts_destroy(srv_dbhosts_t **self_p)
{
    assert(self_p);
    srv_dbhosts_t *self = *self_p;
    if (!self)
        return;
    free(self->vals);
    free(self->keys);
    for (int k = 0; k < S_NLISTS; k++) {
        for (size_t i = 0; i < self->lists[k].n; i++)
            free(self->lists[k].items[i]);
        free(self->lists[k].items);
    }
    PQconninfoFree(self->opts);
    free(self);
    *self_p = NULL;
}

size_t srv_dbhosts_count(const srv_dbhosts_t *self)
{
    return self->nhosts;
}

static void s_put(srv_dbhosts_t *self, size_t *n, const char *key, const char *val)
{
    if (*n + 2 > self->cap) {
        self->cap = self->cap ? self->cap * 2 : 64;
        self->keys = cchc_realloc(self->keys, self->cap * sizeof *self->keys);
        self->vals = cchc_realloc(self->vals, self->cap * sizeof *self->vals);
    }
    self->keys[*n] = key;
    self->vals[*n] = val;
    (*n)++;
}

void srv_dbhosts_params(srv_dbhosts_t *self, size_t i, const char *const *def_keys,
                        const char *const *def_vals, const char *const **keys,
                        const char *const **vals)
{
    assert(i < self->nhosts);
    size_t n = 0;
    for (size_t k = 0; def_keys && def_keys[k]; k++)
        s_put(self, &n, def_keys[k], def_vals[k]);
    for (const PQconninfoOption *o = self->opts; o->keyword; o++) {
        int listed = 0;
        for (int k = 0; k < S_NLISTS; k++)
            listed |= strcmp(o->keyword, s_list_key[k]) == 0;
        if (o->val && !listed)
            s_put(self, &n, o->keyword, o->val);
    }
    for (int k = 0; k < S_NLISTS; k++) {
        const s_list_t *l = &self->lists[k];
        if (l->items)
            s_put(self, &n, s_list_key[k], l->items[l->n == 1 ? 0 : i]);
    }
    s_put(self, &n, NULL, NULL);
    *keys = self->keys;
    *vals = self->vals;
}

int64_t srv_dbhosts_timeout_ms(const srv_dbhosts_t *self, int def_s)
{
    const char *v = s_value(self->opts, "connect_timeout", "PGCONNECT_TIMEOUT");
    long s = def_s;
    if (v) {
        char *end;
        s = strtol(v, &end, 10);
        if (end == v || s < 0)
            s = def_s; /* libpq refuses it at the connect, and says so */
    }
    if (s > 0 && s < 2)
        s = 2;
    return (int64_t)s * 1000;
}
