/* srv_units.c: each unit's metadata as the server keeps it (see srv_units.h).
 *
 * Owns the entries (an array, indexed by unit code through srv_map; never
 * removed: a district has tens of units, a country ten thousand), the two
 * read queues (wanted first, then background refreshes) and the waiters of
 * each entry. Generations say whether a document read is still current: a
 * unit's own (bumped by a change for it), the global one (a change for every
 * unit) and the unit's touch (a report of it stored); its validation context
 * is current when it was read at the first two, the document when at all
 * three. */
#include "srv_units.h"
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "srv_map.h"
#include "srv_router.h"

#include <assert.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define S_READ_SQL "SELECT u, cchc_unit_metadata_doc(u) FROM unnest($1::text[]) AS u"

typedef struct s_waiter {
    struct s_waiter *next;
    srv_units_cb_t *cb;
    void *arg;
    size_t idx; /* its entry, when on the ready list */
} s_waiter_t;

typedef struct {
    char *unit;
    char *doc;
    size_t len;
    uint64_t version;
    uint64_t gen;                /* bumped by a change for this unit */
    uint64_t touch;              /* bumped by a report of it stored */
    uint64_t read_gen, read_all; /* the generations doc was read at */
    uint64_t read_touch;
    cchc_vctx_t *vctx; /* of doc, built on first use */
    int vctx_bad;      /* doc made no context (logged once) */
    int queued;        /* in a read queue or in the read in flight */
    int tell;          /* stale by a change: tell on_changed if the version moves */
    s_waiter_t *waiters;
} s_entry_t;

/* A FIFO of entry indexes. */
typedef struct {
    size_t *v;
    size_t head, n, cap;
} s_queue_t;

/* A read in flight: on which reader, which entries, at which generations. */
typedef struct {
    srv_units_t *self;
    size_t reader;
    size_t n;
    size_t *idx;
    srv_units_gen_t *gen;
    int64_t sent_ms; /* for the debug log */
} s_read_t;

struct srv_units {
    /* readers[0] the server's connection; then others, used when idle */
    srv_db_t *readers[SRV_UNITS_READERS_MAX];
    int busy[SRV_UNITS_READERS_MAX]; /* a read in flight on it */
    size_t nreaders;
    srv_units_hooks_t hooks;
    s_entry_t *e;
    size_t n, cap;
    srv_map_t *by_unit; /* index + 1 */
    uint64_t all_gen;
    s_queue_t wanted, refresh;
    int64_t due_ms;                  /* the next read may go (gathering wants); -1: none waiting */
    s_waiter_t *ready, **ready_tail; /* waiters of fresh entries, called at the next timer */
};

uint64_t srv_units_version(const char *doc, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)doc[i];
        h *= 0x100000001b3ULL;
    }
    return h ? h : 1;
}

srv_units_t *srv_units_new(srv_db_t *db, const srv_units_hooks_t *hooks)
{
    srv_units_t *self = cchc_calloc(1, sizeof *self);
    self->readers[0] = db;
    self->nreaders = 1;
    self->hooks = *hooks;
    self->by_unit = srv_map_new();
    self->all_gen = 1;
    self->due_ms = -1;
    self->ready_tail = &self->ready;
    return self;
}

void srv_units_add_reader(srv_units_t *self, srv_db_t *db)
{
    assert(self->nreaders < SRV_UNITS_READERS_MAX);
    self->readers[self->nreaders++] = db;
}

static void s_waiters_fail(s_entry_t *e)
{
    while (e->waiters) {
        s_waiter_t *w = e->waiters;
        e->waiters = w->next;
        w->cb(w->arg, e->unit, 0);
        free(w);
    }
}

void srv_units_destroy(srv_units_t **self_p)
{
    srv_units_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++) {
        s_waiters_fail(&self->e[i]);
        free(self->e[i].unit);
        free(self->e[i].doc);
        cchc_vctx_destroy(&self->e[i].vctx);
    }
    while (self->ready) {
        s_waiter_t *w = self->ready;
        self->ready = w->next;
        w->cb(w->arg, self->e[w->idx].unit, 0);
        free(w);
    }
    free(self->e);
    free(self->wanted.v);
    free(self->refresh.v);
    srv_map_destroy(&self->by_unit);
    free(self);
    *self_p = NULL;
}

static s_entry_t *s_find(srv_units_t *self, const char *unit)
{
    int64_t i = srv_map_get(self->by_unit, unit, strlen(unit), 0);
    return i > 0 ? &self->e[i - 1] : NULL;
}

static s_entry_t *s_get(srv_units_t *self, const char *unit)
{
    s_entry_t *e = s_find(self, unit);
    if (e)
        return e;
    if (self->n == self->cap) {
        self->cap = self->cap ? 2 * self->cap : 64;
        self->e = cchc_realloc(self->e, self->cap * sizeof *self->e);
    }
    e = &self->e[self->n++];
    memset(e, 0, sizeof *e);
    e->unit = cchc_strdup(unit);
    e->gen = 1;
    srv_map_set(self->by_unit, unit, strlen(unit), (int64_t)self->n);
    return e;
}

/* The validation context is current: no change since the read. */
static int s_ctx_fresh(const srv_units_t *self, const s_entry_t *e)
{
    return e->doc && e->read_gen == e->gen && e->read_all == self->all_gen;
}

/* The document is current: its revisions too. */
static int s_fresh(const srv_units_t *self, const s_entry_t *e)
{
    return s_ctx_fresh(self, e) && e->read_touch == e->touch;
}

static void s_push(s_queue_t *q, size_t idx, int front)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 64;
        size_t *v = cchc_calloc(cap, sizeof *v);
        for (size_t i = 0; i < q->n; i++)
            v[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = v, q->cap = cap, q->head = 0;
    }
    if (front) {
        q->head = (q->head + q->cap - 1) % q->cap;
        q->v[q->head] = idx;
    } else {
        q->v[(q->head + q->n) % q->cap] = idx;
    }
    q->n++;
}

static size_t s_pop(s_queue_t *q)
{
    size_t idx = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return idx;
}

/* Queues e to be read (wanted: ahead of the refreshes). */
static void s_queue(srv_units_t *self, s_entry_t *e, int wanted)
{
    if (e->queued)
        return;
    e->queued = 1;
    s_push(wanted ? &self->wanted : &self->refresh, (size_t)(e - self->e), 0);
    if (self->due_ms < 0)
        self->due_ms = cchc_clock_mono_ms() + (wanted ? SRV_UNITS_GATHER_MS : 0);
}

const char *srv_units_doc(srv_units_t *self, const char *unit, size_t *len, uint64_t *version)
{
    s_entry_t *e = s_find(self, unit);
    if (!e || !s_fresh(self, e))
        return NULL;
    *len = e->len;
    *version = e->version;
    return e->doc;
}

const cchc_vctx_t *srv_units_vctx(srv_units_t *self, const char *unit)
{
    s_entry_t *e = s_find(self, unit);
    if (!e || !s_ctx_fresh(self, e) || e->vctx_bad)
        return NULL;
    if (!e->vctx) {
        char err[300] = "", msg[300];
        json_error_t jerr;
        int64_t t0 = cchc_clock_mono_ms();
        json_t *doc = json_loadb(e->doc, e->len, 0, &jerr);
        if (!doc)
            snprintf(err, sizeof err, "not JSON: %s (line %d)", jerr.text, jerr.line);
        else
            e->vctx = cchc_vctx_new(doc, err, sizeof err);
        json_decref(doc);
        if (!e->vctx) {
            /* The document is our own SQL's: its being wrong is our bug. */
            e->vctx_bad = 1;
            CCHC_LOG(CCHC_LOG_ERROR, "context_invalid", "unit=%s err=%s", e->unit,
                     srv_logstr(msg, sizeof msg, err));
        }
        CCHC_LOG(CCHC_LOG_DEBUG, "context_built", "unit=%s bytes=%zu ms=%lld", e->unit, e->len,
                 (long long)(cchc_clock_mono_ms() - t0));
    }
    return e->vctx;
}

void srv_units_want(srv_units_t *self, const char *unit, srv_units_cb_t *cb, void *arg)
{
    s_entry_t *e = s_get(self, unit);
    s_waiter_t *w = cchc_calloc(1, sizeof *w);
    w->cb = cb;
    w->arg = arg;
    if (s_fresh(self, e)) {
        /* Answered at the next timer, never from inside this call. */
        w->idx = (size_t)(e - self->e);
        *self->ready_tail = w;
        self->ready_tail = &w->next;
        return;
    }
    w->next = e->waiters;
    e->waiters = w;
    s_queue(self, e, 1);
}

static srv_units_gen_t s_gen(const srv_units_t *self, const s_entry_t *e)
{
    return (srv_units_gen_t){.gen = e->gen, .all = self->all_gen, .touch = e->touch};
}

srv_units_gen_t srv_units_gen(srv_units_t *self, const char *unit)
{
    return s_gen(self, s_get(self, unit));
}

static void s_store(srv_units_t *self, s_entry_t *e, const char *doc, size_t len,
                    srv_units_gen_t gen)
{
    uint64_t version = srv_units_version(doc, len), before = e->version;
    if (!e->doc || e->len != len || memcmp(e->doc, doc, len) != 0) {
        free(e->doc);
        e->doc = cchc_malloc(len + 1);
        memcpy(e->doc, doc, len);
        e->doc[len] = '\0';
        e->len = len;
        cchc_vctx_destroy(&e->vctx);
        e->vctx_bad = 0;
    }
    e->version = version;
    /* Kept as read even when a change came meanwhile: s_fresh says no. */
    e->read_gen = gen.gen;
    e->read_all = gen.all;
    e->read_touch = gen.touch;
    if (s_fresh(self, e) && e->tell) {
        e->tell = 0;
        if (before != version && self->hooks.is_connected(self->hooks.arg, e->unit))
            self->hooks.on_changed(self->hooks.arg, e->unit);
    }
}

void srv_units_put(srv_units_t *self, const char *unit, const char *doc, size_t len,
                   srv_units_gen_t gen)
{
    s_store(self, s_get(self, unit), doc, len, gen);
}

void srv_units_changed(srv_units_t *self, const char *unit)
{
    if (unit) {
        s_entry_t *e = s_find(self, unit);
        if (!e)
            return; /* never read: nothing to refresh, nobody to tell */
        e->gen++;
        if (self->hooks.is_connected(self->hooks.arg, e->unit)) {
            e->tell = 1;
            s_queue(self, e, 0);
        }
        return;
    }
    self->all_gen++;
    for (size_t i = 0; i < self->n; i++) {
        s_entry_t *e = &self->e[i];
        if (self->hooks.is_connected(self->hooks.arg, e->unit)) {
            e->tell = 1;
            s_queue(self, e, 0);
        }
    }
}

void srv_units_touched(srv_units_t *self, const char *unit)
{
    s_entry_t *e = s_find(self, unit);
    if (e)
        e->touch++;
}

void srv_units_on_connect(srv_units_t *self)
{
    srv_units_changed(self, NULL);
}

/* ---- reads -------------------------------------------------------------------------------- */

static void s_read_free(s_read_t *r)
{
    free(r->idx);
    free(r->gen);
    free(r);
}

static void s_on_read(srv_db_t *db, int rc, const PGresult *res, void *arg)
{
    (void)db;
    s_read_t *r = arg;
    srv_units_t *self = r->self;
    self->busy[r->reader] = 0;
    if (self->wanted.n || self->refresh.n)
        self->due_ms = cchc_clock_mono_ms();
    int ok = rc == 0 && PQresultStatus(res) == PGRES_TUPLES_OK;
    CCHC_LOG(CCHC_LOG_DEBUG, "meta_read", "units=%zu reader=%zu ms=%lld ok=%d", r->n, r->reader,
             (long long)(cchc_clock_mono_ms() - r->sent_ms), ok);
    if (!ok) {
        char msg[300];
        CCHC_LOG(CCHC_LOG_WARN, "meta_read_failed", "units=%zu err=%s", r->n,
                 srv_logstr(msg, sizeof msg, rc ? cchc_strerror(rc) : PQresultErrorMessage(res)));
    }
    for (int i = 0; ok && i < PQntuples(res); i++) {
        s_entry_t *e = s_find(self, PQgetvalue(res, i, 0));
        if (!e || PQgetisnull(res, i, 1))
            continue;
        srv_units_gen_t g = {0};
        for (size_t k = 0; k < r->n; k++)
            if (&self->e[r->idx[k]] == e)
                g = r->gen[k];
        s_store(self, e, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1), g);
    }
    /* A store lane's connection lost (or its read abandoned): nothing of
     * the server's own connection is wrong, and that lane's reconnect does
     * not queue the documents again as the server's does (on_connect), so
     * the read goes again, on whichever connection is free, its wants and
     * pending MetaChanged kept. */
    int again = rc != 0 && r->reader > 0;
    for (size_t k = 0; k < r->n; k++) {
        s_entry_t *e = &self->e[r->idx[k]];
        e->queued = 0;
        if (again) {
            s_queue(self, e, e->waiters != NULL);
            continue;
        }
        if (!ok) {
            s_waiters_fail(e);
            continue;
        }
        if (!s_fresh(self, e)) {
            /* Changed while being read (or no row): read it again. */
            s_queue(self, e, e->waiters != NULL);
            continue;
        }
        while (e->waiters) {
            s_waiter_t *w = e->waiters;
            e->waiters = w->next;
            w->cb(w->arg, e->unit, 1);
            free(w);
        }
    }
    s_read_free(r);
}

static void s_read(srv_units_t *self, size_t reader)
{
    size_t n = 0;
    s_read_t *r = cchc_calloc(1, sizeof *r);
    r->self = self;
    r->reader = reader;
    r->idx = cchc_calloc(SRV_UNITS_PER_READ, sizeof *r->idx);
    r->gen = cchc_calloc(SRV_UNITS_PER_READ, sizeof *r->gen);
    size_t len = 3;
    while (n < SRV_UNITS_PER_READ && (self->wanted.n || self->refresh.n)) {
        size_t idx = s_pop(self->wanted.n ? &self->wanted : &self->refresh);
        s_entry_t *e = &self->e[idx];
        if (s_fresh(self, e) && !e->waiters) {
            e->queued = 0; /* read by a batch meanwhile */
            continue;
        }
        r->idx[n] = idx;
        r->gen[n++] = s_gen(self, e);
        len += strlen(e->unit) * 2 + 3;
    }
    r->n = n;
    if (!n) {
        s_read_free(r);
        return;
    }
    /* {"a","b"}: unit codes are [a-z0-9-]; quoted anyway. */
    char *arr = cchc_malloc(len), *p = arr;
    *p++ = '{';
    for (size_t k = 0; k < n; k++) {
        const char *u = self->e[r->idx[k]].unit;
        if (k)
            *p++ = ',';
        *p++ = '"';
        for (; *u; u++) {
            if (*u == '"' || *u == '\\')
                *p++ = '\\';
            *p++ = *u;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    const char *params[1] = {arr};
    if (srv_db_submit(self->readers[reader], S_READ_SQL, 1, params, NULL, NULL, s_on_read, r) ==
        0) {
        self->busy[reader] = 1;
        r->sent_ms = cchc_clock_mono_ms();
    } else {
        for (size_t k = 0; k < n; k++) {
            self->e[r->idx[k]].queued = 0;
            s_waiters_fail(&self->e[r->idx[k]]);
        }
        s_read_free(r);
    }
    free(arr);
}

int64_t srv_units_next_timer(const srv_units_t *self)
{
    return self->ready ? 0 : self->due_ms;
}

void srv_units_on_timer(srv_units_t *self, int64_t now_ms)
{
    /* Waiters of documents that were fresh when they asked. */
    s_waiter_t *w = self->ready;
    self->ready = NULL;
    self->ready_tail = &self->ready;
    while (w) {
        s_waiter_t *next = w->next;
        w->cb(w->arg, self->e[w->idx].unit, 1);
        free(w);
        w = next;
    }
    if (self->due_ms < 0 || now_ms < self->due_ms)
        return;
    /* One read in flight per reader; another reader only when it has
     * nothing else to do (a store lane's batch must not wait behind us). */
    int down = 0, busy = 0;
    for (size_t k = 0; k < self->nreaders && (self->wanted.n || self->refresh.n); k++) {
        if (self->busy[k])
            continue;
        if (!srv_db_ready(self->readers[k]))
            down |= k == 0;
        else if (k == 0 || srv_db_pending(self->readers[k]) == 0)
            s_read(self, k);
    }
    for (size_t k = 0; k < self->nreaders; k++)
        busy |= self->busy[k];
    /* A read's answer sets the next due time when more is queued. With
     * none in flight, try again: soon if the server's connection is away
     * (its reconnect queues everything again anyway), else at once. */
    if (busy || !(self->wanted.n || self->refresh.n))
        self->due_ms = -1;
    else
        self->due_ms = down ? now_ms + 100 : now_ms;
}
