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
} s_rev_t;

typedef struct {
    char *field;
    int64_t pending;
} s_prev_t;

struct cchc_vctx {
    int unit_member; /* the document says something about the unit (maybe null) */
    int has_unit;
    char *unit_code, *unit_kind;
    cchc_day_t unit_from, unit_to; /* CCHC_DAY_NONE: open on that side */
    s_type_t *types;
    size_t n_types;
    cchc_calendar_t *cal;
    s_insp_t *insps;
    size_t n_insps;
    s_task_t *tasks;
    size_t n_tasks;
    s_rev_t *revs;
    size_t n_revs;
    int has_prev;
    char *prev_type, *prev_period;
    s_prev_t *prev;
    size_t n_prev;
    int apology_warning;
    char *key_unit;
    cchc_day_t today;
};

/* A new NFC copy of s (NULL for NULL or invalid UTF-8). */
char *cchc_vctx_nfc(const char *s);

#endif
