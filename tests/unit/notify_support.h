/* notify_support.h: the environment of the notification delivery tests,
 * test_srv_notify.c (srv_notify.c: agent sessions, the publisher, the acks,
 * the races) and test_srv_notify_sub.c (srv_notify_sub.c: subscriber
 * sessions), against the fake database (fake_db.c), with the real
 * srv_router and srv_zap.
 *
 * The tests play PostgreSQL with a model of the notifications table: rows
 * are committed with increasing seqs, and each statement srv_notify queued
 * is answered, in FIFO order as on the real connection, from the table as
 * it is when the test runs it; commits may come between any two. Agents and
 * subscribers are DEALERs on an inproc ROUTER made by srv_router.
 *
 * Included by one test program each: its functions are static, marked
 * unused (each program uses a part of them). */
#ifndef NOTIFY_SUPPORT_H
#define NOTIFY_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cchc_clock.h"
#include "cchc_period.h"
#include "cchc_err.h"
#include "cchc_keys.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_wire.h"
#include "fake_db.h"
#include "srv_config.h"
#include "srv_notify.h"
#include "srv_peers.h"
#include "srv_router.h"
#include "srv_zap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define S_ENDPOINT "inproc://test-srv-notify"
#define S_SUB "sub:watch"
#define S_SUB_KEY_ID "s1"
#define S_SUB_TOPICS "[\"deadline.\", \"report.received.\"]"

/* A row of the model notifications table. */
typedef struct {
    uint64_t seq;
    char unit[32];
    char topic[64];
    int big; /* its text does not fit in a frame of max_frame */
} s_row_t;

/* A message a client read. */
typedef struct {
    int kind;     /* CCHC__V1__ENVELOPE__BODY_NOTIFICATION, _REPLAY_END or _NACK */
    uint64_t seq; /* the notification's seq, or ReplayEnd's last_seq */
    char topic[64];
    Cchc__V1__NackReason reason;
    char detail[160];
} s_msg_t;

/* An agent or a subscriber, on its own DEALER. */
typedef struct {
    char principal[32];
    char rid[40];
    void *sock;
    s_msg_t *msgs;
    size_t nmsgs, cap;
    uint64_t last; /* the highest notification seq it holds */
} s_client_t;

typedef struct {
    void *ctx;
    srv_config_t cfg;
    srv_router_t *router;
    srv_zap_t *zap;
    srv_db_t *db;
    srv_notify_t *n;
    s_row_t *rows;
    size_t nrows, caprows;
    uint64_t top; /* max(seq) */
    s_client_t clients[8];
    size_t nclients;
    char sub_pub[CCHC_KEY_Z85_LEN + 1]; /* the subscriber's key */
    /* unit_contacts.last_seq as written by the ack statements */
    char ack_unit[8][64];
    uint64_t ack_seq[8];
    size_t nack_units;
    size_t ack_statements;
} s_env_t;

/* ---- the model table -------------------------------------------------------------------- */

static __attribute__((unused)) void s_commit(s_env_t *e, const char *unit, const char *kind)
{
    if (e->nrows == e->caprows) {
        e->caprows = e->caprows ? 2 * e->caprows : 256;
        e->rows = cchc_realloc(e->rows, e->caprows * sizeof *e->rows);
    }
    s_row_t *r = &e->rows[e->nrows++];
    r->seq = ++e->top;
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    snprintf(r->topic, sizeof r->topic, "%s.%s", kind, unit);
    r->big = 0;
}

static __attribute__((unused)) void s_commit_n(s_env_t *e, size_t n, const char *unit,
                                               const char *kind)
{
    for (size_t i = 0; i < n; i++)
        s_commit(e, unit, kind);
}

/* Parses a PostgreSQL array literal of strings ({"a","b\"c"}); n out. */
static __attribute__((unused)) size_t s_pg_array(const char *lit, char out[][64], size_t cap)
{
    size_t n = 0;
    assert_int_equal(*lit, '{');
    const char *p = lit + 1;
    while (*p && *p != '}') {
        assert_true(n < cap);
        size_t k = 0;
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\')
                    p++;
                assert_true(k + 1 < 64);
                out[n][k++] = *p;
            }
            p++;
        } else {
            while (*p && *p != ',' && *p != '}')
                out[n][k++] = *p++;
        }
        out[n++][k] = '\0';
        if (*p == ',')
            p++;
    }
    return n;
}

static __attribute__((unused)) int s_prefixed(const char *topic, char pre[][64], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(topic, pre[i], strlen(pre[i])) == 0)
            return 1;
    return 0;
}

/* A text longer than any frame of max_frame = 1024. */
static __attribute__((unused)) char s_big_text[2048];

/* The notification columns of a row, from col0 of cells (10 strings). */
static __attribute__((unused)) void s_cells(char buf[10][80], const char **cells, const s_row_t *r)
{
    snprintf(buf[0], 80, "%" PRIu64, r->seq);
    snprintf(buf[1], 80, "%.*s", (int)(strrchr(r->topic, '.') - r->topic), r->topic);
    snprintf(buf[2], 80, "%s", r->unit);
    snprintf(buf[3], 80, "%s", r->unit[0] == '@' ? "" : r->unit);
    snprintf(buf[4], 80, "%s", r->topic);
    snprintf(buf[5], 80, "k%" PRIu64, r->seq);
    snprintf(buf[6], 80, "Thông báo %" PRIu64, r->seq);
    snprintf(buf[7], 80, "Notification %" PRIu64, r->seq);
    snprintf(buf[8], 80, "{}");
    snprintf(buf[9], 80, "%" PRId64, (int64_t)1727740800000 + (int64_t)r->seq);
    for (int c = 0; c < 10; c++)
        cells[c] = buf[c];
    if (r->big) {
        memset(s_big_text, 'x', sizeof s_big_text - 1);
        cells[6] = s_big_text;
    }
}

/* Answers the head job of the connection from the table as it is now. */
static __attribute__((unused)) void s_exec(s_env_t *e)
{
    const fake_db_job_t *j = fake_db_job(e->db, 0);
    assert_non_null(j);
    assert_false(j->segment); /* srv_notify submits single statements */
    const fake_db_stmt_t *st = &j->stmts[0];
    assert_non_null(st->sql);
    const char *sql = st->sql;
    if (strstr(sql, "UPDATE unit_contacts")) {
        char units[16][64], seqs[16][64];
        size_t nu = s_pg_array(st->values[0], units, 16), ns = s_pg_array(st->values[1], seqs, 16);
        assert_int_equal(nu, ns);
        for (size_t i = 0; i < nu; i++) {
            size_t k = 0;
            while (k < e->nack_units && strcmp(e->ack_unit[k], units[i]) != 0)
                k++;
            if (k == e->nack_units) {
                assert_true(k < 8);
                snprintf(e->ack_unit[k], sizeof e->ack_unit[k], "%s", units[i]);
                e->ack_seq[k] = 0;
                e->nack_units++;
            }
            uint64_t v = strtoull(seqs[i], NULL, 10);
            if (v > e->ack_seq[k])
                e->ack_seq[k] = v;
        }
        e->ack_statements++;
        fake_db_finish1(e->db, fake_db_command_ok());
        return;
    }
    int sub = strstr(sql, "WITH top AS") != NULL, agent = strstr(sql, "unit_code = $3") != NULL;
    assert_true(sub || agent || strstr(sql, "FROM notifications WHERE seq > $1::bigint ORDER BY"));
    uint64_t since = strtoull(st->values[0], NULL, 10);
    int limit = atoi(st->values[1]);
    assert_int_equal(limit, SRV_NOTIFY_BATCH);
    char want[64][64], own[64][64];
    size_t nwant = 0, nown = 0;
    uint64_t end = UINT64_MAX;
    if (sub) {
        assert_int_equal(st->nparams, 5);
        nwant = s_pg_array(st->values[2], want, 64);
        nown = s_pg_array(st->values[3], own, 64);
        end = strtoull(st->values[4], NULL, 10);
    }
    int col0 = sub ? 1 : 0, ncols = 10 + col0;
    const char **cells = cchc_calloc((size_t)(limit + 1) * (size_t)ncols, sizeof *cells);
    char(*buf)[10][80] = cchc_calloc((size_t)limit + 1, sizeof *buf);
    char topbuf[24];
    snprintf(topbuf, sizeof topbuf, "%" PRIu64, e->top);
    int n = 0;
    for (size_t i = 0; i < e->nrows && n < limit; i++) {
        const s_row_t *r = &e->rows[i];
        if (r->seq <= since || r->seq > end)
            continue;
        if (agent && strcmp(r->unit, st->values[2]) != 0)
            continue;
        if (sub && (!s_prefixed(r->topic, want, nwant) || !s_prefixed(r->topic, own, nown)))
            continue;
        if (sub)
            cells[(size_t)n * (size_t)ncols] = topbuf;
        s_cells(buf[n], &cells[(size_t)n * (size_t)ncols + (size_t)col0], r);
        n++;
    }
    if (sub && n == 0)
        cells[0] = topbuf, n = 1; /* LEFT JOIN: the top and NULLs */
    PGresult *res = fake_db_tuples(ncols, n, cells);
    free(buf);
    free(cells);
    fake_db_finish1(e->db, res);
}

/* Runs every queued statement, and those they queue, to the end. */
static __attribute__((unused)) void s_exec_all(s_env_t *e)
{
    while (fake_db_jobs(e->db))
        s_exec(e);
}

/* ---- clients ----------------------------------------------------------------------------- */

static __attribute__((unused)) s_client_t *s_client(s_env_t *e, const char *principal)
{
    for (size_t i = 0; i < e->nclients; i++)
        if (strcmp(e->clients[i].principal, principal) == 0)
            return &e->clients[i];
    assert_true(e->nclients < sizeof e->clients / sizeof e->clients[0]);
    s_client_t *c = &e->clients[e->nclients++];
    memset(c, 0, sizeof *c);
    snprintf(c->principal, sizeof c->principal, "%s", principal);
    snprintf(c->rid, sizeof c->rid, "rid-%s", principal);
    c->sock = zmq_socket(e->ctx, ZMQ_DEALER);
    int linger = 0, hwm = 100000;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(c->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    assert_int_equal(zmq_setsockopt(c->sock, ZMQ_ROUTING_ID, c->rid, strlen(c->rid)), 0);
    assert_int_equal(zmq_connect(c->sock, S_ENDPOINT), 0);
    /* One message, so that the ROUTER knows the routing id. */
    assert_int_equal(zmq_send(c->sock, "hi", 2, 0), 2);
    void *r = srv_router_socket(e->router);
    zmq_pollitem_t it = {.socket = r, .events = ZMQ_POLLIN};
    assert_int_equal(zmq_poll(&it, 1, 5000), 1);
    char b[64];
    assert_int_equal(zmq_recv(r, b, sizeof b, 0), (int)strlen(c->rid));
    assert_int_equal(zmq_recv(r, b, sizeof b, 0), 2);
    return c;
}

/* A routing id no DEALER has: sends to it fail (EHOSTUNREACH). */
static __attribute__((unused)) const uint8_t s_ghost[] = "rid-ghost";

static __attribute__((unused)) void s_pump(s_env_t *e)
{
    for (size_t i = 0; i < e->nclients; i++) {
        s_client_t *c = &e->clients[i];
        for (;;) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) < 0) {
                assert_int_equal(zmq_errno(), EAGAIN);
                zmq_msg_close(&m);
                break;
            }
            cchc_envelope_t *env = NULL;
            char err[160];
            int rc = cchc_wire_decode(zmq_msg_data(&m), zmq_msg_size(&m),
                                      CCHC_WIRE_MAX_FRAME_DEFAULT, &env, err, sizeof err);
            zmq_msg_close(&m);
            if (rc != CCHC_OK)
                fail_msg("%s: undecodable message: %s", c->principal, err);
            if (c->nmsgs == c->cap) {
                c->cap = c->cap ? 2 * c->cap : 256;
                c->msgs = cchc_realloc(c->msgs, c->cap * sizeof *c->msgs);
            }
            s_msg_t *x = &c->msgs[c->nmsgs++];
            memset(x, 0, sizeof *x);
            x->kind = env->body_case;
            if (env->body_case == CCHC__V1__ENVELOPE__BODY_NOTIFICATION) {
                x->seq = env->notification->seq;
                snprintf(x->topic, sizeof x->topic, "%s", env->notification->topic);
                if (x->seq > c->last)
                    c->last = x->seq;
            } else if (env->body_case == CCHC__V1__ENVELOPE__BODY_REPLAY_END) {
                x->seq = env->replay_end->last_seq;
            } else {
                assert_int_equal(env->body_case, CCHC__V1__ENVELOPE__BODY_NACK);
                x->reason = env->nack->reason;
                snprintf(x->detail, sizeof x->detail, "%s", env->nack->detail);
            }
            cchc_wire_free(&env);
        }
    }
}

/* The seqs of the notifications c read, in order; n out. */
static __attribute__((unused)) size_t s_seqs(s_client_t *c, uint64_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nmsgs; i++)
        if (c->msgs[i].kind == CCHC__V1__ENVELOPE__BODY_NOTIFICATION) {
            assert_true(n < cap);
            out[n++] = c->msgs[i].seq;
        }
    return n;
}

/* c read exactly the notifications want[0..n), in that order, and nothing
 * else since its messages were last cleared. */
static __attribute__((unused)) void s_expect_seqs(s_env_t *e, s_client_t *c, const uint64_t *want,
                                                  size_t n)
{
    s_pump(e);
    uint64_t got[4096];
    size_t k = s_seqs(c, got, 4096);
    for (size_t i = 0; i < k || i < n; i++)
        if (i >= k || i >= n || got[i] != want[i])
            fail_msg("%s: notification %zu is %s%" PRIu64 ", expected %s%" PRIu64 " (%zu read, %zu "
                     "expected)",
                     c->principal, i, i < k ? "" : "none ", i < k ? got[i] : 0,
                     i < n ? "" : "none ", i < n ? want[i] : 0, k, n);
}

/* The seqs lo..hi. */
static __attribute__((unused)) size_t s_range(uint64_t *out, uint64_t lo, uint64_t hi)
{
    size_t n = 0;
    for (uint64_t s = lo; s <= hi; s++)
        out[n++] = s;
    return n;
}

static __attribute__((unused)) void s_clear(s_client_t *c)
{
    c->nmsgs = 0;
}

/* The last ReplayEnd c read (its last_seq), or fails when none. */
static __attribute__((unused)) uint64_t s_replay_end(s_env_t *e, s_client_t *c)
{
    s_pump(e);
    for (size_t i = c->nmsgs; i-- > 0;)
        if (c->msgs[i].kind == CCHC__V1__ENVELOPE__BODY_REPLAY_END)
            return c->msgs[i].seq;
    fail_msg("%s: no ReplayEnd", c->principal);
    return 0;
}

static __attribute__((unused)) size_t s_count_kind(s_env_t *e, s_client_t *c, int kind)
{
    s_pump(e);
    size_t n = 0;
    for (size_t i = 0; i < c->nmsgs; i++)
        n += c->msgs[i].kind == kind;
    return n;
}

/* ---- the environment ----------------------------------------------------------------------- */

static __attribute__((unused)) uint64_t s_start_top;

static __attribute__((unused)) PGresult *s_on_exec(const char *sql, void *arg)
{
    (void)arg;
    assert_non_null(strstr(sql, "max(seq)"));
    char top[24];
    snprintf(top, sizeof top, "%" PRIu64, s_start_top);
    const char *cells[1] = {top};
    return fake_db_tuples(1, 1, cells);
}

static __attribute__((unused)) void s_on_connect(void *arg)
{
    s_env_t *e = arg;
    srv_notify_on_connect(e->n);
}

/* Loads the key cache: the subscriber's key with topics (JSON text), or
 * none when topics is NULL. */
static __attribute__((unused)) void s_keys(s_env_t *e, const char *topics)
{
    const char *cells[5] = {e->sub_pub, S_SUB, topics, S_SUB_KEY_ID, NULL};
    PGresult *res = fake_db_tuples(5, topics ? 1 : 0, cells);
    assert_int_equal(srv_zap_load(e->zap, res), CCHC_OK);
    PQclear(res);
}

/* A server whose table holds rows 1..start (publishing starts after them),
 * for xa-a, xa-b and the group @lead in turn, of kinds in turn; max_frame
 * 0: the default. */
static __attribute__((unused)) s_env_t *s_env_new_frame(uint64_t start, int max_frame)
{
    static const char *const units[] = {"xa-a", "xa-b", "@lead"};
    static const char *const kinds[] = {"deadline.approaching", "report.received", "agent.silent"};
    s_env_t *e = cchc_calloc(1, sizeof *e);
    char err[256] = "", sec[CCHC_KEY_Z85_LEN + 1];
    if (!getenv("CCHC_TEST_LOG"))
        cchc_log_level = CCHC_LOG_ERROR + 1;
    char path[] = "/tmp/cchc-test-srv-notify-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "[server]\nendpoint = %s\npublic_key = /dev/null\nsecret_key = /dev/null\n",
            S_ENDPOINT);
    if (max_frame)
        fprintf(f, "max_frame = %d\n", max_frame);
    fclose(f);
    int rc = srv_config_load(&e->cfg, path, err, sizeof err);
    unlink(path);
    if (rc != CCHC_OK)
        fail_msg("config: %s", err);
    fake_db_reset();
    for (uint64_t i = 0; i < start; i++)
        s_commit(e, units[i % 3], kinds[i / 3 % 3]);
    e->ctx = zmq_ctx_new();
    e->zap = srv_zap_new(e->ctx, err, sizeof err);
    if (!e->zap)
        fail_msg("zap: %s", err);
    assert_int_equal(cchc_keys_generate(e->sub_pub, sec), CCHC_OK);
    s_keys(e, S_SUB_TOPICS);
    assert_int_equal(cchc_keys_generate((char[CCHC_KEY_Z85_LEN + 1]){0}, sec), CCHC_OK);
    e->router = srv_router_new(e->ctx, &e->cfg, sec, err, sizeof err);
    if (!e->router)
        fail_msg("router: %s", err);
    srv_db_hooks_t hooks = {.on_connect = s_on_connect, .arg = e};
    e->db = srv_db_new("", &hooks);
    assert_int_equal(srv_db_connect(e->db, 1000, err, sizeof err), CCHC_OK);
    e->n = srv_notify_new(e->router, e->db, e->zap, (size_t)e->cfg.sub_max_pending);
    s_start_top = e->top;
    fake_db_on_exec(e->db, s_on_exec, NULL);
    assert_int_equal(srv_notify_start(e->n, srv_db_conn(e->db), err, sizeof err), CCHC_OK);
    assert_int_equal(srv_notify_last_published(e->n), start);
    assert_int_equal(srv_db_start(e->db, err, sizeof err), CCHC_OK);
    return e;
}

static __attribute__((unused)) s_env_t *s_env_new(uint64_t start)
{
    return s_env_new_frame(start, 0);
}

static __attribute__((unused)) void s_env_end(s_env_t *e)
{
    assert_int_equal(fake_db_jobs(e->db), 0);
    srv_db_abandon(e->db);
    srv_notify_destroy(&e->n);
    assert_null(e->n);
    srv_db_destroy(&e->db);
    assert_int_equal(fake_db_count(), 0);
    for (size_t i = 0; i < e->nclients; i++) {
        zmq_close(e->clients[i].sock);
        free(e->clients[i].msgs);
    }
    srv_router_destroy(&e->router);
    srv_zap_destroy(&e->zap);
    zmq_ctx_term(e->ctx);
    srv_config_free(&e->cfg);
    free(e->rows);
    free(e);
}

static __attribute__((unused)) const srv_notify_stats_t *s_stats(s_env_t *e)
{
    return srv_notify_stats(e->n);
}

/* The publisher looks for new rows now (a kick, then the loop's timer). */
static __attribute__((unused)) void s_publish(s_env_t *e)
{
    srv_notify_kick(e->n);
    srv_notify_on_timer(e->n, cchc_clock_mono_ms());
}

static __attribute__((unused)) void s_hello(s_env_t *e, s_client_t *c, uint64_t last_seq)
{
    srv_notify_hello(e->n, (const uint8_t *)c->rid, strlen(c->rid), c->principal, last_seq);
}

/* The k-th queued job is an agent's replay of unit after since. */
static __attribute__((unused)) void s_expect_agent_replay_at(s_env_t *e, size_t k, const char *unit,
                                                             uint64_t since)
{
    const fake_db_job_t *j = fake_db_job(e->db, k);
    assert_non_null(j);
    assert_non_null(strstr(j->stmts[0].sql, "unit_code = $3"));
    assert_int_equal(j->stmts[0].nparams, 3);
    assert_int_equal(strtoull(j->stmts[0].values[0], NULL, 10), since);
    assert_string_equal(j->stmts[0].values[2], unit);
}

static __attribute__((unused)) void s_expect_agent_replay(s_env_t *e, const char *unit,
                                                          uint64_t since)
{
    s_expect_agent_replay_at(e, 0, unit, since);
}

/* The seqs of the model's rows for unit after since. */
static __attribute__((unused)) size_t s_rows_of(s_env_t *e, const char *unit, uint64_t since,
                                                uint64_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nrows; i++)
        if (e->rows[i].seq > since && strcmp(e->rows[i].unit, unit) == 0) {
            assert_true(n < cap);
            out[n++] = e->rows[i].seq;
        }
    return n;
}

/* The seqs of the model's rows after since whose topic starts with one of
 * the prefixes (NULL-terminated). */
static __attribute__((unused)) size_t s_rows_topic(s_env_t *e, const char *const *pre,
                                                   uint64_t since, uint64_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nrows; i++) {
        if (e->rows[i].seq <= since)
            continue;
        for (size_t k = 0; pre[k]; k++)
            if (strncmp(e->rows[i].topic, pre[k], strlen(pre[k])) == 0) {
                assert_true(n < cap);
                out[n++] = e->rows[i].seq;
                break;
            }
    }
    return n;
}

/* ---- subscribers' requests --------------------------------------------------------------- */

static __attribute__((unused)) int s_replay(s_env_t *e, s_client_t *c, uint64_t since,
                                            const char *const *topics, int follow)
{
    Cchc__V1__Replay req = CCHC__V1__REPLAY__INIT;
    req.since_seq = since;
    req.follow = follow;
    while (topics && topics[req.n_topics])
        req.n_topics++;
    req.topics = (char **)topics;
    const char *const *own = NULL;
    size_t n_own = 0;
    assert_true(srv_zap_subscriber(e->zap, S_SUB, &own, &n_own));
    return srv_notify_replay(e->n, (const uint8_t *)c->rid, strlen(c->rid), c->principal,
                             S_SUB_KEY_ID, &req, own, n_own);
}

static __attribute__((unused)) void s_sub_ack(s_env_t *e, s_client_t *c, uint64_t seq)
{
    srv_notify_sub_ack(e->n, (const uint8_t *)c->rid, strlen(c->rid), seq);
}

#endif
