/* fuzz_report_json.c: report JSON as the agent reads it from an officer's file.
 *
 * cchc_report_from_text on the bytes; a report that parsed is validated against an
 * empty and a realistic context, turned back to JSON, and that JSON parses again. */
#include "cchc_err.h"
#include "cchc_wire.h"
#include "fuzz_ctx.h"

#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cchc_report_t *r = NULL;
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    int rc = cchc_report_from_text((const char *)data, size, &r, &f);
    if (rc != CCHC_OK) {
        FUZZ_CHECK(r == NULL);
        FUZZ_CHECK(f.n > 0);
        cchc_findings_clear(&f);
        return 0;
    }
    FUZZ_CHECK(r != NULL);
    cchc_findings_clear(&f);
    cchc_fuzz_validate_both(r);

    /* What the agent does next: its JSON form parses again, and it packs for the outbox. */
    json_t *j = cchc_report_to_json(r);
    FUZZ_CHECK(j != NULL);
    cchc_report_t *again = NULL;
    FUZZ_CHECK(cchc_report_from_json(j, &again, &f) == CCHC_OK);
    cchc_findings_clear(&f);
    cchc_report_free(&again);
    json_decref(j);

    uint8_t *buf = NULL;
    size_t len = 0;
    FUZZ_CHECK(cchc_wire_pack_report(r, &buf, &len) == CCHC_OK);
    free(buf);
    cchc_report_free(&r);
    return 0;
}
