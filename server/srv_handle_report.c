/* srv_handle_report.c: Report, an officer's report delivered by an agent.
 *
 * A report is checked on arrival, then handed to the batch (srv_batch.c),
 * which runs two statements for it, each in a pipelined segment with the
 * rest of its batch, and has it answered only after the segment's sync (the
 * store's sync is the commit):
 *
 *   step      what                                         answer when it ends here
 *   --------  -------------------------------------------  ---------------------------------
 *   receive   the key's unit, the few things the table     NACK_UNIT_MISMATCH, NACK_INVALID
 *             needs (s_check), the database is up, the     (E000), NACK_BUSY
 *             caps (srv_batch_admit)
 *   context   statement 1: cchc_report_context and the     Ack duplicate, NACK_INVALID with
 *             row a previous delivery stored, if any       the stored findings or E008
 *   validate  cchc_validate against that context           NACK_BUSY (bad context: our bug)
 *   store     statement 2: cchc_store_report, accepted     Ack with warnings, NACK_INVALID
 *             or rejected with its findings                with every finding
 *
 * A report whose outcome cannot be known is answered NACK_BUSY: the agent
 * resends, and a resend of a stored message is answered from the stored
 * row. This file owns the srv_report_t's contents (see srv_batch.h); the
 * batch owns the reports. */
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_period.h"
#include "cchc_report.h"
#include "cchc_validate.h"
#include "srv_batch.h"
#include "srv_server.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The context, and the row of an earlier delivery of the same message
 * (columns 1-4 are NULL when there is none). */
#define S_CONTEXT_SQL                                                                              \
    "SELECT cchc_report_context($1, $2, $3, $4)::text, r.id, r.status, r.findings::text, "         \
    "r.payload = $7::bytea FROM (SELECT 1) x LEFT JOIN reports r ON r.unit_code = $1 AND "         \
    "r.agent_epoch = $5::bigint AND r.msg_id = $6::bigint"

/* No BEGIN/COMMIT: the batch's segment is one implicit transaction that
 * commits at its sync, and no answer is sent before that. */
#define S_STORE_SQL                                                                                \
    "SELECT id, duplicate, status, findings::text, same_payload FROM cchc_store_report($1, "       \
    "$2::bigint, $3::bigint, $4, $5, $6, $7::int, $8, to_timestamp($9::bigint / 1000.0), CASE "    \
    "WHEN $10::bigint > 0 THEN to_timestamp($10::bigint / 1000.0) END, $11::bytea, $12::jsonb, "   \
    "$13, $14::jsonb, $15::date, $16::date, $17::date, to_timestamp($18::bigint / 1000.0), "       \
    "to_timestamp($19::bigint / 1000.0), $20::bigint)"

/* Instants beyond this (year 9999) are no clock reading: no skew from them. */
#define S_MAX_INSTANT_MS 253402300799999LL

/* The epoch is a uint64 on the wire and a bigint in the table: the same 64
 * bits, read as signed. */
static int64_t s_u64_bits(uint64_t v)
{
    int64_t s;
    memcpy(&s, &v, sizeof s);
    return s;
}

void srv_report_prepare(srv_db_t *db)
{
    srv_db_prepare(db, SRV_REPORT_CONTEXT_STMT, S_CONTEXT_SQL);
    srv_db_prepare(db, SRV_REPORT_STORE_STMT, S_STORE_SQL);
}

void srv_report_free(srv_report_t **r_p)
{
    srv_report_t *p = *r_p;
    if (!p)
        return;
    free(p->unit);
    free(p->type);
    free(p->kind);
    free(p->period);
    free(p->subject);
    free(p->payload);
    free(p->body);
    free(p->findings_text);
    free(p);
    *r_p = NULL;
}

srv_peer_t srv_report_peer(const srv_report_t *p)
{
    return (srv_peer_t){.rid = p->rid, .rid_len = p->rid_len, .principal = p->unit};
}

void srv_report_busy(srv_server_t *server, const srv_report_t *p, const char *detail)
{
    srv_peer_t peer = srv_report_peer(p);
    srv_server_nack(server, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_BUSY, detail,
                    NULL);
}

static int s_sqlstate_is_data(const char *state)
{
    /* 22: data exception, 23: integrity constraint violation. Only these
     * say the report itself is wrong; anything else (disk full, a missing
     * table, a deadlock) is the server's trouble, and the agent must keep
     * the report and resend rather than set it aside. */
    return state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0);
}

void srv_report_failed(srv_server_t *server, const srv_report_t *p, const PGresult *res,
                       const char *job)
{
    char unit[100], msg[400];
    srv_peer_t peer = srv_report_peer(p);
    srv_server_logstr(unit, sizeof unit, p->unit);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char *detail = cchc_asprintf("%s: %s", state ? state : "?????",
                                 primary ? primary : PQresultErrorMessage(res));
    srv_server_logstr(msg, sizeof msg, detail);
    if (s_sqlstate_is_data(state)) {
        CCHC_LOG(CCHC_LOG_WARN, "report_refused", "unit=%s msg_id=%" PRIu64 " job=%s err=%s", unit,
                 p->msg_id, job, msg);
        srv_server_nack(server, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_INVALID,
                        detail, NULL);
    } else {
        CCHC_LOG(CCHC_LOG_ERROR, "db_error", "unit=%s msg_id=%" PRIu64 " job=%s err=%s", unit,
                 p->msg_id, job, msg);
        srv_server_nack(server, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_BUSY,
                        detail, NULL);
    }
    free(detail);
}

/* Findings from the JSON text of a findings column (NULL or bad: none). */
static void s_findings_parse(cchc_findings_t *f, const char *text)
{
    json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
    if (arr)
        cchc_findings_from_json(f, arr);
    json_decref(arr);
}

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

/* The message was stored before (by an earlier delivery, or by one that
 * overtook this one between the two jobs): answer from the stored row. */
static void s_answer_stored(srv_server_t *self, const srv_report_t *p, int64_t id,
                            const char *status, const char *findings, int same_payload)
{
    srv_peer_t peer = srv_report_peer(p);
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    char unit[100], codes[200];
    srv_server_logstr(unit, sizeof unit, p->unit);
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
        srv_server_nack(self, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_INVALID,
                        "message id reused with different content", &f);
    } else if (strcmp(status, "rejected") == 0) {
        s_findings_parse(&f, findings);
        CCHC_LOG(CCHC_LOG_INFO, "report_rejected",
                 "unit=%s msg_id=%" PRIu64 " id=%" PRId64 " duplicate=1 errors=%zu codes=%s", unit,
                 p->msg_id, id, f.errors, s_codes(&f, codes, sizeof codes));
        srv_server_nack(self, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_INVALID,
                        "the report breaks the rules", &f);
    } else {
        s_findings_parse(&f, findings);
        srv_server_counters(self)->duplicates++;
        CCHC_LOG(CCHC_LOG_INFO, "report_stored",
                 "unit=%s epoch=%" PRIu64 " msg_id=%" PRIu64 " id=%" PRId64 " duplicate=1", unit,
                 p->epoch, p->msg_id, id);
        srv_server_ack(self, &peer, p->epoch, p->msg_id, id, 1, &f);
    }
    cchc_findings_clear(&f);
}

void srv_report_on_stored(srv_server_t *self, srv_report_t *p, const PGresult *res)
{
    srv_counters_t *c = srv_server_counters(self);
    srv_peer_t peer = srv_report_peer(p);
    char unit[100], codes[200];
    srv_server_logstr(unit, sizeof unit, p->unit);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        srv_report_failed(self, p, res, "store");
        return;
    }
    if (PQntuples(res) != 1) {
        /* A conflict whose row is gone (deleted in between): unknown. */
        CCHC_LOG(CCHC_LOG_ERROR, "db_error", "unit=%s msg_id=%" PRIu64 " job=store rows=%d", unit,
                 p->msg_id, PQntuples(res));
        srv_report_busy(self, p, "not stored; resend later");
        return;
    }
    int64_t id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    const char *status = PQgetvalue(res, 0, 2);
    const char *findings = PQgetisnull(res, 0, 3) ? NULL : PQgetvalue(res, 0, 3);
    if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
        s_answer_stored(self, p, id, status, findings, strcmp(PQgetvalue(res, 0, 4), "t") == 0);
        return;
    }
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    s_findings_parse(&f, findings);
    c->stored++;
    if (strcmp(status, "accepted") == 0) {
        c->accepted++;
        CCHC_LOG(CCHC_LOG_INFO, "report_accepted",
                 "unit=%s type=%s period=%s revision=%s epoch=%" PRIu64 " msg_id=%" PRIu64
                 " id=%" PRId64 " warnings=%zu",
                 unit, p->type, p->period[0] ? p->period : "-", p->revision_s, p->epoch, p->msg_id,
                 id, f.warnings);
        srv_server_ack(self, &peer, p->epoch, p->msg_id, id, 0, &f);
    } else {
        c->rejected++;
        CCHC_LOG(CCHC_LOG_INFO, "report_rejected",
                 "unit=%s type=%s period=%s msg_id=%" PRIu64 " id=%" PRId64 " errors=%zu codes=%s",
                 unit, p->type, p->period[0] ? p->period : "-", p->msg_id, id, f.errors,
                 s_codes(&f, codes, sizeof codes));
        srv_server_nack(self, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_INVALID,
                        "the report breaks the rules", &f);
    }
    cchc_findings_clear(&f);
}

/* The data window and due date of a periodic report, from its type's rules
 * in the context and the calendar, as YYYY-MM-DD (empty when unknown: the
 * type is not known, or its rule does not parse). The periods row the
 * store writes is computed here so that SQL and the agent share one
 * implementation of the rules (cchc_period). */
static void s_period_dates(const json_t *doc, const cchc_vctx_t *ctx, const cchc_report_t *r,
                           char start[16], char end[16], char due[16])
{
    start[0] = end[0] = due[0] = '\0';
    if (r->content_case != CCHC__V1__REPORT__CONTENT_PERIODIC || !r->period || !r->period[0])
        return;
    const json_t *type = NULL, *t;
    size_t i;
    json_array_foreach(json_object_get(doc, "types"), i, t)
    {
        const char *code = json_string_value(json_object_get(t, "code"));
        if (code && strcmp(code, r->type) == 0)
            type = t;
    }
    cchc_period_t period;
    cchc_cutoff_t cutoff;
    cchc_due_rule_t rule;
    const char *cutoff_text = json_string_value(json_object_get(type, "cutoff_rule"));
    const char *due_text = json_string_value(json_object_get(type, "due_rule"));
    if (!type || !cutoff_text || cchc_period_parse(r->period, &period) != 0 ||
        cchc_cutoff_parse(cutoff_text, &cutoff) != 0)
        return;
    cchc_day_t a, b, d;
    cchc_period_range(&period, cutoff, &a, &b);
    cchc_day_format(a, start, 16);
    cchc_day_format(b, end, 16);
    if (due_text && cchc_due_rule_parse(due_text, &rule) == 0 &&
        cchc_due_date(&rule, cchc_vctx_calendar(ctx), &period, cutoff, CCHC_DAY_NONE, &d) == 0)
        cchc_day_format(d, due, 16);
}

/* Validates against the context document and fills the store's parameters.
 * 1 when p goes on to the store, 0 when it was answered (NACK_BUSY). */
static int s_validate(srv_server_t *self, srv_report_t *p, const char *context)
{
    char unit[100], err[300] = "", msg[400];
    cchc_vctx_t *ctx = NULL;
    cchc_report_t *r = NULL;
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    json_t *findings = NULL;
    int go_on = 0;
    srv_server_logstr(unit, sizeof unit, p->unit);

    json_error_t jerr;
    json_t *doc = json_loads(context, 0, &jerr);
    if (!doc)
        snprintf(err, sizeof err, "context is not JSON: %s (line %d)", jerr.text, jerr.line);
    else
        ctx = cchc_vctx_new(doc, err, sizeof err);
    if (!ctx) {
        /* The document comes from our own SQL: its being wrong is our bug,
         * not the officer's, so the report is kept by the agent. */
        CCHC_LOG(CCHC_LOG_ERROR, "context_invalid", "unit=%s msg_id=%" PRIu64 " err=%s", unit,
                 p->msg_id, srv_server_logstr(msg, sizeof msg, err));
        srv_report_busy(self, p, "server cannot check reports now; resend later");
        goto out;
    }
    cchc_vctx_set_key_unit(ctx, p->unit);
    cchc_vctx_set_today(ctx, cchc_day_of_instant(cchc_clock_now_ms()));
    if (cchc_wire_unpack_report(p->payload, p->payload_len, p->payload_len, &r, err, sizeof err) !=
        0) {
        /* We packed these bytes ourselves a moment ago. */
        CCHC_LOG(CCHC_LOG_ERROR, "report_unpack", "unit=%s msg_id=%" PRIu64 " err=%s", unit,
                 p->msg_id, srv_server_logstr(msg, sizeof msg, err));
        srv_report_busy(self, p, "server cannot check reports now; resend later");
        goto out;
    }
    p->errors = cchc_validate(r, ctx, &f);
    s_period_dates(doc, ctx, r, p->start, p->end, p->due);
    s_findings_fix(&f, unit, p->msg_id);
    findings = cchc_findings_to_json(&f);
    free(p->findings_text);
    p->findings_text = json_dumps(findings, JSON_COMPACT);
    if (json_array_size(findings) != f.n) {
        /* cchc_findings_to_json drops a finding whose text is not UTF-8: a
         * bug in a rule's message. The verdict stands; say what was lost. */
        CCHC_LOG(CCHC_LOG_ERROR, "findings_lost",
                 "unit=%s msg_id=%" PRIu64 " findings=%zu kept=%zu", unit, p->msg_id, f.n,
                 json_array_size(findings));
    }

    const char *values[SRV_REPORT_STORE_NPARAMS] = {p->unit,
                                                    p->epoch_s,
                                                    p->msg_id_s,
                                                    p->type,
                                                    p->kind,
                                                    p->period,
                                                    p->revision_s,
                                                    p->subject,
                                                    p->has_sent_at ? p->sent_at_s : NULL,
                                                    p->sealed_at_s,
                                                    (const char *)p->payload,
                                                    p->body,
                                                    p->errors ? "rejected" : "accepted",
                                                    p->findings_text,
                                                    p->start[0] ? p->start : NULL,
                                                    p->end[0] ? p->end : NULL,
                                                    p->due[0] ? p->due : NULL,
                                                    p->received_at_s,
                                                    p->sealed_trusted ? p->trusted_sealed_s : NULL,
                                                    p->has_skew ? p->skew_s : NULL};
    snprintf(p->received_at_s, sizeof p->received_at_s, "%" PRId64, cchc_clock_now_ms());
    memcpy(p->store_values, values, sizeof values);
    memset(p->store_lengths, 0, sizeof p->store_lengths);
    memset(p->store_formats, 0, sizeof p->store_formats);
    p->store_lengths[10] = (int)p->payload_len; /* bounded by max_frame */
    p->store_formats[10] = 1;
    CCHC_LOG(CCHC_LOG_DEBUG, "report_validated",
             "unit=%s msg_id=%" PRIu64 " errors=%d findings=%zu cutoff=%s..%s due=%s", unit,
             p->msg_id, p->errors, f.n, p->start[0] ? p->start : "-", p->end[0] ? p->end : "-",
             p->due[0] ? p->due : "-");
    go_on = 1;
out:
    json_decref(findings);
    cchc_findings_clear(&f);
    cchc_report_free(&r);
    cchc_vctx_destroy(&ctx);
    json_decref(doc);
    return go_on;
}

int srv_report_on_context(srv_server_t *self, srv_report_t *p, const PGresult *res)
{
    char unit[100];
    srv_server_logstr(unit, sizeof unit, p->unit);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        srv_report_failed(self, p, res, "context");
        return 0;
    }
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        CCHC_LOG(CCHC_LOG_ERROR, "db_error", "unit=%s msg_id=%" PRIu64 " job=context rows=%d", unit,
                 p->msg_id, PQntuples(res));
        srv_report_busy(self, p, "server cannot check reports now; resend later");
        return 0;
    }
    if (!PQgetisnull(res, 0, 1)) {
        s_answer_stored(self, p, strtoll(PQgetvalue(res, 0, 1), NULL, 10), PQgetvalue(res, 0, 2),
                        PQgetisnull(res, 0, 3) ? NULL : PQgetvalue(res, 0, 3),
                        strcmp(PQgetvalue(res, 0, 4), "t") == 0);
        return 0;
    }
    return s_validate(self, p, PQgetvalue(res, 0, 0));
}

/* What the table needs and the decoder cannot know; every problem is a
 * finding. The district's rules come after, against the context. */
static void s_check(const cchc_envelope_t *env, const Cchc__V1__Report *r, cchc_findings_t *f)
{
    if (!r || !cchc_report_kind(r))
        cchc_findings_add(f, "E000", "$",
                          "Báo cáo không có nội dung: cần một trong periodic, remediation "
                          "hoặc task_progress.",
                          "The report has no content: it needs periodic, remediation or "
                          "task_progress.");
    if (!r || !r->type || !r->type[0])
        cchc_findings_add(f, "E000", "$.type",
                          "Thiếu mã loại báo cáo (type); hãy ghi mã loại, ví dụ CCHC_DK.",
                          "The report type (type) is missing; give a type code, e.g. CCHC_DK.");
    if (r && (r->revision < 0 || r->revision > INT32_MAX))
        cchc_findings_add(f, "E000", "$.revision",
                          "Lần sửa (revision) phải là số nguyên từ 0 đến 2147483647.",
                          "revision must be an integer from 0 to 2147483647.");
    if (env->msg_id == 0 || env->msg_id > (uint64_t)INT64_MAX)
        cchc_findings_add(f, "E000", "$.msg_id",
                          "Mã thư (msg_id) phải từ 1 đến 9223372036854775807; đây là lỗi của "
                          "phần mềm trạm, hãy cập nhật cchc-agent.",
                          "msg_id must be from 1 to 9223372036854775807; this is an agent "
                          "bug, update cchc-agent.");
}

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

/* Packs the report, keeps what both statements need and hands it to the
 * batch; when it cannot, answers the peer with a Nack. */
static void s_begin(srv_server_t *self, const srv_peer_t *peer, const cchc_envelope_t *env,
                    const Cchc__V1__Report *r, const char *unit)
{
    uint8_t *payload = NULL;
    size_t payload_len = 0;
    char *body = NULL;
    json_t *json = NULL;
    const char *why = NULL;
    Cchc__V1__NackReason reason = CCHC__V1__NACK_REASON__NACK_BUSY;

    if (cchc_wire_pack_report(r, &payload, &payload_len) != 0) {
        reason = CCHC__V1__NACK_REASON__NACK_INVALID;
        why = "report text is not valid UTF-8";
        goto out;
    }
    json = cchc_report_to_json(r);
    body = json ? json_dumps(json, JSON_COMPACT) : NULL;
    if (!body) {
        reason = CCHC__V1__NACK_REASON__NACK_INVALID;
        why = "report cannot be written as JSON";
        goto out;
    }
    srv_batch_t *batch = srv_server_batch(self);
    if (srv_batch_admit(batch, peer, &why) != 0)
        goto out;
    srv_report_t *p = cchc_calloc(1, sizeof *p + peer->rid_len);
    p->unit = cchc_strdup(peer->principal);
    p->epoch = env->agent_epoch;
    p->msg_id = env->msg_id;
    snprintf(p->epoch_s, sizeof p->epoch_s, "%" PRId64, s_u64_bits(env->agent_epoch));
    snprintf(p->msg_id_s, sizeof p->msg_id_s, "%" PRIu64, env->msg_id);
    snprintf(p->revision_s, sizeof p->revision_s, "%" PRId64, r->revision);
    snprintf(p->sent_at_s, sizeof p->sent_at_s, "%" PRId64, env->sent_at_ms);
    snprintf(p->sealed_at_s, sizeof p->sealed_at_s, "%" PRId64, r->sealed_at_ms);
    p->has_sent_at = env->sent_at_ms != 0;
    /* The agent's clock against ours on this message, its latest contact:
     * the sealed time is trusted (for a type that allows it, cchc_store_report
     * decides) only when the two agree within max_clock_skew_ms. */
    int64_t now_ms = cchc_clock_now_ms();
    if (env->sent_at_ms > 0 && env->sent_at_ms <= S_MAX_INSTANT_MS && now_ms > 0 &&
        now_ms <= S_MAX_INSTANT_MS) {
        int64_t skew = env->sent_at_ms - now_ms;
        p->has_skew = 1;
        snprintf(p->skew_s, sizeof p->skew_s, "%" PRId64, skew);
        p->sealed_trusted = r->sealed_at_ms > 0 && r->sealed_at_ms <= S_MAX_INSTANT_MS &&
                            (skew < 0 ? -skew : skew) <= srv_batch_max_clock_skew_ms(batch);
        if (p->sealed_trusted)
            snprintf(p->trusted_sealed_s, sizeof p->trusted_sealed_s, "%" PRId64, r->sealed_at_ms);
        CCHC_LOG(CCHC_LOG_DEBUG, "report_clock",
                 "unit=%s msg_id=%" PRIu64 " skew_ms=%" PRId64 " sealed_trusted=%d", unit,
                 env->msg_id, skew, p->sealed_trusted);
    }
    p->type = cchc_strdup(r->type);
    p->kind = cchc_strdup(cchc_report_kind(r));
    p->period = cchc_strdup(r->period ? r->period : "");
    p->subject = cchc_strdup(s_subject(r));
    p->payload = payload;
    p->payload_len = payload_len;
    p->body = body;
    payload = NULL;
    body = NULL;
    p->rid_len = peer->rid_len;
    memcpy(p->rid, peer->rid, peer->rid_len);

    p->arrived_ms = cchc_clock_mono_ms();
    const char *values[SRV_REPORT_CONTEXT_NPARAMS] = {
        p->unit, p->type, p->period, p->subject, p->epoch_s, p->msg_id_s, (const char *)p->payload};
    memcpy(p->ctx_values, values, sizeof values);
    p->ctx_lengths[6] = (int)p->payload_len;
    p->ctx_formats[6] = 1;
    srv_batch_add(batch, &p);
out:
    if (why) {
        CCHC_LOG(reason == CCHC__V1__NACK_REASON__NACK_BUSY ? CCHC_LOG_DEBUG : CCHC_LOG_WARN,
                 "report_refused", "unit=%s msg_id=%" PRIu64 " reason=%s detail=\"%s\"", unit,
                 env->msg_id, cchc_wire_nack_reason_name(reason), why);
        srv_server_nack(self, peer, env->agent_epoch, env->msg_id, reason, why, NULL);
    }
    free(body);
    json_decref(json);
    free(payload);
}

void srv_handle_report(srv_server_t *self, const srv_peer_t *peer, const cchc_envelope_t *env)
{
    const Cchc__V1__Report *r = env->report;
    const char *env_unit = env->unit ? env->unit : "";
    const char *rep_unit = r && r->unit ? r->unit : "";
    char unit[100], a[100], b[100];
    srv_server_counters(self)->reports++;
    srv_server_logstr(unit, sizeof unit, peer->principal);

    /* The key decides the unit: a report for anyone else is refused whole. */
    if (!peer->principal[0] || strcmp(env_unit, peer->principal) != 0 ||
        strcmp(rep_unit, peer->principal) != 0) {
        char *detail = cchc_asprintf("envelope unit \"%s\" and report unit \"%s\" must both be "
                                     "\"%s\", the unit of this key",
                                     env_unit, rep_unit, peer->principal);
        CCHC_LOG(CCHC_LOG_WARN, "unit_mismatch",
                 "unit=%s envelope_unit=%s report_unit=%s msg_id=%" PRIu64, unit,
                 srv_server_logstr(a, sizeof a, env_unit), srv_server_logstr(b, sizeof b, rep_unit),
                 env->msg_id);
        srv_refusals_record(srv_server_refusals(self), SRV_REFUSAL_UNIT_MISMATCH, peer->principal,
                            peer->key_id, strcmp(env_unit, peer->principal) ? env_unit : rep_unit,
                            "report");
        srv_server_nack(self, peer, env->agent_epoch, env->msg_id,
                        CCHC__V1__NACK_REASON__NACK_UNIT_MISMATCH, detail, NULL);
        free(detail);
        return;
    }

    cchc_findings_t f = CCHC_FINDINGS_INIT;
    s_check(env, r, &f);
    if (f.errors) {
        CCHC_LOG(CCHC_LOG_WARN, "report_invalid",
                 "unit=%s msg_id=%" PRIu64 " findings=%zu first=%s", unit, env->msg_id, f.n,
                 f.v[0].path);
        srv_server_nack(self, peer, env->agent_epoch, env->msg_id,
                        CCHC__V1__NACK_REASON__NACK_INVALID, "the report breaks the rules", &f);
        cchc_findings_clear(&f);
        return;
    }
    cchc_findings_clear(&f);

    /* Nothing is built while the database is away: the answer is the same. */
    if (!srv_db_ready(srv_server_db(self))) {
        srv_server_counters(self)->refused_busy_db++;
        CCHC_LOG(CCHC_LOG_DEBUG, "report_refused",
                 "unit=%s msg_id=%" PRIu64 " reason=BUSY detail=db_down", unit, env->msg_id);
        srv_server_nack(self, peer, env->agent_epoch, env->msg_id, CCHC__V1__NACK_REASON__NACK_BUSY,
                        "database unavailable; resend later", NULL);
        return;
    }
    s_begin(self, peer, env, r, unit);
}
