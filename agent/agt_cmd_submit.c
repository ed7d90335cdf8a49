/* agt_cmd_submit.c: `cchc-agent submit FILE [FILE...] [--dry-run]`.
 *
 * Owns the officer's path from a JSON file to a queued outbox row: read the
 * file, check it offline (structure, unit, unfilled template placeholders,
 * then the district's rules with the metadata last synced: cchc_validate),
 * seal it, pack it, and insert it, within the outbox caps ([agent]
 * max_outbox_reports and max_outbox_bytes, checked in the insert's own
 * transaction). It never touches the network, so it works while the server is
 * down; the daemon (`run`) delivers the row later. A report with any error is
 * not queued; warnings are shown and do not stop it. "saved" is printed only
 * after the row is committed.
 *
 * A report of another unit is queued only when that unit is a closed
 * predecessor this unit answers for (DOMAIN.md section 1, the metadata's
 * "predecessors"), and it is then checked as that unit's: one of the
 * obligations it left open, after its closure.
 *
 * Several files in one run are each checked and queued on their own (one
 * transaction per file, one "saved" line per file), but share one open
 * outbox, its prepared statements, and one validation context built once from
 * the stored metadata: a bulk submit costs a commit per file, not a start. */
#include "agt_config.h"
#include "agt_outbox.h"
#include "agt_sync.h"

#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_findings.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_period.h"
#include "cchc_report.h"
#include "cchc_validate.h"
#include "cchc_wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Room the Envelope around a report takes (unit, epoch, ids, tags). */
#define S_ENVELOPE_OVERHEAD 256

/* What every file of one run shares. */
typedef struct {
    const agt_config_t *cfg; /* borrowed */
    agt_outbox_t *outbox;    /* NULL only in a dry run whose outbox would not open */
    json_t *doc;             /* the district's metadata, or {} */
    cchc_vctx_t *vctx;       /* built once from doc; NULL if even {} is refused */
    int dry_run;
    int full_told; /* the queue-full explanation was printed once */
} agt_submit_t;

/* Reads the whole file into a new NUL-terminated buffer. On failure prints
 * the officer's message and returns NULL. */
static char *s_read_file(const char *path, size_t *len_out)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    if (!f || fstat(fileno(f), &st) != 0) {
        fprintf(stderr,
                "Không đọc được tệp báo cáo \"%s\": %s. Kiểm tra lại đường dẫn và quyền đọc tệp.\n"
                "(could not read report file \"%s\": %s; check the path and the file's "
                "permissions)\n",
                path, strerror(errno), path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr,
                "Không đọc được tệp báo cáo \"%s\": đây không phải là một tệp thông thường.\n"
                "(\"%s\" is not a regular file: give the path of a report's JSON file)\n",
                path, path);
        goto out;
    }
    if (st.st_size > CCHC_REPORT_MAX_JSON) {
        fprintf(stderr,
                "Tệp báo cáo \"%s\" quá lớn: %lld byte, giới hạn %d byte. Kiểm tra lại tệp "
                "(có thể chọn nhầm tệp).\n"
                "(report file \"%s\" is too large: %lld bytes, the limit is %d bytes)\n",
                path, (long long)st.st_size, CCHC_REPORT_MAX_JSON, path, (long long)st.st_size,
                CCHC_REPORT_MAX_JSON);
        goto out;
    }
    /* One byte more than the limit, so a file that grew since fstat is caught. */
    buf = cchc_malloc(CCHC_REPORT_MAX_JSON + 2);
    len = fread(buf, 1, CCHC_REPORT_MAX_JSON + 1, f);
    if (ferror(f) || len > CCHC_REPORT_MAX_JSON) {
        fprintf(stderr,
                "Không đọc được tệp báo cáo \"%s\"%s.\n(could not read report file \"%s\"%s)\n",
                path, ferror(f) ? "" : ": tệp quá lớn", path, ferror(f) ? "" : ": too large");
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[len] = '\0';
    *len_out = len;
out:
    if (f)
        fclose(f);
    return buf;
}

static void s_print_findings(const cchc_findings_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const cchc_finding_t *x = &f->v[i];
        printf("  %s %s: %s\n      (%s)\n", x->code, x->path ? x->path : "$",
               x->msg_vi ? x->msg_vi : "", x->msg_en ? x->msg_en : "");
    }
}

static void s_print_refused(const char *path, const cchc_findings_t *f)
{
    s_print_findings(f);
    printf("Báo cáo chưa được lưu: %zu lỗi cần sửa (tệp \"%s\", %zu cảnh báo). Sửa các lỗi trên "
           "rồi nộp lại.\n"
           "(the report was not saved: %zu errors to fix, %zu warnings; nothing was queued)\n",
           f->errors, path, f->warnings, f->errors, f->warnings);
}

/* E000 for every string still holding a template's guidance: "<...>". The
 * path is built in buf (JSONPath as cchc_report writes it). */
static void s_placeholders(const json_t *v, char *buf, size_t len, size_t cap, cchc_findings_t *f)
{
    if (len >= cap - 1)
        return; /* deeper than any report goes */
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
            cchc_findings_add(f, "E000", buf,
                              "Chưa điền: thay nội dung trong <...> bằng thông tin thật",
                              "Not filled in: replace the <...> guidance with the real value");
        return;
    }
    if (json_is_object(v)) {
        const char *key;
        json_t *x;
        json_object_foreach((json_t *)v, key, x)
        {
            snprintf(buf + len, cap - len, ".%s", key);
            s_placeholders(x, buf, strlen(buf), cap, f);
            buf[len] = '\0';
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            snprintf(buf + len, cap - len, "[%zu]", i);
            s_placeholders(x, buf, strlen(buf), cap, f);
            buf[len] = '\0';
        }
    }
}

/* Builds the validation context once for the whole run: from the metadata
 * last synced, or from the empty document when none was (the rules that need
 * nothing from the district still run, and the officer is told the server
 * checks the rest). */
static void s_context_load(agt_submit_t *self)
{
    char err[320] = "", *text = NULL;
    int rc = CCHC_EIO;
    if (self->outbox) {
        rc = agt_outbox_meta_load(self->outbox, NULL, &text, NULL);
        if (rc == CCHC_OK &&
            agt_sync_parse(text, strlen(text), &self->doc, err, sizeof err) != CCHC_OK) {
            fprintf(stderr,
                    "Dữ liệu của huyện đã lưu không đọc được (%s); chạy `cchc-agent sync` để "
                    "đồng bộ lại.\n(the stored district data does not parse: %s; run `cchc-agent "
                    "sync` to sync again)\n",
                    err, err);
            rc = CCHC_EINVAL;
        }
        free(text);
    }
    if (rc == CCHC_OK)
        self->vctx = cchc_vctx_new(self->doc, err, sizeof err);
    if (rc == CCHC_OK && !self->vctx) {
        fprintf(stderr,
                "Dữ liệu của huyện đã lưu không dùng được (%s); chỉ kiểm tra theo mẫu.\n"
                "(the stored district data is not usable: %s; checking the structure only)\n",
                err, err);
        rc = CCHC_EINVAL;
    }
    if (rc != CCHC_OK) {
        json_decref(self->doc);
        self->doc = json_object();
        self->vctx = cchc_vctx_new(self->doc, err, sizeof err);
        if (!self->vctx)
            CCHC_LOG(CCHC_LOG_ERROR, "validate_skipped", "err=\"%s\"", err);
    }
    if (rc == CCHC_ENOTFOUND)
        printf("Lưu ý: máy trạm chưa đồng bộ dữ liệu của huyện (loại báo cáo, kỳ, lịch làm việc, "
               "cuộc kiểm tra, nhiệm vụ), nên mới kiểm tra cấu trúc và các quy tắc không cần dữ "
               "liệu đó; máy chủ huyện sẽ kiểm tra phần còn lại khi nhận báo cáo. Chạy "
               "`cchc-agent sync` khi có mạng để đồng bộ.\n"
               "(note: the district's data was never synced, so only the structure and the "
               "self-contained rules were checked; the server will check the rest)\n");
    else if (rc != CCHC_OK)
        printf("Lưu ý: không dùng được dữ liệu của huyện đã lưu, nên mới kiểm tra cấu trúc và các "
               "quy tắc không cần dữ liệu đó; máy chủ huyện sẽ kiểm tra phần còn lại.\n"
               "(note: the stored district data is not usable, so only the structure and the "
               "self-contained rules were checked; the server will check the rest)\n");
    if (self->vctx) {
        cchc_vctx_set_key_unit(self->vctx, self->cfg->unit);
        cchc_vctx_set_today(self->vctx, cchc_day_of_instant(cchc_clock_now_ms()));
    }
}

/* The inspection or task a report answers, for the officer's listing. */
static const char *s_subject(const cchc_report_t *r)
{
    if (r->content_case == CCHC__V1__REPORT__CONTENT_REMEDIATION && r->remediation)
        return r->remediation->inspection;
    if (r->content_case == CCHC__V1__REPORT__CONTENT_TASK_PROGRESS && r->task_progress)
        return r->task_progress->task;
    return NULL;
}

static const char *s_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The queue is at a cap: the file is not saved and nothing queued changes.
 * The whole explanation once per run, one line for every later file. */
static void s_print_full(agt_submit_t *self, const char *path, const agt_outbox_size_t *q,
                         size_t len)
{
    const agt_config_t *cfg = self->cfg;
    int by_count = q->reports + 1 > cfg->max_outbox_reports;
    if (self->full_told) {
        printf("Báo cáo \"%s\" chưa được lưu: hàng đợi gửi vẫn đầy.\n"
               "(\"%s\" was not saved: the outbox is still full)\n",
               path, path);
        return;
    }
    self->full_told = 1;
    printf("Báo cáo \"%s\" chưa được lưu: hàng đợi gửi đã đầy. Đang có %" PRId64
           " báo cáo chờ gửi (%" PRId64 " byte); giới hạn là %" PRId64 " báo cáo ([agent] "
           "max_outbox_reports) và %" PRId64 " byte ([agent] max_outbox_bytes). Các báo cáo đã "
           "lưu vẫn giữ nguyên. Hãy kết nối máy trạm với máy chủ huyện (chạy `cchc-agent run` khi "
           "có mạng) để gửi bớt hàng đợi, rồi nộp lại; hoặc đề nghị cán bộ phụ trách tăng %s trong "
           "agent.ini.\n"
           "(\"%s\" was not saved: the outbox is full: %" PRId64 " reports (%" PRId64
           " bytes) wait to be sent, the limits are %" PRId64 " reports and %" PRId64
           " bytes, and this report of %zu bytes would pass the %s limit; nothing queued was "
           "touched. Connect the agent (`cchc-agent run`) so the queue drains, then submit again, "
           "or ask for a larger [agent] %s)\n",
           path, q->reports, q->bytes, cfg->max_outbox_reports, cfg->max_outbox_bytes,
           by_count ? "max_outbox_reports" : "max_outbox_bytes", path, q->reports, q->bytes,
           cfg->max_outbox_reports, cfg->max_outbox_bytes, len, by_count ? "count" : "bytes",
           by_count ? "max_outbox_reports" : "max_outbox_bytes");
}

static int s_queue(agt_submit_t *self, const char *path, const cchc_report_t *r,
                   const uint8_t *packed, size_t len)
{
    int64_t id = 0;
    agt_outbox_size_t q = {0, 0};
    agt_outbox_size_t cap = {self->cfg->max_outbox_reports, self->cfg->max_outbox_bytes};
    agt_outbox_entry_t e = {
        .report_type = r->type,
        .unit = r->unit,
        .period = r->period,
        .subject = s_subject(r),
        .revision = r->revision,
        .kind = cchc_report_kind(r),
        .source = s_basename(path),
        .payload = packed,
        .payload_len = len,
    };
    int rc = agt_outbox_insert_capped(self->outbox, &e, cchc_clock_now_ms(), &cap, &id, &q);
    if (rc == CCHC_EFULL) {
        CCHC_LOG(CCHC_LOG_WARN, "outbox_full",
                 "file=\"%s\" queued=%" PRId64 " queued_bytes=%" PRId64 " max_reports=%" PRId64
                 " max_bytes=%" PRId64,
                 path, q.reports, q.bytes, cap.reports, cap.bytes);
        s_print_full(self, path, &q, len);
        return AGT_EXIT_FAILED;
    }
    if (rc != CCHC_OK) {
        fprintf(stderr,
                "Không lưu được báo cáo \"%s\" vào hàng đợi gửi (%s)%s. Báo cáo chưa được lưu.\n"
                "(could not save the report in the outbox %s: %s; nothing was queued)\n",
                path, agt_outbox_path(self->outbox),
                rc == CCHC_EAGAIN ? ": tệp đang bận, thử lại sau ít phút" : "",
                agt_outbox_path(self->outbox), cchc_strerror(rc));
        return AGT_EXIT_FAILED;
    }
    CCHC_LOG(CCHC_LOG_INFO, "queued", "id=%" PRId64 " type=%s period=%s bytes=%zu", id, r->type,
             r->period, len);
    printf("Đã lưu báo cáo vào hàng đợi gửi: id=%" PRId64 " (saved and queued)\n", id);
    return AGT_EXIT_OK;
}

/* One file, start to end: AGT_EXIT_OK when it was queued (or, in a dry run,
 * found valid), else AGT_EXIT_FAILED with the reasons printed. */
static int s_submit_one(agt_submit_t *self, const char *path)
{
    const agt_config_t *cfg = self->cfg;
    size_t len = 0, packed_len = 0;
    char *text = s_read_file(path, &len);
    cchc_report_t *r = NULL;
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    uint8_t *packed = NULL;
    cchc_vctx_t *heir = NULL; /* the context of a predecessor's report */
    int code = AGT_EXIT_FAILED;
    if (!text)
        goto out;
    if (len == 0) {
        printf("Tệp báo cáo \"%s\" rỗng: hãy ghi nội dung báo cáo (JSON) vào tệp rồi nộp lại.\n"
               "(report file \"%s\" is empty; nothing was queued)\n",
               path, path);
        goto out;
    }
    int rc = cchc_report_from_text(text, len, &r, &f);
    if (rc != CCHC_OK || f.errors > 0) {
        if (f.n == 0)
            cchc_findings_add(&f, "E000", "$", "Không đọc được báo cáo",
                              "the report could not be read");
        s_print_refused(path, &f);
        goto out;
    }
    /* Another unit's report: only a closed predecessor's that this unit
     * answers for (its synced metadata lists it), validated as that unit's. */
    if (strcmp(r->unit ? r->unit : "", cfg->unit) != 0) {
        if (self->vctx && (heir = cchc_vctx_for_predecessor(self->vctx, r->unit)) != NULL) {
            printf("Báo cáo \"%s\" của đơn vị đã sáp nhập \"%s\", do \"%s\" nộp thay.\n"
                   "(a report of \"%s\", a closed unit this unit answers for)\n",
                   path, r->unit, cfg->unit, r->unit);
        } else {
            printf("Báo cáo \"%s\": đơn vị \"%s\" không phải đơn vị của máy trạm này \"%s\", "
                   "cũng không phải đơn vị đã sáp nhập mà \"%s\" nộp thay (xem `cchc-agent "
                   "deadlines`); sửa trường \"unit\" hoặc dùng đúng tệp agent.ini.\n"
                   "(the report's unit \"%s\" is neither this agent's unit \"%s\" nor a closed "
                   "unit it answers for; nothing was queued)\n",
                   path, r->unit ? r->unit : "", cfg->unit, cfg->unit, r->unit ? r->unit : "",
                   cfg->unit);
            goto out;
        }
    }
    /* The text parsed a moment ago, so it parses again. */
    json_t *root = json_loadb(text, len, 0, NULL);
    char where[512] = "$";
    if (root)
        s_placeholders(root, where, 1, sizeof where, &f);
    json_decref(root);
    if (heir || self->vctx)
        (void)cchc_validate(r, heir ? heir : self->vctx, &f);
    if (f.errors > 0) {
        s_print_refused(path, &f);
        goto out;
    }
    /* Warnings do not stop a report; the officer still sees them. */
    s_print_findings(&f);
    r->sealed_at_ms = cchc_clock_now_ms();
    rc = cchc_wire_pack_report(r, &packed, &packed_len);
    if (rc != CCHC_OK) {
        printf("Báo cáo \"%s\": không đóng gói được (%s).\n(could not pack the report: %s)\n", path,
               cchc_strerror(rc), cchc_strerror(rc));
        goto out;
    }
    if (packed_len + S_ENVELOPE_OVERHEAD > (size_t)cfg->max_frame) {
        printf("Báo cáo \"%s\" quá lớn để gửi: %zu byte sau khi đóng gói, giới hạn %" PRId64
               " byte ([server] max_frame); hãy rút gọn báo cáo.\n"
               "(report too large: %zu bytes packed plus %d of envelope, the limit is %" PRId64
               " bytes)\n",
               path, packed_len, cfg->max_frame, packed_len, S_ENVELOPE_OVERHEAD, cfg->max_frame);
        goto out;
    }
    if (self->dry_run) {
        if (f.warnings)
            printf("Báo cáo hợp lệ, có %zu cảnh báo; chưa lưu (--dry-run): \"%s\".\n"
                   "(report is valid, with %zu warnings; nothing was queued)\n",
                   f.warnings, path, f.warnings);
        else
            printf("Báo cáo hợp lệ; chưa lưu (--dry-run): \"%s\".\n(report is valid; nothing "
                   "was queued)\n",
                   path);
        code = AGT_EXIT_OK;
        goto out;
    }
    code = s_queue(self, path, r, packed, packed_len);
out:
    cchc_vctx_destroy(&heir);
    free(packed);
    cchc_findings_clear(&f);
    cchc_report_free(&r);
    free(text);
    return code;
}

int agt_cmd_submit(const agt_config_t *cfg, int argc, char **argv)
{
    agt_submit_t self = {.cfg = cfg};
    int nfiles = 0, options_done = 0;
    char err[512] = "";
    for (int i = 1; i < argc; i++) {
        if (!options_done && strcmp(argv[i], "--") == 0) {
            options_done = 1;
        } else if (!options_done && strcmp(argv[i], "--dry-run") == 0) {
            self.dry_run = 1;
        } else if (!options_done && argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "submit: tùy chọn không hợp lệ \"%s\" (unknown option)\n", argv[i]);
            return AGT_EXIT_USAGE;
        } else {
            nfiles++;
        }
    }
    if (nfiles == 0) {
        fprintf(stderr, "submit: thiếu tệp báo cáo (missing FILE): cchc-agent submit FILE "
                        "[FILE...]\n");
        return AGT_EXIT_USAGE;
    }
    self.outbox = agt_outbox_new(cfg->outbox, err, sizeof err);
    if (!self.outbox && !self.dry_run) {
        fprintf(stderr,
                "Không mở được hàng đợi gửi: %s. Báo cáo chưa được lưu.\n"
                "(could not open the outbox: %s; the report was not saved)\n",
                err, err);
        return AGT_EXIT_FAILED;
    }
    if (!self.outbox)
        fprintf(stderr, "Không mở được hàng đợi gửi: %s\n(could not open the outbox: %s)\n", err,
                err);
    s_context_load(&self);
    int code = AGT_EXIT_OK, queued = 0, failed = 0;
    options_done = 0;
    for (int i = 1; i < argc; i++) {
        if (!options_done && strcmp(argv[i], "--") == 0) {
            options_done = 1;
            continue;
        }
        if (!options_done && strcmp(argv[i], "--dry-run") == 0)
            continue;
        if (s_submit_one(&self, argv[i]) == AGT_EXIT_OK) {
            queued++;
        } else {
            failed++;
            code = AGT_EXIT_FAILED;
        }
    }
    if (nfiles > 1)
        printf("%s %d/%d tệp; %d tệp chưa được lưu.\n(%s %d of %d files; %d not saved)\n",
               self.dry_run ? "Hợp lệ" : "Đã lưu", queued, nfiles, failed,
               self.dry_run ? "valid" : "queued", queued, nfiles, failed);
    cchc_vctx_destroy(&self.vctx);
    json_decref(self.doc);
    agt_outbox_destroy(&self.outbox);
    return code;
}
