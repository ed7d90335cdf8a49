/* agt_endpoints.c: the server the agent talks to (see agt_endpoints.h).
 *
 * Owns the list of servers (a copy of [server] endpoints, with when each was
 * last given up on), the index of the current one, the liveness of the
 * current one, and the two records status reads. Split from agt_link.c,
 * which keeps the socket, the window and the messages.
 *
 * The current server and when the link moves (only with two or more
 * listed; a list of one is redialled by libzmq, as before):
 */
/* clang-format off */
/*
 *   event                                 what changes                   function
 *   ------------------------------------  -----------------------------  ---------------------------
 *   the run starts                        trying since now, no failure   agt_endpoints_down
 *   connection lost (DISCONNECTED while   trying since now, no failure   agt_endpoints_attempt_event
 *   connected): it may come back
 *   an attempt fails (CONNECT_RETRIED,    failed: a move is due at once  agt_endpoints_attempt_event
 *   a failed or interrupted handshake,    (after the backoff, below)
 *   DISCONNECTED before the handshake)
 *   heartbeat_timeout_ms trying with no   a move is due                  agt_endpoints_due
 *   handshake (black hole, frozen server)
 *   a move is due                         current = cchc_endpoints_next, agt_endpoints_tick
 *                                         misses++, trying since now
 *   HANDSHAKE_SUCCEEDED                   connected, misses = 0          agt_endpoints_connected
 */
/* clang-format on */
/*
 * Backoff: the first pass through the list after a connection is at once (a
 * dead server costs one refused connect, about a second); once every server
 * has been tried without a handshake, each move waits 1 s doubling to 60 s,
 * plus up to a quarter of jitter, so an agent whose servers are all down (or
 * all refuse its key) does not spin. libzmq goes on redialling the current
 * one meanwhile, and a handshake cancels the move.
 *
 * Which server next, and why there is no flapping: the agent never leaves a
 * server that answers (no going back to the first while connected: that
 * would drop a working connection and resend the window for nothing).
 * When the current one fails, the next is the first of the list that was not
 * given up on in the last S_HOLDDOWN_MS (so the list's order comes back once
 * the first server has had time to recover), else the one after the current
 * (cycling). A server that just failed is therefore never retried before the
 * others, and an agent moves only when a server stops answering.
 *
 * The records: AGT_OUTBOX_SERVER {"endpoint", "connected", "since_ms",
 * "endpoints", "stopped_ms" at the end of a run} is written on a handshake,
 * on a move and at the end of a run. AGT_OUTBOX_UNREACHABLE is written at the
 * first failed attempt (or S_UNREACHABLE_AFTER_MS without an answer), then at
 * most every S_UNREACHABLE_SAVE_MS while attempts go on, and at the end of a
 * run; cleared by a handshake. So a reconnect loop costs a write per half
 * minute at most, not one per attempt. */
#include "agt_endpoints.h"

#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_UNREACHABLE_AFTER_MS 10000
#define S_UNREACHABLE_SAVE_MS 30000
#define S_MOVE_BASE_MS 1000
#define S_MOVE_CAP_MS 60000
/* A server given up on is tried first again only after this long. */
#define S_HOLDDOWN_MS (5 * 60 * 1000)

struct agt_endpoints_t {
    const agt_config_t *cfg; /* borrowed */
    agt_outbox_t *outbox;    /* borrowed */
    cchc_endpoints_t list;   /* a copy: it keeps when each failed */
    size_t cur;
    int connected;
    /* Liveness of the current server while not connected: since when it is
     * tried (0: connected), whether an attempt on it failed and when, and
     * the earliest moment of a move (the backoff). */
    int64_t trying_mono, failed_mono, not_before;
    int trying, failed_here;
    unsigned misses; /* moves since the last handshake */
    uint64_t rng;
    /* While not connected: since when (wall and monotonic ms), the attempts
     * to connect since, the last one (wall ms), whether one failed, and what
     * was last saved in the outbox (saved_at -1: nothing this time). */
    int64_t down_since, down_mono, last_attempt, saved_at;
    uint64_t attempts, saved_attempts;
    int down, attempt_open, attempt_failed;
    int cleared_once;     /* the unreachable record was cleared in this run */
    int64_t server_since; /* wall ms: connected or trying the current since */
};

agt_endpoints_t *agt_endpoints_new(const agt_config_t *cfg, agt_outbox_t *outbox, uint64_t seed)
{
    agt_endpoints_t *self = cchc_calloc(1, sizeof *self);
    self->cfg = cfg;
    self->outbox = outbox;
    for (size_t i = 0; i < cfg->servers.n; i++)
        self->list.v[i] = cchc_strdup(cfg->servers.v[i]);
    self->list.n = cfg->servers.n;
    self->saved_at = -1;
    self->rng = seed ? seed : 0x2545f4914f6cdd1dULL;
    return self;
}

void agt_endpoints_destroy(agt_endpoints_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cchc_endpoints_free(&(*self_p)->list);
    free(*self_p);
    *self_p = NULL;
}

const char *agt_endpoints_current(const agt_endpoints_t *self)
{
    return self->list.v[self->cur];
}

size_t agt_endpoints_count(const agt_endpoints_t *self)
{
    return self->list.n;
}

uint64_t agt_endpoints_attempts(const agt_endpoints_t *self)
{
    return self->attempts;
}

int agt_endpoints_is_stale(const agt_endpoints_t *self, const char *event_endpoint)
{
    return cchc_endpoints_is_other(&self->list, self->cur, event_endpoint);
}

/* ---- the records ------------------------------------------------------------------- */

static json_t *s_list_json(const agt_endpoints_t *self)
{
    json_t *a = json_array();
    for (size_t i = 0; i < self->list.n; i++)
        json_array_append_new(a, json_string(self->list.v[i]));
    return a;
}

static void s_state_json(agt_endpoints_t *self, const char *key, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (text)
        (void)agt_outbox_state_set(self->outbox, key, text); /* logged by the outbox */
    free(text);
}

/* The server connected to or tried, for status; stopped_ms 0 while running. */
static void s_server_save(agt_endpoints_t *self, int64_t stopped_ms)
{
    json_t *o = json_pack("{s:s, s:b, s:I, s:o}", "endpoint", agt_endpoints_current(self),
                          "connected", self->connected, "since_ms", (json_int_t)self->server_since,
                          "endpoints", s_list_json(self));
    if (o && self->last_attempt && !self->connected)
        json_object_set_new(o, "last_attempt_ms", json_integer(self->last_attempt));
    if (o && stopped_ms)
        json_object_set_new(o, "stopped_ms", json_integer(stopped_ms));
    s_state_json(self, AGT_OUTBOX_SERVER, o);
}

/* Writes what status shows while no server can be reached (see the banner
 * for when); final at the end of a run. */
static void s_unreachable_save(agt_endpoints_t *self, int64_t now, int final)
{
    if (self->connected || !self->down)
        return;
    /* Unreachable is a failed attempt, or that long without an answer; a run
     * stopped sooner, with nothing failed, knows nothing yet. */
    if (self->saved_at < 0 && !self->attempt_failed &&
        now - self->down_mono < S_UNREACHABLE_AFTER_MS)
        return;
    if (self->saved_at >= 0 && (self->attempts == self->saved_attempts ||
                                (!final && now - self->saved_at < S_UNREACHABLE_SAVE_MS)))
        return;
    json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:o}", "since_ms", (json_int_t)self->down_since,
                          "endpoint", agt_endpoints_current(self), "attempts",
                          (json_int_t)self->attempts, "last_attempt_ms",
                          (json_int_t)self->last_attempt, "endpoints", s_list_json(self));
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (text && agt_outbox_state_set(self->outbox, AGT_OUTBOX_UNREACHABLE, text) == CCHC_OK) {
        CCHC_LOG(self->saved_at < 0 ? CCHC_LOG_WARN : CCHC_LOG_DEBUG, "unreachable_saved",
                 "endpoint=%s since_ms=%" PRId64 " attempts=%" PRIu64 " down_ms=%" PRId64,
                 agt_endpoints_current(self), self->down_since, self->attempts,
                 now - self->down_mono);
        self->saved_at = now;
        self->saved_attempts = self->attempts;
    }
    free(text);
}

/* When s_unreachable_save has something to write next; INT64_MAX if not. */
static int64_t s_unreachable_due(const agt_endpoints_t *self)
{
    if (self->connected || !self->down)
        return INT64_MAX;
    if (self->saved_at < 0)
        return self->attempt_failed ? 0 : self->down_mono + S_UNREACHABLE_AFTER_MS;
    if (self->attempts == self->saved_attempts)
        return INT64_MAX;
    return self->saved_at + S_UNREACHABLE_SAVE_MS;
}

/* ---- liveness and moves ------------------------------------------------------------ */

/* xorshift64: the jitter only needs to differ between agents. */
static uint64_t s_rand(agt_endpoints_t *self)
{
    uint64_t x = self->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return self->rng = x;
}

/* How long the next move waits: nothing in the first pass through the list,
 * then 1 s doubling to 60 s, plus up to a quarter of jitter. */
static int64_t s_move_delay(agt_endpoints_t *self)
{
    if (self->misses < self->list.n)
        return 0;
    int64_t d = S_MOVE_BASE_MS;
    for (unsigned i = self->list.n; i < self->misses && d < S_MOVE_CAP_MS; i++)
        d *= 2;
    d = d > S_MOVE_CAP_MS ? S_MOVE_CAP_MS : d;
    return d + (int64_t)(s_rand(self) % (uint64_t)(d / 4 + 1));
}

/* The current server is tried from mono on. */
static void s_trying(agt_endpoints_t *self, int64_t mono)
{
    self->trying = 1;
    self->trying_mono = mono;
    self->failed_here = 0;
    self->not_before = mono + s_move_delay(self);
    self->server_since = cchc_clock_now_ms();
}

static int64_t s_move_due(const agt_endpoints_t *self)
{
    if (self->list.n < 2 || self->connected || !self->trying)
        return INT64_MAX;
    int64_t at =
        self->failed_here ? self->failed_mono : self->trying_mono + self->cfg->heartbeat_timeout_ms;
    return at > self->not_before ? at : self->not_before;
}

void agt_endpoints_down(agt_endpoints_t *self, int64_t mono)
{
    self->connected = 0;
    self->down = 1;
    self->down_since = cchc_clock_now_ms();
    self->down_mono = mono;
    self->attempts = 0;
    self->last_attempt = 0;
    self->attempt_open = 0;
    self->attempt_failed = 0;
    s_trying(self, mono);
}

void agt_endpoints_connected(agt_endpoints_t *self, int64_t mono)
{
    (void)mono;
    self->connected = 1;
    self->misses = 0;
    self->trying = 0;
    self->failed_here = 0;
    /* Cleared once per run (an earlier run may have left one), then only
     * when this run wrote one. */
    if (self->saved_at >= 0 || !self->cleared_once)
        (void)agt_outbox_state_set(self->outbox, AGT_OUTBOX_UNREACHABLE, NULL);
    self->cleared_once = 1;
    self->saved_at = -1;
    self->down = 0;
    self->server_since = cchc_clock_now_ms();
    s_server_save(self, 0);
}

static void s_failed(agt_endpoints_t *self, int64_t mono)
{
    self->attempt_failed = 1;
    self->attempt_open = 0;
    if (!self->failed_here)
        self->failed_mono = mono;
    self->failed_here = 1;
}

void agt_endpoints_attempt_event(agt_endpoints_t *self, uint16_t event, int64_t mono)
{
    switch (event) {
    case ZMQ_EVENT_DISCONNECTED:
        if (self->connected)
            agt_endpoints_down(self, mono); /* lost: it may come back */
        else
            s_failed(self, mono); /* dropped before the handshake */
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        self->connected = 0;
        if (!self->trying)
            s_trying(self, mono);
        s_failed(self, mono);
        break;
    case ZMQ_EVENT_CONNECT_RETRIED:
        /* CONNECT_RETRIED follows an attempt that failed. */
        s_failed(self, mono);
        break;
    case ZMQ_EVENT_CONNECTED:
    case ZMQ_EVENT_CONNECT_DELAYED:
        /* An attempt starts with CONNECT_DELAYED (a connect in progress) or
         * at once CONNECTED. */
        if (!self->attempt_open) {
            self->attempt_open = event == ZMQ_EVENT_CONNECT_DELAYED;
            self->attempts++;
            self->last_attempt = cchc_clock_now_ms();
        } else {
            self->attempt_open = 0; /* CONNECTED after DELAYED: the same attempt */
        }
        break;
    default:
        break;
    }
}

int64_t agt_endpoints_due(const agt_endpoints_t *self)
{
    int64_t a = s_unreachable_due(self), b = s_move_due(self);
    return a < b ? a : b;
}

int agt_endpoints_tick(agt_endpoints_t *self, int64_t mono, const char **from)
{
    if (mono >= s_unreachable_due(self))
        s_unreachable_save(self, mono, 0);
    if (mono < s_move_due(self))
        return 0;
    size_t was = self->cur;
    int failed = self->failed_here;
    *from = self->list.v[was];
    self->cur = cchc_endpoints_next(&self->list, was, mono, S_HOLDDOWN_MS);
    if (self->misses < UINT32_MAX)
        self->misses++;
    self->attempt_open = 0;
    s_trying(self, mono);
    CCHC_LOG(CCHC_LOG_WARN, "server_moved",
             "from=%s to=%s why=%s misses=%u next_move_in_ms=%" PRId64, *from,
             agt_endpoints_current(self), failed ? "attempt_failed" : "no_handshake", self->misses,
             self->not_before - mono);
    s_server_save(self, 0);
    return 1;
}

void agt_endpoints_stop(agt_endpoints_t *self, int64_t mono)
{
    s_unreachable_save(self, mono, 1);
    s_server_save(self, cchc_clock_now_ms());
}
