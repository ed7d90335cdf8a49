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
 *   E001  key's unit == report unit (when the key is set), or
 *         the key's unit answers for the report's, closed,
 *         and the report is an obligation it left open        $.unit
 *   E002  unit known and open on the cut-off end (or today)   $.unit
 *   E003  type known, same content kind, assigned (*)         $.type
 *   E004  a periodic report's period id parses; remediation
 *         and task_progress have none; and the period is one
 *         of the type's (*)                                   $.period
 *   E005  today >= the period's cut-off start (*)             $.period
 *   E006  stored revision not locked, not expired (*),
 *         unless reopened until today or later                $.period | subject
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
 *   E040  inspection known (*) and of this unit               $.inspection
 *   E041  every finding answered exactly once                 $.items | $.items[i].finding
 *   E042  a finding not remedied: cause, plan, expected_by    $.items[i].<member>
 *   W043  a remedied finding: actions and evidence            $.items[i].<member>
 *   E060  task known (*) and assigned to this unit            $.task
 *   E000  unknown item / task status                          $.items[i].status | $.status
 *
 *   (*) skipped when the context has no types: the agent has not synced yet.
 *   Only what needs the district's data is skipped: E004's syntax, E007 and
 *   the content rules run whatever the context holds. E040 and E060 say
 *   "unknown" only with types (*), E002 only when the context has a "unit"
 *   member, W015 only with a "previous" one.
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

/* ---- text helpers ---------------------------------------------------------------------- */

const char *cchc_v_s(const char *s)
{
    return s ? s : "";
}

/* Equal as text: byte-equal, or equal after NFC (a wire report may not be NFC). */
int cchc_v_same(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    if (strcmp(a, b) == 0)
        return 1;
    int ascii = 1; /* ASCII is NFC already: different bytes, different text */
    for (const unsigned char *p = (const unsigned char *)a; ascii && *p; p++)
        ascii = *p < 0x80;
    for (const unsigned char *p = (const unsigned char *)b; ascii && *p; p++)
        ascii = *p < 0x80;
    if (ascii)
        return 0;
    char *na = cchc_vctx_nfc(a), *nb = cchc_vctx_nfc(b);
    int eq = na && nb && strcmp(na, nb) == 0;
    free(na);
    free(nb);
    return eq;
}

int cchc_v_blank(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n' && *s != '\v' && *s != '\f')
            return 0;
    return 1;
}

/* s for a message, cut to fit buf (len >= 8) at a code point; invalid bytes as '?'. */
const char *cchc_v_show(const char *s, char *buf, size_t len)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)cchc_v_s(s);
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

/* A lower bound of the characters of text in NFC between its first and last
 * non-space ones, without normalising: its code points that no composition
 * can merge into the one before (not marks, not Hangul jamo). *lt: the
 * first non-space character is '<'. */
static size_t s_chars_at_least(const char *text, int *lt)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
    size_t n = 0, trailing = 0;
    int seen = 0;
    *lt = 0;
    while (*p) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, -1, &cp);
        if (k < 1)
            return 0;
        p += k;
        if (s_is_space_cp(cp)) {
            trailing += seen;
            continue;
        }
        if (!seen)
            *lt = cp == '<';
        seen = 1;
        utf8proc_category_t cat = cp < 0x80 ? UTF8PROC_CATEGORY_LL : utf8proc_category(cp);
        int joins = cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
                    cat == UTF8PROC_CATEGORY_ME || (cp >= 0x1100 && cp <= 0x11ff) ||
                    (cp >= 0xa960 && cp <= 0xa97f) || (cp >= 0xd7b0 && cp <= 0xd7ff);
        n += trailing + !joins;
        trailing = 0;
    }
    return n;
}

/* Texts of this many characters are long enough and cannot be one of the
 * placeholders below (the longest has 15). */
#define S_SURELY_SPECIFIC (S_MIN_CHARS > 24 ? S_MIN_CHARS : 24)

int cchc_validate_is_specific(const char *text)
{
    static const char *const placeholders[] = {
        "-", "--",   "...", "không", "không có",        "đang xử lý", "chưa rõ",  "n/a", "na",
        "x", "none", "nil", "chưa",  "đang giải quyết", "chưa có",    "không rõ", NULL};
    if (!text || !cchc_wire_text_ok(text, strlen(text)))
        return 0;
    /* Most explanations are sentences: long enough, not a placeholder, not a
     * template's "<...>"; said without normalising them (the slow part). */
    int lt;
    if (s_chars_at_least(text, &lt) >= S_SURELY_SPECIFIC && !lt)
        return 1;
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

const char *cchc_v_p(cchc_vrun_t *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->path, sizeof v->path, fmt, ap);
    va_end(ap);
    return v->path;
}

/* Appends a finding; takes the two messages (made by cchc_asprintf). */
void cchc_v_emit(cchc_vrun_t *v, const char *code, const char *path, char *vi, char *en)
{
    cchc_findings_add(v->f, code, path, vi, en);
    free(vi);
    free(en);
}

int cchc_v_date(const char *s, cchc_day_t *out)
{
    *out = CCHC_DAY_NONE;
    return s && s[0] && cchc_day_parse(s, out) == CCHC_OK;
}

void cchc_v_fmt_day(cchc_day_t d, char *buf)
{
    cchc_day_format(d, buf, 11);
}

/* ---- E050: text and list sizes ------------------------------------------------------------- */

static void s_text(cchc_vrun_t *v, const char *s, const char *path)
{
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

/* Whether a text breaks E050; its path is written (cchc_v_p) only when it
 * does: a periodic report has about fifty texts, and writing each one's
 * path was a tenth of the server's time on periodic ingest (cchc-bench). */
static int s_text_bad(const char *s)
{
    size_t len = strlen(s);
    return len > CCHC_REPORT_MAX_TEXT || !cchc_wire_text_ok(s, len);
}

#define S_TEXT(v, s, ...)                                                                          \
    do {                                                                                           \
        const char *s_ = (s);                                                                      \
        if (s_ && s_text_bad(s_))                                                                  \
            s_text((v), s_, cchc_v_p((v), __VA_ARGS__));                                           \
    } while (0)

static void s_list(cchc_vrun_t *v, size_t n, const char *path)
{
    if (n > CCHC_REPORT_MAX_ITEMS)
        S_EMIT(v, "E050", path,
               S_F("Danh sách quá dài (%zu mục, tối đa %d).", n, CCHC_REPORT_MAX_ITEMS),
               S_F("List too long (%zu entries, at most %d).", n, CCHC_REPORT_MAX_ITEMS));
}

static void s_text_document(cchc_vrun_t *v, const Cchc__V1__Document *d)
{
    if (!d)
        return;
    S_TEXT(v, d->number, "$.document.number");
    S_TEXT(v, d->date, "$.document.date");
    S_TEXT(v, d->signer, "$.document.signer");
    S_TEXT(v, d->capacity, "$.document.capacity");
}

static void s_rule_text(cchc_vrun_t *v)
{
    const cchc_report_t *r = v->r;
    S_TEXT(v, r->type, "$.type");
    S_TEXT(v, r->unit, "$.unit");
    S_TEXT(v, r->period, "$.period");
    if (r->content_case == CCHC__V1__REPORT__CONTENT_PERIODIC && r->periodic) {
        const Cchc__V1__Periodic *p = r->periodic;
        s_text_document(v, p->document);
        if (p->narrative) {
            S_TEXT(v, p->narrative->results, "$.narrative.results");
            S_TEXT(v, p->narrative->shortcomings, "$.narrative.shortcomings");
            S_TEXT(v, p->narrative->causes, "$.narrative.causes");
            S_TEXT(v, p->narrative->next_tasks, "$.narrative.next_tasks");
            S_TEXT(v, p->narrative->proposals, "$.narrative.proposals");
        }
        s_list(v, p->n_dossiers, "$.dossiers");
        s_list(v, p->n_overdue_dossiers, "$.overdue_dossiers");
        s_list(v, p->n_initiatives, "$.initiatives");
        s_list(v, p->n_communication, "$.communication");
        for (size_t i = 0; i < p->n_dossiers; i++) {
            if (!p->dossiers[i])
                continue;
            S_TEXT(v, p->dossiers[i]->field, "$.dossiers[%zu].field", i);
            S_TEXT(v, p->dossiers[i]->comment, "$.dossiers[%zu].comment", i);
        }
        for (size_t i = 0; i < p->n_overdue_dossiers; i++) {
            const Cchc__V1__OverdueDossier *d = p->overdue_dossiers[i];
            if (!d)
                continue;
            S_TEXT(v, d->code, "$.overdue_dossiers[%zu].code", i);
            S_TEXT(v, d->field, "$.overdue_dossiers[%zu].field", i);
            S_TEXT(v, d->procedure, "$.overdue_dossiers[%zu].procedure", i);
            S_TEXT(v, d->received, "$.overdue_dossiers[%zu].received", i);
            S_TEXT(v, d->due, "$.overdue_dossiers[%zu].due", i);
            S_TEXT(v, d->resolved, "$.overdue_dossiers[%zu].resolved", i);
            S_TEXT(v, d->cause, "$.overdue_dossiers[%zu].cause", i);
            S_TEXT(v, d->remedy, "$.overdue_dossiers[%zu].remedy", i);
            if (d->apology) {
                S_TEXT(v, d->apology->number, "$.overdue_dossiers[%zu].apology.number", i);
                S_TEXT(v, d->apology->date, "$.overdue_dossiers[%zu].apology.date", i);
                S_TEXT(v, d->apology->new_due, "$.overdue_dossiers[%zu].apology.new_due", i);
            }
        }
        for (size_t i = 0; i < p->n_initiatives; i++) {
            if (!p->initiatives[i])
                continue;
            S_TEXT(v, p->initiatives[i]->title, "$.initiatives[%zu].title", i);
            S_TEXT(v, p->initiatives[i]->status, "$.initiatives[%zu].status", i);
        }
        for (size_t i = 0; i < p->n_communication; i++)
            if (p->communication[i])
                S_TEXT(v, p->communication[i]->form, "$.communication[%zu].form", i);
    } else if (r->content_case == CCHC__V1__REPORT__CONTENT_REMEDIATION && r->remediation) {
        const Cchc__V1__Remediation *m = r->remediation;
        S_TEXT(v, m->inspection, "$.inspection");
        s_text_document(v, m->document);
        s_list(v, m->n_items, "$.items");
        for (size_t i = 0; i < m->n_items; i++) {
            const Cchc__V1__RemediationItem *it = m->items[i];
            if (!it)
                continue;
            S_TEXT(v, it->status, "$.items[%zu].status", i);
            S_TEXT(v, it->actions, "$.items[%zu].actions", i);
            S_TEXT(v, it->cause, "$.items[%zu].cause", i);
            S_TEXT(v, it->plan, "$.items[%zu].plan", i);
            S_TEXT(v, it->expected_by, "$.items[%zu].expected_by", i);
            s_list(v, it->n_evidence, cchc_v_p(v, "$.items[%zu].evidence", i));
            for (size_t j = 0; j < it->n_evidence; j++)
                S_TEXT(v, it->evidence[j], "$.items[%zu].evidence[%zu]", i, j);
        }
    } else if (r->content_case == CCHC__V1__REPORT__CONTENT_TASK_PROGRESS && r->task_progress) {
        const Cchc__V1__TaskProgress *t = r->task_progress;
        S_TEXT(v, t->task, "$.task");
        S_TEXT(v, t->status, "$.status");
        S_TEXT(v, t->result, "$.result");
        s_list(v, t->n_evidence, "$.evidence");
        for (size_t j = 0; j < t->n_evidence; j++)
            S_TEXT(v, t->evidence[j], "$.evidence[%zu]", j);
    }
}

/* ---- E001-E007: who, what, when ------------------------------------------------------------- */

static const s_type_t *s_find_type(const cchc_vctx_t *c, const char *code)
{
    for (size_t i = 0; i < c->n_types; i++)
        if (cchc_v_same(c->types[i].code, code))
            return &c->types[i];
    return NULL;
}

/* The subject of a revision: the inspection, the task, or "" for periodic reports. */
static const char *s_subject(const cchc_report_t *r, const char **path)
{
    *path = "$.period";
    if (r->content_case == CCHC__V1__REPORT__CONTENT_REMEDIATION && r->remediation) {
        *path = "$.inspection";
        return cchc_v_s(r->remediation->inspection);
    }
    if (r->content_case == CCHC__V1__REPORT__CONTENT_TASK_PROGRESS && r->task_progress) {
        *path = "$.task";
        return cchc_v_s(r->task_progress->task);
    }
    return "";
}

static const s_rev_t *s_find_rev(const cchc_vctx_t *c, const cchc_report_t *r)
{
    const char *path, *subject = s_subject(r, &path);
    for (size_t i = 0; i < c->n_revs; i++) {
        const s_rev_t *x = &c->revs[i];
        if (cchc_v_same(x->type, cchc_v_s(r->type)) &&
            strcmp(cchc_v_s(x->period), cchc_v_s(r->period)) == 0 &&
            cchc_v_same(cchc_v_s(x->subject), subject))
            return x;
    }
    return NULL;
}

/* The obligation of the predecessor the report answers, or NULL. */
static const s_oblig_t *s_find_oblig(const cchc_vctx_t *c, const cchc_report_t *r)
{
    const char *path, *subject = s_subject(r, &path);
    for (size_t i = 0; c->pred && i < c->pred->n_obl; i++) {
        const s_oblig_t *o = &c->pred->obl[i];
        if (cchc_v_same(o->type, cchc_v_s(r->type)) &&
            strcmp(cchc_v_s(o->period), cchc_v_s(r->period)) == 0 &&
            cchc_v_same(cchc_v_s(o->subject), subject))
            return o;
    }
    return NULL;
}

/* E001 for a report the key's unit sends for its predecessor (the context
 * of cchc_vctx_for_predecessor): from the day after the predecessor's
 * valid_to, and only an obligation it left open at closure. */
static void s_rule_heir(cchc_vrun_t *v)
{
    const cchc_vctx_t *c = v->c;
    const cchc_report_t *r = v->r;
    const char *path, *subject = s_subject(r, &path);
    char a[96], b[96], t[96], w[96], d1[11];
    cchc_v_show(c->heir, a, sizeof a);
    cchc_v_show(r->unit, b, sizeof b);
    if (c->today != CCHC_DAY_NONE && c->unit_to != CCHC_DAY_NONE && c->today <= c->unit_to) {
        cchc_v_fmt_day(c->unit_to, d1);
        S_EMIT(v, "E001", "$.unit",
               S_F("Đơn vị \"%s\" còn hoạt động đến hết ngày %s và tự nộp báo cáo của mình: "
                   "\"%s\" chỉ nộp thay những báo cáo \"%s\" còn nợ từ ngày hôm sau.",
                   b, d1, a, b),
               S_F("Unit \"%s\" is open until the end of %s and sends its own reports: \"%s\" "
                   "sends those it still owes only from the day after.",
                   b, d1, a));
        return;
    }
    if (s_find_oblig(c, r))
        return;
    cchc_v_show(r->type, t, sizeof t);
    cchc_v_show(*cchc_v_s(r->period) ? r->period : subject, w, sizeof w);
    S_EMIT(v, "E001", "$.unit",
           S_F("\"%s\" chỉ được nộp thay \"%s\" những báo cáo đơn vị đó còn nợ khi sáp nhập; "
               "báo cáo %s %s không có trong số đó (xem `cchc-agent deadlines`).",
               a, b, t, w),
           S_F("\"%s\" may send for \"%s\" only the reports it still owed when it closed; %s "
               "%s is not one of them (see `cchc-agent deadlines`).",
               a, b, t, w));
}

static void s_rule_unit(cchc_vrun_t *v)
{
    const cchc_vctx_t *c = v->c;
    char a[96], b[96], d1[11], d2[11];
    if (c->key_unit && !cchc_v_same(c->key_unit, v->r->unit) && c->pred && c->heir &&
        cchc_v_same(c->key_unit, c->heir) && c->has_unit && cchc_v_same(c->unit_code, v->r->unit))
        s_rule_heir(v);
    else if (c->key_unit && !cchc_v_same(c->key_unit, v->r->unit))
        S_EMIT(v, "E001", "$.unit",
               S_F("Khoá gửi báo cáo thuộc đơn vị \"%s\" nhưng báo cáo ghi đơn vị \"%s\": sửa "
                   "trường \"unit\" hoặc gửi từ máy của đơn vị đó.",
                   cchc_v_show(c->key_unit, a, sizeof a), cchc_v_show(v->r->unit, b, sizeof b)),
               S_F("The sending key belongs to unit \"%s\" but the report names \"%s\": correct "
                   "\"unit\" or send it from that unit's agent.",
                   a, b));
    /* A document without "unit" (nothing synced yet) says nothing: skip. */
    if (!c->unit_member)
        return;
    if (!c->has_unit || !cchc_v_same(c->unit_code, v->r->unit)) {
        S_EMIT(v, "E002", "$.unit",
               S_F("Đơn vị \"%s\" không có trong danh mục đơn vị: kiểm tra mã đơn vị hoặc đồng "
                   "bộ lại dữ liệu.",
                   cchc_v_show(v->r->unit, a, sizeof a)),
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
        cchc_v_fmt_day(day, d1);
        cchc_v_fmt_day(c->unit_to != CCHC_DAY_NONE && day > c->unit_to ? c->unit_to : c->unit_from,
                       d2);
        S_EMIT(v, "E002", "$.unit",
               S_F("Đơn vị \"%s\" không còn hoặc chưa hoạt động vào ngày %s (hiệu lực đến/từ %s): "
                   "báo cáo phải do đơn vị đang hoạt động gửi.",
                   cchc_v_show(v->r->unit, a, sizeof a), d1, d2),
               S_F("Unit \"%s\" is not open on %s (validity bound %s): the report must come from "
                   "a unit open at that date.",
                   a, d1, d2));
    }
}

static int s_in_periods(const s_type_t *t, const char *code)
{
    for (size_t i = 0; i < t->n_periods; i++)
        if (strcmp(cchc_v_s(t->periods[i]), code) == 0)
            return 1;
    return 0;
}

/* The unit must report type t: its assignment, or, for a predecessor's
 * context, an obligation of that type left open at closure. */
static int s_assigned(const cchc_vrun_t *v, const s_type_t *t)
{
    if (!v->c->pred)
        return t->assigned;
    for (size_t i = 0; i < v->c->pred->n_obl; i++)
        if (cchc_v_same(v->c->pred->obl[i].type, t->code))
            return 1;
    return 0;
}

/* E004 as far as no district data is needed: a periodic report's period id
 * parses (whatever the types say, "2024Q5" is no period), and a remediation
 * or task_progress report has none. Returns 1 when it emitted. */
static int s_rule_period_syntax(cchc_vrun_t *v)
{
    const cchc_report_t *r = v->r;
    const char *kind = cchc_v_s(v->kind);
    char a[96];
    int periodic = strcmp(kind, "periodic") == 0;
    if (periodic && !v->period_ok) {
        S_EMIT(v, "E004", "$.period",
               S_F("Kỳ báo cáo \"%s\" không đúng định dạng: ghi ví dụ \"2024Q1\", \"2024S1\", "
                   "\"2024N9\", \"2024\" hoặc \"202406\".",
                   cchc_v_show(r->period, a, sizeof a)),
               S_F("Period \"%s\" is malformed: write e.g. \"2024Q1\", \"2024S1\", \"2024N9\", "
                   "\"2024\" or \"202406\".",
                   a));
        return 1;
    }
    if (!periodic && v->kind && r->period && r->period[0]) {
        S_EMIT(v, "E004", "$.period",
               S_F("Báo cáo dạng \"%s\" không ghi kỳ báo cáo: xoá trường \"period\".", kind),
               S_F("A %s report has no period: remove \"period\".", kind));
        return 1;
    }
    return 0;
}

/* E003, E004 (syntax, then the type's periods) and E005: only with types. */
static void s_rule_type_period(cchc_vrun_t *v)
{
    const cchc_report_t *r = v->r;
    const char *kind = cchc_v_s(v->kind);
    char a[96], b[40], d1[11];
    const s_type_t *t = v->type;
    if (!t) {
        S_EMIT(v, "E003", "$.type",
               S_F("Loại báo cáo \"%s\" không có trong danh mục: kiểm tra mã loại báo cáo (ví dụ "
                   "CCHC_DK, KHAC_PHUC, NV_KH).",
                   cchc_v_show(r->type, a, sizeof a)),
               S_F("Report type \"%s\" is unknown: check the type code (e.g. CCHC_DK, "
                   "KHAC_PHUC, NV_KH).",
                   a));
    } else if (!cchc_v_same(cchc_v_s(t->content_kind), kind)) {
        S_EMIT(v, "E003", "$.type",
               S_F("Loại báo cáo \"%s\" có nội dung dạng \"%s\", nhưng báo cáo này có nội dung "
                   "dạng \"%s\": chọn đúng loại báo cáo.",
                   cchc_v_show(r->type, a, sizeof a), cchc_v_show(t->content_kind, b, sizeof b),
                   kind),
               S_F("Report type \"%s\" has %s content but this report is %s: choose the right "
                   "type.",
                   a, b, kind));
    } else if (!s_assigned(v, t)) {
        S_EMIT(v, "E003", "$.type",
               S_F("Đơn vị không được giao loại báo cáo \"%s\": kiểm tra lại loại báo cáo.",
                   cchc_v_show(r->type, a, sizeof a)),
               S_F("The unit is not assigned report type \"%s\": check the type.", a));
    }
    /* E004 */
    int periodic = strcmp(kind, "periodic") == 0;
    if (!s_rule_period_syntax(v) && periodic && t &&
        !s_in_periods(t, cchc_period_code(&v->period))) {
        S_EMIT(v, "E004", "$.period",
               S_F("Kỳ báo cáo \"%s\" không thuộc các kỳ của loại báo cáo \"%s\": chọn đúng kỳ.",
                   cchc_v_show(r->period, a, sizeof a), cchc_v_show(r->type, b, sizeof b)),
               S_F("Period \"%s\" is not one of the periods of report type \"%s\": choose a valid "
                   "period.",
                   a, b));
    }

    /* E005 */
    if (v->c->today != CCHC_DAY_NONE && v->start != CCHC_DAY_NONE && v->c->today < v->start) {
        cchc_v_fmt_day(v->start, d1);
        S_EMIT(v, "E005", "$.period",
               S_F("Kỳ báo cáo \"%s\" chưa bắt đầu (số liệu tính từ ngày %s): chưa thể gửi báo "
                   "cáo kỳ này.",
                   cchc_v_show(r->period, a, sizeof a), d1),
               S_F("Period \"%s\" has not started (its data cut-off begins on %s): it cannot be "
                   "reported yet.",
                   a, d1));
    }
}

/* The due date of the expected report, for E006's expiry; CCHC_DAY_NONE when unknown. */
static cchc_day_t s_due(const cchc_vrun_t *v)
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
static void s_rule_revision(cchc_vrun_t *v, int with_types)
{
    const cchc_report_t *r = v->r;
    const s_rev_t *rev = s_find_rev(v->c, r);
    const char *spath;
    char d1[11];
    s_subject(r, &spath);
    /* An operator's reopening (cchc period reopen) lets a revision through,
     * past the lock and the expiry alike, until its day inclusive; without
     * a today it cannot be judged, and E006 stands. */
    int reopened = rev && rev->reopened_until != CCHC_DAY_NONE && v->c->today != CCHC_DAY_NONE &&
                   v->c->today <= rev->reopened_until;
    if (with_types && rev && !reopened) {
        cchc_day_t due = s_due(v);
        int64_t exp = v->type ? v->type->expiry_days : 0;
        if (rev->locked && rev->reopened_until != CCHC_DAY_NONE && v->c->today != CCHC_DAY_NONE) {
            cchc_v_fmt_day(rev->reopened_until, d1);
            S_EMIT(v, "E006", spath,
                   S_F("Kỳ báo cáo này đã khoá và thời hạn mở lại đã hết (ngày %s): không thể "
                       "gửi bản sửa đổi; đề nghị Phòng Nội vụ mở lại nếu cần.",
                       d1),
                   S_F("This period is locked and its reopening ended on %s: a revision cannot "
                       "be sent; ask Home Affairs to reopen it if needed.",
                       d1));
        } else if (rev->locked) {
            S_EMIT(v, "E006", spath,
                   S_F("Kỳ báo cáo này đã khoá: không thể gửi bản sửa đổi; đề nghị Phòng Nội vụ "
                       "mở lại nếu cần."),
                   S_F("This period is locked: a revision cannot be sent; ask Home Affairs to "
                       "reopen it if needed."));
        } else if (v->c->today != CCHC_DAY_NONE && due != CCHC_DAY_NONE && exp > 0 &&
                   exp < 100000 && v->c->today > due + exp) {
            cchc_v_fmt_day((cchc_day_t)(due + exp), d1);
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

/* ---- entry point ---------------------------------------------------------------------------- */

int cchc_validate(const cchc_report_t *r, const cchc_vctx_t *ctx, cchc_findings_t *f)
{
    static const cchc_vctx_t empty = {
        .unit_from = CCHC_DAY_NONE, .unit_to = CCHC_DAY_NONE, .today = CCHC_DAY_NONE};
    size_t before = f->errors;
    cchc_vrun_t v = {.r = r, .c = ctx ? ctx : &empty, .f = f};
    v.kind = cchc_report_kind(r);
    v.start = v.end = CCHC_DAY_NONE;
    v.period_ok = r->period && r->period[0] && cchc_period_parse(r->period, &v.period) == CCHC_OK;
    if (v.kind && strcmp(v.kind, "remediation") == 0)
        v.insp = cchc_vctx_insp(v.c, r->remediation->inspection);
    else if (v.kind && strcmp(v.kind, "task_progress") == 0)
        v.task = cchc_vctx_task(v.c, r->task_progress->task);

    v.type = s_find_type(v.c, r->type);
    if (v.type && v.period_ok)
        cchc_period_range(&v.period, v.type->cutoff, &v.start, &v.end);

    s_rule_text(&v);
    s_rule_unit(&v);
    if (v.c->n_types > 0)
        s_rule_type_period(&v);
    else
        (void)s_rule_period_syntax(&v);
    s_rule_revision(&v, v.c->n_types > 0);
    if (!v.kind)
        S_EMIT(&v, "E000", "$",
               S_F("Báo cáo không có nội dung: cần báo cáo định kỳ, báo cáo khắc phục hoặc báo "
                   "cáo tiến độ nhiệm vụ."),
               S_F("The report has no content: it must be periodic, remediation or task "
                   "progress."));
    else if (strcmp(v.kind, "periodic") == 0)
        cchc_v_rule_periodic(&v);
    else if (strcmp(v.kind, "remediation") == 0)
        cchc_v_rule_remediation(&v);
    else
        cchc_v_rule_task(&v);
    return (int)(f->errors - before);
}
