/* test_agt_endpoints.c: the agent's choice of server (agent/agt_endpoints.c)
 * over a real outbox, on injected times: when it moves (a failed attempt
 * after a loss, no handshake within heartbeat_timeout_ms), where to, the
 * backoff once every server failed, that a server that answers is never
 * left and a list of one never moves, and the records status reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agt_config.h"
#include "agt_endpoints.h"
#include "agt_outbox.h"
#include "cchc_clock.h"
#include "cchc_err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define S_WALL 1726624800000LL /* 2024-09-18T09:00:00+07:00 */

typedef struct {
    char dir[64];
    agt_config_t cfg;
    agt_outbox_t *outbox;
} s_env_t;

static s_env_t *s_env_new(const char *servers)
{
    s_env_t *e = calloc(1, sizeof *e);
    char path[128], err[256] = "";
    snprintf(e->dir, sizeof e->dir, "/tmp/cchc-test-eps-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(path, sizeof path, "%s/outbox.db", e->dir);
    e->outbox = agt_outbox_new(path, err, sizeof err);
    assert_non_null(e->outbox);
    e->cfg.heartbeat_timeout_ms = 30000;
    assert_int_equal(cchc_endpoints_parse(servers, &e->cfg.servers, err, sizeof err), CCHC_OK);
    cchc_clock_set(S_WALL);
    return e;
}

static void s_env_destroy(s_env_t *e)
{
    char cmd[128];
    agt_outbox_destroy(&e->outbox);
    cchc_endpoints_free(&e->cfg.servers);
    snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
    assert_int_equal(system(cmd), 0);
    free(e);
}

/* The JSON record under key (new reference, NULL when absent). */
static json_t *s_record(s_env_t *e, const char *key)
{
    char *text = NULL;
    assert_int_equal(agt_outbox_state_get(e->outbox, key, &text), CCHC_OK);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return o;
}

static void s_fail(agt_endpoints_t *eps, int64_t mono)
{
    agt_endpoints_attempt_event(eps, ZMQ_EVENT_CONNECT_DELAYED, mono);
    agt_endpoints_attempt_event(eps, ZMQ_EVENT_CONNECT_RETRIED, mono);
}

static void test_lost_then_moved(void **state)
{
    (void)state;
    s_env_t *e = s_env_new("tcp://a:1, tcp://b:2");
    agt_endpoints_t *eps = agt_endpoints_new(&e->cfg, e->outbox, 42);
    const char *from = NULL;
    assert_string_equal(agt_endpoints_current(eps), "tcp://a:1");
    agt_endpoints_down(eps, 1000);
    /* Trying a, nothing failed yet: no move. */
    assert_int_equal(agt_endpoints_tick(eps, 1100, &from), 0);
    /* a refuses: a move at once, to b. */
    s_fail(eps, 1200);
    assert_int_equal(agt_endpoints_tick(eps, 1200, &from), 1);
    assert_string_equal(from, "tcp://a:1");
    assert_string_equal(agt_endpoints_current(eps), "tcp://b:2");
    json_t *srv = s_record(e, AGT_OUTBOX_SERVER);
    assert_string_equal(json_string_value(json_object_get(srv, "endpoint")), "tcp://b:2");
    assert_true(json_is_false(json_object_get(srv, "connected")));
    assert_int_equal(json_array_size(json_object_get(srv, "endpoints")), 2);
    json_decref(srv);
    json_t *u = s_record(e, AGT_OUTBOX_UNREACHABLE);
    assert_non_null(u);
    assert_int_equal(json_integer_value(json_object_get(u, "attempts")), 1);
    json_decref(u);

    /* b answers: connected, the unreachable record goes, and a server that
     * answers is never left, however long. */
    agt_endpoints_attempt_event(eps, ZMQ_EVENT_CONNECTED, 1300);
    agt_endpoints_connected(eps, 1300);
    assert_null(s_record(e, AGT_OUTBOX_UNREACHABLE));
    srv = s_record(e, AGT_OUTBOX_SERVER);
    assert_string_equal(json_string_value(json_object_get(srv, "endpoint")), "tcp://b:2");
    assert_true(json_is_true(json_object_get(srv, "connected")));
    json_decref(srv);
    assert_int_equal(agt_endpoints_due(eps), INT64_MAX);
    assert_int_equal(agt_endpoints_tick(eps, 100000000, &from), 0);

    /* b is lost: it may come back (no move while libzmq redials)... */
    agt_endpoints_attempt_event(eps, ZMQ_EVENT_DISCONNECTED, 200000);
    assert_int_equal(agt_endpoints_tick(eps, 200500, &from), 0);
    /* ...until an attempt fails: a failed within the hold-down, but it is
     * the only other one (cycling): a. */
    s_fail(eps, 201000);
    assert_int_equal(agt_endpoints_tick(eps, 201000, &from), 1);
    assert_string_equal(from, "tcp://b:2");
    assert_string_equal(agt_endpoints_current(eps), "tcp://a:1");

    /* Events of the connection left behind are told apart. */
    assert_true(agt_endpoints_is_stale(eps, "tcp://b:2"));
    assert_false(agt_endpoints_is_stale(eps, "tcp://a:1"));

    agt_endpoints_stop(eps, 202000);
    srv = s_record(e, AGT_OUTBOX_SERVER);
    assert_int_equal(json_integer_value(json_object_get(srv, "stopped_ms")), S_WALL);
    json_decref(srv);
    agt_endpoints_destroy(&eps);
    assert_null(eps);
    s_env_destroy(e);
}

static void test_no_handshake(void **state)
{
    (void)state;
    s_env_t *e = s_env_new("tcp://a:1 tcp://b:2 tcp://c:3");
    agt_endpoints_t *eps = agt_endpoints_new(&e->cfg, e->outbox, 7);
    const char *from = NULL;
    agt_endpoints_down(eps, 0);
    /* A connect that hangs (a black hole, a frozen server): no failure seen,
     * the move comes after heartbeat_timeout_ms. */
    agt_endpoints_attempt_event(eps, ZMQ_EVENT_CONNECT_DELAYED, 0);
    assert_int_equal(agt_endpoints_tick(eps, 29999, &from), 0);
    assert_int_equal(agt_endpoints_tick(eps, 30000, &from), 1);
    assert_string_equal(agt_endpoints_current(eps), "tcp://b:2");
    /* A handshake that fails on b: the next, c (a failed just now). */
    agt_endpoints_attempt_event(eps, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, 30100);
    assert_int_equal(agt_endpoints_tick(eps, 30100, &from), 1);
    assert_string_equal(agt_endpoints_current(eps), "tcp://c:3");
    agt_endpoints_destroy(&eps);
    s_env_destroy(e);
}

static void test_backoff(void **state)
{
    (void)state;
    s_env_t *e = s_env_new("tcp://a:1, tcp://b:2");
    agt_endpoints_t *eps = agt_endpoints_new(&e->cfg, e->outbox, 99);
    const char *from = NULL;
    agt_endpoints_down(eps, 0);
    /* The first pass through the list is at once. */
    s_fail(eps, 10);
    assert_int_equal(agt_endpoints_tick(eps, 10, &from), 1);
    s_fail(eps, 20);
    assert_int_equal(agt_endpoints_tick(eps, 20, &from), 1);
    assert_string_equal(agt_endpoints_current(eps), "tcp://a:1");
    /* Every server failed: 1 s (plus up to a quarter), then 2 s, ... */
    s_fail(eps, 30);
    assert_int_equal(agt_endpoints_tick(eps, 30, &from), 0);
    assert_int_equal(agt_endpoints_tick(eps, 1019, &from), 0);
    assert_true(agt_endpoints_due(eps) >= 1020 && agt_endpoints_due(eps) <= 1270);
    assert_int_equal(agt_endpoints_tick(eps, 1270, &from), 1);
    s_fail(eps, 1300);
    assert_int_equal(agt_endpoints_tick(eps, 3269, &from), 0);
    assert_int_equal(agt_endpoints_tick(eps, 1270 + 2500, &from), 1);
    /* A handshake ends the backoff: the next loss moves at once again. */
    agt_endpoints_connected(eps, 5000);
    agt_endpoints_attempt_event(eps, ZMQ_EVENT_DISCONNECTED, 6000);
    s_fail(eps, 7000);
    assert_int_equal(agt_endpoints_tick(eps, 7000, &from), 1);
    agt_endpoints_destroy(&eps);
    s_env_destroy(e);
}

static void test_one_server_stays(void **state)
{
    (void)state;
    s_env_t *e = s_env_new("tcp://a:1");
    agt_endpoints_t *eps = agt_endpoints_new(&e->cfg, e->outbox, 1);
    const char *from = NULL;
    agt_endpoints_down(eps, 0);
    for (int i = 1; i <= 10; i++) {
        s_fail(eps, i * 100000);
        assert_int_equal(agt_endpoints_tick(eps, i * 100000, &from), 0);
    }
    assert_string_equal(agt_endpoints_current(eps), "tcp://a:1");
    assert_int_equal(agt_endpoints_attempts(eps), 10);
    /* What status shows of it: the one endpoint, the attempts. */
    json_t *u = s_record(e, AGT_OUTBOX_UNREACHABLE);
    assert_string_equal(json_string_value(json_object_get(u, "endpoint")), "tcp://a:1");
    assert_true(json_integer_value(json_object_get(u, "attempts")) >= 1);
    json_decref(u);
    agt_endpoints_stop(eps, 2000000);
    u = s_record(e, AGT_OUTBOX_UNREACHABLE);
    assert_int_equal(json_integer_value(json_object_get(u, "attempts")), 10);
    json_decref(u);
    agt_endpoints_destroy(&eps);
    s_env_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lost_then_moved),
        cmocka_unit_test(test_no_handshake),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_one_server_stays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
