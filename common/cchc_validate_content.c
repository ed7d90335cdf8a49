/* cchc_validate_content.c: the rules that read a report's content: periodic
 * figures and overdue dossiers (E010-E021), document and narrative (E030,
 * W031), remediation (E040-W043) and task progress (E060). The table of every
 * rule is in cchc_validate.c. */
#include "cchc_validate_int.h"
#include "cchc_err.h"
#include "cchc_mem.h"
#include "cchc_wire.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- periodic: counts and overdue dossiers ------------------------------------------------- */

static int s_count(cchc_vrun_t *v, int64_t n, int64_t lo, int64_t hi, const char *path)
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

/* s_count with its path written (cchc_v_p) only for a count out of range:
 * a periodic report has about twenty counts a row of dossiers. */
#define S_COUNT(v, n, lo, hi, ...)                                                                 \
    ((n) >= (lo) && (n) <= (hi) ? 1 : s_count((v), (n), (lo), (hi), cchc_v_p((v), __VA_ARGS__)))

static void s_total(cchc_vrun_t *v, const char *code, const Cchc__V1__Count *given, int64_t sum,
                    size_t i, const char *name, const char *name_vi, const char *parts)
{
    if (!given || given->value == sum)
        return;
    S_EMIT(v, code, cchc_v_p(v, "$.dossiers[%zu].%s", i, name),
           S_F("Tổng số %s ghi %lld nhưng %s cộng lại bằng %lld: sửa lại cho khớp.", name_vi,
               (long long)given->value, parts, (long long)sum),
           S_F("Total %s is %lld but its parts (%s) add up to %lld: make them agree.", name,
               (long long)given->value, parts, (long long)sum));
}

static void s_rule_dossiers(cchc_vrun_t *v, const Cchc__V1__Periodic *p)
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
            ok &= S_COUNT(v, parts[k], 0, S_COUNT_MAX, "$.dossiers[%zu].%s", i, names[k]);
        if (d->received)
            S_COUNT(v, d->received->value, 0, S_COUNT_MAX, "$.dossiers[%zu].received", i);
        if (d->resolved)
            S_COUNT(v, d->resolved->value, 0, S_COUNT_MAX, "$.dossiers[%zu].resolved", i);
        if (d->pending)
            S_COUNT(v, d->pending->value, 0, S_COUNT_MAX, "$.dossiers[%zu].pending", i);
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
        if (recv != res + pend && cchc_v_blank(d->comment))
            S_EMIT(v, "W014", cchc_v_p(v, "$.dossiers[%zu]", i),
                   S_F("Lĩnh vực %s: số tiếp nhận (%lld) khác số đã giải quyết cộng đang giải "
                       "quyết (%lld + %lld): kiểm tra lại số liệu hoặc ghi giải thích vào "
                       "\"comment\".",
                       cchc_v_show(d->field, a, sizeof a), (long long)recv, (long long)res,
                       (long long)pend),
                   S_F("Field %s: received (%lld) differs from resolved + pending (%lld + %lld): "
                       "check the figures or explain in \"comment\".",
                       a, (long long)recv, (long long)res, (long long)pend));
        const cchc_vctx_t *c = v->c;
        if (c->has_prev && cchc_v_same(c->prev_type, v->r->type)) {
            for (size_t k = 0; k < c->n_prev; k++) {
                if (!cchc_v_same(c->prev[k].field, d->field) ||
                    c->prev[k].pending == d->carried_over)
                    continue;
                S_EMIT(v, "W015", cchc_v_p(v, "$.dossiers[%zu].carried_over", i),
                       S_F("Lĩnh vực %s: số kỳ trước chuyển sang (%lld) khác số đang giải quyết "
                           "của kỳ trước %s (%lld): kiểm tra lại.",
                           cchc_v_show(d->field, a, sizeof a), (long long)d->carried_over,
                           cchc_v_s(c->prev_period), (long long)c->prev[k].pending),
                       S_F("Field %s: carried over (%lld) differs from the pending total of the "
                           "previous period %s (%lld): check it.",
                           a, (long long)d->carried_over, cchc_v_s(c->prev_period),
                           (long long)c->prev[k].pending));
            }
        }
        /* E016: every overdue dossier of the field is explained, no more, no less */
        size_t listed = 0;
        for (size_t j = 0; j < p->n_overdue_dossiers; j++)
            if (p->overdue_dossiers[j] && cchc_v_same(p->overdue_dossiers[j]->field, d->field))
                listed++;
        int64_t want = d->resolved_late + d->pending_overdue;
        if ((int64_t)listed != want)
            S_EMIT(v, "E016", cchc_v_p(v, "$.dossiers[%zu].field", i),
                   S_F("Lĩnh vực %s có %lld hồ sơ quá hạn (giải quyết quá hạn %lld, đang quá hạn "
                       "%lld) nhưng danh sách hồ sơ quá hạn có %zu hồ sơ: phải liệt kê và giải "
                       "trình đủ từng hồ sơ.",
                       cchc_v_show(d->field, a, sizeof a), (long long)want,
                       (long long)d->resolved_late, (long long)d->pending_overdue, listed),
                   S_F("Field %s has %lld overdue dossiers (%lld resolved late, %lld pending "
                       "overdue) but overdue_dossiers lists %zu: list and explain each one.",
                       a, (long long)want, (long long)d->resolved_late,
                       (long long)d->pending_overdue, listed));
    }
    for (size_t j = 0; j < p->n_overdue_dossiers; j++) {
        const Cchc__V1__OverdueDossier *o = p->overdue_dossiers[j];
        int found = 0;
        for (size_t i = 0; o && !found && i < p->n_dossiers; i++)
            found = p->dossiers[i] && cchc_v_same(p->dossiers[i]->field, o->field);
        if (o && !found)
            S_EMIT(v, "E016", cchc_v_p(v, "$.overdue_dossiers[%zu].field", j),
                   S_F("Hồ sơ quá hạn thuộc lĩnh vực %s nhưng bảng số liệu không có lĩnh vực này: "
                       "thêm dòng số liệu hoặc sửa lĩnh vực.",
                       cchc_v_show(o->field, a, sizeof a)),
                   S_F("An overdue dossier is in field %s, which has no row in dossiers: add the "
                       "row or correct the field.",
                       a));
    }
    for (size_t i = 0; i < p->n_communication; i++)
        if (p->communication[i])
            S_COUNT(v, p->communication[i]->count, 0, S_COUNT_MAX, "$.communication[%zu].count", i);
}

/* One date of an overdue dossier: parsed, or E021 when present and malformed. */
static int s_od_date(cchc_vrun_t *v, const char *s, size_t j, const char *member, const char *code,
                     cchc_day_t *out)
{
    char a[96], b[96];
    if (cchc_v_date(s, out))
        return 1;
    if (s && s[0])
        S_EMIT(
            v, "E021", cchc_v_p(v, "$.overdue_dossiers[%zu].%s", j, member),
            S_F("Hồ sơ %s: ngày \"%s\" không hợp lệ, ghi theo dạng YYYY-MM-DD (ví dụ "
                "2024-06-15).",
                cchc_v_show(code, a, sizeof a), cchc_v_show(s, b, sizeof b)),
            S_F("Dossier %s: date \"%s\" is invalid; write YYYY-MM-DD (e.g. 2024-06-15).", a, b));
    return 0;
}

static void s_rule_overdue_one(cchc_vrun_t *v, const Cchc__V1__OverdueDossier *o, size_t j)
{
    char a[96], d1[11], d2[11];
    const char *code = cchc_v_show(o->code, a, sizeof a);
    const char *slip = v->c->apology_warning ? "W018" : "E018";
    cchc_day_t rcv, due, res, adate, anew;

    /* E017 */
    if (!cchc_validate_is_specific(o->cause))
        S_EMIT(v, "E017", cchc_v_p(v, "$.overdue_dossiers[%zu].cause", j),
               S_F("Hồ sơ %s: phải giải trình cụ thể nguyên nhân quá hạn (ít nhất 10 ký tự, "
                   "không ghi \"-\", \"không\", \"đang xử lý\").",
                   code),
               S_F("Dossier %s: explain the specific cause of the delay (at least 10 "
                   "characters, not \"-\", \"none\", \"in progress\").",
                   code));
    if (!cchc_validate_is_specific(o->remedy))
        S_EMIT(v, "E017", cchc_v_p(v, "$.overdue_dossiers[%zu].remedy", j),
               S_F("Hồ sơ %s: phải nêu cụ thể cách khắc phục (ít nhất 10 ký tự, không ghi "
                   "\"-\", \"không\", \"đang xử lý\").",
                   code),
               S_F("Dossier %s: state the specific remedy (at least 10 characters, not \"-\", "
                   "\"none\", \"in progress\").",
                   code));

    /* E018 */
    if (!o->apology) {
        S_EMIT(v, slip, cchc_v_p(v, "$.overdue_dossiers[%zu].apology", j),
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
            if (cchc_v_blank(val[k]))
                S_EMIT(v, slip, cchc_v_p(v, "$.overdue_dossiers[%zu].apology.%s", j, m[k]),
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
    if (cchc_v_blank(o->received))
        S_EMIT(v, "E021", cchc_v_p(v, "$.overdue_dossiers[%zu].received", j),
               S_F("Hồ sơ %s: thiếu ngày tiếp nhận.", code),
               S_F("Dossier %s: the date received is missing.", code));
    if (cchc_v_blank(o->due))
        S_EMIT(v, "E021", cchc_v_p(v, "$.overdue_dossiers[%zu].due", j),
               S_F("Hồ sơ %s: thiếu ngày hẹn trả kết quả.", code),
               S_F("Dossier %s: the due date is missing.", code));
    /* E021: coherence */
    if (has_rcv && has_due && rcv > due)
        S_EMIT(v, "E021", cchc_v_p(v, "$.overdue_dossiers[%zu].due", j),
               S_F("Hồ sơ %s: ngày hẹn trả đứng trước ngày tiếp nhận: kiểm tra lại.", code),
               S_F("Dossier %s: the due date is before the date received: check them.", code));
    if (has_res && has_due && res <= due)
        S_EMIT(v, "E021", cchc_v_p(v, "$.overdue_dossiers[%zu].resolved", j),
               S_F("Hồ sơ %s: ngày trả kết quả không sau ngày hẹn nên không phải hồ sơ quá hạn: "
                   "kiểm tra lại ngày hoặc bỏ hồ sơ khỏi danh sách.",
                   code),
               S_F("Dossier %s: resolved on or before its due date, so it is not overdue: check "
                   "the dates or remove it from the list.",
                   code));
    if (has_res && v->end != CCHC_DAY_NONE && res > v->end) {
        cchc_v_fmt_day(v->end, d1);
        S_EMIT(v, "E021", cchc_v_p(v, "$.overdue_dossiers[%zu].resolved", j),
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
            cchc_v_fmt_day(ref, d1);
            S_EMIT(v, "E021", cchc_v_p(v, "$.overdue_dossiers[%zu].due", j),
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
        cchc_v_fmt_day(due, d1);
        S_EMIT(v, "E020", cchc_v_p(v, "$.overdue_dossiers[%zu].apology.new_due", j),
               S_F("Hồ sơ %s: ngày hẹn trả mới phải sau ngày hẹn ban đầu (%s).", code, d1),
               S_F("Dossier %s: the new appointment must be after the original due date (%s).",
                   code, d1));
    }
    if (has_anew && has_res && res > anew) {
        cchc_v_fmt_day(anew, d2);
        S_EMIT(v, "E020", cchc_v_p(v, "$.overdue_dossiers[%zu].resolved", j),
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
    const unsigned char *p = (const unsigned char *)cchc_v_s(s);
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

static void s_rule_document(cchc_vrun_t *v, const Cchc__V1__Document *d)
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
                   cchc_v_show(d->number, a, sizeof a)),
               S_F("Document number \"%s\" does not look like \"N/BC-ISSUER\" (e.g. 45/BC-UBND): "
                   "check it.",
                   a));
    if (cchc_v_blank(d->signer))
        S_EMIT(v, "W031", "$.document.signer", S_F("Thiếu người ký văn bản: ghi họ tên người ký."),
               S_F("The signer is missing: give the signer's name."));
    if (d->date && d->date[0] && !cchc_v_date(d->date, &day))
        S_EMIT(v, "E021", "$.document.date",
               S_F("Ngày văn bản \"%s\" không hợp lệ: ghi theo dạng YYYY-MM-DD.",
                   cchc_v_show(d->date, a, sizeof a)),
               S_F("Document date \"%s\" is invalid: write YYYY-MM-DD.", a));
}

static void s_rule_narrative(cchc_vrun_t *v, const Cchc__V1__Narrative *n)
{
    static const char *const key[] = {"results", "shortcomings", "causes", "next_tasks"};
    static const char *const vi[] = {"kết quả đạt được", "tồn tại, hạn chế", "nguyên nhân",
                                     "nhiệm vụ kỳ tới"};
    const char *val[] = {n ? n->results : NULL, n ? n->shortcomings : NULL, n ? n->causes : NULL,
                         n ? n->next_tasks : NULL};
    for (int k = 0; k < 4; k++)
        if (cchc_v_blank(val[k]))
            S_EMIT(v, "E030", cchc_v_p(v, "$.narrative.%s", key[k]),
                   S_F("Thiếu phần \"%s\" của báo cáo: bổ sung nội dung vào narrative.%s.", vi[k],
                       key[k]),
                   S_F("The narrative section \"%s\" is missing: write it.", key[k]));
}

void cchc_v_rule_periodic(cchc_vrun_t *v)
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

void cchc_v_rule_remediation(cchc_vrun_t *v)
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
                   cchc_v_show(m->inspection, a, sizeof a)),
               S_F("Inspection \"%s\" is unknown: give the right inspection code (e.g. "
                   "KT-2024-05) or sync the metadata again.",
                   a));
    else if (in && !cchc_v_same(in->unit, v->r->unit)) {
        S_EMIT(v, "E040", "$.inspection",
               S_F("Đợt kiểm tra \"%s\" là của đơn vị khác (%s), không phải của đơn vị \"%s\": "
                   "chỉ báo cáo khắc phục đợt kiểm tra tại đơn vị mình.",
                   cchc_v_show(m->inspection, a, sizeof a), cchc_v_s(in->unit),
                   cchc_v_show(v->r->unit, b, sizeof b)),
               S_F("Inspection \"%s\" is of another unit (%s), not of \"%s\": report only on "
                   "inspections of your own unit.",
                   a, cchc_v_s(in->unit), b));
        in = NULL;
    }
    for (size_t i = 0; i < m->n_items; i++) {
        const Cchc__V1__RemediationItem *it = m->items[i];
        if (!it)
            continue;
        S_COUNT(v, it->finding, 1, S_COUNT_MAX, "$.items[%zu].finding", i);
        const char *st = cchc_v_s(it->status);
        int remedied = strcmp(st, "remedied") == 0;
        int open = strcmp(st, "in_progress") == 0 || strcmp(st, "not_remedied") == 0;
        if (!remedied && !open)
            S_EMIT(v, "E000", cchc_v_p(v, "$.items[%zu].status", i),
                   S_F("Trạng thái \"%s\" không hợp lệ: ghi \"remedied\" (đã khắc phục), "
                       "\"in_progress\" (đang khắc phục) hoặc \"not_remedied\" (chưa khắc phục).",
                       cchc_v_show(st, a, sizeof a)),
                   S_F("Status \"%s\" is invalid: use \"remedied\", \"in_progress\" or "
                       "\"not_remedied\".",
                       a));
        if (open) {
            if (!cchc_validate_is_specific(it->cause))
                S_EMIT(v, "E042", cchc_v_p(v, "$.items[%zu].cause", i),
                       S_F("Tồn tại số %lld chưa khắc phục xong: phải nêu cụ thể nguyên nhân (ít "
                           "nhất 10 ký tự).",
                           (long long)it->finding),
                       S_F("Finding %lld is not remedied: state the specific cause (at least 10 "
                           "characters).",
                           (long long)it->finding));
            if (cchc_v_blank(it->plan))
                S_EMIT(v, "E042", cchc_v_p(v, "$.items[%zu].plan", i),
                       S_F("Tồn tại số %lld chưa khắc phục xong: phải nêu kế hoạch khắc phục.",
                           (long long)it->finding),
                       S_F("Finding %lld is not remedied: give the plan to remedy it.",
                           (long long)it->finding));
            if (!cchc_v_date(it->expected_by, &day))
                S_EMIT(v, "E042", cchc_v_p(v, "$.items[%zu].expected_by", i),
                       S_F("Tồn tại số %lld chưa khắc phục xong: phải ghi thời hạn hoàn thành "
                           "dạng YYYY-MM-DD.",
                           (long long)it->finding),
                       S_F("Finding %lld is not remedied: give the expected date as YYYY-MM-DD.",
                           (long long)it->finding));
        } else if (it->expected_by && it->expected_by[0] && !cchc_v_date(it->expected_by, &day)) {
            S_EMIT(v, "E021", cchc_v_p(v, "$.items[%zu].expected_by", i),
                   S_F("Ngày \"%s\" không hợp lệ: ghi theo dạng YYYY-MM-DD.",
                       cchc_v_show(it->expected_by, a, sizeof a)),
                   S_F("Date \"%s\" is invalid: write YYYY-MM-DD.", a));
        }
        if (remedied) {
            int evidence = 0;
            for (size_t k = 0; k < it->n_evidence; k++)
                evidence |= !cchc_v_blank(it->evidence[k]);
            if (cchc_v_blank(it->actions))
                S_EMIT(
                    v, "W043", cchc_v_p(v, "$.items[%zu].actions", i),
                    S_F("Tồn tại số %lld: nêu rõ việc đã làm để khắc phục.",
                        (long long)it->finding),
                    S_F("Finding %lld: say what was done to remedy it.", (long long)it->finding));
            if (!evidence)
                S_EMIT(v, "W043", cchc_v_p(v, "$.items[%zu].evidence", i),
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
            S_EMIT(v, "E041", cchc_v_p(v, "$.items[%zu].finding", i),
                   S_F("Đợt kiểm tra %s không có tồn tại số %lld: kiểm tra lại số thứ tự.",
                       cchc_v_show(in->code, a, sizeof a), (long long)it->finding),
                   S_F("Inspection %s has no finding %lld: check the number.", a,
                       (long long)it->finding));
        else if (before)
            S_EMIT(v, "E041", cchc_v_p(v, "$.items[%zu].finding", i),
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
                       (long long)in->findings[k].no,
                       cchc_v_show(in->findings[k].text, b, sizeof b)),
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
            const char *x = cchc_v_s(lists[l][i]);
            if (cchc_v_same(x, unit))
                return 1;
            if (x[0] == '@' && c->has_unit && c->unit_kind && cchc_v_same(c->unit_code, unit) &&
                strcmp(x + 1, c->unit_kind) == 0)
                return 1;
        }
    }
    return 0;
}

void cchc_v_rule_task(cchc_vrun_t *v)
{
    const Cchc__V1__TaskProgress *t = v->r->task_progress;
    const char *st = cchc_v_s(t->status);
    char a[96], b[96];
    if (strcmp(st, "in_progress") != 0 && strcmp(st, "done") != 0 && strcmp(st, "blocked") != 0)
        S_EMIT(v, "E000", "$.status",
               S_F("Trạng thái \"%s\" không hợp lệ: ghi \"in_progress\" (đang thực hiện), "
                   "\"done\" (hoàn thành) hoặc \"blocked\" (vướng mắc).",
                   cchc_v_show(st, a, sizeof a)),
               S_F("Status \"%s\" is invalid: use \"in_progress\", \"done\" or \"blocked\".", a));
    s_count(v, t->percent, 0, 100, "$.percent");
    if (!v->task && v->c->n_types == 0)
        return; /* nothing synced yet: the server decides */
    if (!v->task)
        S_EMIT(v, "E060", "$.task",
               S_F("Không tìm thấy nhiệm vụ \"%s\" trong Kế hoạch: ghi đúng mã nhiệm vụ (ví dụ "
                   "KH87-07).",
                   cchc_v_show(t->task, a, sizeof a)),
               S_F("Task \"%s\" is not in the plan: give the right task code (e.g. KH87-07).", a));
    else if (!s_assigned_to(v->c, v->task, v->r->unit))
        S_EMIT(v, "E060", "$.task",
               S_F("Nhiệm vụ \"%s\" không giao cho đơn vị \"%s\" (chủ trì hoặc phối hợp): kiểm "
                   "tra lại mã nhiệm vụ.",
                   cchc_v_show(t->task, a, sizeof a), cchc_v_show(v->r->unit, b, sizeof b)),
               S_F("Task \"%s\" is not assigned to unit \"%s\" (lead or support): check the task "
                   "code.",
                   a, b));
}
