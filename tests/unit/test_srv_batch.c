/* test_srv_batch.c: srv_batch against the fake database (fake_db.c), with the
 * real srv_report, srv_units and srv_router: every row of the lane's
 * lifecycle table at the top of server/srv_batch.c, the admission caps, and
 * the lanes (a unit always on the same one, its reports in order; units
 * spread over them).
 *
 * Reports come in as wire envelopes built from tests/fixtures/periodic.json,
 * one agent (a DEALER on an inproc ROUTER made by srv_router) per unit; the
 * Acks and Nacks are read and decoded from those DEALERs. The test plays
 * PostgreSQL: it reads the JSON parameter of each segment srv_batch queues
 * and answers with rows, errors, a lost connection or a refusal. At the end
 * of each test every report taken must have been answered exactly once. */
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

static int s_is_connected(void *arg, const char *unit)
{
    (void)arg;
    (void)unit;
    return 0;
}

static void s_on_changed(void *arg, const char *unit)
{
    (void)arg;
    (void)unit;
}

static void s_on_commit(void *arg)
{
    s_env_t *e = arg;
    e->commits++;
}

/* Keeps s (malloc'd) until the test ends; returns it. */
static const char *s_keep(s_env_t *e, char *s)
{
    e->strs = cchc_realloc(e->strs, (e->nstrs + 1) * sizeof *e->strs);
    e->strs[e->nstrs++] = s;
    return s;
}

static srv_batch_t *s_batch_new(s_env_t *e)
{
    srv_batch_hooks_t bh = {.on_commit = s_on_commit, .arg = e};
    return srv_batch_new(e->router, e->units, &e->cfg, &bh);
}

static s_env_t *s_env_new(s_opts_t o)
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

static s_agent_t *s_agent(s_env_t *e, const char *unit)
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
static void s_pump(s_env_t *e)
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

static size_t s_count(s_env_t *e, uint64_t msg_id)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nanswers; i++)
        n += e->answers[i].msg_id == msg_id;
    return n;
}

/* The one answer to msg_id. */
static const s_answer_t *s_answer(s_env_t *e, uint64_t msg_id)
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

static void s_unanswered(s_env_t *e, uint64_t msg_id)
{
    s_pump(e);
    if (s_count(e, msg_id) != 0)
        fail_msg("msg_id %llu answered before its outcome is durable", (unsigned long long)msg_id);
}

static void s_expect_ack(s_env_t *e, uint64_t msg_id, int64_t report_id, int duplicate)
{
    const s_answer_t *a = s_answer(e, msg_id);
    if (!a->ack)
        fail_msg("msg_id %llu: Nack %d \"%s\", expected an Ack", (unsigned long long)msg_id,
                 a->reason, a->detail);
    assert_int_equal(a->report_id, report_id);
    assert_int_equal(a->duplicate, duplicate);
}

/* A Nack of reason whose detail contains detail (NULL: any). */
static const s_answer_t *s_expect_nack(s_env_t *e, uint64_t msg_id, Cchc__V1__NackReason reason,
                                       const char *detail)
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

static void s_wait_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Every report taken was answered exactly once, none refused at admission
 * was, nothing is left; then frees everything. */
static void s_env_end(s_env_t *e)
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
static int s_offer(s_env_t *e, const char *unit, uint64_t *msg_id, const char **why)
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
static uint64_t s_send(s_env_t *e, const char *unit)
{
    uint64_t id = 0;
    const char *why = NULL;
    int rc = s_offer(e, unit, &id, &why);
    if (rc != 0)
        fail_msg("report of %s refused: %s", unit, why);
    return id;
}

static const s_sent_t *s_sent(s_env_t *e, uint64_t msg_id)
{
    for (size_t i = 0; i < e->nsent; i++)
        if (e->sent[i].msg_id == msg_id)
            return &e->sent[i];
    fail_msg("no report %llu", (unsigned long long)msg_id);
    return NULL;
}

/* The report's bytes as a stored row's payload column (bytea, hex). */
static const char *s_payload_hex(s_env_t *e, uint64_t msg_id)
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
static const char *s_doc(s_env_t *e, const char *unit)
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

static const fake_db_job_t *s_head(srv_db_t *db)
{
    const fake_db_job_t *j = fake_db_job(db, 0);
    if (!j)
        fail_msg("no job queued on %s", fake_db_name(db));
    return j;
}

static uint32_t s_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Element i of the store statement's second parameter, the payloads as a
 * bytea[] in binary (array_recv's format), checked whole: one dimension of
 * n elements from 1, none NULL, nothing after the last. */
static const unsigned char *s_payload_at(const fake_db_stmt_t *st, size_t n, size_t i, size_t *len)
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
static json_t *s_param(const fake_db_stmt_t *st)
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

/* Asserts the head job of db is a CONTEXT segment: one document read per
 * unit in docs (NULL-terminated), then the context over exactly ids, in
 * order. */
static void s_expect_context(srv_db_t *db, const char *const *docs, const uint64_t *ids, size_t n)
{
    const fake_db_job_t *j = s_head(db);
    size_t ndocs = 0;
    while (docs && docs[ndocs])
        ndocs++;
    assert_true(j->segment);
    if (j->n != ndocs + 1)
        fail_msg("context segment of %zu statements, expected %zu document reads and the context",
                 j->n, ndocs);
    for (size_t k = 0; k < ndocs; k++) {
        assert_string_equal(j->stmts[k].name, S_DOC_STMT);
        assert_int_equal(j->stmts[k].nparams, 1);
        assert_string_equal(j->stmts[k].values[0], docs[k]);
    }
    const fake_db_stmt_t *st = &j->stmts[ndocs];
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
static void s_expect_store(s_env_t *e, srv_db_t *db, const uint64_t *ids, size_t n)
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
    }
    json_decref(a);
}

/* Whether the head STORE segment of db holds msg_id. */
static int s_store_has(srv_db_t *db, uint64_t msg_id)
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
static PGresult *s_rows(s_env_t *e, const fake_db_stmt_t *st, s_row_fn *fn, int stored)
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
static void s_answer_context(s_env_t *e, srv_db_t *db, s_row_fn *fn, const char *no_doc)
{
    const fake_db_job_t *j = s_head(db);
    assert_true(j->segment && j->n >= 1);
    PGresult **res = cchc_calloc(j->n, sizeof *res);
    for (size_t k = 0; k + 1 < j->n; k++) {
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
static void s_answer_store(s_env_t *e, srv_db_t *db, s_row_fn *fn)
{
    const fake_db_job_t *j = s_head(db);
    assert_true(j->segment && j->n == 1);
    fake_db_finish1(db, s_rows(e, &j->stmts[0], fn, 1));
}

/* The report id the default store rows give msg_id. */
static int64_t s_rid(uint64_t msg_id)
{
    return 1000 + (int64_t)msg_id;
}

static srv_db_t *s_lane_db(s_env_t *e, size_t k)
{
    return srv_batch_db(e->batch, k);
}

static srv_counters_t *s_counters(s_env_t *e)
{
    return srv_router_counters(e->router);
}

/* ---- IDLE -> CONTEXT ------------------------------------------------------------------------ */

/* The store connections are made and started by the batch, one per lane,
 * with the three statements prepared; a connection that cannot be made is
 * named in the error. */
static void test_lanes_made(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.lanes = 3});
    assert_int_equal(srv_batch_dbs(e->batch), 3);
    /* The units' connection and three lanes. */
    assert_int_equal(fake_db_count(), 4);
    for (size_t k = 0; k < 3; k++) {
        srv_db_t *db = s_lane_db(e, k);
        assert_ptr_not_equal(db, e->main_db);
        assert_string_equal(fake_db_name(db), "cchc-server-store");
        assert_true(srv_db_ready(db));
        assert_int_equal(fake_db_prepared(db), 3);
        assert_string_equal(fake_db_prepared_name(db, 0), S_CONTEXT_STMT);
        assert_string_equal(fake_db_prepared_name(db, 1), S_STORE_STMT);
        assert_string_equal(fake_db_prepared_name(db, 2), S_DOC_STMT);
    }
    srv_batch_t *b = s_batch_new(e);
    fake_db_fail_connect(srv_batch_db(b, 1), "connection refused");
    char err[256] = "";
    assert_int_equal(srv_batch_connect(b, 10, err, sizeof err), CCHC_EAGAIN);
    assert_string_equal(err, "store connection 2: connection refused");
    srv_batch_destroy(&b);
    assert_null(b);
    s_env_end(e);
}

static int s_no_extra(s_env_t *e, uint64_t id, const char **cells)
{
    (void)e;
    (void)id;
    cells[5] = NULL;
    return 1;
}

/* IDLE -> CONTEXT when batch_max_rows reports wait: not before. (The
 * context gives no extra document: validated against the unit's alone.) */
static void test_due_when_full(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 3, .delay_ms = 1000});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-a");
    assert_int_equal(fake_db_jobs(db), 0);
    int64_t now = cchc_clock_mono_ms(), t = srv_batch_next_timer(e->batch);
    assert_true(t > now && t <= now + 1000);
    srv_batch_on_timer(e->batch, now);
    assert_int_equal(fake_db_jobs(db), 0);
    uint64_t c = s_send(e, "xa-a");
    assert_int_equal(fake_db_jobs(db), 1);
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(a, b, c));
    assert_int_equal(srv_batch_next_timer(e->batch), -1);
    assert_int_equal(s_counters(e)->batches, 1);
    assert_int_equal(s_counters(e)->batch_rows, 3);
    assert_int_equal(fake_db_jobs(e->main_db), 0);
    s_answer_context(e, db, s_no_extra, NULL);
    s_expect_store(e, db, IDS(a, b, c));
    s_answer_store(e, db, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    s_expect_ack(e, b, s_rid(b), 0);
    s_expect_ack(e, c, s_rid(c), 0);
    s_env_end(e);
}

/* The lane's batch comes due delay_ms after the report sent at `before`, not
 * sooner: waits for it and starts it. */
static void s_due_after(s_env_t *e, srv_db_t *db, int64_t before, int64_t delay_ms)
{
    int64_t t = srv_batch_next_timer(e->batch);
    assert_true(t >= before + delay_ms && t <= cchc_clock_mono_ms() + delay_ms);
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
    if (cchc_clock_mono_ms() < t)
        assert_int_equal(fake_db_jobs(db), 0);
    while (cchc_clock_mono_ms() < t)
        s_wait_ms(5);
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
}

/* IDLE -> CONTEXT when the oldest has waited batch_max_delay_ms (the first
 * batch is taken as under load), or at once when the lane's last batch was
 * light (under an eighth of batch_max_rows), after the burst that brought the
 * reports; after a batch of an eighth or more, the delay holds again. */
static void test_due_after_delay(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 16, .delay_ms = 30});
    srv_db_t *db = s_lane_db(e, 0);
    int64_t before = cchc_clock_mono_ms();
    uint64_t a = s_send(e, "xa-a");
    s_due_after(e, db, before, 30);
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(a));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    /* One report, under 16 / 8: the next batch is due at once, and takes the
     * reports of the burst (not the first alone from srv_batch_add). */
    uint64_t b = s_send(e, "xa-a"), c = s_send(e, "xa-a");
    assert_int_equal(fake_db_jobs(db), 0);
    assert_true(srv_batch_next_timer(e->batch) <= cchc_clock_mono_ms());
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
    s_expect_context(db, NULL, IDS(b, c));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_expect_ack(e, b, s_rid(b), 0);
    s_expect_ack(e, c, s_rid(c), 0);
    /* Two reports, an eighth of 16: the delay holds again. */
    before = cchc_clock_mono_ms();
    uint64_t d = s_send(e, "xa-a");
    s_due_after(e, db, before, 30);
    s_expect_context(db, NULL, IDS(d));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_expect_ack(e, d, s_rid(d), 0);
    s_env_end(e);
}

/* IDLE -> CONTEXT at once when draining, whatever the batch's size. */
static void test_due_draining(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 100, .delay_ms = 1000});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-a");
    assert_int_equal(fake_db_jobs(db), 0);
    srv_batch_drain(e->batch);
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(a, b));
    /* One batch at a time per lane: the next gathers meanwhile. */
    uint64_t c = s_send(e, "xa-a");
    assert_int_equal(fake_db_jobs(db), 1);
    s_answer_context(e, db, NULL, NULL);
    s_expect_store(e, db, IDS(a, b));
    s_answer_store(e, db, NULL);
    /* Draining: the next batch goes as soon as the previous one is done. */
    s_expect_context(db, NULL, IDS(c));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_expect_ack(e, c, s_rid(c), 0);
    s_env_end(e);
}

/* ---- CONTEXT ----------------------------------------------------------------------------------
 */

/* CONTEXT sync, some validated -> STORE; STORE committed -> answered after
 * the sync, on_commit once; no range left -> IDLE, and the next batch goes.
 * The document read with the batch is kept: the unit's next batch reads
 * none. */
static void test_context_store_commit(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 2});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-b");
    s_expect_context(db, (const char *[]){"xa-a", "xa-b", NULL}, IDS(a, b));
    const char *param = s_keep(e, cchc_strdup(s_head(db)->stmts[2].values[0]));
    assert_non_null(strstr(param, "\"unit\":\"xa-a\""));
    assert_non_null(strstr(param, "\"type\":\"CCHC_DK\""));
    assert_non_null(strstr(param, "\"period\":\"2024S1\""));
    s_answer_context(e, db, NULL, NULL);
    s_expect_store(e, db, IDS(a, b));
    /* Nothing is answered before the store's sync. */
    s_unanswered(e, a);
    s_unanswered(e, b);
    assert_int_equal(srv_batch_pending(e->batch), 2);
    assert_int_equal(e->commits, 0);
    /* The next batch gathers while this one is stored. */
    uint64_t c = s_send(e, "xa-a"), d = s_send(e, "xa-b");
    assert_int_equal(fake_db_jobs(db), 1);
    s_answer_store(e, db, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    s_expect_ack(e, b, s_rid(b), 0);
    assert_int_equal(e->commits, 1);
    assert_int_equal(s_counters(e)->stored, 2);
    assert_int_equal(s_counters(e)->accepted, 2);
    /* The documents are kept: no read this time. */
    s_expect_context(db, NULL, IDS(c, d));
    s_answer_context(e, db, NULL, NULL);
    s_expect_store(e, db, IDS(c, d));
    s_answer_store(e, db, NULL);
    s_expect_ack(e, c, s_rid(c), 0);
    s_expect_ack(e, d, s_rid(d), 0);
    assert_int_equal(e->commits, 2);
    assert_int_equal(srv_batch_pending(e->batch), 0);
    s_env_end(e);
}

/* Sends one report of the fixture `name` with its subject field (task or
 * inspection) set to subject (NULL: as it is). */
static uint64_t s_send_kind(s_env_t *e, const char *unit, const char *name, const char *field,
                            const char *subject)
{
    json_t *keep = e->fixture;
    e->fixture = s_fixture(name);
    if (field)
        json_object_set_new(e->fixture, field, json_string(subject));
    uint64_t id = s_send(e, unit);
    json_decref(e->fixture);
    e->fixture = keep;
    return id;
}

/* The "kept" flag of the context's object of ord i (0 or 1). */
static int s_kept(srv_db_t *db, size_t i)
{
    const fake_db_job_t *j = s_head(db);
    json_t *a = s_param(&j->stmts[j->n - 1]);
    json_t *k = json_object_get(json_array_get(a, i), "kept");
    int kept = json_is_true(k);
    if (k && !kept)
        fail_msg("\"kept\" is %s, expected true or absent", json_dumps(k, JSON_ENCODE_ANY));
    json_decref(a);
    return kept;
}

/* The context statement reads a report's task or inspection only when the
 * unit's kept context does not hold it (026): not at the unit's first
 * batch (its document is read in the same segment), nor for a task or an
 * inspection the document lacks; a periodic report names neither. */
static void test_context_kept(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 1});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a");
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(a));
    assert_false(s_kept(db, 0));
    s_answer_context(e, db, NULL, NULL);
    s_expect_store(e, db, IDS(a));
    s_answer_store(e, db, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    struct {
        const char *fixture, *field, *subject;
        int kept;
    } cases[] = {
        {"periodic.json", NULL, NULL, 1},
        {"task_progress.json", "task", "KH87-07", 1},
        {"task_progress.json", "task", "KH87-99", 0},
        {"remediation.json", "inspection", "KT-2024-05", 1},
        {"remediation.json", "inspection", "KT-2099-01", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t id = s_send_kind(e, "xa-a", cases[i].fixture, cases[i].field, cases[i].subject);
        s_expect_context(db, NULL, IDS(id));
        if (s_kept(db, 0) != cases[i].kept)
            fail_msg("%s %s: kept %d, expected %d", cases[i].fixture,
                     cases[i].subject ? cases[i].subject : "", !cases[i].kept, cases[i].kept);
        s_answer_context(e, db, NULL, NULL);
        s_expect_store(e, db, IDS(id));
        s_answer_store(e, db, NULL);
    }
    s_env_end(e);
}

static uint64_t s_dup_a, s_dup_b, s_dup_c;

static int s_stored_before(s_env_t *e, uint64_t id, const char **cells)
{
    if (id == s_dup_a) {
        cells[1] = "77", cells[2] = "accepted", cells[3] = "[]";
        cells[4] = s_payload_hex(e, id);
    } else if (id == s_dup_b) {
        cells[1] = "78", cells[2] = "rejected";
        cells[3] = "[{\"code\":\"E016\",\"path\":\"$.overdue_dossiers[0]\","
                   "\"message_vi\":\"x\",\"message_en\":\"x\"}]";
        cells[4] = s_payload_hex(e, id);
    } else if (id == s_dup_c) {
        cells[1] = "79", cells[2] = "accepted", cells[3] = "[]";
        cells[4] = "\\x0a00"; /* another message under the same id */
    }
    return 1;
}

/* CONTEXT sync, none to store -> IDLE: every report answered from the row
 * of its earlier delivery (Ack duplicate, its stored findings, E008 for a
 * reused id); nothing stored, no on_commit; the next batch goes at once. */
static void test_context_none_to_store(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 3});
    srv_db_t *db = s_lane_db(e, 0);
    s_dup_a = s_send(e, "xa-a");
    s_dup_b = s_send(e, "xa-a");
    s_dup_c = s_send(e, "xa-a");
    uint64_t d = s_send(e, "xa-a"), f = s_send(e, "xa-a"), g = s_send(e, "xa-a");
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(s_dup_a, s_dup_b, s_dup_c));
    s_answer_context(e, db, s_stored_before, NULL);
    s_expect_ack(e, s_dup_a, 77, 1);
    const s_answer_t *x =
        s_expect_nack(e, s_dup_b, CCHC__V1__NACK_REASON__NACK_INVALID, "breaks the rules");
    assert_string_equal(x->code, "E016");
    x = s_expect_nack(e, s_dup_c, CCHC__V1__NACK_REASON__NACK_INVALID, "reused");
    assert_string_equal(x->code, "E008");
    assert_int_equal(e->commits, 0);
    assert_int_equal(s_counters(e)->duplicates, 1);
    /* IDLE, and the three waiting are a full batch: they go now. */
    s_expect_context(db, NULL, IDS(d, f, g));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    assert_int_equal(e->commits, 1);
    s_env_end(e);
}

static uint64_t s_missing;

static int s_leave_out(s_env_t *e, uint64_t id, const char **cells)
{
    (void)e;
    (void)cells;
    return id != s_missing;
}

/* CONTEXT sync, the context statement failed -> IDLE: every report of the
 * batch answered NACK_BUSY (the statement is the batch's: no report is to
 * blame, and the agents resend), whatever the SQLSTATE; then the next
 * batch goes. */
static void test_context_failed(void **state)
{
    (void)state;
    static const char *const states[] = {"57014", "22P02", "23505"};
    s_env_t *e = s_env_new((s_opts_t){.rows = 2});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-a");
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        uint64_t c = s_send(e, "xa-a"), d = s_send(e, "xa-a");
        const fake_db_job_t *j = s_head(db);
        PGresult *res[2] = {NULL, fake_db_error(states[i], "context failed")};
        if (j->n == 2) {
            const char *cell[1] = {s_doc(e, "xa-a")};
            res[0] = fake_db_tuples(1, 1, cell);
            fake_db_finish(db, res, 2);
        } else {
            fake_db_finish(db, &res[1], 1);
        }
        s_expect_nack(e, a, CCHC__V1__NACK_REASON__NACK_BUSY, NULL);
        s_expect_nack(e, b, CCHC__V1__NACK_REASON__NACK_BUSY, NULL);
        assert_int_equal(e->commits, 0);
        s_expect_context(db, NULL, IDS(c, d));
        a = c, b = d;
    }
    /* A context of the wrong number of rows is no answer either. */
    s_missing = b;
    s_answer_context(e, db, s_leave_out, NULL);
    s_expect_nack(e, a, CCHC__V1__NACK_REASON__NACK_BUSY, "cannot check reports");
    s_expect_nack(e, b, CCHC__V1__NACK_REASON__NACK_BUSY, "cannot check reports");
    /* A document read that fails aborts the rest of the segment. */
    a = s_send(e, "xa-z"), b = s_send(e, "xa-z");
    s_expect_context(db, (const char *[]){"xa-z", NULL}, IDS(a, b));
    PGresult *res[2] = {fake_db_error("XX000", "doc failed"), fake_db_aborted()};
    fake_db_finish(db, res, 2);
    s_expect_nack(e, a, CCHC__V1__NACK_REASON__NACK_BUSY, NULL);
    s_expect_nack(e, b, CCHC__V1__NACK_REASON__NACK_BUSY, NULL);
    assert_int_equal(fake_db_jobs(db), 0);
    s_env_end(e);
}

static uint64_t s_bad_extra;

static int s_not_json(s_env_t *e, uint64_t id, const char **cells)
{
    (void)e;
    if (id == s_bad_extra)
        cells[5] = "{not json";
    return 1;
}

/* CONTEXT sync: a report whose unit has no document (no context to
 * validate against), or whose extra document is not JSON, is answered
 * NACK_BUSY (our SQL's fault, not the officer's); the others of the batch
 * go on to STORE. The unit's document is read again with its next batch. */
static void test_context_no_document(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 2});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-b");
    s_expect_context(db, (const char *[]){"xa-a", "xa-b", NULL}, IDS(a, b));
    s_answer_context(e, db, NULL, "xa-b");
    s_expect_nack(e, b, CCHC__V1__NACK_REASON__NACK_BUSY, "cannot check reports");
    s_expect_store(e, db, IDS(a));
    s_answer_store(e, db, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    uint64_t c = s_send(e, "xa-a"), d = s_send(e, "xa-b");
    s_expect_context(db, (const char *[]){"xa-b", NULL}, IDS(c, d));
    s_bad_extra = c;
    s_answer_context(e, db, s_not_json, NULL);
    s_expect_nack(e, c, CCHC__V1__NACK_REASON__NACK_BUSY, "cannot check reports");
    s_expect_store(e, db, IDS(d));
    s_answer_store(e, db, NULL);
    s_expect_ack(e, d, s_rid(d), 0);
    s_env_end(e);
}

/* ---- STORE ------------------------------------------------------------------------------------
 */

/* STORE failed on a transient SQLSTATE: sent again whole, the same
 * statement, S_TRANSIENT_RETRIES (3) times; then split in halves, each with
 * its own retries; a range of one that still fails is answered by its
 * error (reason by its SQLSTATE's class). */
static void s_transient(const char *sqlstate, Cchc__V1__NackReason last)
{
    s_env_t *e = s_env_new((s_opts_t){.rows = 2});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-a");
    s_answer_context(e, db, NULL, NULL);
    s_expect_store(e, db, IDS(a, b));
    const char *first = s_keep(e, cchc_strdup(s_head(db)->stmts[0].values[0]));
    for (int i = 0; i < 3; i++) {
        fake_db_finish1(db, fake_db_error(sqlstate, "could not serialize"));
        s_expect_store(e, db, IDS(a, b));
        assert_string_equal(s_head(db)->stmts[0].values[0], first);
        s_unanswered(e, a);
        s_unanswered(e, b);
    }
    assert_int_equal(s_counters(e)->batch_splits, 0);
    fake_db_finish1(db, fake_db_error(sqlstate, "could not serialize"));
    assert_int_equal(s_counters(e)->batch_splits, 1);
    s_expect_store(e, db, IDS(a));
    s_answer_store(e, db, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    assert_int_equal(e->commits, 1);
    s_expect_store(e, db, IDS(b));
    for (int i = 0; i < 3; i++) {
        fake_db_finish1(db, fake_db_error(sqlstate, "could not serialize"));
        s_expect_store(e, db, IDS(b));
        s_unanswered(e, b);
    }
    fake_db_finish1(db, fake_db_error(sqlstate, "could not serialize"));
    s_expect_nack(e, b, last, sqlstate);
    assert_int_equal(fake_db_jobs(db), 0);
    assert_int_equal(e->commits, 1);
    s_env_end(e);
}

static void test_store_deadlock(void **state)
{
    (void)state;
    s_transient("40P01", CCHC__V1__NACK_REASON__NACK_BUSY);
}

static void test_store_serialization(void **state)
{
    (void)state;
    s_transient("40001", CCHC__V1__NACK_REASON__NACK_BUSY);
}

/* A unique violation is another server storing the same message: even
 * alone after its retries, the report is answered BUSY (resent, it is
 * answered from that row), never set aside as invalid. */
static void test_store_unique_violation(void **state)
{
    (void)state;
    s_transient("23505", CCHC__V1__NACK_REASON__NACK_BUSY);
}

/* Plays a store that fails, with sqlstate, whenever its range holds poison;
 * records each range sent (its first msg_id and size) in log. */
static size_t s_store_until_done(s_env_t *e, srv_db_t *db, uint64_t poison, const char *sqlstate,
                                 uint64_t log[][2], size_t cap)
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

/* STORE failed, n > 1: replaced by its halves, the first on top, until the
 * poison report is alone and answered by its error (NACK_INVALID for a data
 * SQLSTATE); the others are stored and acked; on_commit once per committed
 * range. */
static void test_store_split_poison(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 5});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t id[5];
    for (int i = 0; i < 5; i++)
        id[i] = s_send(e, "xa-a");
    s_answer_context(e, db, NULL, NULL);
    s_expect_store(e, db, id, 5);
    uint64_t log[16][2];
    size_t n = s_store_until_done(e, db, id[2], "22023", log, 16);
    /* [1..5] fails: [1,2] then [3..5]; [3..5] fails: [3] then [4,5]. */
    const uint64_t want[][2] = {{id[0], 5}, {id[0], 2}, {id[2], 3}, {id[2], 1}, {id[3], 2}};
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(log[i][0], want[i][0]);
        assert_int_equal(log[i][1], want[i][1]);
    }
    s_expect_ack(e, id[0], s_rid(id[0]), 0);
    s_expect_ack(e, id[1], s_rid(id[1]), 0);
    s_expect_nack(e, id[2], CCHC__V1__NACK_REASON__NACK_INVALID, "22023");
    s_expect_ack(e, id[3], s_rid(id[3]), 0);
    s_expect_ack(e, id[4], s_rid(id[4]), 0);
    assert_int_equal(e->commits, 2);
    assert_int_equal(s_counters(e)->batch_splits, 2);
    /* A failure that is the server's (disk full), alone: NACK_BUSY. */
    for (int i = 0; i < 4; i++)
        id[i] = s_send(e, "xa-a");
    uint64_t x = s_send(e, "xa-a");
    s_answer_context(e, db, NULL, NULL);
    n = s_store_until_done(e, db, id[0], "53100", log, 16);
    const uint64_t want2[][2] = {{id[0], 5}, {id[0], 2}, {id[0], 1}, {id[1], 1}, {id[2], 3}};
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(log[i][0], want2[i][0]);
        assert_int_equal(log[i][1], want2[i][1]);
    }
    s_expect_nack(e, id[0], CCHC__V1__NACK_REASON__NACK_BUSY, "53100");
    s_expect_ack(e, x, s_rid(x), 0);
    assert_int_equal(e->commits, 4);
    s_env_end(e);
}

/* STORE sync with a row missing: not committed as far as we know (the
 * statement's answer is incomplete): split like a failure; alone, answered
 * NACK_BUSY. */
static void test_store_rows_missing(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 2});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-a");
    s_missing = b;
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, s_leave_out);
    s_unanswered(e, a);
    s_expect_store(e, db, IDS(a));
    s_answer_store(e, db, s_leave_out);
    s_expect_ack(e, a, s_rid(a), 0);
    s_expect_store(e, db, IDS(b));
    s_answer_store(e, db, s_leave_out);
    s_expect_nack(e, b, CCHC__V1__NACK_REASON__NACK_BUSY, "not stored");
    assert_int_equal(e->commits, 1);
    s_env_end(e);
}

static uint64_t s_rejected;

static int s_reject(s_env_t *e, uint64_t id, const char **cells)
{
    (void)e;
    if (id == s_rejected) {
        cells[3] = "rejected";
        cells[4] = "[{\"code\":\"E016\",\"path\":\"$\",\"message_vi\":\"x\","
                   "\"message_en\":\"x\"}]";
    }
    return 1;
}

/* STORE committed with a report the rules refused: stored as rejected,
 * answered NACK_INVALID with its findings, in the same commit. */
static void test_store_rejected(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 2});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a");
    s_rejected = s_send(e, "xa-a");
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, s_reject);
    s_expect_ack(e, a, s_rid(a), 0);
    const s_answer_t *x =
        s_expect_nack(e, s_rejected, CCHC__V1__NACK_REASON__NACK_INVALID, "breaks the rules");
    assert_string_equal(x->code, "E016");
    assert_int_equal(e->commits, 1);
    assert_int_equal(s_counters(e)->rejected, 1);
    s_env_end(e);
}

/* ---- WAIT_DB -----------------------------------------------------------------------------------
 */

/* CONTEXT, connection lost -> WAIT_DB: nothing answered, the lane's new
 * reports refused; the lane's on_connect resends the same context. */
static void test_context_lost(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 2, .lanes = 2});
    srv_db_t *db = s_lane_db(e, 0), *other = s_lane_db(e, 1);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-a");
    uint64_t c = s_send(e, "xa-b"); /* the other lane */
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(a, b));
    const char *first = s_keep(e, cchc_strdup(s_head(db)->stmts[1].values[0]));
    fake_db_lose(db);
    s_unanswered(e, a);
    s_unanswered(e, b);
    assert_int_equal(srv_batch_pending(e->batch), 3);
    uint64_t refused = 0;
    const char *why = NULL;
    assert_int_equal(s_offer(e, "xa-a", &refused, &why), CCHC_EFULL);
    assert_string_equal(why, "database unavailable; resend later");
    assert_int_equal(s_counters(e)->refused_busy_db, 1);
    uint64_t d = s_send(e, "xa-b"); /* its lane is up */
    s_expect_context(other, (const char *[]){"xa-b", NULL}, IDS(c, d));
    fake_db_reconnect(db);
    assert_int_equal(s_counters(e)->db_reconnects, 1);
    assert_int_equal(s_counters(e)->resent_batches, 1);
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(a, b));
    assert_string_equal(s_head(db)->stmts[1].values[0], first);
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_answer_context(e, other, NULL, NULL);
    s_answer_store(e, other, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    s_expect_ack(e, b, s_rid(b), 0);
    s_expect_ack(e, c, s_rid(c), 0);
    s_expect_ack(e, d, s_rid(d), 0);
    s_env_end(e);
}

/* STORE, connection lost -> WAIT_DB; on_connect resends the same stage:
 * the range on top of the split stack, and the rest of the stack after. */
static void test_store_lost(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 4});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t id[4];
    for (int i = 0; i < 4; i++)
        id[i] = s_send(e, "xa-a");
    s_answer_context(e, db, NULL, NULL);
    s_expect_store(e, db, id, 4);
    fake_db_finish1(db, fake_db_error("22023", "bad value")); /* id[3] is the poison */
    s_expect_store(e, db, IDS(id[0], id[1]));
    const char *half = s_keep(e, cchc_strdup(s_head(db)->stmts[0].values[0]));
    fake_db_lose(db);
    s_pump(e);
    assert_int_equal(e->nanswers, 0);
    assert_int_equal(e->commits, 0);
    fake_db_reconnect(db);
    assert_int_equal(s_counters(e)->resent_batches, 1);
    s_expect_store(e, db, IDS(id[0], id[1]));
    assert_string_equal(s_head(db)->stmts[0].values[0], half);
    s_answer_store(e, db, NULL);
    assert_int_equal(e->commits, 1);
    s_expect_store(e, db, IDS(id[2], id[3]));
    /* Lost again in the second half, before its split. */
    fake_db_lose(db);
    fake_db_reconnect(db);
    s_expect_store(e, db, IDS(id[2], id[3]));
    uint64_t log[8][2];
    s_store_until_done(e, db, id[3], "22023", log, 8);
    s_expect_ack(e, id[0], s_rid(id[0]), 0);
    s_expect_ack(e, id[1], s_rid(id[1]), 0);
    s_expect_ack(e, id[2], s_rid(id[2]), 0);
    s_expect_nack(e, id[3], CCHC__V1__NACK_REASON__NACK_INVALID, "22023");
    assert_int_equal(e->commits, 2);
    assert_int_equal(s_counters(e)->db_reconnects, 2);
    s_env_end(e);
}

/* The lane's connection lost while reports wait (IDLE): no batch starts
 * without it, and none is due; on_connect starts it. */
static void test_idle_lost(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 3});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a");
    fake_db_lose(db);
    srv_batch_drain(e->batch);
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
    assert_int_equal(fake_db_jobs(db), 0);
    assert_int_equal(fake_db_refused(db), 0);
    assert_int_equal(srv_batch_next_timer(e->batch), -1);
    fake_db_reconnect(db);
    assert_int_equal(s_counters(e)->resent_batches, 0);
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(a));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    s_env_end(e);
}

/* ---- CCHC_EIO, abandon -------------------------------------------------------------------------
 */

/* CONTEXT, libpq refused to send -> IDLE: the batch answered NACK_BUSY; the
 * next batch goes. */
static void test_context_refused(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 2});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-a");
    uint64_t c = s_send(e, "xa-a"), d = s_send(e, "xa-a");
    fake_db_fail(db, CCHC_EIO);
    s_expect_nack(e, a, CCHC__V1__NACK_REASON__NACK_BUSY, "resend later");
    s_expect_nack(e, b, CCHC__V1__NACK_REASON__NACK_BUSY, "resend later");
    assert_true(srv_db_ready(db));
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(c, d));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_env_end(e);
}

/* STORE, libpq refused to send -> IDLE: every range the split stack still
 * holds is answered NACK_BUSY; what was committed before is not answered
 * again. */
static void test_store_refused(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 6});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t id[6];
    for (int i = 0; i < 6; i++)
        id[i] = s_send(e, "xa-a");
    s_answer_context(e, db, NULL, NULL);
    fake_db_finish1(db, fake_db_error("22023", "bad value")); /* [0..2] [3..5] */
    fake_db_finish1(db, fake_db_error("22023", "bad value")); /* [0] [1, 2] [3..5] */
    s_expect_store(e, db, IDS(id[0]));
    s_answer_store(e, db, NULL);
    s_expect_store(e, db, IDS(id[1], id[2]));
    uint64_t x = s_send(e, "xa-a");
    fake_db_fail(db, CCHC_EIO);
    s_expect_ack(e, id[0], s_rid(id[0]), 0);
    for (int i = 1; i < 6; i++)
        s_expect_nack(e, id[i], CCHC__V1__NACK_REASON__NACK_BUSY, "not stored");
    assert_int_equal(e->commits, 1);
    assert_int_equal(srv_batch_pending(e->batch), 1);
    s_unanswered(e, x);
    srv_batch_drain(e->batch);
    s_expect_context(db, NULL, IDS(x));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_env_end(e);
}

/* srv_batch_abandon -> IDLE: every report, waiting or in flight in any
 * stage (CONTEXT, STORE, WAIT_DB), answered NACK_BUSY exactly once; the
 * connections' work is abandoned. */
static void test_abandon(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 2, .lanes = 3});
    srv_db_t *l0 = s_lane_db(e, 0), *l1 = s_lane_db(e, 1), *l2 = s_lane_db(e, 2);
    uint64_t a1 = s_send(e, "xa-a"), a2 = s_send(e, "xa-a"); /* lane 1: STORE, split */
    s_answer_context(e, l0, NULL, NULL);
    fake_db_finish1(l0, fake_db_error("22023", "bad value"));
    s_expect_store(e, l0, IDS(a1));
    uint64_t b1 = s_send(e, "xa-b"), b2 = s_send(e, "xa-b"); /* lane 2: CONTEXT */
    s_expect_context(l1, (const char *[]){"xa-b", NULL}, IDS(b1, b2));
    uint64_t c1 = s_send(e, "xa-c"), c2 = s_send(e, "xa-c"); /* lane 3: WAIT_DB */
    fake_db_lose(l2);
    uint64_t d1 = s_send(e, "xa-d"); /* lane 1 again: waiting */
    assert_int_equal(srv_batch_pending(e->batch), 7);
    srv_batch_abandon(e->batch);
    const uint64_t all[] = {a1, a2, b1, b2, c1, c2, d1};
    for (size_t i = 0; i < 7; i++)
        s_expect_nack(e, all[i], CCHC__V1__NACK_REASON__NACK_BUSY, "server stopping");
    assert_int_equal(srv_batch_pending(e->batch), 0);
    assert_int_equal(fake_db_jobs(l0) + fake_db_jobs(l1) + fake_db_jobs(l2), 0);
    assert_false(srv_db_ready(l0));
    assert_int_equal(e->commits, 0);
    s_env_end(e);
}

/* ---- admission ---------------------------------------------------------------------------------
 */

/* srv_batch_admit refuses (counted, with why) when the server-wide cap
 * max_pending is full, when one connection's peer_max_inflight is, and when
 * the unit's store connection is away; other lanes and peers still get in. */
static void test_admit(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 100, .lanes = 2, .max_pending = 10, .peer_max = 6});
    const char *why = NULL;
    uint64_t id = 0;
    for (int i = 0; i < 6; i++)
        s_send(e, "xa-a");
    assert_int_equal(s_offer(e, "xa-a", &id, &why), CCHC_EFULL);
    assert_string_equal(why, "too many reports in flight from this connection; resend later");
    assert_int_equal(s_counters(e)->refused_busy_peer, 1);
    for (int i = 0; i < 4; i++)
        s_send(e, "xa-b");
    assert_int_equal(srv_batch_pending(e->batch), 10);
    assert_int_equal(s_offer(e, "xa-c", &id, &why), CCHC_EFULL);
    assert_string_equal(why, "server queue full; resend later");
    assert_int_equal(s_counters(e)->refused_busy_pending, 1);
    /* Answered: room again. */
    srv_batch_drain(e->batch);
    for (size_t k = 0; k < 2; k++) {
        s_answer_context(e, s_lane_db(e, k), NULL, NULL);
        s_answer_store(e, s_lane_db(e, k), NULL);
    }
    assert_int_equal(srv_batch_pending(e->batch), 0);
    /* xa-a and xa-c share lane 1 (xa-b has lane 2): its connection away. */
    fake_db_lose(s_lane_db(e, 0));
    assert_int_equal(s_offer(e, "xa-a", &id, &why), CCHC_EFULL);
    assert_string_equal(why, "database unavailable; resend later");
    assert_int_equal(s_offer(e, "xa-c", &id, &why), CCHC_EFULL);
    assert_int_equal(s_counters(e)->refused_busy_db, 2);
    s_send(e, "xa-b");
    /* Draining: the loop's next on_timer starts it. */
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
    s_answer_context(e, s_lane_db(e, 1), NULL, NULL);
    s_answer_store(e, s_lane_db(e, 1), NULL);
    fake_db_reconnect(s_lane_db(e, 0));
    s_send(e, "xa-a");
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
    s_answer_context(e, s_lane_db(e, 0), NULL, NULL);
    s_answer_store(e, s_lane_db(e, 0), NULL);
    s_env_end(e);
}

/* ---- lanes -------------------------------------------------------------------------------------
 */

/* Which lane's segments hold msg_id: the lane of each report, from the
 * context segments the test answered (recorded by s_ctx_lane). */
static int s_lane_of[S_MAX_SENT + 1];

static void s_record_lane(s_env_t *e, size_t k)
{
    const fake_db_job_t *j = s_head(s_lane_db(e, k));
    json_t *a = s_param(&j->stmts[j->n - 1]);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_int_t id = json_integer_value(json_object_get(json_array_get(a, i), "msg_id"));
        assert_true(id > 0 && id <= S_MAX_SENT);
        s_lane_of[id] = (int)k + 1;
    }
    json_decref(a);
}

/* Runs every lane's batches to the end, one stage at a time across lanes,
 * recording the lane of each report. */
static void s_run_lanes(s_env_t *e)
{
    for (int busy = 1; busy;) {
        busy = 0;
        for (size_t k = 0; k < srv_batch_dbs(e->batch); k++) {
            srv_db_t *db = s_lane_db(e, k);
            if (!fake_db_jobs(db))
                continue;
            busy = 1;
            const fake_db_job_t *j = s_head(db);
            if (strcmp(j->stmts[j->n - 1].name, S_CONTEXT_STMT) == 0) {
                s_record_lane(e, k);
                s_answer_context(e, db, NULL, NULL);
            } else {
                s_answer_store(e, db, NULL);
            }
        }
    }
    s_pump(e);
}

/* A unit is given, on its first report, to the lane with the fewest units,
 * and keeps it: all its reports go through that lane, and are stored in
 * the order they came, batch after batch; lanes do not wait on each other. */
static void test_lanes(void **state)
{
    (void)state;
    memset(s_lane_of, 0, sizeof s_lane_of);
    s_env_t *e = s_env_new((s_opts_t){.rows = 2, .lanes = 2});
    srv_db_t *l0 = s_lane_db(e, 0), *l1 = s_lane_db(e, 1);
    uint64_t u1a = s_send(e, "u1"), u1b = s_send(e, "u1"); /* u1: lane 1 */
    s_expect_context(l0, (const char *[]){"u1", NULL}, IDS(u1a, u1b));
    s_record_lane(e, 0);
    uint64_t u2a = s_send(e, "u2"); /* lane 2 */
    uint64_t u3a = s_send(e, "u3"); /* lane 1 (one unit each: the first) */
    uint64_t u1c = s_send(e, "u1");
    uint64_t u4a = s_send(e, "u4"); /* lane 2 */
    s_expect_context(l1, (const char *[]){"u2", "u4", NULL}, IDS(u2a, u4a));
    s_record_lane(e, 1);
    /* Lane 2 goes through both stages while lane 1 is still in CONTEXT. */
    s_answer_context(e, l1, NULL, NULL);
    s_answer_store(e, l1, NULL);
    s_expect_ack(e, u2a, s_rid(u2a), 0);
    s_expect_ack(e, u4a, s_rid(u4a), 0);
    s_unanswered(e, u1a);
    /* More of u2 while lane 1 is busy and lane 2 idle: still lane 2. */
    uint64_t u2b = s_send(e, "u2"), u2c = s_send(e, "u2");
    s_expect_context(l1, NULL, IDS(u2b, u2c));
    /* u1's third report waits behind its first two, in lane 1. */
    s_answer_context(e, l0, NULL, NULL);
    s_answer_store(e, l0, NULL);
    s_expect_context(l0, (const char *[]){"u3", NULL}, IDS(u3a, u1c));
    uint64_t u5a = s_send(e, "u5"); /* a tie: the first lane */
    uint64_t u6a = s_send(e, "u6"); /* then the second */
    uint64_t u1d = s_send(e, "u1"), u1e = s_send(e, "u1");
    s_run_lanes(e);
    /* u1e and u6a wait for a full batch: draining sends them. */
    s_unanswered(e, u1e);
    srv_batch_drain(e->batch);
    s_run_lanes(e);
    const uint64_t lane1[] = {u1a, u1b, u3a, u1c, u5a, u1d, u1e};
    const uint64_t lane2[] = {u2a, u4a, u2b, u2c, u6a};
    for (size_t i = 0; i < sizeof lane1 / sizeof lane1[0]; i++)
        if (s_lane_of[lane1[i]] != 1)
            fail_msg("msg_id %llu went through lane %d", (unsigned long long)lane1[i],
                     s_lane_of[lane1[i]]);
    for (size_t i = 0; i < sizeof lane2 / sizeof lane2[0]; i++)
        if (s_lane_of[lane2[i]] != 2)
            fail_msg("msg_id %llu went through lane %d", (unsigned long long)lane2[i],
                     s_lane_of[lane2[i]]);
    /* u1's reports were stored in the order they came. */
    const uint64_t u1[] = {u1a, u1b, u1c, u1d, u1e};
    size_t pos[5];
    for (size_t i = 0; i < 5; i++) {
        pos[i] = SIZE_MAX;
        for (size_t k = 0; k < e->nanswers; k++)
            if (e->answers[k].msg_id == u1[i])
                pos[i] = k;
        assert_true(pos[i] != SIZE_MAX);
        if (i)
            assert_true(pos[i] > pos[i - 1]);
    }
    s_env_end(e);
}

/* Units spread evenly over the lanes. */
static void test_lanes_spread(void **state)
{
    (void)state;
    memset(s_lane_of, 0, sizeof s_lane_of);
    s_env_t *e = s_env_new((s_opts_t){.rows = 100, .lanes = 3});
    char unit[16];
    uint64_t first[9];
    for (int i = 0; i < 9; i++) {
        snprintf(unit, sizeof unit, "xa-%d", i);
        first[i] = s_send(e, unit);
    }
    srv_batch_drain(e->batch);
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(fake_db_jobs(s_lane_db(e, k)), 1);
        s_record_lane(e, k);
    }
    int per_lane[4] = {0};
    for (int i = 0; i < 9; i++) {
        per_lane[s_lane_of[first[i]]]++;
        assert_int_equal(s_lane_of[first[i]], i % 3 + 1);
    }
    assert_int_equal(per_lane[1], 3);
    assert_int_equal(per_lane[2], 3);
    assert_int_equal(per_lane[3], 3);
    s_run_lanes(e);
    s_env_end(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lanes_made),
        cmocka_unit_test(test_due_when_full),
        cmocka_unit_test(test_due_after_delay),
        cmocka_unit_test(test_due_draining),
        cmocka_unit_test(test_context_store_commit),
        cmocka_unit_test(test_context_kept),
        cmocka_unit_test(test_context_none_to_store),
        cmocka_unit_test(test_context_failed),
        cmocka_unit_test(test_context_no_document),
        cmocka_unit_test(test_store_deadlock),
        cmocka_unit_test(test_store_serialization),
        cmocka_unit_test(test_store_unique_violation),
        cmocka_unit_test(test_store_split_poison),
        cmocka_unit_test(test_store_rows_missing),
        cmocka_unit_test(test_store_rejected),
        cmocka_unit_test(test_context_lost),
        cmocka_unit_test(test_store_lost),
        cmocka_unit_test(test_idle_lost),
        cmocka_unit_test(test_context_refused),
        cmocka_unit_test(test_store_refused),
        cmocka_unit_test(test_abandon),
        cmocka_unit_test(test_admit),
        cmocka_unit_test(test_lanes),
        cmocka_unit_test(test_lanes_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
