/* srv_batch.c: group commit of reports (see srv_batch.h).
 *
 * Owns the reports from srv_batch_add until they are answered, and the
 * store connections. The reports go through `store_connections` lanes, each
 * with its own PostgreSQL connection, so that the database works on as many
 * batches at once (one backend each). A unit's reports go to the lane that
 * holds its unanswered ones, if any, so that they, and so each report's
 * revisions, are stored in the order they came, as with one lane. A unit
 * with none goes to the first lane at light load (its last batch light, under
 * an eighth of batch_max_rows waiting there), otherwise to its home: the
 * lane with the fewest units when it was first seen, for the server's life.
 * When load comes to a lane (an eighth of batch_max_rows waiting when its
 * batch starts), the reports it holds of units whose home is elsewhere go
 * there first: the lane is idle, so none of them is in a batch. At light
 * load one lane's batches are fewer and fuller than several lanes' at once,
 * each paying a store's fixed cost and waiting on the other at the
 * notification counter (cchc-bench, 1,000 agents at 1,000 reports/s in all:
 * ack p50 4.4-4.9 ms and p99 10.3-11.6 ms with two lanes at once, 3.0 and
 * 8.5-9.2 ms with one); under load, every lane works. What the lanes share: the count
 * of unanswered reports (max_pending) and per routing id
 * (peer_max_inflight), the units' kept contexts and the hooks.
 *
 * A lane has a FIFO of reports waiting for a batch and the one batch going
 * through its connection, with its scratch arrays (the statements, the JSON
 * parameter, the split stack). One batch at a time goes through both stages
 * while the next one gathers. A batch takes up to batch_max_rows reports
 * from the queue when that many wait or the oldest has waited
 * batch_max_delay_ms (at once when draining), or at once when the lane's
 * last batch held under an eighth of batch_max_rows (light load: the reports
 * that come while a batch is in the database go together in the next one, and
 * waiting would only answer later; under load, the acks of a big batch bring
 * the agents' next reports within a few ms, and without the delay the lane
 * would take the first few of them alone: cchc-bench's small ingest 5,700
 * reports/s against 7,200). A batch that is not full is started by the loop's
 * srv_batch_on_timer, after the burst of messages that brought its reports.
 *
 * Stage 1 (CONTEXT) is one read-only segment: the metadata document of each
 * unit of the batch whose kept context is stale (one small statement each;
 * none in the steady state), then cchc_batch_context over the whole batch;
 * at the session's 16th, 32nd, 64th, ... batch, DISCARD PLANS first (the
 * plans made while reports was small made again, s_send_context).
 * Stage 2 (STORE) is one segment with one cchc_store_batch over the reports
 * that got that far: no BEGIN/COMMIT, the segment is one implicit
 * transaction that commits at its sync, and every report of it is answered
 * after PGRES_PIPELINE_SYNC. When the statement fails nothing is committed:
 * the range is split in halves, each sent as its own segment (a stack of
 * ranges, the first half on top), until the poison report is alone; it is
 * answered by its error, the rest are stored and acked. Two lanes never
 * wait on each other's rows but for the notification counter, which a
 * store holds from its receipts to its commit (numbers in commit order).
 *
 * A lane's batch's lifecycle:
 *
 *   state    event                                        next     function
 *   -------  -------------------------------------------  -------  -----------------------
 *   IDLE     batch due (full, delay over, the last batch  CONTEXT  s_next, s_send_context
 *            light, or draining), the connection ready
 *   CONTEXT  sync: documents kept; each report answered   STORE    s_on_context, s_send_store
 *            (stored before; no context; a predecessor's
 *            report its sender does not answer for:
 *            NACK_UNIT_MISMATCH) or validated; some
 *            validated
 *   CONTEXT  sync, none to store                          IDLE     s_on_context, s_next
 *   CONTEXT  sync, the context statement failed: every    IDLE     s_on_context, s_next
 *            report answered by the error (NACK_BUSY)
 *   STORE    sync, the range committed: answer it, pop    STORE    s_on_store, s_send_store
 *            it, on_commit; ranges left
 *   STORE    sync, failed on a deadlock, a serialization  STORE    s_on_store, s_send_store
 *            failure or a unique violation, fewer than
 *            S_TRANSIENT_RETRIES times: send it again
 *   STORE    sync, failed, range of n > 1: replace it by  STORE    s_on_store, s_send_store
 *            its two halves
 *   STORE    sync, failed, range of 1: answer it by its   STORE    s_on_store
 *            error, pop it                                or IDLE
 *   STORE    sync, no range left                          IDLE     s_on_store, s_next
 *   CONTEXT  connection lost (outcome unknown) or not     WAIT_DB  s_lost
 *   STORE    ready to take the segment: keep everything
 *   WAIT_DB  the lane's connection back, statements       CONTEXT  s_on_lane_connect
 *            prepared again: resend the same stage        or STORE
 *            (idempotent)
 *   CONTEXT  libpq refused to send (CCHC_EIO): answer     IDLE     s_drop_all
 *   STORE    the batch NACK_BUSY
 *   any      srv_batch_abandon (shutdown deadline)        IDLE     srv_batch_abandon
 *
 * While a lane's connection is away, new reports for it are refused
 * NACK_BUSY (srv_batch_admit); the reports already here wait for it. */
#include "srv_batch.h"
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "srv_map.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define S_CONTEXT_STMT "cchc_batch_context"
#define S_STORE_STMT "cchc_store_batch"
#define S_DOC_STMT "cchc_unit_doc"
#define S_LANE_BITS 5 /* held: the lane's number + 1 in the low bits */
#define S_LANE_MASK ((1 << S_LANE_BITS) - 1)
_Static_assert(SRV_STORE_CONNECTIONS_MAX < 1 << S_LANE_BITS, "a lane number fits S_LANE_BITS");

typedef enum { S_IDLE, S_CONTEXT, S_STORE, S_WAIT_DB } s_state_t;

typedef struct {
    size_t lo, n;
} s_range_t;

typedef struct s_lane {
    srv_batch_t *b;
    int no;
    srv_db_t *db;
    size_t units; /* units whose home this lane is */

    srv_report_t *head, *tail; /* waiting for a batch */
    size_t waiting;
    size_t guests; /* of them, taken at light load: their unit's home may be another lane */
    /* The last batch held under an eighth of batch_max_rows (light load): the
     * next one does not wait for batch_max_delay_ms. */
    int light;

    s_state_t state;
    s_state_t lost_in;  /* WAIT_DB: the stage to resend */
    srv_report_t **ctx; /* CONTEXT: the batch's reports */
    size_t nctx;
    srv_report_t **store; /* STORE: reports to store, by their ord; ranges index it */
    size_t nstore;
    s_range_t ranges[128]; /* the split stack; the top is in flight */
    size_t nranges;
    int retries;        /* the range in flight, resent after a deadlock */
    int64_t started_us; /* the batch left the queue (srv_hist_now_us) */
    /* The segment in flight: its statements, the units whose documents it
     * reads (with their generations), and its JSON parameter. */
    srv_db_stmt_t *stmts;
    const char **unit_params; /* one per document read: &doc_units[i] */
    char **doc_units;
    srv_units_gen_t *gens;
    size_t nunits;
    srv_buf_t json;
    const char *json_param[1];
    /* Context segments sent in this session, and whether the one in flight
     * begins with DISCARD PLANS (s_send_context). */
    uint64_t session_ctx;
    int discard;
    /* The store's parameters: the JSON, and the payloads as a bytea[] in
     * PostgreSQL's binary array format (s_put_payloads). */
    srv_buf_t payloads;
    const char *store_params[2];
    int store_lengths[2];
} s_lane_t;

struct srv_batch {
    srv_router_t *router;
    srv_units_t *units;
    srv_batch_hooks_t hooks;
    size_t max_rows, max_pending, peer_max;
    int64_t max_delay_ms;
    int draining;

    size_t pending; /* taken, unanswered, all lanes */
    srv_map_t *per_peer;
    srv_map_t *lane_of; /* unit code -> its home lane's number + 1 */
    /* unit code -> its unanswered reports << S_LANE_BITS | the number + 1 of
     * the lane that holds them, while it has some */
    srv_map_t *held;
    s_lane_t *lanes;
    size_t nlanes;
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

static void s_next(s_lane_t *l);
static void s_on_lane_connect(void *arg);

srv_batch_t *srv_batch_new(srv_router_t *router, srv_units_t *units, const srv_config_t *cfg,
                           const srv_batch_hooks_t *hooks)
{
    srv_batch_t *self = cchc_calloc(1, sizeof *self);
    self->router = router;
    self->units = units;
    self->hooks = *hooks;
    self->max_rows = (size_t)cfg->batch_max_rows;
    self->max_delay_ms = cfg->batch_max_delay_ms;
    self->max_pending = (size_t)cfg->max_pending;
    self->peer_max = (size_t)cfg->peer_max_inflight;
    self->per_peer = srv_map_new();
    self->lane_of = srv_map_new();
    self->held = srv_map_new();
    self->nlanes = (size_t)cfg->store_connections;
    self->lanes = cchc_calloc(self->nlanes, sizeof *self->lanes);
    for (size_t k = 0; k < self->nlanes; k++) {
        s_lane_t *l = &self->lanes[k];
        l->b = self;
        l->no = (int)k;
        srv_db_hooks_t dh = {
            .name = "cchc-server-store", .on_connect = s_on_lane_connect, .arg = l};
        l->db = srv_db_new(cfg->conninfo, &dh);
        srv_db_set_query_timeout(l->db, cfg->query_timeout_ms);
        srv_db_prepare(l->db, S_CONTEXT_STMT,
                       "SELECT ord, id, status, findings, payload, extra "
                       "FROM cchc_batch_context($1::jsonb)");
        srv_db_prepare(l->db, S_STORE_STMT,
                       "SELECT ord, id, duplicate, status, findings::text, same_payload "
                       "FROM cchc_store_batch($1::jsonb, $2::bytea[])");
        srv_db_prepare(l->db, S_DOC_STMT, SRV_UNITS_READ_ONE_SQL);
        l->ctx = cchc_calloc(self->max_rows, sizeof *l->ctx);
        l->store = cchc_calloc(self->max_rows, sizeof *l->store);
        l->stmts = cchc_calloc(self->max_rows + 2, sizeof *l->stmts);
        l->unit_params = cchc_calloc(self->max_rows, sizeof *l->unit_params);
        l->doc_units = cchc_calloc(self->max_rows, sizeof *l->doc_units);
        l->gens = cchc_calloc(self->max_rows, sizeof *l->gens);
        l->state = S_IDLE;
    }
    return self;
}

int srv_batch_connect(srv_batch_t *self, int64_t timeout_ms, char *err, size_t errlen)
{
    char msg[512];
    for (size_t k = 0; k < self->nlanes; k++) {
        srv_db_t *db = self->lanes[k].db;
        if (srv_db_connect(db, timeout_ms, msg, sizeof msg) != 0) {
            snprintf(err, errlen, "store connection %zu: %s", k + 1, msg);
            return CCHC_EAGAIN;
        }
        if (srv_db_start(db, msg, sizeof msg) != 0) {
            snprintf(err, errlen, "store connection %zu: %s", k + 1, msg);
            return CCHC_EIO;
        }
    }
    return CCHC_OK;
}

static void s_units_clear(s_lane_t *l)
{
    for (size_t i = 0; i < l->nunits; i++)
        free(l->doc_units[i]);
    l->nunits = 0;
}

void srv_batch_destroy(srv_batch_t **self_p)
{
    assert(self_p);
    srv_batch_t *self = *self_p;
    if (!self)
        return;
    srv_batch_abandon(self);
    for (size_t k = 0; k < self->nlanes; k++) {
        s_lane_t *l = &self->lanes[k];
        s_units_clear(l);
        srv_db_destroy(&l->db);
        srv_buf_free(&l->json);
        srv_buf_free(&l->payloads);
        free(l->gens);
        free(l->doc_units);
        free(l->unit_params);
        free(l->stmts);
        free(l->store);
        free(l->ctx);
    }
    free(self->lanes);
    srv_map_destroy(&self->lane_of);
    srv_map_destroy(&self->held);
    srv_map_destroy(&self->per_peer);
    free(self);
    *self_p = NULL;
}

size_t srv_batch_dbs(const srv_batch_t *self)
{
    return self->nlanes;
}

srv_db_t *srv_batch_db(srv_batch_t *self, size_t i)
{
    assert(i < self->nlanes);
    return self->lanes[i].db;
}

/* The unit's home lane: given on its first report (or its first at load)
 * to the lane with the fewest units, for the server's life. */
static s_lane_t *s_home(srv_batch_t *self, const char *unit)
{
    size_t n = strlen(unit);
    int64_t k = srv_map_get(self->lane_of, unit, n, 0);
    if (k > 0)
        return &self->lanes[k - 1];
    size_t best = 0;
    for (size_t i = 1; i < self->nlanes; i++)
        if (self->lanes[i].units < self->lanes[best].units)
            best = i;
    self->lanes[best].units++;
    srv_map_set(self->lane_of, unit, n, (int64_t)best + 1);
    return &self->lanes[best];
}

/* The lane for a report of the unit: the one that holds its unanswered
 * reports, if any, so that they are stored in the order they came; else the
 * first lane at light load (its last batch light, under an eighth of
 * batch_max_rows waiting there, its connection ready); else its home. */
static s_lane_t *s_lane(srv_batch_t *self, const char *unit)
{
    int64_t v = srv_map_get(self->held, unit, strlen(unit), 0);
    if (v > 0)
        return &self->lanes[(v & S_LANE_MASK) - 1];
    s_lane_t *first = &self->lanes[0];
    if (first->light && first->waiting * 8 < self->max_rows && srv_db_ready(first->db))
        return first;
    return s_home(self, unit);
}

/* The unit's reports held (one more, or one fewer when delta is -1) by lane
 * l, or by the lane that holds them now (l NULL). */
static void s_held_add(srv_batch_t *self, const char *unit, const s_lane_t *l, int delta)
{
    size_t n = strlen(unit);
    int64_t v = srv_map_get(self->held, unit, n, 0);
    int64_t count = (v >> S_LANE_BITS) + delta;
    assert(count >= 0 && (v > 0 || l));
    if (count == 0)
        srv_map_remove(self->held, unit, n);
    else
        srv_map_set(self->held, unit, n,
                    count << S_LANE_BITS | (l ? l->no + 1 : (v & S_LANE_MASK)));
}

/* r has been answered: forget it. */
static void s_done(srv_batch_t *self, srv_report_t *r)
{
    assert(self->pending > 0);
    self->pending--;
    s_held_add(self, r->unit, NULL, -1);
    srv_map_add(self->per_peer, r->rid, r->rid_len, -1);
    srv_report_free(&r);
}

int srv_batch_admit(srv_batch_t *self, const srv_peer_t *peer, const char **why)
{
    srv_counters_t *c = srv_router_counters(self->router);
    if (!srv_db_ready(s_lane(self, peer->principal)->db)) {
        c->refused_busy_db++;
        *why = "database unavailable; resend later";
        return CCHC_EFULL;
    }
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

/* r at the end of the lane's queue. */
static void s_enqueue(s_lane_t *l, srv_report_t *r)
{
    r->next = NULL;
    if (l->tail)
        l->tail->next = r;
    else
        l->head = r;
    l->tail = r;
    l->waiting++;
}

void srv_batch_add(srv_batch_t *self, srv_report_t **r_p)
{
    srv_report_t *r = *r_p;
    *r_p = NULL;
    s_lane_t *l = s_lane(self, r->unit);
    s_held_add(self, r->unit, l, 1);
    s_enqueue(l, r);
    /* (Only the first lane takes other lanes' units.) */
    r->guest = l == &self->lanes[0] && self->nlanes > 1 &&
               srv_map_get(self->lane_of, r->unit, strlen(r->unit), 0) != 1;
    l->guests += (size_t)r->guest;
    self->pending++;
    srv_map_add(self->per_peer, r->rid, r->rid_len, 1);
    /* A full batch goes at once; one that is not is started, if due, by the
     * loop's srv_batch_on_timer after this burst of messages is read, so that
     * the reports read together share a batch. */
    if (l->waiting >= self->max_rows)
        s_next(l);
}

size_t srv_batch_pending(const srv_batch_t *self)
{
    return self->pending;
}

/* Answers every report of the lane's batch NACK_BUSY; the batch is empty
 * after. Unanswered: in stage 1 ctx[0..nctx); in stage 2 what the ranges on
 * the stack hold (a finished range's reports are gone). */
static void s_drop_all(s_lane_t *l, const char *detail)
{
    srv_batch_t *b = l->b;
    if (l->state == S_CONTEXT || (l->state == S_WAIT_DB && l->lost_in == S_CONTEXT)) {
        for (size_t i = 0; i < l->nctx; i++) {
            srv_report_busy(b->router, l->ctx[i], detail);
            s_done(b, l->ctx[i]);
        }
    } else {
        for (size_t k = 0; k < l->nranges; k++) {
            for (size_t i = 0; i < l->ranges[k].n; i++) {
                srv_report_t *r = l->store[l->ranges[k].lo + i];
                srv_report_busy(b->router, r, detail);
                s_done(b, r);
            }
        }
    }
    s_units_clear(l);
    l->nctx = l->nstore = l->nranges = 0;
    l->retries = 0;
    l->state = l->lost_in = S_IDLE;
}

static void s_on_context(srv_db_t *db, int rc, PGresult *const *results, size_t n, void *arg);
static void s_on_store(srv_db_t *db, int rc, PGresult *const *results, size_t n, void *arg);

/* The segment could not be handed to the connection, or its outcome was
 * lost with it: keep everything for s_on_lane_connect. */
static void s_lost(s_lane_t *l, s_state_t stage)
{
    if (l->state != S_WAIT_DB)
        CCHC_LOG(CCHC_LOG_WARN, "batch_waiting_db", "lane=%d stage=%s reports=%zu", l->no + 1,
                 stage == S_CONTEXT ? "context" : "store",
                 stage == S_CONTEXT ? l->nctx : l->nstore);
    l->state = S_WAIT_DB;
    l->lost_in = stage;
}

/* Stage 1: the documents of the units whose kept contexts are stale, then
 * the batch's context. */
static void s_send_context(s_lane_t *l)
{
    srv_batch_t *b = l->b;
    size_t n = 0;
    s_units_clear(l);
    /* The session's plans made again at its 16th, 32nd, 64th, ... batch:
     * cchc_batch_context's (and the store's) generic plans are kept for the
     * session, and one made while reports was empty or small (a new
     * district, a new cluster) may probe it by reports_unit_received, every
     * report of the unit, where the unique key finds the message: it was so
     * in a cchc-bench run, and at 5,000 reports a unit the small ingest ran
     * at 700 reports/s. PostgreSQL makes the plans again after an ANALYZE
     * of reports, but autovacuum may be a minute away. As the store's
     * TRUNCATE (031), more and more rarely. */
    l->discard = 0;
    uint64_t nth = ++l->session_ctx;
    if (nth >= 16 && (nth & (nth - 1)) == 0) {
        l->stmts[n++] = (srv_db_stmt_t){.sql = "DISCARD PLANS"};
        l->discard = 1;
    }
    for (size_t i = 0; i < l->nctx; i++) {
        const char *u = l->ctx[i]->unit;
        int dup = 0;
        for (size_t k = 0; k < l->nunits && !dup; k++)
            dup = strcmp(l->doc_units[k], u) == 0;
        if (dup || srv_units_vctx(b->units, u))
            continue;
        l->doc_units[l->nunits] = cchc_strdup(u);
        l->gens[l->nunits] = srv_units_gen(b->units, u);
        l->unit_params[l->nunits] = l->doc_units[l->nunits];
        l->stmts[n++] =
            (srv_db_stmt_t){.name = S_DOC_STMT, .nparams = 1, .values = &l->unit_params[l->nunits]};
        l->nunits++;
    }
    l->json.n = 0;
    srv_buf_puts(&l->json, "[");
    for (size_t i = 0; i < l->nctx; i++) {
        if (i)
            srv_buf_puts(&l->json, ",");
        srv_report_context_json(l->ctx[i], srv_units_vctx(b->units, l->ctx[i]->unit), (int)i,
                                &l->json);
    }
    srv_buf_puts(&l->json, "]");
    l->json_param[0] = l->json.p;
    l->stmts[n++] = (srv_db_stmt_t){.name = S_CONTEXT_STMT, .nparams = 1, .values = l->json_param};
    l->state = S_CONTEXT;
    if (srv_db_submit_segment(l->db, l->stmts, n, s_on_context, l) != 0)
        s_lost(l, S_CONTEXT);
}

static void s_put_u32(srv_buf_t *b, uint32_t v)
{
    const char q[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
    srv_buf_put(b, q, 4);
}

/* The payloads of reports as a one-dimensional bytea[] in the binary format
 * of array_recv: dimensions, null flag, element type, then per dimension its
 * length and lower bound, then per element its length and bytes (network
 * order). payloads[i] is the report at p's place i (from 1). */
static void s_put_payloads(srv_buf_t *b, srv_report_t *const *r, size_t n)
{
    enum { S_BYTEAOID = 17 };
    b->n = 0;
    s_put_u32(b, 1);
    s_put_u32(b, 0);
    s_put_u32(b, S_BYTEAOID);
    s_put_u32(b, (uint32_t)n);
    s_put_u32(b, 1);
    for (size_t i = 0; i < n; i++) {
        s_put_u32(b, (uint32_t)r[i]->payload_len);
        srv_buf_put(b, (const char *)r[i]->payload, r[i]->payload_len);
    }
}

/* Stage 2: the range on top of the stack, as one statement. */
static void s_send_store(s_lane_t *l)
{
    static const int formats[2] = {0, 1};
    assert(l->nranges > 0);
    s_range_t top = l->ranges[l->nranges - 1];
    l->json.n = 0;
    srv_buf_puts(&l->json, "[");
    for (size_t i = 0; i < top.n; i++) {
        if (i)
            srv_buf_puts(&l->json, ",");
        srv_buf_puts(&l->json, l->store[top.lo + i]->store_json);
    }
    srv_buf_puts(&l->json, "]");
    s_put_payloads(&l->payloads, &l->store[top.lo], top.n);
    l->store_params[0] = l->json.p;
    l->store_params[1] = l->payloads.p;
    /* (An int says no more than INT_MAX; PostgreSQL takes no parameter over
     * 1 GB anyway, which batch_max_rows x max_frame can pass only when both
     * are raised far beyond their defaults.) */
    l->store_lengths[1] = l->payloads.n > (size_t)INT_MAX ? INT_MAX : (int)l->payloads.n;
    l->stmts[0] = (srv_db_stmt_t){.name = S_STORE_STMT,
                                  .nparams = 2,
                                  .values = l->store_params,
                                  .lengths = l->store_lengths,
                                  .formats = formats};
    l->state = S_STORE;
    if (srv_db_submit_segment(l->db, l->stmts, 1, s_on_store, l) != 0)
        s_lost(l, S_STORE);
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
    s_lane_t *l = arg;
    srv_batch_t *b = l->b;
    assert(l->state == S_CONTEXT && n == (size_t)l->discard + l->nunits + 1);
    if (rc == CCHC_EAGAIN) {
        s_lost(l, S_CONTEXT);
        return;
    }
    if (rc != 0) {
        s_drop_all(l, "server cannot check reports now; resend later");
        s_next(l);
        return;
    }
    /* (DISCARD PLANS's result, if any, says nothing: a failure there costs
     * only the plans made again later.) */
    PGresult *const *docs = results + l->discard;
    for (size_t k = 0; k < l->nunits; k++)
        if (PQresultStatus(docs[k]) == PGRES_TUPLES_OK && PQntuples(docs[k]) == 1 &&
            !PQgetisnull(docs[k], 0, 0))
            srv_units_put(b->units, l->doc_units[k], PQgetvalue(docs[k], 0, 0),
                          (size_t)PQgetlength(docs[k], 0, 0), l->gens[k]);
    s_units_clear(l);
    const PGresult *res = results[n - 1];
    if (PQresultStatus(res) != PGRES_TUPLES_OK || (size_t)PQntuples(res) != l->nctx) {
        /* A read-only statement over the whole batch: nothing is lost, and
         * no report is to blame, whatever the SQLSTATE (srv_report_failed
         * would refuse every report of the batch NACK_INVALID for a data
         * error); the agents resend. */
        char msg[300];
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        CCHC_LOG(CCHC_LOG_ERROR, "db_error", "lane=%d job=context reports=%zu sqlstate=%s err=%s",
                 l->no + 1, l->nctx, state ? state : "-",
                 srv_logstr(msg, sizeof msg,
                            PQresultStatus(res) == PGRES_TUPLES_OK ? "rows missing"
                            : primary                              ? primary
                                                                   : PQresultErrorMessage(res)));
        for (size_t i = 0; i < l->nctx; i++) {
            srv_report_busy(b->router, l->ctx[i], "server cannot check reports now; resend later");
            s_done(b, l->ctx[i]);
        }
        l->nctx = 0;
        l->state = S_IDLE;
        s_next(l);
        return;
    }
    l->nstore = 0;
    for (int row = 0; row < PQntuples(res); row++) {
        int i = atoi(PQgetvalue(res, row, 0));
        assert(i >= 0 && (size_t)i < l->nctx);
        srv_report_t *r = l->ctx[i];
        if (!PQgetisnull(res, row, 1)) {
            srv_report_answer_stored(b->router, r, strtoll(PQgetvalue(res, row, 1), NULL, 10),
                                     PQgetvalue(res, row, 2),
                                     PQgetisnull(res, row, 3) ? NULL : PQgetvalue(res, row, 3),
                                     s_same_payload(PQgetvalue(res, row, 4), r));
            s_done(b, r);
            continue;
        }
        /* The sender's context: a predecessor's report is validated in the
         * one derived from it (srv_report_validate). */
        const cchc_vctx_t *base = srv_units_vctx(b->units, r->unit);
        int vrc = base ? srv_report_validate(
                             r, base, PQgetisnull(res, row, 5) ? NULL : PQgetvalue(res, row, 5),
                             (int)l->nstore)
                       : -1;
        if (vrc == SRV_REPORT_NOT_HEIR) {
            srv_report_mismatch(b->router, r);
            if (b->hooks.on_mismatch)
                b->hooks.on_mismatch(b->hooks.arg, r);
            s_done(b, r);
            continue;
        }
        if (vrc != 0) {
            srv_report_busy(b->router, r, "server cannot check reports now; resend later");
            s_done(b, r);
            continue;
        }
        l->store[l->nstore++] = r;
    }
    l->nctx = 0;
    if (l->nstore == 0) {
        l->state = S_IDLE;
        s_next(l);
        return;
    }
    l->ranges[0] = (s_range_t){.lo = 0, .n = l->nstore};
    l->nranges = 1;
    s_send_store(l);
}

static void s_on_store(srv_db_t *db, int rc, PGresult *const *results, size_t n, void *arg)
{
    (void)db;
    s_lane_t *l = arg;
    srv_batch_t *b = l->b;
    srv_counters_t *c = srv_router_counters(b->router);
    assert(l->state == S_STORE && l->nranges > 0 && n == 1);
    s_range_t top = l->ranges[l->nranges - 1];
    if (rc == CCHC_EAGAIN) {
        s_lost(l, S_STORE);
        return;
    }
    if (rc != 0) {
        s_drop_all(l, "not stored; resend later");
        s_next(l);
        return;
    }
    const PGresult *res = results[0];
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK && (size_t)PQntuples(res) == top.n;
    if (!ok && PQresultStatus(res) != PGRES_TUPLES_OK && s_transient(res) &&
        l->retries < S_TRANSIENT_RETRIES) {
        /* Nothing committed; the other transaction has gone on. */
        l->retries++;
        CCHC_LOG(CCHC_LOG_WARN, "batch_retry", "lane=%d rows=%zu sqlstate=%s attempt=%d", l->no + 1,
                 top.n, PQresultErrorField(res, PG_DIAG_SQLSTATE), l->retries);
        s_send_store(l);
        return;
    }
    l->retries = 0;
    l->nranges--;
    if (ok) {
        /* Committed at the sync. */
        srv_hist_commit(&c->batch_commit, l->started_us);
        for (int row = 0; row < PQntuples(res); row++) {
            size_t i = (size_t)atoi(PQgetvalue(res, row, 0));
            assert(i >= top.lo && i < top.lo + top.n);
            srv_report_t *r = l->store[i];
            srv_report_answer(b->router, r, res, row);
            /* A predecessor's revisions are in its document and its heir's;
             * and what a unit with a successor still owes is in the
             * successor's (its "predecessors"): read again, and its agent told. */
            if (strcmp(PQgetvalue(res, row, 3), "rejected") != 0) {
                srv_units_touched(b->units, r->unit);
                if (r->for_unit)
                    srv_units_touched(b->units, r->for_unit);
                const char *succ =
                    r->for_unit ? NULL : cchc_vctx_successor(srv_units_vctx(b->units, r->unit));
                if (succ)
                    srv_units_changed(b->units, succ);
            }
            l->store[i] = NULL;
            s_done(b, r);
        }
        if (b->hooks.on_commit)
            b->hooks.on_commit(b->hooks.arg);
    } else if (top.n == 1) {
        srv_report_t *r = l->store[top.lo];
        if (PQresultStatus(res) == PGRES_TUPLES_OK)
            srv_report_busy(b->router, r, "not stored; resend later");
        else
            srv_report_failed(b->router, r, res, "store");
        l->store[top.lo] = NULL;
        s_done(b, r);
    } else {
        char msg[300];
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        CCHC_LOG(CCHC_LOG_WARN, "batch_split", "lane=%d rows=%zu sqlstate=%s err=%s", l->no + 1,
                 top.n, state ? state : "-",
                 srv_logstr(msg, sizeof msg,
                            PQresultStatus(res) == PGRES_TUPLES_OK
                                ? "rows missing"
                                : PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)));
        c->batch_splits++;
        size_t half = top.n / 2;
        l->ranges[l->nranges++] = (s_range_t){.lo = top.lo + half, .n = top.n - half};
        l->ranges[l->nranges++] = (s_range_t){.lo = top.lo, .n = half};
    }
    if (l->nranges) {
        s_send_store(l);
        return;
    }
    l->nstore = 0;
    l->state = S_IDLE;
    s_next(l);
}

/* Load has come to the lane (idle, none of its reports in a batch): the
 * reports it took at light load of units whose home is another lane go
 * there, in their order (behind none of theirs: a unit's reports are in
 * one lane), and that lane's batch starts if due. Walks the queue only as
 * far as its last guest. */
static void s_send_home(s_lane_t *l)
{
    srv_batch_t *b = l->b;
    int moved[SRV_STORE_CONNECTIONS_MAX] = {0};
    srv_report_t **pp = &l->head, *r, *last = NULL;
    while (l->guests && (r = *pp)) {
        s_lane_t *h = r->guest ? s_home(b, r->unit) : l;
        if (h == l || !srv_db_ready(h->db)) {
            if (h == l && r->guest) {
                r->guest = 0;
                l->guests--;
            }
            last = r;
            pp = &r->next;
            continue;
        }
        *pp = r->next;
        l->waiting--;
        r->guest = 0;
        l->guests--;
        s_enqueue(h, r);
        s_held_add(b, r->unit, h, 0);
        moved[h->no] = 1;
    }
    if (!*pp) /* walked to the end: its last report may have gone */
        l->tail = last;
    for (size_t k = 0; k < b->nlanes; k++)
        if (moved[k])
            s_next(&b->lanes[k]);
}

/* Starts the lane's next batch when one is due and its connection can take it. */
static void s_next(s_lane_t *l)
{
    srv_batch_t *b = l->b;
    if (l->state != S_IDLE || !l->waiting || !srv_db_ready(l->db))
        return;
    if (l->waiting < b->max_rows && !b->draining && !l->light &&
        cchc_clock_mono_ms() < l->head->arrived_mono + b->max_delay_ms)
        return;
    if (l->guests && l->waiting * 8 >= b->max_rows)
        s_send_home(l);
    if (!l->waiting)
        return;
    srv_counters_t *c = srv_router_counters(b->router);
    l->nctx = l->nstore = l->nranges = 0;
    l->retries = 0;
    while (l->head && l->nctx < b->max_rows) {
        srv_report_t *r = l->head;
        l->head = r->next;
        r->next = NULL;
        l->ctx[l->nctx++] = r;
        l->waiting--;
        l->guests -= (size_t)r->guest;
    }
    if (!l->head)
        l->tail = NULL;
    l->light = l->nctx * 8 < b->max_rows;
    c->batches++;
    c->batch_rows += l->nctx;
    srv_hist_batch_rows(&c->batch_reports, l->nctx);
    l->started_us = srv_hist_now_us();
    CCHC_LOG(CCHC_LOG_DEBUG, "batch", "lane=%d rows=%zu waiting=%zu", l->no + 1, l->nctx,
             l->waiting);
    s_send_context(l);
}

int64_t srv_batch_next_timer(const srv_batch_t *self)
{
    int64_t next = -1;
    for (size_t k = 0; k < self->nlanes; k++) {
        const s_lane_t *l = &self->lanes[k];
        if (l->state != S_IDLE || !l->waiting || !srv_db_ready(l->db))
            continue;
        int64_t t = self->draining || l->light ? cchc_clock_mono_ms()
                                               : l->head->arrived_mono + self->max_delay_ms;
        if (next < 0 || t < next)
            next = t;
    }
    return next;
}

void srv_batch_on_timer(srv_batch_t *self, int64_t now_ms)
{
    (void)now_ms;
    for (size_t k = 0; k < self->nlanes; k++)
        s_next(&self->lanes[k]);
}

/* The lane's connection is back (statements prepared): resends a batch
 * whose outcome was lost with it, then goes on. */
static void s_on_lane_connect(void *arg)
{
    s_lane_t *l = arg;
    srv_counters_t *c = srv_router_counters(l->b->router);
    l->session_ctx = 0; /* a new session, its plans new */
    c->db_reconnects++;
    c->store_reconnects++;
    if (l->state == S_WAIT_DB) {
        c->resent_batches++;
        CCHC_LOG(CCHC_LOG_INFO, "batch_resent", "lane=%d stage=%s reports=%zu", l->no + 1,
                 l->lost_in == S_CONTEXT ? "context" : "store",
                 l->lost_in == S_CONTEXT ? l->nctx : l->ranges[l->nranges - 1].n);
        if (l->lost_in == S_CONTEXT)
            s_send_context(l);
        else
            s_send_store(l);
        return;
    }
    s_next(l);
}

void srv_batch_drain(srv_batch_t *self)
{
    self->draining = 1;
    for (size_t k = 0; k < self->nlanes; k++)
        s_next(&self->lanes[k]);
}

void srv_batch_abandon(srv_batch_t *self)
{
    const char *detail = "server stopping; resend later";
    for (size_t k = 0; k < self->nlanes; k++) {
        s_lane_t *l = &self->lanes[k];
        /* The segment in flight, if any, fails with CCHC_EAGAIN: the batch
         * is then WAIT_DB, and answered below with the rest. */
        if (l->db)
            srv_db_abandon(l->db);
        if (l->state != S_IDLE)
            s_drop_all(l, detail);
        while (l->head) {
            srv_report_t *r = l->head;
            l->head = r->next;
            srv_report_busy(self->router, r, detail);
            s_done(self, r);
        }
        l->tail = NULL;
        l->waiting = l->guests = 0;
    }
}
