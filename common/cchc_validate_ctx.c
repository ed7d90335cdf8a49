/* cchc_validate_ctx.c: the validation context: the metadata document (see
 * cchc_validate.h) parsed once into C structs, so that rules read plain
 * arrays. A document of the wrong shape is refused with the member named. */
#include "cchc_validate_int.h"
#include "cchc_err.h"
#include "cchc_mem.h"
#include "cchc_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- loading the document ------------------------------------------------------------ */

typedef struct {
    char *err;
    size_t errlen;
    int failed;
} s_ld_t;

/* Records the first shape problem: "types[2].periods: expected an array of strings". */
static void s_fail(s_ld_t *ld, const char *where, const char *key, const char *what)
{
    if (!ld->failed && ld->err && ld->errlen)
        snprintf(ld->err, ld->errlen, "%s%s%s: expected %s", where, where[0] && key[0] ? "." : "",
                 key, what);
    ld->failed = 1;
}

/* A copy of s in NFC, or NULL when s is not valid UTF-8. */
char *cchc_vctx_nfc(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p && *p < 0x80)
        p++;
    if (!*p) /* ASCII: valid, and NFC already */
        return cchc_strdup(s);
    if (!cchc_wire_text_ok(s, strlen(s)))
        return NULL;
    char *n = (char *)utf8proc_NFC((const utf8proc_uint8_t *)s);
    return n ? n : cchc_strdup(s);
}

/* obj.key as a new NFC string; absent or null: *out = NULL. */
static void s_ld_str(s_ld_t *ld, const json_t *obj, const char *where, const char *key, char **out)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return;
    if (!json_is_string(v) || !(*out = cchc_vctx_nfc(json_string_value(v))))
        s_fail(ld, where, key, "a UTF-8 string");
}

static void s_ld_date(s_ld_t *ld, const json_t *obj, const char *where, const char *key,
                      cchc_day_t *out)
{
    const json_t *v = json_object_get(obj, key);
    *out = CCHC_DAY_NONE;
    if (!v || json_is_null(v))
        return;
    if (!json_is_string(v) || cchc_day_parse(json_string_value(v), out) != CCHC_OK) {
        *out = CCHC_DAY_NONE;
        s_fail(ld, where, key, "a date YYYY-MM-DD");
    }
}

static void s_ld_int(s_ld_t *ld, const json_t *obj, const char *where, const char *key,
                     int64_t *out)
{
    const json_t *v = json_object_get(obj, key);
    *out = 0;
    if (!v || json_is_null(v))
        return;
    if (!json_is_integer(v))
        s_fail(ld, where, key, "an integer");
    else
        *out = json_integer_value(v);
}

static void s_ld_bool(s_ld_t *ld, const json_t *obj, const char *where, const char *key, int *out)
{
    const json_t *v = json_object_get(obj, key);
    *out = 0;
    if (!v || json_is_null(v))
        return;
    if (!json_is_boolean(v))
        s_fail(ld, where, key, "true or false");
    else
        *out = json_is_true(v);
}

static void s_ld_strs(s_ld_t *ld, const json_t *obj, const char *where, const char *key,
                      char ***out, size_t *n)
{
    const json_t *v = json_object_get(obj, key), *x;
    size_t i;
    *out = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return;
    if (!json_is_array(v)) {
        s_fail(ld, where, key, "an array of strings");
        return;
    }
    *out = cchc_calloc(json_array_size(v) + 1, sizeof **out);
    json_array_foreach(v, i, x)
    {
        char *s = json_is_string(x) ? cchc_vctx_nfc(json_string_value(x)) : NULL;
        if (!s) {
            s_fail(ld, where, key, "an array of strings");
            return;
        }
        (*out)[(*n)++] = s;
    }
}

/* obj.key as an array of objects (NULL when absent); each element is checked. */
static const json_t *s_ld_objs(s_ld_t *ld, const json_t *obj, const char *where, const char *key)
{
    const json_t *v = json_object_get(obj, key), *x;
    size_t i;
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_array(v)) {
        s_fail(ld, where, key, "an array of objects");
        return NULL;
    }
    json_array_foreach(v, i, x)
    {
        if (!json_is_object(x)) {
            char w[64];
            snprintf(w, sizeof w, "%s[%zu]", key, i);
            s_fail(ld, where, w, "an object");
            return NULL;
        }
    }
    return v;
}

static void s_ld_unit(s_ld_t *ld, cchc_vctx_t *c, const json_t *doc)
{
    const json_t *u = json_object_get(doc, "unit");
    c->unit_member = u != NULL;
    if (!u || json_is_null(u))
        return;
    if (!json_is_object(u)) {
        s_fail(ld, "", "unit", "an object or null");
        return;
    }
    c->has_unit = 1;
    s_ld_str(ld, u, "unit", "code", &c->unit_code);
    s_ld_str(ld, u, "unit", "kind", &c->unit_kind);
    s_ld_date(ld, u, "unit", "valid_from", &c->unit_from);
    s_ld_date(ld, u, "unit", "valid_to", &c->unit_to);
    s_ld_str(ld, u, "unit", "successor", &c->unit_successor);
    if (!c->unit_code)
        c->has_unit = 0;
}

static void s_ld_types(s_ld_t *ld, cchc_vctx_t *c, const json_t *doc)
{
    const json_t *arr = s_ld_objs(ld, doc, "", "types"), *o;
    size_t i;
    if (!arr)
        return;
    c->types = cchc_calloc(json_array_size(arr) + 1, sizeof *c->types);
    json_array_foreach(arr, i, o)
    {
        s_type_t *t = &c->types[c->n_types++];
        char w[32], *cut = NULL, *due = NULL;
        snprintf(w, sizeof w, "types[%zu]", i);
        s_ld_str(ld, o, w, "code", &t->code);
        s_ld_str(ld, o, w, "content_kind", &t->content_kind);
        s_ld_strs(ld, o, w, "periods", &t->periods, &t->n_periods);
        s_ld_str(ld, o, w, "cutoff_rule", &cut);
        s_ld_str(ld, o, w, "due_rule", &due);
        s_ld_int(ld, o, w, "expiry_days", &t->expiry_days);
        s_ld_bool(ld, o, w, "assigned", &t->assigned);
        t->cutoff = CCHC_CUTOFF_DEC09;
        if (cut && cchc_cutoff_parse(cut, &t->cutoff) != CCHC_OK)
            s_fail(ld, w, "cutoff_rule", "\"dec09\", \"calendar\" or \"none\"");
        if (due) {
            t->has_due = cchc_due_rule_parse(due, &t->due) == CCHC_OK;
            if (!t->has_due)
                s_fail(ld, w, "due_rule", "a due rule such as \"wd_after_cutoff:2\"");
        }
        if (!t->code)
            s_fail(ld, w, "code", "a string");
        free(cut);
        free(due);
    }
}

static void s_ld_calendar(s_ld_t *ld, cchc_vctx_t *c, const json_t *doc)
{
    const json_t *arr = s_ld_objs(ld, doc, "", "calendar"), *o;
    size_t i;
    json_array_foreach(arr, i, o)
    {
        char w[32];
        cchc_day_t day;
        cchc_cal_kind_t kind;
        const char *k = json_string_value(json_object_get(o, "kind"));
        snprintf(w, sizeof w, "calendar[%zu]", i);
        s_ld_date(ld, o, w, "date", &day);
        if (!k || cchc_cal_kind_parse(k, &kind) != CCHC_OK)
            s_fail(ld, w, "kind", "\"holiday\", \"swap_off\" or \"swap_work\"");
        else if (day == CCHC_DAY_NONE)
            s_fail(ld, w, "date", "a date YYYY-MM-DD");
        else
            cchc_calendar_add(c->cal, day, kind);
    }
}

/* The date at the end of a conclusion such as "12/TB-UBND 2024-05-15", if any. */
static cchc_day_t s_conclusion_day(const char *s)
{
    cchc_day_t d = CCHC_DAY_NONE;
    size_t n = s ? strlen(s) : 0;
    if (n >= 10 && cchc_day_parse(s + n - 10, &d) != CCHC_OK)
        d = CCHC_DAY_NONE;
    return d;
}

/* ---- looking codes up ------------------------------------------------------------------ */

static int s_ix_cmp(const void *a, const void *b)
{
    const s_ix_t *x = a, *y = b;
    int d = strcmp(x->code, y->code);
    return d ? d : (x->i > y->i) - (x->i < y->i);
}

/* The index of n entries of stride bytes whose code (NFC, or NULL) is the
 * char * at the start of each: the entries with a code, sorted. */
static s_ix_t *s_ix_build(const void *entries, size_t n, size_t stride, size_t *n_ix)
{
    s_ix_t *ix = cchc_calloc(n + 1, sizeof *ix);
    *n_ix = 0;
    for (size_t i = 0; i < n; i++) {
        const char *code = *(char *const *)((const char *)entries + i * stride);
        if (code)
            ix[(*n_ix)++] = (s_ix_t){code, i};
    }
    qsort(ix, *n_ix, sizeof *ix, s_ix_cmp);
    return ix;
}

/* The position of the first entry whose code is code, or -1. */
static long s_ix_find(const s_ix_t *ix, size_t n, const char *code)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix[mid].code, code) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp(ix[lo].code, code) == 0 ? (long)ix[lo].i : -1;
}

/* code in NFC: code itself when it is ASCII (NFC already), else a new copy
 * in *tmp; NULL when it is not valid UTF-8. */
static const char *s_nfc_key(const char *code, char **tmp)
{
    *tmp = NULL;
    for (const unsigned char *p = (const unsigned char *)code; *p; p++)
        if (*p >= 0x80)
            return *tmp = cchc_vctx_nfc(code);
    return code;
}

/* The context holding code's entry (c, or one c lies over) and the entry's
 * position in its tasks (tasks) or inspections; NULL when none has it. */
static const cchc_vctx_t *s_lookup(const cchc_vctx_t *c, const char *code, int tasks, long *at)
{
    char *tmp = NULL;
    const char *key = code ? s_nfc_key(code, &tmp) : NULL;
    const cchc_vctx_t *x = key ? c : NULL;
    for (; x; x = x->under) {
        *at = tasks ? s_ix_find(x->task_ix, x->n_task_ix, key)
                    : s_ix_find(x->insp_ix, x->n_insp_ix, key);
        if (*at >= 0)
            break;
    }
    free(tmp);
    return x;
}

const s_insp_t *cchc_vctx_insp(const cchc_vctx_t *c, const char *code)
{
    long at;
    const cchc_vctx_t *x = s_lookup(c, code, 0, &at);
    return x ? &x->insps[at] : NULL;
}

const s_task_t *cchc_vctx_task(const cchc_vctx_t *c, const char *code)
{
    long at;
    const cchc_vctx_t *x = s_lookup(c, code, 1, &at);
    return x ? &x->tasks[at] : NULL;
}

int cchc_vctx_has_task(const cchc_vctx_t *self, const char *code)
{
    return cchc_vctx_task(self, code) != NULL;
}

int cchc_vctx_has_inspection(const cchc_vctx_t *self, const char *code)
{
    return cchc_vctx_insp(self, code) != NULL;
}

static void s_ld_inspections(s_ld_t *ld, cchc_vctx_t *c, const json_t *doc)
{
    const json_t *arr = s_ld_objs(ld, doc, "", "inspections"), *o, *fo;
    size_t i, j;
    if (!arr)
        return;
    c->insps = cchc_calloc(json_array_size(arr) + 1, sizeof *c->insps);
    json_array_foreach(arr, i, o)
    {
        s_insp_t *x = &c->insps[c->n_insps++];
        char w[48], *concl = NULL;
        snprintf(w, sizeof w, "inspections[%zu]", i);
        s_ld_str(ld, o, w, "code", &x->code);
        s_ld_str(ld, o, w, "unit", &x->unit);
        s_ld_date(ld, o, w, "date", &x->date);
        s_ld_date(ld, o, w, "due", &x->due);
        s_ld_str(ld, o, w, "conclusion", &concl);
        x->concluded = s_conclusion_day(concl);
        free(concl);
        const json_t *fa = s_ld_objs(ld, o, w, "findings");
        if (!fa)
            continue;
        x->findings = cchc_calloc(json_array_size(fa) + 1, sizeof *x->findings);
        json_array_foreach(fa, j, fo)
        {
            s_ifinding_t *fd = &x->findings[x->n_findings++];
            char w2[96];
            snprintf(w2, sizeof w2, "%s.findings[%zu]", w, j);
            s_ld_int(ld, fo, w2, "no", &fd->no);
            s_ld_str(ld, fo, w2, "text", &fd->text);
        }
    }
    c->insp_ix = s_ix_build(c->insps, c->n_insps, sizeof *c->insps, &c->n_insp_ix);
}

static void s_ld_tasks(s_ld_t *ld, cchc_vctx_t *c, const json_t *doc)
{
    const json_t *arr = s_ld_objs(ld, doc, "", "tasks"), *o;
    size_t i;
    if (!arr)
        return;
    c->tasks = cchc_calloc(json_array_size(arr) + 1, sizeof *c->tasks);
    json_array_foreach(arr, i, o)
    {
        s_task_t *t = &c->tasks[c->n_tasks++];
        char w[32];
        snprintf(w, sizeof w, "tasks[%zu]", i);
        s_ld_str(ld, o, w, "code", &t->code);
        s_ld_strs(ld, o, w, "lead", &t->lead, &t->n_lead);
        s_ld_strs(ld, o, w, "support", &t->support, &t->n_support);
        s_ld_date(ld, o, w, "due", &t->due);
        s_ld_bool(ld, o, w, "assigned", &t->assigned);
    }
    c->task_ix = s_ix_build(c->tasks, c->n_tasks, sizeof *c->tasks, &c->n_task_ix);
}

static void s_ld_revisions(s_ld_t *ld, cchc_vctx_t *c, const json_t *doc)
{
    const json_t *arr = s_ld_objs(ld, doc, "", "revisions"), *o;
    size_t i;
    if (!arr)
        return;
    c->revs = cchc_calloc(json_array_size(arr) + 1, sizeof *c->revs);
    json_array_foreach(arr, i, o)
    {
        s_rev_t *x = &c->revs[c->n_revs++];
        char w[32];
        cchc_day_t first;
        snprintf(w, sizeof w, "revisions[%zu]", i);
        s_ld_str(ld, o, w, "type", &x->type);
        s_ld_str(ld, o, w, "period", &x->period);
        s_ld_str(ld, o, w, "subject", &x->subject);
        s_ld_int(ld, o, w, "revision", &x->revision);
        s_ld_bool(ld, o, w, "locked", &x->locked);
        s_ld_date(ld, o, w, "first_received", &first);
        s_ld_date(ld, o, w, "reopened_until", &x->reopened_until);
    }
}

static void s_ld_previous(s_ld_t *ld, cchc_vctx_t *c, const json_t *doc)
{
    const json_t *p = json_object_get(doc, "previous"), *pend, *v;
    const char *key;
    if (!p || json_is_null(p))
        return;
    if (!json_is_object(p)) {
        s_fail(ld, "", "previous", "an object");
        return;
    }
    c->has_prev = 1;
    s_ld_str(ld, p, "previous", "type", &c->prev_type);
    s_ld_str(ld, p, "previous", "period", &c->prev_period);
    pend = json_object_get(p, "pending");
    if (!pend || json_is_null(pend))
        return;
    if (!json_is_object(pend)) {
        s_fail(ld, "previous", "pending", "an object of integers");
        return;
    }
    c->prev = cchc_calloc(json_object_size(pend) + 1, sizeof *c->prev);
    json_object_foreach((json_t *)pend, key, v)
    {
        char *field = cchc_vctx_nfc(key);
        if (!json_is_integer(v) || !field) {
            free(field);
            s_fail(ld, "previous", "pending", "an object of integers");
            return;
        }
        c->prev[c->n_prev].field = field;
        c->prev[c->n_prev++].pending = json_integer_value(v);
    }
}

static void s_ld_settings(s_ld_t *ld, cchc_vctx_t *c, const json_t *doc)
{
    const json_t *s = json_object_get(doc, "settings");
    char *slip = NULL;
    if (!s || json_is_null(s))
        return;
    if (!json_is_object(s)) {
        s_fail(ld, "", "settings", "an object");
        return;
    }
    s_ld_str(ld, s, "settings", "apology_slip", &slip);
    if (slip && strcmp(slip, "warning") == 0)
        c->apology_warning = 1;
    else if (slip && strcmp(slip, "error") != 0)
        s_fail(ld, "settings", "apology_slip", "\"error\" or \"warning\"");
    free(slip);
}

/* "predecessors": each entry parsed as a context of its own (its "unit",
 * "inspections", "tasks", "revisions") with its "obligations". */
static void s_ld_predecessors(s_ld_t *ld, cchc_vctx_t *c, const json_t *doc)
{
    const json_t *arr = s_ld_objs(ld, doc, "", "predecessors"), *o, *ob;
    size_t i, j;
    if (!arr)
        return;
    c->preds = cchc_calloc(json_array_size(arr) + 1, sizeof *c->preds);
    json_array_foreach(arr, i, o)
    {
        char w[48], sub[256] = "";
        snprintf(w, sizeof w, "predecessors[%zu]", i);
        s_pred_t *p = &c->preds[c->n_preds];
        p->ctx = cchc_vctx_new(o, sub, sizeof sub);
        if (!p->ctx || !p->ctx->has_unit) {
            cchc_vctx_destroy(&p->ctx);
            if (!ld->failed && ld->err && ld->errlen)
                snprintf(ld->err, ld->errlen, "%s.%s", w,
                         sub[0] ? sub : "unit: expected an object with a code");
            ld->failed = 1;
            return;
        }
        c->n_preds++;
        const json_t *obls = s_ld_objs(ld, o, w, "obligations");
        if (!obls)
            continue;
        p->obl = cchc_calloc(json_array_size(obls) + 1, sizeof *p->obl);
        json_array_foreach(obls, j, ob)
        {
            char w2[96];
            snprintf(w2, sizeof w2, "%s.obligations[%zu]", w, j);
            s_oblig_t *x = &p->obl[p->n_obl++];
            s_ld_str(ld, ob, w2, "type", &x->type);
            s_ld_str(ld, ob, w2, "period", &x->period);
            s_ld_str(ld, ob, w2, "subject", &x->subject);
            s_ld_date(ld, ob, w2, "due", &x->due);
        }
    }
}

cchc_vctx_t *cchc_vctx_new(const json_t *doc, char *err, size_t errlen)
{
    s_ld_t ld = {err, errlen, 0};
    if (!json_is_object(doc)) {
        s_fail(&ld, "document", "", "an object");
        return NULL;
    }
    cchc_vctx_t *c = cchc_calloc(1, sizeof *c);
    c->unit_from = c->unit_to = CCHC_DAY_NONE;
    c->today = CCHC_DAY_NONE;
    c->cal = cchc_calendar_new();
    s_ld_unit(&ld, c, doc);
    s_ld_types(&ld, c, doc);
    s_ld_calendar(&ld, c, doc);
    s_ld_inspections(&ld, c, doc);
    s_ld_tasks(&ld, c, doc);
    s_ld_revisions(&ld, c, doc);
    s_ld_previous(&ld, c, doc);
    s_ld_settings(&ld, c, doc);
    s_ld_predecessors(&ld, c, doc);
    if (ld.failed)
        cchc_vctx_destroy(&c);
    return c;
}

int cchc_vctx_type_rules(const cchc_vctx_t *self, const char *type, cchc_cutoff_t *cutoff,
                         cchc_due_rule_t *due)
{
    for (size_t i = 0; type && i < self->n_types; i++) {
        const s_type_t *t = &self->types[i];
        if (!t->code || strcmp(t->code, type) != 0)
            continue;
        *cutoff = t->cutoff;
        if (!t->has_due)
            return 1;
        *due = t->due;
        return 0;
    }
    return -1;
}

cchc_vctx_t *cchc_vctx_for_report(const cchc_vctx_t *base, const json_t *extra, char *err,
                                  size_t errlen)
{
    s_ld_t ld = {err, errlen, 0};
    if (!json_is_object(extra)) {
        s_fail(&ld, "document", "", "an object");
        return NULL;
    }
    cchc_vctx_t x = {.unit_from = CCHC_DAY_NONE, .unit_to = CCHC_DAY_NONE};
    s_ld_inspections(&ld, &x, extra);
    s_ld_tasks(&ld, &x, extra);
    s_ld_revisions(&ld, &x, extra);
    s_ld_previous(&ld, &x, extra);
    cchc_vctx_t *c = cchc_calloc(1, sizeof *c);
    *c = *base;
    c->base = base;
    c->shell = 0;
    c->key_unit = base->key_unit ? cchc_strdup(base->key_unit) : NULL;
    c->heir = base->heir ? cchc_strdup(base->heir) : NULL;
    c->revs = x.revs, c->n_revs = x.n_revs;
    c->has_prev = x.has_prev, c->prev = x.prev, c->n_prev = x.n_prev;
    c->prev_type = x.prev_type, c->prev_period = x.prev_period;
    /* The report's own inspections and tasks (fresh), then base's. */
    c->under = base;
    c->insps = x.insps, c->n_insps = x.n_insps;
    c->insp_ix = x.insp_ix, c->n_insp_ix = x.n_insp_ix;
    c->tasks = x.tasks, c->n_tasks = x.n_tasks;
    c->task_ix = x.task_ix, c->n_task_ix = x.n_task_ix;
    if (ld.failed)
        cchc_vctx_destroy(&c);
    return c;
}

static const s_pred_t *s_find_pred(const cchc_vctx_t *self, const char *unit)
{
    for (size_t i = 0; unit && i < self->n_preds; i++) {
        const cchc_vctx_t *p = self->preds[i].ctx;
        if (p->unit_code && strcmp(p->unit_code, unit) == 0)
            return &self->preds[i];
    }
    return NULL;
}

int cchc_vctx_answers_for(const cchc_vctx_t *self, const char *unit)
{
    return self && s_find_pred(self, unit) != NULL;
}

cchc_vctx_t *cchc_vctx_for_predecessor(const cchc_vctx_t *base, const char *unit)
{
    const s_pred_t *p = s_find_pred(base, unit);
    if (!p)
        return NULL;
    const cchc_vctx_t *pc = p->ctx;
    cchc_vctx_t *c = cchc_calloc(1, sizeof *c);
    *c = *base; /* types, calendar, settings, today: base's */
    c->base = base;
    c->shell = 1;
    c->unit_member = 1;
    c->has_unit = pc->has_unit;
    c->unit_code = pc->unit_code;
    c->unit_kind = pc->unit_kind;
    c->unit_from = pc->unit_from;
    c->unit_to = pc->unit_to;
    c->unit_successor = pc->unit_successor;
    c->insps = pc->insps, c->n_insps = pc->n_insps;
    c->insp_ix = pc->insp_ix, c->n_insp_ix = pc->n_insp_ix;
    c->tasks = pc->tasks, c->n_tasks = pc->n_tasks;
    c->task_ix = pc->task_ix, c->n_task_ix = pc->n_task_ix;
    c->under = NULL;
    c->revs = pc->revs, c->n_revs = pc->n_revs;
    c->has_prev = 0, c->prev = NULL, c->n_prev = 0;
    c->prev_type = c->prev_period = NULL;
    c->preds = NULL, c->n_preds = 0;
    c->key_unit = base->key_unit ? cchc_strdup(base->key_unit) : NULL;
    c->heir = base->unit_code ? cchc_strdup(base->unit_code) : NULL;
    c->pred = p;
    return c;
}

static void s_free_strs(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void cchc_vctx_destroy(cchc_vctx_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cchc_vctx_t *c = *self_p;
    free(c->key_unit);
    free(c->heir);
    if (c->shell) {
        free(c);
        *self_p = NULL;
        return;
    }
    for (size_t i = 0; i < c->n_prev; i++)
        free(c->prev[i].field);
    free(c->prev);
    free(c->prev_type);
    free(c->prev_period);
    for (size_t i = 0; i < c->n_revs; i++) {
        free(c->revs[i].type);
        free(c->revs[i].period);
        free(c->revs[i].subject);
    }
    free(c->revs);
    for (size_t i = 0; i < c->n_tasks; i++) {
        free(c->tasks[i].code);
        s_free_strs(c->tasks[i].lead, c->tasks[i].n_lead);
        s_free_strs(c->tasks[i].support, c->tasks[i].n_support);
    }
    free(c->tasks);
    free(c->task_ix);
    for (size_t i = 0; i < c->n_insps; i++) {
        for (size_t j = 0; j < c->insps[i].n_findings; j++)
            free(c->insps[i].findings[j].text);
        free(c->insps[i].findings);
        free(c->insps[i].code);
        free(c->insps[i].unit);
    }
    free(c->insps);
    free(c->insp_ix);
    if (c->base) {
        free(c);
        *self_p = NULL;
        return;
    }
    cchc_calendar_destroy(&c->cal);
    for (size_t i = 0; i < c->n_preds; i++) {
        cchc_vctx_destroy(&c->preds[i].ctx);
        for (size_t j = 0; j < c->preds[i].n_obl; j++) {
            free(c->preds[i].obl[j].type);
            free(c->preds[i].obl[j].period);
            free(c->preds[i].obl[j].subject);
        }
        free(c->preds[i].obl);
    }
    free(c->preds);
    for (size_t i = 0; i < c->n_types; i++) {
        free(c->types[i].code);
        free(c->types[i].content_kind);
        s_free_strs(c->types[i].periods, c->types[i].n_periods);
    }
    free(c->types);
    free(c->unit_code);
    free(c->unit_kind);
    free(c->unit_successor);
    free(c);
    *self_p = NULL;
}

const char *cchc_vctx_successor(const cchc_vctx_t *self)
{
    return self ? self->unit_successor : NULL;
}

void cchc_vctx_set_key_unit(cchc_vctx_t *self, const char *unit)
{
    free(self->key_unit);
    self->key_unit = unit ? cchc_vctx_nfc(unit) : NULL;
    if (unit && !self->key_unit)
        self->key_unit = cchc_strdup(unit);
}

void cchc_vctx_set_today(cchc_vctx_t *self, cchc_day_t today)
{
    self->today = today;
}

const cchc_calendar_t *cchc_vctx_calendar(const cchc_vctx_t *self)
{
    return self->cal;
}
