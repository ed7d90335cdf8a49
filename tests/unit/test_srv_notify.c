/* test_srv_notify.c: notification delivery (srv_notify.c, srv_notify_sub.c)
 * against the fake database (fake_db.c), with the real srv_router and
 * srv_zap: every row of the agent-session table at the top of srv_notify.c,
 * the subscriber sessions (one-shot and follow replays, ReplayEnd, topics,
 * max_pending turning a session back to replaying, parked segments, keys
 * revoked), the acks, and "nothing missed, nothing sent twice" with replays
 * racing the publisher in random orders.
 *
 * The test plays PostgreSQL with a model of the notifications table: rows
 * are committed with increasing seqs, and each statement srv_notify queued
 * is answered, in FIFO order as on the real connection, from the table as
 * it is when the test runs it; commits may come between any two. Agents and
 * subscribers are DEALERs on an inproc ROUTER made by srv_router. */
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

static void s_commit(s_env_t *e, const char *unit, const char *kind)
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

static void s_commit_n(s_env_t *e, size_t n, const char *unit, const char *kind)
{
    for (size_t i = 0; i < n; i++)
        s_commit(e, unit, kind);
}

/* Parses a PostgreSQL array literal of strings ({"a","b\"c"}); n out. */
static size_t s_pg_array(const char *lit, char out[][64], size_t cap)
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

static int s_prefixed(const char *topic, char pre[][64], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(topic, pre[i], strlen(pre[i])) == 0)
            return 1;
    return 0;
}

/* A text longer than any frame of max_frame = 1024. */
static char s_big_text[2048];

/* The notification columns of a row, from col0 of cells (10 strings). */
static void s_cells(char buf[10][80], const char **cells, const s_row_t *r)
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
static void s_exec(s_env_t *e)
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
static void s_exec_all(s_env_t *e)
{
    while (fake_db_jobs(e->db))
        s_exec(e);
}

/* ---- clients ----------------------------------------------------------------------------- */

static s_client_t *s_client(s_env_t *e, const char *principal)
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
static const uint8_t s_ghost[] = "rid-ghost";

static void s_pump(s_env_t *e)
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
static size_t s_seqs(s_client_t *c, uint64_t *out, size_t cap)
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
static void s_expect_seqs(s_env_t *e, s_client_t *c, const uint64_t *want, size_t n)
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
static size_t s_range(uint64_t *out, uint64_t lo, uint64_t hi)
{
    size_t n = 0;
    for (uint64_t s = lo; s <= hi; s++)
        out[n++] = s;
    return n;
}

static void s_clear(s_client_t *c)
{
    c->nmsgs = 0;
}

/* The last ReplayEnd c read (its last_seq), or fails when none. */
static uint64_t s_replay_end(s_env_t *e, s_client_t *c)
{
    s_pump(e);
    for (size_t i = c->nmsgs; i-- > 0;)
        if (c->msgs[i].kind == CCHC__V1__ENVELOPE__BODY_REPLAY_END)
            return c->msgs[i].seq;
    fail_msg("%s: no ReplayEnd", c->principal);
    return 0;
}

static size_t s_count_kind(s_env_t *e, s_client_t *c, int kind)
{
    s_pump(e);
    size_t n = 0;
    for (size_t i = 0; i < c->nmsgs; i++)
        n += c->msgs[i].kind == kind;
    return n;
}

/* ---- the environment ----------------------------------------------------------------------- */

static uint64_t s_start_top;

static PGresult *s_on_exec(const char *sql, void *arg)
{
    (void)arg;
    assert_non_null(strstr(sql, "max(seq)"));
    char top[24];
    snprintf(top, sizeof top, "%" PRIu64, s_start_top);
    const char *cells[1] = {top};
    return fake_db_tuples(1, 1, cells);
}

static void s_on_connect(void *arg)
{
    s_env_t *e = arg;
    srv_notify_on_connect(e->n);
}

/* Loads the key cache: the subscriber's key with topics (JSON text), or
 * none when topics is NULL. */
static void s_keys(s_env_t *e, const char *topics)
{
    const char *cells[5] = {e->sub_pub, S_SUB, topics, S_SUB_KEY_ID, NULL};
    PGresult *res = fake_db_tuples(5, topics ? 1 : 0, cells);
    assert_int_equal(srv_zap_load(e->zap, res), CCHC_OK);
    PQclear(res);
}

/* A server whose table holds rows 1..start (publishing starts after them),
 * for xa-a, xa-b and the group @lead in turn, of kinds in turn; max_frame
 * 0: the default. */
static s_env_t *s_env_new_frame(uint64_t start, int max_frame)
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

static s_env_t *s_env_new(uint64_t start)
{
    return s_env_new_frame(start, 0);
}

static void s_env_end(s_env_t *e)
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

static const srv_notify_stats_t *s_stats(s_env_t *e)
{
    return srv_notify_stats(e->n);
}

/* The publisher looks for new rows now (a kick, then the loop's timer). */
static void s_publish(s_env_t *e)
{
    srv_notify_kick(e->n);
    srv_notify_on_timer(e->n, cchc_clock_mono_ms());
}

static void s_hello(s_env_t *e, s_client_t *c, uint64_t last_seq)
{
    srv_notify_hello(e->n, (const uint8_t *)c->rid, strlen(c->rid), c->principal, last_seq);
}

/* The k-th queued job is an agent's replay of unit after since. */
static void s_expect_agent_replay_at(s_env_t *e, size_t k, const char *unit, uint64_t since)
{
    const fake_db_job_t *j = fake_db_job(e->db, k);
    assert_non_null(j);
    assert_non_null(strstr(j->stmts[0].sql, "unit_code = $3"));
    assert_int_equal(j->stmts[0].nparams, 3);
    assert_int_equal(strtoull(j->stmts[0].values[0], NULL, 10), since);
    assert_string_equal(j->stmts[0].values[2], unit);
}

static void s_expect_agent_replay(s_env_t *e, const char *unit, uint64_t since)
{
    s_expect_agent_replay_at(e, 0, unit, since);
}

/* The seqs of the model's rows for unit after since. */
static size_t s_rows_of(s_env_t *e, const char *unit, uint64_t since, uint64_t *out, size_t cap)
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
static size_t s_rows_topic(s_env_t *e, const char *const *pre, uint64_t since, uint64_t *out,
                           size_t cap)
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

/* ---- agent sessions ------------------------------------------------------------------------- */

/* (none) + Hello{last_seq} -> REPLAYING: the unit's rows after last_seq;
 * a segment of fewer than SRV_NOTIFY_BATCH rows -> LIVE: the publisher's
 * rows for the unit with seq > cursor are pushed, others' are not. */
static void test_hello_replay_then_live(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(9); /* xa-a: 1, 4, 7 */
    s_client_t *a = s_client(e, "xa-a"), *b = s_client(e, "xa-b");
    s_hello(e, a, 1);
    assert_int_equal(fake_db_jobs(e->db), 1);
    s_expect_agent_replay(e, "xa-a", 1);
    assert_int_equal(s_stats(e)->replays, 1);
    s_exec(e);
    s_expect_seqs(e, a, (const uint64_t[]){4, 7}, 2);
    assert_int_equal(s_stats(e)->replayed, 2);
    assert_int_equal(fake_db_jobs(e->db), 0);
    /* LIVE: the publisher's rows after 9 for xa-a only. */
    s_commit(e, "xa-a", "deadline.today");
    s_commit(e, "xa-b", "deadline.today");
    s_commit(e, "xa-a", "report.received");
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, a, (const uint64_t[]){4, 7, 10, 12}, 4);
    s_expect_seqs(e, b, NULL, 0); /* no session */
    assert_int_equal(s_stats(e)->pushed, 2);
    assert_int_equal(s_stats(e)->published, 3);
    assert_int_equal(srv_notify_last_published(e->n), 12);
    s_env_end(e);
}

/* REPLAYING: a full segment (SRV_NOTIFY_BATCH rows) asks for the next from
 * the last seq sent; fewer -> LIVE. Rows the publisher sees meanwhile are
 * not pushed to it (it is replaying) and come with the replay. */
static void test_replay_segments(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    s_client_t *a = s_client(e, "xa-a");
    s_commit_n(e, 2 * SRV_NOTIFY_BATCH + 100, "xa-a", "deadline.approaching");
    s_hello(e, a, 0);
    s_expect_agent_replay(e, "xa-a", 0);
    s_exec(e);
    s_expect_agent_replay(e, "xa-a", SRV_NOTIFY_BATCH);
    /* The publisher reads rows while the session replays: none pushed. */
    s_commit(e, "xa-a", "deadline.today"); /* 1101 */
    s_publish(e);
    assert_int_equal(fake_db_jobs(e->db), 2);
    s_exec(e); /* the replay's second segment; its third queued after the publisher */
    s_expect_agent_replay_at(e, 1, "xa-a", 2 * SRV_NOTIFY_BATCH);
    s_exec(e); /* the publisher: 500 rows, then the next ones */
    assert_int_equal(s_stats(e)->pushed, 0);
    s_exec_all(e); /* the replay's last segment (101 rows: LIVE), the publisher */
    uint64_t want[1200];
    size_t n = s_range(want, 1, 2 * SRV_NOTIFY_BATCH + 101);
    s_expect_seqs(e, a, want, n);
    assert_int_equal(s_stats(e)->pushed, 0);
    assert_int_equal(srv_notify_last_published(e->n), 2 * SRV_NOTIFY_BATCH + 101);
    /* LIVE now. */
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    want[n] = e->top;
    s_expect_seqs(e, a, want, n + 1);
    assert_int_equal(s_stats(e)->pushed, 1);
    s_env_end(e);
}

/* REPLAYING + Hello: ignored (the replay covers it); LIVE + Hello{last_seq}
 * -> REPLAYING from what the agent says it holds (the truth: what it lost
 * is sent again). */
static void test_hello_while_replaying(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(12); /* xa-a: 1, 4, 7, 10 */
    s_client_t *a = s_client(e, "xa-a");
    s_hello(e, a, 0);
    s_hello(e, a, 0);
    s_hello(e, a, 7);
    assert_int_equal(fake_db_jobs(e->db), 1);
    assert_int_equal(s_stats(e)->replays, 1);
    s_exec(e);
    s_expect_seqs(e, a, (const uint64_t[]){1, 4, 7, 10}, 4);
    s_clear(a);
    /* LIVE: a Hello (a reconnect, or the heartbeat) replays again. */
    s_hello(e, a, 4);
    assert_int_equal(fake_db_jobs(e->db), 1);
    s_expect_agent_replay(e, "xa-a", 4);
    s_exec(e);
    s_expect_seqs(e, a, (const uint64_t[]){7, 10}, 2);
    s_clear(a);
    s_hello(e, a, 10);
    s_exec(e);
    s_expect_seqs(e, a, NULL, 0);
    assert_int_equal(s_stats(e)->replays, 3);
    s_env_end(e);
}

/* LIVE: a row the replay already sent (seq <= cursor) is not pushed again
 * when the publisher sees it later. */
static void test_live_no_twice(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(3); /* xa-a: 1 */
    s_client_t *a = s_client(e, "xa-a");
    s_hello(e, a, 0);
    s_commit(e, "xa-a", "deadline.today"); /* 4: committed before the replay runs */
    s_commit(e, "xa-b", "deadline.today"); /* 5 */
    s_exec(e);                             /* the replay sees 1, 4 */
    s_expect_seqs(e, a, (const uint64_t[]){1, 4}, 2);
    s_commit(e, "xa-a", "deadline.today"); /* 6 */
    s_publish(e);                          /* reads 4, 5, 6 */
    s_exec_all(e);
    s_expect_seqs(e, a, (const uint64_t[]){1, 4, 6}, 3);
    assert_int_equal(s_stats(e)->pushed, 1);
    s_env_end(e);
}

/* Only the unit's latest session gets its rows: a Hello from another
 * connection of the same unit takes them over. */
static void test_unit_session_moves(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    s_client_t *a1 = s_client(e, "xa-a");
    s_hello(e, a1, 0);
    s_exec(e);
    /* The same unit on a second connection. */
    s_client_t *a2 = s_client(e, "xa-a#2");
    srv_notify_hello(e->n, (const uint8_t *)a2->rid, strlen(a2->rid), "xa-a", 0);
    s_exec(e);
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, a1, NULL, 0);
    s_expect_seqs(e, a2, (const uint64_t[]){1}, 1);
    s_env_end(e);
}

/* Keys as SRV_ZAP_KEYS_SQL gives them with the units' closing (migration
 * 020): the subscriber's, and xa-a's (key id a7) whose unit closed at
 * closes_ms (0: open). */
static void s_keys_closing(s_env_t *e, int64_t closes_ms)
{
    char pub[CCHC_KEY_Z85_LEN + 1], sec[CCHC_KEY_Z85_LEN + 1], closes[24];
    assert_int_equal(cchc_keys_generate(pub, sec), CCHC_OK);
    snprintf(closes, sizeof closes, "%" PRId64, closes_ms);
    const char *cells[12] = {e->sub_pub, S_SUB, S_SUB_TOPICS, S_SUB_KEY_ID,
                             NULL,       NULL,  pub,          "xa-a",
                             NULL,       "a7",  NULL,         closes_ms ? closes : NULL};
    PGresult *res = fake_db_tuples(6, 2, cells);
    assert_int_equal(srv_zap_load(e->zap, res), CCHC_OK);
    PQclear(res);
}

/* A closed unit (DOMAIN.md section 1): from its closing, its Hello starts
 * no replay (what was queued for it stays unsent) and a live session of it
 * is dropped at the next row for it, not pushed; its key works for the
 * grace after its closing, then is refused (SRV_ZAP_KEY_CLOSED). */
static void test_closed_unit(void **state)
{
    (void)state;
    int64_t now = cchc_day_instant(cchc_day_from_ymd(2025, 7, 10), 9, 0);
    int64_t closes = cchc_day_instant(cchc_day_from_ymd(2025, 7, 1), 0, 0);
    cchc_clock_set(now);
    s_env_t *e = s_env_new(9); /* xa-a: 1, 4, 7 */
    s_client_t *a = s_client(e, "xa-a"), *b = s_client(e, "xa-b");
    s_keys_closing(e, now + 86400000); /* closes tomorrow: open */
    s_hello(e, a, 0);
    s_hello(e, b, 0);
    s_exec_all(e);
    s_expect_seqs(e, a, (const uint64_t[]){1, 4, 7}, 3);
    s_keys_closing(e, closes);             /* closed on 01/07 */
    s_commit(e, "xa-a", "deadline.today"); /* 10 */
    s_commit(e, "xa-b", "deadline.today"); /* 11 */
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, a, (const uint64_t[]){1, 4, 7}, 3);
    s_expect_seqs(e, b, (const uint64_t[]){2, 5, 8, 11}, 4);
    s_hello(e, a, 0);
    assert_int_equal(fake_db_jobs(e->db), 0); /* no replay */
    s_expect_seqs(e, a, (const uint64_t[]){1, 4, 7}, 3);
    /* The key: 30 days of grace from 01/07 00:00. */
    srv_zap_set_closed_grace(e->zap, 30 * 86400000LL);
    assert_int_equal(srv_zap_key_state(e->zap, "a7", now), SRV_ZAP_KEY_VALID);
    assert_int_equal(srv_zap_key_state(e->zap, "a7", closes + 30 * 86400000LL - 1),
                     SRV_ZAP_KEY_VALID);
    assert_int_equal(srv_zap_key_state(e->zap, "a7", closes + 30 * 86400000LL), SRV_ZAP_KEY_CLOSED);
    assert_true(srv_zap_unit_closed(e->zap, "xa-a", now));
    assert_false(srv_zap_unit_closed(e->zap, "xa-a", closes - 1));
    assert_false(srv_zap_unit_closed(e->zap, "xa-b", now));
    assert_int_equal(srv_zap_key_state(e->zap, S_SUB_KEY_ID, now), SRV_ZAP_KEY_VALID);
    s_env_end(e);
    cchc_clock_set(0);
}

/* any + a send that fails (the peer gone): the session is dropped, in a
 * replay or live; its unit's later rows go nowhere until the next Hello. */
static void test_send_fails_drops(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(3);
    /* A replay to a peer gone. */
    srv_notify_hello(e->n, s_ghost, sizeof s_ghost - 1, "xa-a", 0);
    s_exec(e);
    assert_int_equal(s_stats(e)->dropped, 1);
    assert_int_equal(s_stats(e)->replayed, 0);
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->pushed, 0);
    assert_int_equal(srv_router_counters(e->router)->send_failed, 1);
    /* A live push to a peer gone. */
    srv_notify_hello(e->n, s_ghost, sizeof s_ghost - 1, "xa-a", e->top);
    s_exec(e); /* nothing to replay: LIVE */
    assert_int_equal(s_stats(e)->dropped, 1);
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->dropped, 2);
    assert_int_equal(srv_router_counters(e->router)->send_failed, 2);
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(srv_router_counters(e->router)->send_failed, 2);
    assert_int_equal(s_stats(e)->pushed, 0);
    s_env_end(e);
}

/* any + silent SRV_PEERS_IDLE_MS: dropped at the next prune. */
static void test_idle_drops(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    s_client_t *a = s_client(e, "xa-a");
    s_hello(e, a, 0);
    s_exec(e);
    int64_t heard = cchc_clock_mono_ms();
    /* Not silent long enough: kept. */
    srv_notify_on_timer(e->n, heard + SRV_PEERS_IDLE_MS - 2000);
    s_exec_all(e); /* the poll's fetch */
    assert_int_equal(s_stats(e)->dropped, 0);
    srv_notify_on_timer(e->n, heard + SRV_PEERS_IDLE_MS + 60000);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->dropped, 1);
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, a, NULL, 0);
    s_env_end(e);
}

/* The database away: a Hello opens no session (the next one asks again);
 * a replay whose connection is lost drops its session; the reconnect
 * makes the publisher look again. */
static void test_db_away(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(3);
    s_client_t *a = s_client(e, "xa-a");
    s_hello(e, a, 0);
    fake_db_lose(e->db);
    assert_int_equal(s_stats(e)->dropped, 1);
    s_hello(e, a, 0);
    assert_int_equal(fake_db_refused(e->db), 1);
    assert_int_equal(s_stats(e)->dropped, 2);
    s_commit(e, "xa-a", "deadline.today");
    fake_db_reconnect(e->db);
    srv_notify_on_timer(e->n, cchc_clock_mono_ms());
    assert_int_equal(fake_db_jobs(e->db), 1); /* the fetch */
    s_exec_all(e);
    assert_int_equal(srv_notify_last_published(e->n), 4);
    s_expect_seqs(e, a, NULL, 0);
    s_hello(e, a, 0);
    s_exec(e);
    s_expect_seqs(e, a, (const uint64_t[]){1, 4}, 2);
    s_env_end(e);
}

/* NotificationAck: coalesced per unit (the highest), written at most every
 * SRV_NOTIFY_ACK_EVERY_MS in one statement; written again after a lost
 * connection. */
static void test_acks(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    s_client_t *a = s_client(e, "xa-a");
    const uint8_t *rid = (const uint8_t *)a->rid;
    srv_notify_ack(e->n, rid, strlen(a->rid), "xa-a", 5);
    srv_notify_ack(e->n, rid, strlen(a->rid), "xa-a", 9);
    srv_notify_ack(e->n, rid, strlen(a->rid), "xa-a", 7);
    srv_notify_ack(e->n, rid, strlen(a->rid), "xa-b", 3);
    int64_t now = cchc_clock_mono_ms();
    srv_notify_on_timer(e->n, now);
    s_exec_all(e);
    assert_int_equal(e->ack_statements, 0); /* not yet */
    srv_notify_on_timer(e->n, now + SRV_NOTIFY_ACK_EVERY_MS + 10);
    assert_true(fake_db_jobs(e->db) >= 1);
    fake_db_lose(e->db); /* the write lost */
    assert_int_equal(e->ack_statements, 0);
    assert_int_equal(s_stats(e)->ack_writes, 0);
    fake_db_reconnect(e->db);
    srv_notify_on_timer(e->n, cchc_clock_mono_ms() + SRV_NOTIFY_ACK_EVERY_MS + 10);
    s_exec_all(e);
    assert_int_equal(e->ack_statements, 1);
    assert_int_equal(e->nack_units, 2);
    assert_string_equal(e->ack_unit[0], "xa-a");
    assert_int_equal(e->ack_seq[0], 9);
    assert_string_equal(e->ack_unit[1], "xa-b");
    assert_int_equal(e->ack_seq[1], 3);
    assert_int_equal(s_stats(e)->acks, 4);
    assert_int_equal(s_stats(e)->ack_writes, 2);
    s_env_end(e);
}

/* ---- subscribers ----------------------------------------------------------------------------- */

static int s_replay(s_env_t *e, s_client_t *c, uint64_t since, const char *const *topics,
                    int follow)
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

static void s_sub_ack(s_env_t *e, s_client_t *c, uint64_t seq)
{
    srv_notify_sub_ack(e->n, (const uint8_t *)c->rid, strlen(c->rid), seq);
}

/* A one-shot Replay: the rows after since in the requested topics that
 * are its own, then ReplayEnd{the highest seq covered}; no session after. */
static void test_sub_oneshot(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(30);
    s_client_t *s = s_client(e, S_SUB);
    const char *want[] = {"deadline.", "agent.", NULL}; /* agent.: not its own */
    /* A requested prefix that meets none of its own is refused. */
    assert_int_equal(s_replay(e, s, 0, (const char *[]){"agent.", NULL}, 0), CCHC_EPERM);
    assert_int_equal(s_stats(e)->refused_topic, 1);
    assert_int_equal(s_replay(e, s, 4, want, 0), CCHC_EPERM);
    /* Narrower than its own is fine. */
    const char *narrow[] = {"deadline.approaching.xa-b", NULL};
    assert_int_equal(s_replay(e, s, 4, narrow, 0), CCHC_OK);
    assert_int_equal(fake_db_jobs(e->db), 1);
    s_exec(e);
    uint64_t w[64];
    size_t n = s_rows_topic(e, narrow, 4, w, 64);
    assert_true(n > 0);
    s_expect_seqs(e, s, w, n);
    assert_int_equal(s_replay_end(e, s), 30);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_REPLAY_END), 1);
    s_clear(s);
    /* No topics: all its own. */
    assert_int_equal(s_replay(e, s, 0, NULL, 0), CCHC_OK);
    s_exec(e);
    n = s_rows_topic(e, (const char *[]){"deadline.", "report.received.", NULL}, 0, w, 64);
    s_expect_seqs(e, s, w, n);
    assert_int_equal(s_replay_end(e, s), 30);
    s_clear(s);
    /* No session: a later row is not pushed. */
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, s, NULL, 0);
    /* Too many or too long prefixes. */
    const char *many[SRV_NOTIFY_MAX_TOPICS + 2];
    for (size_t i = 0; i <= SRV_NOTIFY_MAX_TOPICS; i++)
        many[i] = "deadline.";
    many[SRV_NOTIFY_MAX_TOPICS + 1] = NULL;
    assert_int_equal(s_replay(e, s, 0, many, 0), CCHC_EINVAL);
    char longt[SRV_NOTIFY_MAX_TOPIC_LEN + 2];
    memset(longt, 'x', sizeof longt - 1);
    memcpy(longt, "deadline.", 9);
    longt[sizeof longt - 1] = '\0';
    assert_int_equal(s_replay(e, s, 0, (const char *[]){longt, NULL}, 0), CCHC_EINVAL);
    assert_int_equal(fake_db_jobs(e->db), 0);
    s_env_end(e);
}

/* Replay{follow}: the rows, ReplayEnd, then live pushes of the rows in its
 * topics only, each once (none at or below the ReplayEnd's last_seq). */
static void test_sub_follow(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(12);
    s_client_t *s = s_client(e, S_SUB);
    const char *want[] = {"deadline.", NULL};
    assert_int_equal(s_replay(e, s, 0, want, 1), CCHC_OK);
    assert_int_equal(s_stats(e)->sub_sessions, 1);
    s_commit(e, "xa-a", "deadline.today"); /* 13: before the replay runs */
    s_exec(e);
    assert_int_equal(s_replay_end(e, s), 13);
    s_commit(e, "xa-b", "deadline.today");  /* 14: pushed */
    s_commit(e, "xa-b", "report.received"); /* 15: not in its request */
    s_commit(e, "xa-b", "agent.silent");    /* 16: not its own */
    s_publish(e);                           /* reads 13..16 */
    s_exec_all(e);
    uint64_t w[64];
    size_t n = s_rows_topic(e, want, 0, w, 64);
    s_expect_seqs(e, s, w, n);
    assert_int_equal(w[n - 1], 14);
    assert_int_equal(s_stats(e)->pushed, 1);
    s_env_end(e);
}

/* A live subscriber at max_pending unacked pushes turns back to REPLAYING
 * from its cursor (lagging); each replay segment is parked until the acks
 * leave room for a whole one; then ReplayEnd and LIVE again. Nothing
 * missed, nothing twice. */
static void test_sub_max_pending(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    size_t max = (size_t)e->cfg.sub_max_pending;
    assert_int_equal(max, 2 * SRV_NOTIFY_BATCH);
    s_client_t *s = s_client(e, S_SUB);
    assert_int_equal(s_replay(e, s, 0, (const char *[]){"deadline.", NULL}, 1), CCHC_OK);
    s_exec(e);
    assert_int_equal(s_replay_end(e, s), 0);
    s_commit_n(e, max, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->pushed, max);    /* 1..1000, unacked */
    s_commit_n(e, 600, "xa-a", "deadline.today"); /* 1001..1600 */
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->pushed, max);
    assert_int_equal(s_stats(e)->lagging, 1);
    assert_int_equal(fake_db_jobs(e->db), 0); /* parked: no room for a segment */
    s_sub_ack(e, s, 499);                     /* 501 unacked: still no room */
    assert_int_equal(fake_db_jobs(e->db), 0);
    s_sub_ack(e, s, 500); /* 500 unacked: room for 500 */
    assert_int_equal(fake_db_jobs(e->db), 1);
    const fake_db_job_t *j = fake_db_job(e->db, 0);
    assert_int_equal(strtoull(j->stmts[0].values[0], NULL, 10), max);
    s_exec(e); /* 1001..1500: a full segment; parked again */
    assert_int_equal(fake_db_jobs(e->db), 0);
    s_commit(e, "xa-a", "deadline.today"); /* 1601: while parked */
    s_publish(e);
    s_exec_all(e);
    s_sub_ack(e, s, 1500);
    s_exec_all(e); /* 1501..1601, ReplayEnd: LIVE */
    assert_int_equal(s_replay_end(e, s), 1601);
    s_commit(e, "xa-a", "deadline.today"); /* 1602: live */
    s_publish(e);
    s_exec_all(e);
    uint64_t w[2000];
    size_t n = s_range(w, 1, 1602);
    s_expect_seqs(e, s, w, n);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_REPLAY_END), 2);
    /* A Replay while parked starts again from what it says it holds. */
    s_sub_ack(e, s, 1602);
    s_commit_n(e, max + 1, "xa-a", "deadline.today"); /* the last one lags */
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->lagging, 2);
    s_pump(e);
    assert_int_equal(s->last, 1602 + max);
    s_clear(s);
    assert_int_equal(s_replay(e, s, s->last, (const char *[]){"deadline.", NULL}, 1), CCHC_OK);
    s_exec_all(e);
    s_expect_seqs(e, s, (const uint64_t[]){1603 + max}, 1);
    assert_int_equal(s_replay_end(e, s), 1603 + max);
    s_env_end(e);
}

/* Each push checks the subscriber's grant: a key revoked ends the session
 * with NACK_KEY_REVOKED, changed topics with NACK_BUSY; a push or a replay
 * that cannot be sent drops it (a one-shot replay ends without ReplayEnd). */
static void test_sub_grant_and_send(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    s_client_t *s = s_client(e, S_SUB);
    assert_int_equal(s_replay(e, s, 0, NULL, 1), CCHC_OK);
    s_exec(e);
    s_keys(e, NULL); /* revoked */
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_NACK), 1);
    assert_int_equal(s->msgs[s->nmsgs - 1].reason, CCHC__V1__NACK_REASON__NACK_KEY_REVOKED);
    assert_int_equal(s_stats(e)->revoked, 1);
    assert_int_equal(s_stats(e)->sub_sessions, 0);
    s_expect_seqs(e, s, NULL, 0);
    /* Topics changed. */
    s_keys(e, S_SUB_TOPICS);
    s_clear(s);
    assert_int_equal(s_replay(e, s, e->top, NULL, 1), CCHC_OK);
    s_exec(e);
    s_keys(e, "[\"deadline.\"]");
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_NACK), 1);
    assert_int_equal(s->msgs[s->nmsgs - 1].reason, CCHC__V1__NACK_REASON__NACK_BUSY);
    assert_non_null(strstr(s->msgs[s->nmsgs - 1].detail, "topics changed"));
    s_expect_seqs(e, s, NULL, 0);
    s_keys(e, S_SUB_TOPICS);
    /* A subscriber gone: the one-shot replay is abandoned, the session
     * dropped. */
    Cchc__V1__Replay req = CCHC__V1__REPLAY__INIT;
    const char *const *own = NULL;
    size_t n_own = 0;
    assert_true(srv_zap_subscriber(e->zap, S_SUB, &own, &n_own));
    assert_int_equal(
        srv_notify_replay(e->n, s_ghost, sizeof s_ghost - 1, S_SUB, S_SUB_KEY_ID, &req, own, n_own),
        CCHC_OK);
    s_exec(e);
    req.follow = 1;
    req.since_seq = e->top;
    assert_int_equal(
        srv_notify_replay(e->n, s_ghost, sizeof s_ghost - 1, S_SUB, S_SUB_KEY_ID, &req, own, n_own),
        CCHC_OK);
    s_exec(e); /* nothing to replay; its ReplayEnd fails: dropped */
    assert_int_equal(s_stats(e)->sub_sessions, 0);
    s_env_end(e);
}

/* Dropping a session moves the last one into its slot: the moved agent
 * and subscriber sessions keep getting their rows. A Hello on a routing id
 * whose session is another unit's replaces it; the old replay's answer is
 * then for nobody. */
static void test_sessions_reindexed(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    s_client_t *a = s_client(e, "xa-a"), *b = s_client(e, "xa-b"), *s = s_client(e, S_SUB);
    srv_notify_hello(e->n, s_ghost, sizeof s_ghost - 1, "@lead", 0); /* slot 0 */
    s_exec(e);
    s_hello(e, a, 0);
    s_exec(e);
    assert_int_equal(s_replay(e, s, 0, (const char *[]){"deadline.", NULL}, 1), CCHC_OK);
    s_exec(e);
    s_hello(e, b, 0); /* the last slot */
    s_exec(e);
    assert_int_equal(s_stats(e)->dropped, 0);
    s_commit(e, "@lead", "deadline.today"); /* 1: its send fails, b moves to slot 0 */
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->dropped, 1);
    /* A new session takes the last slot, where b was. */
    s_client_t *c = s_client(e, "xa-c");
    s_hello(e, c, 1);
    s_exec(e);
    s_commit(e, "xa-a", "deadline.today");  /* 2 */
    s_commit(e, "xa-b", "deadline.today");  /* 3 */
    s_commit(e, "xa-b", "report.received"); /* 4 */
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, a, (const uint64_t[]){2}, 1);
    s_expect_seqs(e, b, (const uint64_t[]){3, 4}, 2);
    s_expect_seqs(e, c, NULL, 0);
    s_expect_seqs(e, s, (const uint64_t[]){1, 2, 3}, 3);
    /* Drop a (slot 1): the subscriber, now last, moves into it. */
    s_clear(a), s_clear(b), s_clear(s);
    srv_notify_on_timer(e->n, cchc_clock_mono_ms() + SRV_PEERS_IDLE_MS + 60000);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->dropped, 5); /* all silent */
    s_hello(e, b, 4);
    s_exec(e);
    s_hello(e, a, 2);
    s_exec(e);
    assert_int_equal(s_replay(e, s, 4, (const char *[]){"deadline.", NULL}, 1), CCHC_OK);
    s_exec(e);
    /* b (slot 0) replaced on its routing id by another unit's session. */
    srv_notify_hello(e->n, (const uint8_t *)b->rid, strlen(b->rid), "xa-c", 0);
    assert_int_equal(s_stats(e)->dropped, 6);
    s_commit(e, "xa-a", "deadline.today"); /* 5 */
    s_commit(e, "xa-c", "deadline.today"); /* 6 */
    s_commit(e, "xa-b", "deadline.today"); /* 7 */
    s_exec(e);                             /* xa-c's replay: 6 */
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, a, (const uint64_t[]){5}, 1);
    s_expect_seqs(e, b, (const uint64_t[]){6}, 1);
    s_expect_seqs(e, s, (const uint64_t[]){5, 6, 7}, 3);
    /* A replay answered after its session was replaced sends nothing. */
    s_clear(b);
    srv_notify_hello(e->n, (const uint8_t *)b->rid, strlen(b->rid), "xa-b", 0);
    srv_notify_hello(e->n, (const uint8_t *)b->rid, strlen(b->rid), "xa-c", 6);
    assert_int_equal(fake_db_jobs(e->db), 2);
    s_exec_all(e);
    s_expect_seqs(e, b, NULL, 0);
    s_env_end(e);
}

/* A subscriber with the database away: a Replay is refused (CCHC_EAGAIN:
 * NACK_BUSY) and opens no session; a replay whose connection is lost ends
 * the session with NACK_BUSY; so does a parked replay that cannot be sent
 * when the acks make room. */
static void test_sub_db_away(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(6);
    s_client_t *s = s_client(e, S_SUB);
    const char *want[] = {"deadline.", NULL};
    assert_int_equal(s_replay(e, s, 0, want, 1), CCHC_OK);
    fake_db_lose(e->db);
    s_pump(e);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_NACK), 1);
    assert_int_equal(s->msgs[0].reason, CCHC__V1__NACK_REASON__NACK_BUSY);
    assert_non_null(strstr(s->msgs[0].detail, "interrupted"));
    assert_int_equal(s_stats(e)->sub_sessions, 0);
    assert_int_equal(s_replay(e, s, 0, want, 1), CCHC_EAGAIN);
    assert_int_equal(s_replay(e, s, 0, want, 0), CCHC_EAGAIN);
    assert_int_equal(s_stats(e)->sub_sessions, 0);
    fake_db_reconnect(e->db);
    s_exec_all(e);
    /* Parked, then the database goes away. */
    s_clear(s);
    assert_int_equal(s_replay(e, s, e->top, want, 1), CCHC_OK);
    s_exec(e);
    s_commit_n(e, (size_t)e->cfg.sub_max_pending + 1, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->lagging, 1);
    fake_db_lose(e->db);
    s_sub_ack(e, s, e->top);
    s_pump(e);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_NACK), 1);
    assert_int_equal(s->msgs[s->nmsgs - 1].reason, CCHC__V1__NACK_REASON__NACK_BUSY);
    assert_int_equal(s_stats(e)->sub_sessions, 0);
    fake_db_reconnect(e->db);
    s_exec_all(e);
    s_env_end(e);
}

/* A replay looks at S_SUB_WINDOW (20000) seqs per segment at most: rare
 * topics are found window after window, none missed, and ReplayEnd says
 * the highest seq covered. */
static void test_sub_window(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    s_client_t *s = s_client(e, S_SUB);
    s_commit(e, "xa-a", "deadline.today");        /* 1 */
    s_commit_n(e, 25000, "xa-b", "agent.silent"); /* 2..25001 */
    s_commit(e, "xa-a", "deadline.today");        /* 25002 */
    s_commit_n(e, 20000, "xa-b", "agent.silent"); /* ..45002 */
    assert_int_equal(s_replay(e, s, 0, (const char *[]){"deadline.", NULL}, 0), CCHC_OK);
    s_exec(e);
    assert_int_equal(fake_db_jobs(e->db), 1); /* the next window */
    const fake_db_job_t *j = fake_db_job(e->db, 0);
    assert_int_equal(strtoull(j->stmts[0].values[0], NULL, 10), 20000);
    assert_int_equal(strtoull(j->stmts[0].values[4], NULL, 10), 40000);
    s_exec_all(e);
    s_expect_seqs(e, s, (const uint64_t[]){1, 25002}, 2);
    assert_int_equal(s_replay_end(e, s), 45002);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_REPLAY_END), 1);
    s_env_end(e);
}

/* At most SRV_NOTIFY_MAX_REPLAYS subscriber replays at once: one more is
 * refused (CCHC_EAGAIN), a follow one with no session left; room again
 * when one ends. */
static void test_sub_max_replays(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(3);
    s_client_t *s = s_client(e, S_SUB);
    for (int i = 0; i < SRV_NOTIFY_MAX_REPLAYS; i++)
        assert_int_equal(s_replay(e, s, 0, NULL, 0), CCHC_OK);
    assert_int_equal(s_stats(e)->replays, SRV_NOTIFY_MAX_REPLAYS);
    assert_int_equal(s_replay(e, s, 0, NULL, 0), CCHC_EAGAIN);
    assert_int_equal(s_replay(e, s, 0, NULL, 1), CCHC_EAGAIN);
    assert_int_equal(s_stats(e)->sub_sessions, 0);
    s_exec(e);
    assert_int_equal(s_replay(e, s, 0, NULL, 1), CCHC_OK);
    assert_int_equal(s_stats(e)->sub_sessions, 1);
    s_exec_all(e);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_REPLAY_END),
                     SRV_NOTIFY_MAX_REPLAYS + 1);
    s_env_end(e);
}

/* A row too large for a frame is counted and skipped, by the publisher
 * and by the replays, and does not stop the rows after it. */
static void test_oversize(void **state)
{
    (void)state;
    s_env_t *e = s_env_new_frame(0, 1024);
    s_client_t *a = s_client(e, "xa-a"), *s = s_client(e, S_SUB);
    s_commit(e, "xa-a", "deadline.today");
    e->rows[e->nrows - 1].big = 1;
    s_commit(e, "xa-a", "deadline.today");
    s_hello(e, a, 0);
    s_exec(e);
    s_expect_seqs(e, a, (const uint64_t[]){2}, 1);
    assert_int_equal(s_stats(e)->oversize, 1);
    assert_int_equal(s_replay(e, s, 0, NULL, 1), CCHC_OK);
    s_exec(e);
    s_expect_seqs(e, s, (const uint64_t[]){2}, 1);
    assert_int_equal(s_replay_end(e, s), 2);
    s_commit(e, "xa-a", "deadline.today");
    e->rows[e->nrows - 1].big = 1;
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, a, (const uint64_t[]){2, 4}, 2);
    s_expect_seqs(e, s, (const uint64_t[]){2, 4}, 2);
    assert_int_equal(srv_notify_last_published(e->n), 4);
    assert_int_equal(s_stats(e)->oversize, 4); /* 1 twice by the replays, 1 and 3 */
    /* The last row a fetch reads is too large: the publisher goes past it. */
    s_commit(e, "xa-a", "deadline.today");
    e->rows[e->nrows - 1].big = 1;
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(srv_notify_last_published(e->n), 5);
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->oversize, 5); /* 5 once */
    s_env_end(e);
}

/* The loop's timer: the poll every SRV_NOTIFY_POLL_MS, at once after a
 * kick, none while a fetch is in flight; ack writes due after
 * SRV_NOTIFY_ACK_EVERY_MS. */
static void test_timers(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    int64_t now = cchc_clock_mono_ms(), t = srv_notify_next_timer(e->n);
    assert_true(t > now - 10 && t <= now + SRV_NOTIFY_POLL_MS);
    srv_notify_kick(e->n);
    assert_true(srv_notify_next_timer(e->n) <= cchc_clock_mono_ms());
    srv_notify_on_timer(e->n, cchc_clock_mono_ms());
    assert_int_equal(fake_db_jobs(e->db), 1);
    /* In flight: only the prune is left (a minute away). */
    assert_true(srv_notify_next_timer(e->n) > cchc_clock_mono_ms() + SRV_NOTIFY_POLL_MS);
    s_exec_all(e);
    t = srv_notify_next_timer(e->n);
    assert_true(t > cchc_clock_mono_ms() + SRV_NOTIFY_POLL_MS / 2);
    srv_notify_committed(e->n);
    assert_true(srv_notify_next_timer(e->n) <= cchc_clock_mono_ms());
    s_env_end(e);
}

/* ---- races ---------------------------------------------------------------------------------- */

/* Nothing missed, nothing sent twice: an agent and a subscriber that say
 * what they hold (Hello, Replay{follow}) at random moments, while rows are
 * committed, the publisher reads and the statements run in random orders
 * (FIFO on the connection). */
static void test_race(void **state)
{
    (void)state;
    static const char *const units[] = {"xa-a", "xa-b", "@lead"};
    static const char *const kinds[] = {"deadline.approaching", "report.received", "agent.silent"};
    for (unsigned seed = 1; seed <= 40; seed++) {
        srand(seed);
        s_env_t *e = s_env_new(30);
        s_client_t *a = s_client(e, "xa-a"), *s = s_client(e, S_SUB);
        const char *want[] = {"deadline.", NULL};
        a->last = 10;
        s->last = 5;
        s_hello(e, a, a->last);
        assert_int_equal(s_replay(e, s, s->last, want, 1), CCHC_OK);
        for (int step = 0; step < 400; step++) {
            int r = rand() % 100;
            if (r < 25) {
                for (int k = rand() % 3; k >= 0; k--)
                    s_commit(e, units[rand() % 3], kinds[rand() % 3]);
            } else if (r < 27) {
                s_commit_n(e, SRV_NOTIFY_BATCH + 20, units[rand() % 3], kinds[rand() % 2]);
            } else if (r < 60) {
                if (fake_db_jobs(e->db))
                    s_exec(e);
            } else if (r < 75) {
                s_publish(e);
            } else if (r < 80) {
                s_pump(e);
                s_hello(e, a, a->last);
            } else if (r < 88) {
                s_pump(e);
                s_sub_ack(e, s, s->last);
            } else if (r < 91) {
                s_pump(e);
                if (s_replay(e, s, s->last, want, 1) != CCHC_OK)
                    fail_msg("seed %u: Replay refused", seed);
            }
            s_pump(e);
        }
        /* Quiet: everything runs to the end, the subscriber acking. */
        for (int round = 0; round < 50; round++) {
            s_pump(e);
            s_sub_ack(e, s, s->last);
            s_publish(e);
            s_exec_all(e);
        }
        assert_int_equal(srv_notify_last_published(e->n), e->top);
        uint64_t got[8192], w[8192];
        size_t n = s_rows_of(e, "xa-a", 10, w, 8192), k = s_seqs(a, got, 8192);
        for (size_t i = 0; i < n || i < k; i++)
            if (i >= n || i >= k || got[i] != w[i])
                fail_msg("seed %u: agent's notification %zu is %" PRIu64 ", expected %" PRIu64
                         " (%zu read, %zu rows)",
                         seed, i, i < k ? got[i] : 0, i < n ? w[i] : 0, k, n);
        n = s_rows_topic(e, want, 5, w, 8192);
        k = s_seqs(s, got, 8192);
        for (size_t i = 0; i < n || i < k; i++)
            if (i >= n || i >= k || got[i] != w[i])
                fail_msg("seed %u: subscriber's notification %zu is %" PRIu64 ", expected %" PRIu64
                         " (%zu read, %zu rows)",
                         seed, i, i < k ? got[i] : 0, i < n ? w[i] : 0, k, n);
        assert_int_equal(s_stats(e)->dropped, 0);
        s_env_end(e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_replay_then_live),
        cmocka_unit_test(test_replay_segments),
        cmocka_unit_test(test_hello_while_replaying),
        cmocka_unit_test(test_live_no_twice),
        cmocka_unit_test(test_unit_session_moves),
        cmocka_unit_test(test_send_fails_drops),
        cmocka_unit_test(test_idle_drops),
        cmocka_unit_test(test_db_away),
        cmocka_unit_test(test_acks),
        cmocka_unit_test(test_sub_oneshot),
        cmocka_unit_test(test_sub_follow),
        cmocka_unit_test(test_sub_max_pending),
        cmocka_unit_test(test_sub_grant_and_send),
        cmocka_unit_test(test_sessions_reindexed),
        cmocka_unit_test(test_sub_db_away),
        cmocka_unit_test(test_sub_window),
        cmocka_unit_test(test_sub_max_replays),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_race),
        cmocka_unit_test(test_closed_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
