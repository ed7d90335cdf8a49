/* srv_notify_sub.c: subscriber sessions (see srv_notify.h): Replay with or
 * without follow, topic grants, acks and the max_pending limit, the check of
 * the key on every push. Runs on the server's loop thread. */
#include "srv_notify_int.h"
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "srv_db.h"
#include "srv_peers.h"
#include "srv_router.h"
#include "srv_zap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One snapshot: the highest seq it sees (column 0) and the matching rows
 * up to it and to the window's end $5 (NULL columns when there are none).
 * The window bounds one segment's work on the shared connection when the
 * topics are rare: a segment looks at S_SUB_WINDOW seqs at most. */
#define S_SUB_WINDOW 20000
#define S_SUB_SQL                                                                                  \
    "WITH top AS (SELECT coalesce(max(seq), 0) AS m FROM notifications) "                          \
    "SELECT top.m, n.* FROM top LEFT JOIN LATERAL (SELECT " S_COLS " FROM notifications "          \
    "WHERE seq > $1::bigint AND seq <= least(top.m, $5::bigint) "                                  \
    "AND EXISTS (SELECT 1 FROM unnest($3::text[]) p WHERE left(topic, length(p)) = p) "            \
    "AND EXISTS (SELECT 1 FROM unnest($4::text[]) p WHERE left(topic, length(p)) = p) "            \
    "ORDER BY seq LIMIT $2::int) n ON true"

int srv_notify_topic_match(const char *topic, const char *const *prefixes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(topic, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

int srv_notify_topic_outside(const char *const *want, size_t n_want, const char *const *own,
                             size_t n_own)
{
    for (size_t i = 0; i < n_want; i++) {
        size_t lw = strlen(want[i]);
        int meets = 0;
        for (size_t k = 0; k < n_own && !meets; k++) {
            size_t lo = strlen(own[k]);
            meets = strncmp(want[i], own[k], lw < lo ? lw : lo) == 0;
        }
        if (!meets)
            return (int)i;
    }
    return -1;
}

char **sn_strv_dup(const char *const *v, size_t n)
{
    char **out = cchc_calloc(n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = cchc_strdup(v[i]);
    return out;
}

void sn_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- a subscriber's unacked seqs --------------------------------------------------- */

void sn_ua_push(s_session_t *s, uint64_t seq)
{
    if (s->ua_head + s->ua_len == s->ua_cap && s->ua_head > 0) {
        memmove(s->unacked, s->unacked + s->ua_head, s->ua_len * sizeof *s->unacked);
        s->ua_head = 0;
    }
    if (s->ua_len == s->ua_cap) {
        s->ua_cap = s->ua_cap ? 2 * s->ua_cap : 256;
        s->unacked = cchc_realloc(s->unacked, s->ua_cap * sizeof *s->unacked);
    }
    s->unacked[s->ua_head + s->ua_len++] = seq;
}

static void s_ua_ack(s_session_t *s, uint64_t seq)
{
    while (s->ua_len && s->unacked[s->ua_head] <= seq) {
        s->ua_head++;
        s->ua_len--;
    }
    if (s->ua_len == 0)
        s->ua_head = 0;
}

/* Room for a whole replay segment under max_pending. */
static int s_ua_room(const srv_notify_t *n, const s_session_t *s)
{
    return s->ua_len + SRV_NOTIFY_BATCH <= n->sub_max_pending;
}

/* ---- subscriber replays ------------------------------------------------------------ */

static void s_on_sub_rows(srv_db_t *db, int rc, const PGresult *res, void *arg);

static int s_sub_fetch(s_job_t *job)
{
    char since[24], limit[12], end[24];
    job->window_end = job->since < INT64_MAX - S_SUB_WINDOW ? job->since + S_SUB_WINDOW : INT64_MAX;
    sn_u64_text(since, job->since);
    sn_u64_text(end, job->window_end);
    snprintf(limit, sizeof limit, "%d", SRV_NOTIFY_BATCH);
    const char *params[5] = {since, limit, job->want, job->own, end};
    return srv_db_submit(job->n->db, S_SUB_SQL, 5, params, NULL, NULL,
                         s_on_sub_rows, job);
}

/* Ends a session its subscriber may take for alive (it is live, or between
 * segments): the Nack says why, and BUSY makes `cchc watch` ask again. */
static void s_sub_end(srv_notify_t *n, s_session_t *s, Cchc__V1__NackReason reason, const char *why)
{
    srv_peer_t peer = {.rid = s->rid, .rid_len = s->rid_len, .principal = s->unit};
    srv_router_nack(n->router, &peer, 0, 0, reason, why, NULL);
    sn_session_drop(n, s);
}

static int s_strv_equal(const char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return 1;
}

static void s_sub_done(s_job_t *job)
{
    job->n->replays--;
    sn_job_free(job);
}

/* The session a follow job serves, or NULL when it went away. */
static s_session_t *s_job_session(s_job_t *job)
{
    s_session_t *s = sn_session_find(job->n, job->rid, job->rid_len);
    return s && s->subscriber && s->gen == job->gen && strcmp(s->unit, job->principal) == 0 ? s
                                                                                            : NULL;
}

/* The subscriber's key is still good and its topics are those the session
 * was opened with; otherwise the session is ended (with a Nack) and 0. */
static int s_sub_grant_ok(srv_notify_t *n, s_session_t *s)
{
    srv_zap_t *zap = n->zap;
    /* The cache is unchanged since the last check: so are the key (a
     * subscriber's never expires) and the topics. A push costs no lookup. */
    if (s->zap_gen == srv_zap_generation(zap))
        return 1;
    char who[100];
    srv_logstr(who, sizeof who, s->unit);
    if (!srv_zap_key_valid(zap, s->key_id, cchc_clock_now_ms())) {
        CCHC_LOG(CCHC_LOG_WARN, "subscriber_revoked", "subscriber=%s key=%s", who, s->key_id);
        n->stats.revoked++;
        s_sub_end(n, s, CCHC__V1__NACK_REASON__NACK_KEY_REVOKED, SRV_KEY_REVOKED_DETAIL);
        return 0;
    }
    const char *const *own = NULL;
    size_t n_own = 0;
    if (srv_zap_subscriber(zap, s->unit, &own, &n_own) &&
        s_strv_equal(own, n_own, s->own, s->n_own)) {
        s->zap_gen = srv_zap_generation(zap);
        return 1;
    }
    CCHC_LOG(CCHC_LOG_INFO, "subscriber_topics_changed", "subscriber=%s", who);
    s_sub_end(n, s, CCHC__V1__NACK_REASON__NACK_BUSY,
              "this subscriber's topics changed: ask Replay again");
    return 0;
}

/* Starts (or, lagging, restarts) a session's replay from since; parked
 * until the acks leave room for a segment. 0 or CCHC_EAGAIN. */
static int s_sub_start(srv_notify_t *n, s_session_t *s, uint64_t since)
{
    s_job_t *job = sn_job_new(n, s->rid, s->rid_len, s->unit);
    job->follow = 1;
    job->gen = s->gen;
    job->since = since;
    job->own = sn_pg_array((const char *const *)s->own, s->n_own);
    job->want = s->n_want ? sn_pg_array((const char *const *)s->want, s->n_want)
                          : sn_pg_array((const char *const *)s->own, s->n_own);
    s->cursor = since;
    s->replaying = 1;
    n->stats.replays++;
    if (!s_ua_room(n, s)) {
        s->parked = job;
        return CCHC_OK;
    }
    /* Counted first: the callback may run within the submit (a connection
     * lost there), and it may drop s. */
    n->replays++;
    if (s_sub_fetch(job) != 0) {
        n->replays--;
        sn_job_free(job);
        s->replaying = 0; /* nothing ran: s is still there */
        return CCHC_EAGAIN;
    }
    return CCHC_OK;
}

static void s_on_sub_rows(srv_db_t *db, int rc, const PGresult *res, void *arg)
{
    (void)db;
    s_job_t *job = arg;
    srv_notify_t *n = job->n;
    s_session_t *s = NULL;
    if (job->follow && (!(s = s_job_session(job)) || !s_sub_grant_ok(n, s))) {
        s_sub_done(job); /* gone meanwhile, or its grant changed */
        return;
    }
    char who[100];
    srv_logstr(who, sizeof who, job->principal);
    if (rc != 0 || PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != S_NCOLS + 1 ||
        PQntuples(res) < 1) {
        /* No ReplayEnd: a one-shot subscriber asks again after its
         * timeout; a session may be live as far as it knows: told. */
        sn_log_db_error("notify_replay_failed", rc, res);
        if (s)
            s_sub_end(n, s, CCHC__V1__NACK_REASON__NACK_BUSY,
                      "notifications interrupted (database): ask Replay again");
        s_sub_done(job);
        return;
    }
    uint64_t top = sn_u64(res, 0, 0);
    int rows = PQntuples(res), matched = 0;
    for (int i = 0; i < rows; i++) {
        if (PQgetisnull(res, i, 1))
            continue; /* the one row of an empty match */
        matched++;
        uint64_t seq;
        const char *topic, *unit;
        uint8_t *buf = NULL;
        size_t len = 0;
        if (sn_pack_row(n, res, i, 1, &seq, &topic, &unit, &buf, &len) == 0) {
            int sent = sn_send(n, job->rid, job->rid_len, job->principal, buf, len) == 0;
            free(buf);
            if (!sent) {
                CCHC_LOG(CCHC_LOG_WARN, "notify_replay_abandoned", "subscriber=%s seq=%" PRIu64,
                         who, seq);
                if (s)
                    sn_session_drop(n, s);
                s_sub_done(job);
                return;
            }
            n->stats.replayed++;
            if (s)
                sn_ua_push(s, seq);
        }
        job->since = seq;
        if (s && seq > s->cursor)
            s->cursor = seq;
    }
    if (matched == SRV_NOTIFY_BATCH || job->window_end < top) {
        if (matched < SRV_NOTIFY_BATCH)
            job->since = job->window_end; /* the window is done: the next one */
        if (s && !s_ua_room(n, s)) {
            n->replays--; /* a parked replay holds no slot */
            s->parked = job;
        } else if (s_sub_fetch(job) != 0) {
            if (s)
                s_sub_end(n, s, CCHC__V1__NACK_REASON__NACK_BUSY,
                          "notifications interrupted (database): ask Replay again");
            s_sub_done(job);
        }
        return;
    }
    Cchc__V1__ReplayEnd end = CCHC__V1__REPLAY_END__INIT;
    Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
    end.last_seq = top > job->since ? top : job->since;
    env.protocol_version = CCHC_WIRE_PROTOCOL_VERSION;
    env.unit = "";
    env.sent_at_ms = cchc_clock_now_ms();
    env.body_case = CCHC__V1__ENVELOPE__BODY_REPLAY_END;
    env.replay_end = &end;
    uint8_t *buf = NULL;
    size_t len = 0;
    int ended = cchc_wire_encode(&env, &buf, &len) == 0 &&
                sn_send(n, job->rid, job->rid_len, job->principal, buf, len) == 0;
    free(buf);
    if (s && !ended) {
        sn_session_drop(n, s); /* gone, or its queue is full: it asks again */
        s = NULL;
    }
    if (s) {
        /* Live from here: the publisher has read no row past top yet (its
         * queries and ours run in order on one connection). */
        s->replaying = 0;
        if (end.last_seq > s->cursor)
            s->cursor = end.last_seq;
    }
    CCHC_LOG(CCHC_LOG_INFO, "notify_replay_done", "subscriber=%s last_seq=%" PRIu64 " live=%d", who,
             end.last_seq, s != NULL);
    s_sub_done(job);
}

void srv_notify_sub_ack(srv_notify_t *n, const uint8_t *rid, size_t rid_len, uint64_t seq)
{
    n->stats.acks++;
    s_session_t *s = sn_session_find(n, rid, rid_len);
    if (!s || !s->subscriber)
        return;
    s->heard_ms = cchc_clock_mono_ms();
    s_ua_ack(s, seq);
    if (s->parked && s_ua_room(n, s)) {
        s_job_t *job = s->parked;
        s->parked = NULL;
        n->replays++;
        if (s_sub_fetch(job) != 0) {
            s_sub_done(job);
            s = sn_session_find(n, rid, rid_len);
            if (s && s->subscriber)
                s_sub_end(n, s, CCHC__V1__NACK_REASON__NACK_BUSY,
                          "notifications interrupted (database): ask Replay again");
        }
    }
}

/* Opens or renews the subscriber session of rid; CCHC_OK or CCHC_EAGAIN. */
static int s_sub_follow(srv_notify_t *n, const uint8_t *rid, size_t rid_len, const char *principal,
                        const char *key_id, const Cchc__V1__Replay *req, const char *const *own,
                        size_t n_own)
{
    s_session_t *s = sn_session_find(n, rid, rid_len);
    if (s && (!s->subscriber || strcmp(s->unit, principal) != 0)) {
        sn_session_drop(n, s);
        s = NULL;
    }
    if (!s) {
        s = sn_session_add(n, rid, rid_len, principal);
        s->subscriber = 1;
        n->stats.sub_sessions++;
    }
    s->heard_ms = cchc_clock_mono_ms();
    if (s->replaying && !s->parked)
        return CCHC_OK; /* the replay running covers it */
    if (s->parked) {
        /* Waiting for acks that may never come (lost, or a client that
         * acks at ReplayEnd only): start again from what it says it has. */
        sn_job_free(s->parked);
        s->parked = NULL;
        s->replaying = 0;
    }
    s->zap_gen = srv_zap_generation(n->zap);
    sn_strv_free(s->want, s->n_want);
    sn_strv_free(s->own, s->n_own);
    free(s->key_id);
    s->want = sn_strv_dup((const char *const *)req->topics, req->n_topics);
    s->n_want = req->n_topics;
    s->own = sn_strv_dup(own, n_own);
    s->n_own = n_own;
    s->key_id = cchc_strdup(key_id ? key_id : "");
    /* What it says it holds is the truth: what it has not acked is resent. */
    s->ua_head = s->ua_len = 0;
    if (n->replays >= SRV_NOTIFY_MAX_REPLAYS || s_sub_start(n, s, req->since_seq) != 0) {
        sn_session_drop(n, s);
        return CCHC_EAGAIN;
    }
    return CCHC_OK;
}

int srv_notify_replay(srv_notify_t *n, const uint8_t *rid, size_t rid_len, const char *principal,
                      const char *key_id, const Cchc__V1__Replay *req, const char *const *own,
                      size_t n_own)
{
    if (req->n_topics > SRV_NOTIFY_MAX_TOPICS || rid_len == 0 || rid_len > 255)
        return CCHC_EINVAL;
    for (size_t i = 0; i < req->n_topics; i++)
        if (strlen(req->topics[i]) > SRV_NOTIFY_MAX_TOPIC_LEN)
            return CCHC_EINVAL;
    char who[100];
    srv_logstr(who, sizeof who, principal);
    int outside =
        srv_notify_topic_outside((const char *const *)req->topics, req->n_topics, own, n_own);
    if (outside >= 0) {
        char topic[SRV_NOTIFY_MAX_TOPIC_LEN + 10];
        n->stats.refused_topic++;
        CCHC_LOG(CCHC_LOG_WARN, "topic_refused", "subscriber=%s topic=%s", who,
                 srv_logstr(topic, sizeof topic, req->topics[outside]));
        return CCHC_EPERM;
    }
    CCHC_LOG(CCHC_LOG_INFO, "notify_replay", "subscriber=%s since=%" PRIu64 " topics=%zu follow=%d",
             who, req->since_seq, req->n_topics, req->follow ? 1 : 0);
    if (req->follow)
        return s_sub_follow(n, rid, rid_len, principal, key_id, req, own, n_own);
    if (n->replays >= SRV_NOTIFY_MAX_REPLAYS)
        return CCHC_EAGAIN;
    s_job_t *job = sn_job_new(n, rid, rid_len, principal);
    job->since = req->since_seq;
    job->own = sn_pg_array(own, n_own);
    /* Nothing asked: everything it may see. */
    job->want = req->n_topics ? sn_pg_array((const char *const *)req->topics, req->n_topics)
                              : sn_pg_array(own, n_own);
    if (s_sub_fetch(job) != 0) {
        sn_job_free(job);
        return CCHC_EAGAIN;
    }
    n->replays++;
    n->stats.replays++;
    return CCHC_OK;
}

int sn_sub_takes(srv_notify_t *n, s_session_t *s, const char *topic, uint64_t seq)
{
    if (!srv_notify_topic_match(topic, (const char *const *)s->own, s->n_own) ||
        (s->n_want && !srv_notify_topic_match(topic, (const char *const *)s->want, s->n_want)))
        return 0;
    if (!s_sub_grant_ok(n, s))
        return 0; /* ended */
    if (s->ua_len < n->sub_max_pending)
        return 1;
    char who[100];
    n->stats.lagging++;
    CCHC_LOG(CCHC_LOG_WARN, "subscriber_lagging",
             "subscriber=%s unacked=%zu max_pending=%zu seq=%" PRIu64 " action=catch_up",
             srv_logstr(who, sizeof who, s->unit), s->ua_len, n->sub_max_pending, seq);
    if (s_sub_start(n, s, s->cursor) != 0)
        s_sub_end(n, s, CCHC__V1__NACK_REASON__NACK_BUSY,
                  "notifications interrupted (database): ask Replay again");
    return 0;
}

/* Pushes one packed row to every live session it is for. */
