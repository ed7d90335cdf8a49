/* test_config.c: the declarative INI loader: defaults, values, and refusals
 * that name the file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cchc_config.h"
#include "cchc_err.h"
#include "cchc_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char *endpoint;
    char *key;
    int64_t max_frame;
    int verbose;
    int level;
} s_cfg_t;

static const cchc_cfg_entry_t s_table[] = {
    {"server", "endpoint", CCHC_CFG_STRING, "tcp://*:7470", 0, 0, offsetof(s_cfg_t, endpoint),
     "where to listen"},
    {"server", "public_key", CCHC_CFG_PATH, NULL, 0, 0, offsetof(s_cfg_t, key), "key file"},
    {"server", "max_frame", CCHC_CFG_INT, "1048576", 1024, 67108864, offsetof(s_cfg_t, max_frame),
     "largest frame"},
    {"server", "verbose", CCHC_CFG_BOOL, "false", 0, 0, offsetof(s_cfg_t, verbose), ""},
    {"log", "level", CCHC_CFG_LOGLEVEL, "info", 0, 0, offsetof(s_cfg_t, level), ""},
};
#define S_N (sizeof s_table / sizeof s_table[0])

static char s_dir[64];
static char s_path[128];

static int s_setup(void **state)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/cchc-test-config-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    snprintf(s_path, sizeof s_path, "%s/test.ini", s_dir);
    return 0;
}

static int s_teardown(void **state)
{
    unlink(s_path);
    rmdir(s_dir);
    return 0;
}

static void s_write(const char *text)
{
    FILE *f = fopen(s_path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_values_and_defaults(void **state)
{
    s_write("; comment\n[server]\npublic_key = keys/server.pub\nmax_frame = 2048\n"
            "verbose = yes\n[log]\nlevel = debug\n");
    s_cfg_t c = {0};
    char err[256] = "";
    assert_int_equal(cchc_config_load(s_path, s_table, S_N, &c, err, sizeof err), CCHC_OK);
    assert_string_equal(c.endpoint, "tcp://*:7470");
    char want[200];
    snprintf(want, sizeof want, "%s/keys/server.pub", s_dir);
    assert_string_equal(c.key, want); /* relative to the file's directory */
    assert_int_equal(c.max_frame, 2048);
    assert_int_equal(c.verbose, 1);
    assert_int_equal(c.level, CCHC_LOG_DEBUG);
    cchc_config_free(s_table, S_N, &c);
    assert_null(c.endpoint);
}

static void test_unknown_key(void **state)
{
    s_write("[server]\npublic_key = a.pub\n\nmax_fram = 4096\n");
    s_cfg_t c = {0};
    char err[256] = "";
    assert_int_equal(cchc_config_load(s_path, s_table, S_N, &c, err, sizeof err), CCHC_EINVAL);
    char want[200];
    snprintf(want, sizeof want, "%s:4: unknown key 'max_fram' in section [server]", s_path);
    assert_string_equal(err, want);
    cchc_config_free(s_table, S_N, &c);
}

static void test_unknown_section(void **state)
{
    s_write("[server]\npublic_key = a.pub\n[database]\nconninfo = x\n");
    s_cfg_t c = {0};
    char err[256] = "";
    assert_int_equal(cchc_config_load(s_path, s_table, S_N, &c, err, sizeof err), CCHC_EINVAL);
    assert_non_null(strstr(err, ":4: unknown section [database]"));
    cchc_config_free(s_table, S_N, &c);
}

static void test_bad_values(void **state)
{
    static const struct {
        const char *text;
        const char *expect;
    } cases[] = {
        {"[server]\npublic_key = a\nmax_frame = 12abc\n", ":3: bad value for 'max_frame'"},
        {"[server]\npublic_key = a\nmax_frame = 10\n", "from 1024 to 67108864"},
        {"[server]\npublic_key = a\n\nverbose = maybe\n", ":4: bad value for 'verbose'"},
        {"[server]\npublic_key = a\n[log]\nlevel = loud\n", ":4: bad value for 'level'"},
        {"[server]\npublic_key = a\npublic_key = b\n", ":3: key 'public_key' in section "
                                                       "[server] is set twice"},
        {"[server]\nendpoint = tcp://x:1\n", "missing required key 'public_key'"},
        {"[server\npublic_key = a\n", ":1: syntax error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_write(cases[i].text);
        s_cfg_t c = {0};
        char err[256] = "";
        int rc = cchc_config_load(s_path, s_table, S_N, &c, err, sizeof err);
        assert_int_equal(rc, CCHC_EINVAL);
        if (!strstr(err, cases[i].expect))
            fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err, cases[i].expect);
        assert_non_null(strstr(err, s_path));
        cchc_config_free(s_table, S_N, &c);
    }
}

static void test_missing_file(void **state)
{
    s_cfg_t c = {0};
    char err[256] = "";
    assert_int_equal(cchc_config_load("/nonexistent/x.ini", s_table, S_N, &c, err, sizeof err),
                     CCHC_EIO);
    assert_non_null(strstr(err, "could not open config file \"/nonexistent/x.ini\""));
    cchc_config_free(s_table, S_N, &c);
}

static void test_set_override(void **state)
{
    s_cfg_t c = {0};
    char err[256] = "";
    /* public_key has no default: defaults alone are refused */
    assert_int_equal(cchc_config_defaults(s_table, S_N, &c, err, sizeof err), CCHC_EINVAL);
    assert_int_equal(
        cchc_config_set(s_table, S_N, &c, "server", "max_frame", "4096", err, sizeof err), CCHC_OK);
    assert_int_equal(c.max_frame, 4096);
    assert_int_equal(cchc_config_set(s_table, S_N, &c, "server", "nope", "1", err, sizeof err),
                     CCHC_EINVAL);
    cchc_config_free(s_table, S_N, &c);
}

/* --config-keys: one line per key, the default after '=', a required key
 * without one, an empty default as "key=". */
static void test_list_keys(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    cchc_config_list_keys(s_table, S_N, f);
    static const cchc_cfg_entry_t empty[] = {
        {"database", "conninfo", CCHC_CFG_STRING, "", 0, 0, 0, ""},
    };
    cchc_config_list_keys(empty, 1, f);
    fclose(f);
    assert_string_equal(buf, "server.endpoint=tcp://*:7470\n"
                             "server.public_key\n"
                             "server.max_frame=1048576\n"
                             "server.verbose=false\n"
                             "log.level=info\n"
                             "database.conninfo=\n");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_values_and_defaults, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_section, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_values, s_setup, s_teardown),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_set_override),
        cmocka_unit_test(test_list_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
