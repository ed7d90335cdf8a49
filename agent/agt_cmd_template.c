/* agt_cmd_template.c: `cchc-agent template KIND [--period ID] [--inspection CODE]
 * [--task CODE]`.
 *
 * Prints to stdout a report to fill in, as JSON that cchc_report parses: the
 * unit from agent.ini, the type code, period, inspection and task from the
 * metadata last synced, and every text value a Vietnamese guidance in "<...>".
 * submit refuses a report that still holds one (E000), so a template cannot be
 * sent half filled. Counts are numbers (0 or a consistent example), since a
 * count must be an integer even in a template. The short guide goes to stderr,
 * so `template periodic > report.json` writes the JSON alone. Works offline;
 * without metadata it falls back to the default type codes and periods. */
#include "agt_config.h"
#include "agt_sync.h"

#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_mem.h"
#include "cchc_period.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *kind;         /* periodic | remediation | task_progress */
    const char *default_type; /* used when the metadata names none */
} agt_template_kind_t;

static const agt_template_kind_t s_kinds[] = {
    {"periodic", "CCHC_DK"},
    {"remediation", "KHAC_PHUC"},
    {"task_progress", "NV_KH"},
};

#define S_USAGE                                                                                    \
    "template: cách dùng (usage): cchc-agent template periodic|remediation|task_progress "       \
    "[--period ID] [--inspection CODE] [--task CODE]\n"

/* The same text in both places, so the example row and entry match (E016). */
#define S_FIELD "<Mã lĩnh vực, ví dụ HO_TICH, CHUNG_THUC, DAT_DAI>"

/* The default periods of CCHC_DK (DOMAIN.md section 2), when nothing was synced. */
static const char *const s_default_periods[] = {"Q1", "S1", "Q3", "Y", NULL};

static void s_set(json_t *o, const char *key, const char *text)
{
    json_object_set_new(o, key, json_string(text));
}

static json_t *s_document(void)
{
    json_t *d = json_object();
    s_set(d, "number", "<Số/ký hiệu văn bản, ví dụ 45/BC-UBND>");
    s_set(d, "date", "<Ngày ký văn bản, dạng YYYY-MM-DD>");
    s_set(d, "signer", "<Họ và tên người ký>");
    s_set(d, "capacity", "<Chức vụ người ký, ví dụ CHỦ TỊCH hoặc KT. CHỦ TỊCH - PHÓ CHỦ TỊCH>");
    return d;
}

/* The period whose figures the officer most likely reports now: of the
 * type's periods whose cut-off has started (E005), the one whose cut-off
 * ended last (its report is the one due); if none has ended, the latest to
 * start. Writes "" when the type lists no period this build knows. */
static void s_guess_period(const json_t *type, cchc_day_t today, char *out, size_t len)
{
    const char *codes[32];
    size_t n = 0;
    const json_t *v;
    size_t i;
    json_array_foreach(json_object_get(type, "periods"), i, v)
    {
        if (json_is_string(v) && n < sizeof codes / sizeof codes[0] - 1)
            codes[n++] = json_string_value(v);
    }
    if (n == 0)
        for (; s_default_periods[n]; n++)
            codes[n] = s_default_periods[n];
    cchc_cutoff_t rule = CCHC_CUTOFF_DEC09;
    if (type && cchc_cutoff_parse(agt_sync_str(type, "cutoff_rule", "dec09"), &rule) != CCHC_OK)
        rule = CCHC_CUTOFF_DEC09;
    int y = 0, m = 0, d = 0, have = 0, ended = 0;
    cchc_day_t best_start = 0, best_end = 0;
    cchc_day_to_ymd(today, &y, &m, &d);
    out[0] = '\0';
    for (int year = y - 1; year <= y + 1; year++) {
        for (size_t k = 0; k < n; k++) {
            for (int idx = 1; idx <= 12; idx++) {
                char id[16];
                const char *c = codes[k];
                if (strcmp(c, "M") == 0)
                    snprintf(id, sizeof id, "%d%02d", year, idx);
                else if (idx > 1)
                    break;
                else if (strcmp(c, "Y") == 0)
                    snprintf(id, sizeof id, "%d", year);
                else
                    snprintf(id, sizeof id, "%d%s", year, c);
                cchc_period_t p;
                cchc_day_t start, end;
                if (cchc_period_parse(id, &p) != CCHC_OK)
                    continue;
                cchc_period_range(&p, rule, &start, &end);
                if (start > today)
                    continue;
                int is_ended = end < today;
                int better = !have || (is_ended && !ended) ||
                             (is_ended && ended && end > best_end) ||
                             (!is_ended && !ended && start > best_start);
                if (better) {
                    have = 1;
                    ended = is_ended;
                    best_start = start;
                    best_end = end;
                    snprintf(out, len, "%s", id);
                }
            }
        }
    }
}

static json_t *s_periodic(const char *type, const char *unit, const char *period)
{
    json_t *r = json_object(), *n = json_object(), *row = json_object(), *od = json_object();
    json_t *slip = json_object(), *ini = json_object(), *com = json_object();
    s_set(r, "type", type);
    s_set(r, "unit", unit);
    s_set(r, "period", period);
    json_object_set_new(r, "revision", json_integer(1));
    json_object_set_new(r, "document", s_document());
    s_set(n, "results", "<Kết quả thực hiện cải cách hành chính trong kỳ: việc đã làm, số liệu>");
    s_set(n, "shortcomings", "<Tồn tại, hạn chế trong kỳ>");
    s_set(n, "causes", "<Nguyên nhân của tồn tại, hạn chế>");
    s_set(n, "next_tasks", "<Nhiệm vụ trọng tâm kỳ tới>");
    s_set(n, "proposals", "<Đề xuất, kiến nghị với huyện (nếu không có, ghi \"Không có\")>");
    json_object_set_new(r, "narrative", n);
    s_set(row, "field", S_FIELD);
    static const char *const counts[] = {"carried_over",    "new_online",       "new_direct_postal",
                                         "resolved_early",  "resolved_on_time", "resolved_late",
                                         "pending_in_time", "pending_overdue"};
    /* A consistent example: 1 received, 1 resolved late, so 1 overdue entry. */
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        json_object_set_new(row, counts[i],
                            json_integer(strcmp(counts[i], "new_direct_postal") == 0 ||
                                         strcmp(counts[i], "resolved_late") == 0));
    json_object_set_new(r, "dossiers", json_pack("[o]", row));
    s_set(od, "code", "<Mã hồ sơ, ví dụ 000.26.35.H03-240402-0007 (không ghi tên người dân)>");
    s_set(od, "field", S_FIELD);
    s_set(od, "procedure", "<Tên thủ tục hành chính>");
    s_set(od, "received", "<Ngày tiếp nhận, YYYY-MM-DD>");
    s_set(od, "due", "<Ngày hẹn trả kết quả, YYYY-MM-DD>");
    s_set(od, "resolved", "<Ngày trả kết quả, YYYY-MM-DD; ghi \"\" nếu hồ sơ còn đang giải quyết>");
    s_set(od, "cause", "<Nguyên nhân cụ thể, ít nhất 10 ký tự (không ghi \"-\" hay \"không\")>");
    s_set(od, "remedy", "<Biện pháp khắc phục cụ thể, ít nhất 10 ký tự>");
    s_set(slip, "number", "<Số Phiếu xin lỗi và hẹn lại ngày trả kết quả, ví dụ 01/PXL-UBND>");
    s_set(slip, "date", "<Ngày lập phiếu, YYYY-MM-DD>");
    s_set(slip, "new_due", "<Ngày hẹn trả mới, YYYY-MM-DD, sau ngày hẹn trả cũ>");
    json_object_set_new(od, "apology", slip);
    json_object_set_new(r, "overdue_dossiers", json_pack("[o]", od));
    s_set(ini, "title", "<Tên sáng kiến cải cách hành chính (xoá mục này nếu không có)>");
    s_set(ini, "status", "<Tình trạng, ví dụ đang triển khai, đã áp dụng>");
    json_object_set_new(r, "initiatives", json_pack("[o]", ini));
    s_set(com, "form", "<Hình thức tuyên truyền, ví dụ truyền thanh cơ sở, hội nghị thôn>");
    json_object_set_new(com, "count", json_integer(0));
    json_object_set_new(r, "communication", json_pack("[o]", com));
    return r;
}

static json_t *s_item(json_int_t no, const char *text)
{
    json_t *it = json_object();
    char *actions = cchc_asprintf("<Tồn tại %lld: %s. Nếu đã khắc phục (remedied): ghi việc đã "
                                  "làm; nếu chưa: ghi \"\">",
                                  (long long)no, text);
    json_object_set_new(it, "finding", json_integer(no));
    s_set(it, "status", "<remedied | in_progress | not_remedied>");
    s_set(it, "actions", actions);
    json_object_set_new(it, "evidence",
                        json_pack("[s]", "<Tài liệu chứng minh, ví dụ Biên bản niêm yết ngày "
                                         "20/05/2024; nếu chưa khắc phục: xoá dòng này>"));
    s_set(it, "cause",
          "<Nếu chưa khắc phục xong: nguyên nhân cụ thể, ít nhất 10 ký tự; nếu đã "
          "khắc phục: ghi \"\">");
    s_set(it, "plan",
          "<Nếu chưa khắc phục xong: kế hoạch, biện pháp, người phụ trách; nếu đã "
          "khắc phục: ghi \"\">");
    s_set(it, "expected_by",
          "<Nếu chưa khắc phục xong: ngày dự kiến hoàn thành, YYYY-MM-DD; nếu "
          "đã khắc phục: ghi \"\">");
    free(actions);
    return it;
}

/* The inspection named, or the unit's first open one (borrowed; NULL). */
static const json_t *s_inspection(const json_t *doc, const char *unit, const char *code)
{
    const json_t *x;
    size_t i;
    json_array_foreach(json_object_get(doc, "inspections"), i, x)
    {
        if (code ? strcmp(agt_sync_str(x, "code", ""), code) == 0
                 : agt_sync_inspection_open(x, unit))
            return x;
    }
    return NULL;
}

static json_t *s_remediation(const char *type, const char *unit, const json_t *doc,
                             const char *code)
{
    const json_t *insp = s_inspection(doc, unit, code);
    json_t *r = json_object(), *items = json_array();
    s_set(r, "type", type);
    s_set(r, "unit", unit);
    if (code || insp)
        s_set(r, "inspection", code ? code : agt_sync_str(insp, "code", ""));
    else
        s_set(r, "inspection", "<Mã cuộc kiểm tra, ví dụ KT-2024-05 (xem cchc-agent inspections)>");
    json_object_set_new(r, "revision", json_integer(1));
    json_object_set_new(r, "document", s_document());
    const json_t *fd;
    size_t i;
    json_array_foreach(json_object_get(insp, "findings"), i, fd)
    {
        json_int_t no = json_integer_value(json_object_get(fd, "no"));
        json_array_append_new(items, s_item(no ? no : (json_int_t)i + 1,
                                            agt_sync_str(fd, "text", "(không có nội dung)")));
    }
    if (json_array_size(items) == 0)
        json_array_append_new(items, s_item(1, "<nội dung tồn tại, hạn chế số 1 trong thông báo "
                                               "kết luận; thêm một mục cho mỗi tồn tại>"));
    json_object_set_new(r, "items", items);
    if (!insp)
        fprintf(stderr,
                "Lưu ý: %s; điền số và nội dung từng tồn tại theo thông báo kết luận.\n"
                "(note: the inspection is not in the synced data: fill in the findings "
                "from the conclusion notice)\n",
                code ? "cuộc kiểm tra này không có trong dữ liệu đã đồng bộ"
                     : "không có cuộc kiểm tra nào đang chờ khắc phục trong dữ liệu đã đồng bộ");
    return r;
}

static json_t *s_task_progress(const char *type, const char *unit, const json_t *doc,
                               const char *code)
{
    const json_t *task = NULL, *x;
    size_t i;
    json_array_foreach(json_object_get(doc, "tasks"), i, x)
    {
        if (code ? strcmp(agt_sync_str(x, "code", ""), code) == 0
                 : agt_sync_task_role(doc, x, unit) != AGT_ROLE_NONE) {
            task = x;
            break;
        }
    }
    json_t *r = json_object();
    s_set(r, "type", type);
    s_set(r, "unit", unit);
    if (code || task)
        s_set(r, "task", code ? code : agt_sync_str(task, "code", ""));
    else
        s_set(r, "task", "<Mã nhiệm vụ, ví dụ KH87-07 (xem cchc-agent tasks)>");
    json_object_set_new(r, "revision", json_integer(1));
    s_set(r, "status", "<in_progress | done | blocked>");
    json_object_set_new(r, "percent", json_integer(0));
    char *result = cchc_asprintf("<Kết quả thực hiện nhiệm vụ%s%s%s: việc đã làm, số liệu; sửa "
                                 "percent (0-100) cho đúng tiến độ>",
                                 task ? " \"" : "", task ? agt_sync_str(task, "title", "") : "",
                                 task ? "\"" : "");
    s_set(r, "result", result);
    free(result);
    json_object_set_new(r, "evidence",
                        json_pack("[s]", "<Tài liệu chứng minh, ví dụ Báo cáo số 88/BC-UBND ngày "
                                         "15/08/2024>"));
    if (!task)
        fprintf(stderr,
                "Lưu ý: không thấy nhiệm vụ %s trong dữ liệu đã đồng bộ.\n"
                "(note: the task is not in the synced data)\n",
                code ? code : "nào được giao");
    return r;
}

static void s_guide(const char *kind)
{
    fprintf(stderr,
            "Hướng dẫn điền báo cáo (how to fill in):\n"
            "  1. Lưu mẫu vào tệp: cchc-agent template %s > bao-cao.json\n"
            "  2. Thay mọi nội dung trong <...> bằng thông tin thật (giữ dấu ngoặc kép \"\");\n"
            "     số liệu ghi số nguyên; ngày ghi YYYY-MM-DD.\n",
            kind);
    if (strcmp(kind, "periodic") == 0)
        fprintf(
            stderr,
            "  3. Mỗi lĩnh vực một dòng trong dossiers; mỗi hồ sơ giải quyết quá hạn hoặc đang\n"
            "     quá hạn một mục trong overdue_dossiers, có nguyên nhân, biện pháp và Phiếu xin\n"
            "     lỗi (số mục = resolved_late + pending_overdue của lĩnh vực đó).\n");
    else if (strcmp(kind, "remediation") == 0)
        fprintf(stderr,
                "  3. Mỗi tồn tại một mục trong items, không bỏ sót; chọn một trạng thái.\n");
    else
        fprintf(stderr, "  3. Chọn một trạng thái; percent từ 0 đến 100.\n");
    fprintf(stderr, "  4. Kiểm tra: cchc-agent submit bao-cao.json --dry-run\n"
                    "  5. Nộp:      cchc-agent submit bao-cao.json\n"
                    "(replace every <...>, check with `cchc-agent submit FILE --dry-run`, "
                    "then submit)\n");
}

int agt_cmd_template(const agt_config_t *cfg, int argc, char **argv)
{
    const char *kind = NULL, *period = NULL, *inspection = NULL, *task = NULL;
    for (int i = 1; i < argc; i++) {
        const char **dst = NULL;
        if (strcmp(argv[i], "--period") == 0)
            dst = &period;
        else if (strcmp(argv[i], "--inspection") == 0)
            dst = &inspection;
        else if (strcmp(argv[i], "--task") == 0)
            dst = &task;
        if (dst) {
            if (i + 1 >= argc) {
                fprintf(stderr, "template: %s cần một giá trị (needs a value)\n" S_USAGE, argv[i]);
                return AGT_EXIT_USAGE;
            }
            *dst = argv[++i];
        } else if (argv[i][0] == '-' || kind) {
            fprintf(stderr, "template: tham số không hợp lệ \"%s\" (unknown argument)\n" S_USAGE,
                    argv[i]);
            return AGT_EXIT_USAGE;
        } else {
            kind = argv[i];
        }
    }
    const agt_template_kind_t *k = NULL;
    for (size_t i = 0; kind && i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (strcmp(s_kinds[i].kind, kind) == 0)
            k = &s_kinds[i];
    if (!k) {
        fprintf(stderr, "template: %s \"%s\"\n" S_USAGE,
                kind ? "không có loại mẫu (unknown kind)" : "thiếu loại mẫu (missing kind)",
                kind ? kind : "");
        return AGT_EXIT_USAGE;
    }
    cchc_period_t p;
    if (period && cchc_period_parse(period, &p) != CCHC_OK) {
        fprintf(stderr,
                "template: kỳ \"%s\" không hợp lệ, ví dụ 2024Q3, 2024S1, 2024 "
                "(bad period id)\n",
                period);
        return AGT_EXIT_USAGE;
    }

    json_t *doc = NULL;
    int rc = agt_sync_load(cfg, &doc, NULL, NULL);
    if (rc == CCHC_ENOTFOUND)
        agt_sync_print_never_synced(stderr);
    if (!doc)
        doc = json_object();
    const json_t *type = agt_sync_type_for(doc, k->kind);
    const char *code = agt_sync_str(type, "code", k->default_type);
    json_t *r;
    if (strcmp(k->kind, "periodic") == 0) {
        char guess[16] = "";
        if (!period)
            s_guess_period(type, cchc_day_of_instant(cchc_clock_now_ms()), guess, sizeof guess);
        r = s_periodic(code, cfg->unit,
                       period   ? period
                       : *guess ? guess
                                : "<Kỳ báo cáo, ví dụ 2024Q3>");
    } else if (strcmp(k->kind, "remediation") == 0) {
        r = s_remediation(code, cfg->unit, doc, inspection);
    } else {
        r = s_task_progress(code, cfg->unit, doc, task);
    }
    json_dumpf(r, stdout, JSON_INDENT(2));
    putchar('\n');
    s_guide(k->kind);
    json_decref(r);
    json_decref(doc);
    return fflush(stdout) == 0 ? AGT_EXIT_OK : AGT_EXIT_FAILED;
}
