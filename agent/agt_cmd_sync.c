/* agt_cmd_sync.c: `cchc-agent sync [--timeout SEC]`, the district's data now.
 *
 * Owns the officer's on-demand sync: connect, ask for the unit's metadata
 * (report types, calendar, inspections, tasks, stored revisions), store it,
 * and say which version is stored and what changed, by counting the lists of
 * the document before and after (cheap: no field-by-field diff). Sends no
 * report (`run` delivers them). Exit 0 when the server answered; 1 with a
 * Vietnamese-first reason (no connection, the key refused, no answer in
 * time, a document that could not be used); 2 on a usage error. */
#include "agt_config.h"
#include "agt_link.h"
#include "agt_outbox.h"
#include "agt_sync.h"

#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DEFAULT_TIMEOUT_MS 30000

/* The lists of the metadata document, as the officer knows them. */
static const struct {
    const char *member, *label;
} s_lists[] = {
    {"types", "loại báo cáo (report types)"},
    {"calendar", "ngày nghỉ, ngày làm bù (calendar days)"},
    {"inspections", "cuộc kiểm tra (inspections)"},
    {"tasks", "nhiệm vụ (tasks)"},
    {"revisions", "báo cáo đã nộp (stored revisions)"},
};

/* The stored document (new reference, NULL when none) and its version. */
static json_t *s_load(agt_outbox_t *outbox, uint64_t *version)
{
    char *text = NULL;
    json_t *doc = NULL;
    *version = 0;
    if (agt_outbox_meta_load(outbox, version, &text, NULL) == CCHC_OK)
        doc = json_loads(text, 0, NULL);
    free(text);
    return doc;
}

/* One line per list: its size, "was → now" when it changed size, or
 * "(đã thay đổi)" when only its content changed. */
static void s_print_changes(const json_t *before, const json_t *after)
{
    for (size_t i = 0; i < sizeof s_lists / sizeof s_lists[0]; i++) {
        const json_t *a = json_object_get(before, s_lists[i].member);
        const json_t *b = json_object_get(after, s_lists[i].member);
        size_t na = json_array_size(a), nb = json_array_size(b);
        if (before && na != nb)
            printf("  %s: %zu → %zu\n", s_lists[i].label, na, nb);
        else if (before && !json_equal(a ? a : json_null(), b ? b : json_null()))
            printf("  %s: %zu (đã thay đổi, changed)\n", s_lists[i].label, nb);
        else
            printf("  %s: %zu\n", s_lists[i].label, nb);
    }
    const json_t *ua = json_object_get(before, "unit"), *ub = json_object_get(after, "unit");
    if (before && !json_equal(ua ? ua : json_null(), ub ? ub : json_null()))
        printf("  đơn vị (unit): đã thay đổi (changed)\n");
}

/* Why nothing was synced, Vietnamese first, on stderr. */
static void s_print_failure(const agt_config_t *cfg, int rc, const agt_link_seen_t *seen,
                            int64_t timeout_ms)
{
    char *ep = cchc_endpoints_join(&cfg->servers);
    double sec = (double)timeout_ms / 1000.0;
    fprintf(stderr, "Không đồng bộ được dữ liệu của huyện: ");
    if (rc == AGT_LINK_KEY_REVOKED || seen->key_revoked) {
        fprintf(stderr,
                "máy chủ từ chối khoá của máy trạm (đã bị thu hồi hoặc hết hạn). Đề nghị Phòng "
                "Nội vụ cấp khoá mới, chép agent.key và agent.pub mới vào máy trạm rồi chạy lại "
                "`cchc-agent sync`.\n(could not sync: the server refused this agent's key, "
                "revoked or expired)\n");
    } else if (rc == AGT_LINK_SYNCED && seen->sync == AGT_SYNC_REJECTED) {
        fprintf(stderr,
                "dữ liệu máy chủ gửi không dùng được, dữ liệu cũ được giữ nguyên; báo Phòng Nội "
                "vụ (xem nhật ký: event=metadata_rejected).\n(could not sync: the server's "
                "document was not usable; the stored one is kept)\n");
    } else if (rc == AGT_LINK_SYNCED) {
        fprintf(stderr,
                "không lưu được vào hàng đợi gửi %s; kiểm tra ổ đĩa rồi chạy lại `cchc-agent "
                "sync`.\n(could not sync: the outbox could not store the document)\n",
                cfg->outbox);
    } else if (rc == AGT_LINK_STOPPED) {
        fprintf(stderr, "đã dừng trước khi máy chủ trả lời.\n(could not sync: stopped)\n");
    } else if (seen->connected) {
        fprintf(stderr,
                "máy chủ %s không trả lời trong %.0f giây; thử lại sau hoặc tăng --timeout.\n"
                "(could not sync: the server %s did not answer within %.0f s)\n",
                ep, sec, ep, sec);
    } else if (seen->handshake_failed) {
        fprintf(stderr,
                "máy chủ %s không nhận khoá của máy trạm (%s); đề nghị Phòng Nội vụ đăng ký "
                "khoá này, và kiểm tra [server] public_key là khoá của máy chủ huyện.\n"
                "(could not sync: the server %s refused this agent's key %s)\n",
                ep, cfg->public_key, ep, cfg->public_key);
    } else {
        fprintf(stderr,
                "chưa kết nối được máy chủ %s sau %.0f giây (đã thử kết nối %" PRIu64
                " lần). Kiểm tra mạng và [server] endpoints trong agent.ini, rồi chạy lại "
                "`cchc-agent sync`.\n(could not sync: no connection to %s within %.0f s, %" PRIu64
                " attempts)\n",
                ep, sec, seen->attempts, ep, sec, seen->attempts);
    }
    free(ep);
}

int agt_cmd_sync(const agt_config_t *cfg, int argc, char **argv)
{
    agt_link_opts_t opts = {.sync_once = 1, .timeout_ms = S_DEFAULT_TIMEOUT_MS};
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--timeout") == 0)
            value = i + 1 < argc ? argv[++i] : NULL;
        else if (strncmp(argv[i], "--timeout=", 10) == 0)
            value = argv[i] + 10;
        else {
            fprintf(stderr, "sync: tùy chọn không hợp lệ \"%s\" (unknown option)\n", argv[i]);
            return AGT_EXIT_USAGE;
        }
        if (agt_cmd_parse_seconds(value, &opts.timeout_ms) != CCHC_OK) {
            fprintf(stderr, "sync: --timeout cần một số giây lớn hơn 0 (--timeout takes a number "
                            "of seconds above 0)\n");
            return AGT_EXIT_USAGE;
        }
    }

    char err[512] = "", when[48];
    int code = AGT_EXIT_FAILED;
    uint64_t was = 0, now_version = 0;
    json_t *before = NULL, *after = NULL;
    agt_link_t *link = NULL;
    agt_outbox_t *outbox = agt_outbox_new(cfg->outbox, err, sizeof err);
    if (!outbox) {
        fprintf(stderr, "Không mở được hàng đợi gửi: %s\n(could not open the outbox: %s)\n", err,
                err);
        goto out;
    }
    before = s_load(outbox, &was);
    link = agt_link_new(cfg, outbox, err, sizeof err);
    if (!link) {
        fprintf(stderr,
                "Không khởi động được kết nối tới máy chủ huyện: %s\n"
                "(could not start the link to the district server: %s)\n",
                err, err);
        code = AGT_EXIT_USAGE;
        goto out;
    }
    opts.stop = agt_cmd_signals();
    int rc = agt_link_run(link, &opts);
    agt_link_seen_t seen;
    agt_link_seen(link, &seen);
    if (rc < 0) {
        fprintf(stderr, "Không đồng bộ được dữ liệu của huyện: lỗi %s.\n(could not sync: %s)\n",
                cchc_strerror(rc), cchc_strerror(rc));
        goto out;
    }
    if (rc != AGT_LINK_SYNCED || (seen.sync != AGT_SYNC_SAVED && seen.sync != AGT_SYNC_UNCHANGED)) {
        CCHC_LOG(CCHC_LOG_WARN, "sync_failed", "end=%d outcome=%d connected=%d attempts=%" PRIu64,
                 rc, seen.sync, seen.connected, seen.attempts);
        s_print_failure(cfg, rc, &seen, opts.timeout_ms);
        goto out;
    }
    after = s_load(outbox, &now_version);
    cchc_clock_format_local(cchc_clock_now_ms(), when, sizeof when);
    if (seen.sync == AGT_SYNC_UNCHANGED) {
        printf("Dữ liệu của huyện không thay đổi (unchanged), phiên bản (version) %016" PRIx64
               ", đã kiểm tra lúc %s.\n",
               now_version, when);
    } else if (before) {
        printf("Đã đồng bộ dữ liệu của huyện: phiên bản (version) %016" PRIx64
               ", trước đó (was) %016" PRIx64 ", lúc %s:\n",
               now_version, was, when);
        s_print_changes(before, after);
    } else {
        printf("Đã đồng bộ dữ liệu của huyện lần đầu: phiên bản (version) %016" PRIx64
               ", lúc %s (first sync):\n",
               now_version, when);
        s_print_changes(NULL, after);
    }
    code = AGT_EXIT_OK;
out:
    json_decref(after);
    json_decref(before);
    agt_link_destroy(&link);
    agt_outbox_destroy(&outbox);
    return code;
}
