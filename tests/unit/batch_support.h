/* batch_support.h: the environment of the group-commit tests,
 * test_srv_batch.c (a lane's batch through IDLE, CONTEXT and STORE) and
 * test_srv_batch_lanes.c (connections lost, refusals, abandon, admission and
 * the lanes): srv_batch against the fake database (fake_db.c), with the real
 * srv_report, srv_units and srv_router.
 *
 * Reports come in as wire envelopes built from tests/fixtures/periodic.json,
 * one agent (a DEALER on an inproc ROUTER made by srv_router) per unit; the
 * Acks and Nacks are read and decoded from those DEALERs. The test plays
 * PostgreSQL: it reads the JSON parameter of each segment srv_batch queues
 * and answers with rows, errors, a lost connection or a refusal. At the end
 * of each test every report taken must have been answered exactly once.
 *
 * Included by one test program each: its functions are static, marked
 * unused (each program uses a part of them). */
#ifndef BATCH_SUPPORT_H
#define BATCH_SUPPORT_H

#include "validate_support.h"

#include "cchc_clock.h"
#include "cchc_keys.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_report.h"
#include "cchc_wire.h"
#include "fake_db.h"
#include "srv_batch.h"
#include "srv_config.h"
#include "srv_router.h"
#include "srv_units.h"

#include <errno.h>
#include <jansson.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define S_ENDPOINT "inproc://test-srv-batch"
#define S_EPOCH 0x5eed0001ULL
#define S_MAX_SENT 256
#define S_MAX_ANSWERS 512

#define S_CONTEXT_STMT "cchc_batch_context"
#define S_STORE_STMT "cchc_store_batch"
#define S_DOC_STMT "cchc_unit_doc"

/* A list of msg_ids, for the expectations: IDS(1, 2) is the array and its length. */
#define IDS(...)                                                                                   \
    (const uint64_t[]){__VA_ARGS__}, sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t)

typedef struct {
    char unit[32];
    char rid[40];
    void *sock;
} s_agent_t;

/* A report offered to the batch. */
typedef struct {
    uint64_t msg_id;
    char unit[32];
    uint8_t *frame; /* the envelope as the agent sent it */
    size_t len;
    int admitted;
} s_sent_t;

/* An Ack or a Nack read from an agent. */
typedef struct {
    char unit[32];
    int ack;
    uint64_t msg_id;
    int64_t report_id;
    int duplicate;
    Cchc__V1__NackReason reason;
    char detail[256];
    char code[8]; /* the first finding's code, or "" */
} s_answer_t;

typedef struct {
    int rows, delay_ms, lanes, max_pending, peer_max;
} s_opts_t;

typedef struct {
    void *ctx;
    srv_config_t cfg;
    srv_router_t *router;
    srv_db_t *main_db; /* the units' connection: the batch must not use it */
    srv_units_t *units;
    srv_batch_t *batch;
    int commits; /* on_commit calls */
    json_t *fixture;
    s_agent_t agents[16];
    size_t nagents;
    s_sent_t sent[S_MAX_SENT];
    size_t nsent;
    uint64_t next_msg;
    s_answer_t answers[S_MAX_ANSWERS];
    size_t nanswers;
    char **strs; /* strings the results point to until the test ends */
    size_t nstrs;
} s_env_t;

/* ---- the environment ------------------------------------------------------------------ */

static __attribute__((unused)) int s_is_connected(void *arg, const char *unit)
{
    (void)arg;
    (void)unit;
    return 0;
}

static __attribute__((unused)) void s_on_changed(void *arg, const char *unit)
{
    (void)arg;
    (void)unit;
}

static __attribute__((unused)) void s_on_commit(void *arg)
{
    s_env_t *e = arg;
    e->commits++;
}

/* Keeps s (malloc'd) until the test ends; returns it. */
static __attribute__((unused)) const char *s_keep(s_env_t *e, char *s)
{
    e->strs = cchc_realloc(e->strs, (e->nstrs + 1) * sizeof *e->strs);
    e->strs[e->nstrs++] = s;
    return s;
}

static __attribute__((unused)) srv_batch_t *s_batch_new(s_env_t *e)
{
    srv_batch_hooks_t bh = {.on_commit = s_on_commit, .arg = e};
    return srv_batch_new(e->router, e->units, &e->cfg, &bh);
}

static __attribute__((unused)) s_env_t *s_env_new(s_opts_t o)
{
    s_env_t *e = cchc_calloc(1, sizeof *e);
    char err[256] = "", pub[CCHC_KEY_Z85_LEN + 1], sec[CCHC_KEY_Z85_LEN + 1];
    if (!getenv("CCHC_TEST_LOG"))
        cchc_log_level = CCHC_LOG_ERROR + 1;
    /* The settings through server.ini's table, bounds checked. */
    char path[] = "/tmp/cchc-test-srv-batch-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fprintf(f,
            "[server]\nendpoint = %s\npublic_key = /dev/null\nsecret_key = /dev/null\n"
            "batch_max_rows = %d\nbatch_max_delay_ms = %d\nmax_pending = %d\n"
            "peer_max_inflight = %d\n[database]\nstore_connections = %d\n",
            S_ENDPOINT, o.rows ? o.rows : 3, o.delay_ms ? o.delay_ms : 1000,
            o.max_pending ? o.max_pending : 10000, o.peer_max ? o.peer_max : 1000,
            o.lanes ? o.lanes : 1);
    fclose(f);
    int rc = srv_config_load(&e->cfg, path, err, sizeof err);
    unlink(path);
    if (rc != CCHC_OK)
        fail_msg("config: %s", err);
    fake_db_reset();
    e->ctx = zmq_ctx_new();
    assert_non_null(e->ctx);
    assert_int_equal(cchc_keys_generate(pub, sec), CCHC_OK);
    e->router = srv_router_new(e->ctx, &e->cfg, sec, err, sizeof err);
    if (!e->router)
        fail_msg("router: %s", err);
    srv_db_hooks_t mh = {.name = "cchc-server"};
    e->main_db = srv_db_new("", &mh);
    assert_int_equal(srv_db_connect(e->main_db, 1000, err, sizeof err), CCHC_OK);
    assert_int_equal(srv_db_start(e->main_db, err, sizeof err), CCHC_OK);
    srv_units_hooks_t uh = {.is_connected = s_is_connected, .on_changed = s_on_changed};
    e->units = srv_units_new(e->main_db, &uh);
    e->batch = s_batch_new(e);
    assert_int_equal(srv_batch_connect(e->batch, 1000, err, sizeof err), CCHC_OK);
    e->fixture = s_fixture("periodic.json");
    return e;
}

static __attribute__((unused)) s_agent_t *s_agent(s_env_t *e, const char *unit)
{
    for (size_t i = 0; i < e->nagents; i++)
        if (strcmp(e->agents[i].unit, unit) == 0)
            return &e->agents[i];
    assert_true(e->nagents < sizeof e->agents / sizeof e->agents[0]);
    s_agent_t *a = &e->agents[e->nagents++];
    snprintf(a->unit, sizeof a->unit, "%s", unit);
    snprintf(a->rid, sizeof a->rid, "rid-%s", unit);
    a->sock = zmq_socket(e->ctx, ZMQ_DEALER);
    assert_non_null(a->sock);
    int linger = 0;
    zmq_setsockopt(a->sock, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_setsockopt(a->sock, ZMQ_ROUTING_ID, a->rid, strlen(a->rid)), 0);
    assert_int_equal(zmq_connect(a->sock, S_ENDPOINT), 0);
    /* One message, so that the ROUTER knows the routing id before it answers. */
    assert_int_equal(zmq_send(a->sock, "hi", 2, 0), 2);
    void *r = srv_router_socket(e->router);
    zmq_pollitem_t it = {.socket = r, .events = ZMQ_POLLIN};
    assert_int_equal(zmq_poll(&it, 1, 5000), 1);
    char buf[64];
    int n = zmq_recv(r, buf, sizeof buf, 0);
    assert_int_equal(n, (int)strlen(a->rid));
    assert_memory_equal(buf, a->rid, (size_t)n);
    assert_int_equal(zmq_recv(r, buf, sizeof buf, 0), 2);
    return a;
}

/* Reads every Ack and Nack the agents have been sent. */
static __attribute__((unused)) void s_pump(s_env_t *e)
{
    for (size_t i = 0; i < e->nagents; i++) {
        for (;;) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, e->agents[i].sock, ZMQ_DONTWAIT) < 0) {
                assert_int_equal(zmq_errno(), EAGAIN);
                zmq_msg_close(&m);
                break;
            }
            cchc_envelope_t *env = NULL;
            char err[200];
            assert_int_equal(cchc_wire_decode(zmq_msg_data(&m), zmq_msg_size(&m),
                                              CCHC_WIRE_MAX_FRAME_DEFAULT, &env, err, sizeof err),
                             CCHC_OK);
            zmq_msg_close(&m);
            assert_true(e->nanswers < S_MAX_ANSWERS);
            s_answer_t *a = &e->answers[e->nanswers++];
            memset(a, 0, sizeof *a);
            snprintf(a->unit, sizeof a->unit, "%s", e->agents[i].unit);
            assert_string_equal(env->unit, e->agents[i].unit);
            if (env->body_case == CCHC__V1__ENVELOPE__BODY_ACK) {
                a->ack = 1;
                assert_true(env->ack->agent_epoch == S_EPOCH);
                a->msg_id = env->ack->msg_id;
                a->report_id = env->ack->report_id;
                a->duplicate = env->ack->duplicate;
            } else {
                assert_int_equal(env->body_case, CCHC__V1__ENVELOPE__BODY_NACK);
                assert_true(env->nack->agent_epoch == S_EPOCH);
                a->msg_id = env->nack->msg_id;
                a->reason = env->nack->reason;
                snprintf(a->detail, sizeof a->detail, "%s", env->nack->detail);
                if (env->nack->n_findings)
                    snprintf(a->code, sizeof a->code, "%s", env->nack->findings[0]->code);
            }
            cchc_wire_free(&env);
        }
    }
}

static __attribute__((unused)) size_t s_count(s_env_t *e, uint64_t msg_id)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nanswers; i++)
        n += e->answers[i].msg_id == msg_id;
    return n;
}

/* The one answer to msg_id. */
static __attribute__((unused)) const s_answer_t *s_answer(s_env_t *e, uint64_t msg_id)
{
    s_pump(e);
    size_t n = s_count(e, msg_id);
    if (n != 1)
        fail_msg("msg_id %llu answered %zu times", (unsigned long long)msg_id, n);
    for (size_t i = 0; i < e->nanswers; i++)
        if (e->answers[i].msg_id == msg_id)
            return &e->answers[i];
    return NULL;
}

static __attribute__((unused)) void s_unanswered(s_env_t *e, uint64_t msg_id)
{
    s_pump(e);
    if (s_count(e, msg_id) != 0)
        fail_msg("msg_id %llu answered before its outcome is durable", (unsigned long long)msg_id);
}

static __attribute__((unused)) void s_expect_ack(s_env_t *e, uint64_t msg_id, int64_t report_id,
                                                 int duplicate)
{
    const s_answer_t *a = s_answer(e, msg_id);
    if (!a->ack)
        fail_msg("msg_id %llu: Nack %d \"%s\", expected an Ack", (unsigned long long)msg_id,
                 a->reason, a->detail);
    assert_int_equal(a->report_id, report_id);
    assert_int_equal(a->duplicate, duplicate);
}

/* A Nack of reason whose detail contains detail (NULL: any). */
static __attribute__((unused)) const s_answer_t *
s_expect_nack(s_env_t *e, uint64_t msg_id, Cchc__V1__NackReason reason, const char *detail)
{
    const s_answer_t *a = s_answer(e, msg_id);
    if (a->ack)
        fail_msg("msg_id %llu: Ack, expected a Nack", (unsigned long long)msg_id);
    if (a->reason != reason)
        fail_msg("msg_id %llu: Nack %s \"%s\", expected %s", (unsigned long long)msg_id,
                 cchc_wire_nack_reason_name(a->reason), a->detail,
                 cchc_wire_nack_reason_name(reason));
    if (detail && !strstr(a->detail, detail))
        fail_msg("msg_id %llu: detail \"%s\" lacks \"%s\"", (unsigned long long)msg_id, a->detail,
                 detail);
    return a;
}

static __attribute__((unused)) void s_wait_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Every report taken was answered exactly once, none refused at admission
 * was, nothing is left; then frees everything. */
static __attribute__((unused)) void s_env_end(s_env_t *e)
{
    s_pump(e);
    size_t taken = 0;
    for (size_t i = 0; i < e->nsent; i++) {
        size_t n = s_count(e, e->sent[i].msg_id);
        if (n != (e->sent[i].admitted ? 1u : 0u))
            fail_msg("msg_id %llu (%s) answered %zu times", (unsigned long long)e->sent[i].msg_id,
                     e->sent[i].admitted ? "taken" : "refused", n);
        taken += e->sent[i].admitted;
    }
    assert_int_equal(e->nanswers, taken);
    assert_int_equal(srv_batch_pending(e->batch), 0);
    for (size_t k = 0; k < srv_batch_dbs(e->batch); k++)
        assert_int_equal(fake_db_jobs(srv_batch_db(e->batch, k)), 0);
    assert_int_equal(fake_db_jobs(e->main_db), 0);
    srv_batch_destroy(&e->batch);
    assert_null(e->batch);
    srv_units_destroy(&e->units);
    srv_db_destroy(&e->main_db);
    assert_int_equal(fake_db_count(), 0);
    for (size_t i = 0; i < e->nagents; i++)
        zmq_close(e->agents[i].sock);
    srv_router_destroy(&e->router);
    zmq_ctx_term(e->ctx);
    for (size_t i = 0; i < e->nsent; i++)
        free(e->sent[i].frame);
    for (size_t i = 0; i < e->nstrs; i++)
        free(e->strs[i]);
    free(e->strs);
    json_decref(e->fixture);
    srv_config_free(&e->cfg);
    free(e);
}

/* ---- reports -------------------------------------------------------------------------------- */

/* Offers a report of unit to the batch as srv_handle_report does: admit,
 * then srv_report_new and srv_batch_add. Its msg_id in *msg_id; 0 or the
 * admission's refusal (with *why). */
static __attribute__((unused)) int s_offer(s_env_t *e, const char *unit, uint64_t *msg_id,
                                           const char **why)
{
    s_agent_t *a = s_agent(e, unit);
    json_t *j = json_deep_copy(e->fixture);
    json_object_set_new(j, "unit", json_string(unit));
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_report_t *rep = NULL;
    assert_int_equal(cchc_report_from_json(j, &rep, &f), CCHC_OK);
    json_decref(j);
    cchc_findings_clear(&f);
    Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
    env.protocol_version = CCHC_WIRE_PROTOCOL_VERSION;
    env.unit = (char *)unit;
    env.agent_epoch = S_EPOCH;
    env.msg_id = ++e->next_msg;
    env.sent_at_ms = cchc_clock_now_ms();
    env.body_case = CCHC__V1__ENVELOPE__BODY_REPORT;
    env.report = rep;
    uint8_t *frame = NULL;
    size_t len = 0;
    assert_int_equal(cchc_wire_encode(&env, &frame, &len), CCHC_OK);
    cchc_report_free(&rep);
    cchc_envelope_t *dec = NULL;
    assert_int_equal(cchc_wire_decode(frame, len, CCHC_WIRE_MAX_FRAME_DEFAULT, &dec, NULL, 0),
                     CCHC_OK);
    srv_peer_t peer = {
        .rid = (const uint8_t *)a->rid, .rid_len = strlen(a->rid), .principal = unit};
    assert_true(e->nsent < S_MAX_SENT);
    s_sent_t *s = &e->sent[e->nsent++];
    s->msg_id = env.msg_id;
    snprintf(s->unit, sizeof s->unit, "%s", unit);
    s->frame = frame;
    s->len = len;
    *why = NULL;
    int rc = srv_batch_admit(e->batch, &peer, why);
    s->admitted = rc == 0;
    if (rc == 0) {
        const char *w = NULL;
        srv_report_t *r = srv_report_new(&peer, &dec, frame, len, e->cfg.max_clock_skew_ms, &w);
        assert_non_null(r);
        assert_null(dec);
        srv_batch_add(e->batch, &r);
        assert_null(r);
    } else {
        assert_non_null(*why);
        cchc_wire_free(&dec);
    }
    *msg_id = env.msg_id;
    return rc;
}

/* A report of unit, admitted; its msg_id. */
static __attribute__((unused)) uint64_t s_send(s_env_t *e, const char *unit)
{
    uint64_t id = 0;
    const char *why = NULL;
    int rc = s_offer(e, unit, &id, &why);
    if (rc != 0)
        fail_msg("report of %s refused: %s", unit, why);
    return id;
}

static __attribute__((unused)) const s_sent_t *s_sent(s_env_t *e, uint64_t msg_id)
{
    for (size_t i = 0; i < e->nsent; i++)
        if (e->sent[i].msg_id == msg_id)
            return &e->sent[i];
    fail_msg("no report %llu", (unsigned long long)msg_id);
    return NULL;
}

/* The report's bytes as a stored row's payload column (bytea, hex). */
static __attribute__((unused)) const char *s_payload_hex(s_env_t *e, uint64_t msg_id)
{
    const s_sent_t *s = s_sent(e, msg_id);
    size_t off = 0, n = 0;
    assert_int_equal(cchc_wire_report_bytes(s->frame, s->len, &off, &n), 0);
    char *hex = cchc_malloc(2 * n + 3), *p = hex;
    p += sprintf(p, "\\x");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%02x", s->frame[off + i]);
    return s_keep(e, hex);
}

/* The unit's metadata document: the base context of validate_support.h
 * with its unit. */
static __attribute__((unused)) const char *s_doc(s_env_t *e, const char *unit)
{
    json_t *doc = json_loads(s_base_ctx, 0, NULL);
    assert_non_null(doc);
    json_object_set_new(doc, "unit",
                        json_pack("{s:s, s:s, s:s, s:s}", "code", unit, "kind", "commune",
                                  "valid_from", "2020-01-01", "valid_to", "2099-12-31"));
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s_keep(e, text);
}

/* ---- the database's side ----------------------------------------------------------------------
 */

static __attribute__((unused)) const fake_db_job_t *s_head(srv_db_t *db)
{
    const fake_db_job_t *j = fake_db_job(db, 0);
    if (!j)
        fail_msg("no job queued on %s", fake_db_name(db));
    return j;
}

static __attribute__((unused)) uint32_t s_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Element i of the store statement's second parameter, the payloads as a
 * bytea[] in binary (array_recv's format), checked whole: one dimension of
 * n elements from 1, none NULL, nothing after the last. */
static __attribute__((unused)) const unsigned char *s_payload_at(const fake_db_stmt_t *st, size_t n,
                                                                 size_t i, size_t *len)
{
    assert_int_equal(st->nparams, 2);
    assert_int_equal(st->formats[1], 1);
    const unsigned char *p = (const unsigned char *)st->values[1], *at = NULL;
    size_t left = (size_t)st->lengths[1];
    assert_true(left >= 20);
    assert_int_equal(s_u32(p), 1);      /* dimensions */
    assert_int_equal(s_u32(p + 4), 0);  /* no NULL */
    assert_int_equal(s_u32(p + 8), 17); /* bytea */
    if (s_u32(p + 12) != n)
        fail_msg("%u payloads for %zu reports", s_u32(p + 12), n);
    assert_int_equal(s_u32(p + 16), 1); /* lower bound */
    p += 20, left -= 20;
    for (size_t k = 0; k < n; k++) {
        assert_true(left >= 4);
        size_t m = s_u32(p);
        assert_true(m <= left - 4);
        if (k == i)
            at = p + 4, *len = m;
        p += 4 + m, left -= 4 + m;
    }
    assert_int_equal(left, 0);
    return at;
}

/* The JSON array parameter of a batch statement (new reference); the store
 * statement's second parameter is its payloads (s_payload_at). */
static __attribute__((unused)) json_t *s_param(const fake_db_stmt_t *st)
{
    int store = st->name && strcmp(st->name, S_STORE_STMT) == 0;
    assert_int_equal(st->nparams, store ? 2 : 1);
    assert_int_equal(st->formats[0], 0);
    json_error_t jerr;
    json_t *a = json_loads(st->values[0], 0, &jerr);
    if (!json_is_array(a))
        fail_msg("parameter of %s is not a JSON array: %s", st->name, jerr.text);
    return a;
}

/* 1 when the job begins with DISCARD PLANS (a CONTEXT segment at the
 * session's 16th, 32nd, ... batch), else 0. */
static __attribute__((unused)) size_t s_discards(const fake_db_job_t *j)
{
    return j->n > 0 && !j->stmts[0].name && j->stmts[0].sql &&
           strcmp(j->stmts[0].sql, "DISCARD PLANS") == 0;
}

/* Asserts the head job of db is a CONTEXT segment: DISCARD PLANS or not
 * (see s_discards), one document read per unit in docs (NULL-terminated),
 * then the context over exactly ids, in order. */
static __attribute__((unused)) void s_expect_context(srv_db_t *db, const char *const *docs,
                                                     const uint64_t *ids, size_t n)
{
    const fake_db_job_t *j = s_head(db);
    size_t ndocs = 0, d = s_discards(j);
    while (docs && docs[ndocs])
        ndocs++;
    assert_true(j->segment);
    if (j->n != d + ndocs + 1)
        fail_msg("context segment of %zu statements, expected %zu document reads and the context",
                 j->n, ndocs);
    for (size_t k = 0; k < ndocs; k++) {
        assert_string_equal(j->stmts[d + k].name, S_DOC_STMT);
        assert_int_equal(j->stmts[d + k].nparams, 1);
        assert_string_equal(j->stmts[d + k].values[0], docs[k]);
    }
    const fake_db_stmt_t *st = &j->stmts[d + ndocs];
    assert_string_equal(st->name, S_CONTEXT_STMT);
    json_t *a = s_param(st);
    if (json_array_size(a) != n)
        fail_msg("context of %zu reports, expected %zu: %s", json_array_size(a), n, st->values[0]);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(a, i);
        assert_int_equal(json_integer_value(json_object_get(o, "ord")), (json_int_t)i);
        assert_int_equal(json_integer_value(json_object_get(o, "msg_id")), (json_int_t)ids[i]);
    }
    json_decref(a);
}

/* Asserts the head job of db is a STORE segment of exactly ids, in order,
 * each with its report's bytes at its place in the payloads. */
static __attribute__((unused)) void s_expect_store(s_env_t *e, srv_db_t *db, const uint64_t *ids,
                                                   size_t n)
{
    const fake_db_job_t *j = s_head(db);
    assert_true(j->segment);
    assert_int_equal(j->n, 1);
    assert_string_equal(j->stmts[0].name, S_STORE_STMT);
    json_t *a = s_param(&j->stmts[0]);
    if (json_array_size(a) != n)
        fail_msg("store of %zu reports, expected %zu", json_array_size(a), n);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(a, i);
        if ((uint64_t)json_integer_value(json_object_get(o, "msg_id")) != ids[i])
            fail_msg("store entry %zu is msg_id %lld, expected %llu", i,
                     (long long)json_integer_value(json_object_get(o, "msg_id")),
                     (unsigned long long)ids[i]);
        assert_null(json_object_get(o, "payload"));
        assert_non_null(json_object_get(o, "status"));
        const s_sent_t *sent = s_sent(e, ids[i]);
        size_t off = 0, len = 0, plen = 0;
        assert_int_equal(cchc_wire_report_bytes(sent->frame, sent->len, &off, &len), 0);
        const unsigned char *pl = s_payload_at(&j->stmts[0], n, i, &plen);
        if (plen != len || memcmp(pl, sent->frame + off, len) != 0)
            fail_msg("payload %zu is not msg_id %llu's bytes (%zu bytes, expected %zu)", i + 1,
                     (unsigned long long)ids[i], plen, len);
        /* Its body: the report as cchc_report_to_json has it (the server
         * writes the JSON itself, srv_report.c). */
        cchc_envelope_t *dec = NULL;
        assert_int_equal(cchc_wire_decode(sent->frame, sent->len, CCHC_WIRE_MAX_FRAME_DEFAULT,
                                          &dec, NULL, 0),
                         CCHC_OK);
        json_t *want = cchc_report_to_json(dec->report);
        json_t *body = json_object_get(o, "body");
        if (!want || !json_equal(body, want))
            fail_msg("body %zu is not msg_id %llu's report as JSON", i + 1,
                     (unsigned long long)ids[i]);
        json_decref(want);
        cchc_wire_free(&dec);
    }
    json_decref(a);
}

/* Whether the head STORE segment of db holds msg_id. */
static __attribute__((unused)) int s_store_has(srv_db_t *db, uint64_t msg_id)
{
    json_t *a = s_param(&s_head(db)->stmts[0]);
    int has = 0;
    for (size_t i = 0; i < json_array_size(a); i++)
        has |=
            (uint64_t)json_integer_value(json_object_get(json_array_get(a, i), "msg_id")) == msg_id;
    json_decref(a);
    return has;
}

/* Fills the row for report msg_id of a context or store result; cells[0]
 * is its ord. Returns 0 to leave the row out. */
typedef int s_row_fn(s_env_t *e, uint64_t msg_id, const char **cells);

/* Rows of a batch statement, from its parameter and fn (6 columns); each
 * row, before fn, is its ord and, when stored, the store statement's row of
 * a report stored now and accepted (id 1000 + msg_id), else the context
 * statement's row of a report not stored before. */
static __attribute__((unused)) PGresult *s_rows(s_env_t *e, const fake_db_stmt_t *st, s_row_fn *fn,
                                                int stored)
{
    json_t *a = s_param(st);
    size_t n = json_array_size(a), rows = 0;
    const char **cells = cchc_calloc(6 * n + 1, sizeof *cells);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(a, i);
        uint64_t id = (uint64_t)json_integer_value(json_object_get(o, "msg_id"));
        const char **row = &cells[6 * rows];
        if (stored) {
            row[1] = s_keep(e, cchc_asprintf("%lld", 1000 + (long long)id));
            row[2] = "f", row[3] = "accepted", row[4] = "[]", row[5] = "t";
        } else {
            row[5] = "{\"revisions\":[]}"; /* the extra document of a new report */
        }
        row[0] = s_keep(
            e, cchc_asprintf("%lld", (long long)json_integer_value(json_object_get(o, "ord"))));
        if (!fn || fn(e, id, row))
            rows++;
    }
    PGresult *res = fake_db_tuples(6, (int)rows, cells);
    free(cells);
    json_decref(a);
    return res;
}

/* Answers the head CONTEXT segment of db: each document read with the
 * unit's document (or, for the units in no_doc, no row), and the context
 * with a row per report (fn, by default: not stored before, no extra). */
static __attribute__((unused)) void s_answer_context(s_env_t *e, srv_db_t *db, s_row_fn *fn,
                                                     const char *no_doc)
{
    const fake_db_job_t *j = s_head(db);
    assert_true(j->segment && j->n >= 1);
    PGresult **res = cchc_calloc(j->n, sizeof *res);
    size_t d = s_discards(j);
    if (d)
        res[0] = fake_db_command_ok();
    for (size_t k = d; k + 1 < j->n; k++) {
        const char *unit = j->stmts[k].values[0];
        assert_string_equal(j->stmts[k].name, S_DOC_STMT);
        const char *cell[1] = {s_doc(e, unit)};
        res[k] = fake_db_tuples(1, no_doc && strcmp(no_doc, unit) == 0 ? 0 : 1, cell);
    }
    res[j->n - 1] = s_rows(e, &j->stmts[j->n - 1], fn, 0);
    size_t n = j->n;
    fake_db_finish(db, res, n);
    free(res);
}

/* Answers the head STORE segment of db: a row per report (fn, by default
 * stored now and accepted, id 1000 + msg_id). */
static __attribute__((unused)) void s_answer_store(s_env_t *e, srv_db_t *db, s_row_fn *fn)
{
    const fake_db_job_t *j = s_head(db);
    assert_true(j->segment && j->n == 1);
    fake_db_finish1(db, s_rows(e, &j->stmts[0], fn, 1));
}

/* The report id the default store rows give msg_id. */
static __attribute__((unused)) int64_t s_rid(uint64_t msg_id)
{
    return 1000 + (int64_t)msg_id;
}

static __attribute__((unused)) srv_db_t *s_lane_db(s_env_t *e, size_t k)
{
    return srv_batch_db(e->batch, k);
}

static __attribute__((unused)) srv_counters_t *s_counters(s_env_t *e)
{
    return srv_router_counters(e->router);
}

/* Plays a store that fails, with sqlstate, whenever its range holds poison;
 * records each range sent (its first msg_id and size) in log. */
static __attribute__((unused)) size_t s_store_until_done(s_env_t *e, srv_db_t *db, uint64_t poison,
                                                         const char *sqlstate, uint64_t log[][2],
                                                         size_t cap)
{
    size_t n = 0;
    while (fake_db_jobs(db)) {
        json_t *a = s_param(&s_head(db)->stmts[0]);
        assert_true(n < cap);
        log[n][0] = (uint64_t)json_integer_value(json_object_get(json_array_get(a, 0), "msg_id"));
        log[n][1] = json_array_size(a);
        n++;
        json_decref(a);
        if (s_store_has(db, poison))
            fake_db_finish1(db, fake_db_error(sqlstate, "bad value"));
        else
            s_answer_store(e, db, NULL);
    }
    return n;
}

#endif
