/* srv_batch.c: group commit of reports (see srv_batch.h).
 *
 * Owns the reports from srv_batch_add until they are answered: a FIFO of
 * reports waiting for a batch, and the one batch going through the
 * database, with its scratch arrays (the statements, the JSON parameter, the
 * split stack). Also owns the count of unanswered reports per routing id
 * (peer_max_inflight).
 *
 * One batch at a time goes through both stages while the next one gathers.
 * A batch takes up to batch_max_rows reports from the queue when that many
 * wait or the oldest has waited batch_max_delay_ms (at once when draining).
 *
 * Stage 1 (CONTEXT) is one read-only segment: the metadata document of each
 * unit of the batch whose kept one is stale (one small statement each; none
 * in the steady state), then cchc_batch_context over the whole batch. Stage 2
 * (STORE) is one segment with one cchc_store_batch over the reports that got
 * that far: no BEGIN/COMMIT, the segment is one implicit transaction that
 * commits at its sync, and every report of it is answered after
 * PGRES_PIPELINE_SYNC. When the statement fails nothing is committed: the
 * range is split in halves, each sent as its own segment (a stack of ranges,
 * the first half on top), until the poison report is alone; it is answered
 * by its error, the rest are stored and acked.
 *
 * The batch's lifecycle:
 *
 *   state    event                                        next     function
 *   -------  -------------------------------------------  -------  -----------------------
 *   IDLE     batch due (full, delay over, or draining),   CONTEXT  s_next, s_send_context
 *            database ready
 *   CONTEXT  sync: documents kept; each report answered   STORE    s_on_context, s_send_store
 *            (stored before; no context) or validated;
 *            some validated
 *   CONTEXT  sync, none to store                          IDLE     s_on_context, s_next
 *   CONTEXT  sync, the context statement failed: every    IDLE     s_on_context, s_next
 *            report answered by the error (NACK_BUSY)
 *   STORE    sync, the range committed: answer it, pop    STORE    s_on_store, s_send_store
 *            it, on_commit; ranges left
 *   STORE    sync, failed on a deadlock or serialization  STORE    s_on_store, s_send_store
 *            failure, fewer than S_TRANSIENT_RETRIES
 *            times: send it again
 *   STORE    sync, failed, range of n > 1: replace it by  STORE    s_on_store, s_send_store
 *            its two halves
 *   STORE    sync, failed, range of 1: answer it by its   STORE    s_on_store
 *            error, pop it                                or IDLE
 *   STORE    sync, no range left                          IDLE     s_on_store, s_next
 *   CONTEXT  connection lost (outcome unknown) or not     WAIT_DB  s_lost
 *   STORE    ready to take the segment: keep everything
 *   WAIT_DB  database back, statements prepared again:    CONTEXT  srv_batch_on_connect
 *            resend the same stage (idempotent)           or STORE
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

#define S_CONTEXT_STMT "cchc_batch_context"
#define S_STORE_STMT "cchc_store_batch"
#define S_DOC_STMT "cchc_unit_doc"

typedef enum { S_IDLE, S_CONTEXT, S_STORE, S_WAIT_DB } s_state_t;

typedef struct {
    size_t lo, n;
} s_range_t;

struct srv_batch {
    srv_router_t *router;
    srv_db_t *db;
    srv_units_t *units;
    srv_batch_hooks_t hooks;
    size_t max_rows, max_pending, peer_max;
    int64_t max_delay_ms;
    int draining;

    srv_report_t *head, *tail; /* waiting for a batch */
    size_t waiting;
    size_t pending; /* waiting + in the batch, unanswered */
    srv_map_t *per_peer;

    s_state_t state;
    s_state_t lost_in;    /* WAIT_DB: the stage to resend */
    srv_report_t **ctx;   /* CONTEXT: the batch's reports */
    size_t nctx;
    srv_report_t **store; /* STORE: reports to store, by their ord; ranges index it */
    size_t nstore;
    s_range_t ranges[128]; /* the split stack; the top is in flight */
    size_t nranges;
    int retries; /* the range in flight, resent after a deadlock */
    /* The segment in flight: its statements, the units whose documents it
     * reads (with their generations), and its JSON parameter. */
    srv_db_stmt_t *stmts;
    const char **unit_params; /* one per document read: &doc_units[i] */
    char **doc_units;
    srv_units_gen_t *gens;
    size_t nunits;
    srv_buf_t json;
    const char *json_param[1];
};

/* A range that failed on a deadlock or a serialization failure (another
 * transaction, e.g. a scheduler tick or another server, took the same rows
 * in another order), or on the unique key of a message another server
 * stored meanwhile (sent again, it is answered from that row), is sent
 * again whole, this many times, before splitting. */
#define S_TRANSIENT_RETRIES 3

static int s_transient(const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return state && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0 ||
                     strcmp(state, "23505") == 0);
}

static void s_next(srv_batch_t *self);

void srv_batch_prepare(srv_db_t *db)
{
    srv_db_prepare(db, S_CONTEXT_STMT,
                   "SELECT ord, id, status, findings, payload, extra "
                   "FROM cchc_batch_context($1::jsonb)");
    srv_db_prepare(db, S_STORE_STMT,
                   "SELECT ord, id, duplicate, status, findings::text, same_payload "
                   "FROM cchc_store_batch($1::jsonb)");
    srv_db_prepare(db, S_DOC_STMT, SRV_UNITS_READ_ONE_SQL);
}

srv_batch_t *srv_batch_new(srv_router_t *router, srv_db_t *db, srv_units_t *units,
                           const srv_config_t *cfg, const srv_batch_hooks_t *hooks)
{
    srv_batch_t *self = cchc_calloc(1, sizeof *self);
    self->router = router;
    self->db = db;
    self->units = units;
    self->hooks = *hooks;
    self->max_rows = (size_t)cfg->batch_max_rows;
    self->max_delay_ms = cfg->batch_max_delay_ms;
    self->max_pending = (size_t)cfg->max_pending;
    self->peer_max = (size_t)cfg->peer_max_inflight;
    self->per_peer = srv_map_new();
    self->ctx = cchc_calloc(self->max_rows, sizeof *self->ctx);
    self->store = cchc_calloc(self->max_rows, sizeof *self->store);
    self->stmts = cchc_calloc(self->max_rows + 1, sizeof *self->stmts);
    self->unit_params = cchc_calloc(self->max_rows, sizeof *self->unit_params);
    self->doc_units = cchc_calloc(self->max_rows, sizeof *self->doc_units);
    self->gens = cchc_calloc(self->max_rows, sizeof *self->gens);
    self->state = S_IDLE;
    return self;
}

static void s_units_clear(srv_batch_t *self)
{
    for (size_t i = 0; i < self->nunits; i++)
        free(self->doc_units[i]);
    self->nunits = 0;
}

void srv_batch_destroy(srv_batch_t **self_p)
{
    assert(self_p);
    srv_batch_t *self = *self_p;
    if (!self)
        return;
    srv_batch_abandon(self);
    s_units_clear(self);
    srv_map_destroy(&self->per_peer);
    srv_buf_free(&self->json);
    free(self->gens);
    free(self->doc_units);
    free(self->unit_params);
    free(self->stmts);
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
    srv_counters_t *c = srv_router_counters(self->router);
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

/* Answers every report of the batch NACK_BUSY; the batch is empty after.
 * Unanswered: in stage 1 ctx[0..nctx); in stage 2 what the ranges on the
 * stack hold (a finished range's reports are gone). */
static void s_drop_all(srv_batch_t *self, const char *detail)
{
    if (self->state == S_CONTEXT || (self->state == S_WAIT_DB && self->lost_in == S_CONTEXT)) {
        for (size_t i = 0; i < self->nctx; i++) {
            srv_report_busy(self->router, self->ctx[i], detail);
            s_done(self, self->ctx[i]);
        }
    } else {
        for (size_t k = 0; k < self->nranges; k++) {
            for (size_t i = 0; i < self->ranges[k].n; i++) {
                srv_report_t *r = self->store[self->ranges[k].lo + i];
                srv_report_busy(self->router, r, detail);
                s_done(self, r);
            }
        }
    }
    s_units_clear(self);
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

/* Stage 1: the documents of the units whose kept ones are stale, then the
 * batch's context. */
static void s_send_context(srv_batch_t *self)
{
    size_t n = 0;
    s_units_clear(self);
    for (size_t i = 0; i < self->nctx; i++) {
        const char *u = self->ctx[i]->unit;
        int dup = 0;
        for (size_t k = 0; k < self->nunits && !dup; k++)
            dup = strcmp(self->doc_units[k], u) == 0;
        if (dup || srv_units_vctx(self->units, u))
            continue;
        self->doc_units[self->nunits] = cchc_strdup(u);
        self->gens[self->nunits] = srv_units_gen(self->units, u);
        self->unit_params[self->nunits] = self->doc_units[self->nunits];
        self->stmts[n++] = (srv_db_stmt_t){
            .name = S_DOC_STMT, .nparams = 1, .values = &self->unit_params[self->nunits]};
        self->nunits++;
    }
    self->json.n = 0;
    srv_buf_puts(&self->json, "[");
    for (size_t i = 0; i < self->nctx; i++) {
        if (i)
            srv_buf_puts(&self->json, ",");
        srv_report_context_json(self->ctx[i], (int)i, &self->json);
    }
    srv_buf_puts(&self->json, "]");
    self->json_param[0] = self->json.p;
    self->stmts[n++] =
        (srv_db_stmt_t){.name = S_CONTEXT_STMT, .nparams = 1, .values = self->json_param};
    self->state = S_CONTEXT;
    if (srv_db_submit_segment(self->db, self->stmts, n, s_on_context, self) != 0)
        s_lost(self, S_CONTEXT);
}

/* Stage 2: the range on top of the stack, as one statement. */
static void s_send_store(srv_batch_t *self)
{
    assert(self->nranges > 0);
    s_range_t top = self->ranges[self->nranges - 1];
    self->json.n = 0;
    srv_buf_puts(&self->json, "[");
    for (size_t i = 0; i < top.n; i++) {
        if (i)
            srv_buf_puts(&self->json, ",");
        srv_buf_puts(&self->json, self->store[top.lo + i]->store_json);
    }
    srv_buf_puts(&self->json, "]");
    self->json_param[0] = self->json.p;
    self->stmts[0] = (srv_db_stmt_t){.name = S_STORE_STMT, .nparams = 1, .values = self->json_param};
    self->state = S_STORE;
    if (srv_db_submit_segment(self->db, self->stmts, 1, s_on_store, self) != 0)
        s_lost(self, S_STORE);
}

/* A stored row's payload (hex text of a bytea) against the report's bytes. */
static int s_same_payload(const char *hex, const srv_report_t *r)
{
    size_t n = 0;
    unsigned char *b = PQunescapeBytea((const unsigned char *)hex, &n);
    int same = b && n == r->payload_len && memcmp(b, r->payload, n) == 0;
    PQfreemem(b);
    return same;
}

static void s_on_context(srv_db_t *db, int rc, PGresult *const *results, size_t n, void *arg)
{
    (void)db;
    srv_batch_t *self = arg;
    assert(self->state == S_CONTEXT && n == self->nunits + 1);
    if (rc == CCHC_EAGAIN) {
        s_lost(self, S_CONTEXT);
        return;
    }
    if (rc != 0) {
        s_drop_all(self, "server cannot check reports now; resend later");
        s_next(self);
        return;
    }
    for (size_t k = 0; k < self->nunits; k++)
        if (PQresultStatus(results[k]) == PGRES_TUPLES_OK && PQntuples(results[k]) == 1 &&
            !PQgetisnull(results[k], 0, 0))
            srv_units_put(self->units, self->doc_units[k], PQgetvalue(results[k], 0, 0),
                          (size_t)PQgetlength(results[k], 0, 0), self->gens[k]);
    s_units_clear(self);
    const PGresult *res = results[n - 1];
    if (PQresultStatus(res) != PGRES_TUPLES_OK || (size_t)PQntuples(res) != self->nctx) {
        /* A read-only statement: nothing is lost; the agents resend. */
        for (size_t i = 0; i < self->nctx; i++) {
            if (PQresultStatus(res) == PGRES_TUPLES_OK)
                srv_report_busy(self->router, self->ctx[i], "server cannot check reports now");
            else
                srv_report_failed(self->router, self->ctx[i], res, "context");
            s_done(self, self->ctx[i]);
        }
        self->nctx = 0;
        self->state = S_IDLE;
        s_next(self);
        return;
    }
    self->nstore = 0;
    for (int row = 0; row < PQntuples(res); row++) {
        int i = atoi(PQgetvalue(res, row, 0));
        assert(i >= 0 && (size_t)i < self->nctx);
        srv_report_t *r = self->ctx[i];
        if (!PQgetisnull(res, row, 1)) {
            srv_report_answer_stored(self->router, r, strtoll(PQgetvalue(res, row, 1), NULL, 10),
                                     PQgetvalue(res, row, 2),
                                     PQgetisnull(res, row, 3) ? NULL : PQgetvalue(res, row, 3),
                                     s_same_payload(PQgetvalue(res, row, 4), r));
            s_done(self, r);
            continue;
        }
        const cchc_vctx_t *base = srv_units_vctx(self->units, r->unit);
        if (!base || srv_report_validate(r, base, PQgetisnull(res, row, 5)
                                                       ? NULL
                                                       : PQgetvalue(res, row, 5),
                                         (int)self->nstore) != 0) {
            srv_report_busy(self->router, r, "server cannot check reports now; resend later");
            s_done(self, r);
            continue;
        }
        self->store[self->nstore++] = r;
    }
    self->nctx = 0;
    if (self->nstore == 0) {
        self->state = S_IDLE;
        s_next(self);
        return;
    }
    self->ranges[0] = (s_range_t){.lo = 0, .n = self->nstore};
    self->nranges = 1;
    s_send_store(self);
}

static void s_on_store(srv_db_t *db, int rc, PGresult *const *results, size_t n, void *arg)
{
    (void)db;
    srv_batch_t *self = arg;
    srv_counters_t *c = srv_router_counters(self->router);
    assert(self->state == S_STORE && self->nranges > 0 && n == 1);
    s_range_t top = self->ranges[self->nranges - 1];
    if (rc == CCHC_EAGAIN) {
        s_lost(self, S_STORE);
        return;
    }
    if (rc != 0) {
        s_drop_all(self, "not stored; resend later");
        s_next(self);
        return;
    }
    const PGresult *res = results[0];
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK && (size_t)PQntuples(res) == top.n;
    if (!ok && PQresultStatus(res) != PGRES_TUPLES_OK && s_transient(res) &&
        self->retries < S_TRANSIENT_RETRIES) {
        /* Nothing committed; the other transaction has gone on. */
        self->retries++;
        CCHC_LOG(CCHC_LOG_WARN, "batch_retry", "rows=%zu sqlstate=%s attempt=%d", top.n,
                 PQresultErrorField(res, PG_DIAG_SQLSTATE), self->retries);
        s_send_store(self);
        return;
    }
    self->retries = 0;
    self->nranges--;
    if (ok) {
        /* Committed at the sync. */
        for (int row = 0; row < PQntuples(res); row++) {
            size_t i = (size_t)atoi(PQgetvalue(res, row, 0));
            assert(i >= top.lo && i < top.lo + top.n);
            srv_report_t *r = self->store[i];
            srv_report_answer(self->router, r, res, row);
            if (strcmp(PQgetvalue(res, row, 3), "rejected") != 0)
                srv_units_touched(self->units, r->unit);
            self->store[i] = NULL;
            s_done(self, r);
        }
        if (self->hooks.on_commit)
            self->hooks.on_commit(self->hooks.arg);
    } else if (top.n == 1) {
        srv_report_t *r = self->store[top.lo];
        if (PQresultStatus(res) == PGRES_TUPLES_OK)
            srv_report_busy(self->router, r, "not stored; resend later");
        else
            srv_report_failed(self->router, r, res, "store");
        self->store[top.lo] = NULL;
        s_done(self, r);
    } else {
        char msg[300];
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        CCHC_LOG(CCHC_LOG_WARN, "batch_split", "rows=%zu sqlstate=%s err=%s", top.n,
                 state ? state : "-",
                 srv_logstr(msg, sizeof msg,
                            PQresultStatus(res) == PGRES_TUPLES_OK
                                ? "rows missing"
                                : PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)));
        c->batch_splits++;
        size_t half = top.n / 2;
        self->ranges[self->nranges++] = (s_range_t){.lo = top.lo + half, .n = top.n - half};
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
        cchc_clock_mono_ms() < self->head->arrived_mono + self->max_delay_ms)
        return;
    srv_counters_t *c = srv_router_counters(self->router);
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
    return self->draining ? cchc_clock_mono_ms() : self->head->arrived_mono + self->max_delay_ms;
}

void srv_batch_on_timer(srv_batch_t *self, int64_t now_ms)
{
    (void)now_ms;
    s_next(self);
}

void srv_batch_on_connect(srv_batch_t *self)
{
    if (self->state == S_WAIT_DB) {
        srv_router_counters(self->router)->resent_batches++;
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
        srv_report_busy(self->router, r, detail);
        s_done(self, r);
    }
    self->tail = NULL;
    self->waiting = 0;
}
