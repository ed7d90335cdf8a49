/* cchc_findings.h: what a check found in a report.
 *
 * A finding has a stable code (E... refuses the report, W... is a warning),
 * the JSON path of the value it is about, and a message in Vietnamese and in
 * English. Validation appends findings; the server sends them in Nack/Ack, the
 * agent prints and stores them. */
#ifndef CCHC_FINDINGS_H
#define CCHC_FINDINGS_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
    char code[8];
    char *path;
    char *msg_vi;
    char *msg_en;
} cchc_finding_t;

typedef struct {
    cchc_finding_t *v;
    size_t n, cap;
    size_t errors, warnings;
} cchc_findings_t;

#define CCHC_FINDINGS_INIT                                                                         \
    {                                                                                              \
        0                                                                                          \
    }

/* Appends a copy of the strings. A code starting with 'E' counts as an error. */
void cchc_findings_add(cchc_findings_t *f, const char *code, const char *path, const char *vi,
                       const char *en);
/* Frees every finding; the list can be reused. */
void cchc_findings_clear(cchc_findings_t *f);
/* [{"code","path","message_vi","message_en"}, ...] (new reference). */
json_t *cchc_findings_to_json(const cchc_findings_t *f);
/* Appends findings from such a JSON array; entries of the wrong shape are skipped. */
void cchc_findings_from_json(cchc_findings_t *f, const json_t *arr);

#endif
