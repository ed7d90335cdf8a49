/* agt_sync.c: metadata sync and the offline reads of it (see agt_sync.h).
 *
 * Owns the sync timer, the outcome of the last answer (agt_sync_outcome: what
 * `sync` and `run --drain` wait for) and the checks a document passes before
 * it replaces the stored one. The socket is agt_link's: this module only says when a
 * MetaRequest is due and what to do with the answers.
 *
 *   state         event                            next          function
 *   ------------  -------------------------------  ------------  ------------------------
 *   offline       handshake succeeded              due now       agt_sync_connected
 *   due           MetaRequest sent (after Hello)   asked         agt_sync_requested
 *   due           socket full                      due shortly   agt_sync_defer
 *   asked         30 s pass with no Meta           due           (agt_sync_due)
 *   asked|waiting Meta unchanged                   waiting       agt_sync_handle_meta
 *   asked|waiting Meta with a valid document       waiting       agt_sync_handle_meta
 *   asked|waiting Meta with a bad document         waiting       (logged, old one kept)
 *   waiting       10 minutes pass                  due           (agt_sync_due)
 *   any online    MetaChanged                      due now       agt_sync_handle_changed
 *   any           disconnected                     offline       agt_sync_disconnected
 */
#include "agt_sync.h"

#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_validate.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define S_RESYNC_MS (10 * 60 * 1000)
#define S_UNANSWERED_MS 30000

struct agt_sync_t {
    agt_outbox_t *outbox; /* borrowed */
    uint64_t version;     /* stored; 0 when none */
    int64_t due;          /* monotonic ms, INT64_MAX while offline */
    int online;
    int asked;   /* a request is out and unanswered */
    int outcome; /* AGT_SYNC_*: the last answer of this run */
};

int agt_sync_outcome(const agt_sync_t *self)
{
    return self->outcome;
}

agt_sync_t *agt_sync_new(agt_outbox_t *outbox)
{
    agt_sync_t *self = cchc_calloc(1, sizeof *self);
    self->outbox = outbox;
    self->due = INT64_MAX;
    uint64_t version = 0;
    if (agt_outbox_meta_load(outbox, &version, NULL, NULL) == CCHC_OK)
        self->version = version;
    return self;
}

void agt_sync_destroy(agt_sync_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

uint64_t agt_sync_version(const agt_sync_t *self)
{
    return self->version;
}

int64_t agt_sync_due(const agt_sync_t *self)
{
    return self->due;
}

void agt_sync_connected(agt_sync_t *self, int64_t now)
{
    self->online = 1;
    self->due = now;
}

void agt_sync_disconnected(agt_sync_t *self)
{
    self->online = 0;
    self->asked = 0;
    self->due = INT64_MAX;
}

void agt_sync_requested(agt_sync_t *self, int64_t now)
{
    self->asked = 1;
    self->due = now + S_UNANSWERED_MS;
    CCHC_LOG(CCHC_LOG_DEBUG, "metadata_requested", "version=%016" PRIx64, self->version);
}

void agt_sync_defer(agt_sync_t *self, int64_t when)
{
    self->due = when;
}

int agt_sync_parse(const char *text, size_t len, json_t **doc_p, char *err, size_t errlen)
{
    json_error_t jerr;
    *doc_p = NULL;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        snprintf(err, errlen, "not JSON: line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return CCHC_EINVAL;
    }
    if (!json_is_object(doc)) {
        snprintf(err, errlen, "not a JSON object");
        json_decref(doc);
        return CCHC_EINVAL;
    }
    char verr[256] = "";
    cchc_vctx_t *ctx = cchc_vctx_new(doc, verr, sizeof verr);
    if (!ctx) {
        snprintf(err, errlen, "not a validation context: %s", verr);
        json_decref(doc);
        return CCHC_EINVAL;
    }
    cchc_vctx_destroy(&ctx);
    *doc_p = doc;
    return CCHC_OK;
}

void agt_sync_handle_meta(agt_sync_t *self, const Cchc__V1__Meta *meta)
{
    int64_t now = cchc_clock_now_ms();
    if (self->asked && self->online)
        self->due = cchc_clock_mono_ms() + S_RESYNC_MS;
    self->asked = 0;
    if (meta->unchanged) {
        self->outcome = AGT_SYNC_UNCHANGED;
        int rc = agt_outbox_meta_touch(self->outbox, now);
        CCHC_LOG(CCHC_LOG_DEBUG, "metadata_unchanged", "version=%016" PRIx64 " stored=%d",
                 meta->version, rc == CCHC_OK);
        return;
    }
    const char *text = meta->document ? meta->document : "";
    size_t len = strlen(text);
    char err[320] = "";
    json_t *doc = NULL;
    if (agt_sync_parse(text, len, &doc, err, sizeof err) != CCHC_OK) {
        CCHC_LOG(CCHC_LOG_ERROR, "metadata_rejected",
                 "version=%016" PRIx64 " bytes=%zu kept=%016" PRIx64 " err=\"%s\"", meta->version,
                 len, self->version, err);
        self->outcome = AGT_SYNC_REJECTED;
        return;
    }
    json_decref(doc);
    if (agt_outbox_meta_save(self->outbox, meta->version, text, now) != CCHC_OK) {
        self->outcome = AGT_SYNC_FAILED;
        return; /* logged by the outbox; asked again in 10 minutes */
    }
    self->outcome = AGT_SYNC_SAVED;
    self->version = meta->version;
    CCHC_LOG(CCHC_LOG_INFO, "metadata_synced", "version=%016" PRIx64 " bytes=%zu", meta->version,
             len);
}

void agt_sync_handle_changed(agt_sync_t *self, const Cchc__V1__MetaChanged *changed, int64_t now)
{
    CCHC_LOG(CCHC_LOG_DEBUG, "metadata_changed", "version=%016" PRIx64 " stored=%016" PRIx64,
             changed->version, self->version);
    if (self->online)
        self->due = now;
}

/* ---- the officer side ------------------------------------------------------------ */

int agt_sync_load(const agt_config_t *cfg, json_t **doc_p, uint64_t *version, int64_t *synced_at)
{
    char err[512] = "", *text = NULL;
    *doc_p = NULL;
    agt_outbox_t *outbox = agt_outbox_new(cfg->outbox, err, sizeof err);
    if (!outbox) {
        fprintf(stderr, "Không mở được hàng đợi gửi: %s\n(could not open the outbox: %s)\n", err,
                err);
        return CCHC_EIO;
    }
    int rc = agt_outbox_meta_load(outbox, version, &text, synced_at);
    if (rc == CCHC_OK && agt_sync_parse(text, strlen(text), doc_p, err, sizeof err) != CCHC_OK) {
        fprintf(stderr,
                "Dữ liệu của huyện đã lưu không đọc được (%s); chạy `cchc-agent sync` để đồng "
                "bộ lại.\n(the stored district data does not parse: %s; run `cchc-agent sync` to "
                "sync again)\n",
                err, err);
        rc = CCHC_EINVAL;
    } else if (rc != CCHC_OK && rc != CCHC_ENOTFOUND) {
        fprintf(stderr, "Không đọc được hàng đợi gửi %s (%s)\n(could not read the outbox)\n",
                agt_outbox_path(outbox), cchc_strerror(rc));
    }
    free(text);
    agt_outbox_destroy(&outbox);
    return rc;
}

void agt_sync_print_never_synced(FILE *f)
{
    fprintf(f, "Chưa có dữ liệu của huyện (loại báo cáo, lịch làm việc, cuộc kiểm tra, nhiệm "
               "vụ): máy trạm chưa đồng bộ lần nào. Hãy chạy `cchc-agent sync` khi có kết nối "
               "mạng.\n"
               "(the district's data was never synced: run `cchc-agent sync` once connected)\n");
}

const char *agt_sync_str(const json_t *obj, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : dflt;
}

const json_t *agt_sync_type_for(const json_t *doc, const char *kind)
{
    const json_t *first = NULL, *t;
    size_t i;
    json_array_foreach(json_object_get(doc, "types"), i, t)
    {
        if (strcmp(agt_sync_str(t, "content_kind", ""), kind) != 0 ||
            !agt_sync_str(t, "code", NULL))
            continue;
        if (json_is_true(json_object_get(t, "assigned")))
            return t;
        if (!first)
            first = t;
    }
    return first;
}

int agt_sync_inspection_open(const json_t *inspection, const char *unit)
{
    const char *u = agt_sync_str(inspection, "unit", NULL);
    if (u && strcmp(u, unit) != 0)
        return 0;
    return strcmp(agt_sync_str(inspection, "status", ""), "closed") != 0;
}

/* 1 when list (unit codes, or "@kind" for every unit of a kind) names the unit. */
static int s_names(const json_t *list, const char *unit, const char *kind)
{
    const json_t *v;
    size_t i;
    json_array_foreach(list, i, v)
    {
        const char *s = json_string_value(v);
        if (!s)
            continue;
        if (strcmp(s, unit) == 0 || strcmp(s, "@all") == 0)
            return 1;
        if (s[0] == '@' && kind && strcmp(s + 1, kind) == 0)
            return 1;
    }
    return 0;
}

int agt_sync_task_role(const json_t *doc, const json_t *task, const char *unit)
{
    const char *kind = agt_sync_str(json_object_get(doc, "unit"), "kind", NULL);
    if (s_names(json_object_get(task, "lead"), unit, kind))
        return AGT_ROLE_LEAD;
    if (s_names(json_object_get(task, "support"), unit, kind))
        return AGT_ROLE_SUPPORT;
    return json_is_true(json_object_get(task, "assigned")) ? AGT_ROLE_SUPPORT : AGT_ROLE_NONE;
}
