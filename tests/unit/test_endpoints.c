/* test_endpoints.c: endpoint lists (agent.ini [server] endpoints, admin.ini
 * [watch] endpoints): parsing, the refusals that name the item and the fix,
 * the endpoint/endpoints pair, and which server is tried next. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cchc_endpoints.h"
#include "cchc_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_parse_separators(void **state)
{
    (void)state;
    cchc_endpoints_t l = {0};
    char err[256] = "";
    assert_int_equal(cchc_endpoints_parse(" tcp://a.example:7470,tcp://10.0.0.2:7471 ,\t"
                                          "tcp://[::1]:7472  tcp://b:1\n",
                                          &l, err, sizeof err),
                     CCHC_OK);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[0], "tcp://a.example:7470");
    assert_string_equal(l.v[1], "tcp://10.0.0.2:7471");
    assert_string_equal(l.v[2], "tcp://[::1]:7472");
    assert_string_equal(l.v[3], "tcp://b:1");
    char *joined = cchc_endpoints_join(&l);
    assert_string_equal(joined, "tcp://a.example:7470, tcp://10.0.0.2:7471, tcp://[::1]:7472, "
                                "tcp://b:1");
    free(joined);
    /* A list that parses is joined and parsed back to the same. */
    assert_int_equal(cchc_endpoints_parse("ipc:///run/cchc.sock", &l, err, sizeof err), CCHC_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0], "ipc:///run/cchc.sock");
    cchc_endpoints_free(&l);
    assert_int_equal(l.n, 0);
}

static void test_parse_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *text, *expect;
    } cases[] = {
        {"", "no server listed"},
        {" , ,", "no server listed"},
        {"district.example:7470", "\"district.example:7470\" does not begin with tcp://"},
        {"tcp://a:7470, udp://b:1", "\"udp://b:1\" does not begin with tcp://"},
        {"tcp://a", "has no HOST:PORT"},
        {"tcp://:7470", "has no HOST:PORT"},
        {"tcp://a:0", "no port 1-65535"},
        {"tcp://a:70000", "no port 1-65535"},
        {"tcp://a:74x", "no port 1-65535"},
        {"tcp://a:", "no port 1-65535"},
        {"tcp://*:7470", "* is for listening"},
        {"tcp://[::1:7470", "closing ]"},
        {"ipc://", "no path"},
        {"tcp://a:1, tcp://b:2, tcp://a:1", "\"tcp://a:1\" is listed twice"},
        {"tcp://a:1 tcp://a:2 tcp://a:3 tcp://a:4 tcp://a:5 tcp://a:6 tcp://a:7 tcp://a:8 "
         "tcp://a:9 tcp://a:10 tcp://a:11 tcp://a:12 tcp://a:13 tcp://a:14 tcp://a:15 tcp://a:16 "
         "tcp://a:17",
         "more than 16 servers"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cchc_endpoints_t l = {0};
        char err[256] = "";
        assert_int_equal(cchc_endpoints_parse(cases[i].text, &l, err, sizeof err), CCHC_EINVAL);
        if (!strstr(err, cases[i].expect))
            fail_msg("case %zu \"%s\": error \"%s\" lacks \"%s\"", i, cases[i].text, err,
                     cases[i].expect);
        assert_int_equal(l.n, 0);
    }
}

static void test_from_config(void **state)
{
    (void)state;
    cchc_endpoints_t l = {0};
    char err[512] = "";
    /* The old key alone: a list of one. */
    assert_int_equal(cchc_endpoints_from_config("agent.ini", "server", "tcp://a:1", "", "tcp://d:9",
                                                &l, err, sizeof err),
                     CCHC_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0], "tcp://a:1");
    /* The list alone. */
    assert_int_equal(cchc_endpoints_from_config("agent.ini", "server", NULL, "tcp://a:1,tcp://b:2",
                                                "tcp://d:9", &l, err, sizeof err),
                     CCHC_OK);
    assert_int_equal(l.n, 2);
    /* Neither: the default, or an error when there is none. */
    assert_int_equal(
        cchc_endpoints_from_config("agent.ini", "server", "", "", "tcp://d:9", &l, err, sizeof err),
        CCHC_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0], "tcp://d:9");
    assert_int_equal(
        cchc_endpoints_from_config("admin.ini", "watch", "", "", NULL, &l, err, sizeof err),
        CCHC_EINVAL);
    assert_non_null(strstr(err, "admin.ini: set [watch] endpoints"));
    /* Both: an error naming both keys. */
    assert_int_equal(cchc_endpoints_from_config("/etc/cchc/agent.ini", "server", "tcp://a:1",
                                                "tcp://b:2", "tcp://d:9", &l, err, sizeof err),
                     CCHC_EINVAL);
    assert_non_null(strstr(err, "/etc/cchc/agent.ini: [server] endpoint and [server] endpoints "
                                "are both set"));
    assert_int_equal(l.n, 0);
    /* A bad item names the key it came from. */
    assert_int_equal(cchc_endpoints_from_config("agent.ini", "server", NULL, "tcp://a:1, b:2",
                                                "tcp://d:9", &l, err, sizeof err),
                     CCHC_EINVAL);
    assert_non_null(strstr(err, "agent.ini: [server] endpoints: \"b:2\" does not begin"));
    /* Several under the old key: told to use the new one. */
    assert_int_equal(cchc_endpoints_from_config("agent.ini", "server", "tcp://a:1, tcp://b:2", NULL,
                                                "tcp://d:9", &l, err, sizeof err),
                     CCHC_EINVAL);
    assert_non_null(strstr(err, "call the key endpoints"));
    cchc_endpoints_free(&l);
}

static void test_next(void **state)
{
    (void)state;
    cchc_endpoints_t l = {0};
    char err[256] = "";
    const int64_t hold = 300000;
    assert_int_equal(cchc_endpoints_parse("tcp://a:1,tcp://b:2,tcp://c:3", &l, err, sizeof err),
                     CCHC_OK);
    /* a fails: b (never failed). b fails soon after: c, not a (a failed
     * within the hold-down). */
    assert_int_equal(cchc_endpoints_next(&l, 0, 1000, hold), 1);
    assert_int_equal(cchc_endpoints_next(&l, 1, 2000, hold), 2);
    /* c fails too: every other failed recently, so plain cycling: a, b, c. */
    assert_int_equal(cchc_endpoints_next(&l, 2, 3000, hold), 0);
    assert_int_equal(cchc_endpoints_next(&l, 0, 4000, hold), 1);
    assert_int_equal(cchc_endpoints_next(&l, 1, 5000, hold), 2);
    /* Long after (c worked meanwhile): c fails, back to the first, a. */
    assert_int_equal(cchc_endpoints_next(&l, 2, 5000 + hold, hold), 0);
    /* a fails at once: b's failure is old too, so b. */
    assert_int_equal(cchc_endpoints_next(&l, 0, 5001 + hold, hold), 1);
    /* b fails: a failed just now, c within the hold-down: cycling gives c. */
    assert_int_equal(cchc_endpoints_next(&l, 1, 5002 + hold, hold), 2);

    /* Two servers, the first dead: the agent on b, b blips: a is tried
     * (the only other), then b again. */
    assert_int_equal(cchc_endpoints_parse("tcp://a:1 tcp://b:2", &l, err, sizeof err), CCHC_OK);
    assert_int_equal(cchc_endpoints_next(&l, 0, 1000, hold), 1);
    assert_int_equal(cchc_endpoints_next(&l, 1, 9000, hold), 0);
    assert_int_equal(cchc_endpoints_next(&l, 0, 9500, hold), 1);

    /* One server: always itself. */
    assert_int_equal(cchc_endpoints_parse("tcp://a:1", &l, err, sizeof err), CCHC_OK);
    assert_int_equal(cchc_endpoints_next(&l, 0, 1000, hold), 0);
    assert_int_equal(cchc_endpoints_next(&l, 0, 2000, hold), 0);

    /* Events of another endpoint of the list are told apart. */
    assert_int_equal(cchc_endpoints_parse("tcp://a:1 tcp://b:2", &l, err, sizeof err), CCHC_OK);
    assert_true(cchc_endpoints_is_other(&l, 0, "tcp://b:2"));
    assert_false(cchc_endpoints_is_other(&l, 0, "tcp://a:1"));
    assert_false(cchc_endpoints_is_other(&l, 0, "tcp://10.0.0.9:1"));
    assert_false(cchc_endpoints_is_other(&l, 0, NULL));
    cchc_endpoints_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_separators),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_from_config),
        cmocka_unit_test(test_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
