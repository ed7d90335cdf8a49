/* srv_refusals.c: counts refusals per principal, kind and minute, and writes
 * them to the table refusals (see srv_refusals.h).
 *
 * Owns one entry per (kind, principal) seen lately: the minute it counts (on
 * cchc_clock_now_ms, the server's injectable clock), the refusals counted and
 * not yet written, and what the first of them claimed. An entry's life:
 *
 *   state    event                                   action                  next
 *   (none)   a refusal                               write count 1           written
 *   written  a refusal, same minute                  hold it                 held
 *   held     a refusal, same minute                  hold it                 held
 *   held     the flush timer                         add the held count      written
 *   written  a refusal, a later minute               write count 1 (new row) written
 *   held     a refusal, a later minute               add the held count,     written
 *                                                    write count 1 (new row)
 *   written  the flush timer, its minute over        forget the entry        (none)
 *
 * A write the connection cannot take now (down, or max_pending segments
 * queued) leaves the count held for the next flush. Entries are bounded by
 * the principals with a valid key (ZAP admitted them), and hard-capped at
 * S_MAX_ENTRIES besides. */
#include "srv_refusals.h"
#include "cchc_clock.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_wire.h"
#include "srv_router.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MINUTE_MS 60000
#define S_MAX_ENTRIES 4096
#define S_CLAIMED_MAX 200 /* bytes, cut on a character: refusals.claimed's CHECK */
#define S_MESSAGE_MAX 40

/* The migration's kinds, indexed by srv_refusal_kind_t. */
static const char *const s_kind_names[] = {"unit_mismatch", "key_revoked", "key_expired",
                                           "topic_outside", "not_allowed", "unit_closed"};

/* $1 the minute, $2 first, $3 last (ms, server clock), $9 the count. */
#define S_UPSERT_SQL                                                                               \
    "INSERT INTO refusals AS r (minute, first_at, last_at, kind, principal, key_id, claimed, "     \
    "message, count) VALUES (to_timestamp($1::bigint / 1000.0), to_timestamp($2::bigint / "        \
    "1000.0), to_timestamp($3::bigint / 1000.0), $4, $5, $6::bigint, $7, $8, $9::bigint) "         \
    "ON CONFLICT (minute, kind, principal) DO UPDATE SET count = r.count + EXCLUDED.count, "       \
    "first_at = least(r.first_at, EXCLUDED.first_at), last_at = greatest(r.last_at, "              \
    "EXCLUDED.last_at)"

typedef struct {
    srv_refusal_kind_t kind;
    char *principal;
    char key_id[24];           /* digits of the key's row id, or "" */
    char *claimed;             /* of the first refusal of the minute, or NULL */
    char *message;             /* likewise */
    int64_t minute;            /* ms, server clock, start of the minute counted */
    int64_t held;              /* refusals counted, not written yet */
    int64_t first_ms, last_ms; /* of the held ones */
} s_entry_t;

struct srv_refusals {
    srv_db_t *db;
    size_t max_pending;
    s_entry_t *v;
    size_t n, cap;
    int64_t flush_due; /* monotonic ms, -1: nothing held */
    unsigned long long dropped;
};

srv_refusals_t *srv_refusals_new(srv_db_t *db, size_t max_pending)
{
    srv_refusals_t *self = cchc_calloc(1, sizeof *self);
    self->db = db;
    self->max_pending = max_pending;
    self->flush_due = -1;
    return self;
}

static void s_entry_free(s_entry_t *e)
{
    free(e->principal);
    free(e->claimed);
    free(e->message);
}

void srv_refusals_destroy(srv_refusals_t **self_p)
{
    assert(self_p);
    srv_refusals_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++)
        s_entry_free(&self->v[i]);
    free(self->v);
    free(self);
    *self_p = NULL;
}

const char *srv_refusals_body_name(int body_case)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
        &cchc__v1__envelope__descriptor, (unsigned)body_case);
    return f ? f->name : "unknown";
}

/* Text from a peer made safe for a text column of at most max bytes: valid
 * UTF-8 is cut on a character, control characters become '?'; anything else
 * keeps its ASCII only. NULL stays NULL. */
static char *s_clean(const char *s, size_t max)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    int utf8 = cchc_wire_text_ok(s, n);
    if (n > max) {
        n = max;
        while (utf8 && n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    char *out = cchc_strndup(s, n);
    for (char *p = out; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7F || (!utf8 && c >= 0x80))
            *p = '?';
    }
    return out;
}

static void s_on_written(srv_db_t *db, int rc, const PGresult *res, void *arg)
{
    (void)db;
    (void)arg;
    if (rc != 0 || PQresultStatus(res) == PGRES_COMMAND_OK)
        return;
    char msg[300];
    CCHC_LOG(CCHC_LOG_WARN, "refusal_write_failed", "err=%s",
             srv_logstr(msg, sizeof msg, PQresultErrorMessage(res)));
}

/* Queues the write of e's held count. 0 when queued (nothing held any more),
 * -1 when the connection cannot take it now. */
static int s_write(srv_refusals_t *self, s_entry_t *e)
{
    if (e->held == 0)
        return 0;
    if (!srv_db_ready(self->db) || srv_db_pending(self->db) >= self->max_pending)
        return -1;
    char minute[24], first[24], last[24], count[24];
    snprintf(minute, sizeof minute, "%" PRId64, e->minute);
    snprintf(first, sizeof first, "%" PRId64, e->first_ms);
    snprintf(last, sizeof last, "%" PRId64, e->last_ms);
    snprintf(count, sizeof count, "%" PRId64, e->held);
    const char *params[9] = {minute,       first,
                             last,         s_kind_names[e->kind],
                             e->principal, e->key_id[0] ? e->key_id : NULL,
                             e->claimed,   e->message,
                             count};
    if (srv_db_submit(self->db, S_UPSERT_SQL, 9, params, NULL, NULL, s_on_written, NULL) != 0)
        return -1;
    e->held = 0;
    return 0;
}

/* Forgets the entries whose minute is over and that hold nothing. */
static void s_prune(srv_refusals_t *self, int64_t now)
{
    for (size_t i = 0; i < self->n;) {
        s_entry_t *e = &self->v[i];
        if (e->held == 0 && now - e->minute >= S_MINUTE_MS) {
            s_entry_free(e);
            self->v[i] = self->v[--self->n];
            continue;
        }
        i++;
    }
}

static s_entry_t *s_find(srv_refusals_t *self, srv_refusal_kind_t kind, const char *principal)
{
    for (size_t i = 0; i < self->n; i++)
        if (self->v[i].kind == kind && strcmp(self->v[i].principal, principal) == 0)
            return &self->v[i];
    return NULL;
}

void srv_refusals_record(srv_refusals_t *self, srv_refusal_kind_t kind, const char *principal,
                         const char *key_id, const char *claimed, const char *message)
{
    assert((size_t)kind < sizeof s_kind_names / sizeof s_kind_names[0]);
    if (!principal || !principal[0])
        return;
    int64_t now = cchc_clock_now_ms();
    int64_t minute = now - ((now % S_MINUTE_MS) + S_MINUTE_MS) % S_MINUTE_MS;
    s_entry_t *e = s_find(self, kind, principal);
    int fresh = !e;
    if (!e && self->n == S_MAX_ENTRIES)
        s_prune(self, now);
    if (!e) {
        if (self->n == S_MAX_ENTRIES) {
            if (self->dropped++ == 0)
                CCHC_LOG(CCHC_LOG_WARN, "refusals_full", "entries=%d", S_MAX_ENTRIES);
            return;
        }
        if (self->n == self->cap) {
            self->cap = self->cap ? 2 * self->cap : 16;
            self->v = cchc_realloc(self->v, self->cap * sizeof *self->v);
        }
        e = &self->v[self->n++];
        memset(e, 0, sizeof *e);
        e->kind = kind;
        e->principal = s_clean(principal, 100);
    }
    if (fresh || e->minute != minute) {
        /* What the last minute still holds goes to its own row first. */
        if (e->held && s_write(self, e) != 0) {
            CCHC_LOG(CCHC_LOG_DEBUG, "refusals_dropped", "kind=%s count=%" PRId64,
                     s_kind_names[kind], e->held);
            e->held = 0;
        }
        free(e->claimed);
        free(e->message);
        e->claimed = s_clean(claimed, S_CLAIMED_MAX);
        e->message = s_clean(message, S_MESSAGE_MAX);
        e->key_id[0] = '\0';
        /* "a12" or "s3": the row id of agent_keys or subscribers. */
        if (key_id && key_id[0] && key_id[1] && strlen(key_id + 1) < sizeof e->key_id &&
            strspn(key_id + 1, "0123456789") == strlen(key_id + 1))
            snprintf(e->key_id, sizeof e->key_id, "%s", key_id + 1);
        e->minute = minute;
        e->held = 1;
        e->first_ms = e->last_ms = now;
        if (s_write(self, e) == 0)
            return;
    } else {
        if (e->held++ == 0)
            e->first_ms = now;
        e->last_ms = now;
    }
    if (self->flush_due < 0)
        self->flush_due = cchc_clock_mono_ms() + SRV_REFUSALS_FLUSH_MS;
}

int64_t srv_refusals_next_timer(const srv_refusals_t *self)
{
    return self->flush_due;
}

/* Writes what is held, then forgets what is over. */
static void s_flush(srv_refusals_t *self, int64_t now_mono)
{
    int held = 0;
    for (size_t i = 0; i < self->n; i++)
        if (self->v[i].held && s_write(self, &self->v[i]) != 0)
            held = 1;
    s_prune(self, cchc_clock_now_ms());
    self->flush_due = held ? now_mono + SRV_REFUSALS_FLUSH_MS : -1;
}

void srv_refusals_on_timer(srv_refusals_t *self, int64_t now_ms)
{
    if (self->flush_due >= 0 && now_ms >= self->flush_due)
        s_flush(self, now_ms);
}

void srv_refusals_flush(srv_refusals_t *self)
{
    s_flush(self, cchc_clock_mono_ms());
}
