/* cchc_validate.c: the district's rules for a report (DOMAIN.md section 5).
 *
 * Owns the validation context (the metadata document parsed once into C
 * structs: unit, types, calendar, inspections, tasks, stored revisions, the
 * previous period's pending totals, settings) and the rules that read it.
 * Runs in the agent (offline, against synced metadata) and in the server
 * (the authority). Never logs, never exits; any report and any context are
 * survived: strings may be empty or NULL, sub-messages may be NULL.
 *
 * The rules, in the order they run (path: where the finding points):
 *
 *   code  rule                                               path
 *   E050  strings valid UTF-8, <= MAX_TEXT; lists <= MAX_ITEMS the string / list
 *   E001  key's unit == report unit (when the key is set)     $.unit
 *   E002  unit known and open on the cut-off end (or today)   $.unit
 *   E003  type known, same content kind, assigned (*)         $.type
 *   E004  period parses and is one of the type's (*);
 *         empty for remediation / task_progress               $.period
 *   E005  today >= the period's cut-off start (*)             $.period
 *   E006  stored revision not locked, not expired (*)         $.period | subject
 *   E007  revision >= 1 and > the stored one                  $.revision
 *   E010  counts in 0..100000000 (finding >= 1, percent <=100) the count
 *   E011-E013 given totals == sums of their parts             $.dossiers[i].received...
 *   W014  received == resolved + pending, or a comment        $.dossiers[i]
 *   W015  carried_over == previous period's pending           $.dossiers[i].carried_over
 *   E016  per field: overdue entries == late + pending overdue $.dossiers[i].field
 *   E017  cause and remedy specific                           $.overdue_dossiers[j].cause
 *   E018  apology slip with number, date, new_due (W018 when
 *         settings.apology_slip == "warning")                 ...apology[.number]
 *   E020  new_due > due; resolved <= new_due                   ...apology.new_due | .resolved
 *   E021  dates parse and are coherent                        the date
 *   E030  narrative results, shortcomings, causes, next_tasks $.narrative.<section>
 *   W031  document number N/BC-XXX, signer                    $.document.number | .signer
 *   E040  inspection known and of this unit                   $.inspection
 *   E041  every finding answered exactly once                 $.items | $.items[i].finding
 *   E042  a finding not remedied: cause, plan, expected_by    $.items[i].<member>
 *   W043  a remedied finding: actions and evidence            $.items[i].<member>
 *   E060  task known and assigned to this unit                $.task
 *   E000  unknown item / task status                          $.items[i].status | $.status
 *
 *   (*) skipped when the context has no types: the agent has not synced yet.
 *   E008 (same message id, different content) is the server's, not here. */
#include "cchc_validate_int.h"
#include "cchc_err.h"
#include "cchc_mem.h"
#include "cchc_wire.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define S_COUNT_MAX 100000000LL /* E010: a sane bound for any count */
#define S_MIN_CHARS 10          /* E017: characters of a specific explanation */

/* ---- text helpers ---------------------------------------------------------------------- */

static const char *s_s(const char *s)
{
    return s ? s : "";
}

/* Equal as text: byte-equal, or equal after NFC (a wire report may not be NFC). */
static int s_same(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    if (strcmp(a, b) == 0)
        return 1;
    char *na = cchc_vctx_nfc(a), *nb = cchc_vctx_nfc(b);
    int eq = na && nb && strcmp(na, nb) == 0;
    free(na);
    free(nb);
    return eq;
}

static int s_blank(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n' && *s != '\v' && *s != '\f')
            return 0;
    return 1;
}

/* s for a message, cut to fit buf (len >= 8) at a code point; invalid bytes as '?'. */
static const char *s_show(const char *s, char *buf, size_t len)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s_s(s);
    size_t o = 0;
    while (*p) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);
        size_t take = n < 1 ? 1 : (size_t)n;
        if (o + take + 4 > len) {
            memcpy(buf + o, "\xe2\x80\xa6", 3); /* … */
            o += 3;
            break;
        }
        if (n < 1)
            buf[o++] = '?';
        else
            memcpy(buf + o, p, take), o += take;
        p += take;
    }
    buf[o] = '\0';
    return buf;
}

static int s_is_space_cp(utf8proc_int32_t cp)
{
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0xa0 ||
           utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

int cchc_validate_is_specific(const char *text)
{
    static const char *const placeholders[] = {
        "-", "--",   "...", "không", "không có",        "đang xử lý", "chưa rõ",  "n/a", "na",
        "x", "none", "nil", "chưa",  "đang giải quyết", "chưa có",    "không rõ", NULL};
    if (!text || !cchc_wire_text_ok(text, strlen(text)))
        return 0;
    utf8proc_uint8_t *nfc = utf8proc_NFC((const utf8proc_uint8_t *)text);
    if (!nfc)
        return 0;
    /* trim: [b, e) holds the text without surrounding white space */
    const utf8proc_uint8_t *p = nfc, *b = NULL, *e = nfc;
    size_t chars = 0, trailing = 0;
    while (*p) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);
        if (n < 1)
            break;
        if (!s_is_space_cp(cp)) {
            if (!b)
                b = p;
            e = p + n;
            chars += trailing + 1;
            trailing = 0;
        } else if (b) {
            trailing++;
        }
        p += n;
    }
    int ok = b != NULL && chars >= S_MIN_CHARS;
    if (ok && *b == '<' && e[-1] == '>')
        ok = 0; /* an unfilled template placeholder: "<nguyên nhân>" */
    if (ok) {
        /* compare without case, and without a final full stop or similar */
        const utf8proc_uint8_t *e2 = e;
        while (e2 > b && strchr(".,;:!", e2[-1]))
            e2--;
        utf8proc_uint8_t *fold = NULL;
        utf8proc_ssize_t n =
            utf8proc_map(b, e2 - b, &fold, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
        for (const char *const *ph = placeholders; ok && n >= 0 && *ph; ph++)
            if ((size_t)n == strlen(*ph) && memcmp(fold, *ph, (size_t)n) == 0)
                ok = 0;
        free(fold);
    }
    free(nfc);
    return ok;
}

/* ---- the validation run ------------------------------------------------------------------ */

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
} s_val_t;

static const char *s_p(s_val_t *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *s_p(s_val_t *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->path, sizeof v->path, fmt, ap);
    va_end(ap);
    return v->path;
}

/* Appends a finding; takes the two messages (made by cchc_asprintf). */
static void s_emit(s_val_t *v, const char *code, const char *path, char *vi, char *en)
{
    cchc_findings_add(v->f, code, path, vi, en);
    free(vi);
    free(en);
}

#define S_F cchc_asprintf

/* The Vietnamese message is built first, then the English one: they share
 * buffers that the Vietnamese call fills (s_show), and the order in which a
 * function's arguments are evaluated is unspecified. */
#define S_EMIT(v, code, path, vi, en)                                                              \
    do {                                                                                           \
        char *vi_ = (vi);                                                                          \
        char *en_ = (en);                                                                          \
        s_emit((v), (code), (path), vi_, en_);                                                     \
    } while (0)

static int s_date(const char *s, cchc_day_t *out)
{
    *out = CCHC_DAY_NONE;
    return s && s[0] && cchc_day_parse(s, out) == CCHC_OK;
}

static void s_fmt_day(cchc_day_t d, char *buf)
{
    cchc_day_format(d, buf, 11);
}

/* ---- E050: text and list sizes ------------------------------------------------------------- */

static void s_text(s_val_t *v, const char *s, const char *path)
{
    if (!s)
        return;
    size_t len = strlen(s);
    if (len > CCHC_REPORT_MAX_TEXT)
        S_EMIT(
            v, "E050", path,
            S_F("Văn bản quá dài (%zu byte, tối đa %d): hãy rút gọn.", len, CCHC_REPORT_MAX_TEXT),
            S_F("Text too long (%zu bytes, at most %d): shorten it.", len, CCHC_REPORT_MAX_TEXT));
    else if (!cchc_wire_text_ok(s, len))
        S_EMIT(v, "E050", path,
               S_F("Văn bản chứa ký tự không hợp lệ (không phải UTF-8): lưu lại ở dạng UTF-8."),
               S_F("Text is not valid UTF-8: save it as UTF-8."));
}

static void s_list(s_val_t *v, size_t n, const char *path)
{
    if (n > CCHC_REPORT_MAX_ITEMS)
        S_EMIT(v, "E050", path,
               S_F("Danh sách quá dài (%zu mục, tối đa %d).", n, CCHC_REPORT_MAX_ITEMS),
               S_F("List too long (%zu entries, at most %d).", n, CCHC_REPORT_MAX_ITEMS));
}

static void s_text_document(s_val_t *v, const Cchc__V1__Document *d)
{
    if (!d)
        return;
    s_text(v, d->number, "$.document.number");
    s_text(v, d->date, "$.document.date");
    s_text(v, d->signer, "$.document.signer");
    s_text(v, d->capacity, "$.document.capacity");
}

static void s_rule_text(s_val_t *v)
{
    const cchc_report_t *r = v->r;
    s_text(v, r->type, "$.type");
    s_text(v, r->unit, "$.unit");
    s_text(v, r->period, "$.period");
    if (r->content_case == CCHC__V1__REPORT__CONTENT_PERIODIC && r->periodic) {
        const Cchc__V1__Periodic *p = r->periodic;
        s_text_document(v, p->document);
        if (p->narrative) {
            s_text(v, p->narrative->results, "$.narrative.results");
            s_text(v, p->narrative->shortcomings, "$.narrative.shortcomings");
            s_text(v, p->narrative->causes, "$.narrative.causes");
            s_text(v, p->narrative->next_tasks, "$.narrative.next_tasks");
            s_text(v, p->narrative->proposals, "$.narrative.proposals");
        }
        s_list(v, p->n_dossiers, "$.dossiers");
        s_list(v, p->n_overdue_dossiers, "$.overdue_dossiers");
        s_list(v, p->n_initiatives, "$.initiatives");
        s_list(v, p->n_communication, "$.communication");
        for (size_t i = 0; i < p->n_dossiers; i++) {
            if (!p->dossiers[i])
                continue;
            s_text(v, p->dossiers[i]->field, s_p(v, "$.dossiers[%zu].field", i));
            s_text(v, p->dossiers[i]->comment, s_p(v, "$.dossiers[%zu].comment", i));
        }
        for (size_t i = 0; i < p->n_overdue_dossiers; i++) {
            const Cchc__V1__OverdueDossier *d = p->overdue_dossiers[i];
            if (!d)
                continue;
            s_text(v, d->code, s_p(v, "$.overdue_dossiers[%zu].code", i));
            s_text(v, d->field, s_p(v, "$.overdue_dossiers[%zu].field", i));
            s_text(v, d->procedure, s_p(v, "$.overdue_dossiers[%zu].procedure", i));
            s_text(v, d->received, s_p(v, "$.overdue_dossiers[%zu].received", i));
            s_text(v, d->due, s_p(v, "$.overdue_dossiers[%zu].due", i));
            s_text(v, d->resolved, s_p(v, "$.overdue_dossiers[%zu].resolved", i));
            s_text(v, d->cause, s_p(v, "$.overdue_dossiers[%zu].cause", i));
            s_text(v, d->remedy, s_p(v, "$.overdue_dossiers[%zu].remedy", i));
            if (d->apology) {
                s_text(v, d->apology->number, s_p(v, "$.overdue_dossiers[%zu].apology.number", i));
                s_text(v, d->apology->date, s_p(v, "$.overdue_dossiers[%zu].apology.date", i));
                s_text(v, d->apology->new_due,
                       s_p(v, "$.overdue_dossiers[%zu].apology.new_due", i));
            }
        }
        for (size_t i = 0; i < p->n_initiatives; i++) {
            if (!p->initiatives[i])
                continue;
            s_text(v, p->initiatives[i]->title, s_p(v, "$.initiatives[%zu].title", i));
            s_text(v, p->initiatives[i]->status, s_p(v, "$.initiatives[%zu].status", i));
        }
        for (size_t i = 0; i < p->n_communication; i++)
            if (p->communication[i])
                s_text(v, p->communication[i]->form, s_p(v, "$.communication[%zu].form", i));
    } else if (r->content_case == CCHC__V1__REPORT__CONTENT_REMEDIATION && r->remediation) {
        const Cchc__V1__Remediation *m = r->remediation;
        s_text(v, m->inspection, "$.inspection");
        s_text_document(v, m->document);
        s_list(v, m->n_items, "$.items");
        for (size_t i = 0; i < m->n_items; i++) {
            const Cchc__V1__RemediationItem *it = m->items[i];
            if (!it)
                continue;
            s_text(v, it->status, s_p(v, "$.items[%zu].status", i));
            s_text(v, it->actions, s_p(v, "$.items[%zu].actions", i));
            s_text(v, it->cause, s_p(v, "$.items[%zu].cause", i));
            s_text(v, it->plan, s_p(v, "$.items[%zu].plan", i));
            s_text(v, it->expected_by, s_p(v, "$.items[%zu].expected_by", i));
            s_list(v, it->n_evidence, s_p(v, "$.items[%zu].evidence", i));
            for (size_t j = 0; j < it->n_evidence; j++)
                s_text(v, it->evidence[j], s_p(v, "$.items[%zu].evidence[%zu]", i, j));
        }
    } else if (r->content_case == CCHC__V1__REPORT__CONTENT_TASK_PROGRESS && r->task_progress) {
        const Cchc__V1__TaskProgress *t = r->task_progress;
        s_text(v, t->task, "$.task");
        s_text(v, t->status, "$.status");
        s_text(v, t->result, "$.result");
        s_list(v, t->n_evidence, "$.evidence");
        for (size_t j = 0; j < t->n_evidence; j++)
            s_text(v, t->evidence[j], s_p(v, "$.evidence[%zu]", j));
    }
}

/* ---- E001-E007: who, what, when ------------------------------------------------------------- */

static const s_type_t *s_find_type(const cchc_vctx_t *c, const char *code)
{
    for (size_t i = 0; i < c->n_types; i++)
        if (s_same(c->types[i].code, code))
            return &c->types[i];
    return NULL;
}

static const s_insp_t *s_find_insp(const cchc_vctx_t *c, const char *code)
{
    for (size_t i = 0; i < c->n_insps; i++)
        if (s_same(c->insps[i].code, code))
            return &c->insps[i];
    return NULL;
}

static const s_task_t *s_find_task(const cchc_vctx_t *c, const char *code)
{
    for (size_t i = 0; i < c->n_tasks; i++)
        if (s_same(c->tasks[i].code, code))
            return &c->tasks[i];
    return NULL;
}

/* The subject of a revision: the inspection, the task, or "" for periodic reports. */
static const char *s_subject(const cchc_report_t *r, const char **path)
{
    *path = "$.period";
    if (r->content_case == CCHC__V1__REPORT__CONTENT_REMEDIATION && r->remediation) {
        *path = "$.inspection";
        return s_s(r->remediation->inspection);
    }
    if (r->content_case == CCHC__V1__REPORT__CONTENT_TASK_PROGRESS && r->task_progress) {
        *path = "$.task";
        return s_s(r->task_progress->task);
    }
    return "";
}

static const s_rev_t *s_find_rev(const cchc_vctx_t *c, const cchc_report_t *r)
{
    const char *path, *subject = s_subject(r, &path);
    for (size_t i = 0; i < c->n_revs; i++) {
        const s_rev_t *x = &c->revs[i];
        if (s_same(x->type, s_s(r->type)) && strcmp(s_s(x->period), s_s(r->period)) == 0 &&
            s_same(s_s(x->subject), subject))
            return x;
    }
    return NULL;
}

static void s_rule_unit(s_val_t *v)
{
    const cchc_vctx_t *c = v->c;
    char a[96], b[96], d1[11], d2[11];
    if (c->key_unit && !s_same(c->key_unit, v->r->unit))
        S_EMIT(v, "E001", "$.unit",
               S_F("Khoá gửi báo cáo thuộc đơn vị \"%s\" nhưng báo cáo ghi đơn vị \"%s\": sửa "
                   "trường \"unit\" hoặc gửi từ máy của đơn vị đó.",
                   s_show(c->key_unit, a, sizeof a), s_show(v->r->unit, b, sizeof b)),
               S_F("The sending key belongs to unit \"%s\" but the report names \"%s\": correct "
                   "\"unit\" or send it from that unit's agent.",
                   a, b));
    /* A document without "unit" (nothing synced yet) says nothing: skip. */
    if (!c->unit_member)
        return;
    if (!c->has_unit || !s_same(c->unit_code, v->r->unit)) {
        S_EMIT(v, "E002", "$.unit",
               S_F("Đơn vị \"%s\" không có trong danh mục đơn vị: kiểm tra mã đơn vị hoặc đồng "
                   "bộ lại dữ liệu.",
                   s_show(v->r->unit, a, sizeof a)),
               S_F("Unit \"%s\" is unknown: check the unit code or sync the metadata again.", a));
        return;
    }
    /* The day the unit must be open: the period's cut-off end; for an event
     * report the event (the inspection's conclusion, the task's due date), so
     * that a report on a past event is judged on the unit as it was then. */
    cchc_day_t day = v->end;
    if (day == CCHC_DAY_NONE && v->insp &&
        v->r->content_case == CCHC__V1__REPORT__CONTENT_REMEDIATION)
        day = v->insp->concluded != CCHC_DAY_NONE ? v->insp->concluded : v->insp->date;
    if (day == CCHC_DAY_NONE && v->task &&
        v->r->content_case == CCHC__V1__REPORT__CONTENT_TASK_PROGRESS)
        day = v->task->due;
    if (day == CCHC_DAY_NONE && (!v->kind || strcmp(v->kind, "periodic") != 0))
        day = c->today;
    if (day == CCHC_DAY_NONE)
        return;
    if ((c->unit_from != CCHC_DAY_NONE && day < c->unit_from) ||
        (c->unit_to != CCHC_DAY_NONE && day > c->unit_to)) {
        s_fmt_day(day, d1);
        s_fmt_day(c->unit_to != CCHC_DAY_NONE && day > c->unit_to ? c->unit_to : c->unit_from, d2);
        S_EMIT(v, "E002", "$.unit",
               S_F("Đơn vị \"%s\" không còn hoặc chưa hoạt động vào ngày %s (hiệu lực đến/từ %s): "
                   "báo cáo phải do đơn vị đang hoạt động gửi.",
                   s_show(v->r->unit, a, sizeof a), d1, d2),
               S_F("Unit \"%s\" is not open on %s (validity bound %s): the report must come from "
                   "a unit open at that date.",
                   a, d1, d2));
    }
}

static int s_in_periods(const s_type_t *t, const char *code)
{
    for (size_t i = 0; i < t->n_periods; i++)
        if (strcmp(s_s(t->periods[i]), code) == 0)
            return 1;
    return 0;
}

/* E003-E005 (only with types). */
static void s_rule_type_period(s_val_t *v)
{
    const cchc_report_t *r = v->r;
    const char *kind = s_s(v->kind);
    char a[96], b[40], d1[11];
    const s_type_t *t = v->type;
    if (!t) {
        S_EMIT(v, "E003", "$.type",
               S_F("Loại báo cáo \"%s\" không có trong danh mục: kiểm tra mã loại báo cáo (ví dụ "
                   "CCHC_DK, KHAC_PHUC, NV_KH).",
                   s_show(r->type, a, sizeof a)),
               S_F("Report type \"%s\" is unknown: check the type code (e.g. CCHC_DK, "
                   "KHAC_PHUC, NV_KH).",
                   a));
    } else if (!s_same(s_s(t->content_kind), kind)) {
        S_EMIT(v, "E003", "$.type",
               S_F("Loại báo cáo \"%s\" có nội dung dạng \"%s\", nhưng báo cáo này có nội dung "
                   "dạng \"%s\": chọn đúng loại báo cáo.",
                   s_show(r->type, a, sizeof a), s_show(t->content_kind, b, sizeof b), kind),
               S_F("Report type \"%s\" has %s content but this report is %s: choose the right "
                   "type.",
                   a, b, kind));
    } else if (!t->assigned) {
        S_EMIT(v, "E003", "$.type",
               S_F("Đơn vị không được giao loại báo cáo \"%s\": kiểm tra lại loại báo cáo.",
                   s_show(r->type, a, sizeof a)),
               S_F("The unit is not assigned report type \"%s\": check the type.", a));
    }
    /* E004 */
    int periodic = strcmp(kind, "periodic") == 0;
    if (periodic && !v->period_ok) {
        S_EMIT(v, "E004", "$.period",
               S_F("Kỳ báo cáo \"%s\" không đúng định dạng: ghi ví dụ \"2024Q1\", \"2024S1\", "
                   "\"2024N9\", \"2024\" hoặc \"202406\".",
                   s_show(r->period, a, sizeof a)),
               S_F("Period \"%s\" is malformed: write e.g. \"2024Q1\", \"2024S1\", \"2024N9\", "
                   "\"2024\" or \"202406\".",
                   a));
    } else if (periodic && t && !s_in_periods(t, cchc_period_code(&v->period))) {
        S_EMIT(v, "E004", "$.period",
               S_F("Kỳ báo cáo \"%s\" không thuộc các kỳ của loại báo cáo \"%s\": chọn đúng kỳ.",
                   s_show(r->period, a, sizeof a), s_show(r->type, b, sizeof b)),
               S_F("Period \"%s\" is not one of the periods of report type \"%s\": choose a valid "
                   "period.",
                   a, b));
    } else if (!periodic && v->kind && r->period && r->period[0]) {
        S_EMIT(v, "E004", "$.period",
               S_F("Báo cáo dạng \"%s\" không ghi kỳ báo cáo: xoá trường \"period\".", kind),
               S_F("A %s report has no period: remove \"period\".", kind));
    }

    /* E005 */
    if (v->c->today != CCHC_DAY_NONE && v->start != CCHC_DAY_NONE && v->c->today < v->start) {
        s_fmt_day(v->start, d1);
        S_EMIT(v, "E005", "$.period",
               S_F("Kỳ báo cáo \"%s\" chưa bắt đầu (số liệu tính từ ngày %s): chưa thể gửi báo "
                   "cáo kỳ này.",
                   s_show(r->period, a, sizeof a), d1),
               S_F("Period \"%s\" has not started (its data cut-off begins on %s): it cannot be "
                   "reported yet.",
                   a, d1));
    }
}

/* The due date of the expected report, for E006's expiry; CCHC_DAY_NONE when unknown. */
static cchc_day_t s_due(const s_val_t *v)
{
    const s_type_t *t = v->type;
    cchc_day_t event = CCHC_DAY_NONE, due = CCHC_DAY_NONE;
    if (!t || !t->has_due)
        return CCHC_DAY_NONE;
    if (v->insp) {
        if (v->insp->due != CCHC_DAY_NONE)
            return v->insp->due;
        event = v->insp->concluded != CCHC_DAY_NONE ? v->insp->concluded : v->insp->date;
    } else if (v->task) {
        event = v->task->due;
    }
    if (cchc_due_date(&t->due, v->c->cal, v->period_ok ? &v->period : NULL, t->cutoff, event,
                      &due) != CCHC_OK)
        return CCHC_DAY_NONE;
    return due;
}

/* E006 (with types) and E007. */
static void s_rule_revision(s_val_t *v, int with_types)
{
    const cchc_report_t *r = v->r;
    const s_rev_t *rev = s_find_rev(v->c, r);
    const char *spath;
    char d1[11];
    s_subject(r, &spath);
    if (with_types && rev) {
        cchc_day_t due = s_due(v);
        int64_t exp = v->type ? v->type->expiry_days : 0;
        if (rev->locked) {
            S_EMIT(v, "E006", spath,
                   S_F("Kỳ báo cáo này đã khoá: không thể gửi bản sửa đổi; đề nghị Phòng Nội vụ "
                       "mở lại nếu cần."),
                   S_F("This period is locked: a revision cannot be sent; ask Home Affairs to "
                       "reopen it if needed."));
        } else if (v->c->today != CCHC_DAY_NONE && due != CCHC_DAY_NONE && exp > 0 &&
                   exp < 100000 && v->c->today > due + exp) {
            s_fmt_day((cchc_day_t)(due + exp), d1);
            S_EMIT(v, "E006", spath,
                   S_F("Đã quá thời hạn sửa đổi báo cáo kỳ này (đến hết ngày %s): đề nghị Phòng "
                       "Nội vụ mở lại nếu cần.",
                       d1),
                   S_F("The time to revise this report ended on %s: ask Home Affairs to reopen "
                       "the period if needed.",
                       d1));
        }
    }
    if (r->revision < 1)
        S_EMIT(v, "E007", "$.revision",
               S_F("Số lần sửa đổi (revision) phải từ 1 trở lên; bản đầu tiên ghi 1."),
               S_F("The revision must be 1 or more; the first version is 1."));
    else if (rev && r->revision <= rev->revision)
        S_EMIT(v, "E007", "$.revision",
               S_F("Đã có bản báo cáo số %lld: bản sửa đổi phải ghi revision lớn hơn (ví dụ %lld).",
                   (long long)rev->revision, (long long)rev->revision + 1),
               S_F("Revision %lld is already stored: a new version needs a higher revision (e.g. "
                   "%lld).",
                   (long long)rev->revision, (long long)rev->revision + 1));
}

/* ---- periodic: counts and overdue dossiers ------------------------------------------------- */

static int s_count(s_val_t *v, int64_t n, int64_t lo, int64_t hi, const char *path)
{
    if (n >= lo && n <= hi)
        return 1;
    S_EMIT(v, "E010", path,
           S_F("Số liệu %lld không hợp lệ: phải là số nguyên từ %lld đến %lld.", (long long)n,
               (long long)lo, (long long)hi),
           S_F("Count %lld is invalid: it must be an integer from %lld to %lld.", (long long)n,
               (long long)lo, (long long)hi));
    return 0;
}

static void s_total(s_val_t *v, const char *code, const Cchc__V1__Count *given, int64_t sum,
                    size_t i, const char *name, const char *name_vi, const char *parts)
{
    if (!given || given->value == sum)
        return;
    S_EMIT(v, code, s_p(v, "$.dossiers[%zu].%s", i, name),
           S_F("Tổng số %s ghi %lld nhưng %s cộng lại bằng %lld: sửa lại cho khớp.", name_vi,
               (long long)given->value, parts, (long long)sum),
           S_F("Total %s is %lld but its parts (%s) add up to %lld: make them agree.", name,
               (long long)given->value, parts, (long long)sum));
}

static void s_rule_dossiers(s_val_t *v, const Cchc__V1__Periodic *p)
{
    char a[96];
    for (size_t i = 0; i < p->n_dossiers; i++) {
        const Cchc__V1__DossierRow *d = p->dossiers[i];
        if (!d)
            continue;
        int ok = 1;
        const int64_t parts[] = {d->carried_over,    d->new_online,       d->new_direct_postal,
                                 d->resolved_early,  d->resolved_on_time, d->resolved_late,
                                 d->pending_in_time, d->pending_overdue};
        static const char *const names[] = {
            "carried_over",     "new_online",    "new_direct_postal", "resolved_early",
            "resolved_on_time", "resolved_late", "pending_in_time",   "pending_overdue"};
        for (size_t k = 0; k < 8; k++)
            ok &= s_count(v, parts[k], 0, S_COUNT_MAX, s_p(v, "$.dossiers[%zu].%s", i, names[k]));
        if (d->received)
            s_count(v, d->received->value, 0, S_COUNT_MAX, s_p(v, "$.dossiers[%zu].received", i));
        if (d->resolved)
            s_count(v, d->resolved->value, 0, S_COUNT_MAX, s_p(v, "$.dossiers[%zu].resolved", i));
        if (d->pending)
            s_count(v, d->pending->value, 0, S_COUNT_MAX, s_p(v, "$.dossiers[%zu].pending", i));
        if (!ok)
            continue; /* sums of bad counts mean nothing */
        int64_t recv = d->carried_over + d->new_online + d->new_direct_postal;
        int64_t res = d->resolved_early + d->resolved_on_time + d->resolved_late;
        int64_t pend = d->pending_in_time + d->pending_overdue;
        s_total(v, "E011", d->received, recv, i, "received", "hồ sơ tiếp nhận",
                "carried_over + new_online + new_direct_postal");
        s_total(v, "E012", d->resolved, res, i, "resolved", "hồ sơ đã giải quyết",
                "resolved_early + resolved_on_time + resolved_late");
        s_total(v, "E013", d->pending, pend, i, "pending", "hồ sơ đang giải quyết",
                "pending_in_time + pending_overdue");
        if (recv != res + pend && s_blank(d->comment))
            S_EMIT(v, "W014", s_p(v, "$.dossiers[%zu]", i),
                   S_F("Lĩnh vực %s: số tiếp nhận (%lld) khác số đã giải quyết cộng đang giải "
                       "quyết (%lld + %lld): kiểm tra lại số liệu hoặc ghi giải thích vào "
                       "\"comment\".",
                       s_show(d->field, a, sizeof a), (long long)recv, (long long)res,
                       (long long)pend),
                   S_F("Field %s: received (%lld) differs from resolved + pending (%lld + %lld): "
                       "check the figures or explain in \"comment\".",
                       a, (long long)recv, (long long)res, (long long)pend));
        const cchc_vctx_t *c = v->c;
        if (c->has_prev && s_same(c->prev_type, v->r->type)) {
            for (size_t k = 0; k < c->n_prev; k++) {
                if (!s_same(c->prev[k].field, d->field) || c->prev[k].pending == d->carried_over)
                    continue;
                S_EMIT(v, "W015", s_p(v, "$.dossiers[%zu].carried_over", i),
                       S_F("Lĩnh vực %s: số kỳ trước chuyển sang (%lld) khác số đang giải quyết "
                           "của kỳ trước %s (%lld): kiểm tra lại.",
                           s_show(d->field, a, sizeof a), (long long)d->carried_over,
                           s_s(c->prev_period), (long long)c->prev[k].pending),
                       S_F("Field %s: carried over (%lld) differs from the pending total of the "
                           "previous period %s (%lld): check it.",
                           a, (long long)d->carried_over, s_s(c->prev_period),
                           (long long)c->prev[k].pending));
            }
        }
        /* E016: every overdue dossier of the field is explained, no more, no less */
        size_t listed = 0;
        for (size_t j = 0; j < p->n_overdue_dossiers; j++)
            if (p->overdue_dossiers[j] && s_same(p->overdue_dossiers[j]->field, d->field))
                listed++;
        int64_t want = d->resolved_late + d->pending_overdue;
        if ((int64_t)listed != want)
            S_EMIT(v, "E016", s_p(v, "$.dossiers[%zu].field", i),
                   S_F("Lĩnh vực %s có %lld hồ sơ quá hạn (giải quyết quá hạn %lld, đang quá hạn "
                       "%lld) nhưng danh sách hồ sơ quá hạn có %zu hồ sơ: phải liệt kê và giải "
                       "trình đủ từng hồ sơ.",
                       s_show(d->field, a, sizeof a), (long long)want, (long long)d->resolved_late,
                       (long long)d->pending_overdue, listed),
                   S_F("Field %s has %lld overdue dossiers (%lld resolved late, %lld pending "
                       "overdue) but overdue_dossiers lists %zu: list and explain each one.",
                       a, (long long)want, (long long)d->resolved_late,
                       (long long)d->pending_overdue, listed));
    }
    for (size_t j = 0; j < p->n_overdue_dossiers; j++) {
        const Cchc__V1__OverdueDossier *o = p->overdue_dossiers[j];
        int found = 0;
        for (size_t i = 0; o && !found && i < p->n_dossiers; i++)
            found = p->dossiers[i] && s_same(p->dossiers[i]->field, o->field);
        if (o && !found)
            S_EMIT(v, "E016", s_p(v, "$.overdue_dossiers[%zu].field", j),
                   S_F("Hồ sơ quá hạn thuộc lĩnh vực %s nhưng bảng số liệu không có lĩnh vực này: "
                       "thêm dòng số liệu hoặc sửa lĩnh vực.",
                       s_show(o->field, a, sizeof a)),
                   S_F("An overdue dossier is in field %s, which has no row in dossiers: add the "
                       "row or correct the field.",
                       a));
    }
    for (size_t i = 0; i < p->n_communication; i++)
        if (p->communication[i])
            s_count(v, p->communication[i]->count, 0, S_COUNT_MAX,
                    s_p(v, "$.communication[%zu].count", i));
}

/* One date of an overdue dossier: parsed, or E021 when present and malformed. */
static int s_od_date(s_val_t *v, const char *s, size_t j, const char *member, const char *code,
                     cchc_day_t *out)
{
    char a[96], b[96];
    if (s_date(s, out))
        return 1;
    if (s && s[0])
        S_EMIT(
            v, "E021", s_p(v, "$.overdue_dossiers[%zu].%s", j, member),
            S_F("Hồ sơ %s: ngày \"%s\" không hợp lệ, ghi theo dạng YYYY-MM-DD (ví dụ "
                "2024-06-15).",
                s_show(code, a, sizeof a), s_show(s, b, sizeof b)),
            S_F("Dossier %s: date \"%s\" is invalid; write YYYY-MM-DD (e.g. 2024-06-15).", a, b));
    return 0;
}

static void s_rule_overdue_one(s_val_t *v, const Cchc__V1__OverdueDossier *o, size_t j)
{
    char a[96], d1[11], d2[11];
    const char *code = s_show(o->code, a, sizeof a);
    const char *slip = v->c->apology_warning ? "W018" : "E018";
    cchc_day_t rcv, due, res, adate, anew;

    /* E017 */
    if (!cchc_validate_is_specific(o->cause))
        S_EMIT(v, "E017", s_p(v, "$.overdue_dossiers[%zu].cause", j),
               S_F("Hồ sơ %s: phải giải trình cụ thể nguyên nhân quá hạn (ít nhất 10 ký tự, "
                   "không ghi \"-\", \"không\", \"đang xử lý\").",
                   code),
               S_F("Dossier %s: explain the specific cause of the delay (at least 10 "
                   "characters, not \"-\", \"none\", \"in progress\").",
                   code));
    if (!cchc_validate_is_specific(o->remedy))
        S_EMIT(v, "E017", s_p(v, "$.overdue_dossiers[%zu].remedy", j),
               S_F("Hồ sơ %s: phải nêu cụ thể cách khắc phục (ít nhất 10 ký tự, không ghi "
                   "\"-\", \"không\", \"đang xử lý\").",
                   code),
               S_F("Dossier %s: state the specific remedy (at least 10 characters, not \"-\", "
                   "\"none\", \"in progress\").",
                   code));

    /* E018 */
    if (!o->apology) {
        S_EMIT(v, slip, s_p(v, "$.overdue_dossiers[%zu].apology", j),
               S_F("Hồ sơ %s: thiếu Phiếu xin lỗi và hẹn lại ngày trả kết quả: ghi số phiếu, "
                   "ngày phiếu và ngày hẹn mới.",
                   code),
               S_F("Dossier %s: the apology slip is missing: give its number, date and new "
                   "appointment date.",
                   code));
    } else {
        static const char *const m[] = {"number", "date", "new_due"};
        static const char *const m_vi[] = {"số phiếu", "ngày phiếu", "ngày hẹn trả mới"};
        const char *val[] = {o->apology->number, o->apology->date, o->apology->new_due};
        for (int k = 0; k < 3; k++)
            if (s_blank(val[k]))
                S_EMIT(v, slip, s_p(v, "$.overdue_dossiers[%zu].apology.%s", j, m[k]),
                       S_F("Hồ sơ %s: Phiếu xin lỗi thiếu %s: bổ sung.", code, m_vi[k]),
                       S_F("Dossier %s: the apology slip has no %s: add it.", code, m[k]));
    }

    /* E021: each date parses */
    int has_rcv = s_od_date(v, o->received, j, "received", o->code, &rcv);
    int has_due = s_od_date(v, o->due, j, "due", o->code, &due);
    int has_res = s_od_date(v, o->resolved, j, "resolved", o->code, &res);
    int pending = !o->resolved || !o->resolved[0];
    int has_anew = 0;
    if (o->apology) {
        s_od_date(v, o->apology->date, j, "apology.date", o->code, &adate);
        has_anew = s_od_date(v, o->apology->new_due, j, "apology.new_due", o->code, &anew);
    }
    if (s_blank(o->received))
        S_EMIT(v, "E021", s_p(v, "$.overdue_dossiers[%zu].received", j),
               S_F("Hồ sơ %s: thiếu ngày tiếp nhận.", code),
               S_F("Dossier %s: the date received is missing.", code));
    if (s_blank(o->due))
        S_EMIT(v, "E021", s_p(v, "$.overdue_dossiers[%zu].due", j),
               S_F("Hồ sơ %s: thiếu ngày hẹn trả kết quả.", code),
               S_F("Dossier %s: the due date is missing.", code));
    /* E021: coherence */
    if (has_rcv && has_due && rcv > due)
        S_EMIT(v, "E021", s_p(v, "$.overdue_dossiers[%zu].due", j),
               S_F("Hồ sơ %s: ngày hẹn trả đứng trước ngày tiếp nhận: kiểm tra lại.", code),
               S_F("Dossier %s: the due date is before the date received: check them.", code));
    if (has_res && has_due && res <= due)
        S_EMIT(v, "E021", s_p(v, "$.overdue_dossiers[%zu].resolved", j),
               S_F("Hồ sơ %s: ngày trả kết quả không sau ngày hẹn nên không phải hồ sơ quá hạn: "
                   "kiểm tra lại ngày hoặc bỏ hồ sơ khỏi danh sách.",
                   code),
               S_F("Dossier %s: resolved on or before its due date, so it is not overdue: check "
                   "the dates or remove it from the list.",
                   code));
    if (has_res && v->end != CCHC_DAY_NONE && res > v->end) {
        s_fmt_day(v->end, d1);
        S_EMIT(v, "E021", s_p(v, "$.overdue_dossiers[%zu].resolved", j),
               S_F("Hồ sơ %s: ngày trả kết quả sau ngày chốt số liệu của kỳ (%s): hồ sơ này "
                   "thuộc kỳ sau.",
                   code, d1),
               S_F("Dossier %s: resolved after the period's cut-off end (%s): it belongs to the "
                   "next period.",
                   code, d1));
    }
    if (pending && has_due) {
        cchc_day_t ref = v->end != CCHC_DAY_NONE ? v->end : v->c->today;
        if (ref != CCHC_DAY_NONE && due >= ref) {
            s_fmt_day(ref, d1);
            S_EMIT(v, "E021", s_p(v, "$.overdue_dossiers[%zu].due", j),
                   S_F("Hồ sơ %s đang giải quyết chưa quá hạn vào ngày chốt số liệu %s: không "
                       "đưa vào danh sách quá hạn, hoặc sửa ngày hẹn.",
                       code, d1),
                   S_F("Pending dossier %s is not yet overdue on %s: leave it out of the list or "
                       "correct its due date.",
                       code, d1));
        }
    }
    /* E020 */
    if (has_anew && has_due && anew <= due) {
        s_fmt_day(due, d1);
        S_EMIT(v, "E020", s_p(v, "$.overdue_dossiers[%zu].apology.new_due", j),
               S_F("Hồ sơ %s: ngày hẹn trả mới phải sau ngày hẹn ban đầu (%s).", code, d1),
               S_F("Dossier %s: the new appointment must be after the original due date (%s).",
                   code, d1));
    }
    if (has_anew && has_res && res > anew) {
        s_fmt_day(anew, d2);
        S_EMIT(v, "E020", s_p(v, "$.overdue_dossiers[%zu].resolved", j),
               S_F("Hồ sơ %s: trả kết quả sau cả ngày hẹn lại (%s); chỉ được hẹn lại một lần, "
                   "kiểm tra lại ngày trả.",
                   code, d2),
               S_F("Dossier %s: resolved after the new appointment too (%s); a dossier may be "
                   "rescheduled once only: check the dates.",
                   code, d2));
    }
}

/* ---- documents and narrative ------------------------------------------------------------------
 */

/* ^[0-9]+/BC-[A-Z0-9Đ.-]+$ */
static int s_doc_number_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s_s(s);
    size_t n = 0;
    while (*p >= '0' && *p <= '9')
        p++, n++;
    if (!n || strncmp((const char *)p, "/BC-", 4) != 0)
        return 0;
    p += 4;
    n = 0;
    while (*p) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-')
            p++;
        else if (p[0] == 0xc4 && p[1] == 0x90) /* Đ */
            p += 2;
        else
            return 0;
        n++;
    }
    return n > 0;
}

static void s_rule_document(s_val_t *v, const Cchc__V1__Document *d)
{
    char a[96];
    cchc_day_t day;
    if (!d) {
        S_EMIT(v, "W031", "$.document",
               S_F("Thiếu thông tin văn bản (số, ký hiệu, ngày, người ký): bổ sung mục "
                   "\"document\"."),
               S_F("The document section (number, date, signer) is missing: add \"document\"."));
        return;
    }
    if (!s_doc_number_ok(d->number))
        S_EMIT(v, "W031", "$.document.number",
               S_F("Số, ký hiệu văn bản \"%s\" không đúng dạng \"số/BC-CƠQUAN\" (ví dụ "
                   "45/BC-UBND): kiểm tra lại.",
                   s_show(d->number, a, sizeof a)),
               S_F("Document number \"%s\" does not look like \"N/BC-ISSUER\" (e.g. 45/BC-UBND): "
                   "check it.",
                   a));
    if (s_blank(d->signer))
        S_EMIT(v, "W031", "$.document.signer", S_F("Thiếu người ký văn bản: ghi họ tên người ký."),
               S_F("The signer is missing: give the signer's name."));
    if (d->date && d->date[0] && !s_date(d->date, &day))
        S_EMIT(v, "E021", "$.document.date",
               S_F("Ngày văn bản \"%s\" không hợp lệ: ghi theo dạng YYYY-MM-DD.",
                   s_show(d->date, a, sizeof a)),
               S_F("Document date \"%s\" is invalid: write YYYY-MM-DD.", a));
}

static void s_rule_narrative(s_val_t *v, const Cchc__V1__Narrative *n)
{
    static const char *const key[] = {"results", "shortcomings", "causes", "next_tasks"};
    static const char *const vi[] = {"kết quả đạt được", "tồn tại, hạn chế", "nguyên nhân",
                                     "nhiệm vụ kỳ tới"};
    const char *val[] = {n ? n->results : NULL, n ? n->shortcomings : NULL, n ? n->causes : NULL,
                         n ? n->next_tasks : NULL};
    for (int k = 0; k < 4; k++)
        if (s_blank(val[k]))
            S_EMIT(v, "E030", s_p(v, "$.narrative.%s", key[k]),
                   S_F("Thiếu phần \"%s\" của báo cáo: bổ sung nội dung vào narrative.%s.", vi[k],
                       key[k]),
                   S_F("The narrative section \"%s\" is missing: write it.", key[k]));
}

static void s_rule_periodic(s_val_t *v)
{
    const Cchc__V1__Periodic *p = v->r->periodic;
    s_rule_document(v, p->document);
    s_rule_narrative(v, p->narrative);
    s_rule_dossiers(v, p);
    for (size_t j = 0; j < p->n_overdue_dossiers; j++)
        if (p->overdue_dossiers[j])
            s_rule_overdue_one(v, p->overdue_dossiers[j], j);
}

/* ---- remediation ------------------------------------------------------------------------------
 */

static void s_rule_remediation(s_val_t *v)
{
    const Cchc__V1__Remediation *m = v->r->remediation;
    const s_insp_t *in = v->insp;
    char a[96], b[160];
    cchc_day_t day;
    s_rule_document(v, m->document);
    /* Nothing synced yet (no types): the agent cannot know; the server will. */
    if (!in && v->c->n_types > 0)
        S_EMIT(v, "E040", "$.inspection",
               S_F("Không tìm thấy đợt kiểm tra \"%s\": ghi đúng mã đợt kiểm tra (ví dụ "
                   "KT-2024-05) hoặc đồng bộ lại dữ liệu.",
                   s_show(m->inspection, a, sizeof a)),
               S_F("Inspection \"%s\" is unknown: give the right inspection code (e.g. "
                   "KT-2024-05) or sync the metadata again.",
                   a));
    else if (in && !s_same(in->unit, v->r->unit)) {
        S_EMIT(v, "E040", "$.inspection",
               S_F("Đợt kiểm tra \"%s\" là của đơn vị khác (%s), không phải của đơn vị \"%s\": "
                   "chỉ báo cáo khắc phục đợt kiểm tra tại đơn vị mình.",
                   s_show(m->inspection, a, sizeof a), s_s(in->unit),
                   s_show(v->r->unit, b, sizeof b)),
               S_F("Inspection \"%s\" is of another unit (%s), not of \"%s\": report only on "
                   "inspections of your own unit.",
                   a, s_s(in->unit), b));
        in = NULL;
    }
    for (size_t i = 0; i < m->n_items; i++) {
        const Cchc__V1__RemediationItem *it = m->items[i];
        if (!it)
            continue;
        s_count(v, it->finding, 1, S_COUNT_MAX, s_p(v, "$.items[%zu].finding", i));
        const char *st = s_s(it->status);
        int remedied = strcmp(st, "remedied") == 0;
        int open = strcmp(st, "in_progress") == 0 || strcmp(st, "not_remedied") == 0;
        if (!remedied && !open)
            S_EMIT(v, "E000", s_p(v, "$.items[%zu].status", i),
                   S_F("Trạng thái \"%s\" không hợp lệ: ghi \"remedied\" (đã khắc phục), "
                       "\"in_progress\" (đang khắc phục) hoặc \"not_remedied\" (chưa khắc phục).",
                       s_show(st, a, sizeof a)),
                   S_F("Status \"%s\" is invalid: use \"remedied\", \"in_progress\" or "
                       "\"not_remedied\".",
                       a));
        if (open) {
            if (!cchc_validate_is_specific(it->cause))
                S_EMIT(v, "E042", s_p(v, "$.items[%zu].cause", i),
                       S_F("Tồn tại số %lld chưa khắc phục xong: phải nêu cụ thể nguyên nhân (ít "
                           "nhất 10 ký tự).",
                           (long long)it->finding),
                       S_F("Finding %lld is not remedied: state the specific cause (at least 10 "
                           "characters).",
                           (long long)it->finding));
            if (s_blank(it->plan))
                S_EMIT(v, "E042", s_p(v, "$.items[%zu].plan", i),
                       S_F("Tồn tại số %lld chưa khắc phục xong: phải nêu kế hoạch khắc phục.",
                           (long long)it->finding),
                       S_F("Finding %lld is not remedied: give the plan to remedy it.",
                           (long long)it->finding));
            if (!s_date(it->expected_by, &day))
                S_EMIT(v, "E042", s_p(v, "$.items[%zu].expected_by", i),
                       S_F("Tồn tại số %lld chưa khắc phục xong: phải ghi thời hạn hoàn thành "
                           "dạng YYYY-MM-DD.",
                           (long long)it->finding),
                       S_F("Finding %lld is not remedied: give the expected date as YYYY-MM-DD.",
                           (long long)it->finding));
        } else if (it->expected_by && it->expected_by[0] && !s_date(it->expected_by, &day)) {
            S_EMIT(v, "E021", s_p(v, "$.items[%zu].expected_by", i),
                   S_F("Ngày \"%s\" không hợp lệ: ghi theo dạng YYYY-MM-DD.",
                       s_show(it->expected_by, a, sizeof a)),
                   S_F("Date \"%s\" is invalid: write YYYY-MM-DD.", a));
        }
        if (remedied) {
            int evidence = 0;
            for (size_t k = 0; k < it->n_evidence; k++)
                evidence |= !s_blank(it->evidence[k]);
            if (s_blank(it->actions))
                S_EMIT(
                    v, "W043", s_p(v, "$.items[%zu].actions", i),
                    S_F("Tồn tại số %lld: nêu rõ việc đã làm để khắc phục.",
                        (long long)it->finding),
                    S_F("Finding %lld: say what was done to remedy it.", (long long)it->finding));
            if (!evidence)
                S_EMIT(v, "W043", s_p(v, "$.items[%zu].evidence", i),
                       S_F("Tồn tại số %lld: nêu ít nhất một tài liệu chứng minh (biên bản, văn "
                           "bản...).",
                           (long long)it->finding),
                       S_F("Finding %lld: name at least one piece of evidence.",
                           (long long)it->finding));
        }
    }
    if (!in)
        return;
    /* E041: each finding of the inspection exactly once */
    for (size_t i = 0; i < m->n_items; i++) {
        const Cchc__V1__RemediationItem *it = m->items[i];
        if (!it)
            continue;
        int known = 0, before = 0;
        for (size_t k = 0; k < in->n_findings; k++)
            known |= in->findings[k].no == it->finding;
        for (size_t k = 0; k < i; k++)
            before |= m->items[k] && m->items[k]->finding == it->finding;
        if (!known)
            S_EMIT(v, "E041", s_p(v, "$.items[%zu].finding", i),
                   S_F("Đợt kiểm tra %s không có tồn tại số %lld: kiểm tra lại số thứ tự.",
                       s_show(in->code, a, sizeof a), (long long)it->finding),
                   S_F("Inspection %s has no finding %lld: check the number.", a,
                       (long long)it->finding));
        else if (before)
            S_EMIT(v, "E041", s_p(v, "$.items[%zu].finding", i),
                   S_F("Tồn tại số %lld được báo cáo hơn một lần: mỗi tồn tại chỉ báo cáo một "
                       "lần, gộp nội dung lại.",
                       (long long)it->finding),
                   S_F("Finding %lld is answered more than once: answer each finding once.",
                       (long long)it->finding));
    }
    for (size_t k = 0; k < in->n_findings; k++) {
        int answered = 0;
        for (size_t i = 0; i < m->n_items; i++)
            answered |= m->items[i] && m->items[i]->finding == in->findings[k].no;
        if (!answered)
            S_EMIT(v, "E041", "$.items",
                   S_F("Chưa báo cáo kết quả khắc phục tồn tại số %lld (\"%s\"): bổ sung một mục "
                       "cho tồn tại này.",
                       (long long)in->findings[k].no, s_show(in->findings[k].text, b, sizeof b)),
                   S_F("Finding %lld (\"%s\") is not answered: add an item for it.",
                       (long long)in->findings[k].no, b));
    }
}

/* ---- task progress -----------------------------------------------------------------------------
 */

static int s_assigned_to(const cchc_vctx_t *c, const s_task_t *t, const char *unit)
{
    char *const *lists[] = {t->lead, t->support};
    size_t ns[] = {t->n_lead, t->n_support};
    if (t->assigned)
        return 1;
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < ns[l]; i++) {
            const char *x = s_s(lists[l][i]);
            if (s_same(x, unit))
                return 1;
            if (x[0] == '@' && c->has_unit && c->unit_kind && s_same(c->unit_code, unit) &&
                strcmp(x + 1, c->unit_kind) == 0)
                return 1;
        }
    }
    return 0;
}

static void s_rule_task(s_val_t *v)
{
    const Cchc__V1__TaskProgress *t = v->r->task_progress;
    const char *st = s_s(t->status);
    char a[96], b[96];
    if (strcmp(st, "in_progress") != 0 && strcmp(st, "done") != 0 && strcmp(st, "blocked") != 0)
        S_EMIT(v, "E000", "$.status",
               S_F("Trạng thái \"%s\" không hợp lệ: ghi \"in_progress\" (đang thực hiện), "
                   "\"done\" (hoàn thành) hoặc \"blocked\" (vướng mắc).",
                   s_show(st, a, sizeof a)),
               S_F("Status \"%s\" is invalid: use \"in_progress\", \"done\" or \"blocked\".", a));
    s_count(v, t->percent, 0, 100, "$.percent");
    if (!v->task && v->c->n_types == 0)
        return; /* nothing synced yet: the server decides */
    if (!v->task)
        S_EMIT(v, "E060", "$.task",
               S_F("Không tìm thấy nhiệm vụ \"%s\" trong Kế hoạch: ghi đúng mã nhiệm vụ (ví dụ "
                   "KH87-07).",
                   s_show(t->task, a, sizeof a)),
               S_F("Task \"%s\" is not in the plan: give the right task code (e.g. KH87-07).", a));
    else if (!s_assigned_to(v->c, v->task, v->r->unit))
        S_EMIT(v, "E060", "$.task",
               S_F("Nhiệm vụ \"%s\" không giao cho đơn vị \"%s\" (chủ trì hoặc phối hợp): kiểm "
                   "tra lại mã nhiệm vụ.",
                   s_show(t->task, a, sizeof a), s_show(v->r->unit, b, sizeof b)),
               S_F("Task \"%s\" is not assigned to unit \"%s\" (lead or support): check the task "
                   "code.",
                   a, b));
}

/* ---- entry point ---------------------------------------------------------------------------- */

int cchc_validate(const cchc_report_t *r, const cchc_vctx_t *ctx, cchc_findings_t *f)
{
    static const cchc_vctx_t empty = {
        .unit_from = CCHC_DAY_NONE, .unit_to = CCHC_DAY_NONE, .today = CCHC_DAY_NONE};
    size_t before = f->errors;
    s_val_t v = {.r = r, .c = ctx ? ctx : &empty, .f = f};
    v.kind = cchc_report_kind(r);
    v.start = v.end = CCHC_DAY_NONE;
    v.period_ok = r->period && r->period[0] && cchc_period_parse(r->period, &v.period) == CCHC_OK;
    if (v.kind && strcmp(v.kind, "remediation") == 0)
        v.insp = s_find_insp(v.c, r->remediation->inspection);
    else if (v.kind && strcmp(v.kind, "task_progress") == 0)
        v.task = s_find_task(v.c, r->task_progress->task);

    v.type = s_find_type(v.c, r->type);
    if (v.type && v.period_ok)
        cchc_period_range(&v.period, v.type->cutoff, &v.start, &v.end);

    s_rule_text(&v);
    s_rule_unit(&v);
    if (v.c->n_types > 0)
        s_rule_type_period(&v);
    s_rule_revision(&v, v.c->n_types > 0);
    if (!v.kind)
        S_EMIT(&v, "E000", "$",
               S_F("Báo cáo không có nội dung: cần báo cáo định kỳ, báo cáo khắc phục hoặc báo "
                   "cáo tiến độ nhiệm vụ."),
               S_F("The report has no content: it must be periodic, remediation or task "
                   "progress."));
    else if (strcmp(v.kind, "periodic") == 0)
        s_rule_periodic(&v);
    else if (strcmp(v.kind, "remediation") == 0)
        s_rule_remediation(&v);
    else
        s_rule_task(&v);
    return (int)(f->errors - before);
}
