/* agt_cmd_inspections.c: `cchc-agent inspections [--json]`.
 *
 * Owns the officer's view of the unit's open inspections (DOMAIN.md section
 * 6), read from the metadata last synced, so it works offline: the team, the
 * dates, the conclusion, the remediation due date, the status, and every
 * finding the remediation report must answer. */
#include "agt_config.h"
#include "agt_sync.h"

#include "cchc_clock.h"
#include "cchc_err.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *code, *vi;
} s_labels[] = {
    {"conducted", "đã kiểm tra, chờ thông báo kết luận"},
    {"awaiting_remediation", "chờ báo cáo khắc phục"},
    {"remediation_received", "đã nhận báo cáo khắc phục"},
    {"remediation_overdue", "quá hạn báo cáo khắc phục"},
    {"closed", "đã kết thúc"},
    {"remedied", "đã khắc phục"},
    {"in_progress", "đang khắc phục"},
    {"not_remedied", "chưa khắc phục"},
    {"open", "chưa báo cáo khắc phục"},
};

static const char *s_label(const char *code)
{
    for (size_t i = 0; i < sizeof s_labels / sizeof s_labels[0]; i++)
        if (strcmp(s_labels[i].code, code) == 0)
            return s_labels[i].vi;
    return code;
}

static void s_print_one(const json_t *x)
{
    const char *status = agt_sync_str(x, "status", "-");
    printf("\n%s  trạng thái (status): %s (%s)\n", agt_sync_str(x, "code", "?"), s_label(status),
           status);
    printf("  Đoàn kiểm tra (team):                 %s\n", agt_sync_str(x, "team", "-"));
    printf("  Ngày kiểm tra (date):                 %s\n", agt_sync_str(x, "date", "-"));
    printf("  Thông báo kết luận (conclusion):      %s\n", agt_sync_str(x, "conclusion", "-"));
    printf("  Hạn báo cáo khắc phục (due):          %s\n", agt_sync_str(x, "due", "-"));
    printf("  Tồn tại, hạn chế cần khắc phục (findings):\n");
    const json_t *f;
    size_t i;
    json_array_foreach(json_object_get(x, "findings"), i, f)
    {
        const char *fs = agt_sync_str(f, "status", "open");
        json_int_t no = json_integer_value(json_object_get(f, "no"));
        printf("    %lld. %s\n       [%s (%s)]\n", (long long)(no ? no : (json_int_t)i + 1),
               agt_sync_str(f, "text", "-"), s_label(fs), fs);
    }
    if (i == 0)
        printf("    (không có trong dữ liệu; none listed)\n");
}

int agt_cmd_inspections(const agt_config_t *cfg, int argc, char **argv)
{
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") != 0) {
            fprintf(stderr, "inspections: tùy chọn không hợp lệ \"%s\" (unknown option)\n",
                    argv[i]);
            return AGT_EXIT_USAGE;
        }
        as_json = 1;
    }
    json_t *doc = NULL;
    uint64_t version = 0;
    int64_t synced_at = 0;
    int rc = agt_sync_load(cfg, &doc, &version, &synced_at);
    if (rc != CCHC_OK && rc != CCHC_ENOTFOUND)
        return AGT_EXIT_FAILED;
    json_t *list = json_array();
    const json_t *x;
    size_t i;
    json_array_foreach(json_object_get(doc, "inspections"), i, x)
    {
        if (agt_sync_inspection_open(x, cfg->unit))
            json_array_append(list, (json_t *)x);
    }
    if (as_json) {
        json_t *o = json_pack("{s:s, s:b, s:o, s:o, s:O}", "unit", cfg->unit, "synced",
                              rc == CCHC_OK, "metadata_version",
                              rc == CCHC_OK ? json_sprintf("%016" PRIx64, version) : json_null(),
                              "synced_at_ms", rc == CCHC_OK ? json_integer(synced_at) : json_null(),
                              "inspections", list);
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(o);
        if (rc == CCHC_ENOTFOUND)
            agt_sync_print_never_synced(stderr);
    } else if (rc == CCHC_ENOTFOUND) {
        agt_sync_print_never_synced(stdout);
    } else {
        char when[48];
        cchc_clock_format_local(synced_at, when, sizeof when);
        printf("Các cuộc kiểm tra chưa kết thúc của đơn vị %s: %zu\n(open inspections; district "
               "data version %016" PRIx64 ", synced %s)\n",
               cfg->unit, json_array_size(list), version, when);
        json_array_foreach(list, i, x) s_print_one(x);
        if (json_array_size(list) > 0)
            printf("\nLập báo cáo khắc phục: cchc-agent template remediation --inspection MÃ\n"
                   "(write a remediation report with `cchc-agent template remediation`)\n");
    }
    json_decref(list);
    json_decref(doc);
    return AGT_EXIT_OK;
}
