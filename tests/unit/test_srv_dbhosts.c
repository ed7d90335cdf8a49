/* test_srv_dbhosts.c: a multi-host conninfo taken apart for one host per
 * attempt: what is split and what is left to libpq, each host's parameters
 * (the conninfo's options over our defaults, its own host, hostaddr and
 * port), and the per-host timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "srv_dbhosts.h"

#include <stdlib.h>
#include <string.h>

static const char *const s_def_keys[] = {"connect_timeout", "fallback_application_name", NULL};
static const char *const s_def_vals[] = {"2", "cchc-server", NULL};

/* The value the parameters of host i give key (the last one wins, as in
 * libpq), or NULL. */
static const char *s_param(srv_dbhosts_t *h, size_t i, const char *key)
{
    const char *const *k, *const *v;
    srv_dbhosts_params(h, i, s_def_keys, s_def_vals, &k, &v);
    const char *found = NULL;
    for (size_t n = 0; k[n]; n++)
        if (strcmp(k[n], key) == 0)
            found = v[n];
    return found;
}

static int s_setup(void **state)
{
    (void)state;
    unsetenv("PGHOST");
    unsetenv("PGHOSTADDR");
    unsetenv("PGPORT");
    unsetenv("PGSERVICE");
    unsetenv("PGCONNECT_TIMEOUT");
    return 0;
}

static void test_left_to_libpq(void **state)
{
    (void)state;
    /* One host, or none: nothing to walk. */
    assert_null(srv_dbhosts_new("host=db1 port=5432 dbname=cchc"));
    assert_null(srv_dbhosts_new(""));
    assert_null(srv_dbhosts_new(NULL));
    /* What libpq refuses, it should say itself. */
    assert_null(srv_dbhosts_new("host=a,b port=1,2,3"));
    assert_null(srv_dbhosts_new("host=a,b hostaddr=127.0.0.1"));
    assert_null(srv_dbhosts_new("host=a,b bogus_keyword=1"));
    assert_null(srv_dbhosts_new("host='a,b"));
    /* A service file may name the hosts. */
    assert_null(srv_dbhosts_new("service=cchc host=a,b"));
    setenv("PGSERVICE", "cchc", 1);
    assert_null(srv_dbhosts_new("host=a,b"));
}

static void test_two_hosts(void **state)
{
    (void)state;
    srv_dbhosts_t *h = srv_dbhosts_new("host=10.0.0.1,10.0.0.2 port=5432,5433 user=cchc "
                                       "dbname=cchc target_session_attrs=read-write");
    assert_non_null(h);
    assert_int_equal(srv_dbhosts_count(h), 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(s_param(h, i, "host"), i ? "10.0.0.2" : "10.0.0.1");
        assert_string_equal(s_param(h, i, "port"), i ? "5433" : "5432");
        assert_string_equal(s_param(h, i, "user"), "cchc");
        assert_string_equal(s_param(h, i, "dbname"), "cchc");
        assert_string_equal(s_param(h, i, "target_session_attrs"), "read-write");
        assert_string_equal(s_param(h, i, "fallback_application_name"), "cchc-server");
        assert_string_equal(s_param(h, i, "connect_timeout"), "2");
        assert_null(s_param(h, i, "hostaddr"));
    }
    assert_int_equal(srv_dbhosts_timeout_ms(h, 2), 2000);
    srv_dbhosts_destroy(&h);
    assert_null(h);
    srv_dbhosts_destroy(&h); /* NULL is fine */
}

static void test_uri_and_one_port(void **state)
{
    (void)state;
    /* A URI; one port for every host; the conninfo's connect_timeout over
     * our default. */
    srv_dbhosts_t *h =
        srv_dbhosts_new("postgresql://cchc@pg-a,pg-b,pg-c:6432/cchc?target_session_attrs=read-write"
                        "&connect_timeout=7&application_name=srv1");
    assert_non_null(h);
    assert_int_equal(srv_dbhosts_count(h), 3);
    assert_string_equal(s_param(h, 0, "host"), "pg-a");
    assert_string_equal(s_param(h, 2, "host"), "pg-c");
    /* In a URI each host may have its port; pg-a and pg-b say none. */
    assert_string_equal(s_param(h, 2, "port"), "6432");
    assert_string_equal(s_param(h, 1, "connect_timeout"), "7");
    assert_string_equal(s_param(h, 1, "application_name"), "srv1");
    assert_int_equal(srv_dbhosts_timeout_ms(h, 2), 7000);
    srv_dbhosts_destroy(&h);

    h = srv_dbhosts_new("host=a,b port=6000 connect_timeout=1");
    assert_non_null(h);
    assert_string_equal(s_param(h, 0, "port"), "6000");
    assert_string_equal(s_param(h, 1, "port"), "6000");
    assert_int_equal(srv_dbhosts_timeout_ms(h, 2), 2000); /* libpq's floor */
    srv_dbhosts_destroy(&h);

    h = srv_dbhosts_new("host=a,b connect_timeout=0");
    assert_int_equal(srv_dbhosts_timeout_ms(h, 2), 0);
    srv_dbhosts_destroy(&h);
}

static void test_hostaddr_and_sockets(void **state)
{
    (void)state;
    srv_dbhosts_t *h =
        srv_dbhosts_new("host=/run/pg-a,db.example hostaddr=,192.0.2.7 port=5432,5433");
    assert_non_null(h);
    assert_string_equal(s_param(h, 0, "host"), "/run/pg-a");
    assert_string_equal(s_param(h, 0, "hostaddr"), "");
    assert_string_equal(s_param(h, 1, "host"), "db.example");
    assert_string_equal(s_param(h, 1, "hostaddr"), "192.0.2.7");
    srv_dbhosts_destroy(&h);
}

static void test_environment(void **state)
{
    (void)state;
    /* An empty conninfo uses PG*: the hosts come from PGHOST. */
    setenv("PGHOST", "a,b", 1);
    setenv("PGPORT", "5440,5441", 1);
    setenv("PGCONNECT_TIMEOUT", "4", 1);
    srv_dbhosts_t *h = srv_dbhosts_new("dbname=cchc");
    assert_non_null(h);
    assert_string_equal(s_param(h, 1, "host"), "b");
    assert_string_equal(s_param(h, 1, "port"), "5441");
    assert_int_equal(srv_dbhosts_timeout_ms(h, 2), 4000);
    srv_dbhosts_destroy(&h);
    /* The conninfo wins over the environment. */
    h = srv_dbhosts_new("host=c port=1");
    assert_null(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_left_to_libpq, s_setup),
        cmocka_unit_test_setup(test_two_hosts, s_setup),
        cmocka_unit_test_setup(test_uri_and_one_port, s_setup),
        cmocka_unit_test_setup(test_hostaddr_and_sockets, s_setup),
        cmocka_unit_test_setup(test_environment, s_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
