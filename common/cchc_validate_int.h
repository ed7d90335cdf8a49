/* cchc_validate_int.h: the validation context's insides, shared by
 * cchc_validate_ctx.c (which builds it from the metadata document) and
 * cchc_validate.c (whose rules read it). Private to those two files. */
#ifndef CCHC_VALIDATE_INT_H
#define CCHC_VALIDATE_INT_H

#include "cchc_validate.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *code;
    char *content_kind;
    char **periods;
    size_t n_periods;
    cchc_cutoff_t cutoff;
    int has_due;
    cchc_due_rule_t due;
    int64_t expiry_days;
    int assigned;
} s_type_t;

typedef struct {
    int64_t no;
    char *text;
} s_ifinding_t;

typedef struct {
    char *code;
    char *unit;
    cchc_day_t date, concluded, due;
    s_ifinding_t *findings;
    size_t n_findings;
} s_insp_t;

typedef struct {
    char *code;
    char **lead;
    size_t n_lead;
    char **support;
    size_t n_support;
    cchc_day_t due;
    int assigned;
} s_task_t;

typedef struct {
    char *type, *period, *subject;
    int64_t revision;
    int locked;
    cchc_day_t reopened_until; /* E006 lets it through until this day; CCHC_DAY_NONE: never */
} s_rev_t;

typedef struct {
    char *field;
    int64_t pending;
} s_prev_t;

/* An obligation a closed unit left open at closure, which its heir may send. */
typedef struct {
    char *type, *period, *subject;
    cchc_day_t due;
} s_oblig_t;

/* A lookup index of codes (inspections, tasks): sorted by code, then by
 * position, so that the first of equal codes is found. Codes are NFC. */
typedef struct {
    const char *code;
    size_t i;
} s_ix_t;

/* A predecessor (the document's "predecessors"): its unit, inspections,
 * tasks and revisions as a context of their own, and its open obligations. */
typedef struct {
    cchc_vctx_t *ctx;
    s_oblig_t *obl;
    size_t n_obl;
} s_pred_t;

struct cchc_vctx {
    int unit_member; /* the document says something about the unit (maybe null) */
    int has_unit;
    char *unit_code, *unit_kind;
    cchc_day_t unit_from, unit_to; /* CCHC_DAY_NONE: open on that side */
    char *unit_successor;          /* the unit that answers for it once closed, or NULL */
    s_type_t *types;
    size_t n_types;
    cchc_calendar_t *cal;
    s_insp_t *insps;
    size_t n_insps;
    s_ix_t *insp_ix; /* n_insp_ix entries: the insps with a code */
    size_t n_insp_ix;
    s_task_t *tasks;
    size_t n_tasks;
    s_ix_t *task_ix;
    size_t n_task_ix;
    s_rev_t *revs;
    size_t n_revs;
    int has_prev;
    char *prev_type, *prev_period;
    s_prev_t *prev;
    size_t n_prev;
    int apology_warning;
    s_pred_t *preds; /* the closed units this unit answers for */
    size_t n_preds;
    char *key_unit;
    cchc_day_t today;
    /* A predecessor's context (cchc_vctx_for_predecessor): heir is the unit
     * answering for it, pred its entry in base's preds (borrowed). NULL
     * otherwise. */
    char *heir;
    const s_pred_t *pred;
    int shell; /* owns only key_unit and heir: everything else is base's or pred's */
    /* An overlay (cchc_vctx_for_report): the unit, types, calendar and
     * settings are base's; insps and tasks are the report's own, and a code
     * not among them is looked up in under (base); everything else is its
     * own. NULL otherwise. */
    const cchc_vctx_t *base;
    const cchc_vctx_t *under;
};

/* A new NFC copy of s (NULL for NULL or invalid UTF-8). */
char *cchc_vctx_nfc(const char *s);

/* The inspection or task of that code (compared in NFC), the report's own
 * before its base's; NULL when none. One normalisation and a binary search,
 * whatever the number of tasks. */
const s_insp_t *cchc_vctx_insp(const cchc_vctx_t *c, const char *code);
const s_task_t *cchc_vctx_task(const cchc_vctx_t *c, const char *code);

/* ---- shared by the rules (cchc_validate.c, cchc_validate_content.c) ---- */

#include "cchc_findings.h"

#define S_COUNT_MAX 100000000LL /* E010: a sane bound for any count */
#define S_MIN_CHARS 10          /* E017: characters of a specific explanation */

typedef struct {
    const cchc_report_t *r;
    const cchc_vctx_t *c;
    cchc_findings_t *f;
    const char *kind;     /* cchc_report_kind, or NULL */
    const s_type_t *type; /* the report's type, when the context knows it */
    int period_ok;        /* r->period parsed into period */
    cchc_period_t period;
    cchc_day_t start, end; /* the period's cut-off, when period_ok and type known */
    const s_insp_t *insp;  /* remediation: the inspection answered */
    const s_task_t *task;  /* task_progress: the task */
    char path[192];
} cchc_vrun_t;

#define S_F cchc_asprintf

/* The Vietnamese message is built first, then the English one: they share
 * buffers that the Vietnamese call fills (cchc_v_show), and the order in which a
 * function's arguments are evaluated is unspecified. */
#define S_EMIT(v, code, path, vi, en)                                                              \
    do {                                                                                           \
        char *vi_ = (vi);                                                                          \
        char *en_ = (en);                                                                          \
        cchc_v_emit((v), (code), (path), vi_, en_);                                                \
    } while (0)

const char *cchc_v_s(const char *s);
int cchc_v_same(const char *a, const char *b);
int cchc_v_blank(const char *s);
const char *cchc_v_show(const char *s, char *buf, size_t len);
const char *cchc_v_p(cchc_vrun_t *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cchc_v_date(const char *s, cchc_day_t *out);
void cchc_v_fmt_day(cchc_day_t d, char *buf);
void cchc_v_emit(cchc_vrun_t *v, const char *code, const char *path, char *vi, char *en);
void cchc_v_rule_periodic(cchc_vrun_t *v);
void cchc_v_rule_remediation(cchc_vrun_t *v);
void cchc_v_rule_task(cchc_vrun_t *v);

#endif
