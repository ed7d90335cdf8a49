/* srv_report.c: one report from its arrival to its answer (see srv_report.h).
 *
 * Decoded once: the loop's envelope is kept, its report validated as it is;
 * the stored payload is the report's bytes cut from the frame (no packing
 * again), its body the one JSON rendering. The batch's statements take JSON
 * arrays: each report writes its own object; the store takes the payloads
 * apart, in binary (srv_batch.c, 028). */
#include "srv_report.h"
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_period.h"
#include "cchc_report.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Instants beyond this (year 9999) are no clock reading: no skew from them. */
#define S_MAX_INSTANT_MS 253402300799999LL

/* ---- buffers -------------------------------------------------------------------------------- */

void srv_buf_put(srv_buf_t *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->n + n + 1 > cap)
            cap *= 2;
        b->p = cchc_realloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void srv_buf_puts(srv_buf_t *b, const char *s)
{
    srv_buf_put(b, s, strlen(s));
}

void srv_buf_free(srv_buf_t *b)
{
    free(b->p);
    *b = (srv_buf_t){0};
}

/* A JSON string of the n bytes at s (valid UTF-8: the decoder, or jansson,
 * made sure). */
static void s_json_strn(srv_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s, *end = s + n;
    srv_buf_put(b, "\"", 1);
    for (; s < end; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        srv_buf_put(b, run, (size_t)(s - run));
        char esc[7] = {'\\', (char)c, 0};
        if (c < 0x20) {
            esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
            srv_buf_put(b, esc, 6);
        } else {
            srv_buf_put(b, esc, 2);
        }
        run = s + 1;
    }
    srv_buf_put(b, run, (size_t)(s - run));
    srv_buf_put(b, "\"", 1);
}

static void s_json_str(srv_buf_t *b, const char *s)
{
    s_json_strn(b, s, strlen(s));
}

/* v as compact JSON, as json_dumps(v, JSON_COMPACT) writes it but for the
 * escapes of control characters (\u00XX here) and without checking the
 * strings' UTF-8 again: jansson checked each when it was made. json_dumps
 * wrote each string through a callback, character by character: a fifth of
 * the server's time on periodic ingest (cchc-bench). -1 for a value that
 * json_dumps cannot write either (a real that is not finite). */
static int s_json_dump(srv_buf_t *b, const json_t *v)
{
    char num[40];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *x;
        int first = 1;
        srv_buf_put(b, "{", 1);
        json_object_foreach ((json_t *)v, key, x) {
            if (!first)
                srv_buf_put(b, ",", 1);
            first = 0;
            s_json_str(b, key);
            srv_buf_put(b, ":", 1);
            if (s_json_dump(b, x) != 0)
                return -1;
        }
        srv_buf_put(b, "}", 1);
        return 0;
    }
    case JSON_ARRAY:
        srv_buf_put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                srv_buf_put(b, ",", 1);
            if (s_json_dump(b, json_array_get(v, i)) != 0)
                return -1;
        }
        srv_buf_put(b, "]", 1);
        return 0;
    case JSON_STRING:
        s_json_strn(b, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        srv_buf_puts(b, num);
        return 0;
    case JSON_REAL: {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (!t)
            return -1;
        srv_buf_puts(b, t);
        free(t);
        return 0;
    }
    case JSON_TRUE:
        srv_buf_puts(b, "true");
        return 0;
    case JSON_FALSE:
        srv_buf_puts(b, "false");
        return 0;
    case JSON_NULL:
        srv_buf_puts(b, "null");
        return 0;
    }
    return -1;
}

static void s_json_kv_str(srv_buf_t *b, const char *key, const char *v)
{
    srv_buf_puts(b, ",\"");
    srv_buf_puts(b, key);
    srv_buf_puts(b, "\":");
    if (v)
        s_json_str(b, v);
    else
        srv_buf_puts(b, "null");
}

static void s_json_kv_i64(srv_buf_t *b, const char *key, int64_t v, int present)
{
    char num[32];
    snprintf(num, sizeof num, "%" PRId64, v);
    srv_buf_puts(b, ",\"");
    srv_buf_puts(b, key);
    srv_buf_puts(b, "\":");
    srv_buf_puts(b, present ? num : "null");
}

/* The epoch is a uint64 on the wire and a bigint in the table: the same 64
 * bits, read as signed. */
static int64_t s_u64_bits(uint64_t v)
{
    int64_t s;
    memcpy(&s, &v, sizeof s);
    return s;
}

/* ---- the record ---------------------------------------------------------------------------- */

static const char *s_subject(const Cchc__V1__Report *r)
{
    if (r->content_case == CCHC__V1__REPORT__CONTENT_REMEDIATION && r->remediation &&
        r->remediation->inspection)
        return r->remediation->inspection;
    if (r->content_case == CCHC__V1__REPORT__CONTENT_TASK_PROGRESS && r->task_progress &&
        r->task_progress->task)
        return r->task_progress->task;
    return "";
}

srv_report_t *srv_report_new(const srv_peer_t *peer, cchc_envelope_t **env_p, const uint8_t *frame,
                             size_t len, int64_t max_skew_ms, const char **why)
{
    cchc_envelope_t *env = *env_p;
    const Cchc__V1__Report *r = env->report;
    size_t off = 0, n = 0;
    uint8_t *payload = NULL;
    size_t payload_len = 0;
    /* The bytes as sent; a frame that repeats the report (merged by the
     * decoder) is packed again so that payload and report agree. */
    if (cchc_wire_report_bytes(frame, len, &off, &n) == 0) {
        payload = cchc_malloc(n ? n : 1);
        memcpy(payload, frame + off, n);
        payload_len = n;
    } else if (cchc_wire_pack_report(r, &payload, &payload_len) != 0) {
        *why = "report text is not valid UTF-8";
        return NULL;
    }
    json_t *json = cchc_report_to_json(r);
    srv_buf_t bb = {0};
    if (json && s_json_dump(&bb, json) != 0)
        srv_buf_free(&bb);
    char *body = bb.p;
    json_decref(json);
    if (!body) {
        free(payload);
        *why = "report cannot be written as JSON";
        return NULL;
    }
    srv_report_t *p = cchc_calloc(1, sizeof *p + peer->rid_len);
    p->env = env;
    *env_p = NULL;
    p->unit = cchc_strdup(peer->principal);
    if (r->unit && strcmp(r->unit, peer->principal) != 0)
        p->for_unit = cchc_strdup(r->unit);
    p->key_id = peer->key_id ? cchc_strdup(peer->key_id) : NULL;
    p->epoch = env->agent_epoch;
    p->msg_id = env->msg_id;
    p->type = r->type;
    p->kind = cchc_report_kind(r);
    p->period = r->period ? r->period : "";
    p->subject = s_subject(r);
    p->payload = payload;
    p->payload_len = payload_len;
    p->body = body;
    p->received_ms = cchc_clock_now_ms();
    p->arrived_mono = cchc_clock_mono_ms();
    /* The agent's clock against ours on this message, its latest contact:
     * the sealed time is trusted (for a type that allows it, the store
     * decides) only when the two agree within max_clock_skew_ms. */
    if (env->sent_at_ms > 0 && env->sent_at_ms <= S_MAX_INSTANT_MS && p->received_ms > 0 &&
        p->received_ms <= S_MAX_INSTANT_MS) {
        p->has_skew = 1;
        p->skew_ms = env->sent_at_ms - p->received_ms;
        p->sealed_trusted = r->sealed_at_ms > 0 && r->sealed_at_ms <= S_MAX_INSTANT_MS &&
                            (p->skew_ms < 0 ? -p->skew_ms : p->skew_ms) <= max_skew_ms;
    }
    p->rid_len = peer->rid_len;
    memcpy(p->rid, peer->rid, peer->rid_len);
    return p;
}

void srv_report_free(srv_report_t **r_p)
{
    srv_report_t *p = *r_p;
    if (!p)
        return;
    cchc_wire_free(&p->env);
    free(p->unit);
    free(p->for_unit);
    free(p->key_id);
    free(p->payload);
    free(p->body);
    free(p->store_json);
    free(p);
    *r_p = NULL;
}

srv_peer_t srv_report_peer(const srv_report_t *p)
{
    return (srv_peer_t){
        .rid = p->rid, .rid_len = p->rid_len, .principal = p->unit, .key_id = p->key_id};
}

const char *srv_report_unit(const srv_report_t *p)
{
    return p->for_unit ? p->for_unit : p->unit;
}

/* 1 when kept answers for what p names: its task or its inspection (a
 * periodic report names neither). A predecessor's report is validated in a
 * context derived from kept (srv_report_validate): read fresh. */
static int s_subject_kept(const srv_report_t *p, const cchc_vctx_t *kept)
{
    if (!kept || p->for_unit || !p->kind)
        return 0;
    if (strcmp(p->kind, "task_progress") == 0)
        return cchc_vctx_has_task(kept, p->subject);
    if (strcmp(p->kind, "remediation") == 0)
        return cchc_vctx_has_inspection(kept, p->subject);
    return strcmp(p->kind, "periodic") == 0;
}

void srv_report_context_json(const srv_report_t *p, const cchc_vctx_t *kept, int ord, srv_buf_t *b)
{
    char head[64];
    snprintf(head, sizeof head, "{\"ord\":%d", ord);
    srv_buf_puts(b, head);
    s_json_kv_str(b, "unit", srv_report_unit(p));
    s_json_kv_i64(b, "epoch", s_u64_bits(p->epoch), 1);
    s_json_kv_i64(b, "msg_id", (int64_t)p->msg_id, 1);
    s_json_kv_str(b, "type", p->type);
    s_json_kv_str(b, "kind", p->kind);
    s_json_kv_str(b, "period", p->period);
    s_json_kv_str(b, "subject", p->subject);
    srv_buf_puts(b, s_subject_kept(p, kept) ? ",\"kept\":true}" : "}");
}

/* ---- validation ------------------------------------------------------------------------- */

/* Replaces, in place, every byte that does not start a valid UTF-8 sequence
 * with '?'. */
static void s_utf8_fix(char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        if (n && i + n <= len && cchc_wire_text_ok(s + i, n)) {
            i += n;
        } else {
            s[i++] = '?';
        }
    }
}

/* A finding's text that is not UTF-8 is a bug in a rule's message; it
 * would be dropped from the stored JSON and make the Nack unpackable, so
 * the officer would not learn what to fix. The code and path survive. */
static void s_findings_fix(cchc_findings_t *f, const char *unit, uint64_t msg_id)
{
    for (size_t i = 0; i < f->n; i++) {
        cchc_finding_t *x = &f->v[i];
        char *texts[] = {x->path, x->msg_vi, x->msg_en};
        for (size_t k = 0; k < 3; k++) {
            if (cchc_wire_text_ok(texts[k], strlen(texts[k])))
                continue;
            CCHC_LOG(CCHC_LOG_ERROR, "finding_not_utf8", "unit=%s msg_id=%" PRIu64 " code=%s", unit,
                     msg_id, x->code);
            s_utf8_fix(texts[k]);
        }
    }
}

/* The data window and due date of a periodic report, from its type's rules
 * in ctx and its calendar, as YYYY-MM-DD ("" when unknown). The periods row
 * the store writes is computed here so that SQL and the agent share one
 * implementation of the rules (cchc_period). */
static void s_period_dates(const cchc_vctx_t *ctx, const cchc_report_t *r, char start[16],
                           char end[16], char due[16])
{
    start[0] = end[0] = due[0] = '\0';
    cchc_period_t period;
    cchc_cutoff_t cutoff;
    cchc_due_rule_t rule;
    if (r->content_case != CCHC__V1__REPORT__CONTENT_PERIODIC || !r->period || !r->period[0])
        return;
    int rules = cchc_vctx_type_rules(ctx, r->type, &cutoff, &rule);
    if (rules < 0 || cchc_period_parse(r->period, &period) != 0)
        return;
    cchc_day_t a, b, d;
    cchc_period_range(&period, cutoff, &a, &b);
    cchc_day_format(a, start, 16);
    cchc_day_format(b, end, 16);
    if (rules == 0 &&
        cchc_due_date(&rule, cchc_vctx_calendar(ctx), &period, cutoff, CCHC_DAY_NONE, &d) == 0)
        cchc_day_format(d, due, 16);
}

int srv_report_validate(srv_report_t *p, const cchc_vctx_t *base, const char *extra, int ord)
{
    char unit[100], err[300] = "", msg[400], start[16], end[16], due[16];
    cchc_vctx_t *ctx = NULL, *heir = NULL;
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    json_t *doc = NULL, *findings = NULL;
    int rc = -1;
    srv_logstr(unit, sizeof unit, p->unit);
    if (extra) {
        json_error_t jerr;
        doc = json_loads(extra, 0, &jerr);
        if (!doc)
            snprintf(err, sizeof err, "extra context is not JSON: %s", jerr.text);
    } else {
        doc = json_object(); /* none: an empty one, released at out like the other */
    }
    /* A predecessor's report: the context in which the sender answers for it. */
    if (base && p->for_unit && !(heir = cchc_vctx_for_predecessor(base, p->for_unit))) {
        rc = SRV_REPORT_NOT_HEIR;
        goto out;
    }
    if (base && doc)
        ctx = cchc_vctx_for_report(heir ? heir : base, doc, err, sizeof err);
    if (!ctx) {
        /* The documents come from our own SQL: their being wrong is our bug,
         * not the officer's, so the report is kept by the agent. */
        CCHC_LOG(CCHC_LOG_ERROR, "context_invalid", "unit=%s msg_id=%" PRIu64 " err=%s", unit,
                 p->msg_id, srv_logstr(msg, sizeof msg, err[0] ? err : "no context"));
        goto out;
    }
    const cchc_report_t *r = p->env->report;
    cchc_vctx_set_key_unit(ctx, p->unit);
    cchc_vctx_set_today(ctx, cchc_day_of_instant(p->received_ms));
    p->errors = cchc_validate(r, ctx, &f);
    s_period_dates(ctx, r, start, end, due);
    s_findings_fix(&f, unit, p->msg_id);
    findings = cchc_findings_to_json(&f);
    if (json_array_size(findings) != f.n) {
        /* cchc_findings_to_json drops a finding whose text is not UTF-8: a
         * bug in a rule's message. The verdict stands; say what was lost. */
        CCHC_LOG(CCHC_LOG_ERROR, "findings_lost",
                 "unit=%s msg_id=%" PRIu64 " findings=%zu kept=%zu", unit, p->msg_id, f.n,
                 json_array_size(findings));
    }
    srv_buf_t fb = {0};
    if (findings && s_json_dump(&fb, findings) != 0)
        srv_buf_free(&fb);
    char *ftext = fb.p;
    srv_buf_t b = {0};
    char head[64];
    snprintf(head, sizeof head, "{\"ord\":%d", ord);
    srv_buf_puts(&b, head);
    s_json_kv_str(&b, "unit", srv_report_unit(p));
    if (p->for_unit)
        s_json_kv_str(&b, "sent_by", p->unit);
    s_json_kv_i64(&b, "epoch", s_u64_bits(p->epoch), 1);
    s_json_kv_i64(&b, "msg_id", (int64_t)p->msg_id, 1);
    s_json_kv_str(&b, "type", p->type);
    s_json_kv_str(&b, "kind", p->kind);
    s_json_kv_str(&b, "period", p->period);
    s_json_kv_i64(&b, "revision", r->revision, 1);
    s_json_kv_str(&b, "subject", p->subject);
    s_json_kv_i64(&b, "sent_at", p->env->sent_at_ms, p->env->sent_at_ms != 0);
    s_json_kv_i64(&b, "sealed_at", r->sealed_at_ms, 1);
    srv_buf_puts(&b, ",\"body\":");
    srv_buf_puts(&b, p->body);
    s_json_kv_str(&b, "status", p->errors ? "rejected" : "accepted");
    srv_buf_puts(&b, ",\"findings\":");
    srv_buf_puts(&b, ftext ? ftext : "[]");
    s_json_kv_str(&b, "cutoff_start", start[0] ? start : NULL);
    s_json_kv_str(&b, "cutoff_end", end[0] ? end : NULL);
    s_json_kv_str(&b, "due", due[0] ? due : NULL);
    s_json_kv_i64(&b, "received_at", p->received_ms, 1);
    s_json_kv_i64(&b, "sealed_trusted_at", r->sealed_at_ms, p->sealed_trusted);
    s_json_kv_i64(&b, "skew", p->skew_ms, p->has_skew);
    srv_buf_puts(&b, "}");
    free(ftext);
    free(p->store_json);
    p->store_json = b.p;
    CCHC_LOG(CCHC_LOG_DEBUG, "report_validated",
             "unit=%s for=%s msg_id=%" PRIu64 " errors=%d findings=%zu cutoff=%s..%s due=%s", unit,
             p->for_unit ? p->for_unit : "-", p->msg_id, p->errors, f.n, start[0] ? start : "-",
             end[0] ? end : "-", due[0] ? due : "-");
    rc = 0;
out:
    json_decref(findings);
    json_decref(doc);
    cchc_findings_clear(&f);
    cchc_vctx_destroy(&ctx);
    cchc_vctx_destroy(&heir);
    return rc;
}

void srv_report_mismatch(srv_router_t *router, const srv_report_t *p)
{
    char unit[100], other[100];
    srv_peer_t peer = srv_report_peer(p);
    char *detail = cchc_asprintf("report unit \"%s\" is neither \"%s\", the unit of this key, "
                                 "nor a closed unit it answers for",
                                 srv_report_unit(p), p->unit);
    CCHC_LOG(CCHC_LOG_WARN, "unit_mismatch", "unit=%s report_unit=%s msg_id=%" PRIu64,
             srv_logstr(unit, sizeof unit, p->unit),
             srv_logstr(other, sizeof other, srv_report_unit(p)), p->msg_id);
    srv_router_nack(router, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_UNIT_MISMATCH,
                    detail, NULL);
    free(detail);
}

/* ---- answers -------------------------------------------------------------------------------- */

/* Findings from the JSON text of a findings column (NULL or bad: none). */
static void s_findings_parse(cchc_findings_t *f, const char *text)
{
    json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
    if (arr)
        cchc_findings_from_json(f, arr);
    json_decref(arr);
}

/* "E016,E017": the distinct error codes, in order, cut to fit buf. */
static const char *s_codes(const cchc_findings_t *f, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->n; i++) {
        const char *code = f->v[i].code;
        if (code[0] != 'E')
            continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(f->v[j].code, code) == 0;
        if (seen || o + strlen(code) + 2 > len)
            continue;
        o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "", code);
    }
    return o ? buf : "-";
}

void srv_report_answer_stored(srv_router_t *router, const srv_report_t *p, int64_t id,
                              const char *status, const char *findings, int same_payload)
{
    srv_peer_t peer = srv_report_peer(p);
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    char unit[100], codes[200];
    srv_logstr(unit, sizeof unit, p->unit);
    if (!same_payload) {
        /* The agent reused an id for something else: neither version can be
         * trusted to be what the officer meant, so nothing more is stored. */
        cchc_findings_add(&f, "E008", "$",
                          "Mã thư (msg_id) này đã được gửi trước đó với nội dung khác; báo cáo "
                          "không được lưu. Đây là lỗi của phần mềm trạm, hãy cập nhật cchc-agent "
                          "và gửi lại báo cáo.",
                          "The same message id was sent before with different content; the "
                          "report was not stored. This is an agent bug: update cchc-agent and "
                          "send the report again.");
        CCHC_LOG(CCHC_LOG_WARN, "report_conflict",
                 "unit=%s epoch=%" PRIu64 " msg_id=%" PRIu64 " stored_id=%" PRId64, unit, p->epoch,
                 p->msg_id, id);
        srv_router_nack(router, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_INVALID,
                        "message id reused with different content", &f);
    } else if (strcmp(status, "rejected") == 0) {
        s_findings_parse(&f, findings);
        CCHC_LOG(CCHC_LOG_INFO, "report_rejected",
                 "unit=%s msg_id=%" PRIu64 " id=%" PRId64 " duplicate=1 errors=%zu codes=%s", unit,
                 p->msg_id, id, f.errors, s_codes(&f, codes, sizeof codes));
        srv_router_nack(router, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_INVALID,
                        "the report breaks the rules", &f);
    } else {
        s_findings_parse(&f, findings);
        srv_router_counters(router)->duplicates++;
        CCHC_LOG(CCHC_LOG_INFO, "report_stored",
                 "unit=%s epoch=%" PRIu64 " msg_id=%" PRIu64 " id=%" PRId64 " duplicate=1", unit,
                 p->epoch, p->msg_id, id);
        srv_router_ack(router, &peer, p->epoch, p->msg_id, id, 1, &f);
    }
    cchc_findings_clear(&f);
}

void srv_report_answer(srv_router_t *router, const srv_report_t *p, const PGresult *res, int row)
{
    srv_counters_t *c = srv_router_counters(router);
    srv_peer_t peer = srv_report_peer(p);
    char unit[100], codes[200];
    srv_logstr(unit, sizeof unit, p->unit);
    int64_t id = strtoll(PQgetvalue(res, row, 1), NULL, 10);
    const char *status = PQgetvalue(res, row, 3);
    const char *findings = PQgetisnull(res, row, 4) ? NULL : PQgetvalue(res, row, 4);
    if (PQgetisnull(res, row, 1)) {
        /* A conflict whose row is gone (deleted in between): unknown. */
        CCHC_LOG(CCHC_LOG_ERROR, "db_error", "unit=%s msg_id=%" PRIu64 " job=store row=none", unit,
                 p->msg_id);
        srv_report_busy(router, p, "not stored; resend later");
        return;
    }
    if (strcmp(PQgetvalue(res, row, 2), "t") == 0) {
        srv_report_answer_stored(router, p, id, status, findings,
                                 strcmp(PQgetvalue(res, row, 5), "t") == 0);
        return;
    }
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    s_findings_parse(&f, findings);
    c->stored++;
    if (strcmp(status, "accepted") == 0 || strcmp(status, "superseded") == 0) {
        /* superseded: by a later revision of the same batch, accepted first. */
        c->accepted++;
        CCHC_LOG(CCHC_LOG_INFO, "report_accepted",
                 "unit=%s type=%s period=%s revision=%" PRId64 " epoch=%" PRIu64 " msg_id=%" PRIu64
                 " id=%" PRId64 " warnings=%zu",
                 unit, p->type, p->period[0] ? p->period : "-", p->env->report->revision, p->epoch,
                 p->msg_id, id, f.warnings);
        srv_router_ack(router, &peer, p->epoch, p->msg_id, id, 0, &f);
    } else {
        c->rejected++;
        CCHC_LOG(CCHC_LOG_INFO, "report_rejected",
                 "unit=%s type=%s period=%s msg_id=%" PRIu64 " id=%" PRId64 " errors=%zu codes=%s",
                 unit, p->type, p->period[0] ? p->period : "-", p->msg_id, id, f.errors,
                 s_codes(&f, codes, sizeof codes));
        srv_router_nack(router, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_INVALID,
                        "the report breaks the rules", &f);
    }
    cchc_findings_clear(&f);
}

void srv_report_busy(srv_router_t *router, const srv_report_t *p, const char *detail)
{
    srv_peer_t peer = srv_report_peer(p);
    srv_router_nack(router, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_BUSY, detail,
                    NULL);
}

static int s_sqlstate_is_data(const char *state)
{
    /* 22: data exception, 23: integrity constraint violation. Only these
     * say the report itself is wrong; anything else (disk full, a missing
     * table, a deadlock) is the server's trouble, and the agent must keep
     * the report and resend rather than set it aside. A unique violation
     * (23505) is the same message stored by another server meanwhile: sent
     * again, it is answered from that row. */
    return state && (strncmp(state, "22", 2) == 0 ||
                     (strncmp(state, "23", 2) == 0 && strcmp(state, "23505") != 0));
}

void srv_report_failed(srv_router_t *router, const srv_report_t *p, const PGresult *res,
                       const char *job)
{
    char unit[100], msg[400];
    srv_peer_t peer = srv_report_peer(p);
    srv_logstr(unit, sizeof unit, p->unit);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char *detail = cchc_asprintf("%s: %s", state ? state : "?????",
                                 primary ? primary : PQresultErrorMessage(res));
    srv_logstr(msg, sizeof msg, detail);
    if (s_sqlstate_is_data(state)) {
        CCHC_LOG(CCHC_LOG_WARN, "report_refused", "unit=%s msg_id=%" PRIu64 " job=%s err=%s", unit,
                 p->msg_id, job, msg);
        srv_router_nack(router, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_INVALID,
                        detail, NULL);
    } else {
        CCHC_LOG(CCHC_LOG_ERROR, "db_error", "unit=%s msg_id=%" PRIu64 " job=%s err=%s", unit,
                 p->msg_id, job, msg);
        srv_router_nack(router, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_BUSY,
                        detail, NULL);
    }
    free(detail);
}
