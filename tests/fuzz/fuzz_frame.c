/* fuzz_frame.c: untrusted frames as the server receives them.
 *
 * Decodes with the server's limit (1 MiB); a decoded Report is turned to JSON, packed
 * alone and unpacked again (the payload column's round trip), and validated against an
 * empty and a realistic context. Invariants checked are the programmer's: a report that
 * decoded re-packs, re-decodes and re-packs to the same bytes. */
#include "cchc_err.h"
#include "cchc_wire.h"
#include "fuzz_ctx.h"

#include <jansson.h>
#include <string.h>

#define MAX_FRAME (1u << 20)

static void s_report(const Cchc__V1__Report *r)
{
    json_t *j = cchc_report_to_json(r);
    FUZZ_CHECK(j != NULL);
    char *text = json_dumps(j, JSON_COMPACT);
    free(text);
    json_decref(j);
    (void)cchc_report_kind(r);

    uint8_t *buf = NULL;
    size_t len = 0;
    FUZZ_CHECK(cchc_wire_pack_report(r, &buf, &len) == CCHC_OK);
    Cchc__V1__Report *back = NULL;
    char err[256] = "";
    int rc = cchc_wire_unpack_report(buf, len, len > MAX_FRAME ? len : MAX_FRAME, &back, err,
                                     sizeof err);
    if (rc != CCHC_OK)
        fprintf(stderr, "re-decode of a decoded report failed: %s\n", err);
    FUZZ_CHECK(rc == CCHC_OK && back != NULL);
    uint8_t *buf2 = NULL;
    size_t len2 = 0;
    FUZZ_CHECK(cchc_wire_pack_report(back, &buf2, &len2) == CCHC_OK);
    FUZZ_CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    free(buf2);
    free(buf);
    cchc_report_free(&back);
    FUZZ_CHECK(back == NULL);

    cchc_fuzz_validate_both(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cchc_envelope_t *env = NULL;
    char err[256] = "";
    int rc = cchc_wire_decode(data, size, MAX_FRAME, &env, err, sizeof err);
    if (rc != CCHC_OK && rc != CCHC_EUNSUPPORTED)
        FUZZ_CHECK(env == NULL);
    if (rc == CCHC_EUNSUPPORTED)
        FUZZ_CHECK(env != NULL);
    if (rc == CCHC_OK) {
        FUZZ_CHECK(env != NULL);
        if (env->body_case == CCHC__V1__ENVELOPE__BODY_REPORT && env->report)
            s_report(env->report);
        if (env->body_case == CCHC__V1__ENVELOPE__BODY_ACK && env->ack) {
            cchc_findings_t f = CCHC_FINDINGS_INIT;
            cchc_wire_findings_append(&f, env->ack->warnings, env->ack->n_warnings);
            cchc_findings_clear(&f);
        }
        /* Re-encoding a decoded envelope succeeds: its strings were checked. */
        uint8_t *buf = NULL;
        size_t len = 0;
        FUZZ_CHECK(cchc_wire_encode(env, &buf, &len) == CCHC_OK);
        free(buf);
    }
    cchc_wire_free(&env);
    FUZZ_CHECK(env == NULL);
    return 0;
}
