/* srv_notify.c: notification delivery (see srv_notify.h).
 *
 * Owns the agent and subscriber sessions, the replays in flight and the
 * acks waiting to be written. Everything runs on the server's loop thread;
 * the database work goes through srv_db as single-statement segments.
 *
 * An agent session (one per routing id that sent Hello):
 *
 *   state      event                                  next       function
 *   ---------  -------------------------------------  ---------  ----------------
 *   (none)     Hello{last_seq}                        REPLAYING  srv_notify_hello
 *   LIVE       Hello{last_seq} (a reconnect or the    REPLAYING  srv_notify_hello
 *              60 s heartbeat)
 *   REPLAYING  a segment returns SRV_NOTIFY_BATCH     REPLAYING  s_on_agent_rows
 *              rows: ask for the next ones
 *   REPLAYING  a segment returns fewer                LIVE       s_on_agent_rows
 *   REPLAYING  Hello                                  REPLAYING  (ignored: the replay
 *                                                                 covers it)
 *   LIVE       the publisher sees a row for the unit  LIVE       s_push
 *              with seq > cursor: pushed
 *   any        a send fails (gone, or its queue is    (none)     s_session_drop
 *              full), or silent SRV_PEERS_IDLE_MS
 *   any        its unit closed (srv_zap_unit_closed): (none)     srv_notify_hello, s_push
 *              at its Hello or at a push for it; no
 *              replay, nothing pushed
 *
 * Why nothing is missed and nothing sent twice: the publisher and the
 * replays share one FIFO connection, so their queries run and call back in
 * submission order. A row the publisher skips because the session is
 * replaying was committed before the publisher's query, hence before the
 * replay's next query, which returns it; a row the publisher sees after the
 * replay ended goes out live, unless the replay already sent it (seq <=
 * cursor).
 *
 * A subscriber session (one per routing id that sent Replay{follow}) works
 * the same way, with ReplayEnd at the end of each replay, topics instead of
 * a unit, and a limit: `unacked` holds the seqs pushed live and not yet
 * acked. A push that would exceed max_pending turns the session back to
 * REPLAYING from its cursor; each replay segment waits (parked) until the
 * acks leave room for a whole segment. So a subscriber that stops reading
 * costs at most max_pending seqs here and the ROUTER's queue there. */
#include "srv_notify_int.h"
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "srv_db.h"
#include "srv_peers.h"
#include "srv_router.h"
#include "srv_zap.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PRUNE_EVERY_MS 60000
#define S_MAX_SQL "SELECT coalesce(max(seq), 0) FROM notifications"
#define S_FETCH_SQL                                                                                \
    "SELECT " S_COLS " FROM notifications WHERE seq > $1::bigint ORDER BY seq LIMIT $2::int"
#define S_UNIT_SQL                                                                                 \
    "SELECT " S_COLS " FROM notifications WHERE unit_code = $3 AND seq > $1::bigint "              \
    "ORDER BY seq LIMIT $2::int"
/* The rows are locked in the order of their codes, all before the first is
 * updated (the count waits for the whole lock), as cchc_store_batch (023)
 * locks them: in the join's order, an ack and a store deadlocked. */
#define S_ACK_SQL                                                                                  \
    "WITH l AS MATERIALIZED (SELECT x.unit_code FROM unit_contacts x "                             \
    "WHERE x.unit_code = ANY ($1::text[]) ORDER BY x.unit_code FOR UPDATE) "                       \
    "UPDATE unit_contacts c SET last_seq = greatest(c.last_seq, v.seq) "                           \
    "FROM unnest($1::text[], $2::bigint[]) AS v (unit, seq), (SELECT count(*) FROM l) k "          \
    "WHERE c.unit_code = v.unit"

/* ---- helpers --------------------------------------------------------------------- */

int srv_notify_is_subscriber(const char *principal)
{
    return principal &&
           strncmp(principal, SRV_NOTIFY_SUB_PREFIX, strlen(SRV_NOTIFY_SUB_PREFIX)) == 0;
}

uint64_t sn_u64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    long long v = strtoll(PQgetvalue(r, row, col), NULL, 10);
    return v > 0 ? (uint64_t)v : 0;
}

void sn_u64_text(char buf[24], uint64_t v)
{
    snprintf(buf, 24, "%" PRIu64, v > INT64_MAX ? (uint64_t)INT64_MAX : v);
}

/* A PostgreSQL array literal of n strings: {"a","b\"c"}. Caller frees. */
char *sn_pg_array(const char *const *v, size_t n)
{
    size_t len = 3;
    for (size_t i = 0; i < n; i++)
        len += 2 * strlen(v[i]) + 3;
    char *out = cchc_malloc(len), *p = out;
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        *p++ = '"';
        for (const char *s = v[i]; *s; s++) {
            if (*s == '"' || *s == '\\')
                *p++ = '\\';
            *p++ = *s;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return out;
}

void sn_log_db_error(const char *event, int rc, const PGresult *res)
{
    char msg[300];
    srv_logstr(msg, sizeof msg, rc == 0 ? PQresultErrorMessage(res) : cchc_strerror(rc));
    CCHC_LOG(CCHC_LOG_WARN, event, "err=%s", msg);
}

/* Packs row `row` of r (notification columns from col0) as an Envelope.
 * 0, or CCHC_EENCODING / CCHC_ETOOBIG (logged, counted: the row is skipped). */
int sn_pack_row(srv_notify_t *n, const PGresult *r, int row, int col0, uint64_t *seq_p,
                const char **topic_p, const char **unit_p, uint8_t **buf_p, size_t *len_p)
{
    Cchc__V1__Notification no = CCHC__V1__NOTIFICATION__INIT;
    Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
    no.seq = sn_u64(r, row, col0);
    no.kind = PQgetvalue(r, row, col0 + 1);
    no.unit = PQgetvalue(r, row, col0 + 2);
    no.about = PQgetvalue(r, row, col0 + 3);
    no.topic = PQgetvalue(r, row, col0 + 4);
    no.dedup_key = PQgetvalue(r, row, col0 + 5);
    no.text_vi = PQgetvalue(r, row, col0 + 6);
    no.text_en = PQgetvalue(r, row, col0 + 7);
    no.facts = PQgetvalue(r, row, col0 + 8);
    no.created_at_ms = strtoll(PQgetvalue(r, row, col0 + 9), NULL, 10);
    env.protocol_version = CCHC_WIRE_PROTOCOL_VERSION;
    env.unit = no.unit;
    env.sent_at_ms = cchc_clock_now_ms();
    env.body_case = CCHC__V1__ENVELOPE__BODY_NOTIFICATION;
    env.notification = &no;
    *seq_p = no.seq;
    *topic_p = no.topic;
    *unit_p = no.unit;
    int rc = cchc_wire_encode(&env, buf_p, len_p);
    if (rc == CCHC_OK && *len_p > srv_router_max_frame(n->router)) {
        free(*buf_p);
        *buf_p = NULL;
        rc = CCHC_ETOOBIG;
    }
    if (rc != CCHC_OK) {
        n->stats.oversize++;
        CCHC_LOG(CCHC_LOG_ERROR, "notification_unsendable", "seq=%" PRIu64 " err=%s", no.seq,
                 cchc_strerror(rc));
    }
    return rc;
}

/* Sends one frame to rid over the ROUTER. 0 or CCHC_EAGAIN. */
int sn_send(srv_notify_t *n, const uint8_t *rid, size_t rid_len, const char *principal,
            const uint8_t *buf, size_t len)
{
    srv_peer_t peer = {.rid = rid, .rid_len = rid_len, .principal = principal};
    return srv_router_send(n->router, &peer, buf, len);
}

/* ---- sessions ---------------------------------------------------------------------- */

s_session_t *sn_session_find(srv_notify_t *n, const uint8_t *rid, size_t rid_len)
{
    int64_t i = srv_map_get(n->by_rid, rid, rid_len, 0);
    return i > 0 ? &n->sessions[i - 1] : NULL;
}

void sn_job_free(s_job_t *job);

s_session_t *sn_session_add(srv_notify_t *n, const uint8_t *rid, size_t rid_len,
                            const char *principal)
{
    if (n->n_sessions == n->cap_sessions) {
        n->cap_sessions = n->cap_sessions ? 2 * n->cap_sessions : 64;
        n->sessions = cchc_realloc(n->sessions, n->cap_sessions * sizeof *n->sessions);
    }
    size_t i = n->n_sessions++;
    s_session_t *s = &n->sessions[i];
    memset(s, 0, sizeof *s);
    s->rid = cchc_malloc(rid_len);
    memcpy(s->rid, rid, rid_len);
    s->rid_len = rid_len;
    s->unit = cchc_strdup(principal);
    s->gen = ++n->next_gen;
    srv_map_set(n->by_rid, rid, rid_len, (int64_t)i + 1);
    if (srv_notify_is_subscriber(principal)) {
        if (n->n_subs == n->cap_subs) {
            n->cap_subs = n->cap_subs ? 2 * n->cap_subs : 16;
            n->subs = cchc_realloc(n->subs, n->cap_subs * sizeof *n->subs);
        }
        n->subs[n->n_subs++] = i;
    } else {
        srv_map_set(n->by_unit, principal, strlen(principal), (int64_t)i + 1);
    }
    return s;
}

/* Session i leaves the indexes, or moves (to == i's new index). */
static void s_reindex(srv_notify_t *n, size_t from, size_t to, int drop)
{
    s_session_t *s = &n->sessions[from];
    int sub = srv_notify_is_subscriber(s->unit);
    if (drop)
        srv_map_remove(n->by_rid, s->rid, s->rid_len);
    else
        srv_map_set(n->by_rid, s->rid, s->rid_len, (int64_t)to + 1);
    if (!sub && srv_map_get(n->by_unit, s->unit, strlen(s->unit), 0) == (int64_t)from + 1) {
        if (drop)
            srv_map_remove(n->by_unit, s->unit, strlen(s->unit));
        else
            srv_map_set(n->by_unit, s->unit, strlen(s->unit), (int64_t)to + 1);
    }
    for (size_t k = 0; sub && k < n->n_subs; k++)
        if (n->subs[k] == from) {
            if (drop)
                n->subs[k] = n->subs[--n->n_subs];
            else
                n->subs[k] = to;
            break;
        }
}

void sn_session_drop(srv_notify_t *n, s_session_t *s)
{
    char unit[100];
    CCHC_LOG(CCHC_LOG_DEBUG, "notify_session_dropped", "unit=%s cursor=%" PRIu64,
             srv_logstr(unit, sizeof unit, s->unit), s->cursor);
    n->stats.dropped++;
    size_t i = (size_t)(s - n->sessions), last = n->n_sessions - 1;
    s_reindex(n, i, 0, 1);
    if (s->subscriber) {
        n->stats.sub_sessions--;
        sn_strv_free(s->want, s->n_want);
        sn_strv_free(s->own, s->n_own);
        free(s->key_id);
        free(s->unacked);
        if (s->parked)
            sn_job_free(s->parked);
    }
    free(s->rid);
    free(s->unit);
    if (i != last) {
        s_reindex(n, last, i, 0);
        *s = n->sessions[last];
    }
    n->n_sessions--;
}

s_job_t *sn_job_new(srv_notify_t *n, const uint8_t *rid, size_t rid_len, const char *principal)
{
    s_job_t *job = cchc_calloc(1, sizeof *job);
    job->n = n;
    if (rid) {
        assert(rid_len <= sizeof job->rid);
        memcpy(job->rid, rid, rid_len);
        job->rid_len = rid_len;
    }
    job->principal = cchc_strdup(principal ? principal : "");
    return job;
}

void sn_job_free(s_job_t *job)
{
    free(job->principal);
    free(job->want);
    free(job->own);
    for (size_t i = 0; i < job->n_acks; i++)
        free(job->acks[i].unit);
    free(job->acks);
    free(job);
}

/* ---- agent replays ---------------------------------------------------------------- */

static void s_on_agent_rows(srv_db_t *db, int rc, const PGresult *res, void *arg);

static int s_agent_fetch(s_job_t *job)
{
    char since[24], limit[12];
    sn_u64_text(since, job->since);
    snprintf(limit, sizeof limit, "%d", SRV_NOTIFY_BATCH);
    const char *params[3] = {since, limit, job->principal};
    return srv_db_submit(job->n->db, S_UNIT_SQL, 3, params, NULL, NULL, s_on_agent_rows, job);
}

static void s_on_agent_rows(srv_db_t *db, int rc, const PGresult *res, void *arg)
{
    (void)db;
    s_job_t *job = arg;
    srv_notify_t *n = job->n;
    s_session_t *s = sn_session_find(n, job->rid, job->rid_len);
    if (!s || s->gen != job->gen || strcmp(s->unit, job->principal) != 0) {
        sn_job_free(job); /* the session went away meanwhile */
        return;
    }
    if (rc != 0 || PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != S_NCOLS) {
        /* The agent's next Hello asks again. */
        sn_log_db_error("notify_replay_failed", rc, res);
        sn_session_drop(n, s);
        sn_job_free(job);
        return;
    }
    int rows = PQntuples(res);
    for (int i = 0; i < rows; i++) {
        uint64_t seq;
        const char *topic, *unit;
        uint8_t *buf = NULL;
        size_t len = 0;
        if (sn_pack_row(n, res, i, 0, &seq, &topic, &unit, &buf, &len) == 0) {
            int sent = seq <= s->cursor ||
                       sn_send(n, job->rid, job->rid_len, job->principal, buf, len) == 0;
            free(buf);
            if (!sent) {
                sn_session_drop(n, s);
                sn_job_free(job);
                return;
            }
            n->stats.replayed++;
        }
        job->since = seq;
        if (seq > s->cursor)
            s->cursor = seq;
    }
    if (rows == SRV_NOTIFY_BATCH && s_agent_fetch(job) == 0)
        return;
    if (rows == SRV_NOTIFY_BATCH) {
        sn_session_drop(n, s); /* the database went away: the next Hello asks again */
    } else {
        s->replaying = 0;
        char unit[100];
        CCHC_LOG(CCHC_LOG_DEBUG, "notify_replay_done", "unit=%s cursor=%" PRIu64,
                 srv_logstr(unit, sizeof unit, s->unit), s->cursor);
    }
    sn_job_free(job);
}

/* The unit closed (its keys say so, srv_zap): from the day after its
 * valid_to it gets no notification, not even those queued for it before. */
static int s_closed(const srv_notify_t *n, const char *unit)
{
    return n->zap && srv_zap_unit_closed(n->zap, unit, cchc_clock_now_ms());
}

void srv_notify_hello(srv_notify_t *n, const uint8_t *rid, size_t rid_len, const char *unit,
                      uint64_t last_seq)
{
    if (rid_len == 0 || rid_len > 255)
        return;
    int64_t now = cchc_clock_mono_ms();
    s_session_t *s = sn_session_find(n, rid, rid_len);
    if (s_closed(n, unit)) {
        if (s && !s->subscriber)
            sn_session_drop(n, s);
        return;
    }
    if (s && strcmp(s->unit, unit) != 0) {
        sn_session_drop(n, s);
        s = NULL;
    }
    if (!s)
        s = sn_session_add(n, rid, rid_len, unit);
    s->heard_ms = now;
    if (s->replaying)
        return;
    /* What the agent says it holds is the truth: anything sent since and
     * lost is sent again; what it already has, it drops by seq. */
    s->cursor = last_seq;
    s_job_t *job = sn_job_new(n, rid, rid_len, unit);
    job->since = last_seq;
    job->gen = s->gen;
    /* Replaying before the submit, and s not used after it: the callback
     * may run within it and drop the session (which moves another into
     * its slot). */
    s->replaying = 1;
    n->stats.replays++;
    uint64_t gen = s->gen;
    if (s_agent_fetch(job) != 0) {
        sn_job_free(job);
        s = sn_session_find(n, rid, rid_len);
        if (s && s->gen == gen)
            sn_session_drop(n, s); /* the database is down: the next Hello asks again */
    }
}

/* ---- acks ---------------------------------------------------------------------------- */

static void s_ack_merge(srv_notify_t *n, const char *unit, uint64_t seq)
{
    for (size_t i = 0; i < n->n_acks; i++) {
        if (strcmp(n->acks[i].unit, unit) == 0) {
            if (seq > n->acks[i].seq)
                n->acks[i].seq = seq;
            return;
        }
    }
    if (n->n_acks == n->cap_acks) {
        n->cap_acks = n->cap_acks ? 2 * n->cap_acks : 64;
        n->acks = cchc_realloc(n->acks, n->cap_acks * sizeof *n->acks);
    }
    n->acks[n->n_acks++] = (s_ack_t){.unit = cchc_strdup(unit), .seq = seq};
}

void srv_notify_ack(srv_notify_t *n, const uint8_t *rid, size_t rid_len, const char *unit,
                    uint64_t seq)
{
    n->stats.acks++;
    s_session_t *s = sn_session_find(n, rid, rid_len);
    if (s)
        s->heard_ms = cchc_clock_mono_ms();
    if (seq > INT64_MAX)
        seq = INT64_MAX;
    s_ack_merge(n, unit, seq);
    if (n->ack_due_ms < 0)
        n->ack_due_ms = cchc_clock_mono_ms() + SRV_NOTIFY_ACK_EVERY_MS;
}

static void s_on_acks_written(srv_db_t *db, int rc, const PGresult *res, void *arg)
{
    (void)db;
    s_job_t *job = arg;
    srv_notify_t *n = job->n;
    n->ack_inflight = 0;
    if (rc == 0 && PQresultStatus(res) == PGRES_COMMAND_OK) {
        n->stats.ack_writes += job->n_acks;
    } else {
        /* Unknown or failed: write them again (greatest() makes it harmless). */
        sn_log_db_error("notify_ack_failed", rc, res);
        for (size_t i = 0; i < job->n_acks; i++)
            s_ack_merge(n, job->acks[i].unit, job->acks[i].seq);
        if (n->ack_due_ms < 0)
            n->ack_due_ms = cchc_clock_mono_ms() + SRV_NOTIFY_ACK_EVERY_MS;
    }
    sn_job_free(job);
}

static void s_acks_write(srv_notify_t *n)
{
    if (n->ack_inflight || n->n_acks == 0)
        return;
    const char **units = cchc_calloc(n->n_acks, sizeof *units);
    char(*seqs)[24] = cchc_calloc(n->n_acks, sizeof *seqs);
    const char **seqp = cchc_calloc(n->n_acks, sizeof *seqp);
    for (size_t i = 0; i < n->n_acks; i++) {
        units[i] = n->acks[i].unit;
        sn_u64_text(seqs[i], n->acks[i].seq);
        seqp[i] = seqs[i];
    }
    char *a_units = sn_pg_array(units, n->n_acks), *a_seqs = sn_pg_array(seqp, n->n_acks);
    const char *params[2] = {a_units, a_seqs};
    s_job_t *job = sn_job_new(n, NULL, 0, NULL);
    job->acks = n->acks;
    job->n_acks = n->n_acks;
    if (srv_db_submit(n->db, S_ACK_SQL, 2, params, NULL, NULL, s_on_acks_written, job) == 0) {
        n->acks = NULL;
        n->n_acks = n->cap_acks = 0;
        n->ack_inflight = 1;
    } else {
        job->acks = NULL; /* still ours: the reconnect writes them */
        job->n_acks = 0;
        sn_job_free(job);
    }
    free(a_units);
    free(a_seqs);
    free(units);
    free(seqs);
    free(seqp);
}

/* ---- the publisher ------------------------------------------------------------------ */

/* A live subscriber session takes the row: in its topics, key still good,
 * room under max_pending (else it turns to catching up from the table). */
static void s_push_to(srv_notify_t *n, s_session_t *s, const char *topic, uint64_t seq,
                      const uint8_t *buf, size_t len)
{
    if (s->replaying || seq <= s->cursor)
        return;
    if (s->subscriber && !sn_sub_takes(n, s, topic, seq))
        return;
    if (sn_send(n, s->rid, s->rid_len, s->unit, buf, len) != 0) {
        sn_session_drop(n, s);
        return;
    }
    s->cursor = seq;
    if (s->subscriber)
        sn_ua_push(s, seq);
    n->stats.pushed++;
}

/* The row goes to the recipient unit's agent session (found by its unit) and
 * to every subscriber session that takes it; agents' sessions are never
 * walked. */
static void s_push(srv_notify_t *n, const char *topic, const char *unit, uint64_t seq,
                   const uint8_t *buf, size_t len)
{
    int64_t a = srv_map_get(n->by_unit, unit, strlen(unit), 0);
    if (a > 0 && s_closed(n, unit))
        sn_session_drop(n, &n->sessions[a - 1]); /* closed while live: no more */
    else if (a > 0)
        s_push_to(n, &n->sessions[a - 1], topic, seq, buf, len);
    for (size_t k = n->n_subs; k-- > 0;) {
        /* A send may drop a session (moving another into its slot): the
         * list may have shrunk or changed below k. */
        if (k >= n->n_subs)
            continue;
        s_push_to(n, &n->sessions[n->subs[k]], topic, seq, buf, len);
    }
}

static void s_fetch(srv_notify_t *n);

static void s_on_rows(srv_db_t *db, int rc, const PGresult *res, void *arg)
{
    (void)db;
    srv_notify_t *n = arg;
    n->fetch_inflight = 0;
    if (rc != 0 || PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != S_NCOLS) {
        sn_log_db_error("notify_fetch_failed", rc, res);
        return; /* the poll, or the reconnect, tries again */
    }
    int rows = PQntuples(res);
    for (int i = 0; i < rows; i++) {
        uint64_t seq;
        const char *topic, *unit;
        uint8_t *buf = NULL;
        size_t len = 0;
        if (sn_pack_row(n, res, i, 0, &seq, &topic, &unit, &buf, &len) == 0) {
            s_push(n, topic, unit, seq, buf, len);
            n->stats.published++;
            free(buf);
        }
        n->last_published = seq;
    }
    if (rows > 0)
        CCHC_LOG(CCHC_LOG_DEBUG, "notify_published", "rows=%d last_seq=%" PRIu64, rows,
                 n->last_published);
    if (rows == SRV_NOTIFY_BATCH)
        s_fetch(n);
}

static void s_fetch(srv_notify_t *n)
{
    if (n->fetch_inflight || !n->started)
        return;
    char since[24], limit[12];
    sn_u64_text(since, n->last_published);
    snprintf(limit, sizeof limit, "%d", SRV_NOTIFY_BATCH);
    const char *params[2] = {since, limit};
    if (srv_db_submit(n->db, S_FETCH_SQL, 2, params, NULL, NULL, s_on_rows, n) == 0)
        n->fetch_inflight = 1;
}

void srv_notify_kick(srv_notify_t *n)
{
    n->fetch_due_ms = cchc_clock_mono_ms();
}

void srv_notify_committed(void *arg)
{
    srv_notify_kick(arg);
}

void srv_notify_on_connect(srv_notify_t *n)
{
    n->fetch_inflight = 0;
    n->ack_inflight = 0;
    srv_notify_kick(n);
    if (n->n_acks && n->ack_due_ms < 0)
        n->ack_due_ms = cchc_clock_mono_ms();
}

/* ---- life ----------------------------------------------------------------------------- */

srv_notify_t *srv_notify_new(srv_router_t *router, srv_db_t *db, srv_zap_t *zap,
                             size_t sub_max_pending)
{
    srv_notify_t *n = cchc_calloc(1, sizeof *n);
    n->router = router;
    n->db = db;
    n->zap = zap;
    n->sub_max_pending =
        sub_max_pending < 2 * SRV_NOTIFY_BATCH ? 2 * SRV_NOTIFY_BATCH : sub_max_pending;
    n->fetch_due_ms = cchc_clock_mono_ms() + SRV_NOTIFY_POLL_MS;
    n->ack_due_ms = -1;
    n->prune_due_ms = cchc_clock_mono_ms() + S_PRUNE_EVERY_MS;
    n->by_rid = srv_map_new();
    n->by_unit = srv_map_new();
    return n;
}

void srv_notify_destroy(srv_notify_t **self_p)
{
    assert(self_p);
    srv_notify_t *n = *self_p;
    if (!n)
        return;
    while (n->n_sessions)
        sn_session_drop(n, &n->sessions[n->n_sessions - 1]);
    free(n->sessions);
    free(n->subs);
    srv_map_destroy(&n->by_rid);
    srv_map_destroy(&n->by_unit);
    for (size_t i = 0; i < n->n_acks; i++)
        free(n->acks[i].unit);
    free(n->acks);
    free(n);
    *self_p = NULL;
}

int srv_notify_start(srv_notify_t *n, PGconn *conn, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn, S_MAX_SQL);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok)
        n->last_published = sn_u64(r, 0, 0);
    else
        snprintf(err, errlen, "could not read the last notification: %s", PQresultErrorMessage(r));
    PQclear(r);
    if (!ok)
        return CCHC_EIO;
    n->started = 1;
    CCHC_LOG(CCHC_LOG_INFO, "notify_start", "last_seq=%" PRIu64, n->last_published);
    return CCHC_OK;
}

/* ---- timers ----------------------------------------------------------------------------- */

int64_t srv_notify_next_timer(const srv_notify_t *n)
{
    int64_t t[3] = {n->fetch_inflight ? -1 : n->fetch_due_ms, n->ack_inflight ? -1 : n->ack_due_ms,
                    n->prune_due_ms};
    int64_t next = -1;
    for (int i = 0; i < 3; i++)
        if (t[i] >= 0 && (next < 0 || t[i] < next))
            next = t[i];
    return next;
}

void srv_notify_on_timer(srv_notify_t *n, int64_t now)
{
    if (!n->fetch_inflight && now >= n->fetch_due_ms) {
        n->fetch_due_ms = now + SRV_NOTIFY_POLL_MS;
        s_fetch(n);
    }
    if (n->ack_due_ms >= 0 && !n->ack_inflight && now >= n->ack_due_ms) {
        n->ack_due_ms = -1;
        s_acks_write(n);
        if (n->n_acks && n->ack_due_ms < 0) /* not sent: the database is down */
            n->ack_due_ms = now + SRV_NOTIFY_ACK_EVERY_MS;
    }
    if (now >= n->prune_due_ms) {
        n->prune_due_ms = now + S_PRUNE_EVERY_MS;
        for (size_t i = n->n_sessions; i-- > 0;)
            if (now - n->sessions[i].heard_ms >= SRV_PEERS_IDLE_MS)
                sn_session_drop(n, &n->sessions[i]);
    }
}

const srv_notify_stats_t *srv_notify_stats(const srv_notify_t *n)
{
    return &n->stats;
}

uint64_t srv_notify_last_published(const srv_notify_t *n)
{
    return n->last_published;
}
