/* cchc_validate.h: the district's rules for a report (DOMAIN.md section 5).
 *
 * One implementation, run twice: by the agent before a report is queued
 * (offline, with the metadata it synced) and by the server, which decides
 * (with a context it builds from PostgreSQL). Errors (codes E...) refuse the
 * report; warnings (W...) are stored and shown. Every finding has its stable
 * code, the JSON path of the value, and a message in Vietnamese and English.
 *
 * Context. Rules that need to know the world (types, assignments, calendar,
 * the unit's inspections and tasks, stored revisions) read it from a context
 * built from one JSON document, the same document the server sends an agent
 * as its metadata (proto Meta.document):
 *
 * {
 *   "unit": {"code": "xa-van-son", "kind": "commune", "valid_from": "2020-01-01",
 *            "valid_to": "2025-06-30", "successor": "07621"},   // null if unknown
 *   "types": [{"code": "CCHC_DK", "name_vi": "...", "content_kind": "periodic",
 *              "periods": ["Q1","S1","Q3","Y"], "cutoff_rule": "dec09",
 *              "due_rule": "wd_after_cutoff:2", "grace_days": 0, "expiry_days": 30,
 *              "timeliness_basis": "received", "assigned": true}],
 *   "calendar": [{"date": "2024-04-29", "kind": "swap_off", "note": "..."}],
 *   "inspections": [{"code": "KT-2024-05", "unit": "xa-yen-dinh", "team": "...",
 *                    "date": "2024-05-10", "conclusion": "12/TB-UBND 2024-05-15",
 *                    "due": "2024-06-05", "status": "awaiting_remediation",
 *                    "findings": [{"no": 1, "text": "..."}]}],
 *   "tasks": [{"code": "KH87-07", "title": "...", "index": "PAPI", "dimension": "D7",
 *              "target": "improve", "lead": ["p-tnmt"], "support": ["@commune"],
 *              "due": "2024-10-31", "assigned": true}],
 *   "revisions": [{"type": "CCHC_DK", "period": "2024Q3", "subject": "",
 *                  "revision": 1, "locked": false, "first_received": "2024-09-16",
 *                  "reopened_until": "2024-11-15"}],        // optional (cchc period reopen)
 *   "previous": {"type": "CCHC_DK", "period": "2024S1",
 *                "pending": {"HO_TICH": 7}},                          // for W015; optional
 *   "settings": {"apology_slip": "error"},                             // or "warning" (E018)
 *   "predecessors": [{"unit": {"code": "xa-huu-san", "kind": "commune", "name": "...",
 *                              "valid_from": "2020-01-01", "valid_to": "2025-06-30"},
 *                     "successor": "07621",
 *                     "obligations": [{"type": "CCHC_DK", "period": "2025S1",
 *                                      "subject": "", "due": "2025-06-18"}],
 *                     "inspections": [...], "tasks": [...], "revisions": [...]}]
 * }                                                                    // closed units it answers
 * for
 *
 * Every member is optional; an absent list is an empty list. A rule whose
 * context is missing checks what it can and says nothing about the rest:
 * the agent may not know what the server knows, the server decides. */
#ifndef CCHC_VALIDATE_H
#define CCHC_VALIDATE_H

#include "cchc_findings.h"
#include "cchc_period.h"
#include "cchc_report.h"

#include <jansson.h>
#include <stdint.h>

typedef struct cchc_vctx cchc_vctx_t;

/* Builds a context from the document (borrowed; not kept). NULL with err set
 * when the document is not of the shape above (a value of the wrong type, a
 * date that does not parse). */
cchc_vctx_t *cchc_vctx_new(const json_t *doc, char *err, size_t errlen);
void cchc_vctx_destroy(cchc_vctx_t **self_p);

/* A context for one report: base (borrowed: it must outlive the result)
 * with what the report adds, from a document of the same shape holding only
 * "revisions" (the revision stored for the report's type, period and
 * subject), "previous" (W015), and the "inspections" and "tasks" the report
 * names, which replace base's of the same code. The server keeps each unit's
 * context and reads these per report: the revision and "previous" always,
 * the task or inspection only when its kept context lacks it. Key unit and today are base's
 * and may be set again. NULL with err when extra is not of that shape. */
cchc_vctx_t *cchc_vctx_for_report(const cchc_vctx_t *base, const json_t *extra, char *err,
                                  size_t errlen);

/* 1 when self (or the context it lies over) holds the task, or the
 * inspection, of that code: a report naming it needs nothing more about it
 * (cchc_vctx_for_report's "tasks" and "inspections" would repeat it). */
int cchc_vctx_has_task(const cchc_vctx_t *self, const char *code);
int cchc_vctx_has_inspection(const cchc_vctx_t *self, const char *code);

/* The context in which base's unit answers for its predecessor `unit` (a
 * closed unit of base's "predecessors", DOMAIN.md section 1): that unit's
 * validity, inspections, tasks and revisions, base's types, calendar and
 * settings, and E001 letting the key of base's unit send, from the day
 * after the predecessor's valid_to, the obligations it left open (and only
 * those). base is borrowed and must outlive the result; its key unit and
 * today are copied. NULL when unit is not one of base's predecessors. */
cchc_vctx_t *cchc_vctx_for_predecessor(const cchc_vctx_t *base, const char *unit);
/* 1 when unit is one of the predecessors self answers for. */
int cchc_vctx_answers_for(const cchc_vctx_t *self, const char *unit);
/* The unit's successor (the document's unit.successor), borrowed; NULL: none. */
const char *cchc_vctx_successor(const cchc_vctx_t *self);

/* The unit of the key that sent the report (E001). Not set: E001 is skipped. */
void cchc_vctx_set_key_unit(cchc_vctx_t *self, const char *unit);
/* "Today" as a civil date (E005, E006). Not set: those rules are skipped. */
void cchc_vctx_set_today(cchc_vctx_t *self, cchc_day_t today);
/* The cut-off rule and due rule of a type of the document: 0 with both,
 * 1 when the type has no due rule (only *cutoff), -1 when it is unknown. */
int cchc_vctx_type_rules(const cchc_vctx_t *self, const char *type, cchc_cutoff_t *cutoff,
                         cchc_due_rule_t *due);
/* The calendar of the document (borrowed, lives as long as the context). */
const cchc_calendar_t *cchc_vctx_calendar(const cchc_vctx_t *self);

/* Checks r against every rule, appending findings to f.
 * Returns the number of errors appended (0: the report may be accepted). */
int cchc_validate(const cchc_report_t *r, const cchc_vctx_t *ctx, cchc_findings_t *f);

/* E017: a specific explanation: at least 10 characters (not bytes) after
 * trimming, and not a placeholder such as "-", "không", "đang xử lý"
 * (compared without case). Exposed for the agent's template and for tests. */
int cchc_validate_is_specific(const char *text);

#endif
