/* test_web.c: cchc-web's pure parts: request targets and query values read
 * strictly, base64 and the constant-time comparison of basic
 * authentication, hashes made and checked with libcrypt, the listen
 * address, and the SVG chart (escaped, one bar per unit, the average). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "web_auth.h"
#include "web_chart.h"
#include "web_config.h"
#include "web_gate.h"
#include "web_query.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- targets ------------------------------------------------------------------------------ */

static void test_target_plain(void **state)
{
    web_target_t t;
    web_refusal_t why;
    assert_int_equal(web_target_parse("/status?period=2024s1&type=CCHC_DK", &t, &why), 0);
    assert_string_equal(t.path, "/status");
    assert_int_equal(t.nparams, 2);
    assert_string_equal(web_target_get(&t, "period"), "2024s1");
    assert_string_equal(web_target_get(&t, "type"), "CCHC_DK");
    assert_null(web_target_get(&t, "year"));
    /* Encoded and '+' values decode; an empty value is no value. */
    assert_int_equal(web_target_parse("/x?a=%32%30%32%34&b=x+y&c=&&", &t, &why), 0);
    assert_string_equal(web_target_get(&t, "a"), "2024");
    assert_string_equal(web_target_get(&t, "b"), "x y");
    assert_null(web_target_get(&t, "c"));
    assert_int_equal(t.nparams, 2);
    /* Vietnamese, encoded, is valid UTF-8. */
    assert_int_equal(web_target_parse("/x?a=X%C3%A3", &t, &why), 0);
    assert_string_equal(web_target_get(&t, "a"), "X\xC3\xA3");
    assert_int_equal(web_target_parse("/", &t, &why), 0);
    assert_string_equal(t.path, "/");
}

/* Each of these is refused with status (and a message in both languages). */
static void test_target_refused(void **state)
{
    static const struct {
        const char *target;
        int status;
    } cases[] = {
        {"/status?period=%00", 400},
        {"/status?period=2024%00", 400},
        {"/status?period=%zz", 400},
        {"/status?period=%", 400},
        {"/status?period=%4", 400},
        {"/status?period=%C3%28", 400},
        {"/status?period=%FF", 400},
        {"/status?period=%ED%A0%80", 400},
        {"/status?period=%C0%AF", 400},
        {"/status?period=a%0Db", 400},
        {"/status?period=a\x01", 400},
        {"/status?period=\xC3\xA3", 400},
        {"/status?period=1&period=2", 400},
        {"/status?=1", 400},
        {"/status?PERIOD=1", 400},
        {"/status?period", 400},
        {"/status?a=1&b=2&c=3&d=4&e=5", 400},
        {"/status?aaaaaaaaaaaaaaaa=1", 400},
        {"status", 400},
        {"*", 400},
        {"http://x/status", 400},
        {"/static/%2e%2e/etc/passwd", 404},
        {"/a b", 404},
        {"/st\\atus", 404},
        {"/status%2f", 404},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        web_target_t t;
        web_refusal_t why = {0};
        if (web_target_parse(cases[i].target, &t, &why) != -1 || why.status != cases[i].status) {
            fail_msg("%s: status %d, want %d", cases[i].target, why.status, cases[i].status);
        }
        assert_non_null(why.vi);
        assert_non_null(why.en);
    }
}

static void test_target_limits(void **state)
{
    char buf[2048];
    web_target_t t;
    web_refusal_t why;
    /* A value of WEB_QUERY_VALUE_MAX bytes passes, one more is refused. */
    snprintf(buf, sizeof buf, "/x?a=%0*d", WEB_QUERY_VALUE_MAX, 0);
    assert_int_equal(web_target_parse(buf, &t, &why), 0);
    snprintf(buf, sizeof buf, "/x?a=%0*d", WEB_QUERY_VALUE_MAX + 1, 0);
    assert_int_equal(web_target_parse(buf, &t, &why), -1);
    assert_int_equal(why.status, 400);
    /* Too long a path: 404 (no route); too long a target: 414. */
    memset(buf, 'a', sizeof buf);
    buf[0] = '/';
    buf[WEB_PATH_MAX + 1] = '\0';
    assert_int_equal(web_target_parse(buf, &t, &why), -1);
    assert_int_equal(why.status, 404);
    buf[WEB_PATH_MAX + 1] = 'a';
    buf[WEB_TARGET_MAX + 1] = '\0';
    assert_int_equal(web_target_parse(buf, &t, &why), -1);
    assert_int_equal(why.status, 414);
}

static void test_target_only(void **state)
{
    static const char *const allowed[] = {"period", "type", NULL};
    web_target_t t;
    web_refusal_t why;
    assert_int_equal(web_target_parse("/s?period=1&type=2", &t, &why), 0);
    assert_int_equal(web_target_only(&t, allowed, &why), 0);
    assert_int_equal(web_target_parse("/s?period=1&year=2", &t, &why), 0);
    assert_int_equal(web_target_only(&t, allowed, &why), -1);
    assert_int_equal(why.status, 400);
    assert_int_equal(web_target_only(&t, NULL, &why), -1);
    assert_int_equal(web_target_parse("/s", &t, &why), 0);
    assert_int_equal(web_target_only(&t, NULL, &why), 0);
}

static void test_values(void **state)
{
    char buf[40];
    web_refusal_t why;
    int year;
    assert_int_equal(web_value_period("2024s1", buf, sizeof buf, &why), 0);
    assert_string_equal(buf, "2024S1");
    assert_int_equal(web_value_period("202406", buf, sizeof buf, &why), 0);
    assert_int_equal(web_value_period("2024", buf, sizeof buf, &why), 0);
    assert_int_equal(web_value_period("2024n9", buf, sizeof buf, &why), 0);
    assert_string_equal(buf, "2024N9");
    const char *bad_periods[] = {"2024Q5",  "2024S3", "1999Q1", "2024S1 ", "KT-2024-05",
                                 "2024S1'", "",       "20240",  "2024Q10"};
    for (size_t i = 0; i < sizeof bad_periods / sizeof bad_periods[0]; i++)
        if (web_value_period(bad_periods[i], buf, sizeof buf, &why) != -1 || why.status != 400)
            fail_msg("period '%s' was let through", bad_periods[i]);
    assert_int_equal(web_value_type("cchc_dk", buf, sizeof buf, &why), 0);
    assert_string_equal(buf, "CCHC_DK");
    const char *bad_types[] = {"CCHC-DK",  "CCHC DK", "'", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456",
                               "X\xC3\xA3"};
    for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++)
        if (web_value_type(bad_types[i], buf, sizeof buf, &why) != -1)
            fail_msg("type '%s' was let through", bad_types[i]);
    assert_int_equal(web_value_year("2024", &year, &why), 0);
    assert_int_equal(year, 2024);
    assert_int_equal(web_value_year("1999", &year, &why), -1);
    assert_int_equal(web_value_year("20244", &year, &why), -1);
    assert_int_equal(web_value_year("2o24", &year, &why), -1);
}

/* ---- authentication ------------------------------------------------------------------------ */

static void test_base64(void **state)
{
    unsigned char out[64];
    assert_int_equal(web_auth_base64_decode("YWxhZGRpbjpvcGVuc2VzYW1l", 24, out, sizeof out), 18);
    assert_memory_equal(out, "aladdin:opensesame", 18);
    assert_int_equal(web_auth_base64_decode("YQ==", 4, out, sizeof out), 1);
    assert_int_equal(out[0], 'a');
    assert_int_equal(web_auth_base64_decode("YWI=", 4, out, sizeof out), 2);
    assert_int_equal(web_auth_base64_decode("", 0, out, sizeof out), 0);
    assert_int_equal(web_auth_base64_decode("YQ=", 3, out, sizeof out), -1);      /* length */
    assert_int_equal(web_auth_base64_decode("Y===", 4, out, sizeof out), -1);     /* padding */
    assert_int_equal(web_auth_base64_decode("YQ==YQ==", 8, out, sizeof out), -1); /* '=' inside */
    assert_int_equal(web_auth_base64_decode("Y!==", 4, out, sizeof out), -1);
    assert_int_equal(web_auth_base64_decode("YWJj", 4, out, 2), -1); /* no room */
}

static void test_equal(void **state)
{
    assert_true(web_auth_equal("abc", 3, "abc", 3));
    assert_false(web_auth_equal("abc", 3, "abd", 3));
    assert_false(web_auth_equal("ab", 2, "abc", 3));
    assert_false(web_auth_equal("abc", 3, "ab", 2));
    assert_true(web_auth_equal("", 0, "", 0));
}

static char *s_basic(const char *user_pass)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(user_pass), k = 6;
    char *h = calloc(1, 6 + (n + 2) / 3 * 4 + 1);
    memcpy(h, "Basic ", 6);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)user_pass[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)user_pass[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)user_pass[i + 2];
        h[k++] = b64[v >> 18 & 63];
        h[k++] = b64[v >> 12 & 63];
        h[k++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        h[k++] = i + 2 < n ? b64[v & 63] : '=';
    }
    return h;
}

static void test_auth(void **state)
{
    char hash[256], err[256];
    assert_int_equal(web_auth_hash_password("mật khẩu", hash, sizeof hash, err, sizeof err), 0);
    assert_memory_equal(hash, "$y$", 3);
    assert_int_equal(web_auth_hash_ok(hash, err, sizeof err), 0);
    assert_int_equal(web_auth_hash_password("", hash + 128, 128, err, sizeof err), -1);
    assert_int_equal(web_auth_hash_ok("secret", err, sizeof err), -1);
    assert_non_null(strstr(err, "cchc-web --hash-password"));
    assert_int_equal(web_auth_hash_ok("$y$j9T$cut", err, sizeof err), -1);
    assert_int_equal(web_auth_hash_ok("$1$abc$def", err, sizeof err), -1); /* MD5: refused */

    web_auth_t *a = web_auth_new("nam", hash);
    char *right = s_basic("nam:mật khẩu");
    char *wrong_pass = s_basic("nam:mật khẩu!");
    char *wrong_user = s_basic("Nam:mật khẩu");
    char *no_colon = s_basic("nammật khẩu");
    assert_false(web_auth_check(a, NULL));
    assert_false(web_auth_check(a, wrong_pass));
    assert_false(web_auth_check(a, wrong_user));
    assert_false(web_auth_check(a, no_colon));
    assert_false(web_auth_check(a, "Bearer abc"));
    assert_false(web_auth_check(a, "Basic !!!"));
    assert_true(web_auth_check(a, right));
    assert_true(web_auth_check(a, right));       /* remembered */
    assert_false(web_auth_check(a, wrong_pass)); /* the remembered one lets no other through */
    right[0] = 'b';                              /* the scheme in any case */
    assert_true(web_auth_check(a, right));
    web_auth_destroy(&a);
    assert_null(a);
    web_auth_destroy(&a);
    free(right);
    free(wrong_pass);
    free(wrong_user);
    free(no_colon);
}

/* ---- listen ------------------------------------------------------------------------------------
 */

static void test_listen(void **state)
{
    struct sockaddr_storage a;
    socklen_t len;
    assert_int_equal(web_config_parse_listen("127.0.0.1:7480", &a, &len), 0);
    assert_int_equal(a.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&a)->sin_port), 7480);
    assert_int_equal(web_config_parse_listen("[::1]:80", &a, &len), 0);
    assert_int_equal(a.ss_family, AF_INET6);
    assert_int_equal(web_config_parse_listen("*:7480", &a, &len), 0);
    assert_int_equal(web_config_parse_listen("localhost:1", &a, &len), 0);
    const char *bad[] = {
        "7480",          ":7480",          "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:80x", "example.org:80", "[::1:80",    "1.2.3:80",    "[zz]:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (web_config_parse_listen(bad[i], &a, &len) == 0)
            fail_msg("listen '%s' was accepted", bad[i]);
}

/* ---- the chart ----------------------------------------------------------------------------- */

static int s_count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

static void test_chart(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    web_bar_t bars[] = {{"Xã <Đại> Sơn", "100.00"},
                        {"Xã Hữu Sản", "93.75"},
                        {"Phòng Nông nghiệp và Phát triển nông thôn", NULL},
                        {"Xã Vân Sơn", "98.70"}};
    web_chart_bars(f, "c1", "Tỷ lệ \"đúng hạn\"", bars, 4, "97.99", "Bình quân 97.99 %");
    fclose(f);
    assert_non_null(strstr(buf, "<svg "));
    assert_non_null(strstr(buf, "aria-labelledby=\"c1\""));
    assert_int_equal(s_count(buf, "<rect class=\"bar"), 3); /* no bar without a value */
    assert_int_equal(s_count(buf, "<rect class=\"bar below\""), 1);
    assert_int_equal(s_count(buf, "<line class=\"avg\""), 1);
    assert_null(strstr(buf, "<Đại>"));
    assert_non_null(strstr(buf, "Xã &lt;Đại&gt; Sơn"));
    assert_non_null(strstr(buf, "Tỷ lệ &quot;đúng hạn&quot;"));
    /* A long name is cut on a character boundary, whole in its title. */
    assert_non_null(strstr(buf, "Phòng Nông nghiệp v…"));
    assert_non_null(strstr(buf, "<title>Phòng Nông nghiệp và Phát triển nông thôn: "));
    assert_null(strstr(buf, "style="));
    free(buf);
}

/* ---- the gate's look at the request line ---------------------------------------------------- */

static web_line_t s_line(const char *s) { return web_gate_line(s, strlen(s), 64); }

static void test_gate_line(void **state)
{
    (void)state;
    assert_int_equal(s_line("GET /status HTTP/1.1\r\n"), WEB_LINE_PASS);
    assert_int_equal(s_line("HEAD / HTTP/1.0\n"), WEB_LINE_PASS); /* bare LF: libmicrohttpd's */
    assert_int_equal(s_line("\r\n\r\nGET / HTTP/1.1\r\nHost: x"), WEB_LINE_PASS);
    assert_int_equal(s_line("DELETE /x?a=b HTTP/1.1\r\n"), WEB_LINE_PASS); /* 405 later */
    /* Not yet a line: wait; past the limit: too long. */
    assert_int_equal(s_line(""), WEB_LINE_MORE);
    assert_int_equal(s_line("GET /status HTTP/1."), WEB_LINE_MORE);
    assert_int_equal(s_line("\r\n\r\n"), WEB_LINE_MORE);
    assert_int_equal(s_line("GARBAGE\r"), WEB_LINE_MORE);
    char big[65];
    memset(big, 'A', 64);
    big[64] = 0;
    assert_int_equal(web_gate_line(big, 64, 64), WEB_LINE_TOO_LONG);
    assert_int_equal(web_gate_line(big, 63, 64), WEB_LINE_MORE);
    /* Not HTTP. */
    assert_int_equal(s_line("GARBAGE\r\n\r\n"), WEB_LINE_NOT_HTTP);
    assert_int_equal(s_line("GET /status\r\n"), WEB_LINE_NOT_HTTP);
    assert_int_equal(s_line("GET  HTTP/1.1\r\n"), WEB_LINE_NOT_HTTP);
    assert_int_equal(s_line(" / HTTP/1.1\r\n"), WEB_LINE_NOT_HTTP);
    assert_int_equal(s_line("G(T / HTTP/1.1\r\n"), WEB_LINE_NOT_HTTP);
    assert_int_equal(s_line("GET / http/1.1\r\n"), WEB_LINE_NOT_HTTP);
    assert_int_equal(s_line("GET / HTTP/1.1 \r\n"), WEB_LINE_NOT_HTTP);
    assert_int_equal(s_line("GET / HTTP/11\r\n"), WEB_LINE_NOT_HTTP);
    assert_int_equal(s_line("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n"), WEB_LINE_NOT_HTTP);
    assert_int_equal(web_gate_line("GET\0/ HTTP/1.1\n", 15, 64), WEB_LINE_NOT_HTTP);
    /* HTTP, another version. */
    assert_int_equal(s_line("GET /status HTTP/9.9\r\n"), WEB_LINE_VERSION);
    assert_int_equal(s_line("GET / HTTP/2.0\r\n"), WEB_LINE_VERSION);
    assert_int_equal(s_line("GET / HTTP/1.2\r\n"), WEB_LINE_VERSION);
    assert_int_equal(s_line("GET / HTTP/0.9\r\n"), WEB_LINE_VERSION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target_plain),  cmocka_unit_test(test_target_refused),
        cmocka_unit_test(test_target_limits), cmocka_unit_test(test_target_only),
        cmocka_unit_test(test_values),        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_equal),         cmocka_unit_test(test_auth),
        cmocka_unit_test(test_listen),        cmocka_unit_test(test_chart),
        cmocka_unit_test(test_gate_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
