/* test_wire.c: the wire codec: round trip and every kind of bad frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cchc_err.h"
#include "cchc_report.h"
#include "cchc_wire.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* A small but complete envelope carrying a task progress report. */
static void s_pack_sample(const char *result_text, uint8_t **buf, size_t *len)
{
    Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
    Cchc__V1__Report rep = CCHC__V1__REPORT__INIT;
    Cchc__V1__TaskProgress tp = CCHC__V1__TASK_PROGRESS__INIT;
    char *ev[] = {"Báo cáo số 88/BC-TNMT"};
    env.protocol_version = 1;
    env.unit = "p-tnmt";
    env.agent_epoch = 0xfeedfacecafebeefULL;
    env.msg_id = 42;
    env.sent_at_ms = 1718000000000LL;
    env.body_case = CCHC__V1__ENVELOPE__BODY_REPORT;
    env.report = &rep;
    rep.type = "NV_KH";
    rep.unit = "p-tnmt";
    rep.revision = 1;
    rep.content_case = CCHC__V1__REPORT__CONTENT_TASK_PROGRESS;
    rep.task_progress = &tp;
    tp.task = "KH87-07";
    tp.status = "in_progress";
    tp.percent = 60;
    tp.result = (char *)result_text;
    tp.evidence = ev;
    tp.n_evidence = 1;
    assert_int_equal(cchc_wire_encode(&env, buf, len), CCHC_OK);
}

static void test_round_trip(void **state)
{
    uint8_t *buf;
    size_t len;
    s_pack_sample("11/15 xã đã có tổ thu gom rác", &buf, &len);
    cchc_envelope_t *env = NULL;
    char err[160];
    assert_int_equal(cchc_wire_decode(buf, len, 4096, &env, err, sizeof err), CCHC_OK);
    assert_non_null(env);
    assert_int_equal(env->body_case, CCHC__V1__ENVELOPE__BODY_REPORT);
    assert_string_equal(env->unit, "p-tnmt");
    assert_true(env->agent_epoch == 0xfeedfacecafebeefULL);
    assert_int_equal(env->msg_id, 42);
    assert_string_equal(env->report->task_progress->result, "11/15 xã đã có tổ thu gom rác");
    assert_string_equal(env->report->task_progress->evidence[0], "Báo cáo số 88/BC-TNMT");
    assert_string_equal(cchc_report_kind(env->report), "task_progress");
    cchc_wire_free(&env);
    assert_null(env);
    free(buf);
}

static void test_truncated(void **state)
{
    uint8_t *buf;
    size_t len;
    s_pack_sample("kết quả", &buf, &len);
    int truncated_refused = 0;
    for (size_t cut = 1; cut < len; cut++) {
        cchc_envelope_t *env = NULL;
        int rc = cchc_wire_decode(buf, cut, 4096, &env, NULL, 0);
        if (rc == CCHC_EMALFORMED || rc == CCHC_EENCODING) {
            assert_null(env);
            truncated_refused++;
        } else {
            /* A cut at a field boundary is a valid shorter message. */
            cchc_wire_free(&env);
        }
    }
    assert_true(truncated_refused > (int)len / 2);
    free(buf);
}

static void test_oversized(void **state)
{
    uint8_t *buf;
    size_t len;
    s_pack_sample("kết quả", &buf, &len);
    cchc_envelope_t *env = NULL;
    char err[160];
    assert_int_equal(cchc_wire_decode(buf, len, len - 1, &env, err, sizeof err), CCHC_ETOOBIG);
    assert_null(env);
    assert_non_null(strstr(err, "over the limit"));
    free(buf);
}

static void test_garbage(void **state)
{
    uint8_t junk[512];
    unsigned seed = 12345;
    int refused = 0;
    for (int round = 0; round < 2000; round++) {
        size_t n = 1 + (size_t)(rand_r(&seed) % sizeof junk);
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)rand_r(&seed);
        cchc_envelope_t *env = NULL;
        int rc = cchc_wire_decode(junk, n, sizeof junk, &env, NULL, 0);
        if (rc != CCHC_OK)
            refused++;
        cchc_wire_free(&env);
    }
    assert_true(refused > 1900);
    const uint8_t text[] = "GET / HTTP/1.1\r\n\r\n";
    cchc_envelope_t *env = NULL;
    assert_int_not_equal(cchc_wire_decode(text, sizeof text - 1, 4096, &env, NULL, 0), CCHC_OK);
    cchc_wire_free(&env);
}

static void test_unknown_body(void **state)
{
    /* protocol_version=1, msg_id=7, then field 30 (a body this build does not know) */
    const uint8_t frame[] = {0x08, 0x01, 0x20, 0x07, 0xf2, 0x01, 0x02, 0x08, 0x01};
    cchc_envelope_t *env = NULL;
    char err[160];
    assert_int_equal(cchc_wire_decode(frame, sizeof frame, 4096, &env, err, sizeof err),
                     CCHC_EUNSUPPORTED);
    assert_non_null(env); /* so the server can answer by msg_id */
    assert_int_equal(env->msg_id, 7);
    assert_non_null(strstr(err, "unsupported"));
    cchc_wire_free(&env);

    /* a newer protocol version */
    const uint8_t v2[] = {0x08, 0x02, 0x20, 0x07};
    assert_int_equal(cchc_wire_decode(v2, sizeof v2, 4096, &env, NULL, 0), CCHC_EUNSUPPORTED);
    cchc_wire_free(&env);
}

/* Finds needle in the frame and overwrites its first byte. */
static void s_poke(uint8_t *buf, size_t len, const char *needle, uint8_t byte)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(buf + i, needle, n) == 0) {
            buf[i] = byte;
            return;
        }
    }
    fail_msg("needle %s not found", needle);
}

static void test_nul_in_string(void **state)
{
    uint8_t *buf;
    size_t len;
    s_pack_sample("abcXdef", &buf, &len);
    s_poke(buf, len, "Xdef", 0x00);
    cchc_envelope_t *env = NULL;
    char err[160];
    assert_int_equal(cchc_wire_decode(buf, len, 4096, &env, err, sizeof err), CCHC_EENCODING);
    assert_null(env);
    assert_non_null(strstr(err, "result"));
    free(buf);
}

static void test_invalid_utf8(void **state)
{
    uint8_t *buf;
    size_t len;
    s_pack_sample("abcXdef", &buf, &len);
    s_poke(buf, len, "Xdef", 0xC3); /* lead byte followed by ASCII */
    cchc_envelope_t *env = NULL;
    assert_int_equal(cchc_wire_decode(buf, len, 4096, &env, NULL, 0), CCHC_EENCODING);
    assert_null(env);
    free(buf);
}

static void test_encoder_refuses_bad_utf8(void **state)
{
    Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
    Cchc__V1__Hello hello = CCHC__V1__HELLO__INIT;
    env.protocol_version = 1;
    env.unit = "xa-\xc3";
    env.body_case = CCHC__V1__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(cchc_wire_encode(&env, &buf, &len), CCHC_EENCODING);
    assert_null(buf);
}

/* Envelope{report{periodic{dossiers: n empty rows}}}: 2 bytes on the wire per
 * row, a whole DossierRow struct in memory per row. */
static size_t s_amplifier(uint8_t *frame, size_t rows)
{
    size_t n = 0, per_len = 2 * rows;
    size_t rep_len = 1 + 3 + per_len;
    frame[n++] = 0x08;
    frame[n++] = 0x01;
    frame[n++] = 0x5a; /* Envelope.report, field 11 */
    frame[n++] = (uint8_t)(0x80 | (rep_len & 0x7f));
    frame[n++] = (uint8_t)(0x80 | ((rep_len >> 7) & 0x7f));
    frame[n++] = (uint8_t)(rep_len >> 14);
    frame[n++] = 0x52; /* Report.periodic, field 10 */
    frame[n++] = (uint8_t)(0x80 | (per_len & 0x7f));
    frame[n++] = (uint8_t)(0x80 | ((per_len >> 7) & 0x7f));
    frame[n++] = (uint8_t)(per_len >> 14);
    for (size_t i = 0; i < rows; i++) {
        frame[n++] = 0x1a; /* Periodic.dossiers, field 3 */
        frame[n++] = 0x00;
    }
    return n;
}

static void test_budget(void **state)
{
    static uint8_t frame[16 + 2 * 20000];
    /* a few rows fit in the budget's slack */
    size_t n = s_amplifier(frame, 10);
    cchc_envelope_t *env = NULL;
    assert_int_equal(cchc_wire_decode(frame, n, sizeof frame, &env, NULL, 0), CCHC_OK);
    assert_int_equal(env->report->periodic->n_dossiers, 10);
    cchc_wire_free(&env);
    /* 20000 rows: 40 KB of frame asking for megabytes is refused */
    n = s_amplifier(frame, 20000);
    char err[160];
    assert_int_equal(cchc_wire_decode(frame, n, sizeof frame, &env, err, sizeof err),
                     CCHC_EMALFORMED);
    assert_null(env);
    assert_non_null(strstr(err, "budget"));
}

static void test_ack_nack(void **state)
{
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_findings_add(&f, "E016", "$.overdue_dossiers", "Thiếu hồ sơ", "Missing dossiers");
    uint8_t *buf;
    size_t len;
    assert_int_equal(cchc_wire_pack_nack("xa-van-son", 9, 3, CCHC__V1__NACK_REASON__NACK_INVALID,
                                         "bad", &f, &buf, &len),
                     CCHC_OK);
    cchc_envelope_t *env = NULL;
    assert_int_equal(cchc_wire_decode(buf, len, 4096, &env, NULL, 0), CCHC_OK);
    assert_int_equal(env->body_case, CCHC__V1__ENVELOPE__BODY_NACK);
    assert_int_equal(env->nack->reason, CCHC__V1__NACK_REASON__NACK_INVALID);
    assert_int_equal(env->nack->n_findings, 1);
    cchc_findings_t back = CCHC_FINDINGS_INIT;
    cchc_wire_findings_append(&back, env->nack->findings, env->nack->n_findings);
    assert_string_equal(back.v[0].code, "E016");
    assert_string_equal(back.v[0].msg_vi, "Thiếu hồ sơ");
    assert_int_equal(back.errors, 1);
    assert_false(cchc_wire_nack_is_transient(env->nack->reason));
    assert_true(cchc_wire_nack_is_transient(CCHC__V1__NACK_REASON__NACK_BUSY));
    assert_string_equal(cchc_wire_nack_reason_name(env->nack->reason), "INVALID");
    cchc_wire_free(&env);
    free(buf);
    assert_int_equal(cchc_wire_pack_ack("xa-van-son", 9, 3, 77, 1, NULL, &buf, &len), CCHC_OK);
    assert_int_equal(cchc_wire_decode(buf, len, 4096, &env, NULL, 0), CCHC_OK);
    assert_int_equal(env->ack->report_id, 77);
    assert_true(env->ack->duplicate);
    cchc_wire_free(&env);
    free(buf);
    cchc_findings_clear(&f);
    cchc_findings_clear(&back);
}

/* KEY_REVOKED has its own name and is permanent. A reason this build does
 * not know (a newer server's) still decodes, keeps its value, is named
 * UNSPECIFIED and is permanent: what an agent older than KEY_REVOKED does
 * with it (it sets the report aside with the detail, never resends it in a
 * loop, never drops the frame). */
static void test_nack_reasons(void **state)
{
    uint8_t *buf;
    size_t len;
    cchc_envelope_t *env = NULL;
    assert_int_equal(cchc_wire_pack_nack("xa-van-son", 9, 4,
                                         CCHC__V1__NACK_REASON__NACK_KEY_REVOKED,
                                         "Khoá đã bị thu hồi (key revoked)", NULL, &buf, &len),
                     CCHC_OK);
    assert_int_equal(cchc_wire_decode(buf, len, 4096, &env, NULL, 0), CCHC_OK);
    assert_int_equal(env->nack->reason, CCHC__V1__NACK_REASON__NACK_KEY_REVOKED);
    assert_string_equal(cchc_wire_nack_reason_name(env->nack->reason), "KEY_REVOKED");
    assert_false(cchc_wire_nack_is_transient(env->nack->reason));
    assert_string_equal(env->nack->detail, "Khoá đã bị thu hồi (key revoked)");
    cchc_wire_free(&env);
    free(buf);
    assert_int_equal(cchc_wire_pack_nack("xa-van-son", 9, 5, (Cchc__V1__NackReason)99, "future",
                                         NULL, &buf, &len),
                     CCHC_OK);
    assert_int_equal(cchc_wire_decode(buf, len, 4096, &env, NULL, 0), CCHC_OK);
    assert_int_equal((int)env->nack->reason, 99);
    assert_int_equal(env->nack->msg_id, 5);
    assert_string_equal(cchc_wire_nack_reason_name(env->nack->reason), "UNSPECIFIED");
    assert_false(cchc_wire_nack_is_transient(env->nack->reason));
    cchc_wire_free(&env);
    free(buf);
}

/* cchc_wire_text_ok: UTF-8 without NUL, whatever comes first: an ASCII run
 * (read a byte at a time) before a bad byte or a NUL does not hide it. */
static void test_text_ok(void **state)
{
    (void)state;
    assert_true(cchc_wire_text_ok("", 0));
    assert_true(cchc_wire_text_ok("KH87-07", 7));
    assert_true(cchc_wire_text_ok("X\xc3\xa3 V\xc3\xa2n S\xc6\xa1n", 13)); /* Xã Vân Sơn */
    assert_false(cchc_wire_text_ok("abc\xff", 4));                         /* never UTF-8 */
    assert_false(cchc_wire_text_ok("abc\xc3", 4));                         /* cut short */
    assert_false(cchc_wire_text_ok("abcdefgh\xe1\xbb", 10)); /* cut short after ASCII */
    assert_false(cchc_wire_text_ok("ab\0cd", 5));            /* a NUL inside */
    assert_false(cchc_wire_text_ok("\xc3\xa3\0", 3));        /* a NUL after UTF-8 */
    assert_true(cchc_wire_text_ok("abc\xc3\xa3"
                                  "def",
                                  8));
    assert_false(cchc_wire_text_ok("abc\xc3\xa3"
                                   "d\xed\xa0\x80",
                                   10)); /* a surrogate */
}

/* What cchc_wire_text_ok accepted before it checked the bytes itself: every
 * character through utf8proc_iterate, and no NUL. */
static int s_ref_text_ok(const unsigned char *p, size_t len)
{
    utf8proc_ssize_t left = (utf8proc_ssize_t)len;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n < 1 || cp == 0)
            return 0;
        p += n;
        left -= n;
    }
    return 1;
}

static void s_same(const unsigned char *b, size_t n)
{
    int want = s_ref_text_ok(b, n), got = cchc_wire_text_ok((const char *)b, n);
    if (want != got)
        fail_msg("cchc_wire_text_ok %d, utf8proc %d on %zu bytes %02x %02x %02x %02x", got, want,
                 n, n > 0 ? b[0] : 0, n > 1 ? b[1] : 0, n > 2 ? b[2] : 0, n > 3 ? b[3] : 0);
}

/* The same verdict as utf8proc on every sequence of one to three bytes, on
 * four-byte ones with every first two bytes, and on random texts. */
static void test_text_ok_as_utf8proc(void **state)
{
    (void)state;
    unsigned char b[16];
    for (unsigned x = 0; x < 256; x++) {
        b[0] = (unsigned char)x;
        s_same(b, 1);
        for (unsigned y = 0; y < 256; y++) {
            b[1] = (unsigned char)y;
            s_same(b, 2);
            for (unsigned z = 0; z < 256; z++) {
                b[2] = (unsigned char)z;
                s_same(b, 3);
            }
            static const unsigned char tail[] = {0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xff};
            for (size_t i = 0; i < sizeof tail; i++)
                for (size_t j = 0; j < sizeof tail; j++) {
                    b[2] = tail[i];
                    b[3] = tail[j];
                    s_same(b, 4);
                }
        }
    }
    /* Texts of up to 16 bytes drawn mostly from UTF-8's lead and
     * continuation bytes, where the mistakes would be. */
    static const unsigned char pick[] = {0x41, 0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
                                         0xc0, 0xc1, 0xc2, 0xc3, 0xdf, 0xe0, 0xe1, 0xec, 0xed,
                                         0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf8, 0xff};
    uint32_t seed = 12345;
    for (int t = 0; t < 300000; t++) {
        size_t n = (seed = seed * 1103515245u + 12345u) >> 28;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            b[i] = pick[(seed >> 16) % sizeof pick];
        }
        s_same(b, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_text_ok),
        cmocka_unit_test(test_text_ok_as_utf8proc),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_unknown_body),
        cmocka_unit_test(test_nul_in_string),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_encoder_refuses_bad_utf8),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_ack_nack),
        cmocka_unit_test(test_nack_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
