/* srv_handle_report.c: Report, an officer's report delivered by an agent.
 *
 * The arrival step of a report's lifecycle (srv_report.h): the key's unit
 * (or a closed unit it answers for), the few things the table needs, the
 * database up and the caps; then the report, decoded once by the loop, is
 * handed to the batch, which answers it after the commit that makes its
 * outcome durable. */
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_report.h"
#include "srv_batch.h"
#include "srv_handle.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void srv_handle_report(srv_handlers_t *h, const srv_peer_t *peer, cchc_envelope_t **env_p,
                       const uint8_t *frame, size_t len)
{
    const cchc_envelope_t *env = *env_p;
    const Cchc__V1__Report *r = env->report;
    const char *env_unit = env->unit ? env->unit : "";
    const char *rep_unit = r && r->unit ? r->unit : "";
    char unit[100], a[100], b[100];
    srv_counters_t *c = srv_router_counters(h->router);
    c->reports++;
    srv_logstr(unit, sizeof unit, peer->principal);

    /* The key decides the unit: the envelope names the key's unit, and so
     * does the report, unless it is a predecessor's that the key's unit
     * answers for (DOMAIN.md section 1: a closed unit's obligations pass to
     * its successor). Whether it is, the sender's kept context says (its
     * "predecessors"); while that is not at hand the batch decides, after
     * reading it. A report for anyone else is refused whole. */
    const cchc_vctx_t *sender = NULL;
    int other = peer->principal[0] && strcmp(env_unit, peer->principal) == 0 && rep_unit[0] &&
                strcmp(rep_unit, peer->principal) != 0;
    if (other)
        sender = srv_units_vctx(h->units, peer->principal);
    if (!peer->principal[0] || strcmp(env_unit, peer->principal) != 0 ||
        (strcmp(rep_unit, peer->principal) != 0 &&
         (!other || (sender && !cchc_vctx_answers_for(sender, rep_unit))))) {
        char *detail = cchc_asprintf("envelope unit \"%s\" and report unit \"%s\" must both be "
                                     "\"%s\", the unit of this key (the report's may be a closed "
                                     "unit it answers for)",
                                     env_unit, rep_unit, peer->principal);
        CCHC_LOG(CCHC_LOG_WARN, "unit_mismatch",
                 "unit=%s envelope_unit=%s report_unit=%s msg_id=%" PRIu64, unit,
                 srv_logstr(a, sizeof a, env_unit), srv_logstr(b, sizeof b, rep_unit), env->msg_id);
        srv_refusals_record(h->refusals, SRV_REFUSAL_UNIT_MISMATCH, peer->principal, peer->key_id,
                            strcmp(env_unit, peer->principal) ? env_unit : rep_unit, "report");
        srv_router_nack(h->router, peer, env->agent_epoch, env->msg_id,
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
        srv_router_nack(h->router, peer, env->agent_epoch, env->msg_id,
                        CCHC__V1__NACK_REASON__NACK_INVALID, "the report breaks the rules", &f);
        cchc_findings_clear(&f);
        return;
    }
    cchc_findings_clear(&f);

    /* Nothing is built while the database is away: the answer is the same. */
    const char *why = NULL;
    Cchc__V1__NackReason reason = CCHC__V1__NACK_REASON__NACK_BUSY;
    if (!srv_db_ready(h->db)) {
        c->refused_busy_db++;
        why = "database unavailable; resend later";
    } else if (srv_batch_admit(h->batch, peer, &why) == 0) {
        uint64_t epoch = env->agent_epoch, msg_id = env->msg_id;
        srv_report_t *p = srv_report_new(peer, env_p, frame, len, h->max_clock_skew_ms, &why);
        if (p) {
            srv_batch_add(h->batch, &p);
            return;
        }
        reason = CCHC__V1__NACK_REASON__NACK_INVALID;
        CCHC_LOG(CCHC_LOG_WARN, "report_refused",
                 "unit=%s msg_id=%" PRIu64 " reason=INVALID detail=\"%s\"", unit, msg_id, why);
        srv_router_nack(h->router, peer, epoch, msg_id, reason, why, NULL);
        return;
    }
    CCHC_LOG(CCHC_LOG_DEBUG, "report_refused",
             "unit=%s msg_id=%" PRIu64 " reason=BUSY detail=\"%s\"", unit, env->msg_id, why);
    srv_router_nack(h->router, peer, env->agent_epoch, env->msg_id, reason, why, NULL);
}
