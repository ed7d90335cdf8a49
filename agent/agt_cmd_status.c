/* agt_cmd_status.c: `cchc-agent status [--json]`.
 *
 * Owns the officer's view of the outbox: how many reports wait, were
 * delivered (with the server's warnings), were refused (with every finding,
 * so the officer knows what to fix), superseded (an older revision the
 * server refused only because a newer one is stored: listed apart, nothing
 * to fix) or held (refused for this agent's key: they go out again once the
 * district's new key is installed), when the server was last heard from, the
 * server it is connected to or last tried and the list of [server]
 * endpoints, the last error and, while the server cannot be reached, since
 * when and what the daemon tried (endpoint, attempts, the last one), the outbox caps (queued
 * against [agent] max_outbox_reports and max_outbox_bytes) and the window, and which version of the
 * district's metadata is stored and when it was last synced, and how many notifications arrived
 * (the last sequence number). Times are shown in Vietnam's civil time (UTC+7, no DST), whatever the
 * host's zone. */
#include "agt_config.h"
#include "agt_outbox.h"

#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_mem.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DELIVERED_SHOWN 20

typedef struct {
    int64_t now;
    json_t *reports; /* --json only */
} agt_status_ctx_t;

/* What the daemon recorded of the link: last contact, last error, and
 * while the server could not be reached, since when and what was tried. */
typedef struct {
    char *last_contact, *last_error;
    json_t *unreachable; /* the AGT_OUTBOX_UNREACHABLE object, or NULL */
    json_t *server;      /* the AGT_OUTBOX_SERVER object, or NULL */
} agt_status_link_t;

/* What status shows of the metadata sync and the notifications. */
typedef struct {
    int synced; /* 0: never */
    uint64_t version;
    int64_t synced_at;
    int64_t notifications, last_seq;
} agt_status_meta_t;

/* "2024-09-18 08:00:00 +07:00" */
/* "45 giây", "3 phút", "2 giờ", "4 ngày". */
static void s_format_age(int64_t ms, char *buf, size_t len)
{
    int64_t s = ms > 0 ? ms / 1000 : 0;
    if (s < 60)
        snprintf(buf, len, "%" PRId64 " giây", s);
    else if (s < 3600)
        snprintf(buf, len, "%" PRId64 " phút", s / 60);
    else if (s < 86400)
        snprintf(buf, len, "%" PRId64 " giờ", s / 3600);
    else
        snprintf(buf, len, "%" PRId64 " ngày", s / 86400);
}

static const char *s_or(const char *s, const char *dflt)
{
    return s && *s ? s : dflt;
}

/* A JSON object stored by the daemon (new reference), NULL when absent or
 * not an object. */
static json_t *s_object(const char *text)
{
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* The findings stored on a row as a JSON array (new reference; [] if none). */
static json_t *s_findings(const char *text)
{
    json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_array(arr)) {
        json_decref(arr);
        arr = json_array();
    }
    return arr;
}

static int s_print_queued(const agt_outbox_row_t *row, void *arg)
{
    const agt_status_ctx_t *ctx = arg;
    char age[32];
    s_format_age(ctx->now - row->created_at, age, sizeof age);
    printf("  id=%" PRId64 "  %s  %s  lần %" PRId64 "  chờ %s  đã gửi %" PRId64 " lần (attempts)\n",
           row->id, s_or(row->report_type, "-"), s_or(row->period, s_or(row->subject, "-")),
           row->revision, age, row->attempts);
    return 0;
}

/* Every finding stored on a row: code, path, Vietnamese message. */
static void s_print_row_findings(const char *text)
{
    json_t *arr = s_findings(text);
    size_t i;
    json_t *f;
    json_array_foreach(arr, i, f)
    {
        printf("    %s %s: %s\n", s_or(json_string_value(json_object_get(f, "code")), "?"),
               s_or(json_string_value(json_object_get(f, "path")), "$"),
               s_or(json_string_value(json_object_get(f, "message_vi")), ""));
    }
    json_decref(arr);
}

/* "  id=N  TYPE  PERIOD|SUBJECT  lần R  tệp FILE" */
static void s_print_row_head(const agt_outbox_row_t *row)
{
    printf("  id=%" PRId64 "  %s  %s  lần %" PRId64 "  tệp %s\n", row->id,
           s_or(row->report_type, "-"), s_or(row->period, s_or(row->subject, "-")), row->revision,
           s_or(row->source, "-"));
}

static int s_print_refused(const agt_outbox_row_t *row, void *arg)
{
    (void)arg;
    s_print_row_head(row);
    printf("    lý do (reason): %s\n", s_or(row->reason, "-"));
    s_print_row_findings(row->findings);
    return 0;
}

static int s_print_held(const agt_outbox_row_t *row, void *arg)
{
    (void)arg;
    s_print_row_head(row);
    return 0;
}

/* A superseded row: what is stored instead; its E007 would read as a fix. */
static int s_print_superseded(const agt_outbox_row_t *row, void *arg)
{
    (void)arg;
    const char *reason = s_or(row->reason, "");
    if (strncmp(reason, "SUPERSEDED: ", 12) == 0)
        reason += 12;
    s_print_row_head(row);
    printf("    %s\n", s_or(reason, "đã có bản mới hơn được nhận (a newer revision is stored)"));
    return 0;
}

static int s_print_delivered(const agt_outbox_row_t *row, void *arg)
{
    (void)arg;
    char when[48];
    cchc_clock_format_local(row->delivered_at, when, sizeof when);
    printf("  id=%" PRId64 "  %s  %s  mã trên máy chủ (server id) %" PRId64 "  lúc %s\n", row->id,
           s_or(row->report_type, "-"), s_or(row->period, s_or(row->subject, "-")),
           row->server_report_id, when);
    json_t *arr = s_findings(row->findings);
    if (json_array_size(arr) > 0) {
        printf("    cảnh báo (warnings): %zu\n", json_array_size(arr));
        s_print_row_findings(row->findings);
    }
    json_decref(arr);
    return 0;
}

static json_t *s_text_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *s_int_or_null(int64_t v)
{
    return v ? json_integer(v) : json_null();
}

static int s_json_row(const agt_outbox_row_t *row, void *arg)
{
    agt_status_ctx_t *ctx = arg;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(row->id));
    json_object_set_new(o, "state", s_text_or_null(row->state));
    json_object_set_new(o, "type", s_text_or_null(row->report_type));
    json_object_set_new(o, "period", s_text_or_null(row->period));
    json_object_set_new(o, "subject", s_text_or_null(row->subject));
    json_object_set_new(o, "revision", json_integer(row->revision));
    json_object_set_new(o, "kind", s_text_or_null(row->kind));
    json_object_set_new(o, "source", s_text_or_null(row->source));
    json_object_set_new(o, "created_at_ms", json_integer(row->created_at));
    json_object_set_new(o, "attempts", json_integer(row->attempts));
    json_object_set_new(o, "last_sent_at_ms", s_int_or_null(row->last_sent_at));
    json_object_set_new(o, "delivered_at_ms", s_int_or_null(row->delivered_at));
    json_object_set_new(o, "server_report_id", s_int_or_null(row->server_report_id));
    json_object_set_new(o, "reason", s_text_or_null(row->reason));
    json_object_set_new(o, "findings", s_findings(row->findings));
    json_array_append_new(ctx->reports, o);
    return 0;
}

static int s_print_json(agt_outbox_t *outbox, const agt_config_t *cfg, const agt_outbox_counts_t *c,
                        int64_t now, const agt_status_link_t *link, const agt_status_meta_t *meta)
{
    char epoch[24];
    agt_status_ctx_t ctx = {.now = now, .reports = json_array()};
    snprintf(epoch, sizeof epoch, "%016" PRIx64, agt_outbox_epoch(outbox));
    json_t *o = json_object();
    json_object_set_new(o, "unit", json_string(cfg->unit));
    json_object_set_new(o, "epoch", json_string(epoch));
    json_object_set_new(o, "queued", json_integer(c->queued));
    json_object_set_new(o, "delivered", json_integer(c->delivered));
    json_object_set_new(o, "refused", json_integer(c->refused));
    json_object_set_new(o, "superseded", json_integer(c->superseded));
    json_object_set_new(o, "held", json_integer(c->held));
    json_object_set_new(o, "max_outbox_reports", json_integer(cfg->max_outbox_reports));
    json_object_set_new(o, "queued_bytes", json_integer(c->queued_bytes));
    json_object_set_new(o, "max_outbox_bytes", json_integer(cfg->max_outbox_bytes));
    json_object_set_new(o, "window", json_integer(cfg->window));
    json_object_set_new(o, "window_bytes", json_integer(cfg->window_bytes));
    json_object_set_new(o, "oldest_queued_age_s",
                        c->queued ? json_integer((now - c->oldest_queued_at) / 1000) : json_null());
    json_object_set_new(o, "last_contact_ms",
                        link->last_contact ? json_integer(strtoll(link->last_contact, NULL, 10))
                                           : json_null());
    json_object_set_new(o, "last_error", s_text_or_null(link->last_error));
    json_object_set(o, "unreachable", link->unreachable ? link->unreachable : json_null());
    json_object_set(o, "server", link->server ? link->server : json_null());
    json_t *eps = json_array();
    for (size_t i = 0; i < cfg->servers.n; i++)
        json_array_append_new(eps, json_string(cfg->servers.v[i]));
    json_object_set_new(o, "endpoints", eps);
    /* Flat, like inspections --json and tasks --json. */
    json_object_set_new(o, "metadata_version",
                        meta->synced ? json_sprintf("%016" PRIx64, meta->version) : json_null());
    json_object_set_new(o, "metadata_synced_at_ms",
                        meta->synced ? json_integer(meta->synced_at) : json_null());
    json_object_set_new(o, "notifications", json_integer(meta->notifications));
    json_object_set_new(o, "last_notification_seq", json_integer(meta->last_seq));
    json_object_set_new(o, "reports", ctx.reports);
    int rc = agt_outbox_list(outbox, NULL, 0, -1, s_json_row, &ctx);
    if (rc == CCHC_OK) {
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
    }
    json_decref(o);
    return rc;
}

/* "Kết nối: chưa kết nối được máy chủ E từ T (age); đã thử kết nối N lần, lần
 * cuối lúc T2", when the daemon recorded that no connection works. */
static void s_print_unreachable(const json_t *u, int64_t now)
{
    char since[48], last[48], age[32];
    if (!u)
        return;
    /* One server: its endpoint; several: "any of A, B" (the last tried is in
     * the server line). */
    const json_t *list = json_object_get(u, "endpoints");
    char *ep = NULL;
    if (json_array_size(list) > 1) {
        size_t i;
        const json_t *x;
        ep = cchc_strdup("nào trong (any of)");
        json_array_foreach(list, i, x)
        {
            char *more =
                cchc_asprintf("%s%s %s", ep, i ? "," : "", s_or(json_string_value(x), "-"));
            free(ep);
            ep = more;
        }
    } else {
        ep = cchc_strdup(s_or(json_string_value(json_object_get(u, "endpoint")), "-"));
    }
    int64_t since_ms = json_integer_value(json_object_get(u, "since_ms"));
    int64_t last_ms = json_integer_value(json_object_get(u, "last_attempt_ms"));
    int64_t attempts = json_integer_value(json_object_get(u, "attempts"));
    cchc_clock_format_local(since_ms, since, sizeof since);
    s_format_age(now - since_ms, age, sizeof age);
    printf("Kết nối (connection): chưa kết nối được máy chủ %s từ %s (%s trước); ", ep, since, age);
    if (attempts > 0) {
        cchc_clock_format_local(last_ms, last, sizeof last);
        printf("đã thử kết nối %" PRId64 " lần, lần cuối lúc %s", attempts, last);
    } else {
        printf("đang thử kết nối, chưa có trả lời");
    }
    printf(". Kiểm tra mạng, máy chủ huyện và [server] endpoints trong agent.ini.\n"
           "(not connected to %s since %s: %" PRId64 " attempts; check the network, the server "
           "and [server] endpoints)\n",
           ep, since, attempts);
    free(ep);
}

/* "Máy chủ (server): ..." from what the daemon recorded (the one connected
 * to, or last tried), then the list of agent.ini, in the order tried. */
static void s_print_server(const agt_config_t *cfg, const json_t *srv, int64_t now)
{
    char since[48], last[48], stopped[48], age[32];
    printf("Máy chủ (server): ");
    if (!srv) {
        printf("chưa ghi nhận; `cchc-agent run` sẽ ghi lại (none recorded yet; the daemon "
               "records it)\n");
    } else {
        const char *ep = s_or(json_string_value(json_object_get(srv, "endpoint")), "-");
        int64_t since_ms = json_integer_value(json_object_get(srv, "since_ms"));
        int64_t last_ms = json_integer_value(json_object_get(srv, "last_attempt_ms"));
        int64_t stopped_ms = json_integer_value(json_object_get(srv, "stopped_ms"));
        cchc_clock_format_local(since_ms, since, sizeof since);
        if (json_is_true(json_object_get(srv, "connected"))) {
            s_format_age(now - since_ms, age, sizeof age);
            printf("đã kết nối với %s từ %s (%s trước)", ep, since, age);
            if (!stopped_ms)
                printf(" (connected to %s since %s)", ep, since);
        } else {
            cchc_clock_format_local(last_ms ? last_ms : since_ms, last, sizeof last);
            printf("chưa kết nối được; lần cuối thử %s lúc %s (not connected; last tried %s at %s)",
                   ep, last, ep, last);
        }
        if (stopped_ms) {
            cchc_clock_format_local(stopped_ms, stopped, sizeof stopped);
            printf("; cchc-agent đã dừng lúc %s (the daemon stopped then)", stopped);
        }
        printf("\n");
    }
    printf("Danh sách máy chủ (servers, [server] endpoints), thử theo thứ tự (tried in order): ");
    for (size_t i = 0; i < cfg->servers.n; i++)
        printf("%s%s", i ? ", " : "", cfg->servers.v[i]);
    printf("\n");
}

static int s_print_text(agt_outbox_t *outbox, const agt_config_t *cfg, const agt_outbox_counts_t *c,
                        int64_t now, const agt_status_link_t *link, const agt_status_meta_t *meta)
{
    char age[32], when[48];
    agt_status_ctx_t ctx = {.now = now};
    printf("Đơn vị (unit): %s\n", cfg->unit);
    printf("Hàng đợi gửi (outbox): %s, epoch %016" PRIx64 "\n", agt_outbox_path(outbox),
           agt_outbox_epoch(outbox));
    printf("Chờ gửi (queued): %" PRId64, c->queued);
    if (c->queued) {
        s_format_age(now - c->oldest_queued_at, age, sizeof age);
        printf("; báo cáo cũ nhất đã chờ %s (oldest waiting)", age);
    }
    printf("\nĐã gửi (delivered): %" PRId64 "\nBị từ chối (refused): %" PRId64
           "\nBản cũ đã được thay (superseded): %" PRId64 "\nChờ khoá mới (held): %" PRId64 "\n",
           c->delivered, c->refused, c->superseded, c->held);
    printf("Giới hạn hàng đợi (outbox caps): %" PRId64 "/%" PRId64 " báo cáo (reports), %" PRId64
           "/%" PRId64 " byte (bytes)%s\n",
           c->queued, cfg->max_outbox_reports, c->queued_bytes, cfg->max_outbox_bytes,
           c->queued >= cfg->max_outbox_reports || c->queued_bytes >= cfg->max_outbox_bytes
               ? "; ĐÃ ĐẦY: chạy `cchc-agent run` để gửi bớt (FULL: run the agent to drain it)"
               : "");
    printf("Cửa sổ gửi (window): tối đa %" PRId64 " báo cáo và %" PRId64
           " byte đang gửi cùng lúc (in flight at most)\n",
           cfg->window, cfg->window_bytes);
    if (link->last_contact) {
        int64_t ms = strtoll(link->last_contact, NULL, 10);
        cchc_clock_format_local(ms, when, sizeof when);
        s_format_age(now - ms, age, sizeof age);
        printf("Liên lạc gần nhất với máy chủ (last contact): %s, %s trước\n", when, age);
    } else {
        printf("Liên lạc gần nhất với máy chủ (last contact): chưa có (never)\n");
    }
    s_print_server(cfg, link->server, now);
    s_print_unreachable(link->unreachable, now);
    if (link->last_error)
        printf("Lỗi gần nhất (last error): %s\n", link->last_error);
    else if (link->unreachable)
        printf("Lỗi gần nhất (last error): không kết nối được máy chủ %s (could not reach the "
               "server)\n",
               s_or(json_string_value(json_object_get(link->unreachable, "endpoint")), "-"));
    else
        printf("Lỗi gần nhất (last error): không có (none)\n");
    if (meta->synced) {
        cchc_clock_format_local(meta->synced_at, when, sizeof when);
        s_format_age(now - meta->synced_at, age, sizeof age);
        printf("Dữ liệu của huyện (district metadata): phiên bản (version) %016" PRIx64
               ", đồng bộ lúc (synced) %s, %s trước\n",
               meta->version, when, age);
    } else {
        printf("Dữ liệu của huyện (district metadata): chưa đồng bộ (never synced); chạy "
               "`cchc-agent sync` khi có mạng\n");
    }
    printf("Thông báo đã nhận (notifications): %" PRId64 ", số thứ tự cuối (last seq) %" PRId64
           "; xem `cchc-agent notifications`\n",
           meta->notifications, meta->last_seq);

    int rc = CCHC_OK;
    if (c->queued) {
        printf("\nBáo cáo chờ gửi (queued):\n");
        rc = agt_outbox_list(outbox, AGT_OUTBOX_QUEUED, 0, -1, s_print_queued, &ctx);
    }
    if (rc == CCHC_OK && c->refused) {
        printf("\nBáo cáo bị từ chối, cần sửa rồi nộp lại (refused: fix and submit again):\n");
        rc = agt_outbox_list(outbox, AGT_OUTBOX_REFUSED, 0, -1, s_print_refused, &ctx);
    }
    if (rc == CCHC_OK && c->held) {
        printf("\nBáo cáo chờ khoá mới: khoá của máy trạm đã bị thu hồi hoặc hết hạn nên máy chủ "
               "chưa nhận các báo cáo này. Đề nghị Phòng Nội vụ cấp khoá mới (cchc key rotate "
               "hoặc cchc key issue), chép agent.key và agent.pub của bộ khoá mới vào máy trạm "
               "rồi khởi động lại cchc-agent: các báo cáo này sẽ tự gửi lại, không cần nhập lại.\n"
               "(held: this agent's key was refused, key revoked or expired; install the new "
               "agent.key and agent.pub from the district and restart the agent: these reports "
               "go out again by themselves)\n");
        rc = agt_outbox_list(outbox, AGT_OUTBOX_HELD, 0, -1, s_print_held, &ctx);
    }
    if (rc == CCHC_OK && c->superseded) {
        printf("\nBản cũ không cần gửi lại, vì đã có bản mới hơn được nhận; không cần làm gì "
               "(superseded: a newer revision is stored; nothing to fix):\n");
        rc = agt_outbox_list(outbox, AGT_OUTBOX_SUPERSEDED, 0, -1, s_print_superseded, &ctx);
    }
    if (rc == CCHC_OK && c->delivered) {
        printf("\nBáo cáo đã gửi gần nhất (last %d delivered):\n", S_DELIVERED_SHOWN);
        rc = agt_outbox_list(outbox, AGT_OUTBOX_DELIVERED, 1, S_DELIVERED_SHOWN, s_print_delivered,
                             &ctx);
    }
    return rc;
}

int agt_cmd_status(const agt_config_t *cfg, int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else {
            fprintf(stderr, "status: tùy chọn không hợp lệ \"%s\" (unknown option)\n", argv[i]);
            return AGT_EXIT_USAGE;
        }
    }
    char err[512] = "", *unreachable = NULL, *server = NULL;
    agt_status_link_t link = {0};
    agt_outbox_counts_t counts;
    int code = AGT_EXIT_FAILED;
    agt_outbox_t *outbox = agt_outbox_new(cfg->outbox, err, sizeof err);
    if (!outbox) {
        fprintf(stderr, "Không mở được hàng đợi gửi: %s\n(could not open the outbox: %s)\n", err,
                err);
        return AGT_EXIT_FAILED;
    }
    int rc = agt_outbox_counts(outbox, &counts);
    if (rc == CCHC_OK)
        rc = agt_outbox_state_get(outbox, AGT_OUTBOX_LAST_CONTACT, &link.last_contact);
    if (rc == CCHC_OK)
        rc = agt_outbox_state_get(outbox, AGT_OUTBOX_LAST_ERROR, &link.last_error);
    if (rc == CCHC_OK)
        rc = agt_outbox_state_get(outbox, AGT_OUTBOX_UNREACHABLE, &unreachable);
    if (rc == CCHC_OK)
        rc = agt_outbox_state_get(outbox, AGT_OUTBOX_SERVER, &server);
    link.unreachable = s_object(unreachable);
    link.server = s_object(server);
    agt_status_meta_t meta = {0};
    if (rc == CCHC_OK) {
        rc = agt_outbox_meta_load(outbox, &meta.version, NULL, &meta.synced_at);
        meta.synced = rc == CCHC_OK;
        if (rc == CCHC_ENOTFOUND)
            rc = CCHC_OK;
    }
    if (rc == CCHC_OK)
        rc = agt_outbox_notif_stats(outbox, &meta.notifications, &meta.last_seq);
    if (rc == CCHC_OK) {
        int64_t now = cchc_clock_now_ms();
        rc = json ? s_print_json(outbox, cfg, &counts, now, &link, &meta)
                  : s_print_text(outbox, cfg, &counts, now, &link, &meta);
    }
    if (rc == CCHC_OK)
        code = AGT_EXIT_OK;
    else
        fprintf(stderr, "Không đọc được hàng đợi gửi %s (%s)\n(could not read the outbox)\n",
                agt_outbox_path(outbox), cchc_strerror(rc));
    json_decref(link.unreachable);
    json_decref(link.server);
    free(unreachable);
    free(server);
    free(link.last_error);
    free(link.last_contact);
    agt_outbox_destroy(&outbox);
    return code;
}
