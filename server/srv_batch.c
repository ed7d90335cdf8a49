/* srv_batch.c: group commit of reports (see srv_batch.h).
 *
 * Owns the reports from srv_batch_add until they are answered: a FIFO of
 * reports waiting for a batch, and the one batch going through the
 * database, with its scratch arrays (statements, the split stack). Also owns
 * the count of unanswered reports per routing id (peer_max_inflight).
 *
 * One batch at a time goes through both stages while the next one gathers.
 * A batch takes up to batch_max_rows reports from the queue when that many
 * wait or the oldest has waited batch_max_delay_ms (at once when draining).
 *
 * Stage 1 (CONTEXT) is one segment with one cchc_report_context per report,
 * read-only. Stage 2 (STORE) is one segment with one cchc_store_report per
 * report that got that far: no BEGIN/COMMIT, the segment is one implicit
 * transaction, so the whole batch commits once at its sync, and every
 * report of it is answered after PGRES_PIPELINE_SYNC. When a statement
 * fails, the others of the segment are PGRES_PIPELINE_ABORTED and nothing
 * is committed: the range is split in halves, each sent as its own segment
 * (a stack of ranges, the first half on top), until the poison report is
 * alone; it is answered by its error, the rest are stored and acked.
 *
 * The batch's lifecycle:
 *
 *   state    event                                        next     function
 *   -------  -------------------------------------------  -------  -----------------------
 *   IDLE     batch due (full, delay over, or draining),   CONTEXT  s_next, s_send_context
 *            database ready
 *   CONTEXT  sync: each report answered (stored before,   CONTEXT  s_on_context
 *            error) or validated; aborted ones again
 *   CONTEXT  sync, none left to query, some validated     STORE    s_on_context, s_send_store
 *   CONTEXT  sync, none left to query or to store         IDLE     s_on_context, s_next
 *   STORE    sync, the range succeeded: answer it, pop    STORE    s_on_store, s_send_store
 *            it; ranges left
 *   STORE    sync, a statement failed on a deadlock or     STORE    s_on_store, s_send_store
 *            serialization failure, fewer than
 *            S_TRANSIENT_RETRIES times: send it again
 *   STORE    sync, a statement failed, range of n > 1:    STORE    s_on_store, s_send_store
 *            replace it by its two halves
 *   STORE    sync, a statement failed, range of 1:        STORE    s_on_store
 *            answer it by its error, pop it               or IDLE
 *   STORE    sync, no range left                          IDLE     s_on_store, s_next
 *   CONTEXT  connection lost (outcome unknown) or not     WAIT_DB  s_lost
 *   STORE    ready to take the segment: keep everything
 *   WAIT_DB  database back, statements prepared again:    CONTEXT  srv_batch_on_connect
 *            resend the same segment (idempotent)         or STORE
 *   CONTEXT  libpq refused to send (CCHC_EIO): answer     IDLE     s_drop_all
 *   STORE    the batch NACK_BUSY
 *   any      srv_batch_abandon (shutdown deadline)        IDLE     srv_batch_abandon
 *
 * While the database is away new reports are refused NACK_BUSY before they
 * reach us (srv_handle_report); the reports already here wait for it. */
#include "srv_batch.h"
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "srv_map.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_IDLE, S_CONTEXT, S_STORE, S_WAIT_DB } s_state_t;

typedef struct {
    size_t lo, n;
} s_range_t;

struct srv_batch {
    srv_server_t *server;
    srv_db_t *db;
    size_t max_rows, max_pending, peer_max;
    int64_t max_delay_ms;
    int64_t max_clock_skew_ms;
    int draining;

    srv_report_t *head, *tail; /* waiting for a batch */
    size_t waiting;
    size_t pending; /* waiting + in the batch, unanswered */
    srv_map_t *per_peer;

    s_state_t state;
    s_state_t lost_in;  /* WAIT_DB: the stage to resend */
    srv_report_t **ctx; /* CONTEXT: reports whose context is read */
    size_t nctx;
    srv_report_t **store; /* STORE: reports to store; ranges index it */
    size_t nstore;
    s_range_t *ranges; /* the split stack; the top is in flight */
    size_t nranges;
    srv_db_stmt_t *stmts; /* the segment being sent */
    int retries;          /* the range in flight, resent after a deadlock */
};

/* A range that failed on a deadlock or a serialization failure (another
 * transaction, e.g. a scheduler tick or another server, took the same rows
 * in another order) is sent again whole, this many times, before splitting. */
#define S_TRANSIENT_RETRIES 3

static int s_transient(const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return state && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0);
}

static void s_next(srv_batch_t *self);

srv_batch_t *srv_batch_new(srv_server_t *server, srv_db_t *db, const srv_config_t *cfg)
{
    srv_batch_t *self = cchc_calloc(1, sizeof *self);
    self->server = server;
    self->db = db;
    self->max_rows = (size_t)cfg->batch_max_rows;
    self->max_delay_ms = cfg->batch_max_delay_ms;
    self->max_pending = (size_t)cfg->max_pending;
    self->peer_max = (size_t)cfg->peer_max_inflight;
    self->max_clock_skew_ms = cfg->max_clock_skew_ms;
    self->per_peer = srv_map_new();
    self->ctx = cchc_calloc(self->max_rows, sizeof *self->ctx);
    self->store = cchc_calloc(self->max_rows, sizeof *self->store);
    /* Halving a range of at most max_rows stacks at most log2 + 1 ranges
     * per level; 2 per bit is plenty. */
    self->ranges = cchc_calloc(2 * 64, sizeof *self->ranges);
    self->stmts = cchc_calloc(self->max_rows, sizeof *self->stmts);
    self->state = S_IDLE;
    return self;
}

void srv_batch_destroy(srv_batch_t **self_p)
{
    assert(self_p);
    srv_batch_t *self = *self_p;
    if (!self)
        return;
    srv_batch_abandon(self);
    srv_map_destroy(&self->per_peer);
    free(self->stmts);
    free(self->ranges);
    free(self->store);
    free(self->ctx);
    free(self);
    *self_p = NULL;
}

/* r has been answered: forget it. */
static void s_done(srv_batch_t *self, srv_report_t *r)
{
    assert(self->pending > 0);
    self->pending--;
    srv_map_add(self->per_peer, r->rid, r->rid_len, -1);
    srv_report_free(&r);
}

int srv_batch_admit(srv_batch_t *self, const srv_peer_t *peer, const char **why)
{
    srv_counters_t *c = srv_server_counters(self->server);
    if (self->pending >= self->max_pending) {
        c->refused_busy_pending++;
        *why = "server queue full; resend later";
        return CCHC_EFULL;
    }
    if ((size_t)srv_map_get(self->per_peer, peer->rid, peer->rid_len, 0) >= self->peer_max) {
        c->refused_busy_peer++;
        *why = "too many reports in flight from this connection; resend later";
        return CCHC_EFULL;
    }
    return CCHC_OK;
}

void srv_batch_add(srv_batch_t *self, srv_report_t **r_p)
{
    srv_report_t *r = *r_p;
    *r_p = NULL;
    r->next = NULL;
    if (self->tail)
        self->tail->next = r;
    else
        self->head = r;
    self->tail = r;
    self->waiting++;
    self->pending++;
    srv_map_add(self->per_peer, r->rid, r->rid_len, 1);
    if (self->waiting >= self->max_rows || self->max_delay_ms == 0)
        s_next(self);
}

size_t srv_batch_pending(const srv_batch_t *self)
{
    return self->pending;
}

int64_t srv_batch_max_clock_skew_ms(const srv_batch_t *self)
{
    return self->max_clock_skew_ms;
}

/* Answers every report of the batch NACK_BUSY; the batch is empty after.
 * Unanswered: ctx[0..nctx) always; in stage 1 store[0..nstore) (validated,
 * no range yet), in stage 2 what the ranges on the stack hold (a finished
 * range's reports are gone). */
static void s_drop_all(srv_batch_t *self, const char *detail)
{
    for (size_t i = 0; i < self->nctx; i++) {
        srv_report_busy(self->server, self->ctx[i], detail);
        s_done(self, self->ctx[i]);
    }
    s_range_t all = {.lo = 0, .n = self->nstore};
    const s_range_t *ranges = self->nranges ? self->ranges : &all;
    size_t nranges = self->nranges ? self->nranges : 1;
    for (size_t k = 0; k < nranges; k++) {
        for (size_t i = 0; i < ranges[k].n; i++) {
            srv_report_t *r = self->store[ranges[k].lo + i];
            srv_report_busy(self->server, r, detail);
            s_done(self, r);
        }
    }
    self->nctx = self->nstore = self->nranges = 0;
    self->retries = 0;
    self->state = self->lost_in = S_IDLE;
}

static void s_on_context(srv_db_t *db, int rc, PGresult *const *results, size_t n, void *arg);
static void s_on_store(srv_db_t *db, int rc, PGresult *const *results, size_t n, void *arg);

/* The segment could not be handed to the connection, or its outcome was
 * lost with it: keep everything for srv_batch_on_connect. */
static void s_lost(srv_batch_t *self, s_state_t stage)
{
    if (self->state != S_WAIT_DB)
        CCHC_LOG(CCHC_LOG_WARN, "batch_waiting_db", "stage=%s reports=%zu",
                 stage == S_CONTEXT ? "context" : "store",
                 stage == S_CONTEXT ? self->nctx : self->nstore);
    self->state = S_WAIT_DB;
    self->lost_in = stage;
}

static void s_send_context(srv_batch_t *self)
{
    for (size_t i = 0; i < self->nctx; i++) {
        const srv_report_t *r = self->ctx[i];
        self->stmts[i] = (srv_db_stmt_t){.name = SRV_REPORT_CONTEXT_STMT,
                                         .nparams = SRV_REPORT_CONTEXT_NPARAMS,
                                         .values = r->ctx_values,
                                         .lengths = r->ctx_lengths,
                                         .formats = r->ctx_formats};
    }
    self->state = S_CONTEXT;
    if (srv_db_submit_segment(self->db, self->stmts, self->nctx, s_on_context, self) != 0)
        s_lost(self, S_CONTEXT);
}

/* Sends the range on top of the stack. */
static void s_send_store(srv_batch_t *self)
{
    assert(self->nranges > 0);
    s_range_t top = self->ranges[self->nranges - 1];
    for (size_t i = 0; i < top.n; i++) {
        const srv_report_t *r = self->store[top.lo + i];
        self->stmts[i] = (srv_db_stmt_t){.name = SRV_REPORT_STORE_STMT,
                                         .nparams = SRV_REPORT_STORE_NPARAMS,
                                         .values = r->store_values,
                                         .lengths = r->store_lengths,
                                         .formats = r->store_formats};
    }
    self->state = S_STORE;
    if (srv_db_submit_segment(self->db, self->stmts, top.n, s_on_store, self) != 0)
        s_lost(self, S_STORE);
}

/* After stage 1: store what was validated, or the batch is done. */
static void s_after_context(srv_batch_t *self)
{
    if (self->nstore == 0) {
        self->state = S_IDLE;
        s_next(self);
        return;
    }
    self->ranges[0] = (s_range_t){.lo = 0, .n = self->nstore};
    self->nranges = 1;
    s_send_store(self);
}

static void s_on_context(srv_db_t *db, int rc, PGresult *const *results, size_t n, void *arg)
{
    (void)db;
    srv_batch_t *self = arg;
    assert(self->state == S_CONTEXT && n == self->nctx);
    if (rc == CCHC_EAGAIN) {
        s_lost(self, S_CONTEXT);
        return;
    }
    if (rc != 0) {
        s_drop_all(self, "server cannot check reports now; resend later");
        s_next(self);
        return;
    }
    /* Reads are good whatever came after them; the aborted ones are read
     * again in a segment of their own. */
    size_t again = 0;
    for (size_t i = 0; i < n; i++) {
        srv_report_t *r = self->ctx[i];
        ExecStatusType st = PQresultStatus(results[i]);
        if (st == PGRES_PIPELINE_ABORTED) {
            self->ctx[again++] = r;
        } else if (st == PGRES_TUPLES_OK && srv_report_on_context(self->server, r, results[i])) {
            self->store[self->nstore++] = r;
        } else {
            if (st != PGRES_TUPLES_OK)
                srv_report_failed(self->server, r, results[i], "context");
            s_done(self, r);
        }
    }
    self->nctx = again;
    if (again) {
        s_send_context(self);
        return;
    }
    s_after_context(self);
}

static void s_on_store(srv_db_t *db, int rc, PGresult *const *results, size_t n, void *arg)
{
    (void)db;
    srv_batch_t *self = arg;
    srv_counters_t *c = srv_server_counters(self->server);
    assert(self->state == S_STORE && self->nranges > 0);
    s_range_t top = self->ranges[self->nranges - 1];
    assert(n == top.n);
    if (rc == CCHC_EAGAIN) {
        s_lost(self, S_STORE);
        return;
    }
    if (rc != 0) {
        s_drop_all(self, "not stored; resend later");
        s_next(self);
        return;
    }
    size_t bad = n;
    for (size_t i = 0; i < n && bad == n; i++)
        if (PQresultStatus(results[i]) != PGRES_TUPLES_OK)
            bad = i;
    if (bad < n && s_transient(results[bad]) && self->retries < S_TRANSIENT_RETRIES) {
        /* Nothing committed; the other transaction has gone on. */
        self->retries++;
        CCHC_LOG(CCHC_LOG_WARN, "batch_retry", "rows=%zu sqlstate=%s attempt=%d", n,
                 PQresultErrorField(results[bad], PG_DIAG_SQLSTATE), self->retries);
        s_send_store(self);
        return;
    }
    self->retries = 0;
    self->nranges--;
    if (bad == n || n == 1) {
        /* Committed at the sync (or, alone and failed, nothing to commit). */
        for (size_t i = 0; i < n; i++) {
            srv_report_t *r = self->store[top.lo + i];
            srv_report_on_stored(self->server, r, results[i]);
            s_done(self, r);
        }
    } else {
        char msg[300];
        const srv_report_t *r = self->store[top.lo + bad];
        const char *state = PQresultErrorField(results[bad], PG_DIAG_SQLSTATE);
        CCHC_LOG(CCHC_LOG_WARN, "batch_split",
                 "rows=%zu failed_msg_id=%" PRIu64 " sqlstate=%s err=%s", n, r->msg_id,
                 state ? state : "-",
                 srv_server_logstr(msg, sizeof msg,
                                   PQresultErrorField(results[bad], PG_DIAG_MESSAGE_PRIMARY)));
        c->batch_splits++;
        size_t half = n / 2;
        self->ranges[self->nranges++] = (s_range_t){.lo = top.lo + half, .n = n - half};
        self->ranges[self->nranges++] = (s_range_t){.lo = top.lo, .n = half};
    }
    if (self->nranges) {
        s_send_store(self);
        return;
    }
    self->nstore = 0;
    self->state = S_IDLE;
    s_next(self);
}

/* Starts the next batch when one is due and the database can take it. */
static void s_next(srv_batch_t *self)
{
    if (self->state != S_IDLE || !self->waiting || !srv_db_ready(self->db))
        return;
    if (self->waiting < self->max_rows && !self->draining &&
        cchc_clock_mono_ms() < self->head->arrived_ms + self->max_delay_ms)
        return;
    srv_counters_t *c = srv_server_counters(self->server);
    self->nctx = self->nstore = self->nranges = 0;
    self->retries = 0;
    while (self->head && self->nctx < self->max_rows) {
        srv_report_t *r = self->head;
        self->head = r->next;
        r->next = NULL;
        self->ctx[self->nctx++] = r;
        self->waiting--;
    }
    if (!self->head)
        self->tail = NULL;
    c->batches++;
    c->batch_rows += self->nctx;
    CCHC_LOG(CCHC_LOG_DEBUG, "batch", "rows=%zu waiting=%zu", self->nctx, self->waiting);
    s_send_context(self);
}

int64_t srv_batch_next_timer(const srv_batch_t *self)
{
    if (self->state != S_IDLE || !self->waiting || !srv_db_ready(self->db))
        return -1;
    return self->draining ? cchc_clock_mono_ms() : self->head->arrived_ms + self->max_delay_ms;
}

void srv_batch_on_timer(srv_batch_t *self, int64_t now_ms)
{
    (void)now_ms;
    s_next(self);
}

void srv_batch_on_connect(srv_batch_t *self)
{
    if (self->state == S_WAIT_DB) {
        srv_server_counters(self->server)->resent_batches++;
        CCHC_LOG(CCHC_LOG_INFO, "batch_resent", "stage=%s reports=%zu",
                 self->lost_in == S_CONTEXT ? "context" : "store",
                 self->lost_in == S_CONTEXT ? self->nctx : self->ranges[self->nranges - 1].n);
        if (self->lost_in == S_CONTEXT)
            s_send_context(self);
        else
            s_send_store(self);
        return;
    }
    s_next(self);
}

void srv_batch_drain(srv_batch_t *self)
{
    self->draining = 1;
    s_next(self);
}

void srv_batch_abandon(srv_batch_t *self)
{
    /* The segment in flight, if any, fails with CCHC_EAGAIN: the batch is
     * then WAIT_DB, and answered below with the rest. */
    srv_db_abandon(self->db);
    const char *detail = "server stopping; resend later";
    if (self->state != S_IDLE)
        s_drop_all(self, detail);
    while (self->head) {
        srv_report_t *r = self->head;
        self->head = r->next;
        srv_report_busy(self->server, r, detail);
        s_done(self, r);
    }
    self->tail = NULL;
    self->waiting = 0;
}
