/* agt_cmd_tasks.c: `cchc-agent tasks [--json]`.
 *
 * Owns the officer's view of the plan's tasks given to the unit (DOMAIN.md
 * section 7), read from the metadata last synced, so it works offline: code,
 * title, index and PAPI dimension, target, deadline, and whether the unit
 * leads the task (chủ trì) or supports it (phối hợp). */
#include "agt_config.h"
#include "agt_sync.h"

#include "cchc_clock.h"
#include "cchc_err.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *s_target_vi(const char *t)
{
    if (strcmp(t, "maintain") == 0)
        return "duy trì";
    if (strcmp(t, "improve") == 0)
        return "cải thiện";
    return t;
}

static void s_print_one(const json_t *x, int role)
{
    const char *target = agt_sync_str(x, "target", "-");
    printf("\n%s  %s\n", agt_sync_str(x, "code", "?"), agt_sync_str(x, "title", "-"));
    printf("  Chỉ số (index): %s%s%s   Mục tiêu (target): %s (%s)\n", agt_sync_str(x, "index", "-"),
           json_object_get(x, "dimension") ? " / " : "", agt_sync_str(x, "dimension", ""),
           s_target_vi(target), target);
    printf("  Thời hạn (due): %s   Vai trò (role): %s\n", agt_sync_str(x, "due", "-"),
           role == AGT_ROLE_LEAD ? "chủ trì (lead)" : "phối hợp (support)");
}

int agt_cmd_tasks(const agt_config_t *cfg, int argc, char **argv)
{
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") != 0) {
            fprintf(stderr, "tasks: tùy chọn không hợp lệ \"%s\" (unknown option)\n", argv[i]);
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
    json_array_foreach(json_object_get(doc, "tasks"), i, x)
    {
        int role = agt_sync_task_role(doc, x, cfg->unit);
        if (role == AGT_ROLE_NONE)
            continue;
        json_t *copy = json_deep_copy(x);
        json_object_set_new(copy, "role", json_string(role == AGT_ROLE_LEAD ? "lead" : "support"));
        json_array_append_new(list, copy);
    }
    if (as_json) {
        json_t *o = json_pack(
            "{s:s, s:b, s:o, s:o, s:O}", "unit", cfg->unit, "synced", rc == CCHC_OK,
            "metadata_version", rc == CCHC_OK ? json_sprintf("%016" PRIx64, version) : json_null(),
            "synced_at_ms", rc == CCHC_OK ? json_integer(synced_at) : json_null(), "tasks", list);
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
        printf("Nhiệm vụ được giao cho đơn vị %s: %zu\n(tasks of this unit; district data "
               "version %016" PRIx64 ", synced %s)\n",
               cfg->unit, json_array_size(list), version, when);
        json_array_foreach(list, i, x)
        {
            const char *role = agt_sync_str(x, "role", "support");
            s_print_one(x, strcmp(role, "lead") == 0 ? AGT_ROLE_LEAD : AGT_ROLE_SUPPORT);
        }
        if (json_array_size(list) > 0)
            printf("\nBáo cáo tiến độ: cchc-agent template task_progress --task MÃ\n"
                   "(report progress with `cchc-agent template task_progress`)\n");
    }
    json_decref(list);
    json_decref(doc);
    return AGT_EXIT_OK;
}
