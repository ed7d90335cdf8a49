/* cchc_report.h: the report model, JSON <-> protobuf.
 *
 * An officer's report is JSON (the format of the files in tests/fixtures). It becomes
 * a Cchc__V1__Report (the model the wire carries and the server stores) and
 * back. This module checks structure only: known keys, JSON types, required
 * keys, text valid UTF-8 (refused otherwise) and normalised to NFC. The
 * district's rules (DOMAIN.md section 5) are a later layer: cchc_validate.
 *
 * The content kind is decided by the keys present: "inspection" or "items"
 * makes a remediation report, "task" a task_progress report, anything else
 * a periodic report. */
#ifndef CCHC_REPORT_H
#define CCHC_REPORT_H

#include "cchc/v1/cchc.pb-c.h"
#include "cchc_findings.h"

#include <jansson.h>
#include <stddef.h>

typedef Cchc__V1__Report cchc_report_t;

/* Largest report JSON the agent accepts from a file. */
#define CCHC_REPORT_MAX_JSON (4 * 1024 * 1024)
/* Structural bounds (counts, string length in bytes). */
#define CCHC_REPORT_MAX_ITEMS 10000
#define CCHC_REPORT_MAX_TEXT 65536

/* Builds a report from parsed JSON. On success returns 0 and *out (caller
 * frees with cchc_report_free). On failure returns CCHC_EINVAL and appends
 * every structural problem to f (code E000 or E050, path, vi/en message). */
int cchc_report_from_json(const json_t *root, cchc_report_t **out, cchc_findings_t *f);

/* Parses JSON text, then as above. Syntax errors are a finding with line and
 * column. */
int cchc_report_from_text(const char *text, size_t len, cchc_report_t **out, cchc_findings_t *f);

/* The JSON form of a report (new reference), in the same shape as the input
 * format; used for the server's decoded columns and for display. */
json_t *cchc_report_to_json(const cchc_report_t *r);

/* "periodic" | "remediation" | "task_progress" | NULL when no content. */
const char *cchc_report_kind(const cchc_report_t *r);

/* Frees a report made by this module or unpacked by cchc_wire; accepts NULL. */
void cchc_report_free(cchc_report_t **r);

#endif
