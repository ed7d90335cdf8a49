/* agt_answer.c: what the server's answer does to a report (see agt_answer.h). */
#include "agt_answer.h"

#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_report.h"
#include "cchc_wire.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct agt_answer_t {
    uint64_t epoch;
    agt_window_t *win;      /* borrowed */
    agt_outbox_t *outbox;   /* borrowed */
    const char *public_key; /* borrowed: the agent's, for the hint */
    int key_refused;        /* a KEY_REVOKED came on this connection (said once) */
    int key_revoked;        /* one came this run */
};

agt_answer_t *agt_answer_new(uint64_t epoch, agt_window_t *win, agt_outbox_t *outbox,
                             const char *public_key)
{
    agt_answer_t *self = cchc_calloc(1, sizeof *self);
    self->epoch = epoch;
    self->win = win;
    self->outbox = outbox;
    self->public_key = public_key;
    return self;
}

void agt_answer_destroy(agt_answer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

void agt_answer_connected(agt_answer_t *self)
{
    self->key_refused = 0;
}

int agt_answer_key_revoked(const agt_answer_t *self)
{
    return self->key_revoked;
}

/* The window entry an answer is about, or NULL when it is not ours or not in
 * flight (a late duplicate of an answer already handled). */
static agt_flight_t *s_answered(agt_answer_t *self, uint64_t epoch, uint64_t msg_id,
                                const char *what)
{
    agt_flight_t *f = NULL;
    if (epoch == self->epoch && msg_id <= (uint64_t)INT64_MAX)
        f = agt_window_find(self->win, (int64_t)msg_id);
    if (!f)
        CCHC_LOG(CCHC_LOG_DEBUG, "reply_ignored", "kind=%s id=%" PRIu64 " epoch_match=%d", what,
                 msg_id, epoch == self->epoch);
    return f;
}

/* Findings of an answer as JSON text (caller frees), NULL when there are none. */
static char *s_findings_text(Cchc__V1__Finding *const *v, size_t n, size_t *count)
{
    *count = 0;
    if (n == 0)
        return NULL;
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_wire_findings_append(&f, v, n);
    json_t *arr = cchc_findings_to_json(&f);
    char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    *count = f.n;
    json_decref(arr);
    cchc_findings_clear(&f);
    return text;
}

void agt_answer_ack(agt_answer_t *self, const Cchc__V1__Ack *ack)
{
    agt_flight_t *f = s_answered(self, ack->agent_epoch, ack->msg_id, "ack");
    if (!f)
        return;
    size_t nwarn = 0;
    char *warnings = s_findings_text(ack->warnings, ack->n_warnings, &nwarn);
    int rc = agt_outbox_mark_delivered(self->outbox, f->id, cchc_clock_now_ms(), ack->report_id,
                                       warnings);
    free(warnings);
    /* On an outbox error the row stays queued and in the window: it will be
     * resent, acked again as a duplicate, and marked then. */
    if (rc != CCHC_OK && rc != CCHC_ENOTFOUND)
        return;
    CCHC_LOG(CCHC_LOG_INFO, "delivered",
             "id=%" PRId64 " server_id=%" PRId64 " duplicate=%d"
             " warnings=%zu",
             f->id, ack->report_id, ack->duplicate ? 1 : 0, nwarn);
    agt_window_remove(self->win, f);
}

/* When a refusal's only errors are E007: the revision the server says it
 * stores ("Revision N is already stored", the wording of cchc_validate.c and
 * of cchc_store_report), or 0 when no finding names it. -1 when the refusal
 * has another error, or none. */
static int64_t s_e007_only(const Cchc__V1__Nack *nack)
{
    int64_t stored = -1;
    for (size_t i = 0; i < nack->n_findings; i++) {
        const Cchc__V1__Finding *x = nack->findings[i];
        long long n = 0;
        if (!x || !x->code || x->code[0] != 'E')
            continue;
        if (strcmp(x->code, "E007") != 0)
            return -1;
        if (stored < 0)
            stored = 0;
        if (x->message_en && sscanf(x->message_en, "Revision %lld is already stored", &n) == 1 &&
            n > stored)
            stored = n;
    }
    return stored;
}

/* An older revision refused only because a newer one is stored: nothing for
 * the officer to fix. Marks the row superseded and returns 1; 0 when the
 * refusal is anything else (the same revision sent again is still to fix). */
static int s_superseded(agt_answer_t *self, agt_flight_t *f, const Cchc__V1__Nack *nack,
                        const char *findings)
{
    int64_t stored = nack->reason == CCHC__V1__NACK_REASON__NACK_INVALID ? s_e007_only(nack) : -1;
    int newer = 0;
    if (stored < 0 || agt_outbox_newer_stored(self->outbox, f->id, stored, &newer) != CCHC_OK ||
        !newer)
        return 0;
    char *reason = stored > 0 ? cchc_asprintf("SUPERSEDED: đã có bản lần %" PRId64
                                              " được nhận (revision %" PRId64 " is stored)",
                                              stored, stored)
                              : cchc_strdup("SUPERSEDED: đã có bản mới hơn được nhận (a newer "
                                            "revision is stored)");
    int rc = agt_outbox_mark_superseded(self->outbox, f->id, reason, findings);
    free(reason);
    if (rc != CCHC_OK && rc != CCHC_ENOTFOUND)
        return 1; /* logged; the row stays in the window and is resent */
    CCHC_LOG(CCHC_LOG_INFO, "superseded", "id=%" PRId64 " stored_revision=%" PRId64, f->id, stored);
    agt_window_remove(self->win, f);
    return 1;
}

/* The server refused this agent's key on an open connection (revoked or
 * expired since the handshake): said once per connection, in the log and in
 * status, with what the officer does about it. */
static void s_key_refused(agt_answer_t *self)
{
    char when[32];
    self->key_revoked = 1;
    if (self->key_refused)
        return;
    self->key_refused = 1;
    CCHC_LOG(CCHC_LOG_ERROR, "key_revoked",
             "public_key=\"%s\" hint=\"the district revoked this agent's key or it expired: "
             "install the new agent.key and agent.pub and restart; held reports go out then\"",
             self->public_key);
    cchc_clock_format_utc(cchc_clock_now_ms(), when, sizeof when);
    char *text = cchc_asprintf(
        "%s key_revoked: máy chủ từ chối khoá của máy trạm (đã bị thu hồi hoặc hết hạn); đề nghị "
        "Phòng Nội vụ cấp khoá mới, chép agent.key và agent.pub mới vào máy trạm rồi khởi động "
        "lại cchc-agent (the server refused this agent's key: key revoked or expired; install "
        "the district's new key and restart the agent)",
        when);
    (void)agt_outbox_state_set(self->outbox, AGT_OUTBOX_LAST_ERROR, text);
    free(text);
}

/* A report refused for this agent's key is kept, held, for the next key
 * (agt_outbox_key_changed requeues it at a start with another key). */
static void s_hold(agt_answer_t *self, agt_flight_t *f, const Cchc__V1__Nack *nack)
{
    char *reason =
        cchc_asprintf("KEY_REVOKED: %s", nack->detail && *nack->detail ? nack->detail : "");
    int rc = agt_outbox_mark_held(self->outbox, f->id, reason);
    free(reason);
    if (rc != CCHC_OK && rc != CCHC_ENOTFOUND)
        return; /* logged; it stays in the window and is resent */
    CCHC_LOG(CCHC_LOG_WARN, "held", "id=%" PRId64 " reason=KEY_REVOKED", f->id);
    agt_window_remove(self->win, f);
}

void agt_answer_nack(agt_answer_t *self, const Cchc__V1__Nack *nack)
{
    /* Hello and MetaRequest are refused too (msg_id 0): the key is the news. */
    if (nack->reason == CCHC__V1__NACK_REASON__NACK_KEY_REVOKED)
        s_key_refused(self);
    agt_flight_t *f = s_answered(self, nack->agent_epoch, nack->msg_id, "nack");
    if (!f)
        return;
    const char *name = cchc_wire_nack_reason_name(nack->reason);
    if (nack->reason == CCHC__V1__NACK_REASON__NACK_KEY_REVOKED) {
        s_hold(self, f, nack);
        return;
    }
    if (cchc_wire_nack_is_transient(nack->reason)) {
        int64_t delay = agt_window_busy(self->win, f, cchc_clock_mono_ms());
        CCHC_LOG(CCHC_LOG_INFO, "nack_transient", "id=%" PRId64 " reason=%s retry_in_ms=%" PRId64,
                 f->id, name, delay);
        return;
    }
    size_t n = 0;
    char *findings = s_findings_text(nack->findings, nack->n_findings, &n);
    if (s_superseded(self, f, nack, findings)) {
        free(findings);
        return;
    }
    char *reason = nack->detail && *nack->detail ? cchc_asprintf("%s: %s", name, nack->detail)
                                                 : cchc_strdup(name);
    int rc = agt_outbox_mark_refused(self->outbox, f->id, reason, findings);
    free(reason);
    free(findings);
    if (rc != CCHC_OK && rc != CCHC_ENOTFOUND)
        return;
    CCHC_LOG(CCHC_LOG_WARN, "refused", "id=%" PRId64 " reason=%s findings=%zu", f->id, name, n);
    agt_window_remove(self->win, f);
}
