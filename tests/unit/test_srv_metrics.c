/* test_srv_metrics.c: the text of /metrics (srv_metrics_text.c), its
 * histograms, its escaping, the process's figures, and the parser of
 * [metrics] listen with the messages of its refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cchc_err.h"
#include "srv_hist.h"
#include "srv_metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The text of snap; the caller frees it. */
static char *s_text(const srv_metrics_snapshot_t *snap, const char *version, const char *commit)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    srv_metrics_format(f, snap, version, commit);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(strlen(text), len);
    return text;
}

/* True when text holds line exactly, as a whole line. */
static int s_has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += n)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

#define assert_line(text, line)                                                                    \
    do {                                                                                           \
        if (!s_has_line((text), (line)))                                                           \
            fail_msg("missing line: %s\n---- text:\n%s", (line), (text));                          \
    } while (0)

static void test_counters_and_labels(void **state)
{
    (void)state;
    srv_metrics_snapshot_t s;
    memset(&s, 0, sizeof s);
    s.c.reports = 12;
    s.c.accepted = 9;
    s.c.rejected = 2;
    s.c.duplicates = 1;
    s.c.nack_busy = 4;
    s.c.refused_busy_peer = 3;
    s.c.refused_code[7] = 2;
    s.c.refused_code[SRV_REFUSED_CODES] = 1;
    s.c.db_reconnects = 5;
    s.c.store_reconnects = 2;
    s.agents = 3;
    s.agents_queued = 40;
    s.agents_queued_max = 25;
    s.notify.sub_sessions = 2;
    s.notify.published = 6;
    s.sched.committed = 8;
    s.sched.last_tick_ms = 1718848800000LL;
    s.rss_bytes = 1048576;
    s.vsize_bytes = s.start_time_s = s.cpu_s = s.open_fds = s.max_fds = -1;
    char *t = s_text(&s, "0.1.0", "abc123");
    assert_line(t, "cchc_build_info{version=\"0.1.0\",commit=\"abc123\"} 1");
    assert_line(t, "# TYPE cchc_reports_accepted_total counter");
    assert_line(t, "cchc_reports_received_total 12");
    assert_line(t, "cchc_reports_accepted_total 9");
    assert_line(t, "cchc_reports_rejected_total 2");
    assert_line(t, "cchc_reports_duplicate_total 1");
    assert_line(t, "cchc_reports_refused_total{code=\"E007\"} 2");
    assert_line(t, "cchc_reports_refused_total{code=\"other\"} 1");
    assert_null(strstr(t, "code=\"E008\"")); /* codes never seen are left out */
    assert_line(t, "cchc_nacks_total{reason=\"BUSY\"} 4");
    assert_line(t, "cchc_nacks_total{reason=\"KEY_REVOKED\"} 0");
    assert_line(t, "cchc_reports_refused_busy_total{cause=\"connection_queue\"} 3");
    assert_line(t, "cchc_db_reconnects_total{connection=\"cchc-server\"} 3");
    assert_line(t, "cchc_db_reconnects_total{connection=\"cchc-server-store\"} 2");
    assert_line(t, "cchc_agents_connected 3");
    assert_line(t, "cchc_agent_outbox_reports 40");
    assert_line(t, "cchc_agent_outbox_reports_max 25");
    assert_line(t, "cchc_subscribers_connected 2");
    assert_line(t, "cchc_notifications_written_total 6");
    assert_line(t, "cchc_scheduler_ticks_total{outcome=\"committed\"} 8");
    assert_line(t, "cchc_scheduler_last_tick_timestamp_seconds 1718848800");
    assert_line(t, "# TYPE process_resident_memory_bytes gauge");
    assert_line(t, "process_resident_memory_bytes 1048576");
    /* A figure that could not be read is left out, HELP and all. */
    assert_null(strstr(t, "process_open_fds"));
    /* Every family is announced once, before its samples. */
    assert_non_null(strstr(t, "# HELP cchc_reports_refused_total "));
    assert_true(strstr(t, "# TYPE cchc_nacks_total counter") < strstr(t, "cchc_nacks_total{"));
    free(t);
}

static void test_histograms(void **state)
{
    (void)state;
    srv_metrics_snapshot_t s;
    memset(&s, 0, sizeof s);
    s.rss_bytes = s.vsize_bytes = s.start_time_s = s.cpu_s = s.open_fds = s.max_fds = -1;
    srv_hist_batch_rows(&s.c.batch_reports, 1);
    srv_hist_batch_rows(&s.c.batch_reports, 3);
    srv_hist_batch_rows(&s.c.batch_reports, 5);
    srv_hist_batch_rows(&s.c.batch_reports, 200);
    srv_hist_batch_rows(&s.c.batch_reports, 9000); /* above every bound */
    /* A commit that started 20 ms ago falls in (0.01, 0.025]. */
    srv_hist_commit(&s.c.batch_commit, srv_hist_now_us() - 20000);
    char *t = s_text(&s, "v", "c");
    assert_line(t, "# TYPE cchc_batch_reports histogram");
    assert_line(t, "cchc_batch_reports_bucket{le=\"1\"} 1");
    assert_line(t, "cchc_batch_reports_bucket{le=\"2\"} 1");
    assert_line(t, "cchc_batch_reports_bucket{le=\"5\"} 3");
    assert_line(t, "cchc_batch_reports_bucket{le=\"100\"} 3");
    assert_line(t, "cchc_batch_reports_bucket{le=\"200\"} 4");
    assert_line(t, "cchc_batch_reports_bucket{le=\"5000\"} 4");
    assert_line(t, "cchc_batch_reports_bucket{le=\"+Inf\"} 5");
    assert_line(t, "cchc_batch_reports_sum 9209");
    assert_line(t, "cchc_batch_reports_count 5");
    assert_line(t, "cchc_batch_commit_seconds_bucket{le=\"0.01\"} 0");
    assert_line(t, "cchc_batch_commit_seconds_bucket{le=\"0.025\"} 1");
    assert_line(t, "cchc_batch_commit_seconds_bucket{le=\"10\"} 1");
    assert_line(t, "cchc_batch_commit_seconds_count 1");
    free(t);
}

static void test_label_escaping(void **state)
{
    (void)state;
    srv_metrics_snapshot_t s;
    memset(&s, 0, sizeof s);
    char *t = s_text(&s, "1.0 \"beta\"", "a\\b\nc");
    assert_line(t, "cchc_build_info{version=\"1.0 \\\"beta\\\"\",commit=\"a\\\\b\\nc\"} 1");
    free(t);
}

static void test_proc(void **state)
{
    (void)state;
    srv_metrics_snapshot_t s;
    memset(&s, 0, sizeof s);
    srv_metrics_proc(&s);
    /* This process is running: it has memory, a start, open descriptors. */
    assert_true(s.rss_bytes > 0);
    assert_true(s.vsize_bytes >= s.rss_bytes);
    assert_true(s.start_time_s > 1.5e9);
    assert_true(s.cpu_s >= 0);
    assert_true(s.open_fds >= 3);
    assert_true(s.max_fds == -1 || s.max_fds >= s.open_fds);
}

static void test_listen_parse(void **state)
{
    (void)state;
    struct sockaddr_storage sa;
    socklen_t len;
    char err[300] = "";
    assert_int_equal(srv_metrics_listen_parse("127.0.0.1:9470", &sa, &len, err, sizeof err), 0);
    assert_int_equal(sa.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&sa)->sin_port), 9470);
    assert_int_equal(((struct sockaddr_in *)&sa)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    assert_int_equal(srv_metrics_listen_parse("[::1]:80", &sa, &len, err, sizeof err), 0);
    assert_int_equal(sa.ss_family, AF_INET6);
    assert_int_equal(ntohs(((struct sockaddr_in6 *)&sa)->sin6_port), 80);
    assert_int_equal(srv_metrics_listen_parse("0.0.0.0:65535", &sa, &len, err, sizeof err), 0);

    static const struct {
        const char *in, *says;
    } bad[] = {
        {"9470", "has no port"},
        {"127.0.0.1", "has no port"},
        {":9470", "the host is missing"},
        {"127.0.0.1:", "is not a number from 1 to 65535"},
        {"127.0.0.1:0", "is not a number from 1 to 65535"},
        {"127.0.0.1:65536", "is not a number from 1 to 65535"},
        {"127.0.0.1:94x0", "is not a number from 1 to 65535"},
        {"127.0.0.1:-1", "is not a number from 1 to 65535"},
        {"127.0.0.1:99999999999999999999", "is not a number from 1 to 65535"},
        {"::1:9470", "an IPv6 address goes in brackets"},
        {"[::1]9470", "expected HOST:PORT"},
        {"[::1", "expected HOST:PORT"},
        {"no-such-host.invalid:9470", "could not resolve host \"no-such-host.invalid\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = srv_metrics_listen_parse(bad[i].in, &sa, &len, err, sizeof err);
        if (rc != CCHC_EINVAL || !strstr(err, bad[i].says) || !strstr(err, "[metrics] listen"))
            fail_msg("\"%s\": rc=%d err=\"%s\", expected \"%s\"", bad[i].in, rc, err, bad[i].says);
    }
    /* Empty is "off" for the start-up check, an error for the parser. */
    assert_int_equal(srv_metrics_check("", err, sizeof err), 0);
    assert_int_equal(srv_metrics_check(NULL, err, sizeof err), 0);
    assert_int_equal(srv_metrics_check("localhost", err, sizeof err), CCHC_EINVAL);
    assert_int_equal(srv_metrics_listen_parse("", &sa, &len, err, sizeof err), CCHC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_and_labels), cmocka_unit_test(test_histograms),
        cmocka_unit_test(test_label_escaping),      cmocka_unit_test(test_proc),
        cmocka_unit_test(test_listen_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
