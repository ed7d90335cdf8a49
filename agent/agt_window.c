/* agt_window.c: the window of reports in flight (see agt_window.h).
 *
 * Owns the entries (sorted by id, so an answer finds its entry by binary
 * search), the bytes they weigh, the scratch arrays for reading the outbox,
 * and the random state of the jitter.
 *
 * Timers of one entry:
 *
 *   event                      due becomes                           function
 *   -------------------------  ------------------------------------  -----------------------
 *   enters the window (the     now                                   agt_window_fill
 *   head of its report key,
 *   none of its key in flight)
 *   sent or resent             now + resend_timeout * 2^resends      agt_window_sent
 *                              (capped) + jitter; resends++
 *   Nack BUSY (transient)      now + 1 s * 2^busy (cap 30 s)         agt_window_busy
 *                              + jitter; busy++
 *   HANDSHAKE_SUCCEEDED        now; resends = busy = 0               agt_window_resend_all
 *   Ack, or permanent Nack     (leaves the window)                   agt_window_remove
 */
#include "agt_window.h"

#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define S_BUSY_BASE_MS 1000
#define S_BUSY_CAP_MS 30000

struct agt_window_t {
    size_t max_reports;
    int64_t max_bytes;
    agt_flight_t *v; /* sorted by id, max_reports long */
    size_t n;
    int64_t bytes;    /* sum of v[i].bytes */
    int64_t *ids;     /* scratch for the outbox read */
    int64_t *lengths; /* scratch for the outbox read */
    uint64_t *keys;   /* scratch for the outbox read */
    uint64_t *flying; /* scratch: the report keys in flight, sorted */
    uint64_t rng;
};

agt_window_t *agt_window_new(size_t max_reports, int64_t max_bytes, uint64_t seed)
{
    assert(max_reports > 0);
    agt_window_t *self = cchc_calloc(1, sizeof *self);
    self->max_reports = max_reports;
    self->max_bytes = max_bytes;
    self->v = cchc_calloc(max_reports, sizeof self->v[0]);
    self->ids = cchc_calloc(max_reports, sizeof self->ids[0]);
    self->lengths = cchc_calloc(max_reports, sizeof self->lengths[0]);
    self->keys = cchc_calloc(max_reports, sizeof self->keys[0]);
    self->flying = cchc_calloc(max_reports, sizeof self->flying[0]);
    self->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
    return self;
}

void agt_window_destroy(agt_window_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    agt_window_t *self = *self_p;
    free(self->flying);
    free(self->keys);
    free(self->lengths);
    free(self->ids);
    free(self->v);
    free(self);
    *self_p = NULL;
}

size_t agt_window_len(const agt_window_t *self)
{
    return self->n;
}

int64_t agt_window_bytes(const agt_window_t *self)
{
    return self->bytes;
}

agt_flight_t *agt_window_at(agt_window_t *self, size_t i)
{
    assert(i < self->n);
    return &self->v[i];
}

agt_flight_t *agt_window_find(agt_window_t *self, int64_t id)
{
    size_t lo = 0, hi = self->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->v[mid].id == id)
            return &self->v[mid];
        if (self->v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void s_add(agt_window_t *self, int64_t id, int64_t bytes, uint64_t key, int64_t now)
{
    size_t at = self->n;
    while (at > 0 && self->v[at - 1].id > id)
        at--;
    memmove(&self->v[at + 1], &self->v[at], (self->n - at) * sizeof self->v[0]);
    self->v[at] = (agt_flight_t){.id = id, .key = key, .bytes = bytes, .due = now};
    self->n++;
    self->bytes += bytes;
    CCHC_LOG(CCHC_LOG_DEBUG, "window_add",
             "id=%" PRId64 " bytes=%" PRId64 " in_flight=%zu in_flight_bytes=%" PRId64, id, bytes,
             self->n, self->bytes);
}

void agt_window_remove(agt_window_t *self, agt_flight_t *f)
{
    size_t at = (size_t)(f - self->v);
    assert(at < self->n);
    self->bytes -= f->bytes;
    memmove(&self->v[at], &self->v[at + 1], (self->n - at - 1) * sizeof self->v[0]);
    self->n--;
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Reads the oldest max_reports heads of the queue (one row per report key).
 * Every entry is, or was when it entered, a head, and at most max_reports - n
 * slots are free, so the read always holds enough candidates to fill them.
 * A head whose key is in flight (its older revision, still unanswered, left
 * the head to a revision submitted since with a lower number) waits. A row
 * that does not fit the bytes left stops the fill: a smaller, younger row
 * does not overtake it. */
int agt_window_fill(agt_window_t *self, agt_outbox_t *outbox, int64_t now)
{
    size_t got = 0, nflying = self->n;
    int added = 0;
    if (self->n >= self->max_reports)
        return 0;
    int rc = agt_outbox_queued_heads(outbox, self->ids, self->lengths, self->keys,
                                     self->max_reports, &got);
    if (rc != CCHC_OK)
        return rc;
    for (size_t i = 0; i < nflying; i++)
        self->flying[i] = self->v[i].key;
    qsort(self->flying, nflying, sizeof self->flying[0], s_cmp_u64);
    for (size_t i = 0; i < got && self->n < self->max_reports; i++) {
        if (agt_window_find(self, self->ids[i]))
            continue;
        if (bsearch(&self->keys[i], self->flying, nflying, sizeof self->flying[0], s_cmp_u64)) {
            CCHC_LOG(CCHC_LOG_DEBUG, "window_key_in_flight", "id=%" PRId64, self->ids[i]);
            continue;
        }
        if (self->n > 0 && self->bytes + self->lengths[i] > self->max_bytes) {
            CCHC_LOG(CCHC_LOG_DEBUG, "window_full_bytes",
                     "id=%" PRId64 " bytes=%" PRId64 " in_flight_bytes=%" PRId64, self->ids[i],
                     self->lengths[i], self->bytes);
            break;
        }
        s_add(self, self->ids[i], self->lengths[i], self->keys[i], now);
        added++;
    }
    return added;
}

/* xorshift64: jitter only needs to differ between agents, not be secret. */
static uint64_t s_rand(agt_window_t *self)
{
    uint64_t x = self->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return self->rng = x;
}

int64_t agt_window_backoff(agt_window_t *self, int64_t base, unsigned step, int64_t cap)
{
    int64_t d = base;
    for (unsigned i = 0; i < step && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    return d + (int64_t)(s_rand(self) % (uint64_t)(d / 4 + 1));
}

void agt_window_sent(agt_window_t *self, agt_flight_t *f, int64_t now, int64_t timeout_ms,
                     int64_t cap_ms)
{
    f->due = now + agt_window_backoff(self, timeout_ms, f->resends, cap_ms);
    if (f->resends < UINT32_MAX)
        f->resends++;
}

int64_t agt_window_busy(agt_window_t *self, agt_flight_t *f, int64_t now)
{
    int64_t delay = agt_window_backoff(self, S_BUSY_BASE_MS, f->busy, S_BUSY_CAP_MS);
    if (f->busy < UINT32_MAX)
        f->busy++;
    f->due = now + delay;
    return delay;
}

void agt_window_resend_all(agt_window_t *self, int64_t now)
{
    for (size_t i = 0; i < self->n; i++) {
        self->v[i].due = now;
        self->v[i].resends = 0;
        self->v[i].busy = 0;
    }
}

int64_t agt_window_next_due(const agt_window_t *self)
{
    int64_t due = INT64_MAX;
    for (size_t i = 0; i < self->n; i++)
        due = self->v[i].due < due ? self->v[i].due : due;
    return due;
}
