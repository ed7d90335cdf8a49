/* srv_handle_report.c: Report, an officer's report delivered by an agent.
 *
 * Checks the principal and the few things the table needs, then queues one
 * idempotent INSERT and answers only when its result is back: an Ack after
 * the commit (also for a duplicate), NACK_INVALID when PostgreSQL refuses
 * the data, NACK_BUSY when the outcome is unknown (the agent resends, and a
 * resend of a stored report is acked as a duplicate). Owns, per report in
 * flight, an s_pending_t (the peer's routing id and the ids to echo); the
 * database job owns copies of the parameters. */
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_report.h"
#include "srv_server.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* autocommit: the row is committed before the result comes back, so an Ack
 * is never sent for something that could still be rolled back. The second
 * branch finds the row a previous delivery stored. */
#define S_INSERT_SQL                                                                               \
    "WITH ins AS (INSERT INTO reports (unit_code, agent_epoch, msg_id, report_type, "              \
    "content_kind, period, revision, subject, sent_at, sealed_at, payload, body) VALUES ($1, "     \
    "$2::bigint, $3::bigint, $4, $5, $6, $7::int, $8, to_timestamp($9::bigint/1000.0), CASE "      \
    "WHEN $10::bigint > 0 THEN to_timestamp($10::bigint/1000.0) END, $11::bytea, $12::jsonb) "     \
    "ON CONFLICT (unit_code, agent_epoch, msg_id) DO NOTHING RETURNING id) SELECT id, false "      \
    "FROM ins UNION ALL SELECT id, true FROM reports WHERE unit_code = $1 AND agent_epoch = "      \
    "$2::bigint AND msg_id = $3::bigint AND NOT EXISTS (SELECT 1 FROM ins)"
#define S_NPARAMS 12

/* One report waiting for its INSERT. */
typedef struct {
    srv_server_t *server;
    char *unit;
    uint64_t epoch, msg_id;
    size_t rid_len;
    uint8_t rid[];
} s_pending_t;

/* The epoch is a uint64 on the wire and a bigint in the table: the same 64
 * bits, read as signed. */
static int64_t s_u64_bits(uint64_t v)
{
    int64_t s;
    memcpy(&s, &v, sizeof s);
    return s;
}

static int s_sqlstate_is_data(const char *state)
{
    /* 22: data exception, 23: integrity constraint violation. Only these
     * say the report itself is wrong; anything else (disk full, a missing
     * table, a deadlock) is the server's trouble, and the agent must keep
     * the report and resend rather than set it aside. */
    return state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0);
}

static void s_on_stored(srv_db_t *db, int rc, const PGresult *res, void *arg)
{
    s_pending_t *p = arg;
    srv_server_t *self = p->server;
    srv_counters_t *c = srv_server_counters(self);
    srv_peer_t peer = {.rid = p->rid, .rid_len = p->rid_len, .principal = p->unit};
    char unit[100], msg[400];
    srv_server_logstr(unit, sizeof unit, p->unit);
    if (rc != 0) {
        /* srv_db logged the loss once, with how many jobs it took along. */
        CCHC_LOG(CCHC_LOG_DEBUG, "report_busy", "unit=%s msg_id=%" PRIu64 " reason=db_lost", unit,
                 p->msg_id);
        srv_server_nack(self, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_BUSY,
                        "not stored in time (database lost or server stopping); resend later",
                        NULL);
        goto out;
    }
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        /* No row at all cannot happen short of a concurrent delete; it is
         * still not new, so it is acked as a duplicate. */
        int64_t id = 0;
        int duplicate = 1;
        if (PQntuples(res) > 0) {
            id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
            duplicate = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
        }
        if (duplicate)
            c->duplicates++;
        else
            c->stored++;
        CCHC_LOG(CCHC_LOG_INFO, "report_stored",
                 "unit=%s epoch=%" PRIu64 " msg_id=%" PRIu64 " id=%" PRId64 " duplicate=%d", unit,
                 p->epoch, p->msg_id, id, duplicate);
        srv_server_ack(self, &peer, p->epoch, p->msg_id, id, duplicate);
        goto out;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char *detail = cchc_asprintf("%s: %s", state ? state : "?????",
                                 primary ? primary : PQresultErrorMessage(res));
    srv_server_logstr(msg, sizeof msg, detail);
    if (s_sqlstate_is_data(state)) {
        CCHC_LOG(CCHC_LOG_WARN, "report_rejected", "unit=%s msg_id=%" PRIu64 " err=%s", unit,
                 p->msg_id, msg);
        srv_server_nack(self, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_INVALID,
                        detail, NULL);
    } else {
        CCHC_LOG(CCHC_LOG_ERROR, "db_error", "unit=%s msg_id=%" PRIu64 " err=%s", unit, p->msg_id,
                 msg);
        srv_server_nack(self, &peer, p->epoch, p->msg_id, CCHC__V1__NACK_REASON__NACK_BUSY, detail,
                        NULL);
    }
    free(detail);
out:
    free(p->unit);
    free(p);
}

/* What the table needs and the decoder cannot know; every problem is a
 * finding. The district's rules are a later layer (cchc_validate). */
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

/* Builds the parameters and queues the INSERT; when it cannot, answers the
 * peer with a Nack. */
static void s_store(srv_server_t *self, const srv_peer_t *peer, const cchc_envelope_t *env,
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
    char epoch[24], msg_id[24], revision[24], sent_at[24], sealed_at[24];
    snprintf(epoch, sizeof epoch, "%" PRId64, s_u64_bits(env->agent_epoch));
    snprintf(msg_id, sizeof msg_id, "%" PRIu64, env->msg_id);
    snprintf(revision, sizeof revision, "%" PRId64, r->revision);
    snprintf(sent_at, sizeof sent_at, "%" PRId64, env->sent_at_ms);
    snprintf(sealed_at, sizeof sealed_at, "%" PRId64, r->sealed_at_ms);
    const char *values[S_NPARAMS] = {peer->principal,
                                     epoch,
                                     msg_id,
                                     r->type,
                                     cchc_report_kind(r),
                                     r->period ? r->period : "",
                                     revision,
                                     s_subject(r),
                                     env->sent_at_ms ? sent_at : NULL,
                                     sealed_at,
                                     (const char *)payload,
                                     body};
    int lengths[S_NPARAMS] = {0};
    int formats[S_NPARAMS] = {0};
    lengths[10] = (int)payload_len; /* bounded by max_frame */
    formats[10] = 1;

    srv_db_t *db = srv_server_db(self);
    if (srv_db_pending(db) >= SRV_SERVER_MAX_PENDING) {
        why = "server queue full; resend later";
        goto out;
    }
    s_pending_t *p = cchc_malloc(sizeof *p + peer->rid_len);
    p->server = self;
    p->unit = cchc_strdup(peer->principal);
    p->epoch = env->agent_epoch;
    p->msg_id = env->msg_id;
    p->rid_len = peer->rid_len;
    memcpy(p->rid, peer->rid, peer->rid_len);
    if (srv_db_submit(db, S_INSERT_SQL, S_NPARAMS, values, lengths, formats, s_on_stored, p) != 0) {
        free(p->unit);
        free(p);
        why = "database unavailable; resend later";
        goto out;
    }
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
        CCHC_LOG(CCHC_LOG_DEBUG, "report_refused",
                 "unit=%s msg_id=%" PRIu64 " reason=BUSY detail=db_down", unit, env->msg_id);
        srv_server_nack(self, peer, env->agent_epoch, env->msg_id, CCHC__V1__NACK_REASON__NACK_BUSY,
                        "database unavailable; resend later", NULL);
        return;
    }
    s_store(self, peer, env, r, unit);
}
