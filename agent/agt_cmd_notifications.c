/* agt_cmd_notifications.c: `cchc-agent notifications [--json] [--limit N]`.
 *
 * Owns the officer's view of the notifications the district sent this unit
 * (DOMAIN.md section 8), newest first, read from the outbox file, so it works
 * offline: sequence, time (Vietnam's civil time, whatever the host's zone),
 * kind and the Vietnamese text; --json adds the English text and the facts. */
#include "agt_config.h"
#include "agt_notify.h"
#include "agt_outbox.h"

#include "cchc_clock.h"
#include "cchc_err.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DEFAULT_LIMIT 20

static const char *s_alert_label(int alerted)
{
    switch (alerted) {
    case AGT_ALERT_PENDING:
        return "pending";
    case AGT_ALERT_DONE:
        return "done";
    case AGT_ALERT_FAILED:
        return "failed";
    default:
        return "none";
    }
}

static int s_json_one(const agt_notif_t *n, void *arg)
{
    char when[48];
    json_t *o = agt_notify_to_json(n);
    cchc_clock_format_local(n->created_at ? n->created_at : n->received_at, when, sizeof when);
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "on_alert", json_string(s_alert_label(n->alerted)));
    json_array_append_new(arg, o);
    return 0;
}

static int s_print_one(const agt_notif_t *n, void *arg)
{
    (void)arg;
    char when[48];
    cchc_clock_format_local(n->created_at ? n->created_at : n->received_at, when, sizeof when);
    printf("\n#%" PRId64 "  %s  %s\n  %s\n", n->seq, when, n->kind ? n->kind : "-",
           n->text_vi ? n->text_vi : (n->text_en ? n->text_en : "-"));
    return 0;
}

static int s_parse_limit(const char *text, int64_t *out)
{
    char *end = NULL;
    long long v = text ? strtoll(text, &end, 10) : 0;
    if (!text || end == text || *end != '\0' || v <= 0 || v > 1000000)
        return CCHC_EINVAL;
    *out = v;
    return CCHC_OK;
}

int agt_cmd_notifications(const agt_config_t *cfg, int argc, char **argv)
{
    int as_json = 0;
    int64_t limit = S_DEFAULT_LIMIT;
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--json") == 0) {
            as_json = 1;
            continue;
        }
        if (strcmp(argv[i], "--limit") == 0)
            value = i + 1 < argc ? argv[++i] : NULL;
        else if (strncmp(argv[i], "--limit=", 8) == 0)
            value = argv[i] + 8;
        else {
            fprintf(stderr, "notifications: tùy chọn không hợp lệ \"%s\" (unknown option)\n",
                    argv[i]);
            return AGT_EXIT_USAGE;
        }
        if (s_parse_limit(value, &limit) != CCHC_OK) {
            fprintf(stderr, "notifications: --limit cần một số nguyên dương (--limit takes a "
                            "positive integer)\n");
            return AGT_EXIT_USAGE;
        }
    }
    char err[512] = "";
    agt_outbox_t *outbox = agt_outbox_new(cfg->outbox, err, sizeof err);
    if (!outbox) {
        fprintf(stderr, "Không mở được hàng đợi gửi: %s\n(could not open the outbox: %s)\n", err,
                err);
        return AGT_EXIT_FAILED;
    }
    int64_t count = 0, last = 0;
    int rc = agt_outbox_notif_stats(outbox, &count, &last);
    if (rc == CCHC_OK && as_json) {
        json_t *list = json_array();
        rc = agt_outbox_notif_list(outbox, 0, limit, s_json_one, list);
        json_t *o = json_pack("{s:s, s:I, s:I, s:o}", "unit", cfg->unit, "count", (json_int_t)count,
                              "last_seq", (json_int_t)last, "notifications", list);
        if (rc == CCHC_OK) {
            json_dumpf(o, stdout, JSON_INDENT(2));
            putchar('\n');
        }
        json_decref(o);
    } else if (rc == CCHC_OK) {
        printf("Thông báo của huyện gửi đơn vị %s: %" PRId64 " (mới nhất trước; số thứ tự cuối "
               "%" PRId64 ")\n(notifications received, newest first; last seq %" PRId64 ")\n",
               cfg->unit, count, last, last);
        if (count == 0)
            printf("\nChưa nhận được thông báo nào; `cchc-agent run` nhận thông báo khi có mạng.\n"
                   "(none yet: `cchc-agent run` receives them while connected)\n");
        rc = agt_outbox_notif_list(outbox, 0, limit, s_print_one, NULL);
        if (rc == CCHC_OK && count > limit)
            printf("\n... còn %" PRId64 " thông báo cũ hơn: --limit N (%" PRId64 " older)\n",
                   count - limit, count - limit);
    }
    if (rc != CCHC_OK)
        fprintf(stderr, "Không đọc được hàng đợi gửi %s (%s)\n(could not read the outbox)\n",
                agt_outbox_path(outbox), cchc_strerror(rc));
    agt_outbox_destroy(&outbox);
    return rc == CCHC_OK ? AGT_EXIT_OK : AGT_EXIT_FAILED;
}
